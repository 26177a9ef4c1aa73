"""The flow of DESIGN.md on one screen: fetch -> parse -> normalize -> match -> cluster -> outbox.

A cycle fetches and parses its feeds concurrently, then ingests what is new in one synchronous
pass per group of feeds: the items of the group's feeds are matched and clustered in published
order (as replay does, so a story never depends on which feed answered first), then each feed's
update is one store transaction. Feeds with nothing new (most of them) have their states written together at the end.

Each feed's steps, fetch to commit, are guarded: whatever one raises is recorded on that feed as
its error (with backoff and the admin's failing notice) and the other feeds and the delivery carry
on. A full disk holds all work instead (see bot/failures.py). That per-feed bookkeeping, outcome,
state and failure, is bot/outcomes.py's FeedRecords.

Split over processes (`run --role poller|core`), bot/scale/pipelines.py cuts this flow after
normalize: a poller hands each feed's new items over, the core runs the rest on them.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from bot.alerts.outbox import StoryView, plan_deliveries
from bot.errors import FeedError
from bot.failures import DiskFull, OnceLog, describe, is_disk_full
from bot.ingest.fetch import Fetcher
from bot.ingest.fulltext import FullTextResult, fetch_bodies
from bot.ingest.normalize import guid_keys, normalize_entries
from bot.ingest.parsepool import InlineParser, ParsePool
from bot.ingest.schedule import host_turns
from bot.models import FetchResult, FetchStatus, Item, Match, ParsedFeed, StoryAction, StoryDecision
from bot.outcomes import FeedOutcome, FeedRecords, Fetched
from bot.runtime import Runtime
from bot.store.db import IMPORTED, FeedRow, FeedState, ProcessedItem, Store
from bot.store.judgements import fold_stories
from bot.stories.cluster import StoryClusterer

log = logging.getLogger(__name__)
GROUP = 250  # feeds ingested together: their items are decided in published order
AHEAD = 4  # groups fetched while the one before them is ingested
Known = tuple[list[str], set[str]]  # a feed's guid keys, and those of them stored


@dataclass
class CycleReport:
    outcomes: list[FeedOutcome] = field(default_factory=list)
    seconds: float = 0.0
    handed: int = 0  # the core: hand-over rows this pass took

    def count(self, status: str) -> int:
        return sum(o.status == status for o in self.outcomes)


class Pipeline(FeedRecords):  # the per-feed bookkeeping: bot/outcomes.py
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
        """Update these feeds (the fetcher enforces global and per-host limits)."""
        started = time.monotonic()
        if self.disk.holding():  # nothing fetched, so nothing is lost; retried when the hold ends
            return CycleReport([], time.monotonic() - started)
        quiet: list[tuple[int, FeedState]] = []  # one transaction per feed costs more than its 304
        outcomes: list[FeedOutcome] = []
        try:
            turns = host_turns(feeds, lambda f: f.url)  # one connection per host, mostly (bench/README)
            async with aclosing(self._fetch_groups(turns)) as groups:  # a failed ingest stops the fetching too
                async for fetched in groups:
                    outcomes += self._after_fetch(fetched, quiet)
        finally:
            saved = self._save_quiet(quiet)
        statuses = {o.status for o in outcomes}
        wrote = saved or ("new" in statuses and not quiet)
        if wrote and "held" not in statuses:  # every write went through: there is space again
            self.disk.clear()
        return CycleReport(outcomes, time.monotonic() - started)

    async def _fetch_groups(self, feeds: Sequence[FeedRow]) -> AsyncIterator[list[Fetched]]:
        """The feeds fetched, GROUP at a time in their given order, the next AHEAD groups already
        under way: a cycle holds a few groups' items at once, not all of them (a cold cycle of
        5,000 feeds held 500 MB); a slow feed holds back its group's ingest, not the fetching; and
        which group an item is in never depends on which feed answered first."""
        groups = [feeds[i:i + GROUP] for i in range(0, len(feeds), GROUP)]
        pending: list[asyncio.Future] = []
        try:
            for k in range(len(groups)):
                while len(pending) < min(k + 1 + AHEAD, len(groups)):
                    pending.append(asyncio.ensure_future(
                        asyncio.gather(*(self._fetch(f) for f in groups[len(pending)]))))
                yield await pending[k]
        finally:
            for task in pending:
                task.cancel()

    async def update_feed(self, feed: FeedRow, quiet: list[tuple[int, FeedState]] | None = None) -> FeedOutcome:
        """Fetch one feed and store what changed; a feed's failure is recorded on the feed.

        With `quiet`, the state of a feed that brought no new items is appended there for the
        caller to save, instead of being written at once.
        """
        return self._ingest([await self._fetch(feed)], quiet)[0]

    def seed(self, feed: FeedRow, result: FetchResult, parsed: ParsedFeed) -> FeedOutcome:
        """Store a just-added feed's current items without alerting any (the /addfeed promise)."""
        return self._ingest([Fetched(feed, result, parsed, everything_quiet=True)], None)[0]

    async def _fetch(self, feed: FeedRow) -> Fetched:
        """The feed's fetch result and, when it brought a new body that parses, its entries."""
        try:
            result = await self.fetcher.fetch(feed.for_update())
            if result.status is not FetchStatus.NEW:
                return Fetched(feed, result)
            try:
                parsed = await self.parser.parse(result.body, url=result.final_url or feed.url)
            except FeedError as exc:
                return Fetched(feed, FetchResult(FetchStatus.ERROR, error=str(exc)))
            if parsed.warning:
                log.info("feed %s is malformed but usable: %s", feed.url, parsed.warning)
            bodies = await self._full_text(feed, parsed) if self._uses_full_text(feed) else None
            return Fetched(feed, replace(result, body=b""), parsed, bodies)  # parsed: the bytes need not live all cycle
        except Exception as exc:  # noqa: BLE001 - one feed's failure is a value (DESIGN.md)
            return Fetched(feed, FetchResult(FetchStatus.ERROR), outcome=self._failed(feed, exc, None))

    def _after_fetch(self, fetched: Sequence[Fetched], quiet: list[tuple[int, FeedState]]) -> list[FeedOutcome]:
        return self._ingest(fetched, quiet)  # a poller hands over instead (bot/scale/pipelines.py)

    def _ingest(self, fetched: Sequence[Fetched], quiet: list[tuple[int, FeedState]] | None) -> list[FeedOutcome]:
        """Every feed's unseen items, clustered in published order across the feeds, then one store
        transaction per feed."""
        now, taken, known = self.clock(), set(), self._known(fetched)
        fresh = [self._guard(f, quiet, self._fresh, f, now, taken, known) or [] for f in fetched]
        order = sorted((item.published, i, j) for i, items in enumerate(fresh) for j, (item, _) in enumerate(items))
        decided = {(i, j): self._guard(fetched[i], quiet, self._decide, fresh[i][j][0], now) for _, i, j in order}
        views = self._story_views(d for _, d in filter(None, decided.values()))  # one lookup, not one per item
        done: dict[tuple[int, int], ProcessedItem] = {}
        for (i, j), d in decided.items():  # in published order
            if d is not None:
                done[i, j] = self._guard(fetched[i], quiet, self._process, *fresh[i][j], d, views)
        for i, f in enumerate(fetched):
            if f.outcome is None:
                processed = [done[i, j] for j in range(len(fresh[i]))]
                self._guard(f, quiet, self._finish, f, processed, quiet)
        self._save_folds(d for _, d in filter(None, decided.values()))
        return [f.outcome for f in fetched]

    def _save_folds(self, decisions: Iterable[StoryDecision]) -> None:
        """Late folds of this pass, stored once every feed's items are (a fold may move items of
        another feed's transaction). The alerts of a folded story stay as they were sent; later
        items of either story update the story it was folded into."""
        folds = [(sid, d.story_id) for d in decisions for sid in d.folded]
        if not folds:
            return
        try:
            fold_stories(self.store, folds, self.clock())
        except Exception as exc:  # noqa: BLE001 - the window keeps the fold; a saved window carries it
            if is_disk_full(exc):
                self.disk.hold("polling")
            else:
                log.exception("storing %d story folds failed; the story window keeps them", len(folds))

    def _uses_full_text(self, feed: FeedRow) -> bool:
        """The feed's `full_text` in config.toml; feeds added by /addfeed take the [polling] default."""
        config = self.runtime.config
        listed = next((f for f in config.feeds if feed.url == f.url or feed.config_url == f.url), None)
        return listed.full_text if listed else config.polling.full_text

    async def _full_text(self, feed: FeedRow, parsed: ParsedFeed) -> dict[str, str]:
        """Article text of the feed's new items (by key), fetched before the ingest pass claims them."""
        now = self.clock()
        fresh = self._unseen(feed, parsed, now)
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

    def _known(self, fetched: Sequence[Fetched]) -> dict[int, Known]:
        """By feed id, each new body's guid keys and the stored ones among them: one query for a
        group instead of one a feed. {} when it fails: then each feed asks alone, and fails alone
        (a feed's failure is its own)."""
        try:
            keys = {f.feed.id: [k for k in guid_keys(f.parsed, f.feed.id) if k]
                    for f in fetched if f.parsed is not None and f.handed is None}
            stored = self.store.known_keys([k for some in keys.values() for k in some])
        except Exception as exc:  # noqa: BLE001 - the per-feed queries below meet it again, guarded
            log.warning("known items of %d feeds not read at once (%s): asking feed by feed", len(fetched), describe(exc))
            return {}
        return {feed_id: (some, stored.intersection(some)) for feed_id, some in keys.items()}

    def _unseen(self, feed: FeedRow, parsed: ParsedFeed, now: datetime, known: Known | None = None) -> list[Item]:
        """The feed's items not stored yet; known: what _known read for it with its group."""
        if known is None:
            checked = [k for k in guid_keys(parsed, feed.id) if k]
            known = checked, self.store.known_keys(checked)  # not normalized again
        checked, stored = known
        items = normalize_entries(parsed, source=feed.name, feed_id=feed.id, now=now, skip=stored)
        return self.store.unseen(items, checked=set(checked) - stored)

    def _fresh(self, f: Fetched, now: datetime, taken: set[str],
               known: dict[int, Known] | None = None) -> list[tuple[Item, bool]]:
        """The feed's items not stored yet nor taken by another feed this cycle, each with whether
        it is quiet: stored, not alerted (a new feed's backfill, /addfeed's or an import's baseline,
        an item older than retention)."""
        if f.handed is not None:  # the core: normalized, named and judged quiet by a poller
            quiet = {i.key: q for i, q in f.handed}
            fresh = [i for i in self.store.unseen([i for i, _ in f.handed]) if i.key not in taken]
            taken.update(i.key for i in fresh)
            return [(i, quiet[i.key]) for i in fresh]
        if f.parsed is None:
            return []
        f.feed = feed = self._named(f.feed, f.parsed)
        fresh = [i for i in self._unseen(feed, f.parsed, now, (known or {}).get(feed.id)) if i.key not in taken]
        f.parsed = replace(f.parsed, entries=())  # normalized: the raw entries need not live all cycle
        taken.update(i.key for i in fresh)
        if f.bodies:  # full text replaces the teaser-only body; the summary stays the feed's
            fresh = [replace(i, body=f.bodies[i.key]) if i.key in f.bodies else i for i in fresh]
        first = feed.last_success_at is None
        # a feed imported from OPML was not fetched when added: its first fetch is its baseline
        everything = f.everything_quiet or (first and feed.origin == IMPORTED)
        backfill = now - timedelta(seconds=self.runtime.config.polling.backfill)
        keep = self.runtime.config.bot.keep_items  # an item older than retention may be one pruned: never news
        stale = now - timedelta(seconds=keep) if keep else None
        return [(i, everything or (first and i.published < backfill) or (stale is not None and i.published < stale))
                for i in fresh]

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

    def _decide(self, item: Item, now: datetime) -> tuple[list[Match], StoryDecision]:
        return self.runtime.matcher.match(item), self.clusterer.assign(item, now)

    def _story_views(self, decisions: Iterable[StoryDecision]) -> dict[str, StoryView]:
        """The stored stories these decisions join, are related to or fold (new ones have no view)."""
        decisions = list(decisions)
        wanted = [d.story_id if d.action is StoryAction.JOIN else d.related for d in decisions
                  if d.action is StoryAction.JOIN or d.related]
        wanted += [sid for d in decisions for sid in d.folded]
        found = self.store.story_records(wanted) if wanted else {}
        return {sid: StoryView(r.alerted, r.sources, r.title, tuple((m.source, m.url) for m in r.members))
                for sid, r in found.items()}

    def _process(self, item: Item, quiet: bool, decided: tuple[list[Match], StoryDecision],
                 views: dict[str, StoryView]) -> ProcessedItem:
        found, decision = decided
        view = views.get(decision.story_id, StoryView())
        earlier = views.get(decision.related) if decision.action is StoryAction.RELATED and decision.related else None
        related = (decision.related, earlier.title if earlier else "") if decision.related else None
        folded = None
        for sid in decision.folded:  # a late fold: those stories' outlets are now this one's
            other = views.get(sid, StoryView())
            folded = other if folded is None else folded.merged(other)
        deliveries = plan_deliveries(item, found, decision.story_id, view, self.runtime.routes, quiet=quiet,
                                     related=related, folded=folded)
        if folded is not None:  # later items of this pass see the story as the store will have it
            view = view.merged(folded)
        views[decision.story_id] = view.adding(item, (d.target for d in deliveries if d.kind == "alert"))
        return ProcessedItem(item, tuple(found), decision, tuple(deliveries))

