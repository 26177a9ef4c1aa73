"""The slow path in real worker processes: a parse past its deadline is stopped and recorded as
parse_timeout, the next parse gets a fresh worker, and the cycle does not wait for the runaway."""

from __future__ import annotations

import asyncio

import pytest

from bot.errors import FeedError
from bot.ingest.parse import parse_feed
from bot.ingest.parsepool import ParsePool
from tests.test_run import WIRE, config

# A DOCTYPE sends the document to feedparser (the fast path declines it); 3,000 items take
# feedparser well over a second, far past the 0.05 s deadline used below.
SLOW = ("<?xml version='1.0'?><!DOCTYPE rss><rss version='2.0'><channel><title>Slow</title>"
        + "".join(f"<item><title>Item {i}</title><link>https://slow.example/{i}</link>"
                  f"<description>{'words ' * 40}</description></item>" for i in range(3000))
        + "</channel></rss>").encode()
SMALL = SLOW[: SLOW.index(b"<item>")] + b"<item><title>One</title><link>https://slow.example/1</link></item></channel></rss>"


async def test_a_parse_past_its_deadline_is_stopped_and_the_pool_recovers() -> None:
    pool = ParsePool(timeout=0.05)
    try:
        with pytest.raises(FeedError) as caught:
            await pool.parse(SLOW, url="https://slow.example/")
        assert caught.value.kind == "parse_timeout" and pool.killed == 1
        pool.timeout = 30.0
        feed = await pool.parse(SMALL, url="https://slow.example/")  # a fresh worker
        assert feed == parse_feed(SMALL, url="https://slow.example/")
    finally:
        await pool.close()


async def test_the_worker_gives_what_parse_feed_gives() -> None:
    pool = ParsePool(timeout=30.0)
    try:
        for body in (SMALL, WIRE.encode(), b"<html><body>not a feed</body></html>"):
            try:
                expected = parse_feed(body, url="https://x.example/")
            except FeedError as exc:
                with pytest.raises(FeedError) as caught:
                    await pool.parse(body, url="https://x.example/")
                assert str(caught.value) == str(exc)
            else:
                assert await pool.parse(body, url="https://x.example/") == expected
    finally:
        await pool.close()


async def test_a_runaway_feed_is_recorded_and_the_others_deliver(feed_server, tmp_path) -> None:
    from bot.app import App
    from bot.runtime import load_runtime
    from tests.test_poison import feeds_by_name
    from tests.test_run import alerts

    feed_server.set("/wire.xml", WIRE)
    feed_server.set("/slow.xml", SLOW)
    path = config(feed_server, tmp_path, {"/slow.xml": "Slow", "/wire.xml": "Wire"}, extra="")
    path.write_text(path.read_text().replace("[polling]", '[polling]\nparse_timeout = "0.05s"'))
    app = App(load_runtime(path))
    await app.start()
    try:
        report = await asyncio.wait_for(app.cycle(every_feed=True), 60)
    finally:
        await app.stop()
    assert {o.feed.name: o.status for o in report.outcomes} == {"Slow": "error", "Wire": "new"}
    assert feeds_by_name(app)["Slow"].last_error.startswith("parse_timeout: parsing took longer than 0.05s")
    assert any(a["title"].startswith("Ramadi council") for a in alerts(tmp_path))
