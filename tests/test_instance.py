"""One wirewatch per database, setup safe when two start at once, --once drains, SIGTERM is quiet."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import threading
from datetime import UTC, datetime, timedelta

import pytest

from bot.app import App
from bot.runtime import load_runtime
from bot.store.db import Store
from bot.store.lock import AlreadyRunning
from tests.test_run import REPO, WIRE, alerts, committed_items, config, rss

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def test_second_instance_lock_is_refused_naming_the_holder_then_free_again(database_url):
    first, second = Store.open(database_url), Store.open(database_url)
    try:
        held = first.lock_instance()
        with pytest.raises(AlreadyRunning, match=rf"another wirewatch is running on this database "
                                                  rf"\(pid {os.getpid()}, host {socket.gethostname()}\)"):
            second.lock_instance()
        held.release()
        second.lock_instance().release()  # released: the next one gets it
    finally:
        first.close()
        second.close()


def test_setup_is_safe_when_several_start_at_once(database_url):
    """Creating the tables and syncing config feeds from four threads on a new database."""
    feeds = [(f"https://f{i}.org/rss", f"F{i}", None) for i in range(20)]
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def one() -> None:
        try:
            start.wait()
            store = Store.open(database_url)
            store.sync_config_feeds(feeds, NOW)
            store.close()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    store = Store.open(database_url)
    assert len(store.feeds()) == 20
    store.close()


def env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO)}


async def wirewatch(*args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", *args, env=env(),
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)


async def wait_for_items(url: str, count: int) -> None:
    for _ in range(300):
        await asyncio.sleep(0.1)
        if committed_items(url) >= count:
            return
    raise AssertionError(f"fewer than {count} items were committed")


async def test_second_run_exits_1_and_sigterm_mid_tick_stops_quietly(feed_server, tmp_path, database_url):
    feed_server.set("/wire.xml", WIRE)
    feed_server.set("/slow.xml", WIRE.replace("Euphrates Wire", "Slow"), delay=60)  # a tick in progress
    path = config(feed_server, tmp_path, {"/wire.xml": "Euphrates Wire", "/slow.xml": "Slow"},
                  database_url=database_url)
    path.write_text(path.read_text(encoding="utf-8").replace('timeout = "5s"', 'timeout = "120s"'), encoding="utf-8")
    running = await wirewatch("run", "-c", str(path))
    try:
        # a cycle commits once every feed answered: wait until the slow feed holds the tick
        for _ in range(600):
            if feed_server.count("/wire.xml") and feed_server.in_flight["/slow.xml"]:
                break
            await asyncio.sleep(0.1)
        second = await wirewatch("run", "--once", "-c", str(path))
        out, err = await asyncio.wait_for(second.communicate(), 60)
        assert second.returncode == 1
        assert f"another wirewatch is running on this database (pid {running.pid}, host {socket.gethostname()})" in err.decode()
        running.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(running.communicate(), 60)
    finally:
        if running.returncode is None:
            running.kill()
            await running.wait()
    assert running.returncode == 0
    text = err.decode()
    assert "Traceback" not in text and "CancelledError" not in text, text
    assert "the poll cycle in progress was abandoned" in text
    feed_server.set("/slow.xml", WIRE.replace("Euphrates Wire", "Slow"))
    again = await wirewatch("run", "--once", "-c", str(path))  # the lock was released
    _, err = await asyncio.wait_for(again.communicate(), 60)
    assert again.returncode == 0, err.decode()
    keys = [(a["type"], a["id"]) for a in alerts(tmp_path)]
    assert len(keys) == len(set(keys)) and keys  # nothing twice


async def test_run_once_delivers_everything_it_queued(feed_server, tmp_path):
    """A pass delivers 500 rows; --once goes on until the outbox is empty (here 600 rows)."""
    now = datetime.now(UTC)
    words = [f"z{n:04x}q" for n in range(5000)]
    items = [(f"g{n}", " ".join(["Ramadi", *(words[(k * 7919 * n + k) % 5000] for k in range(1, 7))]),
              " ".join(words[(k * 104729 * n + 3 * k) % 5000] for k in range(1, 5)), 1 + n / 1000) for n in range(600)]
    feed_server.set("/many.xml", rss("Many", items))
    path = config(feed_server, tmp_path, {"/many.xml": "Many"}, extra="")
    path.write_text(path.read_text(encoding="utf-8").replace("console = false", "console = true"), encoding="utf-8")
    app = App(load_runtime(path), stdout=open(os.devnull, "w"))  # noqa: SIM115 - closed with the process
    await app.start()
    try:
        await app.cycle(every_feed=True)
        assert app.store.counts(now - timedelta(hours=1))["pending"] == 0
    finally:
        await app.stop()
    assert len(alerts(tmp_path)) > 500 / 2  # > 500 rows over two sinks (console and JSONL)
