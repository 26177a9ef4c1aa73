"""Rating only the stories that can matter (cluster._rated): a one-item story whose ceiling
(score.ceiling) is under both the decisive confidence (decide.decisive) and the best rated so far
is not rated. The ceiling must bound what rate() gives, and leaving such stories out must change
no decision, with any thresholds and with stories people kept apart.

The streams are the regional sets of tests/fixtures, in published and re-timed orders, and text
written here.
"""

from __future__ import annotations

import math
import random
from dataclasses import replace
from pathlib import Path

import pytest

from bot.models import StoryAction
from bot.stories import decide, score
from bot.stories.cluster import StoryClusterer, default_settings
from bot.stories.evaluate import retimed, run_stream
from bot.stories.held import Story
from tests.test_stories import item
from tests.test_stories_regional import regional

SETS = sorted((Path(__file__).parent / "fixtures").glob("stories-regional*.jsonl"))
LEAD = ("The provincial council of Anbar said on Sunday that the new police academy in Ramadi "
        "will train two thousand recruits a year, with instructors from the interior ministry and "
        "a budget approved after months of argument between the governor and the council.")
# a near-verbatim copy, 40 hours later: its words are discounted by the gap, its overlap is not
LATE_COPY = [item("a", "Anbar opens Ramadi police academy for 2,000 recruits", LEAD),
             item("b", "Ramadi police academy opens, Anbar council says", LEAD, hours=40)]


def streams() -> list[list]:
    """Every regional set in published order and in two re-timed orders."""
    out = []
    for path in SETS:
        items, gold = regional(path)
        out.append(items)
        out += [retimed(items, gold, random.Random(seed))[0] for seed in (1, 2)]
    return out


def decisions(items: list, settings, apart=(), rate_all: bool = False) -> list[tuple]:
    clusterer = StoryClusterer(settings)
    for a, b in apart:
        clusterer.keep_apart(a, b)
    with pytest.MonkeyPatch.context() as patch:
        if rate_all:  # no ceiling: every story the item is close to is rated
            patch.setattr(score, "ceiling", lambda cand, s: math.inf)
        found = run_stream(items, settings, clusterer)
    return [(d.story_id, d.action, d.score, d.why, d.related, d.folded) for d in found]


def test_the_ceiling_bounds_every_rated_score(monkeypatch):
    real_rate, real_ceiling = score.rate, score.ceiling
    bounded = []

    def rate(cand, item, s):
        most = real_ceiling(cand, s)
        rated = real_rate(cand, item, s)
        assert rated.score <= most, (rated.story.id, rated.score, most)
        if most != math.inf:
            bounded.append(rated.kind)
        return rated

    monkeypatch.setattr(score, "rate", rate)
    monkeypatch.setattr(score, "ceiling", lambda cand, s: math.inf)
    for items in [*streams(), LATE_COPY]:
        run_stream(items, default_settings())
    assert len(bounded) > 100 and "copy" in bounded  # one-item stories, a copy among them


@pytest.mark.parametrize("join, related", [
    (1.0, 0.75),  # the defaults: a kept-apart rival reaches 0.9 of join, under the fold bar
    (2.0, 1.9),  # join far above the fold bar: folds read stories under 0.9 of join
    (0.8, 0.3),  # a deployment that learned to join easily
    (4.6, 0.75),  # one that learned to join rarely
])
def test_rating_only_what_can_matter_changes_no_decision(join, related):
    settings = replace(default_settings(), join_threshold=join, related_threshold=related)
    for items in [*streams(), LATE_COPY]:
        expected = decisions(items, settings, rate_all=True)
        assert decisions(items, settings) == expected
        # people said each related pair is two events: the rival rule reads the runners-up
        apart = [(sid, rel) for sid, action, _, _, rel, _ in expected if action is StoryAction.RELATED]
        assert decisions(items, settings, apart) == decisions(items, settings, apart, rate_all=True)


TERMS = ("ramadi", "anbar", "police", "academy", "council", "bomb")


def synthetic(rng: random.Random, n: int) -> list[Story]:
    """Stories of two items over a few shared terms, so that some fold and some contradict."""
    out = []
    for k in range(n):
        st = Story(f"s-{k}")
        st.centroid = {t: rng.random() for t in rng.sample(TERMS, rng.randint(2, len(TERMS)))}
        st.norm2, st.size, st.born = sum(w * w for w in st.centroid.values()), 2, k
        st.leads = {t: 2 for t in rng.sample(sorted(st.centroid), 1)}
        out.append(st)
    return out


def answer(found: list, probe: score.Probe, limits: decide.Thresholds, apart: set) -> tuple:
    """What decide and refold make of weighed stories, sorted as weigh sorts them."""
    ws = sorted(found, key=lambda w: (-w.confidence, w.cand.story.id))
    grown = ws[0].cand.story
    return (decide.decide(ws, probe, "s-new", limits, apart),
            [(st.id, why) for st, why in decide.refold(grown, ws, apart)])


def test_what_lies_under_decisive_and_the_top_changes_no_decision():
    """Drawn lists of weighed stories, cut as _rated cuts them (in the order found, the first
    always kept) at the tightest ceiling, the confidence itself: decide and refold answer the same.
    Rivals kept apart sit near 0.9 of join, folds at 1.0, so each term of decisive is needed."""
    rng = random.Random(7)
    probe = score.Probe({t: 0.4 for t in TERMS}, {}, frozenset(), 8, frozenset(), frozenset(),
                        frozenset(), (), 0.0)
    bar, cut_any = 0.2, 0
    for _ in range(3000):
        join = rng.uniform(0.6, 3.0)
        limits = decide.Thresholds(join, rng.uniform(0.2, join))
        found = []  # in the order found: by closest member, not by confidence
        for st in synthetic(rng, rng.randint(1, 6)):
            confidence = join * rng.uniform(0.5, 1.3)
            against = ("contradicted",) if rng.random() < 0.2 else ()
            found.append(decide.Weighed(score.Candidate(st, score=confidence * bar), confidence, against))
        apart = {frozenset((a.cand.story.id, b.cand.story.id)) for a in found for b in found
                 if a is not b and rng.random() < 0.4}
        kept, top = [], -math.inf
        for w in found:
            if not kept or w.confidence >= decide.decisive(limits) or w.confidence >= top:
                kept.append(w)
                top = max(top, w.confidence)
        cut_any += len(kept) < len(found)
        assert answer(kept, probe, limits, apart) == answer(found, probe, limits, apart)
    assert cut_any > 500
