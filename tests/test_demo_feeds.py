"""The bundled demo feeds: placeholders render to recent dates and every feed parses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from importlib import resources

import pytest

from bot.demo import DEMO_FEEDS, render_demo_feed
from bot.ingest.normalize import normalize_entries
from bot.ingest.parse import parse_feed
from bot.models import Item

NOW = datetime(2024, 6, 1, 12, 0, 30, 500, tzinfo=UTC)
EXPECTED_ITEMS = {
    "euphrates-wire.xml": 8,
    "baghdad-ledger.xml": 7,
    "levant-monitor.xml": 6,
    "desert-dispatch.json": 6,
}


def demo_items(filename: str, name: str, content_type: str) -> list[Item]:
    text = render_demo_feed(
        (resources.files("bot.demo") / filename).read_text(encoding="utf-8"), NOW
    )
    assert "{{" not in text
    feed = parse_feed(
        text.encode("utf-8"), url=f"http://127.0.0.1:9/{filename}", content_type=content_type
    )
    assert feed.warning is None
    return normalize_entries(feed, source=name, feed_id=None, now=NOW)


def all_items() -> dict[str, Item]:
    """Every demo item by title."""
    return {item.title: item for spec in DEMO_FEEDS for item in demo_items(*spec)}


@pytest.mark.parametrize("spec", DEMO_FEEDS, ids=lambda spec: spec[0])
def test_demo_feed_renders_and_parses(spec: tuple[str, str, str]) -> None:
    items = demo_items(*spec)
    assert len(items) == EXPECTED_ITEMS[spec[0]]
    for item in items:
        assert (
            NOW - timedelta(days=3, minutes=1) <= item.published < NOW
        )  # all dated by placeholders
        assert item.url and item.url.startswith("https://")


def test_every_demo_file_is_listed() -> None:
    files = {
        p.name for p in resources.files("bot.demo").iterdir() if p.name.endswith((".xml", ".json"))
    }
    assert files == {spec[0] for spec in DEMO_FEEDS} == set(EXPECTED_ITEMS)


@pytest.mark.parametrize(
    ("text", "rendered"),
    [
        (
            "<pubDate>{{AGO_RFC822:35}}</pubDate>",
            "<pubDate>Sat, 01 Jun 2024 11:25:30 GMT</pubDate>",
        ),
        ("<updated>{{AGO_ISO:0}}</updated>", "<updated>2024-06-01T12:00:30Z</updated>"),
        ('"{{AGO_ISO:4320}}"', '"2024-05-29T12:00:30Z"'),
        ("{{AGO:5}} {{AGO_ISO:x}}", "{{AGO:5}} {{AGO_ISO:x}}"),  # not ours: left alone
    ],
)
def test_render_placeholders(text: str, rendered: str) -> None:
    assert render_demo_feed(text, NOW) == rendered


def test_demo_content_covers_the_walkthrough() -> None:
    items = all_items()
    same_event = [i for i in items.values() if "Abu Khattab al-Mashhadani" in i.title]
    assert sorted(i.source for i in same_event) == ["Baghdad Ledger", "Euphrates Wire"]
    assert all("al-Qaim" in i.title and "aides" in i.summary for i in same_event)
    other_strike = [i for i in items.values() if "Wadi Horan" in i.title]
    assert len(other_strike) == 1 and "Mashhadani" not in other_strike[0].summary
    tracked = items["Border guards seal smuggling tunnel on Iraq–Syria frontier"]
    assert (
        tracked.url == "https://euphrates-wire.example/security/2024/smuggling-tunnel-sealed?page=1"
    )
    assert "&" in tracked.summary and "“" in tracked.summary and "<" not in tracked.summary
    assert "trackRead" not in tracked.summary and not tracked.summary.endswith("Read more")
    assert any("الأنبار" in title for title in items)
    old = [i for i in items.values() if NOW - i.published > timedelta(days=2)]
    assert len(old) == 1
