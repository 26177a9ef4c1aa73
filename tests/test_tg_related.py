"""Related stories end to end through python-telegram-bot and the loopback Bot API: a related
alert is a reply with "Same story" / "Different story"; a press folds or keeps apart, is stored,
and the edited alert links each source's own article."""

from __future__ import annotations

import json

from sqlalchemy import select

from bot.config import StorySettings
from bot.store import schema as t
from bot.stories.cluster import StoryClusterer
from tests.botapi import bot_api  # noqa: F401  (fixture)
from tests.tg_harness import (
    ADMIN,
    COUNCIL,
    OTHER,
    STRIKE,
    STRIKE_B,
    USER,
    ask,
    rss,
    start_app,
    write_config,
)

# The two strike reports are one event (confidence ~5.4): a join bar no pair reaches makes them related.
JOIN, RELATED = 8.0, 0.05
GROUP = -1001


def related_band(settings: StorySettings) -> StoryClusterer:
    clusterer = StoryClusterer(settings)
    clusterer.set_thresholds(JOIN, RELATED)
    return clusterer


async def two_reports(api, feed_server, tmp_path, chat: int, user: int):
    """An app whose chat got the strike alert, then the second outlet's report as a related reply."""
    feed_server.set("/wire.xml", rss("Euphrates Wire", [STRIKE, COUNCIL]))
    path = write_config(tmp_path, api, {feed_server.url("/wire.xml"): "Euphrates Wire"},
                        extra=f'jsonl = "{tmp_path / "alerts.jsonl"}"')
    app = await start_app(path, clusterer=related_band)
    assert "Subscribed to Anbar" in await ask(api, chat, user, "/subscribe@wirewatch_test_bot anbar")
    await app.cycle(every_feed=True)
    strike = next(m for m in api.messages(chat) if "al-Rawi" in m.text)
    feed_server.set("/ledger.xml", rss("Baghdad Ledger", [STRIKE_B]))
    app.store.add_feed(feed_server.url("/ledger.xml"), "Baghdad Ledger", "admin", app.clock())
    await app.cycle(every_feed=True)
    reply = next(m for m in api.messages(chat) if m.text.startswith("Anbar") and "senior ISIS figure" in m.text)
    return app, strike, reply


def story_of(app, key: str) -> str:
    with app.store.engine.connect() as conn:
        return conn.execute(select(t.items.c.story_id).where(t.items.c.key.like(f"%{key}%"))).scalar()


async def test_related_alert_is_a_reply_and_same_story_folds(bot_api, feed_server, tmp_path):  # noqa: F811
    app, strike, reply = await two_reports(bot_api, feed_server, tmp_path, USER, USER)
    try:
        first, second = story_of(app, "w1"), story_of(app, "l1")
        assert first != second
        assert reply.reply_to == strike.message_id
        assert reply.params["reply_parameters"]["allow_sending_without_reply"] is True
        assert reply.text.endswith("↳ may be the same story as Drone strike kills ISIS commander Abu Khalid al-Rawi near al-Qaim")
        assert '<a href="https://news.example/l1">news.example</a>' in reply.html  # its own link
        assert reply.buttons == ["👍", "👎", "🔕", "Same story", "Different story"]
        lines = [json.loads(x) for x in (tmp_path / "alerts.jsonl").read_text().splitlines()]
        assert [(x["title"][:12], x["story"], x["related"]) for x in lines] == [
            ("Drone strike", first, None), ("Ramadi counc", story_of(app, "w2"), None), ("Abu Khalid a", second, first)]
        assert lines[2]["related_title"].startswith("Drone strike kills")

        query = await bot_api.press(USER, reply, reply.callback("Same story"))
        answer = await bot_api.wait_for(lambda: bot_api.answers.get(query))
        assert answer["text"].startswith("Folded into the earlier story")
        await bot_api.wait_for(lambda: reply.buttons == ["👍", "👎", "🔕", "Same story ✓"])
        assert "↳ same story, folded into: Drone strike kills" in reply.text
        with app.store.engine.connect() as conn:
            judged = conn.execute(select(t.story_judgements)).one()
        assert (judged.story_id, judged.other_id, judged.verdict, judged.chat_id, judged.user_id) == (
            second, first, "same", USER, USER)
        assert RELATED <= judged.score < JOIN
        assert story_of(app, "l1") == first  # the item moved into the earlier story

        await app.deliver()  # the fold queued an edit of the earlier alert
        assert strike.edits == 1
        assert strike.html.endswith('<i>also: <a href="https://news.example/l1">Baghdad Ledger</a></i>')
        why = await ask(bot_api, USER, USER, "/why", reply_to=strike)
        assert "2 items from Euphrates Wire, Baghdad Ledger" in why
        assert "– Drone strike kills ISIS commander Abu Khalid al-Rawi near al-Qaim (Euphrates Wire)" in why
        assert "– Abu Khalid al-Rawi, senior ISIS figure, killed in US drone strike in Anbar's al-Qaim (Baghdad Ledger)" in why
        update = json.loads((tmp_path / "alerts.jsonl").read_text().splitlines()[-1])
        assert (update["type"], update["story"], update["also_links"]) == (
            "update", first, {"Baghdad Ledger": "https://news.example/l1"})

        again = await bot_api.press(USER, reply, reply.callback("Same story"))
        assert (await bot_api.wait_for(lambda: bot_api.answers.get(again)))["text"] == "Already folded into the earlier story."
        assert strike.edits == 1
    finally:
        await app.stop()


