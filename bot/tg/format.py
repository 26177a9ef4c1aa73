"""Telegram message text (HTML parse mode). Pure functions; every piece of feed text is escaped.

Layout of an alert:
    <i>Topic A · Topic B</i>
    <b>Headline</b>
    One or two sentences.
    Source · 21 Nov 14:05 +03
    <a href="https://...">example.org</a>
and, once other outlets report the same story, an "also: Source B, Source C" line.

Labels ("also:") and dates are in the chat's language (a Tr, English by default). A headline or
summary that reads right to left starts with a right-to-left mark (bot.i18n.directed), so an
Arabic headline opening with a Latin name or a number still lays out right-aligned; so do the
labelled lines of a right-to-left chat.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from html import escape
from urllib.parse import urlsplit

from bot.alerts.compose import ALSO_LIMIT
from bot.i18n import RLM, Tr, directed, translation
from bot.models import Alert
from bot.tg.digest import zone_of

ENGLISH = translation("en")

MAX_TEXT = 4096  # Telegram's limit on a message's text
TITLE_MAX, SUMMARY_MAX, SOURCE_MAX = 300, 600, 100


def clip(text: str, limit: int) -> str:
    """At most `limit` characters, cut at a word with an ellipsis (before escaping, so no entity is cut)."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit - 1)
    return text[: cut if cut > limit // 2 else limit - 1].rstrip(" ,;:-") + "…"


def when(published: datetime, zone: str, tr: Tr = ENGLISH) -> str:
    return tr.when(published, zone_of(zone))


def also_line(sources: Sequence[str], tr: Tr = ENGLISH, limit: int = ALSO_LIMIT) -> str:
    """'also: A, B, C' (at most `limit` names, then a count), in the chat's language."""
    shown = tr._(", ").join(sources[:limit])
    rest = len(sources) - limit
    if rest > 0:
        return tr.n_("also: {sources} and {n} more", "also: {sources} and {n} more", rest).format(sources=shown, n=rest)
    return tr._("also: {sources}").format(sources=shown)


def _line(text: str, tr: Tr) -> str:
    """A line of the chat's own words: right-to-left chats start it as such."""
    return RLM + text if tr.rtl else text


def topic_line(topics: Sequence[str], names: Mapping[str, str]) -> str:
    return escape(clip(" · ".join(names.get(t, t) for t in topics), 400))


def link(url: str | None) -> str:
    """An anchor showing the host; empty when there is no http(s) URL."""
    if not url or not url.startswith(("http://", "https://")):
        return ""
    host = urlsplit(url).hostname or url
    return f'<a href="{escape(url, quote=True)}">{escape(host.removeprefix("www."))}</a>'


def source_also(sources: Sequence[str], own: str) -> tuple[str, ...]:
    """The other outlets of a story, without the alert's own source."""
    return tuple(s for s in dict.fromkeys(sources) if s != own)


def format_alert(alert: Alert, *, names: Mapping[str, str], zone: str, also: Sequence[str] = (),
                 tr: Tr = ENGLISH) -> str:
    """The HTML text of an alert (with its "also:" line once other sources joined)."""
    lines = [f"<i>{topic_line(alert.topics, names)}</i>", f"<b>{escape(directed(clip(alert.title, TITLE_MAX)))}</b>"]
    if alert.summary:
        lines.append(escape(directed(clip(alert.summary, SUMMARY_MAX))))
    lines.append(_line(f"{escape(clip(alert.source, SOURCE_MAX))} · {when(alert.published, zone, tr)}", tr))
    if anchor := link(alert.url):
        lines.append(anchor)
    if also:
        lines.append(_line(f"<i>{escape(also_line(tuple(clip(s, SOURCE_MAX) for s in also), tr))}</i>", tr))
    return "\n".join(lines)


def format_update(update: Alert, *, zone: str, tr: Tr = ENGLISH) -> str:
    """A short new message for a story update whose original alert can no longer be edited."""
    lines = [_line(f"↳ <i>{escape(also_line(source_also(update.also, '') or (update.source,), tr))}</i>", tr),
             f"<b>{escape(directed(clip(update.title, TITLE_MAX)))}</b>",
             _line(f"{escape(clip(update.source, SOURCE_MAX))} · {when(update.published, zone, tr)}", tr)]
    if anchor := link(update.url):
        lines.append(anchor)
    return "\n".join(lines)


def digest_entry(alert: Alert, *, names: Mapping[str, str], zone: str, also: Sequence[str] = (),
                 tr: Tr = ENGLISH) -> str:
    """One alert inside a digest: topics, linked headline, source and time, other sources."""
    title = escape(directed(clip(alert.title, TITLE_MAX)))
    if alert.url and alert.url.startswith(("http://", "https://")):
        title = f'<a href="{escape(alert.url, quote=True)}">{title}</a>'
    source = f"{escape(clip(alert.source, SOURCE_MAX))} · {when(alert.published, zone, tr)}"
    if also:
        source += f" · {escape(also_line(tuple(clip(s, SOURCE_MAX) for s in also), tr))}"
    return f"• <i>{topic_line(alert.topics, names)}</i>\n<b>{title}</b>\n{_line(source, tr)}"


def digest_chunks(entries: Sequence[str], header: str, limit: int = MAX_TEXT) -> list[list[int]]:
    """Split entries into messages under the limit; each chunk is a list of entry indexes."""
    chunks: list[list[int]] = []
    size = limit + 1
    for i, entry in enumerate(entries):
        cost = len(entry) + 2
        if not chunks or size + cost > limit:
            chunks.append([])
            size = len(header) + 12
        chunks[-1].append(i)
        size += cost
    return chunks


def digest_text(entries: Sequence[str], header: str, part: int, parts: int) -> str:
    suffix = f" ({part}/{parts})" if parts > 1 else ""
    return f"<b>{escape(header)}{suffix}</b>\n\n" + "\n\n".join(entries)

