"""Who gets what: deciding outbox rows (pure), and draining the outbox into sinks (I/O).

A story alerts each target once; a later item of the same story becomes an `update` row for
targets already alerted (the Telegram sink edits its message, JSONL writes an update line), and an
`alert` row for targets whose topics the story matches only now.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from bot.alerts.compose import alert_from_json, alert_to_json, compose_alert
from bot.models import Alert, AlertKind, Item, Match
from bot.store.db import Delivery, OutboxRow, Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Route:
    """A delivery target and the topics it wants (None: every topic)."""

    target: str | None  # console | jsonl | tg:<chat id>; None: named in alerts, not delivered
    topics: frozenset[str] | None = None
    chat_id: int | None = None

    def wants(self, topics: Iterable[str]) -> bool:
        return self.topics is None or not self.topics.isdisjoint(topics)


@dataclass(frozen=True)
class StoryView:
    """What is already known about an item's story: targets alerted, sources seen, its headline,
    and (source, article URL) of each member, oldest first."""

    alerted: frozenset[str] = frozenset()
    sources: tuple[str, ...] = ()
    title: str = ""
    links: tuple[tuple[str, str | None], ...] = ()

    def adding(self, item: Item, alerted: Iterable[str] = ()) -> StoryView:
        """The view once this item is in the story (and alerted to these targets)."""
        return StoryView(self.alerted | frozenset(alerted), tuple(dict.fromkeys((*self.sources, item.source))),
                         self.title or item.title, (*self.links, (item.source, item.url)))

    def merged(self, other: StoryView) -> StoryView:
        """The view with another story's outlets and articles (a late fold): this one's targets
        and headline."""
        return StoryView(self.alerted, tuple(dict.fromkeys((*self.sources, *other.sources))), self.title,
                         (*self.links, *other.links))


def also_links(story: StoryView, item: Item) -> dict[str, str]:
    """Each source but the story's first -> the URL of its first article in the story."""
    first = story.sources[0] if story.sources else item.source
    out: dict[str, str] = {}
    for source, url in (*story.links, (item.source, item.url)):
        if url and source != first:
            out.setdefault(source, url)
    return out


def plan_deliveries(
    item: Item, found: list[Match], story_id: str, story: StoryView,
    routes: Iterable[Route], *, quiet: bool = False, related: tuple[str, str] | None = None,
    folded: StoryView | None = None,
) -> list[Delivery]:
    """Outbox rows for one new item. `quiet` (backfill) stores the item without alerting anyone;
    `related`: (id, headline) of the earlier story a RELATED item's own story may be the same as;
    `folded`: the stories this item folded into story_id (a late fold), whose sources the edit
    lists too."""
    if quiet:
        return []
    routes = list(routes)
    topics = [m.topic for m in found]
    chats = tuple(r.chat_id for r in routes if r.chat_id is not None and topics and r.wants(topics))
    shown = story if folded is None else story.merged(folded)  # the edit lists the folded stories' outlets too
    also = tuple(dict.fromkeys((*shown.sources, item.source)))[1:]  # every source but the first
    fresh = any(s not in story.sources for s in (item.source, *shown.sources))
    out = []
    for route in routes:
        if route.target is None:
            continue
        if route.target in story.alerted:
            if fresh:  # a new outlet: worth an edit; a repeat is not
                update = compose_alert(item, found, story_id, kind=AlertKind.UPDATE, chats=chats, also=also,
                                       also_links=also_links(shown, item))
                out.append(Delivery(route.target, "update", alert_to_json(update)))
        elif topics and route.wants(topics):  # a chat's alert names only the topics it follows
            mine = [m for m in found if route.topics is None or m.topic in route.topics]
            alert = compose_alert(item, mine, story_id, chats=chats, related=related)
            out.append(Delivery(route.target, "alert", alert_to_json(alert)))
    return out


class Sink(Protocol):
    async def send(self, alert: Alert, row: OutboxRow) -> str | None:
        """Deliver; return a message reference (or None). Raise DeliveryError to retry later."""


class DeliveryError(Exception):
    """A delivery that failed for now; `retry_after` seconds, or None for a permanent failure."""

    def __init__(self, message: str, retry_after: float | None = 30.0):
        super().__init__(message)
        self.retry_after = retry_after


async def drain(store: Store, sinks: Mapping[str, Sink], clock: Callable[[], datetime]) -> int:
    """Send every due outbox row whose target has a sink; mark each sent only once delivered."""
    sent = 0
    for row in store.pending(list(sinks), clock()):
        try:
            ref = await sinks[row.target].send(alert_from_json(row.payload), row)
        except DeliveryError as exc:
            if exc.retry_after is None:
                store.mark_failed(row.id, str(exc))
            else:
                store.mark_retry(row.id, str(exc), clock() + timedelta(seconds=exc.retry_after))
            log.warning("delivery to %s failed: %s", row.target, exc)
            continue
        store.mark_sent(row.id, clock(), ref)
        sent += 1
    return sent

