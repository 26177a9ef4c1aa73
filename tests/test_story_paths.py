"""One decision whatever the path: the regional story stream through replay, through the pipeline
over several poll cycles (real HTTP from the loopback feed server, real SQLite), and with a
restart in the middle, gives the same stories."""

from __future__ import annotations

from datetime import datetime, timedelta
from email.utils import format_datetime
from html import escape
from pathlib import Path

from sqlalchemy import create_engine, select

from bot.app import App
from bot.items_jsonl import ItemRecord, read_items
from bot.models import Item
from bot.replay import replay_lines
from bot.runtime import load_runtime
from bot.store import schema
from bot.stories import snapshot
from bot.stories.cluster import StoryClusterer, story_id_for

REGIONAL = Path(__file__).parent / "fixtures" / "stories-regional.jsonl"
ANBAR = 'name = "Anbar"\ndescription = "Anbar province"\nquery = "anbar OR ramadi OR fallujah OR qaim"\n'
STEP = timedelta(hours=6)  # one poll cycle every six hours of the stream


def records() -> list[ItemRecord]:
    return list(read_items(REGIONAL))


def rss(name: str, shown: list[ItemRecord]) -> str:
    entries = "".join(
        f"<item><guid isPermaLink='false'>{r.id}</guid><title>{escape(r.item.title)}</title>"
        f"<link>{r.item.url}</link><description>{escape(r.item.summary)}</description>"
        f"<pubDate>{format_datetime(r.item.published)}</pubDate></item>"
        for r in sorted(shown, key=lambda r: r.item.published, reverse=True)  # newest first, as feeds are
    )
    return f"<?xml version='1.0'?><rss version='2.0'><channel><title>{name}</title>{entries}</channel></rss>"


def config(server, tmp_path: Path, sources: list[str]) -> Path:
    rules = tmp_path / "rules"
    rules.mkdir(exist_ok=True)
    (rules / "anbar.toml").write_text(ANBAR, encoding="utf-8")
    feeds = "".join(f'[[feeds]]\nurl = "{server.url(path(s))}"\nname = "{s}"\n' for s in sources)
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[bot]\ndata_dir = "data"\n[polling]\nallow_private_networks = true\ntimeout = "5s"\n'
                   f'[outputs]\nconsole = false\n{feeds}', encoding="utf-8")
    return cfg


def path(source: str) -> str:
    return "/" + source.lower().replace(" ", "-") + ".xml"


def partition(rows) -> set[tuple[str, frozenset[str]]]:
    """Stories as (the item that started it, the ids of its items). Story ids hash the starting
    item's key, which differs between paths (a JSONL id, a feed's GUID), so compare these."""
    stories: dict[str, set[str]] = {}
    starter: dict[str, str] = {}
    for item_id, key, story in rows:
        stories.setdefault(story, set()).add(item_id)
        if story_id_for(Item(key, "", "", None, "", datetime.min)) == story:
            starter[story] = item_id
    return {(starter.get(sid, "?"), frozenset(ids)) for sid, ids in stories.items()}


def by_replay(cfg: Path) -> set[frozenset[str]]:
    rt = load_runtime(cfg, telegram=False)
    lines = list(replay_lines(records(), rt.matcher, StoryClusterer(rt.config.stories)))
    into = {sid: line["story"] for line in lines for sid in line["folded"]}  # late folds

    def final(sid: str) -> str:
        while sid in into:
            sid = into[sid]
        return sid

    return partition((line["id"], f"id:{line['id']}", final(line["story"])) for line in lines)


