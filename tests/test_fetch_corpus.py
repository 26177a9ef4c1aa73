"""`wirewatch fetch` agrees with feedparser on every real feed file feedparser reads cleanly:
the same entries (count), titles and links, after the pipeline's documented cleaning."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import pytest

from bot.fetchcmd import feed_items
from bot.ingest.htmltext import html_to_text
from bot.ingest.normalize import canonical_url

FEEDS = Path(__file__).resolve().parents[2] / "shared" / "data" / "feeds"
NOW = datetime(2026, 12, 1, tzinfo=UTC)


def clean_files() -> list[Path]:
    if not (FEEDS / "CATALOGUE.tsv").exists():
        return []
    with (FEEDS / "CATALOGUE.tsv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    return [FEEDS / r["path"] for r in rows if r["bozo"] == "0" and int(r["entries"] or 0) > 0]


FILES = clean_files()


def _has_text(entry) -> bool:
    """What the pipeline keeps: an entry with a title, some text or a link (a repeat is dropped)."""
    texts = [entry.get("title") or "", entry.get("summary") or "", *(c.get("value") or "" for c in entry.get("content") or ())]
    return any(html_to_text(t) for t in texts) or bool(entry.get("link") and canonical_url(entry["link"]))


@pytest.mark.skipif(not FILES, reason=f"the shared feed corpus is absent ({FEEDS})")
def test_fetch_agrees_with_feedparser_on_the_corpus():
    checked, disagree = 0, []
    for path in FILES:
        body = path.read_bytes()
        reference = feedparser.parse(body)
        if reference.bozo or not reference.entries:
            continue
        items = feed_items(body, url="", where=str(path), source="corpus", now=NOW)
        # The pipeline drops entries with no title, text or link, and repeats of an earlier key.
        wanted = [e for e in reference.entries if _has_text(e)]
        titles = [html_to_text(e.get("title") or "") for e in wanted]
        links = [canonical_url(e["link"]) if e.get("link") else None for e in wanted]
        got_titles = [i.title for i in items]
        got_links = [i.url for i in items]
        same = len(items) == len(wanted) and all(
            g == t or (t and g.rstrip("…") and t.startswith(g.rstrip("…"))) or not t
            for g, t in zip(got_titles, titles, strict=True)
        ) and all(g == w or w is None for g, w in zip(got_links, links, strict=True))
        if not same:
            disagree.append((path.name, len(items), len(wanted), got_titles[:3], titles[:3], got_links[:3], links[:3]))
        checked += 1
    assert checked >= 20, f"only {checked} corpus feeds read"
    assert not disagree, disagree[:5]
