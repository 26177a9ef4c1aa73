"""End to end: real HTTP on loopback, real SQLite, the `run --once` path, restarts and hot reload."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.exc import DBAPIError

from bot.app import App
from bot.runtime import load_runtime
from bot.store import schema
from bot.store.db import Store

REPO = Path(__file__).resolve().parents[1]
ANBAR = 'name = "Anbar"\ndescription = "Anbar province"\nquery = "anbar OR ramadi OR fallujah OR qaim"\n'
DRONES = 'name = "Drone strikes"\ndescription = "Strikes by drones"\nquery = "drone* NEAR/3 strike*"\n'


def rss(title: str, items: list[tuple[str, str, str, float]]) -> str:
    """An RSS 2.0 feed; items are (guid, title, description, hours ago)."""
    now = datetime.now(UTC)
    entries = "".join(
        f"<item><guid isPermaLink='false'>{guid}</guid><title>{t}</title>"
        f"<link>https://news.example/{guid}?utm_source=rss</link><description>{d}</description>"
        f"<pubDate>{format_datetime(now - timedelta(hours=h))}</pubDate></item>"
        for guid, t, d, h in items
    )
    return f"<?xml version='1.0'?><rss version='2.0'><channel><title>{title}</title><link>https://news.example/</link>{entries}</channel></rss>"


WIRE = rss("Euphrates Wire", [
    ("w1", "Drone strike kills ISIS commander Abu Khalid al-Rawi near al-Qaim",
     "A US drone strike killed Abu Khalid al-Rawi and two aides near al-Qaim in Anbar on Tuesday.", 1),
    ("w2", "Ramadi council approves budget for new bridge", "The Ramadi council voted 14-3 for the bridge.", 2),
    ("w3", "Football: Baghdad club wins cup", "A late goal decided the final.", 3),
    ("w4", "Fallujah market reopens after repairs", "An old item beyond the backfill window.", 72),
])
LEDGER = rss("Baghdad Ledger", [
    ("l1", "Abu Khalid al-Rawi, senior ISIS figure, killed in US drone strike in Anbar's al-Qaim",
     "Abu Khalid al-Rawi was killed with two aides when a US drone struck near al-Qaim on Tuesday, officials said.", 0.5),
])


def config(server, tmp_path: Path, feeds: dict[str, str], extra: str = "", database_url: str = "") -> Path:
    rules = tmp_path / "rules"
    rules.mkdir(exist_ok=True)
    (rules / "anbar.toml").write_text(ANBAR, encoding="utf-8")
    (rules / "drone-strikes.toml").write_text(DRONES, encoding="utf-8")
    tables = "".join(f'[[feeds]]\nurl = "{server.url(path)}"\nname = "{name}"\n' for path, name in feeds.items())
    path = tmp_path / "config.toml"
    path.write_text(f"""
