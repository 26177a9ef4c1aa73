"""Full text for teaser-only feeds: fetch each new item's article page and extract its main text.

Opt-in per feed (`full_text = true`, default `[polling] full_text`). The page goes through the
feed fetcher, so it gets the same rules: SSRF guard, size cap, timeout, the global and per-host
slots (a site's article pages queue behind its feed, never hammering it), and one attempt (no
retry: the next poll does not try again, the item keeps its teaser). Extraction (trafilatura,
lxml underneath) is CPU work and runs in a worker thread, off the event loop. Anything that goes
wrong falls back to the teaser and is counted as a failure on the feed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from bot.ingest.fetch import Fetcher
from bot.ingest.normalize import MAX_BODY_CHARS, clip_text
from bot.models import FeedForUpdate, FetchStatus, Item

log = logging.getLogger(__name__)
MIN_TEXT = 200  # shorter than this is a cookie wall, a paywall stub or a navigation page
ENOUGH_BODY = 1000  # an item whose feed already carries this much article needs no page


@dataclass(frozen=True)
class FullTextResult:
    bodies: dict[str, str]  # item key -> extracted article text
    failed: int = 0  # pages that could not be fetched or held no article


def extract_text(page: bytes, url: str | None = None) -> str:
    """The main text of an HTML article page as plain text ("" when none is found)."""
    import trafilatura  # imported on first use: only full-text feeds pay for lxml and its models

    try:  # no deduplicate: its cache lives across calls and would blank a page seen twice
        text = trafilatura.extract(page, url=url, include_comments=False, include_tables=False,
                                   favor_precision=True)
    except Exception:  # noqa: BLE001 - a page that trips the extractor is a failed page, not a crash
        log.debug("extraction failed for %s", url, exc_info=True)
        return ""
    text = " ".join((text or "").split())
    return clip_text(text, MAX_BODY_CHARS) if len(text) >= MIN_TEXT else ""


def wanted(items: Sequence[Item]) -> list[Item]:
    """The items worth a page fetch: a link, and not already a long article from the feed."""
    return [i for i in items if i.url and len(i.body) < ENOUGH_BODY]


async def fetch_bodies(fetcher: Fetcher, items: Sequence[Item]) -> FullTextResult:
    """Article text for each item that has a page, fetched concurrently within the fetcher's limits."""
    todo = wanted(items)
    texts = await asyncio.gather(*(_one(fetcher, item) for item in todo))
    bodies = {item.key: text for item, text in zip(todo, texts, strict=True) if text}
    return FullTextResult(bodies, len(todo) - len(bodies))


async def _one(fetcher: Fetcher, item: Item) -> str:
    result = await fetcher.fetch(FeedForUpdate(0, item.url or "", item.source))
    if result.status is not FetchStatus.NEW or not result.body:
        log.info("full text of %s not fetched: %s", item.url, result.error or result.status.value)
        return ""
    text = await asyncio.to_thread(extract_text, result.body, result.final_url or item.url)
    if not text:
        log.info("full text of %s: no article text found in the page", item.url)
    return text
