"""/export and /import through python-telegram-bot against the loopback Bot API: the file goes out
as a document, comes back as a reply (or a caption), and bad files are refused with the reason."""

from __future__ import annotations

from bot.ingest.opml import read_opml
from bot.tg.handlers_admin import REFUSED as ADMIN_ONLY
from tests.botapi import bot_api  # noqa: F401  (fixture)
from tests.test_opml import BOMB, GOOD
from tests.tg_harness import ADMIN, COUNCIL, HEADLINES, USER, ask, rss, start_app, write_config


async def test_export_sends_the_feed_list_and_import_adds_feeds(bot_api, feed_server, tmp_path):  # noqa: F811
    feed_server.set("/wire.xml", rss("Wire", [COUNCIL]))
    app = await start_app(write_config(tmp_path, bot_api, {feed_server.url("/wire.xml"): "Wire & Co"}))
    try:
        before = len(bot_api.messages(ADMIN))
        await bot_api.command(ADMIN, ADMIN, "/export")
        sent = await bot_api.reply(ADMIN, after=before)
        name, content = sent.document
        assert name == "wirewatch-feeds.opml" and sent.text.startswith("1 feed (OPML)")
        assert [(f.url, f.title) for f in read_opml(content).feeds] == [(feed_server.url("/wire.xml"), "Wire & Co")]

        upload = await bot_api.document(ADMIN, ADMIN, "list.opml", GOOD)
        dry = await ask(bot_api, ADMIN, ADMIN, "/import dry-run", reply_to=upload)
        assert dry.startswith("3 feed(s) would be added, 0 already present, 1 skipped") and "nothing changed" in dry
        assert len(app.store.feeds()) == 1

        done = await ask(bot_api, ADMIN, ADMIN, "/import", reply_to=upload)
        assert done.startswith("3 feed(s) added") and "add: Ledger & Co  https://ledger.example/atom" in done
        assert [(f.url, f.origin) for f in app.store.feeds()][1:] == [
            ("https://wire.example/rss.xml", "import"), ("https://ledger.example/atom", "import"),
            ("https://arabic.example/feed", "import")]

        before = len(bot_api.messages(ADMIN))
        await bot_api.document(ADMIN, ADMIN, "again.opml", GOOD, caption="/import")  # the caption form
        assert (await bot_api.reply(ADMIN, after=before)).text.startswith("0 feed(s) added, 3 already present")
    finally:
        await app.stop()


async def test_import_refuses_bad_files_and_non_admins(bot_api, feed_server, tmp_path):  # noqa: F811
    app = await start_app(write_config(tmp_path, bot_api, {}))
    try:
        bomb = await bot_api.document(ADMIN, ADMIN, "bomb.opml", BOMB)
        refused = await ask(bot_api, ADMIN, ADMIN, "/import", reply_to=bomb)
        assert refused.startswith("Not imported: bomb.opml: refused: the file declares XML entities")
        feed = await bot_api.document(ADMIN, ADMIN, "feed.xml", rss("Wire", [COUNCIL]).encode())
        assert "not OPML (the root element is <rss>" in await ask(bot_api, ADMIN, ADMIN, "/import", reply_to=feed)
        assert (await ask(bot_api, ADMIN, ADMIN, "/import")).startswith("Send an OPML file and reply to it")
        assert app.store.feeds() == []

        good = await bot_api.document(USER, USER, "list.opml", GOOD)
        assert await ask(bot_api, USER, USER, "/import", reply_to=good) == ADMIN_ONLY
        assert await ask(bot_api, USER, USER, "/export") == ADMIN_ONLY
        assert app.store.feeds() == [] and bot_api.count("getFile") == 2  # never fetched for a non-admin
    finally:
        await app.stop()


async def test_an_imported_feed_alerts_only_what_appears_after_the_import(bot_api, feed_server, tmp_path):  # noqa: F811
    """Like /addfeed: what the feed holds when it is imported is stored, never alerted (here an
    item one hour old, which the 24 h backfill of a config feed would alert)."""
    feed_server.set("/wire.xml", rss("Wire", [COUNCIL]))
    app = await start_app(write_config(tmp_path, bot_api, {}))
    try:
        await ask(bot_api, USER, USER, "/subscribe anbar")
        opml = f'<opml version="2.0"><body><outline text="Wire" xmlUrl="{feed_server.url("/wire.xml")}"/></body></opml>'
        upload = await bot_api.document(ADMIN, ADMIN, "one.opml", opml.encode())
        assert (await ask(bot_api, ADMIN, ADMIN, "/import", reply_to=upload)).startswith("1 feed(s) added")
        before = len(bot_api.messages(USER))
        report = await app.cycle(every_feed=True)
        assert sum(o.new_items for o in report.outcomes) == 1 and len(bot_api.messages(USER)) == before

        feed_server.set("/wire.xml", rss("Wire", [COUNCIL, ("w7", HEADLINES[1], "Later news.", 0.1)]))
        await app.cycle(every_feed=True)
        assert [m.text.split("\n")[1] for m in bot_api.messages(USER)[before:]] == [HEADLINES[1]]
    finally:
        await app.stop()
