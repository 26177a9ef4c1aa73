"""Scale-out (issue 16): roles, the hand-over, two pollers and a core over a loopback farm.

The PostgreSQL tests skip (naming why) without WIREWATCH_TEST_POSTGRES; `.ci/run` starts a server.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot import cli
from bot.app import App
from bot.models import Item
from bot.runtime import load_runtime
from bot.store import handover
from bot.store import schema as t
from bot.store.db import FeedState
from tests.scalefarm import ANBAR, Farm, alert_titles, farm_config, stop_all, until, wirewatch

INTERVAL = 3.0


def sqlite_config(tmp_path: Path, url: str) -> Path:
    (tmp_path / "rules").mkdir(exist_ok=True)
    (tmp_path / "rules" / "anbar.toml").write_text(ANBAR, encoding="utf-8")
    path = tmp_path / "config.toml"
    path.write_text(f'[bot]\ndata_dir = "data"\ndatabase_url = "{url}"\n[outputs]\nconsole = false\n', encoding="utf-8")
    return path


@pytest.mark.parametrize("role", ["poller", "core"])
def test_sqlite_runs_only_role_all_and_says_so(tmp_path, capsys, role):
    path = sqlite_config(tmp_path, f"sqlite:///{tmp_path / 'ww.db'}")
    assert cli.main(["run", "--role", role, "-c", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"--role {role} needs PostgreSQL" in err and "--role all" in err
    assert not (tmp_path / "ww.db").exists()  # refused before anything was opened


def test_once_is_a_single_process_cycle(tmp_path, capsys):
    path = sqlite_config(tmp_path, "postgresql+psycopg://nobody@127.0.0.1:9/none")  # never connected to
    assert cli.main(["run", "--once", "--role", "core", "-c", str(path)]) == 1
    assert "--once is one whole cycle in one process: use it with --role all" in capsys.readouterr().err


def item(key: str, title: str, minutes_ago: float, now: datetime) -> Item:
    return Item(key=key, title=title, summary=f"{title} in Anbar.", url=f"https://news.example/{key}",
                source="Wire", published=now - timedelta(minutes=minutes_ago), feed_id=None, content_hash=key)


POSTGRES = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # skips without a server


@POSTGRES
async def test_handed_over_items_are_stored_once_in_arrival_order(tmp_path, database_url):
    """A feed fetched again before the core ran hands an item over twice: stored and alerted once;
    a quiet item (a new feed's backfill) is stored without an alert; the lag counts the oldest row."""
    path = farm_config(tmp_path, Farm(feeds=0), database_url, interval=INTERVAL)
    app = App(load_runtime(Path(path)), role="core")
    await app.start()
    try:
        now = datetime.now(UTC)
        feed_id = app.store.add_feed("https://wire.example/rss", "Wire", "admin", now)
        state = FeedState(checked_at=now, next_check_at=now + timedelta(minutes=5), status="new")
        a, b, c = (item(f"guid:{k}", title, m, now) for k, title, m in (
            ("a", "Ramadi council approves bridge budget", 30), ("b", "Fallujah hospital opens new wing", 20),
            ("c", "Flood warning issued for Qaim farmers", 10)))
        old = item("guid:old", "Ramadi old market", 60 * 48, now)
        handover.hand_over(app.store.engine, feed_id, state, [(old, True), (a, False), (b, False)], now - timedelta(seconds=40))
        handover.hand_over(app.store.engine, feed_id, state, [(b, False), (c, False)], now)
        assert 39 <= app.core_lag() <= 120  # the older row waited ~40 s
        report = app.pipeline.take_handover()
        assert report.handed == 2 and [o.new_items for o in report.outcomes] == [4]
        with app.store.engine.connect() as conn:
            keys = conn.execute(select(t.items.c.key).order_by(t.items.c.id)).scalars().all()
            outbox = conn.execute(select(t.outbox.c.item_id, t.outbox.c.kind)).all()
            left = conn.execute(select(func.count()).select_from(t.handover)).scalar()
            total = conn.execute(select(t.feeds.c.items_total).where(t.feeds.c.id == feed_id)).scalar()
        assert keys == ["guid:old", "guid:a", "guid:b", "guid:c"]  # arrival order, b once
        assert sorted(outbox) == [(2, "alert"), (3, "alert"), (4, "alert")] and left == 0 and total == 4
        assert app.core_lag() == 0.0
        handover.hand_over(app.store.engine, feed_id, state, [(c, False)], now)  # at least once: again
        assert app.pipeline.take_handover().outcomes[0].new_items == 0
    finally:
        await app.stop()


def gaps(farm: Farm, k: int) -> list[float]:
    hits = farm.fetches(k)
    return [after - before for before, after in zip(hits, hits[1:], strict=False)]


@pytest.fixture
async def farm():
    farm = await Farm(feeds=200, per_host=5).start()  # 40 hosts
    yield farm
    await farm.stop()


@POSTGRES
async def test_two_pollers_and_a_core_fetch_each_feed_once_per_interval_and_alert_each_item_once(
        tmp_path, database_url, farm):
    path = farm_config(tmp_path, farm, database_url, interval=INTERVAL)
    core = await wirewatch(path, "--role", "core")
    pollers = [await wirewatch(path, "--role", "poller") for _ in range(2)]
    try:
        for _ in range(3):  # three rounds of one new item per feed
            wanted = farm.titles()
            await until(lambda w=wanted: w <= set(alert_titles(tmp_path)), "every item of the round alerted")
            farm.publish()
        await until(lambda: farm.titles() <= set(alert_titles(tmp_path)), "the last round alerted")
    finally:
        logs = await stop_all(core, *pollers)
    titles = alert_titles(tmp_path)
    assert set(titles) == farm.titles() and len(titles) == len(set(titles)) == 4 * 200  # none lost, none twice
    assert min(g for k in range(farm.feeds) for g in gaps(farm, k)) >= INTERVAL * 0.95  # never twice in an interval
    assert all(len(farm.fetches(k)) >= 4 for k in range(farm.feeds))
    fetched = [int(m.group(1)) for p in pollers if (m := re.search(r"fetched (\d+) feeds", logs[p.pid]))]
    assert len(fetched) == 2 and all(n > 0 for n in fetched), logs  # both pollers did work
    assert sum(fetched) == sum(len(farm.fetches(k)) for k in range(farm.feeds))
    for proc in (core, *pollers):
        assert proc.returncode == 0 and "Traceback" not in logs[proc.pid], logs[proc.pid]


@POSTGRES
async def test_a_poller_or_a_core_beside_a_single_process_is_refused(tmp_path, database_url):
    path = farm_config(tmp_path, Farm(feeds=0), database_url, interval=INTERVAL)
    single = await wirewatch(path)
    try:
        await until(lambda: single.returncode is not None or _holds(database_url), "the single process's lock")
        poller = await wirewatch(path, "--role", "poller")
        core = await wirewatch(path, "--role", "core")
        refused = {p.pid: (await asyncio.wait_for(p.communicate(), 60))[1].decode() for p in (poller, core)}
    finally:
        await stop_all(single)
    assert poller.returncode == 1 and "(--role all) is running on this database" in refused[poller.pid], refused
    assert core.returncode == 1 and f"another wirewatch is running on this database (pid {single.pid}," in refused[core.pid]


def _holds(url: str) -> bool:
    from bot.scale.locks import holder

    return bool(holder(url, "pollers:"))  # taken after "run:"



def test_status_shows_the_cores_lag_only_on_a_core():
    from bot.tg.explain import status_text

    assert "the oldest waiting 42s" in status_text({}, {}, [], 1.0, lag=42.4)
    assert "pollers" not in status_text({}, {}, [], 1.0)


@POSTGRES
async def test_a_core_whose_lock_connection_died_stops_with_exit_1(tmp_path, database_url):
    """A core cut off from the database (its lock's connection gone: the server may have handed the
    lock to the standby) must stop working as the core; the metric shows the lag meanwhile."""
    from prometheus_client import generate_latest
    from sqlalchemy import create_engine, text

    from bot.errors import WirewatchError

    path = farm_config(tmp_path, Farm(feeds=0), database_url, interval=INTERVAL)
    app = App(load_runtime(Path(path)), role="core", exclusive=True)
    await app.start()
    try:
        assert b"wirewatch_core_lag_seconds 0.0" in generate_latest(app.metrics.registry)
        admin = create_engine(database_url)
        with admin.begin() as conn:
            killed = conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                                       " WHERE application_name = :me"),
                                  {"me": f"wirewatch pid={os.getpid()} host={socket.gethostname()} role=core"}).all()
        admin.dispose()
        assert killed == [(True,)]
        with pytest.raises(WirewatchError, match="lost the core lock"):
            await asyncio.wait_for(app.run_forever(asyncio.Event()), 60)
    finally:
        await app.stop()


