"""Background retraining: which topics are due, training in a worker thread, saving, swapping in.

A topic with a [classifier] section is due when it has no usable model (none yet, or one saved
by another scikit-learn), when its model is older than `classifier.retrain_every`, or when it
got `classifier.min_new_labels` labels since. Reading the store, fitting and saving all run in a
worker thread (asyncio.to_thread), so polling goes on; the finished models are swapped into the
matcher in use at that moment in one assignment.

Topics share one feature space so that an item is featurized once for all of them: when a model
is due by schedule (or none exists), every topic is retrained in a new space learned from the
current items; a topic due for new labels alone is refitted in the space already in use.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config import ClassifierSettings
from bot.match.decide import TopicMatcher
from bot.match.labels import label_times, read_labels, recent_items
from bot.match.rules import Topic
from bot.store.db import Store

# numpy and scikit-learn are imported where a model is loaded or trained: a run whose topics have
# no model on disk never pays for them at start-up.
if TYPE_CHECKING:
    from bot.match.classifier import TopicModel
    from bot.match.features import FeatureSpace
    from bot.match.training import TrainResult

log = logging.getLogger(__name__)


NOT_TRAINED = "no model trained yet"  # what modelfile.load_model says of a topic without a manifest


def models_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "models"


def load_matcher(topics: Mapping[str, Topic], data_dir: Path) -> TopicMatcher:
    """A TopicMatcher with every saved model that may be used (others are noted, then retrained)."""
    learners = [t.id for t in topics.values() if t.classifier is not None]
    directory = models_dir(data_dir)
    if not any((directory / "topics" / f"{t}.json").exists() for t in learners):
        return TopicMatcher(topics.values(), {}, dict.fromkeys(learners, NOT_TRAINED))
    from bot.match.modelfile import load_models

    models, notes = load_models(directory, learners)
    return TopicMatcher(topics.values(), models, notes)


class Retrainer:
    """Decides when topics are due and retrains them without blocking the event loop."""

    def __init__(self, store: Store, data_dir: Path, settings: ClassifierSettings, clock: Callable[[], datetime]):
        self.store, self.dir, self.settings, self.clock = store, models_dir(data_dir), settings, clock
        self._attempted: dict[str, datetime] = {}  # last training attempt per topic, this process
        self._running = False

    def due(self, matcher: TopicMatcher, now: datetime) -> list[Topic]:
        """The topics to retrain now (reads label times from the store)."""
        times = label_times(self.store)
        out = []
        for topic in matcher.topics:
            if topic.classifier is None:
                continue
            since = self._since(matcher, topic)
            fresh = sum(1 for t in times.get(topic.id, ()) if since is None or t > since)
            if since is None or now - since >= timedelta(seconds=self.settings.retrain_every) \
                    or fresh >= self.settings.min_new_labels:
                out.append(topic)
        return out

    def run(self, topics: list[Topic], current: Mapping[str, TopicModel], space: FeatureSpace | None = None) -> TrainResult:
        """Train these topics now, save what passed, and return it (blocking: call from a thread)."""
        from bot.match.modelfile import remove_unused_spaces, save_model
        from bot.match.training import train

        now = self.clock()
        labels = read_labels(self.store)
        pool = recent_items(self.store, self.settings.weak_items)
        result = train(topics, labels, pool, current, now.isoformat(), space)
        for model in result.models.values():
            save_model(self.dir, model)
        remove_unused_spaces(self.dir)
        for topic in topics:
            self._attempted[topic.id] = now
        return result

    def plan(self, matcher: TopicMatcher, due: list[Topic], force: bool) -> tuple[list[Topic], FeatureSpace | None]:
        """(topics to train, space to train them in): all in a new space, or the due ones in the current one."""
        learners = [t for t in matcher.topics if t.classifier]
        space = shared_space(matcher.models.values())
        stale = [t for t in due if not self._label_triggered(matcher, t)]
        if force or stale or space is None:
            return learners, None
        return due, space

    def _label_triggered(self, matcher: TopicMatcher, topic: Topic) -> bool:
        """Due for new labels only: trained (or tried) less than retrain_every ago."""
        since = self._since(matcher, topic)
        return since is not None and self.clock() - since < timedelta(seconds=self.settings.retrain_every)

    def _since(self, matcher: TopicMatcher, topic: Topic) -> datetime | None:
        """When the topic was last trained, or tried to be in this process."""
        model = matcher.models.get(topic.id)
        return max(filter(None, (_trained_at(model), self._attempted.get(topic.id))), default=None)

    async def maybe_retrain(self, matcher_now: Callable[[], TopicMatcher], force: bool = False) -> TrainResult | None:
        """If any topic is due (or force), retrain in a worker thread and swap the models in."""
        if self._running:
            return None
        self._running = True
        try:
            matcher = matcher_now()
            todo = [] if force else await asyncio.to_thread(self.due, matcher, self.clock())
            if not todo and not force:
                return None
            todo, space = self.plan(matcher, todo, force)
            result = await asyncio.to_thread(self.run, todo, matcher.models, space)
            live = matcher_now()  # a hot reload may have replaced the matcher meanwhile
            live.install({**live.models, **result.models}, {**live.notes, **result.notes})
            for topic, note in sorted(result.notes.items()):
                log.info("classifier %s: %s", topic, note)
            return result
        finally:
            self._running = False


def shared_space(models: Iterable[TopicModel]) -> FeatureSpace | None:
    """The space most models use (None without models)."""
    models = list(models)
    counts = Counter(m.space.id for m in models)
    if not counts:
        return None
    best = counts.most_common(1)[0][0]
    return next(m.space for m in models if m.space.id == best)


def _trained_at(model: TopicModel | None) -> datetime | None:
    if model is None:
        return None
    try:
        return datetime.fromisoformat(model.info.trained_at)
    except ValueError:
        return None
