"""Delivery under pressure, end to end: 429 storms, a crash mid-delivery, blocked and migrated
chats, edits that cannot be made, network errors, forum threads, mutes."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from sqlalchemy import select

from bot.store import chats as db
from bot.store import schema as t
from bot.tg.limits import Limits
from tests.botapi import BLOCKED, EDIT_NOT_FOUND, NOT_MODIFIED, ApiError, bot_api, too_many  # noqa: F401
from tests.tg_harness import (
    ADMIN,
    COUNCIL,
    STRIKE,
    STRIKE_B,
    USER,
    Clock,
    ask,
    many,
    outbox,
    rss,
    start_app,
    write_config,
)

# PTB itself warns when it builds a RetryAfter (retry_after becomes a timedelta in PTB 23).
pytestmark = pytest.mark.filterwarnings("ignore:.*retry_after:telegram.warnings.PTBDeprecationWarning")
CHATS = (8, 11, 12, -1005)


def chat_tables(ids, **extra) -> str:
    more = "".join(f"{k} = {v!r}\n".replace("'", '"') for k, v in extra.items())
    return "".join(f'[[chats]]\nid = {i}\ntopics = ["anbar"]\n{more}' for i in ids)


def titles(api, chat_id: int) -> list[str]:
    return [m.text.split("\n")[1] for m in api.messages(chat_id)]


async def drain_all(app, clock: Clock, rounds: int = 10) -> None:
    """Deliver until nothing is pending, moving the clock past each retry time."""
    for _ in range(rounds):
        await app.deliver()
        if not any(status == "pending" for chat in CHATS for _, status, _ in outbox(app, f"tg:{chat}")):
            return
        clock.advance(seconds=30)


async def test_429_storm_delivers_everything_once_in_order(bot_api, feed_server, tmp_path):  # noqa: F811
    feed_server.set("/wire.xml", rss("Wire", many(5)))
    path = write_config(tmp_path, bot_api, {feed_server.url("/wire.xml"): "Wire"}, chats=chat_tables(CHATS))
    clock = Clock()
    limits = Limits(overall_per_second=0, group_per_minute=0, chat_per_second=0, max_retries=1)
    app = await start_app(path, clock, limits)
    try:
        bot_api.fail("sendMessage", too_many(retry_after=1), times=10)  # more than PTB retries: the outbox retries too
        await app.cycle(every_feed=True)
        await drain_all(app, clock)
        assert not bot_api.faults["sendMessage"]  # every injected 429 was served
        with app.store.engine.connect() as conn:  # PTB gave up on some: the outbox retried those later
            retried = conn.execute(select(t.outbox.c.id).where(t.outbox.c.last_error.like("rate limited%"))).all()
        assert retried
        for chat in CHATS:
            rows = outbox(app, f"tg:{chat}")
            assert [status for _, status, _ in rows] == ["sent"] * 5
            assert titles(bot_api, chat) == [title for title, _, _ in rows]  # exactly once, in outbox order
            assert [m.message_id for m in bot_api.messages(chat)] == [int(ref) for _, _, ref in rows]
    finally:
        await app.stop()


async def test_crash_mid_delivery_loses_nothing(bot_api, feed_server, tmp_path):  # noqa: F811
    feed_server.set("/wire.xml", rss("Wire", many(8)))
    path = write_config(tmp_path, bot_api, {feed_server.url("/wire.xml"): "Wire"}, chats=chat_tables([8]))
    paced = Limits(overall_per_second=0, group_per_minute=0, chat_per_second=20, max_retries=1)
    app = await start_app(path, limits=paced)
    running = asyncio.create_task(app.cycle(every_feed=True))
    await bot_api.wait_for(lambda: len(bot_api.messages(8)) >= 3)
    running.cancel()  # the process dies between two sends, or with one in flight
    await asyncio.gather(running, return_exceptions=True)
    await app.stop()
    delivered_before = len(bot_api.messages(8))
    assert 3 <= delivered_before < 8

    app = await start_app(path, limits=paced)  # a new process on the same database
    try:
        await app.deliver()
        counts = Counter(titles(bot_api, 8))
        assert set(counts) == {title for title, _, _ in outbox(app, "tg:8")} and len(counts) == 8
        assert sum(counts.values()) - 8 <= 1  # at most the one in flight was sent twice
        assert all(status == "sent" for _, status, _ in outbox(app, "tg:8"))
    finally:
        await app.stop()


async def test_blocked_chat_is_deactivated_and_admin_told(bot_api, feed_server, tmp_path):  # noqa: F811
    feed_server.set("/wire.xml", rss("Wire", many(2)))
    path = write_config(tmp_path, bot_api, {feed_server.url("/wire.xml"): "Wire"},
                        chats=chat_tables([8]), admin_chat=ADMIN)
    app = await start_app(path)
    try:
        bot_api.block(8)
        await app.cycle(every_feed=True)
        assert [(s, db.get_chat(app.store, 8).active) for _, s, _ in outbox(app, "tg:8")] == [("failed", False)] * 2
        notice = bot_api.messages(ADMIN)[-1].text
        assert "Chat 8 is unreachable" in notice and "blocked by the user" in notice and "2 queued" in notice
        assert "tg:8" not in {r.target for r in app.runtime.routes}
        feed_server.set("/wire.xml", rss("Wire", many(3)))
        await app.cycle(every_feed=True)
        assert len(outbox(app, "tg:8")) == 2  # nothing more is queued for a chat that blocked the bot

        bot_api.blocked.clear()  # the user unblocks and says hello again
        assert "Welcome back" in await ask(bot_api, 8, 8, "/start")
        assert "tg:8" in {r.target for r in app.runtime.routes}
    finally:
        await app.stop()


async def test_migrated_group_moves_and_resends(bot_api, feed_server, tmp_path):  # noqa: F811
    feed_server.set("/wire.xml", rss("Wire", many(2)))
    bot_api.group(-100, "Old group", kind="group")
    path = write_config(tmp_path, bot_api, {feed_server.url("/wire.xml"): "Wire"},
                        chats=chat_tables([-100]), admin_chat=ADMIN)
    app = await start_app(path)
    try:
        bot_api.migrate(-100, -1009)
        await app.cycle(every_feed=True)
        assert len(bot_api.messages(-1009)) == 2 and not bot_api.messages(-100)
        assert [s for _, s, _ in outbox(app, "tg:-1009")] == ["sent", "sent"] and outbox(app, "tg:-100") == []
        assert "tg:-1009" in {r.target for r in app.runtime.routes}
        assert "became supergroup -1009" in bot_api.messages(ADMIN)[-1].text

        assert "Subscribed" in await ask(bot_api, -200, ADMIN, "/subscribe anbar")  # the service-message path
        await bot_api.service(-200, migrate_to_chat_id=-2009)
        await bot_api.wait_for(lambda: db.stored_chats(app.store).moved.get(-200) == -2009)
        assert db.stored_chats(app.store).added[-2009] == frozenset({"anbar"})
    finally:
        await app.stop()


async def test_update_edit_fallbacks(bot_api, feed_server, tmp_path):  # noqa: F811
    feed_server.set("/wire.xml", rss("Wire", [STRIKE]))
    feed_server.set("/ledger.xml", rss("Ledger", [STRIKE_B]))
    feed_server.set("/third.xml", rss("Third", [(*STRIKE_B[:1], *STRIKE_B[1:])]))
    path = write_config(tmp_path, bot_api, {feed_server.url("/wire.xml"): "Wire"}, chats=chat_tables([8]))
    app = await start_app(path)
    try:
        await app.cycle(every_feed=True)
        alert = bot_api.messages(8)[0]
        bot_api.fail("editMessageText", EDIT_NOT_FOUND)  # someone deleted the alert
        app.store.add_feed(feed_server.url("/ledger.xml"), "Ledger", "admin", app.clock())
        await app.cycle(every_feed=True)
        fresh = bot_api.messages(8)[-1]
        assert fresh is not alert and fresh.text.startswith("↳ also: Ledger") and alert.edits == 0
        assert [s for _, s, _ in outbox(app, "tg:8")] == ["sent", "sent"]
    finally:
        await app.stop()


async def test_not_modified_counts_as_done(bot_api, feed_server, tmp_path):  # noqa: F811
    feed_server.set("/wire.xml", rss("Wire", [STRIKE]))
    feed_server.set("/ledger.xml", rss("Ledger", [STRIKE_B]))
    path = write_config(tmp_path, bot_api, {feed_server.url("/wire.xml"): "Wire"}, chats=chat_tables([8]))
    app = await start_app(path)
    try:
        await app.cycle(every_feed=True)
        bot_api.fail("editMessageText", NOT_MODIFIED)
        app.store.add_feed(feed_server.url("/ledger.xml"), "Ledger", "admin", app.clock())
        await app.cycle(every_feed=True)
        assert len(bot_api.messages(8)) == 1
        assert outbox(app, "tg:8")[1][1:] == ("sent", outbox(app, "tg:8")[0][2])
    finally:
        await app.stop()


async def test_network_error_backs_off_and_keeps_order(bot_api, feed_server, tmp_path):  # noqa: F811
    feed_server.set("/wire.xml", rss("Wire", many(3)))
    path = write_config(tmp_path, bot_api, {feed_server.url("/wire.xml"): "Wire"}, chats=chat_tables([8]))
    clock = Clock()
    app = await start_app(path, clock)
    try:
        bot_api.fail("sendMessage", ApiError(502, "Bad Gateway"))
        await app.cycle(every_feed=True)
        assert bot_api.messages(8) == []  # the first failed; the ones behind it wait
        assert [s for _, s, _ in outbox(app, "tg:8")] == ["pending"] * 3
        await app.deliver()
        assert bot_api.messages(8) == []  # backing off: not due yet
        clock.advance(seconds=6)
        await app.deliver()
        assert titles(bot_api, 8) == [title for title, _, _ in outbox(app, "tg:8")]
    finally:
        await app.stop()


async def test_forum_thread_and_mute(bot_api, feed_server, tmp_path):  # noqa: F811
    feed_server.set("/wire.xml", rss("Wire", many(1)))
    bot_api.group(-1005, "Forum", admins=[USER])
    path = write_config(tmp_path, bot_api, {feed_server.url("/wire.xml"): "Wire"},
                        chats=chat_tables([-1005], thread_id=42))
    app = await start_app(path)
    try:
        await app.cycle(every_feed=True)
        assert [m.thread_id for m in bot_api.messages(-1005)] == [42]
        assert "Muted Anbar for 2h" in await ask(bot_api, -1005, USER, "/mute anbar 2h", thread_id=42)
        feed_server.set("/wire.xml", rss("Wire", many(2)))
        await app.cycle(every_feed=True)
        assert [s for _, s, _ in outbox(app, "tg:-1005")] == ["sent", "muted"]
        assert "Unmuted 1" in await ask(bot_api, -1005, USER, "/unmute", thread_id=42)
        assert "thread: 7" in await ask(bot_api, -1005, USER, "/settings thread here", thread_id=7)
        feed_server.set("/wire.xml", rss("Wire", many(3)))
        await app.cycle(every_feed=True)
        assert bot_api.messages(-1005)[-1].thread_id == 7 and "Anbar" in bot_api.messages(-1005)[-1].text
    finally:
        await app.stop()


async def test_admin_chat_hears_of_failing_and_recovered_feeds(bot_api, feed_server, tmp_path):  # noqa: F811
    feed_server.error("/wire.xml", 503)
    path = write_config(tmp_path, bot_api, {feed_server.url("/wire.xml"): "Wire"}, chats=chat_tables([8]),
                        admin_chat=ADMIN, failing_after=2)
    app = await start_app(path)
    try:
        for _ in range(3):
            await app.cycle(every_feed=True)
        feed_server.set("/wire.xml", rss("Wire", [COUNCIL]))
        await app.cycle(every_feed=True)
        notices = [m.text for m in bot_api.messages(ADMIN)]
        assert len(notices) == 2
        assert notices[0].startswith("⚠️ Feed failing: Wire") and "2 errors in a row" in notices[0]
        assert notices[1].startswith("✅ Feed recovered: Wire (") and notices[1].endswith("after 3 errors")
        assert all("Feed" not in m.text for m in bot_api.messages(8))  # subscribers are not told
    finally:
        await app.stop()