[bot]
data_dir = "data"
database_url = "{database_url}"
[polling]
allow_private_networks = true
timeout = "5s"
[outputs]
console = false
jsonl = "alerts.jsonl"
{extra}
{tables}""", encoding="utf-8")
    return path


def alerts(tmp_path: Path) -> list[dict]:
    path = tmp_path / "alerts.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


async def once(path: Path) -> App:
    app = App(load_runtime(path))
    await app.start()
    try:
        await app.cycle(every_feed=True)
    finally:
        await app.stop()
    return app


async def test_run_once_writes_expected_alerts_then_nothing_twice(feed_server, tmp_path, database_url):
    feed_server.set("/wire.xml", WIRE)
    feed_server.set("/ledger.xml", LEDGER)
    path = config(feed_server, tmp_path, {"/wire.xml": "Euphrates Wire", "/ledger.xml": "Baghdad Ledger"}, database_url=database_url)
    await once(path)
    lines = alerts(tmp_path)
    firsts = [a for a in lines if a["type"] == "alert"]
    titles = {a["title"] for a in firsts}
    assert "Ramadi council approves budget for new bridge" in titles
    assert not any("Football" in t or "Fallujah market" in t for t in titles)  # off-topic; backfill
    strike = [a for a in firsts if "al-Rawi" in a["title"]]
    assert len(strike) == 1, "two outlets, one event: one alert"
    assert set(strike[0]["topics"]) == {"anbar", "drone-strikes"}
    assert strike[0]["url"].startswith("https://news.example/") and "utm_" not in strike[0]["url"]
    updates = [a for a in lines if a["type"] == "update"]
    assert [u["story"] for u in updates] == [strike[0]["story"]]

    await once(path)  # unchanged feeds: conditional GET answered 304, nothing new
    assert alerts(tmp_path) == lines
    assert feed_server.count("/wire.xml", 304) == 1 and feed_server.count("/ledger.xml", 304) == 1


@pytest.mark.parametrize("classifier", ["", '[classifier]\nmode = "filter"\n'])
async def test_run_once_without_a_trained_model_never_loads_numpy_or_scikit_learn(feed_server, tmp_path, classifier):
    """numpy, scikit-learn, scipy and python-telegram-bot cost ~100 MB and seconds of start-up: a
    bot with rules only (or a classifier topic with no model yet) and no token must not import them;
    nor aiohttp's server half with no metrics listener."""
    feed_server.set("/wire.xml", WIRE)
    path = config(feed_server, tmp_path, {"/wire.xml": "Euphrates Wire"})
    anbar = tmp_path / "rules" / "anbar.toml"
    anbar.write_text(anbar.read_text(encoding="utf-8") + "\n" + classifier, encoding="utf-8")
    script = ("import asyncio, sys\n"
              "from tests.test_run import once\n"
              f"app = asyncio.run(once(__import__('pathlib').Path({str(path)!r})))\n"
              "assert app.runtime.matcher.status('anbar') in ('rules', 'filter (rules only: no model trained yet)'), app.runtime.matcher.status('anbar')\n"
              "print(sorted({m.split('.')[0] for m in sys.modules} & {'numpy', 'sklearn', 'scipy', 'telegram'}\n"
              "             | set(sys.modules) & {'aiohttp.web'}))\n")
    proc = await asyncio.create_subprocess_exec(sys.executable, "-c", script, cwd=REPO, stdout=asyncio.subprocess.PIPE)
    out, _ = await proc.communicate()
    assert proc.returncode == 0
    assert out.decode().strip() == "[]"
    assert any(a["type"] == "alert" for a in alerts(tmp_path))  # the cycle did run


async def test_same_item_in_two_feeds_alerts_once(feed_server, tmp_path, database_url):
    feed_server.set("/a.xml", WIRE)
    feed_server.set("/b.xml", WIRE.replace("Euphrates Wire", "Mirror"))
    await once(config(feed_server, tmp_path, {"/a.xml": "A", "/b.xml": "B"}, database_url=database_url))
    assert len([a for a in alerts(tmp_path) if a["type"] == "alert"]) == 2  # strike + council, once each


async def test_a_cycle_in_groups_of_one_feed_decides_as_one_group(feed_server, tmp_path, monkeypatch):
    """A big cycle is ingested a group of feeds at a time (memory); groups still fold the same
    item and its rewrites, whichever group they are in."""
    import bot.pipeline

    feed_server.set("/a.xml", WIRE)
    feed_server.set("/b.xml", LEDGER)
    feed_server.set("/c.xml", WIRE.replace("Euphrates Wire", "Mirror"))
    feeds = {"/a.xml": "A", "/b.xml": "B", "/c.xml": "C"}
    results = []
    for group in (bot.pipeline.GROUP, 1):
        monkeypatch.setattr(bot.pipeline, "GROUP", group)
        run = tmp_path / f"group-{group}"
        run.mkdir()
        await once(config(feed_server, run, feeds))
        results.append([(a["type"], a["title"], a.get("source")) for a in alerts(run)])
    assert results[0] == results[1]
    assert [t for t, _, _ in results[1]].count("alert") == 2  # strike (+ its rewrite, its copy) and council


