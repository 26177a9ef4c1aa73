"""Telegram message text (HTML parse mode). Pure functions; every piece of feed text is escaped.

Layout of an alert:
    <i>Topic A · Topic B</i>
    <b>Headline</b>
    One or two sentences.
    Source · 21 Nov 14:05 +03
    <a href="https://...">example.org</a>
and, once other outlets report the same story, an "also: Source B, Source C" line.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from html import escape
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from bot.alerts.compose import also_line
from bot.models import Alert
from bot.textsafe import clip, display_host, utf16_len

MAX_TEXT = 4096  # Telegram's limit on a message's text, in UTF-16 code units
# Every field is clipped (in UTF-16 units, invisible characters removed), so a message's text is
# at most ~2,300 units whatever the feed sends: topics 400, title 300, summary 600, source 100,
# host 253, "also:" 5 x 100 plus a count, the time and line breaks.
TITLE_MAX, SUMMARY_MAX, SOURCE_MAX, TOPICS_MAX = 300, 600, 100, 400


def field(text: str, limit: int) -> str:
    """One piece of feed text, as shown: clipped, invisible characters removed, HTML-escaped."""
    return escape(clip(text, limit))


def also_names(sources: Sequence[str]) -> str:
    """The escaped "also: A, B and N more" line, every name clipped."""
    return escape(also_line(tuple(clip(s, SOURCE_MAX) for s in sources)))


def when(published: datetime, zone: str) -> str:
    return published.astimezone(ZoneInfo(zone)).strftime("%d %b %H:%M %Z")


def topic_line(topics: Sequence[str], names: Mapping[str, str]) -> str:
    return field(" · ".join(clip(names.get(t, t), 100) for t in topics[:40]), TOPICS_MAX)


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


def format_alert(alert: Alert, *, names: Mapping[str, str], zone: str, also: Sequence[str] = ()) -> str:
    """The HTML text of an alert (with its "also:" line once other sources joined)."""
    lines = [f"<i>{topic_line(alert.topics, names)}</i>", f"<b>{field(alert.title, TITLE_MAX)}</b>"]
    if alert.summary:
        lines.append(field(alert.summary, SUMMARY_MAX))
    lines.append(f"{field(alert.source, SOURCE_MAX)} · {when(alert.published, zone)}")
    if anchor := link(alert.url):
        lines.append(anchor)
    if also:
        lines.append(f"<i>{also_names(also)}</i>")
    return "\n".join(lines)


def format_update(update: Alert, *, zone: str) -> str:
    """A short new message for a story update whose original alert can no longer be edited."""
    lines = [f"↳ <i>{also_names(source_also(update.also, '') or (update.source,))}</i>",
             f"<b>{field(update.title, TITLE_MAX)}</b>",
             f"{field(update.source, SOURCE_MAX)} · {when(update.published, zone)}"]
    if anchor := link(update.url):
        lines.append(anchor)
    return "\n".join(lines)


def digest_entry(alert: Alert, *, names: Mapping[str, str], zone: str, also: Sequence[str] = ()) -> str:
    """One alert inside a digest: topics, linked headline, source and time, other sources."""
    title = field(alert.title, TITLE_MAX)
    if alert.url and alert.url.startswith(("http://", "https://")):
        title = f'<a href="{escape(alert.url, quote=True)}">{title}</a>'
    line = f"• <i>{topic_line(alert.topics, names)}</i>\n<b>{title}</b>\n{field(alert.source, SOURCE_MAX)} · {when(alert.published, zone)}"
    if also:
        line += f" · {also_names(also)}"
    return line


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

