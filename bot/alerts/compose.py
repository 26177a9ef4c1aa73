"""Alert text: headline, one or two sentences, source, time, link, topics. Pure functions."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.models import Alert, AlertKind, Item, Match
from bot.textsafe import clip, strip_invisible

SUMMARY_LIMIT = 300
ALSO_LIMIT = 5  # sources listed by name in an update; the rest are counted

# A sentence ends at . ! ? (or Arabic ؟ ۔) followed by space; "U.S." and "Gen." are not ends.
_SENTENCE_END = re.compile(r"(\w*)[.!?؟۔](?=\s)")
_ABBREVIATIONS = {"mr", "mrs", "dr", "st", "gen", "col", "lt", "sgt", "maj", "capt", "no", "jr", "sr", "vs", "u.s", "u.n"}


def _sentence_ends(text: str, limit: int) -> list[int]:
    ends = []
    for m in _SENTENCE_END.finditer(text, 0, limit + 1):
        word = m.group(1)
        if (len(word) == 1 and word.isupper()) or word.casefold() in _ABBREVIATIONS:
            continue
        ends.append(m.end())
    return ends


def summarize(text: str, title: str = "", limit: int = SUMMARY_LIMIT) -> str:
    """One or two sentences of text, at most about `limit` characters, never cut mid-word."""
    text = " ".join(text.split())
    if title and text.casefold().startswith(title.casefold()):
        text = text[len(title):].lstrip(" .:-–—")  # many feeds repeat the headline as the lead
    if len(text) <= limit:
        return text
    ends = _sentence_ends(text, limit)
    if ends and ends[0] >= 40:
        return text[: ends[1] if len(ends) > 1 else ends[0]]
    cut = text.rfind(" ", 0, limit - 1)
    return text[: cut if cut > limit // 2 else limit - 1].rstrip(" ,;:-") + "…"


def compose_alert(
    item: Item, found: list[Match] | tuple[Match, ...], story_id: str, *,
    kind: AlertKind = AlertKind.ALERT, chats: tuple[int, ...] = (), also: tuple[str, ...] = (),
    related: tuple[str, str] | None = None, also_links: dict[str, str] | None = None,
) -> Alert:
    """The alert for an item: first of its story (ALERT) or another source joining it (UPDATE).
    `related`: (id, headline) of the earlier story a RELATED item may be the same as."""
    return Alert(
        kind=kind,
        story_id=story_id,
        item_key=item.key,
        title=item.title,
        summary=summarize(item.summary, item.title),
        url=item.url,
        source=item.source,
        published=item.published,
        topics=tuple(m.topic for m in found),
        chats=chats,
        also=also,
        why={m.topic: m.why for m in found},
        related=related[0] if related else None,
        related_title=related[1] if related else "",
        also_links=dict(also_links or {}),
    )


def alert_to_json(alert: Alert) -> dict:
    """The JSONL / outbox form of an alert."""
    return {
        "type": alert.kind.value,
        "story": alert.story_id,
        "id": alert.item_key,
        "title": alert.title,
        "summary": alert.summary,
        "url": alert.url,
        "source": alert.source,
        "published": alert.published.isoformat(),
        "topics": list(alert.topics),
        "chats": list(alert.chats),
        "also": list(alert.also),
        "why": {topic: list(terms) for topic, terms in alert.why.items()},
        "related": alert.related,
        "related_title": alert.related_title,
        "also_links": dict(alert.also_links),
    }


def alert_from_json(data: dict) -> Alert:
    return Alert(
        kind=AlertKind(data["type"]),
        story_id=data["story"],
        item_key=data["id"],
        title=data["title"],
        summary=data["summary"],
        url=data["url"],
        source=data["source"],
        published=datetime.fromisoformat(data["published"]),
        topics=tuple(data["topics"]),
        chats=tuple(data["chats"]),
        also=tuple(data["also"]),
        why={topic: tuple(terms) for topic, terms in data["why"].items()},
        related=data.get("related"),  # rows queued before related stories existed lack these
        related_title=data.get("related_title") or "",
        also_links=dict(data.get("also_links") or {}),
    )


def also_line(sources: tuple[str, ...], limit: int = ALSO_LIMIT) -> str:
    """'also: A, B, C' with at most `limit` names and a count of the rest."""
    shown = ", ".join(sources[:limit])
    rest = len(sources) - limit
    return f"also: {shown}" + (f" and {rest} more" if rest > 0 else "")


def format_console(alert: Alert, timezone: str = "UTC") -> str:
    """A readable plain-text block for the terminal."""
    when = alert.published.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M %Z")
    source, title = clip(alert.source, 200), strip_invisible(alert.title)  # no bidi tricks in a terminal
    if alert.kind is AlertKind.UPDATE:
        also = also_line(tuple(clip(s, 100) for s in alert.also))
        return f"  ↳ story {alert.story_id} {also}\n    {source}: {title}\n    {alert.url or ''}\n"
    lines = [f"[{' · '.join(alert.topics)}]", title]
    if alert.summary:
        lines.append(strip_invisible(alert.summary))
    lines.append(f"{source} · {when} · story {alert.story_id}")
    if alert.url:
        lines.append(alert.url)
    if alert.related:
        lines.append(f"↳ may be the same story as {alert.related_title or alert.related} (story {alert.related})")
    return "\n".join(lines) + "\n"
