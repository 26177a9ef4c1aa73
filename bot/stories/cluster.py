"""Streaming story clustering: each item starts a story or joins one, decided on arrival.

Three layers, cheapest first: exact identity (URL, GUID, normalized title) of a held item;
near-verbatim copies (shingle sketch overlap); rewrites (TF-IDF similarity to the story's profile
and to its closest item, names and numbers weighted up, discounted when the shared words look
like another event of the same kind, and as the time gap grows). Only items sharing the new
item's strongest terms are read, through a capped inverted index, so the cost per item does not
grow with the history.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from bot.config import SCHEMA, StorySettings
from bot.models import Item, StoryAction, StoryDecision
from bot.stories import score
from bot.stories.features import ItemFeatures, extract
from bot.stories.window import Member, Story, Window

DF_TERMS = 64  # terms of an item counted in the document frequencies (a long text's first ones)


def default_settings(**overrides: object) -> StorySettings:
    """StorySettings with the documented defaults, some replaced."""
    values = {key: parse(default) for key, (parse, default) in SCHEMA["stories"].items()}
    return replace(StorySettings(**values), **overrides)


def story_id_for(item: Item) -> str:
    """A short stable id for the story an item starts."""
    return "s-" + hashlib.sha1(item.key.encode()).hexdigest()[:10]


def identities(item: Item, features: ItemFeatures) -> tuple[str, ...]:
    """Exact-identity keys: the same URL, GUID or normalized title is the same story."""
    keys = []
    if item.url:
        keys.append(f"url:{item.url}")
    if item.guid:
        keys.append(f"guid:{item.guid}")
    if features.title_key:
        keys.append(f"title:{features.title_key}")
    return tuple(keys)


class StoryClusterer:
    """Decides the story of each item from the items of the last `window` seconds."""

    def __init__(self, settings: StorySettings) -> None:
        self.settings = settings
        self._window = Window(settings.window, settings.posting_cap)
        self._bars: tuple[float, float] | None = None  # (join, related) set by set_thresholds
        self._apart: set[frozenset[str]] = set()  # story pairs people judged different

    def __len__(self) -> int:
        return len(self._window)

    def assign(self, item: Item) -> StoryDecision:
        """Start a story or join one; the same items in the same order give the same decisions."""
        when = item.published.timestamp()
        self._expire_at(max(self._window.newest, when))
        features = extract(item.title, item.summary)
        idents = identities(item, features)
        same = self._window.same_as(idents)
        if same is not None:
            held, ident = same
            hours = abs(when - held.time) / 3600.0
            why = (f"same {ident.split(':', 1)[0]}", f"as {held.key}", f"{hours:.1f} h apart")
            self._hold(item, when, held.story, features, idents)
            return StoryDecision(held.story.id, StoryAction.JOIN, 1.0, why)
        if when < self._window.newest - self.settings.window:
            why = ("older than the window",)
            return StoryDecision(story_id_for(item), StoryAction.NEW, 0.0, why)
        return self._by_words(item, when, features, idents)

    def _by_words(self, item: Item, when: float, features: ItemFeatures,
                  idents: tuple[str, ...]) -> StoryDecision:
        """Join the closest story if it clears the bar for the item's length, else start one."""
        s = self.settings
        names = self._names(features)
        vec = self._vector(features, names)
        best = self._closest(score.probe(vec, features, names, when))
        bar = self._bars[0] if self._bars else score.join_bar(features.length, s.title_threshold, s.threshold)
        if best is not None and best.score >= bar:
            story = best.story
            why = score.explain(best, vec)
            decision = StoryDecision(story.id, StoryAction.JOIN, round(best.score, 4), why)
        elif self._bars and best is not None and best.score >= self._bars[1]:
            why = (f"related to {best.story.id}: {best.kind} {best.score:.2f} < {bar:.2f}",)
            decision = StoryDecision(story_id_for(item), StoryAction.RELATED, round(best.score, 4), why,
                                     related=best.story.id)
            story = self._window.story(decision.story_id)
        else:
            decision = self._new(item, best, bar)
            story = self._window.story(decision.story_id)
        self._hold(item, when, story, features, idents, names, vec)
        return decision

    def restore(self, members: Iterable[tuple[Item, str]]) -> None:
        """Rebuild the window from stored (item, story_id) pairs in time order; decides nothing."""
        for item, story_id in members:
            when = item.published.timestamp()
            self._expire_at(max(self._window.newest, when))
            if when < self._window.newest - self.settings.window:
                continue
            features = extract(item.title, item.summary)
            story = self._window.story(story_id)
            self._hold(item, when, story, features, identities(item, features))

    def expire(self, now: datetime) -> None:
        """Forget items older than the window before now."""
        self._expire_at(now.timestamp())

    def _expire_at(self, now: float) -> None:
        self._window.expire(now - self.settings.window)

    def _names(self, features: ItemFeatures) -> frozenset[str]:
        """Names by the item's own writing, or where its case says nothing, by the window's."""
        w = self._window
        return features.names | {t for t in features.tf if t not in features.plain and w.is_name(t)}

    def _vector(self, features: ItemFeatures, names: frozenset[str]) -> dict[str, float]:
        s = self.settings
        return score.vectorize(features.tf, names, self._window.idf, s.name_weight, s.max_terms)

    def _closest(self, item: score.Probe) -> score.Candidate | None:
        similar = self._window.similar(item.vec, item.time)
        rated = [score.rate(c, item, self.settings) for c in score.by_story(similar, item)]
        return max(rated, key=lambda c: (c.score, c.story.id), default=None)

    def _new(self, item: Item, closest: score.Candidate | None, bar: float) -> StoryDecision:
        if closest is None:
            why = ("no story shares a strong term",)
            return StoryDecision(story_id_for(item), StoryAction.NEW, 0.0, why)
        near = f"closest {closest.story.id}: {closest.kind} {closest.score:.2f} < {bar:.2f}"
        why = (near, closest.doubt) if closest.doubt else (near,)
        return StoryDecision(story_id_for(item), StoryAction.NEW, round(closest.score, 4), why)

    def _hold(self, item: Item, when: float, story: Story, features: ItemFeatures,
              idents: tuple[str, ...], names: frozenset[str] | None = None,
              vec: dict[str, float] | None = None) -> None:
        if names is None:
            names = self._names(features)
        if vec is None:
            vec = self._vector(features, names)
        extra = [t for t in features.tf if t not in vec][: max(0, DF_TERMS - len(vec))]
        leads = score.lead_names(vec, names)
        member = Member(item.key, when, story, vec, extra, features.names, features.plain, leads,
                        features.heads, features.sketch)
        self._window.hold(member, idents)

    # ---- what people judged (minimal: the stories branch owns the full version) ----------------

    def thresholds(self) -> tuple[float, float] | None:
        """The (join, related) bars set by set_thresholds; None: the configured length-scaled
        join bar and no related band."""
        return self._bars

    def set_thresholds(self, join: float, related: float) -> None:
        """From now on an item joins its closest story at score >= join and is RELATED to it at
        related <= score < join."""
        if not 0.0 < related <= join <= 1.0:
            raise ValueError(f"thresholds must satisfy 0 < related <= join <= 1, got {join}, {related}")
        self._bars = (join, related)

    def keep_apart(self, a: str, b: str) -> None:
        """People judged stories a and b different events: they are never folded together."""
        self._apart.add(frozenset((a, b)))

    def kept_apart(self, a: str, b: str) -> bool:
        return frozenset((a, b)) in self._apart

    def fold(self, story_id: str, into: str) -> None:
        """People judged story_id the same event as `into`: its held items become members of
        `into`, so later items compare with the whole story (a rare, human-paced action: it reads
        the window once)."""
        if self.kept_apart(story_id, into):
            raise ValueError(f"stories {story_id} and {into} were judged different events")
        window = self._window
        source = window.stories.pop(story_id, None) if story_id != into else None
        if source is None:
            return
        target = window.story(into)
        for member in [m for m in window._heap if m.alive and m.story is source]:
            source.change(member, -1)
            member.story = target
            target.change(member, 1)
