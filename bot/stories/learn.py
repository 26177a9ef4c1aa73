"""What people's "same story" / "different story" answers teach the story thresholds. Pure.

Every answer is a judged pair: the score the clusterer gave the pair when it decided RELATED, and
the verdict. Each threshold moves to the candidate value that costs least on the judged pairs,
where the costs say what a wrong decision does to an analyst:

    join:     a "different" pair at or above it would be folded (an event hidden)      cost 10
              a "same" pair below it stays a reply instead of a fold                    cost 1
    related:  a "same" pair below it would be alerted as unrelated                      cost 3
              a "different" pair at or above it gets a reply with buttons (harmless)    cost 0.25

so join stays above every recently judged "different" pair unless more than ten times as many
"same" pairs sit above it, and related stays below every "same" pair unless twelve times as many
"different" pairs sit below it.

Candidates are the configured value, each "same" score, and each "different" score plus a small
margin; ties go to the value nearest the configured one; the winner is then held within bounds. Nothing moves before MIN_JUDGEMENTS
answers; only the newest RECENT answers count (the deployment's feeds change); a threshold never
moves more than MAX_SHIFT of its configured value either way; related stays below join.
"""

from __future__ import annotations

from collections.abc import Sequence

MIN_JUDGEMENTS = 5
RECENT = 200
MAX_SHIFT = 0.5  # fraction of the configured value
MARGIN = 0.005  # above a "different" score: that pair falls below the new threshold
GAP = 0.01  # related stays at least this far below join
JOIN_COSTS = (1.0, 10.0)  # (a "same" pair below, a "different" pair at or above)
RELATED_COSTS = (3.0, 0.25)


def learn_thresholds(join: float, related: float,
                     judged: Sequence[tuple[float | None, str]]) -> tuple[float, float]:
    """(join, related) for this deployment from the configured pair and the judged pairs
    (score, "same" | "different"), oldest first."""
    recent = [(s, v) for s, v in judged if s is not None and v in ("same", "different")][-RECENT:]
    if len(recent) < MIN_JUDGEMENTS:
        return join, related
    same = [s for s, v in recent if v == "same"]
    different = [s for s, v in recent if v == "different"]
    new_join = _best(join, same, different, JOIN_COSTS)
    new_related = _best(related, same, different, RELATED_COSTS)
    new_related = max(related * (1 - MAX_SHIFT), min(new_related, new_join - GAP))
    return round(new_join, 4), round(min(new_related, new_join), 4)


def _best(base: float, same: Sequence[float], different: Sequence[float],
          costs: tuple[float, float]) -> float:
    """The candidate threshold with the least cost on the judged pairs, then held within the
    bounds (a step towards it)."""
    candidates = sorted({base, *same, *(d + MARGIN for d in different)})

    def cost(t: float) -> tuple[float, float]:
        below = sum(s < t for s in same)
        above = sum(d >= t for d in different)
        return costs[0] * below + costs[1] * above, abs(t - base)

    best = min(candidates, key=cost)
    return min(base * (1 + MAX_SHIFT), max(base * (1 - MAX_SHIFT), best))
