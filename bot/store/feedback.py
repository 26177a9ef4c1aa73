"""Feedback and explanations: labelled examples from feedback buttons, and why an item was
alerted (its matches and its story, for /why).

Functions take the Store; every multi-row change is one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, select, update

from bot.match.texts import item_text
from bot.store import schema as t
from bot.store.db import Store


def save_labels(store: Store, item_id: int, topics: Iterable[str], label: int, user_id: int,
                now: datetime, origin: str = "button") -> None:
    """One labelled example per topic (a later press by the same user replaces the earlier)."""
    with store.engine.begin() as conn:
        item = conn.execute(select(t.items.c.title, t.items.c.summary, t.items.c.body)
                            .where(t.items.c.id == item_id)).first()
        text = item_text(item.title, item.summary, item.body) if item else ""
        for topic in topics:
            key = and_(t.labels.c.topic == topic, t.labels.c.item_id == item_id, t.labels.c.user_id == user_id)
            values = {"label": label, "text": text, "origin": origin, "created_at": now}
            if conn.execute(update(t.labels).where(key).values(**values)).rowcount == 0:
                conn.execute(t.labels.insert().values(topic=topic, item_id=item_id, user_id=user_id, **values))


@dataclass(frozen=True)
class Explanation:
    """Why an item was alerted: its matches and its story."""

    title: str
    source: str
    matches: tuple[tuple[str, float, tuple[str, ...]], ...]  # (topic, score, why)
    story_id: str | None
    story_title: str | None
    story_sources: tuple[str, ...]
    story_items: int
    members: tuple[tuple[str, str], ...] = ()  # (headline, source) of every item of the story, oldest first


def explain_item(store: Store, item_id: int) -> Explanation | None:
    with store.engine.connect() as conn:
        item = conn.execute(select(t.items).where(t.items.c.id == item_id)).first()
        if item is None:
            return None
        found = conn.execute(select(t.matches).where(t.matches.c.item_id == item_id).order_by(t.matches.c.topic)).all()
        story = conn.execute(select(t.stories).where(t.stories.c.id == item.story_id)).first()
    members = store.story_view(item.story_id).members if item.story_id else ()
    return Explanation(
        item.title, item.source, tuple((m.topic, m.score, tuple(m.why)) for m in found), item.story_id,
        story.title if story else None, tuple(story.sources) if story else (), story.item_count if story else 0,
        tuple((m.title, m.source) for m in members),
    )
