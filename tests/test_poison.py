"""One bad feed never stops the bot: a poison feed beside good ones on the loopback feed server,
through the pipeline (App.cycle, App.tick) and a real `run --once` process, on real SQLite."""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import sys
from datetime import UTC, datetime, timedelta

from sqlalchemy import event, text

from bot.app import App
from bot.runtime import load_runtime
from bot.store.db import Store
from tests.test_run import LEDGER, REPO, WIRE, alerts, config, rss

# The poison: its item's insert is refused by the database (a trigger installed in the real SQLite
# file), so its update raises a storage error: the feed's transaction is rolled back, the error
# recorded on the feed. A parse or normalize bug would take the same path (tests/test_fuzz_feeds.py
# shows none is left in the known causes).
POISON = rss("Poison", [("p1", "POISON Anbar item", "Ramadi", 1)])
TRIGGER = ("CREATE TRIGGER IF NOT EXISTS poison BEFORE INSERT ON items WHEN NEW.title LIKE 'POISON%' "
           "BEGIN SELECT RAISE(ABORT, 'refused by test trigger'); END")


def feeds_by_name(app: App) -> dict:
    store = Store.open(app.runtime.config.bot.database_url)
    try:
        return {f.name: f for f in store.feeds()}
    finally:
        store.close()


async def started(path) -> App:
    """A started App whose database refuses the poison item."""
    app = App(load_runtime(path))
    await app.start()
    with app.store.engine.begin() as conn:
        conn.execute(text(TRIGGER))
    return app


async def test_a_poison_feed_is_recorded_and_the_good_feeds_deliver(feed_server, tmp_path, caplog):
    feed_server.set("/wire.xml", WIRE)
    feed_server.set("/ledger.xml", LEDGER)
    feed_server.set("/poison.xml", POISON)
    path = config(feed_server, tmp_path, {"/wire.xml": "Wire", "/poison.xml": "Poison", "/ledger.xml": "Ledger"})
    app = await started(path)
    try:
        report = await app.cycle(every_feed=True)
        assert {o.feed.name: o.status for o in report.outcomes} == {"Wire": "new", "Ledger": "new", "Poison": "error"}
        await app.cycle(every_feed=True)
    finally:
        await app.stop()
    titles = {a["title"] for a in alerts(tmp_path) if a["type"] == "alert"}
    assert "Ramadi council approves budget for new bridge" in titles and not any("POISON" in t for t in titles)
    feeds = feeds_by_name(app)
    poison = feeds["Poison"]
    assert (poison.error_count, poison.items_total) == (2, 0)  # its transaction was rolled back
    assert poison.last_error == "storage: IntegrityError: refused by test trigger"
    assert poison.next_check_at > datetime.now(UTC) + timedelta(minutes=20)  # backoff, not every tick
    assert feeds["Wire"].error_count == 0 and feeds["Wire"].items_total == 4


async def test_its_traceback_is_logged_once_not_every_tick(feed_server, tmp_path, caplog):
    feed_server.set("/wire.xml", WIRE)
    feed_server.set("/poison.xml", POISON)
    path = config(feed_server, tmp_path, {"/wire.xml": "Wire", "/poison.xml": "Poison"})
    app = await started(path)
    try:
        with caplog.at_level(logging.WARNING):
            for _ in range(3):
                await app.cycle(every_feed=True)
    finally:
        await app.stop()
    tracebacks = [r for r in caplog.records if r.exc_info]
    assert len(tracebacks) == 1 and "poison.xml" in tracebacks[0].getMessage()
    assert caplog.text.count("traceback logged before") == 2
    assert "poll cycle failed" not in caplog.text