async def by_pipeline(server, cfg: Path, restart_after: int | None, keep_window: bool = True,
                      restart_each: bool = False) -> set[frozenset[str]]:
    """keep_window=False: the restart finds no saved window and rebuilds it from the store;
    restart_each: a new process every cycle, as `run --once` from cron."""
    rows = records()
    start = min(r.item.published for r in rows)
    cycles = int((max(r.item.published for r in rows) - start) / STEP) + 2
    now = {"t": start}
    app = await started(cfg, now)
    try:
        for k in range(cycles):
            now["t"] = start + k * STEP + timedelta(minutes=1)
            for source in {r.item.source for r in rows}:
                shown = [r for r in rows if r.item.source == source and r.item.published <= now["t"]]
                server.set(path(source), rss(source, shown))
            await app.cycle(every_feed=True)
            if k == restart_after or restart_each:
                await app.stop()
                if not keep_window:
                    (cfg.parent / "data" / "story-window.snapshot").unlink()
                app = await started(cfg, now)
    finally:
        await app.stop()
    engine = create_engine(f"sqlite:///{cfg.parent / 'data' / 'wirewatch.db'}")
    with engine.connect() as conn:
        stored = conn.execute(select(schema.items.c.guid, schema.items.c.key, schema.items.c.story_id)).all()
    engine.dispose()
    assert len(stored) == len(rows)
    return partition(stored)


async def started(cfg: Path, now: dict[str, datetime]) -> App:
    app = App(load_runtime(cfg, telegram=False), clock=lambda: now["t"])
    await app.start()
    return app


async def test_replay_cycles_and_a_restart_give_the_same_stories(feed_server, tmp_path):
    sources = sorted({r.item.source for r in records()})
    cfg = config(feed_server, tmp_path / "a", sources) if (tmp_path / "a").mkdir() is None else None
    replayed = by_replay(cfg)
    assert len(replayed) < len(records())  # rewrites were folded: the comparison means something
    assert await by_pipeline(feed_server, cfg, restart_after=None) == replayed
    (tmp_path / "b").mkdir()
    cfg_b = config(feed_server, tmp_path / "b", sources)
    assert await by_pipeline(feed_server, cfg_b, restart_after=3) == replayed


async def test_a_restart_every_cycle_through_the_window_journal_gives_the_same_stories(feed_server, tmp_path, monkeypatch):
    """Each stop after the first writes only what changed (snapshot.py's journal), each start
    replays it: the stories are the ones replay decides."""
    monkeypatch.setattr(snapshot, "JOURNAL_SHARE", 100.0)  # the set is small: every stop journals
    sources = sorted({r.item.source for r in records()})
    cfg = config(feed_server, tmp_path, sources)
    journal = snapshot.journal_path(cfg.parent / "data" / snapshot.FILE_NAME)
    written = []
    real_write = snapshot._write
    monkeypatch.setattr(snapshot, "_write", lambda path, *a: written.append(path.name) or real_write(path, *a))
    assert await by_pipeline(feed_server, cfg, restart_after=None, restart_each=True) == by_replay(cfg)
    assert written.count(journal.name) >= 3 and written.count(snapshot.FILE_NAME) == 1


async def test_a_new_feeds_archive_older_than_the_window_by_the_clock_is_not_clustered(feed_server, tmp_path):
    """A cold cycle reads a new feed's old items oldest first: by the newest item held each one
    was recent, so years of archive were clustered item by item only to expire. By the clock they
    are older than the window: compared by identity only, stored, never alerted (backfill)."""
    rows = records()
    cfg = config(feed_server, tmp_path, ["Archive"])
    feed_server.set(path("Archive"), rss("Archive", rows))
    now = {"t": max(r.item.published for r in rows) + timedelta(days=30)}
    app = await started(cfg, now)
    try:
        await app.cycle(every_feed=True)
        assert len(app.clusterer) == 0  # nothing held: the window would have forgotten them at once
    finally:
        await app.stop()
    engine = create_engine(f"sqlite:///{cfg.parent / 'data' / 'wirewatch.db'}")
    with engine.connect() as conn:
        stories = [s for (s,) in conn.execute(select(schema.items.c.story_id))]
        alerts = conn.execute(select(schema.outbox.c.id)).all()
    engine.dispose()
    assert len(stories) == len(rows) and not alerts
    assert len(set(stories)) == len(rows)  # no two share a URL or a title: each is its own story
