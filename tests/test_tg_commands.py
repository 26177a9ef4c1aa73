"""Chat commands end to end: who may do what, admin feed management, settings that persist and
show in `check`, /topics buttons, the command menu."""

from __future__ import annotations

import json

from bot.commands import summary
from bot.runtime import load_runtime
from bot.store import chats as db
from bot.tg.handlers_admin import REFUSED as ADMIN_ONLY
from bot.tg.handlers_user import REFUSED as GROUP_ADMINS_ONLY
from tests.botapi import bot_api  # noqa: F401  (fixture)
from tests.tg_harness import ADMIN, COUNCIL, USER, ask, rss, start_app, write_config

GROUP, GROUP_ADMIN = -1001234, 10


async def test_admin_commands_refuse_everyone_else_and_change_nothing(bot_api, feed_server, tmp_path):  # noqa: F811
    feed_server.set("/wire.xml", rss("Wire", [COUNCIL]))
    feed_server.set("/new.xml", rss("New", [COUNCIL]))
    path = write_config(tmp_path, bot_api, {feed_server.url("/wire.xml"): "Wire"})
    app = await start_app(path)
    try:
        before = app.store.feeds(active_only=False)
        for command in (f"/addfeed {feed_server.url('/new.xml')}", "/removefeed 1", "/feeds", "/status",
                        "/reload", "/topics reload"):
            assert await ask(bot_api, USER, USER, command) == ADMIN_ONLY, command
        assert app.store.feeds(active_only=False) == before
        assert feed_server.count("/new.xml") == 0  # refused before anything was fetched

        table = await ask(bot_api, ADMIN, ADMIN, "/feeds")
        assert "1 active, 0 failing" in table and "Wire" in table
        status = await ask(bot_api, ADMIN, ADMIN, "/status")
        assert "queue: 0 pending, 0 held" in status and "last cycle: no cycle yet" in status
        await app.cycle(every_feed=True)
        assert "last cycle: " in await ask(bot_api, ADMIN, ADMIN, "/status")
    finally:
        await app.stop()


async def test_group_settings_need_a_chat_administrator(bot_api, feed_server, tmp_path):  # noqa: F811
    bot_api.group(GROUP, "Iraq desk", admins=[GROUP_ADMIN], members=[USER])
    app = await start_app(write_config(tmp_path, bot_api, {}))
    try:
        for command in ("/subscribe anbar", "/unsubscribe anbar", "/mute anbar 2h", "/unmute",
                        "/settings quiet 22:00-07:00"):
            assert await ask(bot_api, GROUP, USER, command) == GROUP_ADMINS_ONLY, command
        assert db.stored_chats(app.store).added == {} and db.get_chat(app.store, GROUP) is None
        assert bot_api.count("getChatMember") >= 5
        assert "mode: instant" in await ask(bot_api, GROUP, USER, "/settings")  # looking is allowed

        assert "Subscribed to Anbar" in await ask(bot_api, GROUP, GROUP_ADMIN, "/subscribe anbar")
        assert ("tg:-1001234", frozenset({"anbar"})) in {(r.target, r.topics) for r in app.runtime.routes}
    finally:
        await app.stop()


async def test_addfeed_validates_and_removefeed_keeps_config_feeds(bot_api, feed_server, tmp_path):  # noqa: F811
    feed_server.set("/new.xml", rss("Desert Dispatch", [COUNCIL]))
    feed_server.set("/page.html", "<html><body>not a feed</body></html>", content_type="text/html")
    new_url = feed_server.url("/new.xml")
    path = write_config(tmp_path, bot_api, {}, private_ok=False)
    app = await start_app(path)
    try:
        refused = await ask(bot_api, ADMIN, ADMIN, f"/addfeed {new_url}")
        assert refused.startswith("Not added") and "not a public address" in refused
        assert app.store.feeds() == []
    finally:
        await app.stop()

    feed_server.set("/wire.xml", rss("Wire", [COUNCIL]))
    path = write_config(tmp_path, bot_api, {feed_server.url("/wire.xml"): "Wire"})
    app = await start_app(path)
    try:
        assert "is not a feed" in await ask(bot_api, ADMIN, ADMIN, f"/addfeed {feed_server.url('/page.html')}")
        added = await ask(bot_api, ADMIN, ADMIN, f"/addfeed {new_url}")
        assert added.startswith("Added feed #2 Desert Dispatch (1 entry now, 1 stored without alerting)")
        assert [(f.url, f.origin) for f in app.store.feeds()][1] == (new_url, "admin")
        assert "config.toml" in await ask(bot_api, ADMIN, ADMIN, "/removefeed 1")
        assert len(app.store.feeds()) == 2
    finally:
        await app.stop()

    listed = summary(load_runtime(path))  # `wirewatch check` shows feeds added by command
    assert "feeds added by /addfeed or import (1):" in listed and new_url in listed
    app = await start_app(path)  # they survive a restart, until removed
    try:
        assert len(app.store.feeds()) == 2
        assert "Removed feed #2" in await ask(bot_api, ADMIN, ADMIN, f"/removefeed {new_url}")
        assert [f.url for f in app.store.feeds()] == [feed_server.url("/wire.xml")]
    finally:
        await app.stop()


