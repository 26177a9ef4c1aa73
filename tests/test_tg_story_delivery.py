"""A story reaches each chat whole: when Telegram refused its alert for good (a 400), and when
many reports of it arrive at once (one edit, not one per report)."""

from __future__ import annotations

import pytest

from tests.botapi import bot_api  # noqa: F401
from tests.tg_harness import (
    ADMIN,
    STRIKE,
    STRIKE_B,
    USER,
    ask,
    outbox,
    rss,
    start_app,
    write_config,
)

GROUP = -1001


@pytest.mark.parametrize("desc", ["Bad Request: message thread not found",
                                  "Bad Request: not enough rights to send text messages to the chat",
                                  "Bad Request: chat not found"])
async def test_a_story_whose_alert_telegram_refused_reaches_the_chat_with_its_next_report(bot_api, feed_server, tmp_path, desc):  # noqa: F811
    """A 400 on the alert (deleted forum topic, bot muted, chat not found) fails that row; the
    next report of the story is then the chat's first of it: sent as its alert, not dropped."""
    from tests.botapi import ApiError
    feed_server.set("/wire.xml", rss("Wire", [STRIKE]))
    bot_api.group(GROUP, "Desk", admins=[ADMIN])
    path = write_config(tmp_path, bot_api, {feed_server.url("/wire.xml"): "Wire"}, admin_chat=ADMIN)
    app = await start_app(path)
    try:
        await ask(bot_api, GROUP, ADMIN, "/subscribe anbar")
        await ask(bot_api, GROUP, ADMIN, "/settings thread here", thread_id=5)
        bot_api.fail("sendMessage", ApiError(400, desc), times=1, chat_id=GROUP)
        await app.cycle(every_feed=True)
        # a second report of the story arrives later; Telegram is fine again by now
        feed_server.set("/l.xml", rss("Ledger", [STRIKE_B]))
        app.store.add_feed(feed_server.url("/l.xml"), "Ledger", "admin", app.clock())
        await app.cycle(every_feed=True)
        await bot_api.wait_for(lambda: any("Ledger" in m.text for m in bot_api.messages(GROUP)), timeout=10)
        assert [status for _, status, _ in outbox(app, f"tg:{GROUP}")] == ["failed", "sent"]
        [message] = [m for m in bot_api.messages(GROUP) if "Abu Khalid" in m.text or "al-Rawi" in m.text]
        assert "Ledger" in message.text
        # a third report edits the message the chat has
        feed_server.set("/t.xml", rss("Third", [("t1", "US drone strike near al-Qaim kills ISIS leader Abu Khalid al-Rawi",
                                                 "Abu Khalid al-Rawi died in the US drone strike near al-Qaim, Anbar.", 0.2)]))
        app.store.add_feed(feed_server.url("/t.xml"), "Third", "admin", app.clock())
        await app.cycle(every_feed=True)
        assert message.edits and "Third" in message.text
    finally:
        await app.stop()


async def test_many_reports_of_a_story_in_one_cycle_are_one_edit(bot_api, feed_server, tmp_path):  # noqa: F811
    """Each update lists every source so far: the last one says what all twelve would, so the
    alert is edited once, and every update row is settled."""
    feed_server.set("/wire.xml", rss("Wire", [STRIKE]))
    app = await start_app(write_config(tmp_path, bot_api, {feed_server.url("/wire.xml"): "Wire"}))
    try:
        await ask(bot_api, USER, USER, "/subscribe anbar")
        await app.cycle(every_feed=True)
        alert = next(m for m in bot_api.messages(USER) if "al-Rawi" in m.text)
        for i in range(12):
            feed_server.set(f"/o{i}.xml", rss(f"Outlet{i}", [(f"o{i}", f"{STRIKE_B[1]} ({i})", STRIKE_B[2], 0.5)]))
            app.store.add_feed(feed_server.url(f"/o{i}.xml"), f"Outlet{i}", "admin", app.clock())
        await app.cycle(every_feed=True)
        await bot_api.wait_for(lambda: alert.edits)
        assert alert.edits == 1, alert.edits
        assert "Outlet11" in alert.text or "more" in alert.text, alert.text  # the last report's sources
        statuses = [status for _, status, _ in outbox(app, f"tg:{USER}")]
        assert statuses == ["sent"] * 13, statuses
    finally:
        await app.stop()