async def test_a_cycle_takes_hosts_in_turns(feed_server, tmp_path):
    """Listed host by host, the feeds go out in turns by host (one at a time here): a host's next
    request finds its connection free instead of opening another beside it."""
    from tests.feedserver import FeedServer

    async with FeedServer("127.0.0.2") as other:
        for server in (feed_server, other):
            for n in (1, 2, 3):
                server.set(f"/{n}.xml", WIRE)
        path = config(feed_server, tmp_path, {f"/{n}.xml": f"A{n}" for n in (1, 2, 3)})
        tables = "".join(f'[[feeds]]\nurl = "{other.url(f"/{n}.xml")}"\nname = "B{n}"\n' for n in (1, 2, 3))
        path.write_text(path.read_text().replace("[polling]\n", "[polling]\nconcurrency = 1\n", 1) + tables)
        await once(path)
        hits = sorted((h.at, host, h.path) for host, server in (("a", feed_server), ("b", other))
                      for hs in server.hits.values() for h in hs)
    assert [f"{host}{p[1]}" for _, host, p in hits] == ["a1", "b1", "a2", "b2", "a3", "b3"]


async def test_failing_feed_backs_off_and_recovers(feed_server, tmp_path, database_url):
    feed_server.error("/wire.xml", 503)
    path = config(feed_server, tmp_path, {"/wire.xml": "Euphrates Wire"}, database_url=database_url)
    await once(path)
    app = await once(path)
    store = Store.open(app.runtime.config.bot.database_url)
    feed = store.feeds()[0]
    store.close()
    assert (feed.error_count, feed.last_status) == (2, "error")
    assert "503" in feed.last_error
    assert feed.next_check_at > datetime.now(UTC) + timedelta(minutes=20)  # backoff: 2 x 15 min, +-10%
    feed_server.set("/wire.xml", WIRE)
    await once(path)
    assert any(a["title"].startswith("Ramadi council") for a in alerts(tmp_path))


async def test_hot_reload_adds_feed_and_keeps_config_on_bad_edit(feed_server, tmp_path, database_url, caplog):
    feed_server.set("/wire.xml", WIRE)
    feed_server.set("/ledger.xml", LEDGER)
    path = config(feed_server, tmp_path, {"/wire.xml": "Euphrates Wire"}, database_url=database_url)
    app = App(load_runtime(path))
    await app.start()
    try:
        await app.tick()
        assert feed_server.count("/ledger.xml") == 0
        text = path.read_text(encoding="utf-8")
        path.write_text(text + f'[[feeds]]\nurl = "{feed_server.url("/ledger.xml")}"\nname = "Baghdad Ledger"\n', encoding="utf-8")
        await app.tick()
        assert feed_server.count("/ledger.xml") == 1
        path.write_text(text.replace("[polling]", "[polling]\nbogus = 1"), encoding="utf-8")
        await app.tick()
        assert "config not reloaded" in caplog.text and "polling.bogus" in caplog.text
        assert len(app.runtime.config.feeds) == 2  # the running config is kept
    finally:
        await app.stop()


def committed_items(url: str) -> int:
    """Items committed so far; 0 while the other process has not created the tables yet."""
    try:
        return count_rows(url, schema.items)
    except DBAPIError:
        return 0


def count_rows(url: str, table) -> int:
    engine = create_engine(url)
    with engine.connect() as conn:
        n = conn.execute(select(func.count()).select_from(table)).scalar()
    engine.dispose()
    return n


async def test_killed_mid_cycle_then_restarted_loses_nothing_duplicates_nothing(feed_server, tmp_path, database_url):
    """SIGKILL a real `wirewatch run --once` while one feed hangs; the rerun completes the job."""
    feed_server.set("/wire.xml", WIRE)
    feed_server.set("/ledger.xml", LEDGER, delay=60)  # hangs: the cycle cannot finish
    path = config(feed_server, tmp_path, {"/wire.xml": "Euphrates Wire", "/ledger.xml": "Baghdad Ledger"}, database_url=database_url)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "run", "--once", "-c", str(path), env=env)
    db = database_url
    for _ in range(300):  # wait until the fast feed has been served: the cycle now waits on the slow one
        await asyncio.sleep(0.1)
        if feed_server.count("/wire.xml") and feed_server.in_flight["/ledger.xml"]:
            break
    await asyncio.sleep(0.5)
    proc.send_signal(signal.SIGKILL)
    await proc.wait()
    # a cycle ingests its feeds together (one story decision whatever feed answered first):
    # killed while one feed hangs, it has stored and sent nothing
    assert committed_items(db) == 0 and alerts(tmp_path) == []

    feed_server.set("/ledger.xml", LEDGER)
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "run", "--once", "-c", str(path), env=env)
    assert await proc.wait() == 0
    lines = alerts(tmp_path)
    keys = [(a["type"], a["id"]) for a in lines]
    assert len(keys) == len(set(keys)) == 3  # strike, council, and the ledger's update
    assert count_rows(db, schema.items) == 5


