"""Score the story clusterer against items with a gold story (Item JSONL, read by bot.items_jsonl).

Items stream in `published` order (stable: undated items keep their place in the given order).
The clusterer sees no labels. Besides B-cubed and pairwise scores, a report counts what an
analyst would feel: *hidden events* (the first item of a gold story that joined an existing story:
an alert nobody got when the event broke; `never` when no later report of it started a story
either, so no alert ever told of it) and *split events* (gold stories spread over several
stories: duplicates).

Honest protocols (README "Evaluating story clustering"): `orders` scores several shuffled orders,
and `retime` interleaves the gold stories as news arrives, so that neither the file order nor
gaps between bursts can do the clusterer's work.
"""

from __future__ import annotations

import random
import statistics
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from bot.config import StorySettings
from bot.models import Item, StoryAction, StoryDecision
from bot.stories.cluster import StoryClusterer
from bot.stories.metrics import PRF, Mix, bcubed, pairwise, worst_mixes

# --retime: every gold story starts at a uniform random time within RETIME_SPAN; its first item
# (a random one of its items) comes then, each other item an exponential delay later (mean
# RETIME_FOLLOW, at most RETIME_LAST): news of one event arrives over hours, events overlap.
RETIME_BASE = datetime(2024, 1, 1, tzinfo=UTC)
RETIME_SPAN = timedelta(hours=24)
RETIME_FOLLOW = timedelta(hours=3)
RETIME_LAST = timedelta(hours=18)


@dataclass(frozen=True)
class Hidden:
    """The first item of a gold story that joined a story of another gold story."""

    gold: str
    title: str
    joined: str  # title of the first item of the story it joined
    never: bool = False  # no report of the event started a story: it was never alerted


@dataclass(frozen=True)
class ClusterReport:
    """Scores of one clustering run, with the clusters that went most wrong."""

    items: int
    gold_clusters: int
    predicted_clusters: int
    bcubed: PRF
    pairwise: PRF
    hidden: tuple[Hidden, ...]
    split_events: int  # gold stories spread over more than one story
    extra_stories: int  # stories beyond one per gold story: duplicate alerts
    related: int  # items that started a story judged related to an earlier one
    related_right: int  # ... whose related story holds the same gold story
    merges: tuple[Mix, ...]  # predicted stories that mix gold stories
    splits: tuple[Mix, ...]  # gold stories spread over predicted stories
    us_per_item: float  # CPU time

    @property
    def never(self) -> int:
        """Hidden events that no alert ever told of."""
        return sum(h.never for h in self.hidden)

    def summary_line(self) -> str:
        b = self.bcubed
        return (f"B-cubed P {b.precision:.3f} R {b.recall:.3f} F1 {b.f1:.3f}   "
                f"hidden events {len(self.hidden)} ({self.never} never alerted)   split events {self.split_events} "
                f"(+{self.extra_stories} stories)   related {self.related} ({self.related_right} right)")

    def format_text(self) -> str:
        """A terminal-friendly report."""
        b, p = self.bcubed, self.pairwise
        lines = [
            f"items {self.items}   gold stories {self.gold_clusters}   "
            f"predicted stories {self.predicted_clusters}",
            f"B-cubed   precision {b.precision:.3f}   recall {b.recall:.3f}   F1 {b.f1:.3f}",
            f"pairwise  precision {p.precision:.3f}   recall {p.recall:.3f}   F1 {p.f1:.3f}",
            f"hidden events {len(self.hidden)} (first item of a gold story joined another story; "
            f"{self.never} never alerted: no later report of the event started a story)",
            f"split events  {self.split_events} (gold stories over several stories; "
            f"{self.extra_stories} extra stories)",
            f"related       {self.related} new stories shown as related "
            f"({self.related_right} to a story of the same gold story)",
            f"time      {self.us_per_item:.0f} us CPU per item",
        ]
        if self.hidden:
            lines += ["", "hidden events:"]
            lines += [f"  {h.gold}: {_clip(h.title, 60)}  ->  joined: {_clip(h.joined, 50)}"
                      f"{'  (never alerted)' if h.never else ''}" for h in self.hidden[:10]]
        lines += _format_mixes("worst merges (one predicted story, several gold stories)",
                               self.merges, "gold")
        lines += _format_mixes("worst splits (one gold story, several predicted stories)",
                               self.splits, "pred")
        return "\n".join(lines)


