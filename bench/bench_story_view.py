"""CPU time of Store.story_view, asked for every item that joins a story: the one UNION query that
also returns the story's headline and members (source, title, URL: links in edited alerts, /why),
against the join it replaced (alert targets and sources only). SQLite in a temporary directory,
2,000 stories of 5 items, each story alerted to 2 targets.

    python bench/bench_story_view.py --calls 6000
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import bindparam, select  # noqa: E402

from bot.models import Item, Match, StoryAction, StoryDecision  # noqa: E402
from bot.store import schema as t  # noqa: E402
from bot.store.db import Delivery, FeedState, ProcessedItem, Store  # noqa: E402

NOW = datetime(2026, 11, 21, 12, tzinfo=UTC)
BEFORE = (select(t.stories.c.sources, t.outbox.c.target)
          .select_from(t.stories.outerjoin(t.outbox, (t.outbox.c.story_id == t.stories.c.id) & (t.outbox.c.kind == "alert")))
          .where(t.stories.c.id == bindparam("sid")))


def filled_store(directory: str, stories: int = 2000, size: int = 5) -> Store:
    store = Store.open(f"sqlite:///{directory}/bench.db")
    store.sync_config_feeds([("https://a.org/rss", "A", None)], NOW)
    batch = []
    for n in range(stories * size):
        item = Item(key=f"k{n}", title=f"Title {n}", summary="x", url=f"https://x.org/{n}", source=f"S{n % size}",
                    published=NOW - timedelta(minutes=n), content_hash=str(n))
        first = n % size == 0
        targets = (Delivery("console", "alert", {}), Delivery("tg:1", "alert", {})) if first else ()
        decision = StoryDecision(f"s{n // size}", StoryAction.NEW if first else StoryAction.JOIN)
        batch.append(ProcessedItem(item, (Match("a", 1.0),), decision, targets))
    store.save_update(store.feeds()[0].id, FeedState(checked_at=NOW, next_check_at=NOW, status="new"), batch)
    return store


def cpu_per_call(fn, calls: int, stories: int) -> float:
    fn("s0")
    started = time.process_time()
    for i in range(calls):
        fn(f"s{i % stories}")
    return (time.process_time() - started) / calls * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=6000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        store = filled_store(directory)

        def before(sid: str):
            with store.engine.connect() as conn:
                return conn.execute(BEFORE, {"sid": sid}).all()

        for name, fn in (("before (targets, sources)", before), ("story_view (+ title, members)", store.story_view)) * 2:
            print(f"{name}: {cpu_per_call(fn, args.calls, 2000):.0f} us CPU per call")
        store.close()


if __name__ == "__main__":
    main()
