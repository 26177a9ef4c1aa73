"""Channels, managed from a private chat: `/subscribe @channel anbar` and friends, checked with
getChat / getChatMember against the loopback Bot API; alerts then go to the channel; commands
posted in the channel itself are ignored."""

from __future__ import annotations

from bot.store import chats as db
from tests.botapi import BOT_ID, bot_api  # noqa: F401  (fixture)
from tests.tg_harness import COUNCIL, USER, ask, rss, start_app, write_config

CHANNEL, OWNER, READER = -1001900001, 21, 22


async def test_a_channel_admin_subscribes_the_channel_and_alerts_arrive_there(bot_api, feed_server, tmp_path):  # noqa: F811
    bot_api.channel(CHANNEL, "iraqdesk", "Iraq Desk", admins=[OWNER], members=[READER])
    feed_server.set("/wire.xml", rss("Wire", [COUNCIL]))
    app = await start_app(write_config(tmp_path, bot_api, {feed_server.url("/wire.xml"): "Wire"}))
    try:
        done = await ask(bot_api, OWNER, OWNER, "/subscribe @iraqdesk anbar")
        assert done == "@iraqdesk: Subscribed to Anbar."
        assert ("tg:-1001900001", frozenset({"anbar"})) in {(r.target, r.topics) for r in app.runtime.routes}
        assert db.get_chat(app.store, CHANNEL).kind == "channel"
        checked = [p for name, p in bot_api.calls if name == "getChatMember"]
        assert {p["user_id"] for p in checked} == {BOT_ID, OWNER}  # the bot and the user, both admins

        shown = await ask(bot_api, OWNER, OWNER, "/settings @iraqdesk quiet 22:00-07:00")
        assert shown.startswith("@iraqdesk: Settings") and "quiet hours: 22:00-07:00" in shown
        assert db.get_chat(app.store, CHANNEL).quiet_hours == "22:00-07:00"
        assert db.get_chat(app.store, OWNER) is None  # the private chat is untouched
        assert await ask(bot_api, OWNER, OWNER, "/mute @iraqdesk anbar 2h") == "@iraqdesk: Muted Anbar for 2h."
        assert await ask(bot_api, OWNER, OWNER, "/unmute @iraqdesk") == "@iraqdesk: Unmuted 1 topic."
        assert "quiet hours: off" in await ask(bot_api, OWNER, OWNER, "/settings @iraqdesk quiet off")

        await app.cycle(every_feed=True)
        alert = await bot_api.reply(CHANNEL)
        assert alert.text.startswith("Anbar\nRamadi council approves budget")
        assert bot_api.messages(OWNER)[-1].text.startswith("@iraqdesk: Settings")  # nothing else to the owner

        assert await ask(bot_api, OWNER, OWNER, "/unsubscribe @iraqdesk anbar") == "@iraqdesk: Unsubscribed from Anbar."
        assert "tg:-1001900001" not in {r.target for r in app.runtime.routes}
    finally:
        await app.stop()


async def test_channel_commands_need_both_the_user_and_the_bot_to_be_admins(bot_api, feed_server, tmp_path):  # noqa: F811
    bot_api.channel(CHANNEL, "iraqdesk", admins=[OWNER], members=[READER])
    bot_api.channel(-1001900002, "nobot", admins=[OWNER], bot_admin=False)
    bot_api.channel(-1001900003, "readonly", admins=[OWNER], bot_can_post=False)
    bot_api.group(-1001900004, "A group", admins=[OWNER]).username = "agroup"
    app = await start_app(write_config(tmp_path, bot_api, {}))
    try:
        for command, answer in [
            ("/subscribe @iraqdesk anbar", "Only administrators of @iraqdesk can change what it receives."),
            ("/settings @iraqdesk", "Only administrators of @iraqdesk can change what it receives."),
        ]:
            assert await ask(bot_api, READER, READER, command) == answer
        for command, answer in [
            ("/subscribe @nobot anbar", "I am not an administrator of @nobot allowed to post messages"),
            ("/subscribe @readonly anbar", "I am not an administrator of @readonly allowed to post messages"),
            ("/subscribe @nosuchchannel anbar", "I cannot find @nosuchchannel."),
            ("/subscribe @agroup anbar", "@agroup is not a channel"),
            ("/subscribe -1001900001 anbar", "@iraqdesk: Subscribed to Anbar."),  # by id works too
        ]:
            assert (await ask(bot_api, OWNER, OWNER, command)).startswith(answer), command
        bot_api.group(-1001900005, "Desk", admins=[OWNER])
        refused = await ask(bot_api, -1001900005, OWNER, "/subscribe @iraqdesk drone-strikes")
        assert refused.startswith("Manage a channel from a private chat with me")
        assert {r.target: r.topics for r in app.runtime.routes}.get("tg:-1001900001") == frozenset({"anbar"})
        assert [c.id for c in db.all_chats(app.store) if c.kind == "channel"] == [CHANNEL]
    finally:
        await app.stop()


async def test_commands_posted_in_a_channel_are_ignored(bot_api, feed_server, tmp_path):  # noqa: F811
    bot_api.channel(CHANNEL, "iraqdesk", admins=[OWNER])
    app = await start_app(write_config(tmp_path, bot_api, {}))
    try:
        for text in ("/subscribe anbar", "/settings quiet 22:00-07:00", "/addfeed https://x.example/rss", "/start"):
            await bot_api.channel_post(CHANNEL, text)
        await ask(bot_api, USER, USER, "/help")  # answered: the posts before it were consumed, not fatal
        await bot_api.wait_for(lambda: not bot_api.queued())
        assert bot_api.messages(CHANNEL) == [] and db.get_chat(app.store, CHANNEL) is None
        assert "tg:-1001900001" not in {r.target for r in app.runtime.routes}
    finally:
        await app.stop()