async def test_different_story_keeps_apart_and_only_admins_judge_in_groups(bot_api, feed_server, tmp_path):  # noqa: F811
    bot_api.group(GROUP, "Desk", admins=[ADMIN], members=[OTHER])
    app, strike, reply = await two_reports(bot_api, feed_server, tmp_path, GROUP, ADMIN)
    try:
        first, second = story_of(app, "w1"), story_of(app, "l1")
        refused = await bot_api.press(OTHER, reply, reply.callback("Different story"))
        assert "Only chat administrators" in (await bot_api.wait_for(lambda: bot_api.answers.get(refused)))["text"]
        with app.store.engine.connect() as conn:
            assert conn.execute(select(t.story_judgements)).all() == []

        query = await bot_api.press(ADMIN, reply, reply.callback("Different story"))
        assert (await bot_api.wait_for(lambda: bot_api.answers.get(query)))["text"].startswith("Kept apart")
        await bot_api.wait_for(lambda: reply.buttons == ["👍", "👎", "🔕", "Different story ✓"])
        assert reply.text.endswith("↳ may be the same story as Drone strike kills ISIS commander Abu Khalid al-Rawi near al-Qaim")
        with app.store.engine.connect() as conn:
            judged = conn.execute(select(t.story_judgements)).one()
        assert (judged.story_id, judged.other_id, judged.verdict, judged.chat_id, judged.user_id) == (
            second, first, "different", GROUP, ADMIN)
        assert app.clusterer.kept_apart(second, first) and story_of(app, "l1") == second
        await app.deliver()
        assert strike.edits == 0  # nothing folded: the earlier alert stays as it was

        # 👍 on the reply keeps the verdict row under it
        liked = await bot_api.press(ADMIN, reply, reply.callback("👍"))  # labels: group admins only
        await bot_api.wait_for(lambda: bot_api.answers.get(liked))
        await bot_api.wait_for(lambda: reply.buttons == ["👍 ✓", "👎", "🔕", "Different story ✓"])
    finally:
        await app.stop()


async def test_related_alert_without_the_earlier_one_here_is_a_normal_alert(bot_api, feed_server, tmp_path):  # noqa: F811
    app, strike, reply = await two_reports(bot_api, feed_server, tmp_path, USER, USER)
    try:
        # OTHER subscribes only now: a third report is related to a story never alerted there
        assert "Subscribed to Anbar" in await ask(bot_api, OTHER, OTHER, "/subscribe anbar")
        third = ("l3", "ISIS commander Abu Khalid al-Rawi killed near al-Qaim in US drone strike",
                 "A US drone strike killed Abu Khalid al-Rawi near al-Qaim, Anbar officials said on Tuesday.", 0.2)
        feed_server.set("/ledger.xml", rss("Baghdad Ledger", [STRIKE_B, third]))
        await app.cycle(every_feed=True)
        line = json.loads((tmp_path / "alerts.jsonl").read_text().splitlines()[-1])
        assert line["title"] == third[1] and line["related"] in (story_of(app, "w1"), story_of(app, "l1"))
        alert = bot_api.messages(OTHER)[-1]
        assert third[1] in alert.text and alert.reply_to is None and "reply_parameters" not in alert.params
        assert alert.buttons == ["👍", "👎", "🔕"] and "may be the same story" not in alert.text
        here = next(m for m in bot_api.messages(USER) if third[1] in m.text)  # USER got the earlier one
        assert here.reply_to is not None and "Same story" in here.buttons
    finally:
        await app.stop()


async def test_story_buttons_and_their_answers_speak_the_chats_language(bot_api, feed_server, tmp_path):  # noqa: F811
    app, strike, reply = await two_reports(bot_api, feed_server, tmp_path, USER, USER)
    try:
        await ask(bot_api, USER, USER, "/settings lang ar")
        q = await bot_api.press(USER, reply, reply.callback("Same story"))
        toast = (await bot_api.wait_for(lambda: bot_api.answers.get(q))).get("text")
        assert toast == "دُمج في الخبر السابق؛ سيذكر تنبيهه هذا المصدر."
        assert "الخبر نفسه ✓" in str(reply.buttons)
        q = await bot_api.press(USER, reply, "pj:99999:s")
        assert (await bot_api.wait_for(lambda: bot_api.answers.get(q))).get("text") == "هذا التنبيه لم يعد معروفاً."
    finally:
        await app.stop()
