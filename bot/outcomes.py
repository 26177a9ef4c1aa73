"""One feed's bookkeeping in a cycle: what its fetch brought (Fetched), what the cycle reports of
it (FeedOutcome), and FeedRecords, the half of the Pipeline that records an outcome on the feed:
its state after the fetch (validators, backoff, when it is due again), a failure turned into the
feed's error (or a hold on a full disk), and the quiet feeds' states saved together.

FeedRecords is a mixin of bot/pipeline.py's Pipeline (it uses its store, clock, runtime, rng,
bugs and disk); bot/scale/pipelines.py overrides some of its steps.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from bot.errors import FeedError
from bot.failures import describe, is_disk_full
from bot.ingest.schedule import next_check_at
from bot.models import FetchResult, FetchStatus, Item, ParsedFeed
from bot.store.db import FeedRow, FeedState, ProcessedItem

log = logging.getLogger("bot.pipeline")  # its records, as when this was part of bot/pipeline.py


@dataclass(frozen=True)
class FeedOutcome:
    feed: FeedRow
    status: str  # new | unchanged | not_modified | error | held (full disk: nothing recorded)
    new_items: int = 0
    alerts: int = 0
    error: str | None = None


@dataclass
class Fetched:
    """One feed after the concurrent phase: its fetch, its entries when new, article texts."""

    feed: FeedRow
    result: FetchResult
    parsed: ParsedFeed | None = None
    bodies: dict[str, str] | None = None  # full text by item key
    outcome: FeedOutcome | None = None  # set once the feed has failed: nothing more is done
    everything_quiet: bool = False  # /addfeed's baseline: stored, never alerted
    handed: Sequence[tuple[Item, bool]] | None = None  # the core: items a poller handed over, quiet or not
    handover_ids: tuple[int, ...] = ()  # ... and the rows they came in


class FeedRecords:
    """The Pipeline's per-feed bookkeeping of outcomes, failures and quiet states."""

    def _guard(self, f: Fetched, quiet, step, *args):
        """step(*args) for feed f, unless it already failed; what it raises becomes its outcome."""
        if f.outcome is not None:
            return None
        try:
            return step(*args)
        except Exception as exc:  # noqa: BLE001 - one feed's failure is a value (DESIGN.md)
            f.outcome = self._failed_fetched(f, exc, quiet)
            return None

    def _finish(self, f: Fetched, processed: list[ProcessedItem], quiet) -> None:
        ttl = f.parsed.ttl_minutes if f.parsed else None
        f.outcome = self._record(f.feed, f.result, processed, ttl, quiet)

    def _failed_fetched(self, f: Fetched, exc: Exception, quiet: list[tuple[int, FeedState]] | None) -> FeedOutcome:
        return self._failed(f.feed, exc, quiet)

    def _failed(self, feed: FeedRow, exc: Exception, quiet: list[tuple[int, FeedState]] | None) -> FeedOutcome:
        if is_disk_full(exc):
            self.disk.hold("polling")
            return FeedOutcome(feed, "held", error=describe(exc))
        if not isinstance(exc, FeedError):
            self.bugs.report(feed.url, feed.id, exc)
        return self._record(feed, FetchResult(FetchStatus.ERROR, error=describe(exc)), quiet=[] if quiet is None else quiet)

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

    def _record(self, feed: FeedRow, result: FetchResult, processed: Sequence[ProcessedItem] = (),
                ttl: int | None = None, quiet: list[tuple[int, FeedState]] | None = None) -> FeedOutcome:
        failed = result.status is FetchStatus.ERROR
        state = self._state(feed, result, ttl)
        if processed or quiet is None:
            self.store.save_update(feed.id, state, processed)
        else:
            quiet.append((feed.id, state))
        if failed:
            log.warning("feed %s failed (%d in a row): %s", feed.url, feed.error_count + 1, result.error)
        alerts = sum(any(d.kind == "alert" for d in p.deliveries) for p in processed)  # items, not targets
        return FeedOutcome(feed, result.status.value, len(processed), alerts, result.error)

    def _state(self, feed: FeedRow, result: FetchResult, ttl: int | None) -> FeedState:
        """The feed's state after this fetch: validators, status, and when it is due again."""
        now, failed = self.clock(), result.status is FetchStatus.ERROR
        polling = self.runtime.config.polling
        due = next_check_at(
            now, base_interval=feed.interval or polling.interval, settings=polling,
            error_count=feed.error_count + 1 if failed else 0, max_age=result.max_age,
            retry_after=result.retry_after, ttl_minutes=ttl or feed.ttl_minutes, rng=self.rng,
        )
        return FeedState(
            checked_at=now, next_check_at=due, status=result.status.value, error=result.error,
            etag=result.etag, last_modified=result.last_modified, body_hash=result.body_hash,
            ttl_minutes=ttl, moved_to=result.final_url,
        )
