"""The classifier's reads and writes in the store: labels, and recent items to label weakly.

Feedback buttons write labels through bot.store.chats.save_labels (origin 'button'); labelled
files come in through add_file_labels (origin 'file'). Both store the text as title, newline,
summary, so a label outlives the item it was given on.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select, update

from bot.match.texts import LabelRow, PoolItem, item_text
from bot.store import schema as t
from bot.store.db import Store


def read_labels(store: Store) -> list[LabelRow]:
    """Every stored label with text, oldest first (so a later label of the same text wins)."""
    c = t.labels.c
    query = select(c.topic, c.text, c.label, c.origin, c.user_id, c.item_id).where(c.text != "").order_by(c.id)
    with store.engine.connect() as conn:
        rows = conn.execute(query).all()
    # "title\n" (an item without summary) and "title" are one text
    return [LabelRow(r.topic, r.text.rstrip(), int(r.label), r.origin, r.user_id, r.item_id) for r in rows]


def label_times(store: Store) -> dict[str, list[datetime]]:
    """When each topic's labels were given: the retrainer counts the ones newer than a model."""
    query = select(t.labels.c.topic, t.labels.c.created_at)
    out: dict[str, list[datetime]] = {}
    with store.engine.connect() as conn:
        for topic, created in conn.execute(query):
            out.setdefault(topic, []).append(created)
    return out


def add_file_labels(store: Store, rows: Iterable[LabelRow], now: datetime) -> tuple[int, int]:
    """Store labels from a file: (added, changed). The same topic and text is stored once."""
    added = changed = 0
    c = t.labels.c
    with store.engine.begin() as conn:
        known = {(r.topic, r.text): (r.id, r.label) for r in conn.execute(
            select(c.id, c.topic, c.text, c.label).where(c.origin == "file"))}
        for row in rows:
            old = known.get((row.topic, row.text))
            if old is None:
                new_id = conn.execute(t.labels.insert().values(
                    topic=row.topic, text=row.text, label=row.label, origin="file", created_at=now,
                )).inserted_primary_key[0]
                known[(row.topic, row.text)] = (new_id, row.label)
                added += 1
            elif old[1] != row.label:
                known[(row.topic, row.text)] = (old[0], row.label)
                conn.execute(update(t.labels).where(c.id == old[0]).values(label=row.label, created_at=now))
                changed += 1
    return added, changed


def recent_items(store: Store, limit: int) -> list[PoolItem]:
    """The newest stored items, as texts the rules can label weakly."""
    c = t.items.c
    query = select(c.title, c.summary, c.source, c.body).order_by(c.id.desc()).limit(limit)
    with store.engine.connect() as conn:
        return [PoolItem(item_text(r.title, r.summary, r.body), r.source, r.body) for r in conn.execute(query)]
