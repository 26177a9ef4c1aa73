"""The three hottest store statements of a poll cycle: SQLAlchemy Core (what wirewatch runs, on
SQLite and PostgreSQL alike) against the same SQL through the sqlite3 module directly.

    python bench/bench_store.py [--feeds 300] [--items 3]

Per changed feed: `known_keys` (which of its 25 entries' keys are stored), `save_update` (its new
items, their matches, stories and outbox rows, and its state: one transaction), and per quiet
feed the state write (`save_states`, all quiet feeds in one transaction). CPU of this process per
call, median of the calls; the raw side runs the SQL text SQLAlchemy compiled for the same
statements, with the same parameters, so the difference is the layer, not the query.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.models import Item, Match, StoryAction, StoryDecision  # noqa: E402
from bot.store.db import Delivery, FeedState, ProcessedItem, Store  # noqa: E402

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def timed(fn, *args) -> float:
    started = time.process_time()
    fn(*args)
    return time.process_time() - started


def processed(feed: int, n: int, count: int) -> list[ProcessedItem]:
    out = []
    for i in range(count):
        key = f"guid:f{feed}-c{n}-{i}"
        item = Item(key, f"Headline {feed} {n} {i} about Ramadi", "A teaser of two sentences.", f"https://x.example/{key}",
                    f"Feed {feed}", NOW, guid=key, feed_id=feed, content_hash="h" * 40, body="Body text. " * 50)
        decision = StoryDecision(f"s-{feed:04d}{n:03d}{i:03d}", StoryAction.NEW, 0.0, ("no story close enough",))
        out.append(ProcessedItem(item, (Match("anbar", 1.0, ("ramadi",)),), decision,
                                 (Delivery("tg:-100123", "alert", {"title": item.title}),)))
    return out


def state(n: int, status: str) -> FeedState:
    return FeedState(NOW + timedelta(minutes=n), NOW + timedelta(minutes=n + 15), status, etag=f'"e{n}"',
                     last_modified="Tue, 01 Dec 2026 00:00:00 GMT", body_hash="b" * 64)


def feed_keys(feed: int, n: int, args) -> list[str]:
    return [f"guid:f{feed}-c{n - 1}-{i}" for i in range(args.items)] + [f"guid:f{feed}-old{i}" for i in range(22)]


def group_keys(feeds: list[int], n: int, args) -> list[str]:
    """Every feed's keys, as the pipeline asks for a group of feeds (pipeline._known)."""
    return [k for feed in feeds for k in feed_keys(feed, n, args)]


def core(store: Store, feeds: list[int], args) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {"known_keys": [], "known_keys, one call a group": [], "save_update": [],
                                   "save_states": []}
    for n in range(1, 4):
        out["known_keys, one call a group"].append(timed(store.known_keys, group_keys(feeds, n, args)) / len(feeds))
        for feed in feeds:
            keys = feed_keys(feed, n, args)
            out["known_keys"].append(timed(store.known_keys, keys))
            out["save_update"].append(timed(store.save_update, feed, state(n, "new"), processed(feed, n, args.items)))
        out["save_states"].append(timed(store.save_states, [(f, state(n, "not_modified")) for f in feeds]) / len(feeds))
    return out


