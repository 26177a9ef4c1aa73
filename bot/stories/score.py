"""How alike an item and a held story are: pure functions over vectors, sketches and times."""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from bot.config import StorySettings
from bot.stories.features import CALENDAR, ItemFeatures, sketch_similarity
from bot.stories.held import Member, Story

YEAR_WEIGHT = 1.5  # on top of name_weight: a year dates an event
SHORT_ITEM, LONG_ITEM = 12, 200  # content words of a headline and of a full article
MAX_STORIES = 12  # stories rated per item, closest members first: the cost stays flat
COPY_SCREEN = 0.3  # members this similar are checked for near-verbatim copying
LEAD_NAMES = 3  # a member's strongest names: what its story is about
CONFLICT_NAMES = 2  # names compared to tell two protagonists apart
TITLE_ITEM = 20  # content words up to which the title must carry the match (headline + teaser)
STORY_NAMES = 3  # names a story leads with, looked for in the item


# Doubts: shared words that are weak evidence of one event. Each discounts the score once.
OTHER_NAMES = "different names"
ONLY_NAMES = "only names shared"
NO_TITLE_WORD = "titles share no word"
ONE_TITLE_WORD = "one title word shared"
ONE_WORD = "one common word shared"
ONLY_DATES = "only dates shared"
TITLE_DOUBTS = (NO_TITLE_WORD, ONE_TITLE_WORD)  # then only the title's words count


@dataclass(frozen=True, slots=True)
class Probe:
    """A new item as the stories see it, prepared once: vector, names, words, time."""

    vec: dict[str, float]
    tf: dict[str, float]
    heads: frozenset[str]  # title terms
    length: int
    names: frozenset[str]
    leads: frozenset[str]  # the strongest names
    common: frozenset[str]  # terms that are not names
    sketch: tuple[int, ...]
    time: float
    title_names: tuple[str, ...] = ()  # names in the title, strongest first: who and where
    actions: int = 0  # what the title and lead say happened (features.ACTION_BITS, FURTHER)
    years: int = 0  # the years it names (features.year_bits)
    days: int = 0  # the weekdays its title and dateline name (features.day_bits)
    dates: frozenset[str] = frozenset()  # vector terms that say when (is_date) ...
    undated: frozenset[str] = frozenset()  # ... and the others


def probe(vec: dict[str, float], features: ItemFeatures, names: frozenset[str],
          time: float) -> Probe:
    """Prepare a new item for rating against stories."""
    common = frozenset(t for t in features.tf if t not in names)
    leads = frozenset(lead_names(vec, names)[:CONFLICT_NAMES])
    title_names = tuple(t for t in vec if t in names and t in features.heads)
    dates = frozenset(filter(is_date, vec))
    return Probe(vec, features.tf, features.heads, features.length, names, leads, common,
                 features.sketch, time, title_names, features.actions, features.years, features.days,
                 dates, frozenset(vec.keys() - dates))


@dataclass(slots=True)
class Candidate:
    """The evidence for one story: its closest member, copy overlap, time gap, and the score."""

    story: Story
    best: float = 0.0
    closest: Member | None = None
    copy: float = 0.0
    gap: float = math.inf  # seconds to the nearest member that shares a term
    score: float = 0.0
    kind: str = "words"
    doubt: str = ""  # why the words were discounted, if they were


def is_year(term: str) -> bool:
    """A year of the last two centuries."""
    return len(term) == 4 and term.isdigit() and term[:2] in ("19", "20")


def vectorize(tf: dict[str, float], names: frozenset[str], idfs: Callable[[Iterable[str]], list[float]],
              name_weight: float, max_terms: int) -> dict[str, float]:
    """Unit TF-IDF vector of the item's strongest terms, strongest first; names weigh more.
    idfs gives the idf of each term it is given."""
    weights = []
    for (t, w), idf in zip(tf.items(), idfs(tf), strict=True):
        if t in names:
            w *= name_weight * (YEAR_WEIGHT if is_year(t) else 1.0)
        weights.append((w * idf, t))
    top = sorted(weights, key=lambda p: (-p[0], p[1]))[:max_terms]
    norm = math.sqrt(sum(w * w for w, _ in top)) or 1.0
    return {t: w / norm for w, t in top}


def lead_names(vec: dict[str, float], names: frozenset[str]) -> tuple[str, ...]:
    """The item's strongest names (vec is ordered strongest first)."""
    return tuple(t for t in vec if t in names)[:LEAD_NAMES]


def join_bar(length: int, short_bar: float, long_bar: float) -> float:
    """The score an item needs to join. A headline shares few words with anything and a full
    text many, so the bar moves from short_bar to long_bar as the item grows (log scale)."""
    span = math.log(LONG_ITEM / SHORT_ITEM)
    position = min(1.0, max(0.0, math.log(max(length, 1) / SHORT_ITEM) / span))
    return short_bar + (long_bar - short_bar) * position


