"""End to end through python-telegram-bot and the loopback Bot API: subscribe, alert, story update
edit, feedback buttons, /why and /test."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from bot.app import App
from bot.errors import WirewatchError
from bot.runtime import load_runtime
from bot.store import schema as t
from tests.botapi import TOKEN, bot_api  # noqa: F401  (fixture)
from tests.tg_harness import (
    COUNCIL,
    FAST,
    STRIKE,
    STRIKE_B,
    USER,
    ask,
    many,
    rss,
    start_app,
    write_config,
)


async def test_subscribe_alert_update_feedback(bot_api, feed_server, tmp_path):  # noqa: F811
    feed_server.set("/wire.xml", rss("Euphrates Wire", [
        STRIKE, COUNCIL, ("w9", "Fallujah market & \"mall\" reopen: prices < 5 dinars", "Shops <b>reopen</b> & trade.", 0.2)]))
    path = write_config(tmp_path, bot_api, {feed_server.url("/wire.xml"): "Euphrates <Wire>"})
    app = await start_app(path)
    try:
        assert "Subscribed to Anbar, Drone strikes." in await ask(bot_api, USER, USER, "/subscribe anbar drone-strikes")
        await app.cycle(every_feed=True)
        alerts = bot_api.messages(USER)[1:]
        assert len(alerts) == 3
        strike = next(m for m in alerts if "al-Rawi" in m.text)
        assert strike.html.startswith("<i>Anbar · Drone strikes</i>\n<b>Drone strike kills ISIS commander")
        assert '<a href="https://news.example/w1">news.example</a>' in strike.html
        assert "Euphrates &lt;Wire&gt; · " in strike.html
        assert strike.params["parse_mode"] == "HTML" and strike.params["link_preview_options"] == {"is_disabled": True}
        market = next(m for m in alerts if "Fallujah" in m.text)
        assert "<b>Fallujah market &amp; &quot;mall&quot; reopen: prices &lt; 5 dinars</b>" in market.html
        assert "Shops reopen & trade." in market.text  # the feed's markup is text, escaped
        assert strike.buttons == ["👍", "👎", "🔕"]

        # a second outlet reports the same story: the alert is edited, not re-sent
        feed_server.set("/ledger.xml", rss("Baghdad Ledger", [STRIKE_B]))
        app.store.add_feed(feed_server.url("/ledger.xml"), "Baghdad Ledger", "admin", app.clock())
        await app.cycle(every_feed=True)
        assert len(bot_api.messages(USER)) == 4
        assert strike.edits == 1 and strike.text.endswith("also: Baghdad Ledger")
        assert strike.buttons == ["👍", "👎", "🔕"]

        # 👍 stores one label per topic of the alert, answers with a toast, marks the button
        query = await bot_api.press(USER, strike, strike.callback("👍"))
        answer = await bot_api.wait_for(lambda: bot_api.answers.get(query))
        assert answer["text"].startswith("Thanks: marked relevant")
        await bot_api.wait_for(lambda: strike.buttons == ["👍 ✓", "👎", "🔕"])
        with app.store.engine.connect() as conn:
            labels = conn.execute(select(t.labels.c.topic, t.labels.c.label, t.labels.c.user_id, t.labels.c.origin)).all()
        assert sorted(labels) == [("anbar", 1, USER, "button"), ("drone-strikes", 1, USER, "button")]

        # 👎 by the same user replaces the label; the markup follows
        query = await bot_api.press(USER, strike, strike.callback("👎"))
        await bot_api.wait_for(lambda: bot_api.answers.get(query))
        await bot_api.wait_for(lambda: strike.buttons == ["👍", "👎 ✓", "🔕"])
        with app.store.engine.connect() as conn:
            assert set(conn.execute(select(t.labels.c.label)).scalars()) == {0}

        why = await ask(bot_api, USER, USER, "/why", reply_to=strike)
        assert "• Anbar: score 1.00; matched anbar, qaim" in why and "NEAR/3(drone*, strike*)" in why and "Euphrates <Wire>, Baghdad Ledger" in why
        test = await ask(bot_api, USER, USER, "/test Ramadi bridge reopens")
        assert "Anbar" in test and "Drone" not in test
        assert "No topic matches" in await ask(bot_api, USER, USER, "/test Football cup final")
    finally:
        await app.stop()


async def test_run_forever_delivers_in_the_background(bot_api, feed_server, tmp_path):  # noqa: F811
    feed_server.set("/wire.xml", rss("Wire", many(2)))
    path = write_config(tmp_path, bot_api, {feed_server.url("/wire.xml"): "Wire"},
                        chats='[[chats]]\nid = 8\ntopics = ["anbar"]\n')
    app = App(load_runtime(path), telegram_limits=FAST, telegram_poll_timeout=0.5)  # the real clock
    await app.start()
    stop = asyncio.Event()
    running = asyncio.create_task(app.run_forever(stop))
    try:
        await bot_api.wait_for(lambda: len(bot_api.messages(USER)) == 2)
        assert "Subscribed to Drone strikes" in await ask(bot_api, USER, USER, "/subscribe drone-strikes")
    finally:
        stop.set()
        await running
        await app.stop()
    assert bot_api.count("getUpdates") >= 1  # it polled for updates meanwhile


async def test_wrong_token_is_a_clear_error(bot_api, feed_server, tmp_path):  # noqa: F811
    path = write_config(tmp_path, bot_api, {})
    path.write_text(path.read_text().replace(TOKEN, "999:wrong"))
    with pytest.raises(WirewatchError, match=r"token was refused"):
        await start_app(path)


async def test_commands_sent_while_down_are_answered_once_after_restart(bot_api, feed_server, tmp_path):  # noqa: F811
    path = write_config(tmp_path, bot_api, {})
    app = await start_app(path)
    try:
        assert "Hello" in await ask(bot_api, USER, USER, "/start")
    finally:
        await app.stop()
    assert bot_api.queued() == []  # stopping confirmed every update it had fetched (offset)
    await bot_api.command(USER, USER, "/subscribe anbar")  # nobody is polling now
    app = await start_app(path)
    try:
        await bot_api.wait_for(lambda: len(bot_api.messages(USER)) == 2 and not bot_api.queued())
        assert [m.text.split("\n")[0] for m in bot_api.messages(USER)] == [
            "Hello! I send news alerts to this chat.", "Subscribed to Anbar."]
    finally:
        await app.stop()
