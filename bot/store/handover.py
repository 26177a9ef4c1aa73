"""The hand-over between pollers and the core (`run --role poller` / `--role core`, PostgreSQL).

A poller writes a feed's new items as one `handover` row in the transaction that writes the feed's
new state (validators, next_check_at): a fetch is recorded whole or not at all, so a poller killed
mid-fetch loses nothing (the feed is still due, or claimed until its lease ends and then due). The
core takes pending rows in id order (arrival order: one poller at a time fetches a feed, so a
feed's rows ascend), stores their items and deletes the rows in one transaction. Rows reach the
core at least once and are processed once: items are unique by key, and a row taken again after
a crash finds its items stored and adds nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.engine import Engine

from bot.models import Item
from bot.store import schema as t
from bot.store.feeds import _save_feed_states
from bot.store.items import save_processed
from bot.store.rows import FeedRow, FeedState, ProcessedItem

MAX_ATTEMPTS = 3  # a row the core failed to store this many times is kept as failed, not retried
BATCH = 2000  # rows per core pass: bounds the memory of one pass, not the throughput


@dataclass(frozen=True)
class Handed:
    """One pending row: a feed's new items (each with whether it is quiet: stored, not alerted)."""

    id: int
    feed_id: int
    items: tuple[tuple[Item, bool], ...]
    created_at: datetime


def item_row(item: Item, quiet: bool) -> dict:
    row = asdict(item) | {"quiet": quiet}
    row["published"] = item.published.isoformat()
    return row


def item_of(row: dict) -> tuple[Item, bool]:
    fields = {k: v for k, v in row.items() if k != "quiet"}
    fields["published"] = datetime.fromisoformat(fields["published"]).astimezone(UTC)
    return Item(**fields), bool(row.get("quiet"))


def hand_over(engine: Engine, feed_id: int, state: FeedState, items: Sequence[tuple[Item, bool]], now: datetime) -> None:
    """The poller's write: the feed's state and its new items for the core, in one transaction."""
    with engine.begin() as conn:
        conn.execute(t.handover.insert().values(
            feed_id=feed_id, entries=[item_row(i, q) for i, q in items], created_at=now, status="pending", attempts=0))
        _save_feed_states(conn, [(feed_id, state, 0)])  # items_total counts stored items: the core adds them


def pending(engine: Engine, limit: int = BATCH) -> list[Handed]:
    """The oldest pending rows, in arrival order."""
    h = t.handover.c
    query = select(h.id, h.feed_id, h.entries, h.created_at).where(h.status == "pending").order_by(h.id).limit(limit)
    with engine.connect() as conn:
        return [Handed(r.id, r.feed_id, tuple(item_of(i) for i in r.entries), r.created_at) for r in conn.execute(query)]


def feed_rows(engine: Engine, ids: Sequence[int]) -> dict[int, FeedRow]:
    query = select(*[t.feeds.c[f] for f in FeedRow.__dataclass_fields__]).where(t.feeds.c.id.in_(list(ids)))
    with engine.connect() as conn:
        return {row.id: FeedRow(**row._mapping) for row in conn.execute(query)}


def commit(engine: Engine, feed_id: int, row_ids: Sequence[int], processed: Sequence[ProcessedItem], now: datetime) -> None:
    """The core's write: the rows' new items (matches, stories, outbox) stored, the rows gone."""
    with engine.begin() as conn:
        save_processed(conn, processed, now)
        if processed:
            conn.execute(update(t.feeds).where(t.feeds.c.id == feed_id)
                         .values(items_total=t.feeds.c.items_total + len(processed)))
        conn.execute(delete(t.handover).where(t.handover.c.id.in_(list(row_ids))))


def fail(engine: Engine, row_ids: Sequence[int], error: str) -> None:
    """A failed store of these rows: retried by the next pass, kept as failed after MAX_ATTEMPTS."""
    h = t.handover.c
    with engine.begin() as conn:
        conn.execute(update(t.handover).where(h.id.in_(list(row_ids))).values(attempts=h.attempts + 1, error=error[:2000]))
        conn.execute(update(t.handover).where(h.id.in_(list(row_ids)), h.attempts >= MAX_ATTEMPTS).values(status="failed"))


def lag(engine: Engine, now: datetime) -> float:
    """Seconds since the oldest pending row arrived (0 when the core is up to date)."""
    with engine.connect() as conn:
        oldest = conn.execute(select(func.min(t.handover.c.created_at)).where(t.handover.c.status == "pending")).scalar()
    if isinstance(oldest, str):  # SQLite returns an aggregate of a datetime column as text
        oldest = datetime.fromisoformat(oldest)
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    return max(0.0, (now - oldest).total_seconds()) if oldest else 0.0


def claim(engine: Engine, feed_ids: Sequence[int], now: datetime, lease: float) -> list[FeedRow]:
    """The feeds of these that are still due, leased to the caller: their next_check_at moves to
    now + their interval (or `lease`), so no other poller takes them, and a poller that dies before
    writing their state leaves them due again one interval later."""
    c = t.feeds.c
    until = bindparam("now", now, type_=t.UTCDateTime) + func.make_interval(0, 0, 0, 0, 0, 0, func.coalesce(c.interval, lease))
    query = (update(t.feeds).where(c.id.in_(list(feed_ids)), c.active.is_(True), c.next_check_at <= now)
             .values(next_check_at=until).returning(*[c[f] for f in FeedRow.__dataclass_fields__]))
    with engine.begin() as conn:
        rows = [FeedRow(**row._mapping) for row in conn.execute(query)]
    return sorted(rows, key=lambda f: f.id)


def due_by_host(engine: Engine, now: datetime, host_of) -> dict[str, list[int]]:
    """Active feeds due now, grouped by host (oldest due first)."""
    c = t.feeds.c
    query = select(c.id, c.url).where(c.active.is_(True), c.next_check_at <= now).order_by(c.next_check_at, c.id)
    out: dict[str, list[int]] = {}
    with engine.connect() as conn:
        for row in conn.execute(query):
            out.setdefault(host_of(row.url), []).append(row.id)
    return out
