"""Scenario 2: new items per second through normalize, match (20 topics) and story clustering.

Items are news text (AG News and UCI News headlines, ../shared/data), published --spacing seconds
apart into feeds of 25 items rendered as RSS 2.0 by the farm's renderer. Each stage is timed in CPU
seconds over the same items, in stream order: parse (the fast path, and feedparser alone for
comparison), normalize, match against the 20 benchmark topics (the runtime's matcher), clustering
into stories over a 48 h window that fills as the stream goes. Medians of --runs runs.

    python bench/bench_throughput.py --items 20000 --runs 3
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import deque
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_cycle import write_result  # noqa: E402
from bench.farm import Feed, NewsStream, render  # noqa: E402
from bench.workload import write_config  # noqa: E402
from bot.ingest.normalize import normalize_entries  # noqa: E402
from bot.ingest.parse import parse_feed  # noqa: E402
from bot.runtime import load_runtime  # noqa: E402
from bot.stories.cluster import StoryClusterer  # noqa: E402

PER_FEED = 25
STAGES = ("parse", "parse_feedparser", "normalize", "match", "cluster")


def feed_bodies(count: int, spacing: float) -> list[bytes]:
    """RSS bodies of PER_FEED items each, news text, published `spacing` seconds apart, oldest first."""
    texts, start, bodies = NewsStream(ROOT.parent / "shared" / "data"), time.time() - count * spacing, []
    for first in range(0, count, PER_FEED):
        feed = Feed(id=first // PER_FEED % 500, kind="rss", behaviour="ok", validators="both")
        feed.items = deque((n, *texts[n], start + n * spacing)
                           for n in range(min(first + PER_FEED, count) - 1, first - 1, -1))
        bodies.append(render(feed))
    return bodies


def one_run(bodies: list[bytes], runtime, now: datetime) -> dict[str, float]:
    """CPU seconds per stage over every item, in stream order."""
    cpu = dict.fromkeys(STAGES, 0.0)

    def timed(stage: str, action):
        start = time.process_time()
        out = action()
        cpu[stage] += time.process_time() - start
        return out

    clusterer, items = StoryClusterer(runtime.config.stories), 0
    for n, body in enumerate(bodies):
        timed("parse_feedparser", lambda b=body: parse_feed(b, url="https://news.example/rss", fast=False))
        parsed = timed("parse", lambda b=body: parse_feed(b, url="https://news.example/rss"))
        fresh = timed("normalize", lambda p=parsed, i=n: normalize_entries(p, source=f"Farm {i % 500}", feed_id=i % 500 + 1, now=now))
        fresh.reverse()  # feeds list newest first; the stream runs oldest first
        timed("match", lambda f=fresh: [runtime.matcher.match(item) for item in f])
        timed("cluster", lambda f=fresh: [clusterer.assign(item) for item in f])
        items += len(fresh)
    return {stage: items / seconds for stage, seconds in cpu.items()} | {"items": items, "window": len(clusterer)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=20000)
    ap.add_argument("--spacing", type=float, default=1.728, help="seconds between items (1.728: 50,000 a day)")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    bodies = feed_bodies(args.items, args.spacing)
    with tempfile.TemporaryDirectory(prefix="wwbench-tp-") as tmp:
        runtime = load_runtime(write_config(Path(tmp), ["http://127.0.0.1:1/feed"]))
        now = datetime.now(UTC) + timedelta(minutes=1)
        runs = [one_run(bodies, runtime, now) for _ in range(args.runs)]
    rates = {stage: statistics.median(r[stage] for r in runs) for stage in STAGES}
    total = 1 / sum(1 / rates[s] for s in ("parse", "normalize", "match", "cluster"))
    print(f"throughput: {runs[0]['items']} items of news text, {len(runtime.topics)} topics, "
          f"{runs[0]['window']} items in the story window at the end; median of {args.runs} runs (CPU)")
    print(f"  {'stage':<22}{'items/s':>10}{'us/item':>10}")
    for stage in STAGES:
        print(f"  {stage:<22}{rates[stage]:>10,.0f}{1e6 / rates[stage]:>10.0f}")
    print(f"  {'parse+normalize+match+cluster':<22}{total:>10,.0f}{1e6 / total:>10.0f}")
    write_result("throughput", args, {"rates": rates, "total": total, "runs": runs})
    return 0


if __name__ == "__main__":
    sys.exit(main())
