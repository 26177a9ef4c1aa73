"""Data access. Every write that belongs to one feed update happens in one transaction, so a crash
loses nothing already stored and a restart duplicates nothing (item keys and outbox rows are unique).

The Store is put together from one mixin per concern: feeds (bot.store.feeds), one feed update's
items (bot.store.items), stories (bot.store.stories) and the outbox (bot.store.outbox); opening
the database is bot.store.engine, the records are bot.store.rows. Everything stays importable
from here.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.engine import Engine

from bot.store.engine import open_engine, open_read_only, unreadable
from bot.store.feeds import FeedsMixin, _save_feed_states  # noqa: F401  (re-exported, as before the split)
from bot.store.items import ItemsMixin, _row_item, save_processed, stored_key  # noqa: F401
from bot.store.lock import InstanceLock
from bot.store.outbox import OutboxMixin
from bot.store.rows import (
    IMPORTED,
    Delivery,
    FeedRow,
    FeedState,
    OutboxRow,
    ProcessedItem,
    StoryMember,
    StoryRecord,
)
from bot.store.stories import StoriesMixin

__all__ = [
    "IMPORTED", "Delivery", "FeedRow", "FeedState", "OutboxRow", "ProcessedItem", "Store", "StoryMember",
    "StoryRecord", "save_processed", "stored_key", "unreadable", "window_start",
]


class Store(FeedsMixin, ItemsMixin, StoriesMixin, OutboxMixin):
    def __init__(self, engine: Engine):
        self.engine = engine

    @classmethod
    def open(cls, database_url: str) -> Store:
        """Open (creating and migrating) the database."""
        return cls(open_engine(database_url))

    @classmethod
    def read_only(cls, database_url: str) -> tuple[Store, int] | None:
        """`check`: the existing database, never written, and its schema version; None if there is none yet."""
        opened = open_read_only(database_url)
        return None if opened is None else (cls(opened[0]), opened[1])

    def close(self) -> None:
        self.engine.dispose()

    def lock_instance(self) -> InstanceLock:
        """The lock `run` holds for its lifetime; AlreadyRunning if another wirewatch holds it."""
        return InstanceLock.acquire(self.engine)


def window_start(now: datetime, seconds: float) -> datetime:
    return now - timedelta(seconds=seconds)
