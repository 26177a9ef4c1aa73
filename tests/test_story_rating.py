"""Rating only the stories that can matter (cluster._rated): a one-item story whose ceiling
(score.ceiling) is under both the decisive confidence and the best rated so far is not rated. The
ceiling must bound what rate() gives, and leaving such stories out must change no decision, with
any thresholds and with stories people kept apart.

The streams are the regional sets of tests/fixtures, in published and re-timed orders.
"""

from __future__ import annotations

import math
import random
from dataclasses import replace
from pathlib import Path

import pytest

from bot.items_jsonl import read_items
from bot.models import StoryAction
from bot.stories import score
from bot.stories.cluster import StoryClusterer, default_settings
from bot.stories.evaluate import retimed, run_stream

SETS = sorted((Path(__file__).parent / "fixtures").glob("stories-regional*.jsonl"))


def streams() -> list[list]:
    """Every regional set in published order and in two re-timed orders."""
    out = []
    for path in SETS:
        records = list(read_items(path))
        items, gold = [r.item for r in records], [r.story for r in records]
        out.append(items)
        out += [retimed(items, gold, random.Random(seed))[0] for seed in (1, 2)]
    return out


def decisions(items: list, settings, apart=(), rate_all: bool = False) -> list[tuple]:
    clusterer = StoryClusterer(settings)
    for a, b in apart:
        clusterer.keep_apart(a, b)
    if rate_all:  # no ceiling: every story the item is close to is rated
        real = score.ceiling
        score.ceiling = lambda cand, s: math.inf
        try:
            found = run_stream(items, settings, clusterer)
        finally:
            score.ceiling = real
    else:
        found = run_stream(items, settings, clusterer)
    return [(d.story_id, d.action, d.score, d.why, d.related, d.folded) for d in found]


def test_the_ceiling_bounds_every_rated_score(monkeypatch):
    real_rate, real_ceiling = score.rate, score.ceiling
    checked = []

    def rate(cand, item, s):
        most = real_ceiling(cand, s)
        rated = real_rate(cand, item, s)
        checked.append(most != math.inf)
        assert rated.score <= most, (rated.story.id, rated.score, most)
        return rated

    monkeypatch.setattr(score, "rate", rate)
    monkeypatch.setattr(score, "ceiling", lambda cand, s: math.inf)
    for items in streams():
        run_stream(items, default_settings())
    assert sum(checked) > 100  # one-item stories were bounded, not only the unbounded rest


@pytest.mark.parametrize("join, related", [
    (1.0, 0.75),  # the defaults
    (2.0, 1.9),  # related near join: a rival kept apart may be under related
    (0.8, 0.3),  # a deployment that learned to join easily
    (4.6, 0.75),  # one that learned to join rarely
])
def test_rating_only_what_can_matter_changes_no_decision(join, related):
    settings = replace(default_settings(), join_threshold=join, related_threshold=related)
    for items in streams():
        expected = decisions(items, settings, rate_all=True)
        assert decisions(items, settings) == expected
        # people said each related pair is two events: the rival rule reads the runners-up
        apart = [(sid, rel) for sid, action, _, _, rel, _ in expected if action is StoryAction.RELATED]
        assert decisions(items, settings, apart) == decisions(items, settings, apart, rate_all=True)