@dataclass(frozen=True)
class OrdersReport:
    """Several orders of one set: the mean, and the order with the lowest B-cubed F1."""

    reports: tuple[ClusterReport, ...]
    retimed: bool

    @property
    def mean(self) -> PRF:
        scores = [r.bcubed for r in self.reports]
        return PRF(*(statistics.fmean(getattr(s, k) for s in scores)
                     for k in ("precision", "recall", "f1")))

    @property
    def worst(self) -> ClusterReport:
        return min(self.reports, key=lambda r: r.bcubed.f1)

    def format_text(self) -> str:
        how = "re-timed" if self.retimed else "shuffled"
        lines = [f"order {i}: {r.summary_line()}" for i, r in enumerate(self.reports)]
        m, hidden = self.mean, [len(r.hidden) for r in self.reports]
        never = statistics.fmean(r.never for r in self.reports)
        lines += [
            "",
            f"mean of {len(self.reports)} {how} orders: B-cubed P {m.precision:.3f} "
            f"R {m.recall:.3f} F1 {m.f1:.3f}   hidden events {statistics.fmean(hidden):.1f} "
            f"(most {max(hidden)}; never alerted {never:.1f})   split events "
            f"{statistics.fmean(r.split_events for r in self.reports):.1f}",
            f"worst order: {self.worst.summary_line()}",
            "",
            "the worst order in detail:",
            self.worst.format_text(),
        ]
        return "\n".join(lines)


def _format_mixes(heading: str, mixes: Sequence[Mix], part: str) -> list[str]:
    lines = ["", heading + (":" if mixes else ": none")]
    for mix in mixes:
        lines.append(f"  {mix.cluster} ({mix.size} items)")
        for label, count, title in mix.parts[:4]:
            lines.append(f"    {count:4d} x {part} {label}: {_clip(title, 70)}")
        if len(mix.parts) > 4:
            lines.append(f"    ... and {len(mix.parts) - 4} more")
    return lines


