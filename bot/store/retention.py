"""Retention: items older than `[bot] keep_items`, pruned in small batches off the hot path.

An item goes when it was first seen and published before the cutoff, has no outbox row still to
deliver (pending or held), and its story got no item since the cutoff (a story still growing keeps
its alert rows, which is how later items know whom they already alerted). With it go its matches
and its delivered outbox rows; labels keep their text and lose only the link. A story row goes
only once no item and no outbox row names it, so an outbox row never lacks its story row.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import and_, delete, exists, func, not_, select, text, update
from sqlalchemy.engine import Engine

from bot.store import health
from bot.store import schema as t

BATCH = 500  # items per transaction: short enough never to hold up a poll cycle's writes


def prune_batch(engine: Engine, cutoff: datetime, limit: int = BATCH) -> int:
    """Delete up to `limit` prunable items (and what hangs on them); how many went."""
    i, o = t.items, t.outbox
    newer = i.alias("newer")
    undelivered = exists().where(o.c.item_id == i.c.id, o.c.status.in_(("pending", "held")))
    story_alive = exists().where(newer.c.story_id == i.c.story_id, newer.c.first_seen >= cutoff)
    query = (select(i.c.id, i.c.story_id)
             .where(i.c.first_seen < cutoff, i.c.published < cutoff, not_(undelivered), not_(story_alive))
             .order_by(i.c.id).limit(limit))
    with engine.begin() as conn:
        rows = conn.execute(query).all()
        if not rows:
            return 0
        ids, stories = [r.id for r in rows], {r.story_id for r in rows if r.story_id}
        conn.execute(update(t.labels).where(t.labels.c.item_id.in_(ids)).values(item_id=None))
        conn.execute(delete(o).where(o.c.item_id.in_(ids)))
        conn.execute(delete(t.matches).where(t.matches.c.item_id.in_(ids)))
        conn.execute(update(t.stories).where(t.stories.c.first_item_id.in_(ids)).values(first_item_id=None))
        conn.execute(delete(i).where(i.c.id.in_(ids)))
        if stories:
            orphan = and_(t.stories.c.id.in_(stories),
                          not_(exists().where(i.c.story_id == t.stories.c.id)),
                          not_(exists().where(o.c.story_id == t.stories.c.id)))
            conn.execute(delete(t.stories).where(orphan))
    return len(rows)


def database_size(engine: Engine) -> int | None:
    """Bytes on disk: the SQLite file and its WAL, or the PostgreSQL tables of this schema."""
    if engine.dialect.name == "sqlite":
        if not engine.url.database or engine.url.database == ":memory:":
            return None
        name = health.where_of_url(engine.url)  # check's read-only URI names the same file
        return sum(p.stat().st_size for p in (Path(name), Path(f"{name}-wal")) if p.exists())
    with engine.connect() as conn:
        return int(conn.execute(text(
            "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = current_schema() AND c.relkind = 'r'")).scalar())


def oldest_item(engine: Engine) -> tuple[int, datetime | None]:
    """How many items are stored, and when the oldest of them was first seen."""
    with engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(t.items)).scalar()
        first = conn.execute(select(t.items.c.first_seen).order_by(t.items.c.first_seen).limit(1)).scalar()
    return count, first
