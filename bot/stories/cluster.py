"""Streaming story clustering: each item joins a story, starts one related to another, or starts
a new one, decided on arrival.

Three layers, cheapest first: exact identity (URL, GUID, normalized title) of a held item;
near-verbatim copies (shingle sketch overlap); rewrites (TF-IDF similarity to the story's profile
and to its closest item, names and numbers weighted up, discounted when the shared words look
like another event of the same kind, and as the time gap grows). The similarity and what
contradicts one event are weighed in decide.py. Only items sharing the new item's strongest terms
are read, through a capped inverted index, so the cost per item does not grow with the history.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from bot.config import SCHEMA, StorySettings
from bot.models import Item, StoryAction, StoryDecision
from bot.stories import decide, score, snapshot
from bot.stories.features import ItemFeatures, extract, title_only_key
from bot.stories.held import Member, Story
from bot.stories.window import Window

# A story whose closest member is this far below the lowest bar that counts is not rated: on the
# dev sets no story reached even 0.8 of that bar with its closest member below 0.68 of it.
RATED = 0.5
DF_TERMS = 64  # terms of an item counted in the document frequencies (a long text's first ones)


def default_settings(**overrides: object) -> StorySettings:
    """StorySettings with the documented defaults, some replaced."""
    values = {key: parse(default) for key, (parse, default) in SCHEMA["stories"].items()}
    return replace(StorySettings(**values), **overrides)


def story_id_for(item: Item) -> str:
    """A short stable id for the story an item starts."""
    return "s-" + hashlib.sha1(item.key.encode()).hexdigest()[:10]


def identities(item: Item, title_key: str) -> tuple[str, ...]:
    """Exact-identity keys: the same URL, GUID or normalized title is the same story."""
    keys = []
    if item.url:
        keys.append(f"url:{item.url}")
    if item.guid:
        keys.append(f"guid:{item.guid}")
    if title_key:
        keys.append(f"title:{title_key}")
    return tuple(keys)


def _same_as(held: Member, ident: str, when: float) -> StoryDecision:
    hours = abs(when - held.time) / 3600.0
    why = (f"same {ident.split(':', 1)[0]}", f"as {held.key}", f"{hours:.1f} h apart")
    return StoryDecision(held.story.id, StoryAction.JOIN, 1.0, why)


class StoryClusterer:
    """Decides the story of each item from the items of the last `window` seconds."""

    def __init__(self, settings: StorySettings) -> None:
        self.settings = settings
        self._window = Window(settings.window, settings.posting_cap)
        self._apart: set[frozenset[str]] = set()  # story pairs people said are different events

    def __len__(self) -> int:
        return len(self._window)

    def assign(self, item: Item, now: datetime | None = None) -> StoryDecision:
        """Start a story or join one; the same items in the same order give the same decisions.

        now is a run's clock: an item published more than the window before it is compared by
        identity only, as it is against the newest item held (a new feed's archive of old items
        costs no clustering). Replay and evaluation pass none: their streams are history."""
        when = item.published.timestamp()
        self._expire_at(max(self._window.newest, when))
        newest = self._window.newest if now is None else max(self._window.newest, now.timestamp())
        if when < newest - self.settings.window:
            return self._too_old(item, when)
        features = extract(item.title, item.body or item.summary)
        idents = identities(item, features.title_key)
        same = self._window.same_as(idents)
        if same is not None:
            self._hold(item, when, same[0].story, features, idents)
            return _same_as(*same, when)
        return self._by_words(item, when, features, idents)

    def _too_old(self, item: Item, when: float) -> StoryDecision:
        """An item older than the window is compared by identity only (a backfill's old items
        cost no feature extraction), and not held: the next expiry would drop it at once."""
        same = self._window.same_as(identities(item, title_only_key(item.title)))
        if same is not None:
            return _same_as(*same, when)
        return StoryDecision(story_id_for(item), StoryAction.NEW, 0.0, ("older than the window",))

    def _by_words(self, item: Item, when: float, features: ItemFeatures,
                  idents: tuple[str, ...]) -> StoryDecision:
        """Weigh the closest stories' evidence and decide: join, related or new (decide.py)."""
        s = self.settings
        names = self._names(features)
        vec = self._vector(features, names)
        probe = score.probe(vec, features, names, when)
        bar = score.join_bar(features.length, s.title_threshold, s.threshold)
        limits = decide.Thresholds(s.join_threshold, s.related_threshold)
        floor = min(limits.join, limits.related)
        rated = self._rated(probe, RATED * bar * floor, bar, decide.decisive(limits))
        weighed = decide.weigh(rated, probe, bar, floor)
        decision = decide.decide(weighed, probe, story_id_for(item), limits, self._apart)
        story = self._window.story(decision.story_id)
        self._hold(item, when, story, features, idents, names, vec)
        if decision.action is StoryAction.JOIN:
            return self._refold(decision, story, weighed)
        return decision

    def _refold(self, decision: StoryDecision, story: Story, weighed: list[decide.Weighed]) -> StoryDecision:
        """The story grew: fold the stories it now shows to be the same event into the earliest of
        them (decide.refold). Every one had alerted before this item, so no event is hidden."""
        found = decide.refold(story, weighed, self._apart)
        if not found:
            return decision
        group = [story, *(other for other, _ in found)]
        target = min(group, key=lambda st: (st.born, st.id))
        folded = tuple(st.id for st in group if st is not target)
        for sid in folded:
            self._window.move(sid, target.id)
        why = (*decision.why, *(reason for _, reason in found), f"folded {', '.join(folded)} into {target.id}")
        return replace(decision, story_id=target.id, folded=folded, why=why)

    def fold(self, story_id: str, into: str) -> None:
        """People said "same story": the held members of story_id now belong to `into`, and later
        items that match either join `into`."""
        self._window.move(story_id, into)
        self._apart.discard(frozenset((story_id, into)))

    def keep_apart(self, a: str, b: str) -> None:
        """People said "different story": an item nearly as close to both is torn between them
        (it could be either event) and is shown as related rather than joined."""
        if a != b:
            self._apart.add(frozenset((a, b)))

    def kept_apart(self, a: str, b: str) -> bool:
        return frozenset((a, b)) in self._apart

    def thresholds(self) -> tuple[float, float]:
        """The (join, related) confidences in force: where learning from judgements starts."""
        return self.settings.join_threshold, self.settings.related_threshold

    def set_thresholds(self, join: float, related: float) -> None:
        """Change the confidences to join and to be related (a deployment learning from people)."""
        if not 0.0 < related <= join:
            raise ValueError(f"thresholds need 0 < related <= join (got join {join}, related {related})")
        self.settings = replace(self.settings, join_threshold=join, related_threshold=related)

    def restore(self, members: Iterable[tuple[Item, str]], earlier: Iterable[tuple[Item, str]] = ()) -> None:
        """Rebuild the window from stored (item, story_id) pairs in time order; decides nothing.
        earlier: older stored items of these stories, whose evidence they keep (Story.recall)."""
        for item, story_id in members:
            when = item.published.timestamp()
            self._expire_at(max(self._window.newest, when))
            if when < self._window.newest - self.settings.window:
                continue
            features = extract(item.title, item.body or item.summary)
            story = self._window.story(story_id)
            self._hold(item, when, story, features, identities(item, features.title_key))
        stories = self._window.stories
        for item, story_id in earlier:
            if story_id in stories:
                f = extract(item.title, item.body or item.summary)
                stories[story_id].recall(item.published.timestamp(), f.actions, f.years, f.days)

    def save_window(self, path: Path, marker: snapshot.Marker) -> None:
        """Write the window as it is, for the next start (see snapshot.py)."""
        snapshot.save(path, self._window, self.settings, marker)

    def load_window(self, path: Path, marker: snapshot.Marker, now: datetime | None = None) -> str:
        """Take the window saved at path if it is current (expired to now, when given): "" when
        taken, else why not."""
        window, why = snapshot.load(path, self.settings, marker, None if now is None else now.timestamp())
        if window is not None and not isinstance(window, Window):
            window, why = None, "damaged: not a story window"
        if window is not None:
            self._window = window
        return why

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
        return score.vectorize(features.tf, names, self._window.idfs, s.name_weight, s.max_terms)

    def _rated(self, item: score.Probe, least: float, bar: float, decisive: float) -> list[score.Candidate]:
        """The closest story, and the others whose closest member reaches least, rated; but not
        those that can reach neither the decisive confidence nor the most confident one rated so
        far (they would change no decision, and rating is most of the cost per item)."""
        found = score.by_story(self._window.similar(item.vec, item.time), item)
        rated: list[score.Candidate] = []
        top = -math.inf
        for i, c in enumerate(found):
            if i and c.best < least:
                continue
            most = score.ceiling(c, self.settings) / bar
            if rated and most < decisive and most < top:
                continue
            rated.append(score.rate(c, item, self.settings))
            top = max(top, c.score / bar)
        return rated

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
                        features.heads, features.sketch, features.actions, features.years, features.days)
        self._window.hold(member, idents)
