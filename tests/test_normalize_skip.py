"""Skipping entries whose guid key is stored must give the same new items as normalizing them all."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import combinations

import pytest

from bot.ingest.normalize import guid_keys, item_key, normalize_entries
from bot.models import ParsedFeed, RawEntry

NOW = datetime(2024, 5, 6, 12, tzinfo=UTC)


def entry(guid: str | None, link: str | None, title: str = "t") -> RawEntry:
    return RawEntry(guid=guid, link=link, title=title, summary="s", published=NOW)


FEEDS = {
    "plain guids": [entry("a1", "https://x.org/1"), entry("a2", "https://x.org/2"), entry("a3", "https://x.org/3")],
    "url and tag guids": [entry("https://x.org/g1", None), entry("tag:x.org,2024:2", "https://x.org/2")],
    "junk guid shared by different links": [entry("same", "https://x.org/1"), entry("same", "https://x.org/2"),
                                            entry("b", "https://x.org/3")],
    "home page as guid": [entry("https://x.org/", "https://x.org/1"), entry("https://x.org/", "https://x.org/2")],
    "blank and missing guids": [entry("  ", "https://x.org/1"), entry(None, "https://x.org/2"), entry(None, None, "only")],
    "repeated guid, same link": [entry("r", "https://x.org/1"), entry("r", "https://x.org/1", "again")],
    "entry without text or link": [entry("e", None, ""), entry("f", "https://x.org/f")],
}


def new_items(feed: ParsedFeed, stored: set[str], skip: set[str]) -> list:
    items = normalize_entries(feed, source="S", feed_id=7, now=NOW, skip=skip)
    out, taken = [], set()
    for item in items:  # what Store.unseen does
        if item.key not in stored and item.key not in taken:
            taken.add(item.key)
            out.append(item)
    return out


@pytest.mark.parametrize("name", sorted(FEEDS))
def test_skipping_stored_guid_keys_changes_nothing(name):
    feed = ParsedFeed(title="f", link="https://x.org/", entries=tuple(FEEDS[name]))
    every = [i.key for i in normalize_entries(feed, source="S", feed_id=7, now=NOW)]
    # ...and keys an earlier poll may have stored from these guids, before they were junk
    every += sorted({item_key(e.guid.strip(), None, "", None, 7) for e in feed.entries if e.guid and e.guid.strip()} - set(every))
    for size in range(len(every) + 1):
        for stored in map(set, combinations(every, size)):
            skip = {k for k in guid_keys(feed, 7) if k} & stored
            assert new_items(feed, stored, skip) == new_items(feed, stored, set()), stored
