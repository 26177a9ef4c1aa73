"""Telegram message text (HTML parse mode). Pure functions; every piece of feed text is escaped.

Layout of an alert:
    <i>Topic A · Topic B</i>
    <b>Headline</b>
    One or two sentences.
    Source · 21 Nov 14:05 +03
    <a href="https://...">example.org</a>
and, once other outlets report the same story, an "also: Source B, Source C" line, each name a
link to that outlet's own article. A related alert (sent as a reply to the earlier story's alert)
ends with "↳ may be the same story as <headline>". The shown text stays under Telegram's 4,096
UTF-16 code units (how Telegram counts), whatever the feed text is.

Labels ("also:") and dates are in the chat's language (a Tr, English by default). A headline or
summary that reads right to left starts with a right-to-left mark (bot.i18n.directed), so an
Arabic headline opening with a Latin name or a number still lays out right-aligned; so do the
labelled lines of a right-to-left chat.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from html import escape, unescape
from urllib.parse import urlsplit

from bot.alerts.compose import ALSO_LIMIT
from bot.i18n import RLM, Tr, directed, translation
from bot.models import Alert
from bot.textsafe import clip, display_host, utf16_len
from bot.tg.digest import zone_of

ENGLISH = translation("en")

MAX_TEXT = 4096  # Telegram's limit on a message's text, in UTF-16 code units
# Every field is clipped (in UTF-16 units, invisible characters removed), and format_alert falls
# back to smaller sizes until the whole fits, whatever the feed sends.
TITLE_MAX, SUMMARY_MAX, SOURCE_MAX, TOPICS_MAX = 300, 600, 100, 400
RELATED_TITLE_MAX = 200
_TAGS = re.compile(r"<[^>]+>")


def shown_len(html: str) -> int:
    """UTF-16 length of the text an HTML message shows (tags dropped, entities decoded)."""
    return utf16_len(unescape(_TAGS.sub("", html)))


def field(text: str, limit: int) -> str:
    """One piece of feed text, as shown: clipped, invisible characters removed, HTML-escaped."""
    return escape(clip(text, limit))


def when(published: datetime, zone: str, tr: Tr = ENGLISH) -> str:
    return tr.when(published, zone_of(zone))


def also_line(sources: Sequence[str], tr: Tr = ENGLISH, limit: int = ALSO_LIMIT) -> str:
    """'also: A, B, C' (at most `limit` names, each clipped, then a count), in the chat's language."""
    shown = tr._(", ").join(clip(s, SOURCE_MAX) for s in sources[:limit])
    rest = len(sources) - limit
    if rest > 0:
        return tr.n_("also: {sources} and {n} more", "also: {sources} and {n} more", rest).format(sources=shown, n=rest)
    return tr._("also: {sources}").format(sources=shown)


def _line(text: str, tr: Tr) -> str:
    """A line of the chat's own words: right-to-left chats start it as such."""
    return RLM + text if tr.rtl else text


def topic_line(topics: Sequence[str], names: Mapping[str, str], limit: int = TOPICS_MAX) -> str:
    return field(" · ".join(clip(names.get(t, t), 100) for t in topics[:40]), limit)


def link(url: str | None) -> str:
    """An anchor showing the host; empty when there is no http(s) URL."""
    if not url or not url.startswith(("http://", "https://")):
        return ""
    try:
        host = display_host(urlsplit(url).hostname or "")
    except ValueError:  # a URL urlsplit refuses (bad IPv6 brackets): no link
        return ""
    return f'<a href="{escape(url, quote=True)}">{field(host.removeprefix("www."), 253) or "link"}</a>'


def source_also(sources: Sequence[str], own: str) -> tuple[str, ...]:
    """The other outlets of a story, without the alert's own source."""
    return tuple(s for s in dict.fromkeys(sources) if s != own)


