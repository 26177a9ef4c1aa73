"""The flow of DESIGN.md on one screen: fetch -> parse -> normalize -> match -> cluster -> outbox.

Each feed update with new items ends in one store transaction. Everything between the unseen-check
and that commit is synchronous, so two feeds carrying the same item in one cycle cannot both claim
it. Feeds with nothing new (most of them) have their states written together when the cycle ends.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from bot.alerts.outbox import StoryView, plan_deliveries
from bot.errors import FeedError
from bot.ingest.fetch import Fetcher
from bot.ingest.fulltext import FullTextResult, fetch_bodies
from bot.ingest.normalize import guid_keys, normalize_entries
from bot.ingest.parse import parse_feed
from bot.ingest.schedule import next_check_at
from bot.models import FetchResult, FetchStatus, Item, ParsedFeed, StoryAction
from bot.runtime import Runtime
from bot.store.db import FeedRow, FeedState, ProcessedItem, Store
from bot.stories.cluster import StoryClusterer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FeedOutcome:
    feed: FeedRow
    status: str  # new | unchanged | not_modified | error
    new_items: int = 0
    alerts: int = 0
    error: str | None = None


@dataclass
class CycleReport:
    outcomes: list[FeedOutcome] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, status: str) -> int:
        return sum(o.status == status for o in self.outcomes)


class Pipeline:
    def __init__(self, *, store: Store, fetcher: Fetcher, clusterer: StoryClusterer,
                 runtime: Runtime, clock: Callable[[], datetime], rng: random.Random | None = None):
        self.store, self.fetcher, self.clusterer = store, fetcher, clusterer
        self.runtime = runtime  # replaced whole on hot reload
        self.clock, self.rng = clock, rng or random.Random()

    async def poll(self, feeds: Sequence[FeedRow]) -> CycleReport:
        """Update these feeds concurrently (the fetcher enforces global and per-host limits)."""
        started = time.monotonic()
        quiet: list[tuple[int, FeedState]] = []  # one transaction per feed costs more than its 304
        try:
            outcomes = await asyncio.gather(*(self.update_feed(f, quiet) for f in feeds))
        finally:
            self.store.save_states(quiet)
        return CycleReport(list(outcomes), time.monotonic() - started)

    async def update_feed(self, feed: FeedRow, quiet: list[tuple[int, FeedState]] | None = None) -> FeedOutcome:
        """Fetch one feed and store what changed; a feed's failure is recorded on the feed.

        With `quiet`, the state of a feed that brought no new items is appended there for the
        caller to save, instead of being written at once.
        """
        result = await self.fetcher.fetch(feed.for_update())
        if result.status is not FetchStatus.NEW:
            return self._record(feed, result, quiet=quiet)
        try:
            parsed = await asyncio.to_thread(parse_feed, result.body, url=result.final_url or feed.url)
        except FeedError as exc:
            return self._record(feed, FetchResult(FetchStatus.ERROR, error=str(exc)), quiet=quiet)
        if parsed.warning:
            log.info("feed %s is malformed but usable: %s", feed.url, parsed.warning)
        bodies = await self._full_text(feed, parsed) if self._uses_full_text(feed) else None
        return self._ingest(feed, result, parsed, quiet, bodies)

    def _uses_full_text(self, feed: FeedRow) -> bool:
        """The feed's `full_text` in config.toml; feeds added by /addfeed take the [polling] default."""
        config = self.runtime.config
        listed = next((f for f in config.feeds if feed.url == f.url or feed.config_url == f.url), None)
        return listed.full_text if listed else config.polling.full_text

    async def _full_text(self, feed: FeedRow, parsed: ParsedFeed) -> dict[str, str]:
        """Article text of the feed's new items (by key); the pages are fetched before the unseen
        check in _ingest claims the items, so two feeds cannot both claim one while we wait."""
        now = self.clock()
        fresh = self._fresh(feed, parsed, now)
        if feed.last_success_at is None:  # a new feed's old items are not alerted: no page for them
            since = now - timedelta(seconds=self.runtime.config.polling.backfill)
            fresh = [i for i in fresh if i.published >= since]
        if not fresh:
            return {}
        try:
            found = await fetch_bodies(self.fetcher, fresh)
        except Exception:  # a bug in fetching or extraction costs this feed its full text, not the cycle
            log.exception("full text of feed %s failed; its items keep their teasers", feed.url)
            found = FullTextResult({}, len(fresh))
        self.store.count_full_text(feed.id, len(found.bodies), found.failed)
        return found.bodies

    def _fresh(self, feed: FeedRow, parsed: ParsedFeed, now: datetime) -> list[Item]:
        """The feed's items not stored yet."""
        checked = [k for k in guid_keys(parsed, feed.id) if k]
        stored = self.store.known_keys(checked)  # not normalized again
        items = normalize_entries(parsed, source=feed.name, feed_id=feed.id, now=now, skip=stored)
        return self.store.unseen(items, checked=set(checked) - stored)

    def _ingest(self, feed: FeedRow, result: FetchResult, parsed: ParsedFeed,
                quiet: list[tuple[int, FeedState]] | None = None, bodies: dict[str, str] | None = None) -> FeedOutcome:
        now = self.clock()
        fresh = self._fresh(feed, parsed, now)
        if bodies:  # full text replaces the teaser-only body; the summary stays the feed's
            fresh = [replace(i, body=bodies[i.key]) if i.key in bodies else i for i in fresh]
        quiet_before = now - timedelta(seconds=self.runtime.config.polling.backfill)
        first = feed.last_success_at is None  # backfill: a new feed's old items are stored, not alerted
        views: dict[str, StoryView] = {}
        processed = [self._process(item, first and item.published < quiet_before, views) for item in fresh]
        return self._record(feed, result, processed, parsed.ttl_minutes, quiet)

    def _process(self, item: Item, quiet: bool, views: dict[str, StoryView]) -> ProcessedItem:
        found = self.runtime.matcher.match(item)
        decision = self.clusterer.assign(item)
        view = views.get(decision.story_id) or self._story_view(decision.story_id, decision.action)
        deliveries = plan_deliveries(item, found, decision.story_id, view, self.runtime.routes, quiet=quiet)
        views[decision.story_id] = StoryView(
            view.alerted | {d.target for d in deliveries if d.kind == "alert"},
            tuple(dict.fromkeys((*view.sources, item.source))),
        )
        return ProcessedItem(item, tuple(found), decision, tuple(deliveries))

    def _story_view(self, story_id: str, action: StoryAction) -> StoryView:
        if action is not StoryAction.JOIN:  # a new or related story has no view yet
            return StoryView()
        alerted, sources = self.store.story_view(story_id)
        return StoryView(frozenset(alerted), tuple(sources))

    def _record(self, feed: FeedRow, result: FetchResult, processed: Sequence[ProcessedItem] = (),
                ttl: int | None = None, quiet: list[tuple[int, FeedState]] | None = None) -> FeedOutcome:
        now, failed = self.clock(), result.status is FetchStatus.ERROR
        polling = self.runtime.config.polling
        due = next_check_at(
            now, base_interval=feed.interval or polling.interval, settings=polling,
            error_count=feed.error_count + 1 if failed else 0, max_age=result.max_age,
            retry_after=result.retry_after, ttl_minutes=ttl or feed.ttl_minutes, rng=self.rng,
        )
        state = FeedState(
            checked_at=now, next_check_at=due, status=result.status.value, error=result.error,
            etag=result.etag, last_modified=result.last_modified, body_hash=result.body_hash,
            ttl_minutes=ttl, moved_to=result.final_url,
        )
        if processed or quiet is None:
            self.store.save_update(feed.id, state, processed)
        else:
            quiet.append((feed.id, state))
        if failed:
            log.warning("feed %s failed (%d in a row): %s", feed.url, feed.error_count + 1, result.error)
        alerts = sum(any(d.kind == "alert" for d in p.deliveries) for p in processed)  # items, not targets
        return FeedOutcome(feed, result.status.value, len(processed), alerts, result.error)
