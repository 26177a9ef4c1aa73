"""Prometheus metrics and /healthz, scraped from a real running server on loopback."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta

import aiohttp
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from bot.app import App
from bot.metrics import health
from bot.runtime import load_runtime
from tests.test_run import LEDGER, WIRE, config


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def samples(text: str) -> dict[tuple[str, tuple], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


async def test_metrics_and_healthz_are_served_while_running(feed_server, tmp_path):
    feed_server.set("/wire.xml", WIRE)
    feed_server.set("/ledger.xml", LEDGER)
    feed_server.error("/down.xml", 503)
    port = free_port()
    path = config(feed_server, tmp_path, {"/wire.xml": "Euphrates Wire", "/ledger.xml": "Baghdad Ledger",
                                          "/down.xml": "Down"}, extra=f'[metrics]\nlisten = "127.0.0.1:{port}"')
    now = [datetime.now(UTC)]
    registry = CollectorRegistry()
    app = App(load_runtime(path), clock=lambda: now[0], registry=registry)
    await app.start()
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/healthz") as r:
                assert r.status == 200 and "starting" in await r.text()
            await app.cycle(every_feed=True)
            async with http.get(f"http://127.0.0.1:{port}/metrics") as r:
                assert r.status == 200
                got = samples(await r.text())
            async with http.get(f"http://127.0.0.1:{port}/healthz") as r:
                assert r.status == 200 and "ok: last poll cycle ended" in await r.text()
            now[0] += timedelta(minutes=46)  # 3 x the 15 min poll interval, and a minute
            async with http.get(f"http://127.0.0.1:{port}/healthz") as r:
                assert r.status == 503 and "more than 3 poll intervals" in await r.text()
    finally:
        await app.stop()
    assert got[("wirewatch_fetches_total", (("result", "new"),))] == 2
    assert got[("wirewatch_fetches_total", (("result", "error"),))] == 1
    assert got[("wirewatch_fetch_duration_seconds_count", ())] == 3
    assert got[("wirewatch_items_new_total", ())] == 5
    assert got[("wirewatch_story_decisions_total", (("kind", "join"),))] == 1
    assert got[("wirewatch_story_decisions_total", (("kind", "new"),))] == 4
    assert got[("wirewatch_feeds", (("status", "new"),))] == 2
    assert got[("wirewatch_feeds", (("status", "error"),))] == 1
    assert got[("wirewatch_outbox_rows", (("outcome", "sent"), ("sink", "jsonl")))] == 3  # 2 alerts, 1 update
    assert got[("wirewatch_outbox_depth", ())] == 0
    assert got[("wirewatch_cycle_duration_seconds_count", ())] == 1
    assert ("wirewatch_classifier_retrains_total", ()) in got and ("wirewatch_last_cycle_end_timestamp_seconds", ()) in got
    assert registry is app.metrics.registry  # injected, not the global one


def test_health_rules():
    t0 = datetime(2026, 11, 21, tzinfo=UTC)
    assert health(None, t0, t0 + timedelta(seconds=10), 60)[0]
    assert health(None, t0, t0 + timedelta(seconds=181), 60) == (False, "no poll cycle finished in the 181s since start (limit 180s)")
    assert health(t0, t0, t0 + timedelta(seconds=180), 60)[0]
    assert not health(t0, t0, t0 + timedelta(seconds=181), 60)[0]


async def test_a_port_in_use_is_a_clear_error(feed_server, tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        path = config(feed_server, tmp_path, {}, extra=f'[metrics]\nlisten = "127.0.0.1:{port}"')
        app = App(load_runtime(path))
        try:
            await app.start()
        except Exception as exc:
            assert f"metrics.listen 127.0.0.1:{port}" in str(exc)
        else:
            await app.stop()
            raise AssertionError("started on a port in use")
