"""Tune the [stories] defaults on the honest protocols, and score the defaults on them.

    python bench/tune_stories.py --data ../shared/data/stories                # score the defaults
    python bench/tune_stories.py --data ../shared/data/stories --grid         # search GRID

Protocols (all streaming, no labels seen; bot.stories.evaluate):
  ecb A->B  choose on ECB+ topics 1-11, score topics 12-22; and B->A the reverse. Each side is
            scored over ORDERS shuffled orders (ECB+ has no dates: the order is the file's), mean
            and worst.
  uci       UCI News dev headlines re-timed (--retime: stories interleaved over a day), ORDERS
            orders, mean and worst.
Every score is B-cubed; hidden events (first items of a gold story that joined another) are
summed over the orders. The grid objective is precision first: settings whose mean B-cubed
precision is below PRECISION on a tuning side are dropped, and the rest are ranked by mean F1 of
that ECB+ side and of UCI re-timed. The feature extractor is memoized (a pure function).
"""

from __future__ import annotations

import argparse
import functools
import itertools
import json
import statistics
import sys
from multiprocessing import Pool
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import bot.stories.cluster as cluster  # noqa: E402
from bot.items_jsonl import read_items  # noqa: E402
from bot.stories.cluster import default_settings  # noqa: E402
from bot.stories.evaluate import eval_orders  # noqa: E402

cluster.extract = functools.lru_cache(maxsize=None)(cluster.extract)

GRID = {
    "threshold": [0.2, 0.25, 0.33],
    "title_threshold": [0.06, 0.09, 0.12],
    "time_scale": [21600.0],
}
ORDERS = 2
PRECISION = 0.95
_DATA: dict[str, tuple[list, list]] = {}


def load(path: Path, topics: str = "all") -> tuple[list, list]:
    """Items and gold stories; for ECB+ only topics 1-11 ("A") or 12-22 ("B")."""
    raw = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    rows = [(r.item, r.story) for r, obj in zip(read_items(path), raw, strict=True)
            if topics == "all" or (int(obj.get("topic") or 0) <= 11) == (topics == "A")]
    return [r[0] for r in rows], [r[1] for r in rows]


def run(args: tuple[dict, tuple[str, ...]]) -> tuple[dict, dict[str, dict]]:
    overrides, sets = args
    settings = default_settings(**overrides)
    out = {}
    for name in sets:
        items, gold = _DATA[name]
        report = eval_orders(items, gold, settings, ORDERS, seed=0, retime=name == "uci")
        m = report.mean
        out[name] = {"P": m.precision, "R": m.recall, "F1": m.f1, "worst": report.worst.bcubed.f1,
                     "hidden": sum(len(r.hidden) for r in report.reports),
                     "us": statistics.fmean(r.us_per_item for r in report.reports)}
    return overrides, out


def show(name: str, s: dict) -> str:
    return (f"{name:8} P {s['P']:.3f} R {s['R']:.3f} F1 {s['F1']:.3f} (worst {s['worst']:.3f})  "
            f"hidden {s['hidden']} over {ORDERS} orders  {s['us']:.0f} us/item")


def rank(results: list, side: str) -> list:
    kept = [r for r in results if r[1][side]["P"] >= PRECISION] or results
    return sorted(kept, key=lambda r: -(r[1][side]["F1"] + r[1]["uci"]["F1"]) / 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="folder with ecbplus-dev.jsonl and uci-news-dev.jsonl")
    parser.add_argument("--grid", action="store_true", help="search GRID instead of scoring the defaults")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    _DATA["A"] = load(args.data / "ecbplus-dev.jsonl", "A")
    _DATA["B"] = load(args.data / "ecbplus-dev.jsonl", "B")
    _DATA["uci"] = load(args.data / "uci-news-dev.jsonl")
    print("B-cubed, mean of", ORDERS, "orders; defaults:", default_settings())
    if not args.grid:
        _, scores = run(({}, ("A", "B", "uci")))
        for name, s in scores.items():
            print(show({"A": "ecb 1-11", "B": "ecb 12-22"}.get(name, "uci ret."), s))
        return
    jobs = [(dict(zip(GRID, values, strict=True)), ("A", "B", "uci")) for values in itertools.product(*GRID.values())]
    with Pool(args.workers, initializer=_DATA.update, initargs=(_DATA,)) as pool:
        results = pool.map(run, jobs, chunksize=2)
    for tune, held in (("A", "B"), ("B", "A")):
        best = rank(results, tune)
        print(f"\nchosen on ECB+ {'1-11' if tune == 'A' else '12-22'} (P >= {PRECISION}, then mean F1 with UCI):")
        for overrides, scores in best[:3]:
            print(json.dumps(overrides))
            print("   tune  " + show(tune, scores[tune]))
            print("   held  " + show(held, scores[held]))
            print("   " + show("uci", scores["uci"]))


if __name__ == "__main__":
    main()
