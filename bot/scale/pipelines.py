"""The pipeline of bot/pipeline.py cut in two at the hand-over (run --role poller / core).

PollerPipeline runs fetch, parse and normalize, and where the single process would match its new
items it writes them, with the feed's state, as one hand-over row (one transaction: a poller
killed mid-fetch leaves nothing half-recorded). CorePipeline takes those rows and runs the rest
exactly as a single process's cycle does: every feed's items clustered in published order, one
transaction per feed, whose rows are deleted in it. A row's items already stored (it was handed
over twice, or taken again after a crash) are skipped as any seen item is.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from bot.failures import describe, is_disk_full
from bot.models import FetchResult, FetchStatus, Item
from bot.pipeline import CycleReport, FeedOutcome, Fetched, Pipeline
from bot.store import handover
from bot.store.db import FeedState, ProcessedItem

log = logging.getLogger(__name__)


class PollerPipeline(Pipeline):
    """poll(feeds): fetched, parsed, normalized; new items handed over, not matched."""

    def _after_fetch(self, fetched: Sequence[Fetched], quiet: list[tuple[int, FeedState]]) -> list[FeedOutcome]:
        now, taken, known = self.clock(), set(), self._known(fetched)
        for f in fetched:
            fresh = self._guard(f, quiet, self._fresh, f, now, taken, known)
            if f.outcome is None and not fresh:  # nothing new: its state is saved with the others'
                self._guard(f, quiet, self._finish, f, [], quiet)
            elif f.outcome is None:
                self._guard(f, quiet, self._send, f, fresh)
        return [f.outcome for f in fetched]

    def _send(self, f: Fetched, fresh: list[tuple[Item, bool]]) -> None:
        state = self._state(f.feed, f.result, f.parsed.ttl_minutes if f.parsed else None)
        handover.hand_over(self.store.engine, f.feed.id, state, fresh, state.checked_at)
        f.outcome = FeedOutcome(f.feed, f.result.status.value, len(fresh))


class CorePipeline(Pipeline):
    """take_handover(): a pass over what the pollers handed over. (poll() still works: /addfeed
    seeds a new feed from the core.)"""

    def take_handover(self, limit: int = handover.BATCH) -> CycleReport:
        """The oldest pending rows, matched, clustered and stored; `handed` counts the rows."""
        started = time.monotonic()
        rows = handover.pending(self.store.engine, limit)
        if not rows:  # most ticks of a quiet core
            return CycleReport([], time.monotonic() - started, 0)
        feeds = handover.feed_rows(self.store.engine, {r.feed_id for r in rows})
        by_feed: dict[int, list[handover.Handed]] = {}
        for row in rows:  # a feed's rows in arrival order, so its items in that order
            by_feed.setdefault(row.feed_id, []).append(row)
        fetched = [Fetched(feeds[fid], FetchResult(FetchStatus.NEW), handed=[i for r in got for i in r.items],
                           handover_ids=tuple(r.id for r in got)) for fid, got in by_feed.items() if fid in feeds]
        return CycleReport(self._ingest(fetched, None) if fetched else [], time.monotonic() - started, len(rows))

    def _finish(self, f: Fetched, processed: list[ProcessedItem], quiet) -> None:
        if not f.handover_ids:
            return super()._finish(f, processed, quiet)
        # the feed's state is the poller's, written with the row
        handover.commit(self.store.engine, f.feed.id, f.handover_ids, processed, self.clock())
        alerts = sum(any(d.kind == "alert" for d in p.deliveries) for p in processed)
        f.outcome = FeedOutcome(f.feed, "new", len(processed), alerts)

    def _failed_fetched(self, f: Fetched, exc: Exception, quiet) -> FeedOutcome:
        """Storing a feed's rows failed: they stay for the next pass, failed after a few tries.
        The feed itself did not fail (its poller fetched it), so its state is left alone."""
        if not f.handover_ids:
            return super()._failed_fetched(f, exc, quiet)
        if is_disk_full(exc):
            self.disk.hold("polling")
        else:
            self.bugs.report(f.feed.url, f.feed.id, exc)
        try:
            handover.fail(self.store.engine, f.handover_ids, describe(exc))
        except Exception:  # noqa: BLE001 - the rows stay pending: retried as they are
            log.exception("hand-over rows %s of feed %s not marked failed", f.handover_ids, f.feed.url)
        return FeedOutcome(f.feed, "held" if is_disk_full(exc) else "error", error=describe(exc))
