"""Threshold learning from judged story pairs: a table of cases."""

from __future__ import annotations

import pytest

from bot.stories.learn import MIN_JUDGEMENTS, learn_thresholds

S, D = "same", "different"


@pytest.mark.parametrize("join, related, judged, expected", [
    # too few answers: nothing moves
    (0.30, 0.10, [(0.25, S)] * (MIN_JUDGEMENTS - 1), (0.30, 0.10)),
    # "same" pairs from 0.2 up, "different" ones below: join comes down to the lowest same score,
    # related rises just above the highest different one
    (0.30, 0.10, [(0.20, S), (0.25, S), (0.28, S), (0.12, D), (0.14, D)], (0.20, 0.145)),
    # every answer "different": join stays (no pair asks to fold), related moves up, bounded at +50%
    (0.30, 0.10, [(0.25, D), (0.26, D), (0.27, D), (0.28, D), (0.29, D)], (0.30, 0.15)),
    # every answer "same": join comes down, but never below half the configured value
    (0.30, 0.10, [(0.11, S), (0.12, S), (0.13, S), (0.14, S), (0.14, S)], (0.15, 0.10)),
    # a "different" pair above the "same" ones: folding those three would hide it (10x): join stays
    (0.30, 0.10, [(0.20, S), (0.21, S), (0.22, S), (0.26, D), (0.12, D)], (0.30, 0.125)),
    # "same" pairs all above the "different" one: join comes down to the lowest of them (it
    # stays above the "different" pair), related rises towards that pair, bounded at +50%
    (0.30, 0.10, [(0.27, S), (0.28, S), (0.28, S), (0.29, S), (0.26, D)], (0.27, 0.15)),
    # mixed at one score: two hidden events outweigh three splits, join stays
    (0.30, 0.10, [(0.22, S), (0.22, S), (0.22, S), (0.22, D), (0.22, D)], (0.30, 0.10)),
    # eleven "same" pairs above one "different" outweigh it: join comes down past it
    (0.30, 0.10, [(0.20, D)] + [(0.21, S)] * 11, (0.21, 0.15)),
    # pairs without a score (stored before scores were kept) and unknown verdicts are ignored
    (0.30, 0.10, [(None, S)] * 10 + [(0.2, "maybe")] * 10, (0.30, 0.10)),
])
def test_learn_thresholds(join, related, judged, expected):
    assert learn_thresholds(join, related, judged) == pytest.approx(expected)


def test_only_recent_answers_count():
    old = [(0.12, S)] * 300  # long ago people folded low-scoring pairs ...
    new = [(0.25, D)] * 200  # ... lately they keep such pairs apart
    join, related = learn_thresholds(0.30, 0.10, old + new)
    assert join == 0.30 and related == pytest.approx(0.15)


def test_related_stays_below_join():
    join, related = learn_thresholds(0.10, 0.09, [(0.16, D), (0.16, D), (0.16, D), (0.06, S), (0.07, S)])
    assert related < join
