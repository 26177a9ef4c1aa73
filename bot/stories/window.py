"""The clusterer's memory: items of the last `window` seconds, their stories, and the indexes.

Everything here is bounded by the window: document frequencies count only held items, postings
keep at most `posting_cap` recent items per term, and an item leaves every table when it expires.
Items are stored compactly (terms as interned strings, weights in arrays, identity keys as
hashes) because the window may hold 100,000 of them. Nothing is decided here.
"""

from __future__ import annotations

import hashlib
import heapq
import math
import sys
from array import array
from collections import Counter
from collections.abc import Collection, Iterable
from itertools import repeat
from operator import itemgetter, mul

IDF_PRIOR = 20.0  # pseudo-documents: with an empty window every word counts as fairly rare
TERM_SCAN = 20  # newest postings read per term ...
SCAN_BUDGET = 200  # ... and in all, strongest terms first: the per-item cost cap
MAX_MEMBERS = 16  # items compared in full with a new one
_NO_WEIGHTS = array("f")
_ZEROS = repeat(0.0)  # the default of vec.get, as many times as asked


class Member:
    """One held item: its unit vector (IDF at arrival, strongest term first) and its story.

    terms holds the vector's terms and then the item's other content terms (for the DF table);
    named, plain, leads and heads are bitmasks over terms: written like a name, written in lower
    case, the item's strongest names, in the title."""

    __slots__ = ("seq", "key", "time", "story", "terms", "weights", "named", "plain", "leads",
                 "heads", "sketch", "actions", "years", "days", "alive")

    def __init__(self, key: str, time: float, story: Story, vec: dict[str, float],
                 extra: Iterable[str], names: Collection[str], plain: Collection[str],
                 leads: Collection[str], heads: Collection[str], sketch: tuple[int, ...],
                 actions: int = 0, years: int = 0, days: int = 0):
        self.seq = 0  # set when held: the order of arrival
        self.key, self.time, self.story = key, time, story
        self.terms = tuple(map(sys.intern, (*vec, *extra)))
        self.weights = array("f", vec.values())
        position = {t: i for i, t in enumerate(self.terms)}
        self.named = _mask(position, names)
        self.plain = _mask(position, plain)
        self.leads = _mask(position, leads)
        self.heads = _mask(position, heads)
        self.sketch = array("I", sketch).tobytes()  # bytes: the smallest container
        self.actions = actions  # what happened (features.ACTION_BITS)
        self.years = years  # the years it names (features.year_bits)
        self.days = days  # the weekdays its title and dateline name (features.day_bits)
        self.alive = True

    def __getstate__(self) -> tuple:
        """Every slot in order, weights as bytes: the saved window (snapshot.py) pickles in half the
        time of the default (a dict per item). A new slot goes here too (a test checks)."""
        return (self.seq, self.key, self.time, self.story, self.terms, self.weights.tobytes(), self.named,
                self.plain, self.leads, self.heads, self.sketch, self.actions, self.years, self.days, self.alive)

    def __setstate__(self, state: tuple) -> None:
        (self.seq, self.key, self.time, self.story, self.terms, weights, self.named, self.plain,
         self.leads, self.heads, self.sketch, self.actions, self.years, self.days, self.alive) = state
        self.weights = array("f", weights)

    def release(self) -> None:
        """Drop what an expired item holds: stale index entries may keep it for a while."""
        self.story, self.key = None, ""
        self.terms, self.weights, self.sketch = (), _NO_WEIGHTS, b""

    def __lt__(self, other: Member) -> bool:
        return (self.time, self.seq) < (other.time, other.seq)

    def vector(self) -> zip[tuple[str, float]]:
        """(term, weight) pairs of the vector."""
        return zip(self.terms, self.weights, strict=False)

    def marked(self, mask: int) -> tuple[str, ...]:
        """The terms a bitmask marks, in term order (one step per marked term, not per term)."""
        out = []
        terms = self.terms
        while mask:
            low = mask & -mask
            out.append(terms[low.bit_length() - 1])
            mask ^= low
        return tuple(out)

    def dot(self, vec: dict[str, float]) -> float:
        """Dot product with a vector (map stops at the shorter weights: terms also holds extras)."""
        return sum(map(mul, self.weights, map(vec.get, self.terms, _ZEROS)))

    def weight(self, term: str) -> float:
        """The term's weight in the vector (0 when absent)."""
        for t, w in self.vector():
            if t == term:
                return w
        return 0.0


_EMPTY: dict = {}  # shared by stories of one item, never written to


