"""`wirewatch fetch URL|FILE`: one feed's items as Item JSONL, as the pipeline would store them.

The same steps as a poll (fetch with the fetcher's rules, parse, normalize) without a store, so a
user can see what the bot sees and pipe it into `match --input` or `replay --input`. Failures are
the ones /addfeed reports (not a feed, an HTML page, a private address, too large), as InputError.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from bot.config import PollingSettings
from bot.errors import FeedError, InputError
from bot.ingest.discover import discover, looks_like_html
from bot.ingest.fetch import Fetcher
from bot.ingest.fulltext import fetch_bodies
from bot.ingest.normalize import normalize_entries
from bot.ingest.parse import parse_feed
from bot.models import FeedForUpdate, FetchStatus, Item

_URL = re.compile(r"^https?://", re.I)


def read_feed(source: str, settings: PollingSettings) -> tuple[bytes, str]:
    """The feed's bytes and the URL they came from ("" for a file); InputError when unusable."""
    if _URL.match(source):
        result = asyncio.run(_fetch(source, settings))
        if result.status is FetchStatus.ERROR:
            raise InputError(f"{source} could not be fetched: {result.error}")
        return result.body, result.final_url or source
    path = Path(source)
    try:
        size = path.stat().st_size
        if size > settings.max_bytes:
            raise InputError(f"{path}: too_large: {size} bytes exceeds polling.max_bytes ({settings.max_bytes})")
        return path.read_bytes(), ""
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from None


async def _fetch(url: str, settings: PollingSettings):
    async with Fetcher(settings) as fetcher:
        return await fetcher.fetch(FeedForUpdate(0, url, url))


def feed_items(body: bytes, *, url: str, where: str, source: str, now: datetime) -> list[Item]:
    """Parse and normalize one feed body as the pipeline does (a feed without a stored id)."""
    try:
        parsed = parse_feed(body, url=url)
    except FeedError as exc:
        raise InputError(f"{where} is not a feed: {exc}") from None
    name = source or parsed.title or _host(url) or Path(where).stem
    return normalize_entries(parsed, source=name, feed_id=None, now=now)


def item_record(item: Item) -> dict:
    """An item as one Item JSONL object (DESIGN.md "Item JSONL"): `text` is the body."""
    return {"id": item.key, "title": item.title, "summary": item.summary, "text": item.body, "url": item.url,
            "source": item.source, "published": item.published.isoformat()}


def fetch_lines(source: str, settings: PollingSettings, now: Callable[[], datetime], *,
                name: str = "", limit: int | None = None, full_text: bool = False) -> list[str]:
    """The JSONL lines `wirewatch fetch` prints; full_text: each item's page extracted as its body."""
    body, url = read_feed(source, settings)
    try:
        items = feed_items(body, url=url, where=source, source=name, now=now())[:limit]
    except InputError:
        if not looks_like_html(body):
            raise
        found = _announced(body, url, source)  # a web page: the feed it announces
        body, url = read_feed(found, settings)
        items = feed_items(body, url=url, where=found, source=name, now=now())[:limit]
    if full_text and items:
        items = asyncio.run(_with_pages(items, settings))
    return [json.dumps(item_record(i), ensure_ascii=False) for i in items]


async def _with_pages(items: list[Item], settings: PollingSettings) -> list[Item]:
    async with Fetcher(settings) as fetcher:
        found = await fetch_bodies(fetcher, items)
    return [replace(i, body=found.bodies[i.key]) if i.key in found.bodies else i for i in items]


def _announced(page: bytes, url: str, where: str) -> str:
    """The one feed a web page announces (<link rel="alternate">); InputError naming the choices
    when it announces several, or saying it announces none."""
    feeds = [a for a in discover(page, url) if _URL.match(a.url)]
    if len(feeds) == 1:
        return feeds[0].url
    if not feeds:
        raise InputError(f'{where} is a web page, not a feed, and announces none (no <link rel="alternate">)')
    listed = "\n".join(f"  {a.url}  ({a.kind}{': ' + a.title if a.title else ''})" for a in feeds)
    raise InputError(f"{where} is a web page that announces {len(feeds)} feeds; fetch one of them:\n{listed}")


def _host(url: str) -> str:
    return re.sub(r"^https?://(www\.)?", "", url).split("/")[0] if url else ""
