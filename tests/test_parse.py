"""Parsing: every feed format from files we wrote, bodies that are not feeds, and the real-world
corpus next to the repository (../shared/data/feeds) for robustness."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.errors import FeedError
from bot.ingest.normalize import normalize_entries
from bot.ingest.parse import parse_feed
from bot.models import ParsedFeed
from tests.corpora import corpus, skipped_param

FIXTURES = Path(__file__).parent / "fixtures" / "feeds"
CORPUS = corpus("feeds")
NOW = datetime(2024, 3, 18, 12, 0, tzinfo=UTC)


def parse_fixture(name: str, **kwargs) -> ParsedFeed:
    return parse_feed((FIXTURES / name).read_bytes(), **kwargs)


@pytest.mark.parametrize(
    ("name", "title", "count", "first_title"),
    [
        (
            "rss2.xml",
            "Tigris Security Monitor",
            4,
            "Checkpoint attack wounds four soldiers south of Kirkuk",
        ),
        (
            "rss1.rdf",
            "Orontes Notes",
            3,
            "Night raid in Deir ez-Zor countryside detains three suspects",
        ),
        ("rss091.xml", "Khabur Bulletin", 3, "Smuggling route closed near al-Qaim"),
        (
            "atom.xml",
            "Zagros Field Reports",
            3,
            "Drone strike hits vehicle near Sinjar, two killed",
        ),
        (
            "jsonfeed.json",
            "Mesopotamia Brief",
            4,
            "Counter-terrorism unit arrests five-man cell in Anbar",
        ),
        (
            "latin1.xml",
            "Le Veilleur du Levant",
            2,
            "Frappe aérienne près d'al-Qaïm : un responsable de l'EI visé",
        ),
        ("empty.xml", "Quiet Frontier", 0, None),
    ],
)
def test_formats(name: str, title: str, count: int, first_title: str | None) -> None:
    feed = parse_fixture(name)
    assert (feed.title, len(feed.entries), feed.warning) == (title, count, None)
    if first_title:
        assert feed.entries[0].title == first_title


def test_rss2_details() -> None:
    feed = parse_fixture("rss2.xml")
    checkpoint, cache, budget, curfew = feed.entries
    assert (feed.link, feed.ttl_minutes) == ("https://tigris-monitor.example/", 45)
    assert checkpoint.guid == "tsm-2024-0318-01" and checkpoint.author == "Field desk"
    assert checkpoint.published == datetime(2024, 3, 18, 4, 42, tzinfo=UTC)  # +0300
    assert "<b>Daquq</b>" in checkpoint.summary  # still HTML: normalization makes the text
    assert cache.link == "https://tigris-monitor.example/2024/03/rabia-cache"  # not the enclosure
    assert budget.published == datetime(2024, 3, 16, 14, 30, tzinfo=UTC)  # EST
    assert budget.summary.startswith("<p>Members of the Nineveh")  # content:encoded fallback
    assert curfew.published is None


def test_atom_details() -> None:
    feed = parse_fixture("atom.xml", url="https://zagros-reports.example/atom.xml")
    drone, patrols, camp = feed.entries
    assert (
        drone.link == "https://zagros-reports.example/reports/sinjar-drone"
    )  # alternate, not enclosure
    assert drone.published == datetime(
        2024, 3, 18, 3, 20, tzinfo=UTC
    )  # published wins over updated
    assert drone.author == "Zagros staff"
    assert (
        patrols.link == "https://zagros-reports.example/reports/joint-patrols"
    )  # relative to the URL
    assert patrols.published == datetime(2024, 3, 17, 14, 45, tzinfo=UTC)  # only <updated>
    assert "joint patrols" in patrols.summary  # from <content>
    assert camp.published == datetime(2024, 3, 16, 17, 0, tzinfo=UTC)
    assert "tanker deliveries" in camp.summary  # xhtml content


def test_rdf_and_rss091_dates() -> None:
    rdf = parse_fixture("rss1.rdf").entries
    assert [e.published for e in rdf] == [
        datetime(2024, 3, 17, 23, 15, tzinfo=UTC),
        datetime(2024, 3, 17, 11, 0, tzinfo=UTC),
        datetime(2024, 3, 16, 0, 0, tzinfo=UTC),  # a bare date
    ]
    assert all(e.published is None for e in parse_fixture("rss091.xml").entries)


def test_json_feed_details() -> None:
    feed = parse_fixture("jsonfeed.json")
    cell, highway, talks, untitled = feed.entries
    assert feed.link == "https://meso-brief.example/"
    assert (cell.guid, cell.author) == ("mb-5501", "Meso desk")
    assert cell.published == datetime(2024, 3, 18, 2, 10, tzinfo=UTC)
    assert cell.summary.startswith("<p>The cell")  # content_html
    assert (
        highway.link == "https://meso-brief.example/2024/03/17/rutba-highway"
    )  # relative to feed_url
    assert highway.summary == "Traffic resumed on the Rutba stretch of the international highway."
    assert (talks.guid, talks.link, talks.author) == (
        "5497",
        "https://other-outlet.example/coalition-drawdown",
        "Wire",
    )
    assert talks.published == datetime(2024, 3, 16, 17, 30, tzinfo=UTC)  # date_modified fallback
    assert (untitled.title, untitled.link, untitled.published) == ("", None, None)
    assert untitled.summary.startswith("Power cuts")


def test_declared_latin1_is_decoded() -> None:
    entries = parse_fixture("latin1.xml").entries
    assert "sécuritaires" in entries[0].summary and entries[1].title.startswith("Réouverture")


def test_malformed_feed_with_entries_is_kept_with_a_warning() -> None:
    feed = parse_fixture("malformed-but-usable.xml")
    assert feed.warning and feed.warning.startswith("malformed feed:")
    assert [e.title for e in feed.entries] == [
        "Talks on Sinjar & Tal Afar security handover stall",
        "Explosive device defused on Mosul-Dohuk road",
    ]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ((FIXTURES / "html-page.html").read_bytes(), "HTML page"),
        ((FIXTURES / "garbage.bin").read_bytes(), "no feed entries"),
        (b"", "empty"),
        (b" \r\n\t ", "empty"),
        (b'{"name": "not a feed", "items": []}', "not a JSON Feed"),
        (b'{"version": "https://jsonfeed.org/version/1.1", "items": [', "invalid JSON"),
        (b'{"version": "https://jsonfeed.org/version/1.1", "title": "x"}', "no 'items'"),
        (b"[1, 2, 3]", "no feed entries"),
        (b'<?xml version="1.0"?><note><to>desk</to></note>', "not an RSS"),
        (b"<rss version='2.0'><channel><title>cut off", "no feed entries"),
    ],
)
def test_not_a_feed(body: bytes, reason: str) -> None:
    with pytest.raises(FeedError) as raised:
        parse_feed(body, url="https://x.example/feed")
    assert raised.value.kind == "parse" and reason in raised.value.message


def test_json_detected_by_content_type_or_body() -> None:
    body = (FIXTURES / "jsonfeed.json").read_bytes()
    assert len(parse_feed(b"\xef\xbb\xbf  " + body).entries) == 4  # BOM and spaces before '{'
    assert len(parse_feed(body, content_type="application/feed+json").entries) == 4
    rss = (FIXTURES / "rss2.xml").read_bytes()
    assert len(parse_feed(rss, content_type="application/json").entries) == 4  # mislabelled XML


def test_a_body_is_never_opened_as_a_file_name(tmp_path: Path) -> None:
    feed_file = tmp_path / "feed.xml"
    feed_file.write_bytes((FIXTURES / "rss2.xml").read_bytes())
    with pytest.raises(FeedError):
        parse_feed(str(feed_file).encode())


CYRILLIC_TITLE = "Новости безопасности"


def cyrillic_feed(declaration: str) -> bytes:
    text = (
        f"{declaration}<rss version='2.0'><channel><title>{CYRILLIC_TITLE}</title>"
        f"<item><title>{CYRILLIC_TITLE}</title><guid>1</guid></item></channel></rss>"
    )
    return text.encode("windows-1251")


@pytest.mark.parametrize(
    ("declaration", "content_type"),
    [
        ("<?xml version='1.0' encoding='windows-1251'?>", None),
        # a server that mislabels the type is not trusted for the charset either
        ("<?xml version='1.0' encoding='windows-1251'?>", "text/html; charset=utf-8"),
        ("<?xml version='1.0' encoding='windows-1251'?>", "text/xml"),
        # an XML type's charset is the only declaration here
        ("", "application/rss+xml; charset=windows-1251"),
    ],
)
def test_encodings(declaration: str, content_type: str | None) -> None:
    feed = parse_feed(cyrillic_feed(declaration), content_type=content_type)
    assert (feed.title, feed.entries[0].title, feed.warning) == (
        CYRILLIC_TITLE,
        CYRILLIC_TITLE,
        None,
    )


def rss_with(item_xml: str) -> bytes:
    return f"<rss version='2.0'><channel><title>T</title><item>{item_xml}</item></channel></rss>".encode()


@pytest.mark.parametrize(
    ("date_xml", "expected"),
    [
        (
            "<pubDate>Mon, 18 Mar 2024 07:42:00 +0300</pubDate>",
            datetime(2024, 3, 18, 4, 42, tzinfo=UTC),
        ),
        (
            "<pubDate>Mon, 18 Mar 2024 07:42:00 GMT</pubDate>",
            datetime(2024, 3, 18, 7, 42, tzinfo=UTC),
        ),
        (
            "<pubDate>Mon, 18 Mar 2024 07:42:00</pubDate>",
            datetime(2024, 3, 18, 7, 42, tzinfo=UTC),
        ),  # no zone
        ("<pubDate>2024-03-18 07:42:00</pubDate>", datetime(2024, 3, 18, 7, 42, tzinfo=UTC)),
        ("<pubDate>18 Mar 2024 07:42 PST</pubDate>", datetime(2024, 3, 18, 15, 42, tzinfo=UTC)),
        (
            "<dc:date xmlns:dc='http://purl.org/dc/elements/1.1/'>2024-03-18T07:42:00+03:00</dc:date>",
            datetime(2024, 3, 18, 4, 42, tzinfo=UTC),
        ),
        ("<pubDate>not a date</pubDate>", None),
        ("<pubDate>Mon, 18 Mar 99999 07:42:00 +0300</pubDate>", None),
        ("", None),
    ],
)
def test_rss_dates(date_xml: str, expected: datetime | None) -> None:
    [entry] = parse_feed(rss_with(f"<title>x</title>{date_xml}")).entries
    assert entry.published == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-03-18T05:10:00+03:00", datetime(2024, 3, 18, 2, 10, tzinfo=UTC)),
        ("2024-03-18T05:10:00Z", datetime(2024, 3, 18, 5, 10, tzinfo=UTC)),
        ("2024-03-18T05:10:00.123456789+0100", datetime(2024, 3, 18, 4, 10, 0, 123456, tzinfo=UTC)),
        ("2024-03-18T05:10:00", datetime(2024, 3, 18, 5, 10, tzinfo=UTC)),  # no zone: UTC
        ("Mon, 18 Mar 2024 07:42:00 +0300", datetime(2024, 3, 18, 4, 42, tzinfo=UTC)),
        ("not a date", None),
        ("0001-01-01T00:00:00+01:00", None),  # before year 1 in UTC
        (20240318, None),
        (None, None),
    ],
)
def test_json_dates(value, expected) -> None:
    doc = {
        "version": "https://jsonfeed.org/version/1.1",
        "items": [{"id": "1", "title": "x", "date_published": value}],
    }
    [entry] = parse_feed(json.dumps(doc).encode()).entries
    assert entry.published == expected


@pytest.mark.parametrize(
    ("link_xml", "url", "link"),
    [
        ("<link>/a/b</link>", "https://n.example/feed/rss", "https://n.example/a/b"),
        ("<link>c.html</link>", "https://n.example/feed/rss", "https://n.example/feed/c.html"),
        (
            "<link>/a/b</link>",
            "",
            "/a/b",
        ),  # nothing to resolve against: normalize tries the channel link
        (
            "<link>https://other.example/x</link>",
            "https://n.example/rss",
            "https://other.example/x",
        ),
        (
            "<link>javascript:alert(1)</link>",
            "https://n.example/rss",
            "javascript:alert(1)",
        ),  # dropped later
        ("<guid isPermaLink='true'>https://n.example/p/1</guid>", "", "https://n.example/p/1"),
    ],
)
def test_entry_links(link_xml: str, url: str, link: str) -> None:
    [entry] = parse_feed(rss_with(f"<title>x</title>{link_xml}"), url=url).entries
    assert entry.link == link


def test_xml_base_is_honoured() -> None:
    body = (
        b"<feed xmlns='http://www.w3.org/2005/Atom' xml:base='https://base.example/news/'><title>T</title>"
        b"<entry><id>1</id><title>x</title><link href='item-1'/></entry></feed>"
    )
    assert (
        parse_feed(body, url="https://feeds.example/atom").entries[0].link
        == "https://base.example/news/item-1"
    )


def test_ttl_is_minutes_or_none() -> None:
    def ttl(value: str) -> int | None:
        body = f"<rss version='2.0'><channel><title>T</title><ttl>{value}</ttl></channel></rss>"
        return parse_feed(body.encode()).ttl_minutes

    assert (ttl("60"), ttl(" 15 "), ttl("0"), ttl("soon")) == (60, 15, None, None)


# --- the real-world corpus ------------------------------------------------------------------

# feedparser 6 does not read JSON Feed, so the catalogue (made with feedparser) lists these as
# unparseable with 0 entries; our own JSON Feed reader parses them. Counts are of their "items".
JSON_FEED_COUNTS = {
    "feedjira+feedjira/spec/sample_feeds/json_feed.json": 20,
    "feedjira+feedjira/spec/sample_feeds/json_feed_with_escaped_uris.json": 30,
    "lemon24+reader/tests/data/10.json": 0,
    "lemon24+reader/tests/data/empty.json": 1,
    "lemon24+reader/tests/data/full.json": 2,
    "lemon24+reader/tests/data/invalid.json": 8,  # every item has a wrong type somewhere
    "lemon24+reader/tests/data/unknown.json": 0,  # version 1234: still a jsonfeed.org feed
}


def catalogue() -> list:
    if not (CORPUS / "CATALOGUE.tsv").is_file():
        return [skipped_param(CORPUS / "CATALOGUE.tsv")]
    with open(CORPUS / "CATALOGUE.tsv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    return [row for row in rows if (CORPUS / row["path"]).is_file()]  # a few rows name absent files


def expected_entries(row: dict[str, str]) -> int | None:
    """Entries we must find, or None when the file must raise FeedError."""
    if row["path"] in JSON_FEED_COUNTS:
        return JSON_FEED_COUNTS[row["path"]]
    entries = int(row["entries"])
    if entries == 0 and (row["bozo"] == "1" or not row["version"]):
        return None  # not a feed, or broken with nothing to salvage
    return entries


@pytest.mark.parametrize("row", catalogue(), ids=lambda row: row and row["path"])
def test_corpus_file(row: dict[str, str]) -> None:
    body = (CORPUS / row["path"]).read_bytes()
    expected = expected_entries(row)
    if expected is None:
        with pytest.raises(FeedError):
            parse_feed(body, url="https://corpus.example/feed")
        return
    feed = parse_feed(body, url="https://corpus.example/feed")
    assert len(feed.entries) == expected
    for item in normalize_entries(feed, source="corpus", feed_id=None, now=NOW):
        assert item.title.strip() and item.key
        assert item.published.tzinfo is not None and item.published.utcoffset().total_seconds() == 0
        assert item.url is None or item.url.startswith(("http://", "https://"))