async def test_settings_and_subscriptions_persist_and_show_in_check(bot_api, feed_server, tmp_path):  # noqa: F811
    chats = '[[chats]]\nid = 8\nname = "Analyst"\ntopics = ["drone-strikes"]\nquiet_hours = "01:00-02:00"\n'
    path = write_config(tmp_path, bot_api, {}, chats=chats)
    app = await start_app(path)
    try:
        assert "Subscribed to Anbar" in await ask(bot_api, USER, USER, "/subscribe Anbar")
        assert "Unsubscribed from Drone strikes" in await ask(bot_api, USER, USER, "/unsubscribe drone-strikes")
        shown = await ask(bot_api, USER, USER, "/settings mode digest 7:30,19:00")
        assert "mode: digest at 07:30, 19:00" in shown and "quiet hours: 01:00-02:00" in shown
        assert "quiet hours: off" in await ask(bot_api, USER, USER, "/settings quiet off")
        assert "time zone: Asia/Baghdad" in await ask(bot_api, USER, USER, "/settings tz Asia/Baghdad")
        assert "unknown time zone" in await ask(bot_api, USER, USER, "/settings tz Mars/Base")
        assert "Usage: /settings" in await ask(bot_api, USER, USER, "/settings colour blue")
        assert "Unknown topic: football" in await ask(bot_api, USER, USER, "/subscribe football")
    finally:
        await app.stop()

    listed = summary(load_runtime(path))
    assert "  8 Analyst: anbar; mode: digest at 07:30, 19:00; quiet hours: off; time zone: Asia/Baghdad" in listed
    app = await start_app(path)
    try:
        assert {(r.target, r.topics) for r in app.runtime.routes} == {("tg:8", frozenset({"anbar"}))}
        shown = await ask(bot_api, USER, USER, "/settings reset")
        assert "mode: instant" in shown and "quiet hours: 01:00-02:00" in shown and "time zone: UTC" in shown
    finally:
        await app.stop()


async def test_topics_buttons_toggle_subscriptions(bot_api, feed_server, tmp_path):  # noqa: F811
    bot_api.group(GROUP, "Iraq desk", admins=[GROUP_ADMIN], members=[USER])
    app = await start_app(write_config(tmp_path, bot_api, {}))
    try:
        await ask(bot_api, GROUP, USER, "/topics")
        listing = bot_api.messages(GROUP)[-1]
        assert listing.buttons == ["➕ Anbar", "➕ Drone strikes"]
        query = await bot_api.press(USER, listing, listing.callback("➕ Anbar"))
        assert "administrators" in (await bot_api.wait_for(lambda: bot_api.answers.get(query)))["text"]
        query = await bot_api.press(GROUP_ADMIN, listing, listing.callback("➕ Anbar"))
        assert (await bot_api.wait_for(lambda: bot_api.answers.get(query)))["text"] == "Subscribed to Anbar"
        await bot_api.wait_for(lambda: listing.buttons == ["✅ Anbar", "➕ Drone strikes"])
        assert db.stored_chats(app.store).added == {GROUP: frozenset({"anbar"})}
    finally:
        await app.stop()


async def test_command_menu_and_reload(bot_api, feed_server, tmp_path):  # noqa: F811
    path = write_config(tmp_path, bot_api, {})
    app = await start_app(path)
    try:
        menu = [c["command"] for c in bot_api.commands[json.dumps({"type": "default"})]]
        assert menu[:3] == ["start", "help", "topics"] and "addfeed" not in menu
        admin_menu = bot_api.commands[json.dumps({"chat_id": ADMIN, "type": "chat"}, sort_keys=True)]
        assert "addfeed" in [c["command"] for c in admin_menu]

        (tmp_path / "rules" / "broken.toml").write_text('name = "Broken"\nquery = "(anbar"\n', encoding="utf-8")
        answer = await ask(bot_api, ADMIN, ADMIN, "/reload")
        assert answer.startswith("Not reloaded") and "broken.toml" in answer
        assert set(app.runtime.topics) == {"anbar", "drone-strikes"}
        (tmp_path / "rules" / "broken.toml").write_text('name = "Fixed"\nquery = "mosul"\n', encoding="utf-8")
        assert "3 topics" in await ask(bot_api, ADMIN, ADMIN, "/topics reload")
        assert "broken" in app.runtime.topics
    finally:
        await app.stop()