def by_story(similar: dict[Member, float], item: Probe) -> list[Candidate]:
    """Group similar members by story: closest member, copy overlap, nearest time; best first."""
    found: dict[str, Candidate] = {}
    when = item.time
    for member, similarity in similar.items():
        story = member.story
        cand = found.get(story.id)
        if cand is None:
            cand = found[story.id] = Candidate(story)
        if cand.closest is None or similarity > cand.best:
            cand.best, cand.closest = similarity, member
        gap = abs(when - member.time)
        if gap < cand.gap:
            cand.gap = gap
        if similarity >= COPY_SCREEN:  # copies share most words; skip the sketch otherwise
            cand.copy = max(cand.copy, sketch_similarity(item.sketch, array("I", member.sketch)))
    ranked = sorted(found.values(), key=lambda c: (-c.best, c.story.id))
    return ranked[:MAX_STORIES]


def ceiling(cand: Candidate, s: StorySettings) -> float:
    """The most rate() can score a candidate, read before rating it: a one-item story's profile is
    its item, so it scores at most that item's similarity, discounted by the gap (a doubt, or the
    title alone, only lowers it: conflict_penalty and centroid_weight are at most 1, weights are
    positive), or its copy overlap; a story of several items is not bounded."""
    if cand.story.only is not cand.closest:
        return math.inf
    words = cand.best / (1.0 + cand.gap / s.time_scale)
    if cand.copy >= s.copy_threshold:
        words = max(words, cand.copy)
    return words * (1.0 + 1e-9)  # rate() mixes the similarity in two parts: an ulp or two more


def rate(cand: Candidate, item: Probe, s: StorySettings) -> Candidate:
    """Similarity to the story's profile and to its closest member, discounted by a doubt and by
    the time gap; a near-verbatim copy scores its overlap instead."""
    story = cand.story
    cand.doubt = doubt(item, cand)
    if cand.doubt in TITLE_DOUBTS:  # the match rests on the summaries: read the title only
        vec = {t: w for t, w in item.vec.items() if t in item.heads}
        words = story.cosine(vec)
    else:  # a one-item story's profile is its item: the similarity already measured
        profile = cand.best if story.only is cand.closest else story.cosine(item.vec)
        words = s.centroid_weight * profile + (1.0 - s.centroid_weight) * cand.best
    if cand.doubt == ONLY_DATES:  # no word of who or what: no evidence at all
        words = 0.0
    elif cand.doubt:
        words *= s.conflict_penalty
    cand.score = words / (1.0 + cand.gap / s.time_scale)
    if cand.copy >= s.copy_threshold and cand.copy > cand.score:
        cand.score, cand.kind = cand.copy, "copy"
    return cand


def doubt(item: Probe, cand: Candidate) -> str:
    """Why the shared words are weak evidence of one event here ("" when they are not)."""
    story = cand.story
    if dates_only(item, story):
        return ONLY_DATES
    if other_protagonists(item, story):
        return OTHER_NAMES
    if names_only(item, story):
        return ONLY_NAMES
    heads = title_overlap(item, cand.closest)
    if heads == []:
        return NO_TITLE_WORD
    shared = story.common(item.vec, 2) if heads is None else heads
    if len(shared) == 1 and shared[0] not in item.names:
        return ONE_WORD if heads is None else ONE_TITLE_WORD
    return ""


def title_overlap(item: Probe, closest: Member | None) -> list[str] | None:
    """Words the titles of a short item and of its closest member share (up to 2); None for a
    long item, whose body carries the evidence. Short summaries are often boilerplate."""
    if closest is None or not item.heads or not closest.heads or item.length > TITLE_ITEM:
        return None  # a long summary carries evidence of its own
    return [t for t in closest.marked(closest.heads) if t in item.heads][:2]


def other_protagonists(item: Probe, story: Story) -> bool:
    """Same kind of event, other people: the item's top names are all new to the story, and
    the story leads with a name the item never mentions."""
    if not item.leads or story.has_any(item.leads):
        return False
    return any(t not in item.tf for t in story.top_names(STORY_NAMES))


def is_date(term: str) -> bool:
    """A year, a month or weekday, a day of the month: when, in any story of the time."""
    return is_year(term) or term in CALENDAR or (term.isdigit() and len(term) <= 2)


def dates_only(item: Probe, story: Story) -> bool:
    """Every term the item shares with the story says when, none who or what ("March 11, 2014")."""
    return bool(item.dates) and not story.has_any(item.undated) and story.has_any(item.dates)


def names_only(item: Probe, story: Story) -> bool:
    """Same people, other event: the item shares no word but names with the story."""
    return not story.has_any(item.common)


def shared_terms(vec: dict[str, float], story: Story, n: int = 5) -> list[str]:
    """The terms that contribute most to the item's similarity with a story."""
    profile = story.profile()
    parts = [(w * profile.get(t, 0.0), t) for t, w in vec.items()]
    parts = sorted((p for p in parts if p[0] > 0.0), key=lambda p: (-p[0], p[1]))
    return [t for _, t in parts[:n]]


def explain(cand: Candidate, vec: dict[str, float]) -> tuple[str, ...]:
    """Why an item joined: kind and score, shared terms, time gap."""
    shared = shared_terms(vec, cand.story)
    why = [f"{cand.kind} {cand.score:.2f}", "shared: " + (", ".join(shared) or "-"), _gap(cand.gap)]
    return (*why, cand.doubt) if cand.doubt else tuple(why)


def _gap(seconds: float) -> str:
    hours = seconds / 3600.0
    return f"{hours:.1f} h apart" if hours >= 0.05 else "same time"