async def test_feed_with_a_long_guid_and_a_nul_id_stores_and_alerts_beside_a_good_one(feed_server, tmp_path, database_url):
    """PostgreSQL refused these (VARCHAR(600), NUL): the whole cycle failed and nothing was alerted."""
    odd = rss("Odd Wire", [("x" * 700, "Anbar governor opens a school in Hit", "The governor of Anbar opened a school.", 1)])
    jsonfeed = json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "Null Feed", "items": [
        {"id": "nul\u0000id", "title": "Fallujah hospital adds a wing", "content_text": "A new wing in Fallujah.",
         "date_published": datetime.now(UTC).isoformat()}]})
    feed_server.set("/odd.xml", odd)
    feed_server.set("/null.json", jsonfeed, content_type="application/feed+json")
    feed_server.set("/wire.xml", WIRE)
    path = config(feed_server, tmp_path, {"/odd.xml": "Odd", "/null.json": "Null", "/wire.xml": "Euphrates Wire"},
                  database_url=database_url)
    await once(path)
    titles = {a["title"] for a in alerts(tmp_path) if a["type"] == "alert"}
    assert {"Anbar governor opens a school in Hit", "Fallujah hospital adds a wing",
            "Ramadi council approves budget for new bridge"} <= titles
    feed_server.set("/odd.xml", odd + " ")  # changed bodies: parsed again, the items are known
    feed_server.set("/null.json", jsonfeed + " ", content_type="application/feed+json")
    before = len(alerts(tmp_path))
    await once(path)
    assert len(alerts(tmp_path)) == before
    store = Store.open(database_url)
    try:
        assert {f.name: (f.last_status, f.error_count) for f in store.feeds()} == {
            "Odd": ("new", 0), "Null": ("new", 0), "Euphrates Wire": ("not_modified", 0)}
    finally:
        store.close()


def one_new_item_each(feed_server, tmp_path, feeds: int) -> App:
    """An App (not started) over `feeds` feeds of one new item each."""
    paths = {f"/f{n}.xml": f"Feed {n}" for n in range(feeds)}
    for n, path in enumerate(paths):
        feed_server.set(path, rss(f"Feed {n}", [(f"g{n}", f"Story {n} of the day", "Text.", 1)]))
    return App(load_runtime(config(feed_server, tmp_path, paths)))


async def test_a_group_of_new_bodies_asks_the_store_once_which_items_it_holds(feed_server, tmp_path):
    """One known-keys query a group of feeds, not one a feed: ~0.25 ms each through SQLAlchemy,
    for every changed feed of every cycle (bench/README "Known keys by group")."""
    from sqlalchemy import event

    app = one_new_item_each(feed_server, tmp_path, 4)
    await app.start()
    url, asked = str(app.store.engine.url), []
    event.listen(app.store.engine, "before_cursor_execute",
                 lambda _c, _cur, sql, *_: asked.append(sql) if 'WHERE items."key" IN' in sql else None)
    try:
        await app.cycle(every_feed=True)
    finally:
        await app.stop()
    assert len(asked) == 1, asked
    assert count_rows(url, schema.items) == 4  # every feed's item was taken in


async def test_a_failed_group_lookup_falls_back_to_each_feed(feed_server, tmp_path, caplog):
    """The group's one known-keys query failing (a locked database, say) costs the speed-up, not
    the items: each feed asks again on its own, and the failure is said."""
    app = one_new_item_each(feed_server, tmp_path, 3)
    await app.start()
    url, real, calls = str(app.store.engine.url), app.store.known_keys, []

    def first_fails(keys):
        calls.append(len(keys))
        if len(calls) == 1:
            raise DBAPIError("SELECT", {}, Exception("database is locked"))
        return real(keys)

    app.store.known_keys = first_fails
    try:
        await app.cycle(every_feed=True)
    finally:
        await app.stop()
    assert count_rows(url, schema.items) == 3 and len(calls) > 1
    assert "not read at once" in caplog.text