def raw(path: Path, feeds: list[int], args) -> dict[str, list[float]]:
    """The same statements as Store issues them, as SQL text through sqlite3."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    out: dict[str, list[float]] = {"known_keys": [], "known_keys, one call a group": [], "save_update": [],
                                   "save_states": []}
    for n in range(4, 7):
        out["known_keys, one call a group"].append(timed(_known, db, group_keys(feeds, n, args)) / len(feeds))
        for feed in feeds:
            keys = feed_keys(feed, n, args)
            out["known_keys"].append(timed(_known, db, keys))
            out["save_update"].append(timed(_update, db, feed, n, processed(feed, n, args.items)))
        out["save_states"].append(timed(_states, db, feeds, n) / len(feeds))
    db.close()
    return out


def _known(db: sqlite3.Connection, keys: list[str]) -> set[str]:
    marks = ",".join("?" * len(keys))
    return {r[0] for r in db.execute(f"SELECT items.key FROM items WHERE items.key IN ({marks})", keys)}


def _update(db: sqlite3.Connection, feed: int, n: int, rows: list[ProcessedItem]) -> None:
    now = state(n, "new").checked_at.isoformat(" ")
    db.execute("BEGIN")
    ids = []
    for p in rows:
        i = p.item
        ids.append(db.execute(
            "INSERT INTO items (key, feed_id, guid, url, title, summary, source, published, first_seen, content_hash,"
            " story_id, body) VALUES (?,?,?,?,?,?,?,?,?,?,?,?) RETURNING id",
            (i.key, feed, i.guid, i.url, i.title, i.summary, i.source, i.published.isoformat(" "), now,
             i.content_hash, p.decision.story_id, i.body)).fetchone()[0])
    db.executemany("INSERT INTO matches (item_id, topic, score, why) VALUES (?,?,?,?)",
                   [(i, m.topic, m.score, '["ramadi"]') for p, i in zip(rows, ids, strict=True) for m in p.matches])
    sids = [p.decision.story_id for p in rows]
    list(db.execute(f"SELECT * FROM stories WHERE id IN ({','.join('?' * len(sids))})", sids))
    db.executemany("INSERT INTO stories (id, first_item_id, title, topics, sources, item_count, created_at, updated_at)"
                   " VALUES (?,?,?,?,?,?,?,?)",
                   [(p.decision.story_id, i, p.item.title, '["anbar"]', f'["{p.item.source}"]', 1, now, now)
                    for p, i in zip(rows, ids, strict=True)])
    db.executemany("INSERT INTO outbox (target, story_id, item_id, kind, payload, status, attempts, created_at,"
                   " next_attempt_at) VALUES (?,?,?,?,?,?,?,?,?)",
                   [(d.target, p.decision.story_id, i, d.kind, '{"title": "x"}', "pending", 0, now, now)
                    for p, i in zip(rows, ids, strict=True) for d in p.deliveries])
    _state(db, [feed], n, "new")
    db.execute("COMMIT")


def _states(db: sqlite3.Connection, feeds: list[int], n: int) -> None:
    db.execute("BEGIN")
    _state(db, feeds, n, "not_modified")
    db.execute("COMMIT")


def _state(db: sqlite3.Connection, feeds: list[int], n: int, status: str) -> None:
    s = state(n, status)
    db.executemany("UPDATE feeds SET last_checked_at=?, next_check_at=?, last_status=?, last_error=?, etag=?,"
                   " last_modified=?, body_hash=?, error_count=0 WHERE id=?",
                   [(s.checked_at.isoformat(" "), s.next_check_at.isoformat(" "), s.status, None, s.etag,
                     s.last_modified, s.body_hash, f) for f in feeds])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--feeds", type=int, default=300)
    ap.add_argument("--items", type=int, default=3, help="new items per changed feed")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "wirewatch.db"
        store = Store.open(f"sqlite:///{path}")
        feeds = [store.add_feed(f"https://feed{i}.example/rss", f"Feed {i}", "config", NOW) for i in range(args.feeds)]
        layer = core(store, feeds, args)
        store.close()
        direct = raw(path, feeds, args)
    print(f"{args.feeds} feeds, {args.items} new items per changed feed; CPU per call, median")
    print("| statement | SQLAlchemy Core | sqlite3 | ratio |")
    print("| --- | --- | --- | --- |")
    for name in layer:
        a, b = statistics.median(layer[name]) * 1e3, statistics.median(direct[name]) * 1e3
        print(f"| {name}{' (per feed)' if name.startswith(('save_states', 'known_keys,')) else ''} | {a:.3f} ms | {b:.3f} ms | {a / b:.1f}x |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
