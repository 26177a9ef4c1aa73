"""Stories as read back: the targets a story alerted, its sources, its headline and members, and
the clusterer's window of recent items.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from operator import itemgetter

from sqlalchemy import bindparam, func, literal, null, select, union_all
from sqlalchemy.engine import Engine

from bot.models import Item
from bot.store import schema as t
from bot.store.items import _chunks, _row_item
from bot.store.rows import StoryMember, StoryRecord


class StoriesMixin:
    """Store methods reading stories."""

    engine: Engine

    def alerted_targets(self, story_id: str) -> set[str]:
        """Targets that already got (or are queued) the first alert of this story."""
        with self.engine.connect() as conn:
            return set(conn.execute(_ALERTED, {"sid": story_id}).scalars())

    def story_sources(self, story_id: str) -> list[str]:
        with self.engine.connect() as conn:
            row = conn.execute(_SOURCES, {"sid": story_id}).scalar()
        return list(row or [])

    def story_view(self, story_id: str) -> StoryRecord:
        """Headline, alerted targets, sources and members of a stored story (empty if none)."""
        return self.story_records([story_id]).get(story_id, StoryRecord())

    def story_records(self, story_ids: Iterable[str]) -> dict[str, StoryRecord]:
        """story_view of many stories, one round trip per 500 (a cycle's batch asks once)."""
        rows: dict[str, list] = {}
        with self.engine.connect() as conn:
            for chunk in _chunks(list(dict.fromkeys(story_ids)), 500):
                for r in conn.execute(_RECORDS, {"sids": chunk}):
                    rows.setdefault(r[0], []).append(r)
        return {sid: _record(found) for sid, found in rows.items() if any(r[1] == 0 for r in found)}

    def window_marker(self) -> tuple[int, int]:
        """(newest item id, pair judgements stored): what a saved story window must still match."""
        with self.engine.connect() as conn:
            newest = conn.execute(select(func.max(t.items.c.id))).scalar()
            judged = conn.execute(select(func.max(t.story_judgements.c.id))).scalar()
        return newest or 0, judged or 0

    def items_before(self, since: datetime) -> Iterator[tuple[Item, str]]:
        """Stored items before `since` of the stories that have items since, oldest first, with
        their story: what a window rebuilt from `since` no longer holds but the run's stories
        remember (held.Story.recall). Summary and body are cut to their first 2,000 characters
        (the evidence is read in the lead); yielded one at a time, as there can be many."""
        items = t.items.c
        begun = (select(items.story_id).where(items.story_id.in_(select(items.story_id).where(items.published >= since)))
                 .group_by(items.story_id).having(func.min(items.published) < since))
        lead = [func.substr(items.summary, 1, LEAD_CHARS).label("summary"), func.substr(items.body, 1, LEAD_CHARS).label("body")]
        query = (select(*(c for c in t.items.c if c.name not in ("summary", "body")), *lead)
                 .where(items.story_id.in_(begun), items.published < since).order_by(items.published, items.id))
        with self.engine.connect() as conn:
            for row in conn.execute(query):
                yield _row_item(row), row.story_id

    def items_since(self, since: datetime) -> list[tuple[Item, str]]:
        """Stored items published since `since`, oldest first, with their story: the clusterer's window."""
        query = select(t.items).where(t.items.c.published >= since).order_by(t.items.c.published, t.items.c.id)
        with self.engine.connect() as conn:
            return [(_row_item(row), row.story_id) for row in conn.execute(query)]


LEAD_CHARS = 2000  # of a summary or body that items_before reads: the lead's evidence, not the article

# Built once: building a statement costs more than running it.
_ALERTED = select(t.outbox.c.target).where(t.outbox.c.story_id == bindparam("sid"), t.outbox.c.kind == "alert")
_SOURCES = select(t.stories.c.sources).where(t.stories.c.id == bindparam("sid"))
_RECORDS = union_all(  # per story: its row once per alert target (ord 0), and its items (ord = item id);
    # sorted in Python: an ORDER BY over the union costs the database a temporary sort (~30% more)
    select(t.stories.c.id, literal(0).label("ord"), t.stories.c.title, t.stories.c.sources, t.outbox.c.target,
           null().label("source"), null().label("item_title"), null().label("url"))
    .select_from(t.stories.outerjoin(t.outbox, (t.outbox.c.story_id == t.stories.c.id) & (t.outbox.c.kind == "alert")))
    .where(t.stories.c.id.in_(bindparam("sids", expanding=True))),
    select(t.items.c.story_id, t.items.c.id, null(), null(), null(), t.items.c.source, t.items.c.title, t.items.c.url)
    .where(t.items.c.story_id.in_(bindparam("sids", expanding=True))),
)


def _record(rows: list) -> StoryRecord:
    head = [r for r in rows if r[1] == 0]  # by position: cheaper than by name, per row
    members = sorted((r for r in rows if r[1]), key=itemgetter(1))
    return StoryRecord(
        head[0][2] or "", frozenset(r[4] for r in head if r[4] is not None), tuple(head[0][3] or ()),
        tuple(StoryMember(r[5], r[6], r[7]) for r in members),
    )
