"""Scenario 4: per-item cost and memory as the history grows to 10k, 100k and 1M items.

Items stream at --per-day (50,000 a day: 5,000 feeds each with ten new items a day, so the 48 h
story window holds 100,000) through the real Pipeline.update_feed (parse, normalize, match 20
topics, cluster, plan deliveries, one store transaction per feed update) into SQLite, with a
fetcher that hands over feed bodies instead of HTTP and a clock that follows the stream. At each
checkpoint: CPU per item over the last --measure items, RSS, items in the story window, size of
the database on disk.

Going from 100k to 1M through the whole pipeline takes long on a small machine, so by default the
items between (which are older than the window by the last checkpoint) are written through the
store alone (Store.save_update without matching or clustering); the last 48 h of items before each
checkpoint always go through the full pipeline, so the story window is as full as it would be.
--full runs every item through the pipeline.

    python bench/bench_growth.py [--checkpoints 10000 100000 1000000] [--full] [--prune 7d]

--prune KEEP: after the last checkpoint, prune items first seen more than KEEP before the stream's
end (Store.prune, batches of 500, as `run` does) and report the database size before, after
pruning (SQLite reuses the freed pages: the file stops growing) and after VACUUM.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
import tempfile
import time
from collections import deque
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_cycle import write_result  # noqa: E402
from bench.farm import Feed, NewsStream, render  # noqa: E402
from bench.workload import write_config  # noqa: E402
from bot.models import FetchResult, FetchStatus, Item, StoryAction, StoryDecision  # noqa: E402
from bot.pipeline import Pipeline  # noqa: E402
from bot.runtime import load_runtime  # noqa: E402
from bot.store.db import FeedState, ProcessedItem, Store  # noqa: E402
from bot.stories.cluster import StoryClusterer, story_id_for  # noqa: E402

FEEDS, PER_FEED = 500, 10  # items of one feed update


class Stream:
    """News-like items in time order (bench.farm.NewsStream: past the corpus, other events retold)."""

    def __init__(self, per_day: float, start: datetime):
        self.texts = NewsStream(ROOT.parent / "shared" / "data")
        self.spacing, self.start = 86400 / per_day, start

    def when(self, n: int) -> datetime:
        return self.start + timedelta(seconds=n * self.spacing)

    def text(self, n: int) -> tuple[str, str]:
        return self.texts[n]

    def body(self, first: int) -> bytes:
        """RSS body of items first..first+PER_FEED-1, newest first."""
        feed = Feed(id=first // PER_FEED % FEEDS, kind="rss", behaviour="ok", validators="both")
        feed.items = deque((n, *self.text(n), self.when(n).timestamp()) for n in range(first + PER_FEED - 1, first - 1, -1))
        return render(feed)


class Handover:
    """A fetcher that returns the next body as a changed feed."""

    def __init__(self) -> None:
        self.body = b""

    async def fetch(self, feed) -> FetchResult:
        return FetchResult(FetchStatus.NEW, body=self.body, body_hash=str(hash(self.body)))


class Growth:
    def __init__(self, workdir: Path, per_day: float):
        self.runtime = load_runtime(write_config(workdir, [f"http://127.0.0.1:1/feed/{i}" for i in range(FEEDS)]))
        self.store = Store.open(self.runtime.config.bot.database_url)
        self.stream = Stream(per_day, datetime.now(UTC) - timedelta(days=30))
        self.now = self.stream.start
        self.store.sync_config_feeds(((f.url, f.name, f.interval) for f in self.runtime.config.feeds), self.now)
        self.rows = self.store.feeds()
        self.fetcher = Handover()
        self.pipeline = self._pipeline(StoryClusterer(self.runtime.config.stories))
        self.done = 0
        self.db = Path(self.runtime.config.bot.database_url.removeprefix("sqlite:///"))

    def _pipeline(self, clusterer: StoryClusterer) -> Pipeline:
        return Pipeline(store=self.store, fetcher=self.fetcher, clusterer=clusterer, runtime=self.runtime,
                        clock=lambda: self.now)

    async def full(self, count: int) -> float:
        """Run `count` items through the pipeline; CPU seconds."""
        cpu = 0.0
        for _ in range(0, count, PER_FEED):
            self.fetcher.body = self.stream.body(self.done)  # making the feed is not the pipeline's cost
            self.now = self.stream.when(self.done + PER_FEED) + timedelta(seconds=1)
            start = time.process_time()
            await self.pipeline.update_feed(self.rows[self.done // PER_FEED % FEEDS])
            cpu += time.process_time() - start
            self.done += PER_FEED
        return cpu

    def store_only(self, count: int) -> None:
        """Write `count` items through the store alone: each its own story, nothing matched or sent."""
        for _ in range(0, count, PER_FEED):
            self.now = self.stream.when(self.done + PER_FEED)
            batch = []
            for n in range(self.done, self.done + PER_FEED):
                title, summary = self.stream.text(n)
                item = Item(key=f"guid:growth-{n}", title=title, summary=summary, url=f"https://news.example/{n}",
                            source=f"Farm {n // PER_FEED % FEEDS}", published=self.stream.when(n), guid=f"growth-{n}",
                            feed_id=self.rows[n // PER_FEED % FEEDS].id)
                batch.append(ProcessedItem(item, (), StoryDecision(story_id_for(item), StoryAction.NEW), ()))
            state = FeedState(checked_at=self.now, next_check_at=self.now, status="new")
            self.store.save_update(self.rows[self.done // PER_FEED % FEEDS].id, state, batch)
            self.done += PER_FEED

    def snapshot(self, cpu: float, measured: int) -> dict:
        gc.collect()
        return {"history": self.done, "us_per_item": round(cpu / measured * 1e6),
                "rss_mb": round(psutil.Process().memory_info().rss / 1e6, 1),
                "window": len(self.pipeline.clusterer), "db_mb": round(_size(self.db) / 1e6, 1)}

    def prune(self, keep: float) -> dict:
        """Retention over the grown database: sizes before, after pruning, after VACUUM; CPU of pruning."""
        from sqlalchemy import text

        before, start, pruned = _size(self.db), time.process_time(), 0
        cutoff = self.now - timedelta(seconds=keep)
        while n := self.store.prune(cutoff):
            pruned += n
        cpu = time.process_time() - start
        after = _size(self.db)
        with self.store.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            free = conn.execute(text("PRAGMA freelist_count")).scalar() * conn.execute(text("PRAGMA page_size")).scalar()
            conn.commit()
            conn.exec_driver_sql("VACUUM")
        return {"pruned": pruned, "kept": self.done - pruned, "prune_cpu_s": round(cpu, 1),
                "db_mb_before": round(before / 1e6, 1), "db_mb_after_prune": round(after / 1e6, 1),
                "free_mb_after_prune": round(free / 1e6, 1), "db_mb_after_vacuum": round(_size(self.db) / 1e6, 1)}



def _size(db: Path) -> int:
    return sum(p.stat().st_size for p in db.parent.glob(db.name + "*"))


async def run(args: argparse.Namespace, workdir: Path) -> list[dict]:
    growth, out = Growth(workdir, args.per_day), []
    window_items = int(args.per_day * growth.runtime.config.stories.window / 86400)
    for checkpoint in args.checkpoints:
        before = checkpoint - args.measure - growth.done  # items to go before the timed ones
        if before > window_items and not args.full:  # these are out of the window by the checkpoint
            growth.store_only(before - window_items)
            print(f"  {growth.done:,} items of history (the last ones through the store alone)", flush=True)
        await growth.full(checkpoint - args.measure - growth.done)
        cpu = await growth.full(args.measure)
        out.append(growth.snapshot(cpu, args.measure) | {"mode": "full" if args.full else "mixed"})
        print(f"  {out[-1]}", flush=True)
    if args.prune:
        out.append(growth.prune(args.prune))
        print(f"  {out[-1]}", flush=True)
    return out


def _keep(text: str) -> float:
    from bot.config import _duration

    return _duration(text)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkpoints", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--measure", type=int, default=5000, help="items timed before each checkpoint")
    ap.add_argument("--per-day", type=float, default=50_000)
    ap.add_argument("--full", action="store_true", help="every item through the whole pipeline")
    ap.add_argument("--prune", metavar="KEEP", type=_keep, help="then prune items older than KEEP (e.g. 7d)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="wwbench-growth-") as tmp:
        rows = asyncio.run(run(args, Path(tmp)))
    print(f"growth at {args.per_day:,.0f} items a day (48 h window ~ {args.per_day * 2:,.0f} items); "
          f"cost = CPU per item over the last {args.measure:,} items (full pipeline, no HTTP)")
    print(f"  {'history':>10} {'us/item':>8} {'RSS MB':>8} {'window':>8} {'DB MB':>8}")
    for r in rows:
        if "pruned" in r:
            print(f"  pruned {r['pruned']:,}, kept {r['kept']:,} (CPU {r['prune_cpu_s']} s): DB {r['db_mb_before']} MB ->"
                  f" {r['db_mb_after_prune']} MB ({r['free_mb_after_prune']} MB free pages) -> {r['db_mb_after_vacuum']} MB after VACUUM")
            continue
        print(f"  {r['history']:>10,} {r['us_per_item']:>8} {r['rss_mb']:>8} {r['window']:>8,} {r['db_mb']:>8}")
    write_result("growth", args, {"rows": rows})
    return 0


if __name__ == "__main__":
    sys.exit(main())
