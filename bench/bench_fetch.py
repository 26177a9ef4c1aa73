"""CPU time per unchanged (304) fetch, client side only.

The loopback feed server runs in a separate process so only the fetcher's CPU is counted.
Budget (DESIGN.md): <= 0.5 ms CPU per 304.

    python bench/bench_fetch.py [--feeds 2000] [--rounds 5] [--concurrency 20]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.config import parse_config  # noqa: E402
from bot.ingest.fetch import Fetcher  # noqa: E402
from bot.models import FeedForUpdate, FetchResult, FetchStatus  # noqa: E402
from tests.feedserver import FeedServer  # noqa: E402

BUDGET_MS = 0.5
FEED = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>' + b"<item><title>x</title></item>" * 50 + b"</channel></rss>"


def serve(feeds: int, port_queue: mp.Queue, stop: mp.Event) -> None:
    """Child process: serve `feeds` routes until stop is set."""

    async def run() -> None:
        async with FeedServer() as server:
            for i in range(feeds):
                server.set(f"/feed/{i}", FEED + str(i).encode())
            port_queue.put(server.port)
            while not stop.is_set():
                await asyncio.sleep(0.05)

    asyncio.run(run())


async def fetch_all(fetcher: Fetcher, feeds: list[FeedForUpdate]) -> list[FetchResult]:
    return await asyncio.gather(*(fetcher.fetch(feed) for feed in feeds))


def remember(feed: FeedForUpdate, result: FetchResult) -> FeedForUpdate:
    """What the store would keep after a successful fetch."""
    return replace(feed, etag=result.etag, last_modified=result.last_modified,
                   body_hash=result.body_hash, first_fetch=False)


async def measure(port: int, args: argparse.Namespace) -> tuple[float, float, int]:
    """(CPU seconds, wall seconds, 304 count) over the conditional rounds."""
    settings = replace(parse_config({}, Path("bench.toml")).polling, allow_private_networks=True,
                       concurrency=args.concurrency, per_host=args.concurrency)
    feeds = [FeedForUpdate(i, f"http://127.0.0.1:{port}/feed/{i}", f"feed {i}") for i in range(args.feeds)]
    async with Fetcher(settings) as fetcher:
        first = await fetch_all(fetcher, feeds)
        assert all(r.status is FetchStatus.NEW for r in first), {r.error for r in first}
        feeds = [remember(f, r) for f, r in zip(feeds, first, strict=True)]
        cpu, wall, count = time.process_time(), time.perf_counter(), 0
        for _ in range(args.rounds):
            results = await fetch_all(fetcher, feeds)
            count += sum(r.status is FetchStatus.NOT_MODIFIED for r in results)
            assert count % len(feeds) == 0, {r.status for r in results}
        return time.process_time() - cpu, time.perf_counter() - wall, count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=20)
    args = parser.parse_args()
    ctx = mp.get_context("spawn")
    ports, stop = ctx.Queue(), ctx.Event()
    server = ctx.Process(target=serve, args=(args.feeds, ports, stop), daemon=True)
    server.start()
    try:
        cpu, wall, count = asyncio.run(measure(ports.get(timeout=30), args))
    finally:
        stop.set()
        server.join(timeout=10)
    per = cpu / count * 1000
    print(f"fetch 304: {count} requests, {args.feeds} feeds x {args.rounds} rounds, "
          f"concurrency {args.concurrency}")
    print(f"  client CPU {cpu:.3f} s = {per:.3f} ms per 304 (budget {BUDGET_MS} ms); "
          f"wall {wall:.2f} s = {count / wall:.0f} req/s")
    return 0 if per <= BUDGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
