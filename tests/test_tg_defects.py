"""Issue 13's Telegram defects, end to end through python-telegram-bot and the loopback Bot API:
mutes that subscribed, /addfeed that alerted, crashing durations, labels of topics not followed,
🔕 without a choice or undo, /topics pages, /subscribe lists, silent delivery."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, text

from bot.store import chats as db
from bot.store import schema as t
from tests.botapi import bot_api  # noqa: F401  (fixture)
from tests.tg_harness import ADMIN, COUNCIL, STRIKE, USER, Clock, ask, rss, start_app, write_config

GROUP, GROUP_ADMIN = -1004321, 10
ONE_TOPIC = '[[chats]]\nid = {id}\ntopics = ["anbar"]\n'


async def answer(api, user: int, sent, label: str) -> str:
    """Press the button of `sent` whose label starts with `label`; the toast."""
    query = await api.press(user, sent, sent.callback(label))
    return (await api.wait_for(lambda: api.answers.get(query))).get("text", "")


def labels(app) -> list[tuple[str, int, int]]:
    with app.store.engine.connect() as conn:
        return sorted(conn.execute(select(t.labels.c.topic, t.labels.c.label, t.labels.c.user_id)).all())


def routes(app) -> dict[str, frozenset[str] | None]:
    return {r.target: r.topics for r in app.runtime.routes}


async def test_muting_never_subscribes(bot_api, feed_server, tmp_path):  # noqa: F811
    app = await start_app(write_config(tmp_path, bot_api, {}))
    try:
        await ask(bot_api, USER, USER, "/subscribe anbar")
        assert "Muted Drone strikes for 1h" in await ask(bot_api, USER, USER, "/mute drone-strikes 1h")
        assert routes(app) == {"tg:8": frozenset({"anbar"})}
        assert "Unmuted 1 topic" in await ask(bot_api, USER, USER, "/unmute")
        assert routes(app) == {"tg:8": frozenset({"anbar"})}
        assert db.stored_chats(app.store).added == {USER: frozenset({"anbar"})}
    finally:
        await app.stop()


async def test_addfeed_items_present_never_alert(bot_api, feed_server, tmp_path):  # noqa: F811
    feed_server.set("/new.xml", rss("Desert Dispatch", [COUNCIL]))  # 2 h old: inside the 24 h backfill
    app = await start_app(write_config(tmp_path, bot_api, {}))
    try:
        await ask(bot_api, USER, USER, "/subscribe anbar")
        added = await ask(bot_api, ADMIN, ADMIN, f"/addfeed {feed_server.url('/new.xml')}")
        assert added.startswith("Added feed #1 Desert Dispatch")
        before = len(bot_api.messages(USER))
        await app.cycle(every_feed=True)
        assert len(bot_api.messages(USER)) == before  # the items it had when added never alert
        feed_server.set("/new.xml", rss("Desert Dispatch", [COUNCIL, ("d2", "Fallujah hospital opens", "New ward.", 0.1)]))
        await app.cycle(every_feed=True)
        assert [m.text.split("\n")[1] for m in bot_api.messages(USER)[before:]] == ["Fallujah hospital opens"]
        again = await ask(bot_api, ADMIN, ADMIN, f"/addfeed {feed_server.url('/new.xml')}")
        assert again.startswith("Already polled: feed #1 Desert Dispatch")
    finally:
        await app.stop()


async def test_mute_durations_have_clear_errors(bot_api, feed_server, tmp_path):  # noqa: F811
    app = await start_app(write_config(tmp_path, bot_api, {}))
    try:
        await ask(bot_api, USER, USER, "/subscribe anbar")
        for command, reason in [("/mute anbar 0m", "no time at all"), ("/mute anbar 90", "has no unit: 90m"),
                                ("/mute anbar 1y", "unknown unit 'y'"), ("/mute anbar -1h", "cannot be negative"),
                                ("/mute anbar 60w", "longer than 52w")]:
            got = await ask(bot_api, USER, USER, command)
            assert got.startswith("Not muted:") and reason in got, (command, got)
        assert db.mutes(app.store, USER, app.clock()) == {}
        assert "Muted Anbar for 2h" in await ask(bot_api, USER, USER, "/mute anbar 2 hours")
        assert "unknown topic football" in await ask(bot_api, USER, USER, "/mute football 2h")
    finally:
        await app.stop()


async def test_a_failing_handler_still_answers_and_tells_the_admins(bot_api, feed_server, tmp_path, caplog):  # noqa: F811
    app = await start_app(write_config(tmp_path, bot_api, {}, admin_chat=ADMIN))
    try:
        with app.store.engine.begin() as conn:  # a real failure inside the handler: its table is gone
            conn.execute(text("DROP TABLE mutes"))
        got = await ask(bot_api, USER, USER, "/mute anbar 2h")
        assert got == "Sorry, something went wrong; the admins were told."
        notice = await bot_api.wait_for(lambda: bot_api.messages(ADMIN))
        assert "/mute anbar 2h" in notice[0].text and "OperationalError" in notice[0].text
        failures = [r for r in caplog.records if r.name == "bot.tg.application" and r.levelname == "ERROR"]
        assert len(failures) == 1 and failures[0].exc_info is not None
    finally:
        await app.stop()


async def test_labels_cover_followed_topics_and_only_group_admins_label(bot_api, feed_server, tmp_path):  # noqa: F811
    bot_api.group(GROUP, "Iraq desk", admins=[GROUP_ADMIN], members=[USER])
    feed_server.set("/wire.xml", rss("Wire", [STRIKE]))  # matches Anbar and Drone strikes
    app = await start_app(write_config(tmp_path, bot_api, {feed_server.url("/wire.xml"): "Wire"},
                                       chats=ONE_TOPIC.format(id=GROUP)))
    try:
        await app.cycle(every_feed=True)
        alert = bot_api.messages(GROUP)[0]
        assert alert.text.startswith("Anbar\n")  # the group follows Anbar only: Drone strikes is not listed
        assert "administrators" in await answer(bot_api, USER, alert, "👍")
        assert labels(app) == []
        assert await answer(bot_api, GROUP_ADMIN, alert, "👍") == "Thanks: marked relevant for Anbar"
        assert labels(app) == [("anbar", 1, GROUP_ADMIN)]
    finally:
        await app.stop()


async def test_mute_button_asks_topic_and_duration_and_offers_undo(bot_api, feed_server, tmp_path):  # noqa: F811
    feed_server.set("/wire.xml", rss("Wire", [STRIKE]))
    clock = Clock()
    app = await start_app(write_config(tmp_path, bot_api, {feed_server.url("/wire.xml"): "Wire"}), clock)
    try:
        await ask(bot_api, USER, USER, "/subscribe anbar, drone-strikes")
        await app.cycle(every_feed=True)
        alert = bot_api.messages(USER)[-1]
        assert await answer(bot_api, USER, alert, "🔕") == "Which topic should be muted here?"
        assert alert.buttons == ["🔕 Anbar", "🔕 Drone strikes", "🔕 all of these", "✖ cancel"]
        assert db.mutes(app.store, USER, clock()) == {}  # nothing muted by the first press
        assert await answer(bot_api, USER, alert, "🔕 Drone") == "Mute Drone strikes for how long?"
        assert alert.buttons == ["1 h", "1 d", "1 w", "until unmuted", "✖ cancel"]
        before = len(bot_api.messages(USER))
        assert await answer(bot_api, USER, alert, "1 d") == "Muted Drone strikes"
        assert db.mutes(app.store, USER, clock()) == {"drone-strikes": (clock() + timedelta(days=1), False)}
        assert alert.buttons == ["👍", "👎", "🔕 ✓"]
        notice = (await bot_api.reply(USER, after=before))
        assert notice.text.startswith("🔕 Muted Drone strikes here for 1 d (until ") and notice.buttons == ["↩ undo"]
        assert await answer(bot_api, USER, notice, "↩ undo") == "Unmuted Drone strikes"
        assert db.mutes(app.store, USER, clock()) == {}
        await bot_api.wait_for(lambda: notice.text == "Unmuted Drone strikes here (undone).")

        await answer(bot_api, USER, alert, "🔕")
        assert await answer(bot_api, USER, alert, "✖") == "Nothing muted."
        assert alert.buttons == ["👍", "👎", "🔕 ✓"] and db.mutes(app.store, USER, clock()) == {}
    finally:
        await app.stop()


async def test_topics_pages_keep_text_and_buttons_in_step(bot_api, feed_server, tmp_path):  # noqa: F811
    path = write_config(tmp_path, bot_api, {})
    for i in range(20):
        (tmp_path / "rules" / f"t{i:02d}.toml").write_text(
            f'name = "Topic {i:02d}"\ndescription = "About {i:02d}"\nquery = "word{i}"\n', encoding="utf-8")
    app = await start_app(path)
    try:
        await ask(bot_api, USER, USER, "/topics")
        listing = bot_api.messages(USER)[-1]
        assert "(22 · page 1 of 3;" in listing.text and "Anbar" in listing.text and "Topic 05" in listing.text
        assert "Topic 06" not in listing.text
        assert listing.buttons == ["➕ Anbar", "➕ Drone strikes", *(f"➕ Topic {i:02d}" for i in range(6)), "◀", "1/3", "▶"]
        await answer(bot_api, USER, listing, "▶")
        assert "page 2 of 3" in listing.text and "Topic 06" in listing.text and "Anbar" not in listing.text
        assert listing.buttons[:8] == [f"➕ Topic {i:02d}" for i in range(6, 14)]
        assert await answer(bot_api, USER, listing, "➕ Topic 07") == "Subscribed to Topic 07"
        assert "page 2 of 3" in listing.text and "✅ Topic 07" in listing.text and "✅ Topic 07" in listing.buttons
        await answer(bot_api, USER, listing, "◀")
        await answer(bot_api, USER, listing, "◀")
        assert "page 3 of 3" in listing.text and listing.buttons[:6] == [f"➕ Topic {i:02d}" for i in range(14, 20)]
    finally:
        await app.stop()


async def test_subscribe_takes_lists_and_all_and_says_what_changed(bot_api, feed_server, tmp_path):  # noqa: F811
    app = await start_app(write_config(tmp_path, bot_api, {}))
    try:
        got = await ask(bot_api, USER, USER, "/subscribe foo, drone-strikes")
        assert got == "Subscribed to Drone strikes.\nUnknown topic: foo. Known topics: anbar, drone-strikes."
        got = await ask(bot_api, USER, USER, "/subscribe anbar,drone-strikes")
        assert got == "Subscribed to Anbar.\nAlready subscribed to Drone strikes."
        assert routes(app) == {"tg:8": frozenset({"anbar", "drone-strikes"})}
        assert await ask(bot_api, USER, USER, "/unsubscribe all") == "Unsubscribed from Anbar, Drone strikes."
        assert await ask(bot_api, USER, USER, "/unsubscribe anbar") == "Not subscribed to Anbar."
        assert await ask(bot_api, USER, USER, "/subscribe *") == "Subscribed to Anbar, Drone strikes."
        assert await ask(bot_api, USER, USER, "/subscribe Drone Strikes") == "Already subscribed to Drone strikes."
    finally:
        await app.stop()


async def test_silent_delivery_per_chat_and_per_topic(bot_api, feed_server, tmp_path):  # noqa: F811
    feed_server.set("/wire.xml", rss("Wire", [COUNCIL]))
    app = await start_app(write_config(tmp_path, bot_api, {feed_server.url("/wire.xml"): "Wire"}))
    try:
        await ask(bot_api, USER, USER, "/subscribe anbar drone-strikes")
        assert "silent: on" in await ask(bot_api, USER, USER, "/settings silent on")
        await app.cycle(every_feed=True)
        assert bot_api.messages(USER)[-1].params.get("disable_notification") is True

        assert "silent: off" in await ask(bot_api, USER, USER, "/settings silent off")
        got = await ask(bot_api, USER, USER, "/mute anbar silent")
        assert got == "Silenced Anbar until /unmute: its alerts arrive without notification."
        feed_server.set("/wire.xml", rss("Wire", [COUNCIL, ("w3", "Fallujah hospital opens ward", "A ward.", 0.1)]))
        await app.cycle(every_feed=True)
        silenced = bot_api.messages(USER)[-1]
        assert "Fallujah" in silenced.text and silenced.params.get("disable_notification") is True
        feed_server.set("/wire.xml", rss("Wire", [STRIKE]))  # Anbar (silenced) and Drone strikes (not)
        await app.cycle(every_feed=True)
        loud = bot_api.messages(USER)[-1]
        assert "al-Rawi" in loud.text and not loud.params.get("disable_notification")
        assert "silent until unmuted" in (await ask(bot_api, USER, USER, "/topics"))
    finally:
        await app.stop()


async def test_settings_offsets_and_no_threads_in_private(bot_api, feed_server, tmp_path):  # noqa: F811
    feed_server.set("/wire.xml", rss("Wire", [COUNCIL]))
    app = await start_app(write_config(tmp_path, bot_api, {feed_server.url("/wire.xml"): "Wire"}))
    try:
        await ask(bot_api, USER, USER, "/subscribe anbar")
        assert "private chat has no topic threads" in await ask(bot_api, USER, USER, "/settings thread here")
        assert db.get_chat(app.store, USER).thread_id is None
        assert "time zone: UTC+03:00" in await ask(bot_api, USER, USER, "/settings tz +03:00")
        await app.cycle(every_feed=True)
        assert " UTC+03:00\n" in bot_api.messages(USER)[-1].text
    finally:
        await app.stop()


def reload_config(tmp_path, bot_api, feed_server):  # noqa: F811
    feed_server.set("/wire.xml", rss("Wire", [COUNCIL]))
    return write_config(tmp_path, bot_api, {feed_server.url("/wire.xml"): "Wire"}, admin_chat=ADMIN,
                        chats=ONE_TOPIC.format(id=USER), extra=f'jsonl = "{tmp_path / "alerts.jsonl"}"')


async def test_status_counts_telegram_alerts_only(bot_api, feed_server, tmp_path):  # noqa: F811
    app = await start_app(reload_config(tmp_path, bot_api, feed_server))
    try:
        await app.cycle(every_feed=True)
        assert "alerts sent today: 1\n" in await ask(bot_api, ADMIN, ADMIN, "/status")  # the JSONL line is not one
    finally:
        await app.stop()


async def test_rule_errors_are_reported_once_and_live_ones_reach_the_admin_chat(bot_api, feed_server, tmp_path):  # noqa: F811
    app = await start_app(reload_config(tmp_path, bot_api, feed_server))
    try:
        anbar = tmp_path / "rules" / "anbar.toml"
        anbar.write_text('name = "Anbar"\nquery = "(anbar"\n', encoding="utf-8")
        answer_text = await ask(bot_api, ADMIN, ADMIN, "/reload")
        assert answer_text.startswith("Not reloaded") and "anbar.toml" in answer_text
        assert "unknown topic" not in answer_text  # no follow-on error for the chat that uses it

        anbar.write_text('name = "Anbar"\nquery = "(anbar OR"\n', encoding="utf-8")  # a live edit, found by a tick
        before = len(bot_api.messages(ADMIN))
        await app.tick()
        await app.tick()
        notices = [m.text for m in bot_api.messages(ADMIN)[before:]]
        assert len(notices) == 1 and notices[0].startswith("⚠️ An edit of config.toml or rules/ was not applied")
        assert "anbar.toml" in notices[0]
    finally:
        await app.stop()


async def test_deleting_a_rule_file_tells_its_chats(bot_api, feed_server, tmp_path):  # noqa: F811
    app = await start_app(reload_config(tmp_path, bot_api, feed_server))
    try:
        await ask(bot_api, 9, 9, "/subscribe drone-strikes")
        (tmp_path / "rules" / "drone-strikes.toml").unlink()
        assert "1 topics" in await ask(bot_api, ADMIN, ADMIN, "/reload")
        told = await bot_api.wait_for(lambda: [m for m in bot_api.messages(9) if "removed" in m.text])
        assert told[0].text.startswith("Topic Drone strikes was removed by the admins")
        assert not [m for m in bot_api.messages(USER) if "removed" in m.text]  # it never had the topic
    finally:
        await app.stop()


async def test_feeds_shows_plain_statuses_and_why_a_feed_fails(bot_api, feed_server, tmp_path):  # noqa: F811
    feed_server.set("/wire.xml", rss("Wire", [COUNCIL]))
    feed_server.error("/down.xml", 503)
    app = await start_app(write_config(tmp_path, bot_api, {feed_server.url("/wire.xml"): "Wire",
                                                           feed_server.url("/down.xml"): "Down"}))
    try:
        assert " not fetched " in await ask(bot_api, ADMIN, ADMIN, "/feeds")
        await app.cycle(every_feed=True)
        table = await ask(bot_api, ADMIN, ADMIN, "/feeds")
        down = table.index("Down")
        assert " error " in table[down:] and "↳ " in table[down:] and "503" in table[down:]
        assert " new items " in table and "not_modified" not in table
    finally:
        await app.stop()


async def test_a_pasted_paragraph_as_topics_gets_a_short_answer_and_pages_nobody(bot_api, feed_server, tmp_path):  # noqa: F811
    """Unknown words are echoed a few at a time: the reply stays within Telegram's limit, so the
    command does not fail, and the admin chat hears nothing of it."""
    app = await start_app(write_config(tmp_path, bot_api, {}, admin_chat=ADMIN))
    try:
        junk = " ".join(f"t{i}" for i in range(1300))[:4000]
        for command in ("/subscribe", "/unsubscribe", "/mute", "/unmute"):
            before = len(bot_api.messages(USER))
            await bot_api.command(USER, USER, f"{command} {junk}")
            answer = await bot_api.reply(USER, after=before)
            assert "t0, t1" in answer.text and "(+" in answer.text and len(answer.text) < 600, answer.text
        assert bot_api.messages(ADMIN) == []
    finally:
        await app.stop()


async def test_forged_page_data_on_an_alert_leaves_the_alert(bot_api, feed_server, tmp_path):  # noqa: F811
    """Only a /topics message turns its pages: `tp:0` sent on an alert (a modified client) must
    not replace the alert with the topics list for the whole group."""
    from tests.tg_harness import OTHER

    bot_api.group(-1001, "Desk", admins=[ADMIN], members=[OTHER])
    feed_server.set("/wire.xml", rss("Wire", [STRIKE]))
    app = await start_app(write_config(tmp_path, bot_api, {feed_server.url("/wire.xml"): "Wire"}))
    try:
        await ask(bot_api, -1001, ADMIN, "/subscribe anbar")
        await app.cycle(every_feed=True)
        alert = next(m for m in bot_api.messages(-1001) if "al-Rawi" in m.text)
        before = (alert.text, str(alert.buttons))
        q = await bot_api.press(OTHER, alert, "tp:0")
        await bot_api.wait_for(lambda: bot_api.answers.get(q))
        assert (alert.text, str(alert.buttons)) == before
    finally:
        await app.stop()
