"""Tune the [stories] defaults on the dev sets, and report the scores of the current defaults.

    python bench/tune_stories.py --data ../shared/data/stories                 # defaults only
    python bench/tune_stories.py --data ../shared/data/stories --grid          # search the grid
    python bench/tune_stories.py --data ../shared/data/stories --grid --heldout  # honest ECB+ split

Runs (all streaming, no labels seen, published order; undated items in file order):
  ecb       ECB+ dev, full texts, file order
  ecb-shuf  ECB+ dev with items shuffled within each topic (3 seeds, mean)
  ecb-all   ECB+ dev with all items shuffled (3 seeds, mean): topics interleave
  ecb-lead  ECB+ dev cut to title + first 40 words: feed-summary length
  uci       UCI News dev headlines with their timestamps
  uci-flat  UCI News dev with every timestamp equal: what the words alone do

The grid objective is the mean B-cubed F1 of ecb, ecb-shuf, ecb-lead and uci. With --heldout the
grid is scored on ECB+ topics 1-11 only and the best setting is reported on topics 12-22. The
feature extractor is memoized here (a pure function) so that the grid runs in minutes.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import json
import random
import sys
from collections.abc import Callable
from dataclasses import replace
from multiprocessing import Pool
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import bot.stories.cluster as cluster  # noqa: E402
from bot.config import StorySettings  # noqa: E402
from bot.models import Item  # noqa: E402
from bot.stories.cluster import default_settings  # noqa: E402
from bot.items_jsonl import UNDATED, read_items  # noqa: E402
from bot.stories.evaluate import eval_clusters  # noqa: E402
from bot.stories.metrics import PRF  # noqa: E402

cluster.extract = functools.lru_cache(maxsize=None)(cluster.extract)

GRID = {
    "threshold": [0.22, 0.25, 0.28, 0.32],
    "title_threshold": [0.06, 0.08, 0.1],
    "conflict_penalty": [0.3, 0.4, 0.5, 0.6],
    "centroid_weight": [0.6, 0.7, 0.8],
    "name_weight": [1.5, 2.0],
}
SEEDS = (1, 2, 3)
OBJECTIVE = ("ecb", "ecb-shuf", "ecb-lead", "uci")

Rows = list[tuple[Item, str, int]]  # item, gold story, topic (0 when none)
_DATA: dict[str, Rows] = {}


def load(path: Path) -> Rows:
    """Items, gold stories and ECB+ topics (from the raw "topic" field) of a dev file."""
    raw = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [(r.item, r.story, int(obj.get("topic") or 0))
            for r, obj in zip(read_items(path), raw, strict=True)]


def score(rows: Rows, settings: StorySettings) -> PRF:
    report = eval_clusters([r[0] for r in rows], [r[1] for r in rows], settings)
    return report.bcubed


def mean(scores: list[PRF]) -> PRF:
    n = len(scores)
    return PRF(sum(s.precision for s in scores) / n, sum(s.recall for s in scores) / n,
               sum(s.f1 for s in scores) / n)


def shuffled(rows: Rows, seed: int, within_topic: bool) -> Rows:
    rng = random.Random(seed)
    if not within_topic:
        return rng.sample(rows, len(rows))
    out: Rows = []
    for _, group in itertools.groupby(sorted(rows, key=lambda r: r[2]), key=lambda r: r[2]):
        part = list(group)
        rng.shuffle(part)
        out += part
    return out


def lead(rows: Rows, words: int = 40) -> Rows:
    return [(replace(item, summary=" ".join(item.summary.split()[:words])), gold, topic)
            for item, gold, topic in rows]


def flat(rows: Rows) -> Rows:
    return [(replace(item, published=UNDATED), gold, topic) for item, gold, topic in rows]


RUNS: dict[str, Callable[[Rows, Rows, StorySettings], PRF]] = {
    "ecb": lambda ecb, uci, s: score(ecb, s),
    "ecb-shuf": lambda ecb, uci, s: mean([score(shuffled(ecb, k, True), s) for k in SEEDS]),
    "ecb-all": lambda ecb, uci, s: mean([score(shuffled(ecb, k, False), s) for k in SEEDS]),
    "ecb-lead": lambda ecb, uci, s: score(lead(ecb), s),
    "uci": lambda ecb, uci, s: score(uci, s),
    "uci-flat": lambda ecb, uci, s: score(flat(uci), s),
}


def evaluate(args: tuple[dict[str, float], tuple[str, ...], str]) -> tuple[dict[str, float], dict[str, PRF]]:
    overrides, runs, topics = args
    ecb = [r for r in _DATA["ecb"] if topics == "all" or (r[2] <= 11) == (topics == "1-11")]
    settings = default_settings(**overrides)
    return overrides, {name: RUNS[name](ecb, _DATA["uci"], settings) for name in runs}


def show(overrides: dict[str, float], scores: dict[str, PRF]) -> str:
    cells = "  ".join(f"{k} {v.precision:.3f}/{v.recall:.3f}/{v.f1:.3f}" for k, v in scores.items())
    return f"{json.dumps(overrides)}\n    {cells}"


def objective(scores: dict[str, PRF]) -> float:
    return sum(scores[k].f1 for k in OBJECTIVE) / len(OBJECTIVE)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="folder with ecbplus-dev.jsonl and uci-news-dev.jsonl")
    parser.add_argument("--grid", action="store_true", help="search the grid instead of scoring the defaults")
    parser.add_argument("--heldout", action="store_true", help="choose on ECB+ topics 1-11, report 12-22")
    parser.add_argument("--top", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    _DATA["ecb"] = load(args.data / "ecbplus-dev.jsonl")
    _DATA["uci"] = load(args.data / "uci-news-dev.jsonl")
    print("P/R/F1 are B-cubed; defaults:", default_settings())
    if not args.grid:
        _, scores = evaluate(({}, tuple(RUNS), "all"))
        print(show({}, scores))
        return
    topics = "1-11" if args.heldout else "all"
    keys = list(GRID)
    jobs = [(dict(zip(keys, values, strict=True)), OBJECTIVE, topics) for values in itertools.product(*GRID.values())]
    with Pool(args.workers, initializer=_DATA.update, initargs=(_DATA,)) as pool:
        results = pool.map(evaluate, jobs, chunksize=4)
    results.sort(key=lambda r: -objective(r[1]))
    print(f"best of {len(results)} settings on ECB+ topics {topics} (objective: mean F1 of {', '.join(OBJECTIVE)}):")
    for overrides, scores in results[: args.top]:
        print(f"{objective(scores):.3f} " + show(overrides, scores))
    if args.heldout:
        best = results[0][0]
        _, held = evaluate((best, ("ecb", "ecb-shuf", "ecb-all", "ecb-lead"), "12-22"))
        print("held-out ECB+ topics 12-22 with the best setting above:")
        print(show(best, held))


if __name__ == "__main__":
    main()
