"""The clusterer's memory: items of the last `window` seconds, their stories, and the indexes.

Everything here is bounded by the window: document frequencies count only held items, postings
keep at most `posting_cap` recent items per term, and an item leaves every table when it expires.
Items are stored compactly (held.py: terms as interned strings, weights in arrays; identity keys
as hashes here) because the window may hold 100,000 of them. Nothing is decided here.
"""

from __future__ import annotations

import hashlib
import heapq
import math
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache
from operator import itemgetter

from bot.stories.held import Member, Story, count

__all__ = ["Member", "Story", "Window", "identity_hash"]  # Member and Story live in held.py

IDF_PRIOR = 20.0  # pseudo-documents: with an empty window every word counts as fairly rare
TERM_SCAN = 20  # newest postings read per term ...
SCAN_BUDGET = 200  # ... and in all, strongest terms first: the per-item cost cap
MAX_MEMBERS = 16  # items compared in full with a new one
_UNSAVED = ("changes", "changes_since", "changes_cap")  # what changed since the window was saved


class Window:
    """Held items, document frequencies, name evidence, a capped inverted index, identity keys."""

    def __init__(self, span: float, posting_cap: int):
        self.span, self.posting_cap = span, posting_cap
        self.df: dict[str, int] = {}
        self.name_df: dict[str, int] = {}  # held items that write the term like a name
        self.plain_df: dict[str, int] = {}  # held items that write it in lower case
        self.postings: dict[str, list[Member]] = {}  # oldest first
        self.identity: dict[int, Member] = {}  # hash of an identity key -> newest holder
        self.stories: dict[str, Story] = {}
        self.newest = -math.inf
        self._heap: list[Member] = []
        self._seq = 0
        self._identity_floor = 0  # identity keys kept at the last sweep
        # What changed since the window was last written whole, as replayable steps (snapshot.py
        # writes these instead of the whole window); None: not recorded, the next save is whole.
        self.changes: list[tuple] | None = None
        self.changes_since: dict | None = None  # the marker of the whole window they follow
        self.changes_cap = 0  # past this many, recording stops (a long run): the next save is whole

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k not in _UNSAVED}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.changes = self.changes_since = None
        self.changes_cap = 0

    def record(self, changes: list[tuple], since: dict, cap: int) -> None:
        """Record changes from here on, after these, following the whole window saved at since."""
        self.changes, self.changes_since, self.changes_cap = changes, since, cap

    def __len__(self) -> int:
        return len(self._heap)

    def idfs(self, terms: Iterable[str]) -> list[float]:
        """Smoothed IDF over held items of each term (an unseen term counts as rare), in one call:
        a new item asks for its every term."""
        held, df = len(self._heap) + IDF_PRIOR, self.df.get
        return [math.log(held / (df(t, 0) + 1.0)) for t in terms]

    def is_name(self, term: str) -> bool:
        """Do held items write this term like a name more often than in lower case?"""
        return self.name_df.get(term, 0) > self.plain_df.get(term, 0)

    def same_as(self, identities: tuple[str, ...]) -> tuple[Member, str] | None:
        """The held item with one of these identity keys, and the key."""
        for ident in identities:
            held = self.identity.get(identity_hash(ident))
            if held is not None and held.alive:
                return held, ident
        return None

    def story(self, story_id: str) -> Story:
        """The held story with this id, created when new."""
        found = self.stories.get(story_id)
        if found is None:
            found = self.stories[story_id] = Story(story_id)
        return found

    def hold(self, member: Member, identities: tuple[str, ...]) -> None:
        """Count a new item's terms, index its vector, add it to its story."""
        member.seq, self._seq = self._seq, self._seq + 1
        heapq.heappush(self._heap, member)
        self.newest = max(self.newest, member.time)
        count(self.df, member.terms, 1)
        count(self.name_df, member.marked(member.named), 1)
        count(self.plain_df, member.marked(member.plain), 1)
        for t, _ in member.vector():
            postings = self.postings.get(t)
            if postings is None:
                self.postings[t] = [member]
            else:
                postings.append(member)
                if len(postings) > self.posting_cap:
                    del postings[0]
        for ident in identities:
            self.identity[identity_hash(ident)] = member
        member.story.change(member, 1)
        if self.changes is not None:  # the member as held, its story by id (the object may move on)
            state = member.__getstate__()
            self._changed(("hold", (*state[:3], member.story.id, *state[4:]), identities))

    def move(self, story_id: str, into: str) -> int:
        """Move every held member of one story into another (people said they are one story, or a
        late fold found it); how many moved."""
        if self.changes is not None:
            self._changed(("move", story_id, into))
        source = self.stories.pop(story_id, None)
        if source is None or story_id == into:
            if source is not None:
                self.stories[story_id] = source
            return 0
        target = self.story(into)
        moved = source.held()
        for member in sorted(moved):
            source.change(member, -1)
            member.story = target
            target.change(member, 1)
        target.absorb(source)  # the store moves its expired items too: a rebuild recalls them
        return len(moved)

    def expire(self, cutoff: float) -> None:
        """Forget every item older than cutoff, and stories left with no items."""
        changed = bool(self._heap) and self._heap[0].time < cutoff
        while self._heap and self._heap[0].time < cutoff:
            self._drop(heapq.heappop(self._heap))
        # Expired holders linger until the table grows by half since its last sweep: a sweep costs
        # the table's size, so this keeps it O(1) per item and the table within 1.5x the live keys.
        if len(self.identity) > self._identity_floor * 3 // 2 + 1000:
            self.identity = {k: m for k, m in self.identity.items() if m.alive}
            self._identity_floor, changed = len(self.identity), True
        if changed and self.changes is not None:  # one per item is called; few change anything
            self._changed(("expire", cutoff))

    def _changed(self, change: tuple) -> None:
        self.changes.append(change)
        if len(self.changes) > self.changes_cap:
            self.changes = None

    def replay(self, changes: list[tuple]) -> None:
        """Apply recorded changes (from `changes` of a window that started as this one)."""
        for n, change in enumerate(changes):
            if change[0] == "hold":
                state, identities = change[1], change[2]
                member = Member.__new__(Member)
                member.__setstate__(state)
                member.story = self.story(state[3])
                self.hold(member, identities)
            elif change[0] == "move":
                self.move(change[1], change[2])
            elif change[0] == "expire":
                self.expire(change[1])
            else:
                raise ValueError(f"change {n}: not a window change: {change[0]!r}")

    def _drop(self, member: Member) -> None:
        member.alive = False  # first: its own postings count it as dead below
        count(self.df, member.terms, -1)
        count(self.name_df, member.marked(member.named), -1)
        count(self.plain_df, member.marked(member.plain), -1)
        for t, _ in member.vector():
            postings = self.postings.get(t)
            if postings is None:
                continue
            dead = 0
            while dead < len(postings) and not postings[dead].alive:
                dead += 1
            if dead == len(postings):
                del self.postings[t]
            elif dead:
                del postings[:dead]
        story = member.story
        story.change(member, -1)
        if story.size == 0:
            del self.stories[story.id]
        member.release()

    def similar(self, vec: dict[str, float], time: float) -> dict[Member, float]:
        """Held items within the window around time that share the strongest terms of vec, with
        their dot product. Candidates come from the newest postings of the strongest terms (a
        bounded number in all); the MAX_MEMBERS that share the most of them are compared in full."""
        scan: list[Member] = []
        budget = SCAN_BUDGET
        for t in vec:
            postings = self.postings.get(t)
            if postings:
                scan += postings[-TERM_SCAN:]
                budget -= min(len(postings), TERM_SCAN)
                if budget <= 0:
                    break
        # the most shared first; ties: the first met, i.e. strongest term, oldest (a stable sort,
        # as Counter.most_common, without its Python-level heap)
        best = sorted(Counter(scan).items(), key=itemgetter(1), reverse=True)[:MAX_MEMBERS]
        return {m: m.dot(vec) for m, _ in best if m.alive and abs(m.time - time) <= self.span}


@lru_cache(maxsize=256)  # an item's keys are looked up, then held: each is hashed once
def identity_hash(key: str) -> int:
    """A stable 64-bit hash of an identity key: hash() of a str changes with every process, and a
    window outlives its process (bot/stories/snapshot.py)."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest())
