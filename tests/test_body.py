"""The article body: parse keeps it, normalize bounds it, JSONL reads it, the store keeps it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from bot.ingest.normalize import MAX_BODY_CHARS, MAX_SUMMARY_CHARS, normalize_entries
from bot.ingest.parse import parse_feed
from bot.items_jsonl import read_items
from bot.models import Item, Match, StoryAction, StoryDecision
from bot.store import schema
from bot.store.db import FeedState, ProcessedItem, Store

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
ARTICLE = ("<p>A senior Islamic State leader was killed overnight.</p>"
           "<p>Officials said the operation took place in <b>Anbar</b> Province &amp; lasted an hour.</p>")

RSS = f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>
<title>Wire</title><link>https://wire.example/</link>
<item><title>Senior IS leader killed</title><link>https://wire.example/a</link><guid>https://wire.example/a</guid>
<description>A senior Islamic State leader was killed.</description>
<content:encoded><![CDATA[{ARTICLE}]]></content:encoded></item>
<item><title>No teaser</title><link>https://wire.example/b</link><guid>https://wire.example/b</guid>
<content:encoded><![CDATA[{ARTICLE}]]></content:encoded></item>
<item><title>Teaser only</title><link>https://wire.example/c</link><guid>https://wire.example/c</guid>
<description>Just a teaser.</description></item>
</channel></rss>""".encode()

ATOM = f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Wire</title><id>urn:wire</id><updated>2026-11-21T10:00:00Z</updated>
<entry><title>Senior IS leader killed</title><id>urn:a</id><updated>2026-11-21T10:00:00Z</updated>
<link href="https://wire.example/a"/><summary>A senior Islamic State leader was killed.</summary>
<content type="html"><![CDATA[{ARTICLE}]]></content></entry></feed>""".encode()

JSON_FEED = json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "Wire", "items": [
    {"id": "a", "url": "https://wire.example/a", "title": "Senior IS leader killed",
     "summary": "A senior Islamic State leader was killed.", "content_html": ARTICLE},
    {"id": "b", "url": "https://wire.example/b", "title": "Plain", "content_text": "Anbar Province, in plain text."},
]}).encode()

BODY = ("A senior Islamic State leader was killed overnight. Officials said the operation took place in "
        "Anbar Province & lasted an hour.")


def items(body: bytes, fast: bool = True) -> list[Item]:
    return normalize_entries(parse_feed(body, url="https://wire.example/feed", fast=fast),
                             source="Wire", feed_id=1, now=NOW)


@pytest.mark.parametrize("fast", [True, False], ids=["fastparse", "feedparser"])
def test_rss_content_encoded_is_the_body_next_to_the_teaser(fast):
    with_teaser, no_teaser, teaser_only = items(RSS, fast)
    assert (with_teaser.summary, with_teaser.body) == ("A senior Islamic State leader was killed.", BODY)
    assert no_teaser.body == BODY and no_teaser.summary == BODY  # no description: the body's start
    assert (teaser_only.summary, teaser_only.body) == ("Just a teaser.", "")


@pytest.mark.parametrize("fast", [True, False], ids=["fastparse", "feedparser"])
def test_atom_content_is_the_body(fast):
    [item] = items(ATOM, fast)
    assert (item.summary, item.body) == ("A senior Islamic State leader was killed.", BODY)


def test_json_feed_content_html_and_content_text_are_the_body():
    first, second = items(JSON_FEED)
    assert (first.summary, first.body) == ("A senior Islamic State leader was killed.", BODY)
    assert (second.summary, second.body) == ("Anbar Province, in plain text.", "Anbar Province, in plain text.")


def test_body_and_summary_are_bounded_at_a_word():
    long = "<p>" + "word " * 10_000 + "</p>"
    feed = RSS.replace(ARTICLE.encode(), long.encode())
    item = items(feed)[1]
    assert len(item.body) <= MAX_BODY_CHARS and item.body.endswith("word…")
    assert len(item.summary) <= MAX_SUMMARY_CHARS and item.summary.endswith("word…")


def test_a_whole_article_in_the_description_becomes_the_body():
    article = "Paragraph about Anbar. " * 40
    feed = RSS.replace(b"Just a teaser.", article.encode())
    item = items(feed)[2]
    assert item.body == article.strip() and len(item.summary) <= MAX_SUMMARY_CHARS


@pytest.mark.parametrize(
    ("record", "summary", "body"),
    [
        ({"summary": "Teaser.", "text": "<p>The article.</p>"}, "Teaser.", "The article."),
        ({"text": "Only the article, " + "long " * 100}, None, None),
        ({"summary": "Only a teaser."}, "Only a teaser.", ""),
    ],
)
def test_item_jsonl_text_is_the_body(tmp_path, record, summary, body):
    path = tmp_path / "items.jsonl"
    path.write_text(json.dumps({"id": "1", "title": "T", **record}) + "\n", encoding="utf-8")
    [rec] = read_items(path)
    if summary is None:  # only text: the summary is the text's start
        assert rec.item.body.startswith("Only the article") and len(rec.item.summary) <= MAX_SUMMARY_CHARS
        assert rec.item.body.startswith(rec.item.summary.rstrip("…"))
    else:
        assert (rec.item.summary, rec.item.body) == (summary, body)


def _processed(body: str) -> ProcessedItem:
    item = Item(key="k1", title="Title", summary="Teaser.", url="https://x.org/1", source="Wire",
                published=NOW - timedelta(hours=1), content_hash="h", body=body)
    return ProcessedItem(item, (Match("anbar", 1.0, ("anbar (body)",)),), StoryDecision("s1", StoryAction.NEW), ())


def _state() -> FeedState:
    return FeedState(checked_at=NOW, next_check_at=NOW + timedelta(minutes=15), status="new")


def test_the_store_keeps_the_body_for_the_story_window(tmp_path):
    store = Store.open(f"sqlite:///{tmp_path / 'ww.db'}")
    feed_id = store.add_feed("https://x.org/rss", "Wire", "admin", NOW)
    store.save_update(feed_id, _state(), [_processed("Officials said it was in Anbar Province.")])
    [(item, story)] = store.items_since(NOW - timedelta(days=1))
    store.close()
    assert (item.body, story) == ("Officials said it was in Anbar Province.", "s1")


def test_a_database_from_before_the_body_column_is_migrated(tmp_path):
    url = f"sqlite:///{tmp_path / 'ww.db'}"
    store = Store.open(url)
    feed_id = store.add_feed("https://x.org/rss", "Wire", "admin", NOW)
    store.save_update(feed_id, _state(), [_processed("")])
    with store.engine.begin() as conn:  # as the previous version left it
        conn.execute(text("ALTER TABLE items DROP COLUMN body"))
        conn.execute(text("ALTER TABLE feeds DROP COLUMN fulltext_ok"))
        conn.execute(text("ALTER TABLE feeds DROP COLUMN fulltext_failed"))
        conn.execute(schema.meta.update().values(value=str(schema.MIGRATIONS.index(schema._add_item_body) + 1)))
    store.close()
    store = Store.open(url)
    [(item, _)] = store.items_since(NOW - timedelta(days=1))
    with store.engine.connect() as conn:
        assert schema.current_version(conn) == schema.SCHEMA_VERSION
    assert [(f.fulltext_ok, f.fulltext_failed) for f in store.feeds()] == [(0, 0)]
    store.close()
    assert item.title == "Title" and item.body == ""
