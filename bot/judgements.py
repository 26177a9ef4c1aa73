"""People's answers under related alerts, acted on: "same story" folds the later story into the
earlier one (the earlier alerts are edited to add its source), "different story" keeps the two
apart; every answer is stored, and the stored answers set the story thresholds of this
deployment (bot/stories/learn.py says how), at start-up and after each answer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.alerts.outbox import Route, StoryView, plan_deliveries
from bot.store import judgements as db
from bot.store.db import Store
from bot.stories.cluster import StoryClusterer
from bot.stories.learn import learn_thresholds

log = logging.getLogger(__name__)
SAME, DIFFERENT = "same", "different"


@dataclass(frozen=True)
class Outcome:
    """What an answer did: folded | kept apart | already folded | already kept apart | unknown."""

    status: str
    other_id: str | None = None


def one_per_person(judgements: list[db.Judgement]) -> list[db.Judgement]:
    """Each person's first answer on each pair: pressing a button eight times is one answer, and
    one person must not move the deployment's thresholds alone. (Every press is still stored.)"""
    first: dict[tuple, db.Judgement] = {}
    for j in judgements:
        who = j.user_id if j.user_id is not None else ("chat", j.chat_id)
        first.setdefault((j.story_id, j.other_id, who), j)
    return list(first.values())


class StoryJudge:
    def __init__(self, store: Store, clusterer: StoryClusterer, clock: Callable[[], datetime]):
        self.store, self.clusterer, self.clock = store, clusterer, clock
        self.base = clusterer.thresholds()  # as configured: learning always starts from these

    def restore(self) -> None:
        """After a restart: pairs judged different stay apart; thresholds learned again. (Folds
        need nothing: the folded items are stored under the story they joined.)"""
        first: dict[tuple[str, str], str] = {}
        for j in db.judgements(self.store):
            first.setdefault((j.story_id, j.other_id), j.verdict)  # the answer that was acted on
        for (story_id, other), verdict in first.items():
            if verdict == DIFFERENT:
                self.clusterer.keep_apart(story_id, other)
        self.learn()

    def learn(self) -> tuple[float, float] | None:
        """Set the clusterer's thresholds from the configured ones and every stored answer."""
        if self.base is None:
            return None  # the clusterer has no related band to tune
        judged = [(j.score, j.verdict) for j in one_per_person(db.judgements(self.store))]
        bars = learn_thresholds(*self.base, judged)
        if bars != self.clusterer.thresholds():
            log.info("story thresholds from %d judgements: join %.3f, related %.3f", len(judged), *bars)
        self.clusterer.set_thresholds(*bars)
        return bars

    def judge(self, story_id: str, verdict: str, *, chat_id: int | None, user_id: int | None) -> Outcome:
        """Store one answer about a related story and act on it (the first answer on a pair acts)."""
        pair = db.related_pair(self.store, story_id)
        if pair is None or verdict not in (SAME, DIFFERENT):
            return Outcome("unknown")
        other, score = pair
        before = db.settled(self.store, story_id, other)
        judged = db.Judgement(story_id, other, score, verdict, chat_id, user_id)
        if before is not None:
            db.save_judgement(self.store, judged, self.clock())  # kept for learning; acted on already
            self.learn()
            return Outcome("already folded" if before == SAME else "already kept apart", other)
        if verdict == SAME:
            self._fold(judged)
        else:
            db.save_judgement(self.store, judged, self.clock())
            self.clusterer.keep_apart(story_id, other)
        self.learn()
        return Outcome("folded" if verdict == SAME else "kept apart", other)

    def _fold(self, judged: db.Judgement) -> None:
        """Move the story into the earlier one, store and queue the earlier alerts' edits at once."""
        first = db.first_item(self.store, judged.story_id)
        deliveries, item_id = [], None
        if first is not None:
            item, found = first
            item_id = item.id
            found_view = self.store.story_view(judged.other_id)
            view = StoryView(found_view.alerted, found_view.sources, found_view.title,
                             tuple((m.source, m.url) for m in found_view.members))
            routes = [Route(target, chat_id=_chat_of(target)) for target in sorted(view.alerted)]
            deliveries = [d for d in plan_deliveries(item, found, judged.other_id, view, routes) if d.kind == "update"]
        db.save_judgement(self.store, judged, self.clock(), fold=True, fold_item=item_id, deliveries=deliveries)
        self.clusterer.fold(judged.story_id, judged.other_id)


def _chat_of(target: str) -> int | None:
    return int(target[3:]) if target.startswith("tg:") else None