def _clip(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def in_time_order(items: Sequence[Item]) -> list[int]:
    """Indexes of items by published time; ties keep input order."""
    return sorted(range(len(items)), key=lambda i: items[i].published)


def run_stream(items: Sequence[Item], settings: StorySettings,
               clusterer: StoryClusterer | None = None) -> list[StoryDecision]:
    """Stream items in time order through a fresh clusterer; decisions come back in input order."""
    clusterer = clusterer or StoryClusterer(settings)
    decisions: list[StoryDecision | None] = [None] * len(items)
    for i in in_time_order(items):
        decisions[i] = clusterer.assign(items[i])
    return decisions  # type: ignore[return-value]


def eval_clusters(items: Sequence[Item], gold: Sequence[str], settings: StorySettings,
                  worst: int = 5) -> ClusterReport:
    """Cluster items as a stream and score the stories against gold story ids."""
    if len(items) != len(gold):
        raise ValueError("items and gold differ in length")
    started = time.process_time()
    decisions = run_stream(items, settings)
    elapsed = time.process_time() - started
    pred = final_stories(items, decisions)
    titles = [item.title for item in items]
    spread: dict[str, set[str]] = defaultdict(set)
    for p, g in zip(pred, gold, strict=True):
        spread[g].add(p)
    related = [i for i, d in enumerate(decisions) if d.action is StoryAction.RELATED]
    story_gold = _story_gold(items, pred, gold)
    return ClusterReport(
        items=len(items),
        gold_clusters=len(spread),
        predicted_clusters=len(set(pred)),
        bcubed=bcubed(pred, gold),
        pairwise=pairwise(pred, gold),
        hidden=tuple(hidden_events(items, decisions, gold)),
        split_events=sum(len(s) > 1 for s in spread.values()),
        extra_stories=sum(len(s) - 1 for s in spread.values()),
        related=len(related),
        related_right=sum(story_gold.get(decisions[i].related) == gold[i] for i in related),
        merges=tuple(worst_mixes(pred, gold, titles, worst)),
        splits=tuple(worst_mixes(gold, pred, titles, worst)),
        us_per_item=1e6 * elapsed / max(1, len(items)),
    )


def final_stories(items: Sequence[Item], decisions: Sequence[StoryDecision]) -> list[str]:
    """Each item's story after every late fold (a folded story's items belong to the one it was
    folded into, and on, when that one was folded later)."""
    into: dict[str, str] = {}
    for i in in_time_order(items):
        for sid in decisions[i].folded:
            into[sid] = decisions[i].story_id

    def final(sid: str) -> str:
        seen = set()
        while sid in into and sid not in seen:
            seen.add(sid)
            sid = into[sid]
        return sid

    return [final(d.story_id) for d in decisions]


def _story_gold(items: Sequence[Item], pred: Sequence[str], gold: Sequence[str]) -> dict[str, str]:
    """The gold story of each predicted story's first item (in time order)."""
    out: dict[str, str] = {}
    for i in in_time_order(items):
        out.setdefault(pred[i], gold[i])
    return out


def hidden_events(items: Sequence[Item], decisions: Sequence[StoryDecision],
                  gold: Sequence[str]) -> list[Hidden]:
    """First items (in stream order) of gold stories that joined an existing story; never: no
    item of that gold story started one (each item that does is an alert)."""
    seen: set[str] = set()
    alerted = {g for g, d in zip(gold, decisions, strict=True) if d.action is not StoryAction.JOIN}
    first_title: dict[str, str] = {}
    out = []
    for i in in_time_order(items):
        d = decisions[i]
        first_title.setdefault(d.story_id, items[i].title)
        if gold[i] in seen:
            continue
        seen.add(gold[i])
        if d.action is StoryAction.JOIN:
            out.append(Hidden(gold[i], items[i].title, first_title[d.story_id], gold[i] not in alerted))
    return out


def shuffled(items: Sequence[Item], gold: Sequence[str], rng: random.Random
             ) -> tuple[list[Item], list[str]]:
    """The items in a random order (they still stream in published order: this reorders ties)."""
    order = rng.sample(range(len(items)), len(items))
    return [items[i] for i in order], [gold[i] for i in order]


def retimed(items: Sequence[Item], gold: Sequence[str], rng: random.Random
            ) -> tuple[list[Item], list[str]]:
    """The items with new times: gold stories interleaved as news arrives (see RETIME_*)."""
    members: dict[str, list[int]] = defaultdict(list)
    for i, g in enumerate(gold):
        members[g].append(i)
    out: list[tuple[datetime, Item, str]] = []
    for g in sorted(members):
        idx = rng.sample(members[g], len(members[g]))
        start = RETIME_BASE + RETIME_SPAN * rng.random()
        delays = [timedelta()] + sorted(
            min(RETIME_LAST, RETIME_FOLLOW * rng.expovariate(1.0)) for _ in idx[1:])
        out += [(start + d, replace(items[i], published=start + d), g)
                for i, d in zip(idx, delays, strict=True)]
    out.sort(key=lambda row: row[0])
    return [row[1] for row in out], [row[2] for row in out]


def eval_orders(items: Sequence[Item], gold: Sequence[str], settings: StorySettings, orders: int,
                seed: int = 0, retime: bool = False, worst: int = 5) -> OrdersReport:
    """Score `orders` shuffled (or re-timed) arrangements, order k drawn with seed + k."""
    arrange = retimed if retime else shuffled
    reports = []
    for k in range(orders):
        these, labels = arrange(items, gold, random.Random(seed + k))
        reports.append(eval_clusters(these, labels, settings, worst))
    return OrdersReport(tuple(reports), retime)
