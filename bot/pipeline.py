"""The flow of DESIGN.md on one screen: fetch -> parse -> normalize -> match -> cluster -> outbox.

Each feed update with new items ends in one store transaction. Everything between the unseen-check
and that commit is synchronous, so two feeds carrying the same item in one cycle cannot both claim
it. Feeds with nothing new (most of them) have their states written together when the cycle ends.

One feed's update, fetch to commit, runs under one boundary (_guarded): whatever it raises is
recorded on that feed as its error (with backoff and the admin's failing notice) and the other
feeds and the delivery carry on. A full disk holds all work instead (see bot/failures.py).
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
from bot.failures import DiskFull, OnceLog, describe, is_disk_full
from bot.ingest.fetch import Fetcher
from bot.ingest.fulltext import fetch_bodies
from bot.ingest.normalize import guid_keys, normalize_entries
from bot.ingest.parsepool import InlineParser, ParsePool
from bot.ingest.schedule import next_check_at
from bot.models import FetchResult, FetchStatus, Item, ParsedFeed, StoryAction
from bot.runtime import Runtime
from bot.store.db import IMPORTED, FeedRow, FeedState, ProcessedItem, Store
from bot.stories.cluster import StoryClusterer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FeedOutcome:
    feed: FeedRow
    status: str  # new | unchanged | not_modified | error | held (full disk: nothing recorded)
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
                 runtime: Runtime, clock: Callable[[], datetime], rng: random.Random | None = None,
                 parser: ParsePool | InlineParser | None = None):
        self.store, self.fetcher, self.clusterer = store, fetcher, clusterer
        self.runtime = runtime  # replaced whole on hot reload
        self.clock, self.rng = clock, rng or random.Random()
        self._unnamed: tuple[object, frozenset[str]] = (None, frozenset())  # (config, URLs of feeds it leaves unnamed)
        self.parser = parser or InlineParser()
        self.bugs = OnceLog(log)
        self.disk = DiskFull(log, clock)

    async def poll(self, feeds: Sequence[FeedRow]) -> CycleReport:
        """Update these feeds concurrently (the fetcher enforces global and per-host limits)."""
        started = time.monotonic()
        if self.disk.holding():  # nothing fetched, so nothing is lost; retried when the hold ends
            return CycleReport([], time.monotonic() - started)
        quiet: list[tuple[int, FeedState]] = []  # one transaction per feed costs more than its 304
        try:
            outcomes = await asyncio.gather(*(self._guarded(f, quiet) for f in feeds))
        finally:
            saved = self._save_quiet(quiet)
        statuses = {o.status for o in outcomes}
        wrote = saved or ("new" in statuses and not quiet)
        if wrote and "held" not in statuses:  # every write went through: there is space again
            self.disk.clear()
        return CycleReport(list(outcomes), time.monotonic() - started)

    async def _guarded(self, feed: FeedRow, quiet: list[tuple[int, FeedState]]) -> FeedOutcome:
        """update_feed, with anything it raises recorded as this feed's error."""
        try:
            return await self.update_feed(feed, quiet)
        except Exception as exc:  # noqa: BLE001 - one feed's failure is a value (DESIGN.md)
            if is_disk_full(exc):
                self.disk.hold("polling")
                return FeedOutcome(feed, "held", error=describe(exc))
            if not isinstance(exc, FeedError):
                self.bugs.report(feed.url, feed.id, exc)
            return self._record(feed, FetchResult(FetchStatus.ERROR, error=describe(exc)), quiet=quiet)

    def _save_quiet(self, quiet: list[tuple[int, FeedState]]) -> bool:
        """The quiet feeds' states together (True when written); one by one if that fails, so one
        bad state is dropped (and logged) without the others."""
        if not quiet:
            return False
        try:
            self.store.save_states(quiet)
            return True
        except Exception as exc:  # noqa: BLE001
            if is_disk_full(exc):
                self.disk.hold("polling")
                return False
        for feed_id, state in quiet:
            try:
                self.store.save_states([(feed_id, state)])
            except Exception as one:  # noqa: BLE001
                self.bugs.report(f"feed id {feed_id}", feed_id, one)
        return False

    async def update_feed(self, feed: FeedRow, quiet: list[tuple[int, FeedState]] | None = None) -> FeedOutcome:
        """Fetch one feed and store what changed; a feed's failure is recorded on the feed.

        With `quiet`, the state of a feed that brought no new items is appended there for the
        caller to save, instead of being written at once.
        """
        result = await self.fetcher.fetch(feed.for_update())
        if result.status is not FetchStatus.NEW:
            return self._record(feed, result, quiet=quiet)
        try:
            parsed = await self.parser.parse(result.body, url=result.final_url or feed.url)
        except FeedError as exc:
            return self._record(feed, FetchResult(FetchStatus.ERROR, error=str(exc)), quiet=quiet)
        if parsed.warning:
            log.info("feed %s is malformed but usable: %s", feed.url, parsed.warning)
        bodies = await self._full_text(feed, parsed) if self._uses_full_text(feed) else None
        return self._ingest(feed, result, parsed, quiet, bodies)

    def seed(self, feed: FeedRow, result: FetchResult, parsed: ParsedFeed) -> FeedOutcome:
        """Store a just-added feed's current items without alerting any (the /addfeed promise)."""
        return self._ingest(feed, result, parsed, everything_quiet=True)

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
        found = await fetch_bodies(self.fetcher, fresh)
        self.store.count_full_text(feed.id, len(found.bodies), found.failed)
        return found.bodies

    def _fresh(self, feed: FeedRow, parsed: ParsedFeed, now: datetime) -> list[Item]:
        """The feed's items not stored yet."""
        checked = [k for k in guid_keys(parsed, feed.id) if k]
        stored = self.store.known_keys(checked)  # not normalized again
        items = normalize_entries(parsed, source=feed.name, feed_id=feed.id, now=now, skip=stored)
        return self.store.unseen(items, checked=set(checked) - stored)

    def _ingest(self, feed: FeedRow, result: FetchResult, parsed: ParsedFeed,
                quiet: list[tuple[int, FeedState]] | None = None, bodies: dict[str, str] | None = None,
                everything_quiet: bool = False) -> FeedOutcome:
        feed = self._named(feed, parsed)
        now = self.clock()
        fresh = self._fresh(feed, parsed, now)
        if bodies:  # full text replaces the teaser-only body; the summary stays the feed's
            fresh = [replace(i, body=bodies[i.key]) if i.key in bodies else i for i in fresh]
        quiet_before = now - timedelta(seconds=self.runtime.config.polling.backfill)
        first = feed.last_success_at is None  # backfill: a new feed's old items are stored, not alerted
        # a feed imported from OPML was not fetched when added: its first fetch is its baseline,
        # as /addfeed's is (nothing it held when it was added alerts)
        everything_quiet = everything_quiet or (first and feed.origin == IMPORTED)
        keep = self.runtime.config.bot.keep_items  # an item older than retention may be one pruned: never news
        stale_before = now - timedelta(seconds=keep) if keep else None
        views: dict[str, StoryView] = {}
        processed = [self._process(item, everything_quiet or (first and item.published < quiet_before)
                                   or (stale_before is not None and item.published < stale_before), views)
                     for item in fresh]
        return self._record(feed, result, processed, parsed.ttl_minutes, quiet)

    def _named(self, feed: FeedRow, parsed: ParsedFeed) -> FeedRow:
        """A config feed without a name is named by its <title> (its items' source too)."""
        config = self.runtime.config
        if self._unnamed[0] is not config:
            self._unnamed = (config, frozenset(f.url for f in config.feeds if not f.name))
        title = " ".join(parsed.title.split())[:200] if parsed.title else ""
        if not title or title == feed.name or feed.origin != "config" or feed.url not in self._unnamed[1]:
            return feed
        self.store.rename_feed(feed.id, title)
        return replace(feed, name=title)

    def _process(self, item: Item, quiet: bool, views: dict[str, StoryView]) -> ProcessedItem:
        found = self.runtime.matcher.match(item)
        decision = self.clusterer.assign(item)
        view = views.get(decision.story_id) or self._story_view(decision.story_id, decision.action)
        related = None
        if decision.action is StoryAction.RELATED and decision.related:
            earlier = views.get(decision.related) or self._story_view(decision.related, StoryAction.JOIN)
            related = (decision.related, earlier.title)
        deliveries = plan_deliveries(item, found, decision.story_id, view, self.runtime.routes, quiet=quiet,
                                     related=related)
        views[decision.story_id] = view.adding(item, (d.target for d in deliveries if d.kind == "alert"))
        return ProcessedItem(item, tuple(found), decision, tuple(deliveries))

    def _story_view(self, story_id: str, action: StoryAction) -> StoryView:
        if action is not StoryAction.JOIN:  # a new or related story has no view yet
            return StoryView()
        found = self.store.story_view(story_id)
        return StoryView(found.alerted, found.sources, found.title, tuple((m.source, m.url) for m in found.members))

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
