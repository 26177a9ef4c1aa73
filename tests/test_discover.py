"""Feed discovery: the pure link finder (a table), and /addfeed given a web page, end to end."""

from __future__ import annotations

import pytest

from bot.ingest.discover import Alternate, discover, looks_like_html
from bot.tg.handlers_admin import REFUSED as ADMIN_ONLY
from tests.botapi import bot_api  # noqa: F401  (fixture)
from tests.tg_harness import ADMIN, COUNCIL, USER, ask, rss, start_app, write_config

PAGE = "https://site.example/news/index.html"


@pytest.mark.parametrize("html, expected", [
    ('<link rel="alternate" type="application/rss+xml" href="/feed.xml" title="All news">',
     [Alternate("https://site.example/feed.xml", "All news", "rss")]),
    ('<LINK REL="Alternate Feed" TYPE="Application/Atom+XML; charset=utf-8" HREF="atom">',  # case, params, relative
     [Alternate("https://site.example/news/atom", "", "atom")]),
    ("<link rel=alternate type=application/feed+json href=//cdn.example/feed.json>",
     [Alternate("https://cdn.example/feed.json", "", "json")]),
    ('<base href="https://other.example/b/"><link rel="alternate" type="application/rss+xml" href="rss">',
     [Alternate("https://other.example/b/rss", "", "rss")]),
    ('<link rel="alternate" type="application/rss+xml" href="/a?x=1&amp;y=2" title=" Tom &amp;\n Jerry ">',
     [Alternate("https://site.example/a?x=1&y=2", "Tom & Jerry", "rss")]),
    ('<link rel="alternate" type="application/rss+xml" href="/r"><link rel="alternate" '
     'type="application/atom+xml" href="/r">', [Alternate("https://site.example/r", "", "rss")]),  # one URL once
    ('<link rel="alternate" hreflang="ar" type="text/html" href="/ar/">'  # a translation, not a feed
     '<link rel="stylesheet" type="application/rss+xml" href="/x">'  # not rel=alternate
     '<link rel="alternate" type="application/rss+xml" href="javascript:alert(1)">'
     '<link rel="alternate" type="application/rss+xml">', []),  # no href
    ("<html><head><title>No feeds</title></head><body><p>x</p></body></html>", []),
    ("<p>broken <link rel='alternate' type='application/rss+xml' href='/late.xml'", []),  # unclosed tag
    ('<a rel="alternate" type="application/rss+xml" href="/a.xml">not a link element</a>', []),
])
def test_discover(html, expected):
    assert discover(html.encode(), PAGE) == expected


def test_discover_keeps_arabic_titles_and_reads_bytes():
    html = '<link rel="alternate" type="application/rss+xml" href="/ar.xml" title="أخبار الأنبار">'.encode()
    assert discover(html, PAGE)[0].title == "أخبار الأنبار"


@pytest.mark.parametrize("body, html", [
    (b"<!DOCTYPE html><html>", True), (b"  <HTML lang=en>", True), (b"<head><link rel=alternate>", True),
    (b"<?xml version='1.0'?><rss/>", False), (b'{"version": "x"}', False), (b"\x00\x01", False),
])
def test_looks_like_html(body, html):
    assert looks_like_html(body) is html


def page(*links: tuple[str, str, str]) -> str:
    tags = "".join(f'<link rel="alternate" type="{t}" href="{href}" title="{title}">' for href, title, t in links)
    return f"<!DOCTYPE html><html><head><title>Site</title>{tags}</head><body>Hello</body></html>"


async def test_addfeed_of_a_page_follows_its_one_feed(bot_api, feed_server, tmp_path):  # noqa: F811
    feed_server.set("/site/index.html", page(("../feed.xml", "News", "application/rss+xml")), content_type="text/html")
    feed_server.set("/feed.xml", rss("Tigris Monitor", [COUNCIL]))
    app = await start_app(write_config(tmp_path, bot_api, {}))
    try:
        added = await ask(bot_api, ADMIN, ADMIN, f"/addfeed {feed_server.url('/site/index.html')}")
        assert added.startswith(f"Added feed #1 Tigris Monitor (announced by {feed_server.url('/site/index.html')})")
        assert [f.url for f in app.store.feeds()] == [feed_server.url("/feed.xml")]
    finally:
        await app.stop()


async def test_addfeed_of_a_page_with_several_feeds_offers_a_choice(bot_api, feed_server, tmp_path):  # noqa: F811
    feed_server.set("/index.html", page(("/rss.xml", "All news", "application/rss+xml"),
                                        ("/atom.xml", "Security desk", "application/atom+xml")), content_type="text/html")
    feed_server.set("/rss.xml", rss("All news", [COUNCIL]))
    feed_server.set("/atom.xml", rss("Security desk", [COUNCIL]))
    feed_server.set("/plain.html", page(), content_type="text/html")
    app = await start_app(write_config(tmp_path, bot_api, {}))
    try:
        before = len(bot_api.messages(ADMIN))
        await bot_api.command(ADMIN, ADMIN, f"/addfeed {feed_server.url('/index.html')} Desk")
        offer = await bot_api.reply(ADMIN, after=before)
        assert "announces 2 feeds. Which one?" in offer.text and offer.buttons == ["RSS: All news", "ATOM: Security desk"]
        assert app.store.feeds() == [] and feed_server.count("/atom.xml") == 0  # nothing fetched or added yet

        query = await bot_api.press(USER, offer, offer.callback("ATOM"))  # not an admin: refused
        await bot_api.wait_for(lambda: query in bot_api.answers)
        assert bot_api.answers[query]["text"] == ADMIN_ONLY and app.store.feeds() == []

        before = len(bot_api.messages(ADMIN))
        await bot_api.press(ADMIN, offer, offer.callback("ATOM"))
        added = await bot_api.reply(ADMIN, after=before)
        assert added.text.startswith("Added feed #1 Desk (announced by")
        assert [f.url for f in app.store.feeds()] == [feed_server.url("/atom.xml")]
        assert offer.buttons == []  # the choice was made: the buttons are gone

        query = await bot_api.press(ADMIN, offer, "af:00000000:0")  # e.g. from before a restart
        await bot_api.wait_for(lambda: query in bot_api.answers)
        assert "expired" in bot_api.answers[query]["text"]

        refused = await ask(bot_api, ADMIN, ADMIN, f"/addfeed {feed_server.url('/plain.html')}")
        assert refused.startswith("Not added") and "is not a feed but a web page that announces none" in refused
    finally:
        await app.stop()
