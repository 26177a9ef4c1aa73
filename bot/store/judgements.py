"""Data access for people's story judgements: the pair a related alert asked about, the stored
answers, and a fold (one story's items moved into another) written in one transaction.

Functions take the Store, like bot/store/chats.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update

from bot.models import Item, Match
from bot.store import schema as t
from bot.store.db import Store
from bot.store.items import _row_item
from bot.store.rows import Delivery


@dataclass(frozen=True)
class Judgement:
    story_id: str  # the later story
    other_id: str  # the earlier story it was shown beside
    score: float | None
    verdict: str  # same | different
    chat_id: int | None = None
    user_id: int | None = None


def related_pair(store: Store, story_id: str) -> tuple[str, float | None] | None:
    """(earlier story, score) the clusterer judged this story possibly the same as, or None."""
    query = select(t.stories.c.related, t.stories.c.related_score).where(t.stories.c.id == story_id)
    with store.engine.connect() as conn:
        row = conn.execute(query).first()
    return (row.related, row.related_score) if row and row.related else None


def judgements(store: Store) -> list[Judgement]:
    """Every stored answer, oldest first."""
    j = t.story_judgements.c
    query = select(j.story_id, j.other_id, j.score, j.verdict, j.chat_id, j.user_id).order_by(j.id)
    with store.engine.connect() as conn:
        return [Judgement(*row) for row in conn.execute(query)]


def settled(store: Store, story_id: str, other_id: str) -> str | None:
    """The first verdict given on this pair (the one acted on), or None."""
    j = t.story_judgements.c
    query = select(j.verdict).where(j.story_id == story_id, j.other_id == other_id).order_by(j.id).limit(1)
    with store.engine.connect() as conn:
        return conn.execute(query).scalar()


def first_item(store: Store, story_id: str) -> tuple[Item, list[Match]] | None:
    """A story's oldest stored item with its matches (what a fold adds to the other story)."""
    with store.engine.connect() as conn:
        row = conn.execute(select(t.items).where(t.items.c.story_id == story_id).order_by(t.items.c.id).limit(1)).first()
        if row is None:
            return None
        found = conn.execute(select(t.matches).where(t.matches.c.item_id == row.id).order_by(t.matches.c.topic)).all()
    return _row_item(row), [Match(m.topic, m.score, tuple(m.why)) for m in found]


def save_judgement(store: Store, judged: Judgement, now: datetime, *, fold: bool = False,
                   fold_item: int | None = None, deliveries: Sequence[Delivery] = ()) -> None:
    """Store an answer; with fold, also move the story into the other one (its items, sources,
    topics and count) and queue `deliveries` (edits of the other story's alerts, for the item
    fold_item), all in one transaction."""
    with store.engine.begin() as conn:
        conn.execute(t.story_judgements.insert().values(
            story_id=judged.story_id, other_id=judged.other_id, score=judged.score, verdict=judged.verdict,
            chat_id=judged.chat_id, user_id=judged.user_id, created_at=now))
        if not fold:
            return
        _merge_story_rows(conn, judged.story_id, judged.other_id, now)
        conn.execute(update(t.items).where(t.items.c.story_id == judged.story_id).values(story_id=judged.other_id))
        if deliveries and fold_item is not None:
            conn.execute(t.outbox.insert(), [
                {"target": d.target, "story_id": judged.other_id, "item_id": fold_item, "kind": d.kind,
                 "payload": d.payload, "status": "pending", "attempts": 0, "created_at": now, "next_attempt_at": now}
                for d in deliveries])


def fold_stories(store: Store, folds: Sequence[tuple[str, str]], now: datetime) -> None:
    """Late folds found by the clusterer, (story, into) in the order found: each story's items,
    sources, topics and count move into the other, in one transaction (a restart that rebuilds
    the window from the store then finds them together, as the clusterer had them)."""
    if not folds:
        return
    with store.engine.begin() as conn:
        for story_id, into in folds:
            _merge_story_rows(conn, story_id, into, now)
            conn.execute(update(t.items).where(t.items.c.story_id == story_id).values(story_id=into))


def _merge_story_rows(conn, story_id: str, into: str, now: datetime) -> None:
    rows = {r.id: r for r in conn.execute(select(t.stories).where(t.stories.c.id.in_((story_id, into))))}
    if story_id not in rows or into not in rows:
        return
    a, b = rows[story_id], rows[into]
    conn.execute(update(t.stories).where(t.stories.c.id == into).values(
        topics=sorted(set(b.topics) | set(a.topics)),
        sources=list(dict.fromkeys((*b.sources, *a.sources))),
        item_count=b.item_count + a.item_count, updated_at=now))
    conn.execute(update(t.stories).where(t.stories.c.id == story_id).values(item_count=0, updated_at=now))
