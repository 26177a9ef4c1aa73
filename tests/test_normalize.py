"""Normalization: plain text, canonical URLs, keys, dates and the per-feed rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from bot.ingest.htmltext import html_to_text
from bot.ingest.normalize import (
    canonical_url,
    content_hash,
    item_key,
    normalize_entries,
)
from bot.models import ParsedFeed, RawEntry

NOW = datetime(2024, 3, 18, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("markup", "text"),
    [
        ("Plain   text\n with\tspaces ", "Plain text with spaces"),
        ("<p>Two</p><p>paragraphs</p>", "Two paragraphs"),
        ("line<br/>break", "line break"),
        ("in<b>line</b> tags", "inline tags"),
        ("<p>Kept</p><script>var x = '<b>no</b>';</script><style>p {color: red}</style>", "Kept"),
        ("<!-- a comment --><p>after</p>", "after"),
        ("a<SCRIPT type=x>var s = '<p>';</Script >b<!-- c -->d", "a b d"),
        ("Kept<script>never closed <b>x</b>", "Kept"),  # unclosed: hides the rest, as in a browser
        (
            "AT&amp;T &quot;quoted&quot; &#8220;curly&#8221; &#x2014; dash",
            'AT&T "quoted" “curly” — dash',
        ),
        ("double &amp;amp; escaped &amp;#8217;s", "double & escaped ’s"),
        ("&lt;p&gt;Escaped &lt;b&gt;markup&lt;/b&gt;&lt;/p&gt;", "Escaped markup"),
        ("already unescaped: R&D and a < b", "already unescaped: R&D and a < b"),
        ("a &lt;tag&gt; that is text", "a <tag> that is text"),
        ("no semicolon: ?a=1&copy=2", "no semicolon: ?a=1&copy=2"),
        ("non&nbsp;breaking", "non breaking"),
        ("zero\u200bwidth and \x07 bell", "zerowidth and bell"),
        ("Body text. The post Raid in Hit appeared first on Anbar Today.", "Body text."),
        ("Body text. <a href='/x'>Continue reading →</a>", "Body text."),
        ("Body text. <a href='/x'>Read more »</a>", "Body text."),
        ("Body text [&hellip;] The post T appeared first on S.", "Body text…"),
        ("Body text [...]", "Body text…"),
        ("Readers continue reading the report.", "Readers continue reading the report."),
        ("<div><img src='a.jpg' alt='x'>Caption</div>", "Caption"),
        ('Logo<svg viewBox="0 0 9 9"><g style="fill:#FFF"><path d="M1,5c3,1-3,2z"></path></g></svg> then text', "Logo then text"),
        ("<p>E = m<math><mi>c</mi><msup><mn>2</mn></msup></math></p>", "E = mc2"),
        ("", ""),
    ],
)
def test_html_to_text(markup: str, text: str) -> None:
    assert html_to_text(markup) == text


@pytest.mark.parametrize(
    ("url", "base", "canonical"),
    [
        (
            "HTTPS://Example.COM/Path/Page?b=2&a=1#frag",
            None,
            "https://example.com/Path/Page?b=2&a=1",
        ),
        ("http://example.com:80/a", None, "http://example.com/a"),
        ("https://example.com:443/a", None, "https://example.com/a"),
        ("https://example.com:8443/a", None, "https://example.com:8443/a"),
        ("https://example.com", None, "https://example.com/"),
        (
            "https://news.example/a?utm_source=rss&id=7&utm_medium=feed&fbclid=XYZ&gclid=1&page=2",
            None,
            "https://news.example/a?id=7&page=2",
        ),
        (
            "https://news.example/a?mc_cid=1&mc_eid=2&igshid=3&ocid=4&cmpid=5&_ga=6&spm=7",
            None,
            "https://news.example/a",
        ),
        ("https://news.example/a?CMP=twt_gu&UTM_Campaign=x", None, "https://news.example/a"),
        ("https://news.example/a?ref=rss&x=1", None, "https://news.example/a?x=1"),
        ("https://news.example/a?ref_src=twsrc", None, "https://news.example/a"),
        ("https://code.example/repo?ref=main", None, "https://code.example/repo?ref=main"),
        ("https://news.example/a?q=a%20b&&empty=", None, "https://news.example/a?q=a%20b&empty="),
        ("https://news.example/a?x=1&amp;y=2", None, "https://news.example/a?x=1&y=2"),
        ("/2024/03/story", "https://news.example/section/", "https://news.example/2024/03/story"),
        ("story.html", "https://news.example/section/", "https://news.example/section/story.html"),
        ("//cdn.example/x", "https://news.example/", "https://cdn.example/x"),
        ("  https://news.example/a\n", None, "https://news.example/a"),
        ("https://news.example/a b", None, "https://news.example/a%20b"),
        ("https://[2001:DB8::1]:443/a", None, "https://[2001:db8::1]/a"),
        ("/relative/without/base", None, None),
        ("javascript:alert(1)", None, None),
        ("javascript:alert(1)", "https://news.example/", None),
        ("data:text/html,hi", None, None),
        ("mailto:desk@news.example", None, None),
        ("ftp://files.example/a", None, None),
        ("https://news.example:notaport/a", None, None),
        ("", "https://news.example/", None),
    ],
)
def test_canonical_url(url: str, base: str | None, canonical: str | None) -> None:
    assert canonical_url(url, base) == canonical


WHEN = datetime(2024, 3, 18, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("guid", "url", "title", "published", "prefix"),
    [
        ("tsm-2024-0318-01", "https://a.example/x", "T", WHEN, "guid:tsm-2024-0318-01"),
        ("  spaced-guid \n", None, "T", None, "guid:spaced-guid"),
        ("https://a.example/2024/story", None, "T", None, "guid:https://a.example/2024/story"),
        ("", "https://a.example/x", "T", WHEN, "url:https://a.example/x"),
        ("   ", "https://a.example/x", "T", WHEN, "url:https://a.example/x"),
        ("null", "https://a.example/x", "T", WHEN, "url:https://a.example/x"),
        ("0", "https://a.example/x", "T", WHEN, "url:https://a.example/x"),
        ("https://a.example/", "https://a.example/x", "T", WHEN, "url:https://a.example/x"),
        ("HTTPS://A.example:443#top", "https://a.example/x", "T", WHEN, "url:https://a.example/x"),
        ("https://a.example/?p=12", None, "T", WHEN, "guid:https://a.example/?p=12"),
        ("http://[broken", None, "T", WHEN, "guid:http://[broken"),
        (None, "https://a.example/x", "T", WHEN, "url:https://a.example/x"),
        (None, None, "Title", WHEN, "hash:"),
    ],
)
def test_item_key(guid, url, title, published, prefix) -> None:
    assert item_key(guid, url, title, published).startswith(prefix)
    if prefix != "hash:":
        assert item_key(guid, url, title, published) == prefix


def test_hash_key_folds_title_and_depends_on_date() -> None:
    base = item_key(None, None, "Raid in  HIT, Anbar", WHEN)
    assert base == item_key(None, None, "raid in hit anbar", WHEN)
    assert base != item_key(None, None, "Raid in Haditha, Anbar", WHEN)
    assert base != item_key(None, None, "Raid in Hit, Anbar", WHEN + timedelta(hours=1))
    assert item_key(None, None, "Raid", None) == item_key(None, None, "Raid", None)
    # the same instant written in another timezone is the same key
    other_zone = WHEN.astimezone(timezone(timedelta(hours=3)))
    assert base == item_key(None, None, "Raid in Hit, Anbar", other_zone)


def test_content_hash_ignores_case_and_accents_but_not_words() -> None:
    assert content_hash("Raid in Qaïm", "Two killed") == content_hash("RAID IN QAIM", "two killed")
    assert content_hash("Raid in Qaim", "Two killed") != content_hash(
        "Raid in Qaim", "Three killed"
    )
    assert content_hash("a", "bc") != content_hash("ab", "c")


def entry(**fields) -> RawEntry:
    values = dict(guid=None, link=None, title="", summary="", published=None, author=None)
    values.update(fields)
    return RawEntry(**values)


def normalize(*entries: RawEntry, link: str | None = "https://site.example/") -> list:
    feed = ParsedFeed(title="Site", link=link, entries=entries)
    return normalize_entries(feed, source="Site Feed", feed_id=7, now=NOW)


@pytest.mark.parametrize(
    ("published", "expected"),
    [
        (datetime(2024, 3, 18, 9, 0, tzinfo=UTC), datetime(2024, 3, 18, 9, 0, tzinfo=UTC)),
        (
            datetime(2024, 3, 18, 9, 0, tzinfo=timezone(timedelta(hours=3))),
            datetime(2024, 3, 18, 6, 0, tzinfo=UTC),
        ),
        (datetime(2024, 3, 18, 9, 0), datetime(2024, 3, 18, 9, 0, tzinfo=UTC)),  # naive means UTC
        (None, NOW),  # no date: first seen
        (NOW + timedelta(hours=20), NOW + timedelta(hours=20)),  # slightly ahead: clocks differ
        (NOW + timedelta(days=3), NOW),  # absurdly in the future: treated as missing
        (datetime(2001, 1, 1, tzinfo=UTC), datetime(2001, 1, 1, tzinfo=UTC)),  # old stays old
    ],
)
def test_published_is_utc_and_sane(published, expected) -> None:
    [item] = normalize(entry(guid="g", title="T", published=published))
    assert item.published == expected
    assert item.published.utcoffset() == timedelta(0)


def test_item_fields() -> None:
    [item] = normalize(
        entry(
            guid="g-1",
            link="/news/1?utm_source=rss",
            title="Raid &amp; arrests in <b>Fallujah</b>",
            summary="<p>Police detained <i>six</i> men.</p>",
            published=WHEN,
        )
    )
    assert (item.key, item.guid, item.url) == ("guid:7:g-1", "g-1", "https://site.example/news/1")
    assert (item.title, item.summary) == ("Raid & arrests in Fallujah", "Police detained six men.")
    assert (item.source, item.feed_id, item.published) == ("Site Feed", 7, WHEN)
    assert item.content_hash == content_hash(item.title, item.summary)


def test_missing_title_comes_from_summary() -> None:
    summary = "Security forces cleared " + "several villages along the Euphrates valley " * 3
    [item] = normalize(entry(guid="g", summary=summary))
    assert item.title.endswith("…") and len(item.title) <= 80
    assert summary.startswith(item.title[:-1])
    assert item.summary == summary.strip()


def test_link_only_entry_uses_url_as_title() -> None:
    [item] = normalize(entry(link="https://site.example/a"))
    assert item.title == "https://site.example/a"


def test_empty_entries_are_dropped_and_bad_links_become_none() -> None:
    items = normalize(
        entry(guid="only-a-guid"),
        entry(guid="blank", title="  ", summary="<p> </p>", link="javascript:void(0)"),
        entry(guid="js", title="Has a title", link="javascript:void(0)"),
    )
    assert [(i.title, i.url) for i in items] == [("Has a title", None)]


def test_duplicates_within_a_feed_keep_the_first() -> None:
    items = normalize(
        entry(guid="same", link="https://site.example/a", title="First"),
        entry(guid="same", link="https://site.example/a", title="First"),
        entry(link="https://site.example/b?utm_source=x", title="B"),
        entry(link="https://site.example/b#top", title="B again"),
    )
    assert [i.title for i in items] == ["First", "B"]


def test_guid_shared_by_different_entries_falls_back_to_url() -> None:
    items = normalize(
        entry(guid="https://site.example/feed-id", link="https://site.example/a", title="A"),
        entry(guid="https://site.example/feed-id", link="https://site.example/b", title="B"),
    )
    assert [i.key for i in items] == ["url:https://site.example/a", "url:https://site.example/b"]


def test_undated_entry_keeps_its_key_across_polls() -> None:
    first = normalize(entry(title="No date, no link, no guid"))
    feed = ParsedFeed(title="Site", link=None, entries=(entry(title="No date, no link, no guid"),))
    later = normalize_entries(feed, source="Site Feed", feed_id=7, now=NOW + timedelta(hours=5))
    assert first[0].key == later[0].key and first[0].key.startswith("hash:")
    assert later[0].published == NOW + timedelta(hours=5)


def test_long_text_is_clipped_at_a_word() -> None:
    [item] = normalize(entry(guid="g", title="word " * 100, summary="text " * 1000))
    assert len(item.title) <= 300 and item.title.endswith("word…")
    assert len(item.summary) <= 1500 and item.summary.endswith("text…")


@pytest.mark.parametrize(
    ("guid", "feed_id", "expected"),
    [
        ("1234", 7, "guid:7:1234"),  # a bare id is unique only within its feed
        ("1234", 8, "guid:8:1234"),
        ("https://site.example/a/1", 7, "guid:https://site.example/a/1"),  # a URL guid is global
        ("tag:site.example,2026:1", 7, "guid:tag:site.example,2026:1"),
    ],
)
def test_item_key_scopes_bare_guids_by_feed(guid, feed_id, expected) -> None:
    assert item_key(guid, None, "t", WHEN, feed_id) == expected
