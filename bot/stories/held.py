"""What the window holds: one Member per item (its vector, names and marks, compactly) and one
Story per event (the sum of its members' vectors, the names they lead with). The window's tables
and indexes over them are window.py; the snapshot pickles these classes by this module's name.
"""

from __future__ import annotations

import heapq
import math
import sys
from array import array
from collections.abc import Collection, Iterable
from itertools import repeat
from operator import mul

from bot.stories.features import FURTHER, LATER

WHEN = FURTHER | LATER  # what a story's earliest report says of when: the story's, not its joiners'
LATEST = (math.inf, math.inf)  # Story.dated before any member

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
        self.actions = actions  # what happened (features.ACTION_BITS, FURTHER)
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
                 "days", "born", "dated", "members", "_top")

    def __init__(self, story_id: str):
        self.id = story_id
        self.only: Member | None = None
        self.centroid: dict[str, float] = _EMPTY
        self.norm2 = 0.0  # squared norm of the centroid, kept current on every change
        self.size = 0
        self.last = -math.inf  # newest member time ever seen
        self.leads: dict[str, int] = _EMPTY  # name -> members that lead with it
        self.actions = 0  # what its members say happened (features.ACTION_BITS), ever; WHEN: see dated
        self.years = 0  # the years its members name (features.year_bits), ever
        self.days = 0  # the weekdays its members name (features.day_bits), ever
        self.born = math.inf  # arrival order (Member.seq) of its first member: which story is earlier
        self.dated = LATEST  # (time, seq) of its earliest member, whose WHEN bits are the story's
        self.members: list[Member] | None = None  # with two or more: its members (and some that left)
        self._top: list[str] | None = None

    def change(self, member: Member, sign: int) -> None:
        """Add (sign 1) or remove (sign -1) a member."""
        self._top = None
        if sign > 0:
            self.last = max(self.last, member.time)
            self.born = min(self.born, member.seq)
            self._remember((member.time, member.seq), member.actions, member.years, member.days)
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

    def absorb(self, other: Story) -> None:
        """Its members now include all of other's, expired ones too (a fold: the store moves them
        all): what other remembered, and other's earliest report if it is the earlier."""
        self._remember(other.dated, other.actions, other.years, other.days)

    def recall(self, time: float, actions: int, years: int, days: int) -> None:
        """A report of it that the window no longer holds (a rebuilt window's story begun before
        the window): its evidence, as the run's story remembers every report it held."""
        self._remember((time, -1), actions, years, days)

    def _remember(self, dated: tuple[float, float], actions: int, years: int, days: int) -> None:
        """Evidence of a report dated (time, seq), ever. A report that joined despite telling of a
        further or later one (outweighed, or a full text) must not make the story look like one to
        the next "second ..." report: the earliest report says when. By time, not arrival, so a
        rebuild agrees with the run."""
        self.actions |= actions & ~WHEN
        self.years |= years
        self.days |= days
        if dated < self.dated:
            self.dated, self.actions = dated, self.actions & ~WHEN | actions & WHEN

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
        return sum(map(mul, a.values(), map(b.get, a, _ZEROS))) / math.sqrt(self.norm2 * other.norm2)

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
        return sum(map(mul, vec.values(), map(c.get, vec, _ZEROS))) / math.sqrt(self.norm2)

    def top_names(self, n: int) -> list[str]:
        """The n names most members lead with, the heaviest first (cached until a change)."""
        # a pure cache: recomputed when it holds fewer names than asked and than there are
        if self._top is None or len(self._top) < min(n, len(self.leads)):
            if self.only is not None:
                self._top = list(self.only.marked(self.only.leads))
            else:
                c = self.centroid
                ranked = heapq.nlargest(n, ((k, c.get(t, 0.0), t) for t, k in self.leads.items()))
                self._top = [t for _, _, t in ranked]
        return self._top[:n]


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