async def test_the_admin_is_told_after_failing_after_errors(feed_server, tmp_path):
    from bot.tg.explain import feed_notices

    feed_server.set("/poison.xml", POISON)
    path = config(feed_server, tmp_path, {"/poison.xml": "Poison"})
    app = await started(path)
    notices = []
    try:
        for _ in range(4):
            report = await app.cycle(every_feed=True)
            notices += feed_notices(report.outcomes, app.runtime.config.telegram.failing_after)
    finally:
        await app.stop()
    assert len(notices) == 1 and "Feed failing" in notices[0] and "refused by test trigger" in notices[0]


async def test_run_once_exits_0_and_delivers_beside_a_poison_feed(feed_server, tmp_path):
    feed_server.set("/wire.xml", WIRE)
    feed_server.set("/poison.xml", POISON)
    path = config(feed_server, tmp_path, {"/poison.xml": "Poison", "/wire.xml": "Wire"})
    await (await started(path)).stop()  # creates the database with its trigger, polls nothing
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "run", "--once", "-c", str(path),
                                                env=env, stderr=asyncio.subprocess.PIPE)
    _, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    assert "1 failed" in err.decode() and "refused by test trigger" in err.decode()
    assert any(a["title"].startswith("Ramadi council") for a in alerts(tmp_path))


def fill_disk_on_connect(app: App) -> None:
    """Every new connection may not grow the file: SQLite answers SQLITE_FULL, as on a full disk.
    (With a rollback journal: in WAL mode SQLite checks the cap only when it checkpoints.)"""
    def cap(dbapi_conn: sqlite3.Connection, _record) -> None:
        dbapi_conn.execute("PRAGMA journal_mode=DELETE")
        pages = dbapi_conn.execute("PRAGMA page_count").fetchone()[0]
        dbapi_conn.execute(f"PRAGMA max_page_count = {pages}")

    event.listen(app.store.engine, "connect", cap)
    app.store.engine.dispose()


# Enough text that storing it needs new pages in the database file.
BULKY = rss("Bulky", [(f"b{i}", f"Ramadi report {i}", "Anbar council news. " * 60, 1) for i in range(40)])


async def test_full_disk_holds_work_with_one_warning_and_no_traceback(feed_server, tmp_path, caplog):
    feed_server.set("/bulky.xml", BULKY)
    path = config(feed_server, tmp_path, {"/bulky.xml": "Bulky"})
    app = await started(path)
    try:
        fill_disk_on_connect(app)
        with caplog.at_level(logging.WARNING):
            for _ in range(4):
                await app.tick()
    finally:
        await app.stop()
    assert not any(r.exc_info for r in caplog.records)
    assert caplog.text.count("database or disk is full") == 1
    assert feed_server.count("/bulky.xml") == 1  # held after the first attempt: no refetch every tick
    assert alerts(tmp_path) == []
    app = await started(path)  # space again: nothing was lost
    try:
        await app.cycle(every_feed=True)
    finally:
        await app.stop()
    assert feeds_by_name(app)["Bulky"].items_total == 40
    assert alerts(tmp_path)


async def test_run_once_on_a_full_disk_exits_3_saying_polling_was_held(feed_server, tmp_path, capsys, monkeypatch):
    """The cap goes on right after start (App.start wrapped): the same SQLITE_FULL as a full disk."""
    from bot.cli import main

    feed_server.set("/bulky.xml", BULKY)
    path = config(feed_server, tmp_path, {"/bulky.xml": "Bulky"})
    start = App.start

    async def start_then_fill(self: App) -> None:
        await start(self)
        fill_disk_on_connect(self)

    monkeypatch.setattr(App, "start", start_then_fill)
    code = await asyncio.to_thread(main, ["run", "--once", "-c", str(path)])
    err = capsys.readouterr().err
    assert code == 3, err
    assert "held" in err and "disk is full" in err and "Traceback" not in err, err
    monkeypatch.setattr(App, "start", start)  # space again: nothing was lost
    assert await asyncio.to_thread(main, ["run", "--once", "-c", str(path)]) == 0
    assert feeds_by_name(App(load_runtime(path)))["Bulky"].items_total == 40
