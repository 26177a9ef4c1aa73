"""The records the store reads and writes: feeds with their health, what one fetch changed, the
items of one feed update with their outbox rows, stories as shown, and outbox rows to send.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.models import FeedForUpdate, Item, Match, StoryDecision

IMPORTED = "import"  # feeds.origin of a feed added from an OPML file (others: "config", "admin")


@dataclass(frozen=True)
class FeedRow:
    """A stored feed with its health: what /feeds and `check` show."""

    id: int
    url: str
    name: str
    origin: str
    interval: float | None
    active: bool
    etag: str | None
    last_modified: str | None
    body_hash: str | None
    next_check_at: datetime
    last_checked_at: datetime | None
    last_success_at: datetime | None
    last_status: str | None
    error_count: int
    last_error: str | None
    items_total: int
    ttl_minutes: int | None
    config_url: str | None = None
    fulltext_ok: int = 0  # article pages whose text became an item's body (full_text feeds)
    fulltext_failed: int = 0  # pages that failed or held no article: those items kept their teaser

    def for_update(self) -> FeedForUpdate:
        return FeedForUpdate(
            self.id, self.url, self.name, self.etag, self.last_modified, self.body_hash,
            self.error_count, first_fetch=self.last_success_at is None,
        )


@dataclass(frozen=True)
class FeedState:
    """What one fetch changed about a feed; written with that fetch's items."""

    checked_at: datetime
    next_check_at: datetime
    status: str  # new | unchanged | not_modified | error
    error: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    ttl_minutes: int | None = None
    moved_to: str | None = None  # permanent redirect target


@dataclass(frozen=True)
class Delivery:
    """One outbox row to write: what to send to which target."""

    target: str
    kind: str
    payload: dict


@dataclass(frozen=True)
class ProcessedItem:
    item: Item
    matches: tuple[Match, ...]
    decision: StoryDecision
    deliveries: tuple[Delivery, ...]


@dataclass(frozen=True)
class StoryMember:
    """One item of a story, as /why and an edited alert show it."""

    source: str
    title: str
    url: str | None


@dataclass(frozen=True)
class StoryRecord:
    """A stored story: its headline, targets alerted, sources, and members oldest first."""

    title: str = ""
    alerted: frozenset[str] = frozenset()
    sources: tuple[str, ...] = ()
    members: tuple[StoryMember, ...] = ()


@dataclass(frozen=True)
class OutboxRow:
    id: int
    target: str
    story_id: str
    kind: str
    payload: dict
    attempts: int
    message_ref: str | None
