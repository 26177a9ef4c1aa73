"""Quiet hours and digest mode: the time rules (tables) and the whole path end to end."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from bot.config import ChatSettings
from bot.store.chats import ChatRow
from bot.tg.digest import ChatPrefs, hold_until, in_quiet, merge_prefs, next_digest, releasable
from tests.botapi import ApiError, bot_api  # noqa: F401  (fixture)
from tests.tg_harness import (
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

T = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)  # 15:00 in Baghdad
NIGHT = ChatPrefs(quiet_hours=(time(22), time(7)))
BAGHDAD_NIGHT = ChatPrefs(quiet_hours=(time(22), time(7)), timezone="Asia/Baghdad")
DIGEST = ChatPrefs(mode="digest", digest_times=(time(8), time(18)))


@pytest.mark.parametrize(
    ("prefs", "at", "quiet"),
    [
        (NIGHT, T.replace(hour=23), True),
        (NIGHT, T.replace(hour=3), True),
        (NIGHT, T.replace(hour=7), False),  # the end is not quiet any more
        (NIGHT, T.replace(hour=12), False),
        (ChatPrefs(quiet_hours=(time(13), time(14))), T.replace(hour=13, minute=30), True),
        (BAGHDAD_NIGHT, T.replace(hour=20), True),  # 23:00 in Baghdad
        (BAGHDAD_NIGHT, T.replace(hour=4), False),  # 07:00 in Baghdad
        (ChatPrefs(), T, False),
    ],
)
def test_in_quiet(prefs, at, quiet):
    assert in_quiet(prefs, at) is quiet


@pytest.mark.parametrize(
    ("prefs", "at", "until"),
    [
        (NIGHT, T, None),  # instant, not quiet: send now
        (NIGHT, T.replace(hour=23), T.replace(hour=7) + timedelta(days=1)),
        (NIGHT, T.replace(hour=2), T.replace(hour=7)),
        (BAGHDAD_NIGHT, T.replace(hour=20), T.replace(hour=4) + timedelta(days=1)),
        (DIGEST, T, T.replace(hour=18)),
        (DIGEST, T.replace(hour=19), T.replace(hour=8) + timedelta(days=1)),
        # a digest time inside quiet hours waits for them to end
        (ChatPrefs(mode="digest", digest_times=(time(23),), quiet_hours=(time(22), time(7))), T,
         T.replace(hour=7) + timedelta(days=1)),
    ],
)
def test_hold_until(prefs, at, until):
    assert hold_until(prefs, at) == until


def test_release_rules():
    assert not releasable(NIGHT, T, T.replace(hour=23))  # never inside quiet hours
    assert releasable(NIGHT, T.replace(hour=7) + timedelta(days=1), T.replace(hour=12))  # instant: as soon as they end
    assert not releasable(DIGEST, T.replace(hour=18), T.replace(hour=17))  # digest: at its time
    assert releasable(DIGEST, T.replace(hour=18), T.replace(hour=18))
    assert next_digest(DIGEST, T.replace(hour=18)) == T.replace(hour=8) + timedelta(days=1)


def test_chat_commands_win_over_config():
    config = ChatSettings(1, "desk", ("*",), "digest", (time(9),), (time(22), time(6)), "Asia/Baghdad", 42)
    assert merge_prefs(config, None, "UTC") == ChatPrefs("digest", (time(9),), (time(22), time(6)), "Asia/Baghdad", 42)
    stored = ChatRow(1, mode="instant", quiet_hours="", timezone="Europe/Berlin", thread_id=0)
    assert merge_prefs(config, stored, "UTC") == ChatPrefs("instant", (time(9),), None, "Europe/Berlin", None)
    assert merge_prefs(None, ChatRow(2, digest_times=("07:30",)), "Asia/Baghdad") == \
        ChatPrefs(digest_times=(time(7, 30),), timezone="Asia/Baghdad")


def quiet_around(now: datetime) -> str:
    return f"{(now - timedelta(hours=1)):%H:%M}-{(now + timedelta(hours=1)):%H:%M}"


async def test_quiet_hours_hold_then_send_one_digest(bot_api, feed_server, tmp_path):  # noqa: F811
    clock = Clock()
    feed_server.set("/wire.xml", rss("Wire", [STRIKE, COUNCIL]))
    feed_server.set("/ledger.xml", rss("Ledger", [STRIKE_B]))
    chats = f'[[chats]]\nid = {USER}\ntopics = ["*"]\nquiet_hours = "{quiet_around(clock.now)}"\n'
    path = write_config(tmp_path, bot_api, {feed_server.url("/wire.xml"): "Wire"}, chats=chats)
    app = await start_app(path, clock)
    try:
        await app.cycle(every_feed=True)
        app.store.add_feed(feed_server.url("/ledger.xml"), "Ledger", "admin", clock())
        await app.cycle(every_feed=True)
        assert bot_api.messages(USER) == []
        assert [s for _, s, _ in outbox(app, f"tg:{USER}")] == ["held", "held", "held"]  # 2 alerts, 1 update

        clock.advance(minutes=50)
        await app.deliver()
        assert bot_api.messages(USER) == []  # still quiet
        clock.advance(minutes=20)
        await app.deliver()
        [digest] = bot_api.messages(USER)
        assert digest.text.startswith("Held during quiet hours · 2 alerts")
        assert STRIKE[1] in digest.text and COUNCIL[1] in digest.text and "also: Ledger" in digest.text
        rows = outbox(app, f"tg:{USER}")
        assert {(s, ref) for _, s, ref in rows} == {("sent", f"digest:{digest.message_id}")}

        why = await ask(bot_api, USER, USER, "/why", reply_to=digest)
        assert STRIKE[1] in why and COUNCIL[1] in why
        feed_server.set("/wire.xml", rss("Wire", [STRIKE, COUNCIL, many(2)[1]]))
        await app.cycle(every_feed=True)
        assert bot_api.messages(USER)[-1].text.startswith("Anbar\n")  # after quiet hours: instant again
    finally:
        await app.stop()


async def test_digest_mode_sends_at_digest_times(bot_api, feed_server, tmp_path):  # noqa: F811
    clock = Clock()
    feed_server.set("/wire.xml", rss("Wire", many(3)))
    at = f"{clock.now + timedelta(hours=1):%H:%M}"
    chats = f'[[chats]]\nid = {USER}\ntopics = ["anbar"]\nmode = "digest"\ndigest_times = ["{at}"]\n'
    app = await start_app(write_config(tmp_path, bot_api, {feed_server.url("/wire.xml"): "Wire"}, chats=chats), clock)
    try:
        await app.cycle(every_feed=True)
        clock.advance(minutes=30)
        await app.deliver()
        assert bot_api.messages(USER) == []
        clock.advance(minutes=31)
        await app.deliver()
        [digest] = bot_api.messages(USER)
        assert digest.text.startswith("Digest · 3 alerts")
        assert [line for line in digest.text.split("\n") if line.startswith("Report")] == []  # headlines only
        assert all(title in digest.text for title, _, _ in outbox(app, f"tg:{USER}"))
    finally:
        await app.stop()


async def test_a_failed_digest_backs_off_and_is_sent_later(bot_api, feed_server, tmp_path):  # noqa: F811
    clock = Clock()
    feed_server.set("/wire.xml", rss("Wire", many(2)))
    chats = f'[[chats]]\nid = {USER}\ntopics = ["anbar"]\nquiet_hours = "{quiet_around(clock.now)}"\n'
    app = await start_app(write_config(tmp_path, bot_api, {feed_server.url("/wire.xml"): "Wire"}, chats=chats), clock)
    try:
        await app.cycle(every_feed=True)
        clock.advance(hours=2)
        bot_api.fail("sendMessage", ApiError(502, "Bad Gateway"))
        await app.deliver()
        await app.deliver()  # backing off: no second try yet
        assert bot_api.count("sendMessage") == 1 and bot_api.messages(USER) == []
        assert [s for _, s, _ in outbox(app, f"tg:{USER}")] == ["held", "held"]
        clock.advance(seconds=6)
        await app.deliver()
        [digest] = bot_api.messages(USER)
        assert digest.text.startswith("Held during quiet hours · 2 alerts")
    finally:
        await app.stop()
