"""Start-up of `wirewatch run` with a full story window: the saved window against a rebuild.

    python bench/bench_restart.py [--items 100000] [--articles]

Stores --items generated news items (bench_stories.stream, all inside the 48 h window, clustered
as they arrive) in a fresh SQLite database, then runs `wirewatch run --once` on a config with no
feeds three times, each a whole process: the first finds no saved window and rebuilds it from the
store (then saves it at its stop), the next two take the saved window back. Prints each run's CPU
(user + system, from the OS) and wall time, and the saved file's size. Bytecode is compiled first,
as pip does on install.
"""

from __future__ import annotations

import argparse
import compileall
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_stories import stream  # noqa: E402
from bot.store.db import FeedState, ProcessedItem, Store  # noqa: E402
from bot.stories import snapshot  # noqa: E402
from bot.stories.cluster import StoryClusterer, default_settings  # noqa: E402


def fill(db: Path, count: int, articles: bool) -> None:
    """count items of the last 47 hours, decided by a live clusterer, stored in batches."""
    items = list(stream(count, span_hours=47.0, articles=articles))
    shift = datetime.now(UTC) - timedelta(hours=47) - items[0].published
    store, clusterer = Store.open(f"sqlite:///{db}"), StoryClusterer(default_settings())
    feed = store.add_feed("https://generated.example/rss", "Generated", "imported", datetime.now(UTC))
    batch = []
    for item in items:
        item = replace(item, published=item.published + shift, feed_id=feed, guid=item.key)
        batch.append(ProcessedItem(item, (), clusterer.assign(item), ()))
        if len(batch) == 500 or item is items[-1]:
            now = datetime.now(UTC)
            store.save_update(feed, FeedState(now, now + timedelta(hours=1), "new"), batch)
            batch = []
    store.close()


def run_once(config: Path) -> tuple[float, float]:
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "bot", "run", "--once", "--config", str(config)],
                            cwd=config.parent, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    err = proc.stderr.read().decode()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"run --once failed: {err[-2000:]}")
    return usage.ru_utime + usage.ru_stime, time.perf_counter() - started


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=100_000)
    ap.add_argument("--articles", action="store_true", help="items with a ~300-word body")
    args = ap.parse_args()
    compileall.compile_dir(ROOT / "bot", quiet=1)
    with tempfile.TemporaryDirectory(prefix="wwrestart-") as tmp:
        work = Path(tmp)
        (work / "data").mkdir()
        (work / "rules").mkdir()
        fill(work / "data" / "wirewatch.db", args.items, args.articles)
        config = work / "config.toml"
        config.write_text('[bot]\ndata_dir = "data"\nrules_dir = "rules"\nlog_level = "WARNING"\n'
                          "[outputs]\nconsole = false\n", encoding="utf-8")
        print(f"{args.items:,} items in the window; `run --once` with no feeds, whole process:")
        for label in ("rebuild (no saved window)", "saved window", "saved window"):
            cpu, wall = run_once(config)
            print(f"  {label:<27} {cpu:6.2f} s CPU  {wall:6.2f} s wall")
        size = (work / "data" / snapshot.FILE_NAME).stat().st_size / 1e6
        print(f"  saved window file: {size:.1f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