def test_compose_runs_one_core_a_standby_and_two_pollers_from_one_image_on_postgresql():
    yaml = pytest.importorskip("yaml", reason="PyYAML reads compose.yaml")
    compose = yaml.safe_load((Path(__file__).resolve().parents[1] / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert services["db"]["image"].startswith("postgres:")
    ours = {name: s for name, s in services.items() if name != "db"}
    assert {s["image"] for s in ours.values()} == {"wirewatch"}
    assert {s["build"]["args"]["EXTRAS"] for s in ours.values()} == {"postgres"}
    roles = Counter()
    for s in ours.values():
        args = cli.build_parser().parse_args(s["command"])  # what the image's entrypoint gets
        roles[args.role] += s.get("deploy", {}).get("replicas", 1)
    assert roles == {"core": 2, "poller": 2}  # the second core is the standby


def test_the_migration_adds_the_handover_table(database_url):
    from sqlalchemy import inspect, text, update

    from bot.store.db import Store

    s = Store.open(database_url)
    with s.engine.begin() as conn:
        conn.execute(text("DROP TABLE handover"))
        conn.execute(update(t.meta).values(value=str(t.SCHEMA_VERSION - 1)))
    s.close()
    s = Store.open(database_url)
    try:
        assert "handover" in inspect(s.engine).get_table_names()
        with s.engine.connect() as conn:
            assert t.current_version(conn) == t.SCHEMA_VERSION
    finally:
        s.close()


def test_the_core_tells_the_admin_about_feeds_the_pollers_found_failing_and_recovered(store):
    """A single process draws these notices from its own cycle; the core, from the feed rows the
    pollers wrote (each of its ticks reads the feeds checked since the last)."""
    from bot.scale.core import FeedWatch
    from bot.tg.explain import feed_notices

    now = datetime.now(UTC)
    feed_id = store.add_feed("https://wire.example/rss", "Wire", "admin", now)
    watch = FeedWatch()
    assert watch.outcomes(store.engine) == []  # the baseline
    notices = []
    for n, status in enumerate(["error", "error", "error", "error", "not_modified"], start=1):
        at = now + timedelta(minutes=n)
        store.save_states([(feed_id, FeedState(checked_at=at, next_check_at=at, status=status, error="http: 500"))])
        notices += feed_notices(watch.outcomes(store.engine), failing_after=3)
        assert watch.outcomes(store.engine) == []  # nothing changed since
    assert len(notices) == 2
    assert notices[0].startswith("⚠️ Feed failing: <b>Wire</b>") and "3 errors in a row; last: http: 500" in notices[0]
    assert notices[1].startswith("✅ Feed recovered: <b>Wire</b>") and "after 4 errors" in notices[1]


def test_dispatch_packs_whole_hosts_into_jobs_and_skips_busy_hosts():
    from bot.scale.engine import batch_size, pack

    due = {"a.example": [1, 2, 3], "b.example": [4], "c.example": [5, 6], "d.example": [7, 8, 9, 10]}
    assert pack(due, set(), size=4) == [{"hosts": ["a.example", "b.example"], "feed_ids": [1, 2, 3, 4]},
                                        {"hosts": ["c.example", "d.example"], "feed_ids": [5, 6, 7, 8, 9, 10]}]
    assert pack(due, {"a.example", "d.example"}, size=4) == [{"hosts": ["b.example", "c.example"], "feed_ids": [4, 5, 6]}]
    assert batch_size(20) == 50 and batch_size(4) == 12


@POSTGRES
async def test_a_standby_core_waits_then_stops_quietly_on_sigterm(tmp_path, database_url):
    from bot.scale.locks import holder

    path = farm_config(tmp_path, Farm(feeds=0), database_url, interval=INTERVAL)
    first = await wirewatch(path, "--role", "core")
    try:
        await until(lambda: holder(database_url, "run:").get("pid") == str(first.pid), "the first core's lock")
        standby = await wirewatch(path, "--role", "core")
        line = await asyncio.wait_for(standby.stderr.readline(), 60)  # logging starts with the wait
        while b"waiting to take over" not in line:
            line = await asyncio.wait_for(standby.stderr.readline(), 60)
        logs = await stop_all(standby)
        assert holder(database_url, "run:").get("pid") == str(first.pid)  # the standby never held it
    finally:
        await stop_all(first)
    assert standby.returncode == 0 and "Traceback" not in logs[standby.pid], logs[standby.pid]
