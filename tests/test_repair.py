"""The inputs that used to crash parse or normalize (issue 12's eight causes, and a ttl past 64
bits) now yield items or a FeedError, through the fast path and through feedparser alike."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.ingest.normalize import normalize_entries
from bot.ingest.parse import parse_feed
from bot.ingest.repair import neutralize_extensions, repair_feed_bytes, scrub_text, usable_encoding

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)
PSC = 'xmlns:psc="http://podlove.org/simple-chapters"'
GEO = 'xmlns:gml="http://www.opengis.net/gml" xmlns:georss="http://www.georss.org/georss"'


def rss(item: str = "", *, title: str = "Hello", encoding: bytes | None = b"utf-8", ns: str = "",
        channel: str = "") -> bytes:
    declaration = b'<?xml version="1.0"?>' if encoding is None else b'<?xml version="1.0" encoding="' + encoding + b'"?>'
    return declaration + (
        f'<rss version="2.0" {ns}><channel><title>T</title><link>https://x.example/</link>{channel}'
        f"<item><title>{title}</title><link>https://x.example/1</link>{item}</item></channel></rss>"
    ).encode()


def json_feed(title: str) -> bytes:
    return ('{"version": "https://jsonfeed.org/version/1.1", "title": "T", "items": '
            f'[{{"id": "1", "title": "{title}", "url": "https://x.example/1"}}]}}').encode()


# (name, body, expected title, expected summary): each read by both parsers.
CASES = [
    ("surrogate pair in text", rss("<description>smile &#55357;&#56832; done</description>"), "Hello", "smile 😀 done"),
    ("surrogate pair in hex", rss("<description>&#xD83D;&#xDE00;</description>"), "Hello", "😀"),
    ("surrogate pair in a title", rss(title="Hi &#55357;&#56832;"), "Hi 😀", ""),
    ("lone high surrogate", rss("<description>x &#55357; y</description>"), "Hello", "x y"),
    ("lone low surrogate", rss("<description>x &#56832;&#56832; y</description>"), "Hello", "x y"),
    ("reversed pair", rss("<description>a&#56832;&#55357;b</description>"), "Hello", "ab"),
    ("non-surrogate neighbours kept", rss("<description>&#55295;|&#57344;</description>"), "Hello", "\ud7ff|\ue000"),
    ("non-UTF-8 byte in the declared encoding", rss(encoding=b"utf-\xff8"), "Hello", ""),
    ("Latin-1 byte in the declared encoding", rss(encoding=b"ISO-8859-1\xa0"), "Hello", ""),
    ('encoding="undefined"', rss(encoding=b"undefined"), "Hello", ""),
    ('encoding="punycode"', rss(encoding=b"punycode"), "Hello", ""),
    ("NUL in the encoding name", rss(encoding=b"utf-8\x00"), "Hello", ""),
    ("5,000-character encoding name", rss(encoding=b"a" * 5000), "Hello", ""),
    ("psc:chapter without start",
     rss('<psc:chapters version="1.2"><psc:chapter title="Intro"/></psc:chapters>', ns=PSC), "Hello", ""),
    ("gml:pos outside georss:where", rss("<gml:pos>45.2 -71.9</gml:pos>", ns=GEO), "Hello", ""),
    ("gml:posList outside georss:where", rss("<gml:posList>1 2 3 4</gml:posList>", ns=GEO), "Hello", ""),
    ("a ttl past 64 bits", rss(channel="<ttl>99999999999999999999999</ttl>"), "Hello", ""),
    ('"\\ud800" in a JSON Feed', json_feed("a \\ud800 b"), "a b", ""),
    ("escaped pair in a JSON Feed", json_feed("a \\ud83d\\ude00 b"), "a 😀 b", ""),
    ("lone low surrogate in a JSON Feed", json_feed("\\udc00x"), "x", ""),
]


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "feedparser"])
@pytest.mark.parametrize(("name", "body", "title", "summary"), CASES, ids=[c[0] for c in CASES])
def test_once_crashing_input_yields_items(name, body, title, summary, fast) -> None:
    feed = parse_feed(body, url="https://x.example/feed", fast=fast)
    [item] = normalize_entries(feed, source="s", feed_id=1, now=NOW)
    assert (item.title, item.summary) == (title, summary)
    assert item.url == "https://x.example/1"
    (item.title + item.summary + item.key).encode("utf-8")  # storable: no surrogate left


def test_a_huge_ttl_is_kept_as_a_year() -> None:
    assert parse_feed(rss(channel="<ttl>99999999999999999999999</ttl>")).ttl_minutes == 525_600


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32"])
def test_surrogate_references_in_wide_encodings(encoding) -> None:
    body = rss("<description>&#55357;&#56832;!</description>", encoding=None).decode()
    wide = body.replace('<?xml version="1.0"?>', f'<?xml version="1.0" encoding="{encoding}"?>').encode(encoding)
    [entry] = parse_feed(wide, fast=False).entries
    assert entry.summary == "😀!"


@pytest.mark.parametrize(("name", "usable"), [
    (b"utf-8", True), (b"ISO-8859-1", True), (b"windows-1256", True), (b"bogus", True),  # unknown: skipped
    (b"undefined", False), (b"idna", False), (b"punycode", False), (b"unicode_escape", False),
    (b"utf-8\x00", False), (b"utf-\xff8", False), (b"a" * 41, False), (b"", False), (b"base64", False),
])
def test_usable_encoding(name, usable) -> None:
    assert usable_encoding(name) is usable


def test_an_unknown_encoding_still_marks_the_feed_malformed() -> None:
    """'bogus' is left to feedparser, which skips it and says so; only crashing names are dropped."""
    feed = parse_feed(rss(encoding=b"bogus"), fast=False)
    assert feed.warning and "bogus" in feed.warning


def test_repair_leaves_ordinary_bodies_alone() -> None:
    body = rss("<description>&#8217; &#128512; &amp; &#x1F600;</description>", encoding=b"windows-1252")
    assert repair_feed_bytes(body) is body or repair_feed_bytes(body) == body


def test_scrub_text() -> None:
    assert scrub_text("a\ud83d\ude00b\ud800") == "a😀b"
    assert scrub_text("plain") == "plain"


def test_neutralize_renames_fragile_elements_under_any_prefix() -> None:
    body = b'<rss xmlns:g="http://www.opengis.net/gml"><g:pos>1 2</g:pos><gml:x/><dc:title>t</dc:title></rss>'
    assert neutralize_extensions(body) == (
        b'<rss xmlns:g="http://www.opengis.net/gml"><g-pos>1 2</g-pos><gml-x/><dc:title>t</dc:title></rss>')
