"""Items: which keys are stored, and the write of one feed update (its items, their matches,
stories and outbox rows, with the feed's state) in one transaction.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import String, Table, bindparam, select, update
from sqlalchemy.engine import Connection, Engine

from bot.ingest.normalize import MAX_BODY_CHARS
from bot.models import Item, StoryAction
from bot.store import schema as t
from bot.store.feeds import _save_feed_states
from bot.store.rows import FeedState, ProcessedItem
from bot.store.types import bounded_key


class ItemsMixin:
    """Store methods for one feed update: the keys already stored, and its write."""

    engine: Engine

    def known_keys(self, keys: Sequence[str]) -> set[str]:
        """Those of these item keys that are stored (as given: a long key is stored hashed)."""
        seen: set[str] = set()
        if keys:
            as_stored = {stored_key(k): k for k in keys}
            with self.engine.connect() as conn:
                for chunk in _chunks(list(as_stored), 500):
                    seen.update(as_stored[k] for k in conn.execute(_KNOWN, {"keys": chunk}).scalars())
        return seen

    def unseen(self, items: Sequence[Item], checked: Collection[str] = ()) -> list[Item]:
        """Items whose key is not stored yet, in their order, without repeats.

        checked: keys known_keys just found not stored, so not asked again."""
        seen = self.known_keys([i.key for i in items if i.key not in checked])
        out, taken = [], set()
        for item in items:
            as_stored = stored_key(item.key)  # two keys that differ only by a NUL are one item
            if item.key not in seen and as_stored not in taken:
                taken.add(as_stored)
                out.append(item)
        return out

    def save_update(self, feed_id: int, state: FeedState, processed: Sequence[ProcessedItem]) -> None:
        """Write the feed's new state, its new items, their matches, stories and outbox rows."""
        with self.engine.begin() as conn:
            save_processed(conn, processed, state.checked_at)
            _save_feed_states(conn, [(feed_id, state, len(processed))])

    def save_states(self, states: Sequence[tuple[int, FeedState]]) -> None:
        """Write the states of feeds that brought no new items, in one transaction."""
        if states:
            with self.engine.begin() as conn:
                _save_feed_states(conn, [(feed_id, state, 0) for feed_id, state in states])


_KEY_LENGTH = t.items.c.key.type.length  # read once: a column attribute lookup costs more than the key


def stored_key(key: str) -> str:
    """An item key as the items table stores it (cleaned; hashed when longer than the column)."""
    return bounded_key(key, _KEY_LENGTH)


# Built once: building a statement costs more than running it.
# The keys are bound as they are stored (stored_key), so as plain strings: not cleaned twice.
_KNOWN = select(t.items.c.key).where(t.items.c.key.in_(bindparam("keys", expanding=True, type_=String())))
_STORIES = select(t.stories).where(t.stories.c.id.in_(bindparam("ids", expanding=True)))


# ---- helpers for save_update ---------------------------------------------------------------------


def save_processed(conn: Connection, processed: Sequence[ProcessedItem], now: datetime) -> None:
    """Items, their matches, stories and outbox rows (also the core's write: bot.store.handover)."""
    if not processed:
        return
    ids = _insert_items(conn, processed, now)  # a few statements for all: per-row ones cost ~1 ms an item
    _insert_rows(conn, t.matches, [
        {"item_id": i, "topic": m.topic, "score": m.score, "why": list(m.why)}
        for p, i in zip(processed, ids, strict=True) for m in p.matches
    ])
    _save_stories(conn, processed, ids, now)
    _insert_rows(conn, t.outbox, [
        {"target": d.target, "story_id": p.decision.story_id, "item_id": i, "kind": d.kind,
         "payload": d.payload, "status": "pending", "attempts": 0, "created_at": now, "next_attempt_at": now}
        for p, i in zip(processed, ids, strict=True) for d in p.deliveries
    ])


def _insert_items(conn: Connection, processed: Sequence[ProcessedItem], now: datetime) -> list[int]:
    """Insert the items in order; their ids in the same order."""
    rows = [{
        "key": p.item.key, "feed_id": p.item.feed_id, "guid": p.item.guid, "url": p.item.url, "title": p.item.title,
        "summary": p.item.summary, "source": p.item.source, "published": p.item.published, "first_seen": now,
        "content_hash": p.item.content_hash, "story_id": p.decision.story_id,
        "body": p.item.body[:MAX_BODY_CHARS],
    } for p in processed]
    if not conn.dialect.insert_executemany_returning_sort_by_parameter_order:
        return [conn.execute(t.items.insert(), row).inserted_primary_key[0] for row in rows]
    query = t.items.insert().returning(t.items.c.id, sort_by_parameter_order=True)
    return list(conn.execute(query, rows).scalars())


def _insert_rows(conn: Connection, table: Table, rows: list[dict]) -> None:
    if rows:
        conn.execute(table.insert(), rows)


def _save_stories(conn: Connection, processed: Sequence[ProcessedItem], ids: Sequence[int], now: datetime) -> None:
    """Create or extend each item's story (topics and sources merged, items counted), one statement per kind."""
    wanted = list(dict.fromkeys(p.decision.story_id for p in processed))
    stored = {}
    for chunk in _chunks(wanted, 500):
        stored.update((row.id, row) for row in conn.execute(_STORIES, {"ids": chunk}))
    stories: dict[str, dict] = {}
    for p, item_id in zip(processed, ids, strict=True):
        sid, topics = p.decision.story_id, {m.topic for m in p.matches}
        story = stories.get(sid)
        if story is None and sid not in stored:
            related = p.decision.related if p.decision.action is StoryAction.RELATED else None
            stories[sid] = {"id": sid, "first_item_id": item_id, "title": p.item.title, "topics": topics,
                            "sources": [p.item.source], "item_count": 1, "created_at": now, "updated_at": now,
                            "related": related, "related_score": p.decision.score if related else None}
            continue
        if story is None:
            row = stored[sid]
            story = stories[sid] = {"p_id": sid, "topics": set(row.topics), "sources": list(row.sources),
                                    "item_count": row.item_count, "updated_at": now}
        story["topics"] |= topics
        story["sources"] += [p.item.source] if p.item.source not in story["sources"] else []
        story["item_count"] += 1
    for story in stories.values():
        story["topics"] = sorted(story["topics"])
    _insert_rows(conn, t.stories, [s for s in stories.values() if "id" in s])
    changed = [s for s in stories.values() if "p_id" in s]
    if changed:
        conn.execute(update(t.stories).where(t.stories.c.id == bindparam("p_id")), changed)


def _row_item(row) -> Item:
    return Item(
        key=row.key, title=row.title, summary=row.summary, url=row.url, source=row.source,
        published=row.published, guid=row.guid, feed_id=row.feed_id, content_hash=row.content_hash, id=row.id,
        body=row.body or "",
    )


def _chunks(seq: Sequence, size: int):
    for i in range(0, len(seq), size):
        yield seq[i : i + size]
