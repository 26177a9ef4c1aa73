"""Restart with a full story window: taking back the saved window against rebuilding it.

    python bench/bench_restart.py [--items 100000] [--rebuild 20000] [--articles]

Fills a clusterer with --items generated news items (bench_stories.stream: all inside the 48 h
window), saves the window as a clean stop does, and times loading it back (CPU of this process,
best of three) and the file's size. --rebuild N also times the old way for the first N items:
re-extracting each stored item's features (StoryClusterer.restore), per item.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_stories import stream  # noqa: E402
from bot.stories import snapshot  # noqa: E402
from bot.stories.cluster import StoryClusterer, default_settings  # noqa: E402


def cpu(fn) -> float:
    started = time.process_time()
    fn()
    return time.process_time() - started


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=100_000)
    ap.add_argument("--rebuild", type=int, default=0, help="also time re-extracting the first N items")
    ap.add_argument("--articles", action="store_true", help="items with a ~300-word body")
    args = ap.parse_args()
    settings, marker = default_settings(), snapshot.Marker(args.items, 0)
    items = list(stream(args.items, articles=args.articles))
    live = StoryClusterer(settings)
    decided = [(item, live.assign(item).story_id) for item in items]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / snapshot.FILE_NAME
        save = min(cpu(lambda: live.save_window(path, marker)) for _ in range(3))
        loads = []
        for _ in range(3):
            fresh = StoryClusterer(settings)
            loads.append(cpu(lambda fresh=fresh: fresh.load_window(path, marker)))
            assert len(fresh) == len(live)
        size = path.stat().st_size / 1e6
    print(f"window of {len(live):,} items: save {save:.2f} s CPU, load {min(loads):.2f} s CPU "
          f"(best of 3), file {size:.1f} MB")
    if args.rebuild:
        rebuilt = StoryClusterer(settings)
        took = cpu(lambda: rebuilt.restore(decided[: args.rebuild]))
        print(f"rebuild of {args.rebuild:,} items: {took:.2f} s CPU, {took / args.rebuild * 1e6:.0f} us per item "
              f"(x{args.items:,}: {took / args.rebuild * args.items:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