class Story:
    """A story in the window: the sum of its members' vectors, the names they lead with.

    Most stories have one item; until a second joins, the story reads that item's own vector
    instead of keeping a copy."""

    __slots__ = ("id", "only", "centroid", "norm2", "size", "last", "leads", "actions", "years",
                 "days", "born", "members", "_top")

    def __init__(self, story_id: str):
        self.id = story_id
        self.only: Member | None = None
        self.centroid: dict[str, float] = _EMPTY
        self.norm2 = 0.0  # squared norm of the centroid, kept current on every change
        self.size = 0
        self.last = -math.inf  # newest member time ever seen
        self.leads: dict[str, int] = _EMPTY  # name -> members that lead with it
        self.actions = 0  # what its members say happened (features.ACTION_BITS), ever
        self.years = 0  # the years its members name (features.year_bits), ever
        self.days = 0  # the weekdays its members name (features.day_bits), ever
        self.born = math.inf  # arrival order (Member.seq) of its first member: which story is earlier
        self.members: list[Member] | None = None  # with two or more: its members (and some that left)
        self._top: list[str] | None = None

    def change(self, member: Member, sign: int) -> None:
        """Add (sign 1) or remove (sign -1) a member."""
        self._top = None
        if sign > 0:
            self.last = max(self.last, member.time)
            self.born = min(self.born, member.seq)
            self.actions |= member.actions
            self.years |= member.years
            self.days |= member.days
            if self.size == 0:
                self.only, self.size, self.norm2 = member, 1, 1.0 if member.weights else 0.0
                return
        if self.only is not None:
            if sign < 0:  # the only member leaves
                self.only, self.size, self.norm2 = None, 0, 0.0
                return
            self.only, first = None, self.only
            self.size, self.norm2, self.centroid, self.leads = 0, 0.0, {}, {}
            self._add(first, 1)
        self._add(member, sign)

    def _add(self, member: Member, sign: int) -> None:
        c = self.centroid
        pairs = list(member.vector())
        dot = sum([w * c.get(t, 0.0) for t, w in pairs])
        self.norm2 = max(0.0, self.norm2 + sign * 2.0 * dot + (1.0 if pairs else 0.0))
        for t, w in pairs:
            value = c.get(t, 0.0) + sign * w
            if abs(value) < 1e-9:
                c.pop(t, None)
            else:
                c[t] = value
        count(self.leads, member.marked(member.leads), sign)
        self.size += sign
        if sign > 0:
            if self.members is None:
                self.members = []
            self.members.append(member)
        elif self.members is not None and len(self.members) > 2 * self.size + 8:  # members that left
            self.members = [m for m in self.members if m is not member and m.alive and m.story is self]

    def held(self) -> list[Member]:
        """Its members now held, in order of arrival within each part."""
        if self.only is not None:
            return [self.only]
        return [m for m in self.members or () if m.alive and m.story is self]

    def similarity(self, other: Story) -> float:
        """Cosine of the two stories' profiles."""
        if self.norm2 <= 0.0 or other.norm2 <= 0.0:
            return 0.0
        a, b = self.profile(), other.profile()
        if len(a) > len(b):
            a, b = b, a
        return sum([w * b.get(t, 0.0) for t, w in a.items()]) / math.sqrt(self.norm2 * other.norm2)

    def weight(self, term: str) -> float:
        """The term's weight in the story's profile (0 when absent)."""
        if self.only is not None:
            return self.only.weight(term)
        return self.centroid.get(term, 0.0)

    def profile(self) -> dict[str, float]:
        """Term -> weight of the story's profile (a one-item story's is built on the call)."""
        return dict(self.only.vector()) if self.only is not None else self.centroid

    def common(self, vec: dict[str, float], limit: int) -> list[str]:
        """Up to limit terms of vec that the story's profile holds."""
        if self.only is not None:
            found = [t for t, _ in self.only.vector() if t in vec]
        else:
            c = self.centroid
            found = [t for t in vec if t in c]
        return found[:limit]

    def has_any(self, terms: frozenset[str]) -> bool:
        """Does the story's profile hold any of the terms?"""
        if self.only is not None:
            only = self.only
            return not terms.isdisjoint(only.terms[:len(only.weights)])
        return not self.centroid.keys().isdisjoint(terms)

    def cosine(self, vec: dict[str, float]) -> float:
        """Cosine of a unit vector with the story's profile."""
        if self.norm2 <= 0.0:
            return 0.0
        if self.only is not None:
            return self.only.dot(vec)
        c = self.centroid
        return sum([w * c.get(t, 0.0) for t, w in vec.items()]) / math.sqrt(self.norm2)

    def top_names(self, n: int) -> list[str]:
        """The n names most members lead with, the heaviest first (cached until a change)."""
        if self._top is None or len(self._top) < n <= len(self.leads):
            if self.only is not None:
                self._top = list(self.only.marked(self.only.leads))
            else:
                c = self.centroid
                ranked = heapq.nlargest(n, ((k, c.get(t, 0.0), t) for t, k in self.leads.items()))
                self._top = [t for _, _, t in ranked]
        return self._top[:n]


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

    def __len__(self) -> int:
        return len(self._heap)

    def idf(self, term: str) -> float:
        """Smoothed IDF over held items; an unseen term counts as rare."""
        return math.log((len(self._heap) + IDF_PRIOR) / (self.df.get(term, 0) + 1.0))

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

    def move(self, story_id: str, into: str) -> int:
        """Move every held member of one story into another (people said they are one story, or a
        late fold found it); how many moved."""
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
        return len(moved)

    def expire(self, cutoff: float) -> None:
        """Forget every item older than cutoff, and stories left with no items."""
        while self._heap and self._heap[0].time < cutoff:
            self._drop(heapq.heappop(self._heap))
        # Expired holders linger until the table grows by half since its last sweep: a sweep costs
        # the table's size, so this keeps it O(1) per item and the table within 1.5x the live keys.
        if len(self.identity) > self._identity_floor * 3 // 2 + 1000:
            self.identity = {k: m for k, m in self.identity.items() if m.alive}
            self._identity_floor = len(self.identity)

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


def identity_hash(key: str) -> int:
    """A stable 64-bit hash of an identity key: hash() of a str changes with every process, and a
    window outlives its process (bot/stories/snapshot.py)."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest())


def count(table: dict[str, int], terms: tuple[str, ...], step: int) -> None:
    """Add step to each term's count, dropping terms that reach zero."""
    for t in terms:
        left = table.get(t, 0) + step
        if left > 0:
            table[t] = left
        else:
            table.pop(t, None)


def _mask(position: dict[str, int], marked: Collection[str]) -> int:
    """Bitmask of the terms (by position) that are in marked."""
    mask = 0
    for t in marked:
        i = position.get(t)
        if i is not None:
            mask |= 1 << i
    return mask