def also_links_line(sources: Sequence[str], links: Mapping[str, str], tr: Tr = ENGLISH,
                    limit: int = ALSO_LIMIT) -> str:
    """'also: A, B' in HTML, in the chat's language, each source that has an http(s) article URL a
    link to it."""
    names = []
    for source in sources[:limit]:
        name, url = escape(clip(source, SOURCE_MAX)), links.get(source) or ""
        names.append(f'<a href="{escape(url, quote=True)}">{name}</a>' if url.startswith(("http://", "https://")) else name)
    shown, rest = tr._(", ").join(names), len(sources) - limit
    if rest > 0:
        return tr.n_("also: {sources} and {n} more", "also: {sources} and {n} more", rest).format(sources=shown, n=rest)
    return tr._("also: {sources}").format(sources=shown)


def related_line(alert: Alert, folded: bool = False, tr: Tr = ENGLISH) -> str:
    """The last line of a related alert: what it may be the same as, or that people folded it."""
    title = escape(directed(clip(alert.related_title or alert.related or "", RELATED_TITLE_MAX)))
    if folded:
        return _line("↳ <i>" + tr._("same story, folded into:") + f"</i> {title}", tr)
    return _line("↳ <i>" + tr._("may be the same story as") + f"</i> {title}", tr)


def format_alert(alert: Alert, *, names: Mapping[str, str], zone: str, also: Sequence[str] = (),
                 links: Mapping[str, str] | None = None, related: str | None = None,
                 tr: Tr = ENGLISH) -> str:
    """The HTML text of an alert (with its "also:" line once other sources joined, each linking to
    its own article; `related`: "open" or "folded" for an alert sent beside an earlier story)."""
    for sizes in _SIZES:  # only text full of two-unit characters needs the smaller sizes
        text = _alert_lines(alert, names, zone, also, links or {}, related, sizes, tr)
        if shown_len(text) < MAX_TEXT:
            break
    return text


# (topics, title, summary, also names) limits, tried in turn until the message fits
_SIZES = ((400, TITLE_MAX, SUMMARY_MAX, ALSO_LIMIT), (100, 150, 150, 2), (50, 100, 0, 1))


def _alert_lines(alert: Alert, names: Mapping[str, str], zone: str, also: Sequence[str],
                 links: Mapping[str, str], related: str | None, sizes: tuple[int, int, int, int],
                 tr: Tr) -> str:
    topics_max, title_max, summary_max, also_max = sizes
    lines = [f"<i>{topic_line(alert.topics, names, topics_max)}</i>",
             f"<b>{escape(directed(clip(alert.title, title_max)))}</b>"]
    if alert.summary and summary_max:
        lines.append(escape(directed(clip(alert.summary, summary_max))))
    lines.append(_line(f"{escape(clip(alert.source, SOURCE_MAX))} · {when(alert.published, zone, tr)}", tr))
    if anchor := link(alert.url):
        lines.append(anchor)
    if also:
        lines.append(_line(f"<i>{also_links_line(tuple(also), links, tr, also_max)}</i>", tr))
    if related and alert.related:
        lines.append(related_line(alert, folded=related == "folded", tr=tr))
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
        source += f" · {escape(also_line(also, tr))}"
    return f"• <i>{topic_line(alert.topics, names)}</i>\n<b>{title}</b>\n{_line(source, tr)}"


def digest_chunks(entries: Sequence[str], header: str, limit: int = MAX_TEXT) -> list[list[int]]:
    """Split entries into messages under the limit; each chunk is a list of entry indexes."""
    chunks: list[list[int]] = []
    size = limit + 1
    for i, entry in enumerate(entries):
        cost = utf16_len(entry) + 2  # HTML counted: never less than the text Telegram counts
        if not chunks or size + cost > limit:
            chunks.append([])
            size = utf16_len(header) + 12
        chunks[-1].append(i)
        size += cost
    return chunks


def digest_text(entries: Sequence[str], header: str, part: int, parts: int) -> str:
    suffix = f" ({part}/{parts})" if parts > 1 else ""
    return f"<b>{field(header, 200)}{suffix}</b>\n\n" + "\n\n".join(entries)

