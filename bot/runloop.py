"""The schedule of a running App: a tick every `polling.tick` seconds, the periodic jobs
(retraining checks, retention), and the stop that lets a tick in progress finish.

A part of App (bot/app.py), apart because it is one concern: it calls the App's cycle, reload and
announce, and reads its runtime, store, pipeline, telegram, retrainer, metrics, clock and locks.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, timedelta

from bot.errors import WirewatchError
from bot.failures import is_disk_full

log = logging.getLogger("bot.app")  # App's logger: its log lines read as they did before the split
RETRAIN_CHECK = 60.0  # seconds between checks whether a topic classifier is due for retraining
RETENTION_EVERY = 3600.0  # seconds between retention runs (each prunes in batches of 500 items)
STOP_GRACE = 10.0  # seconds a tick in progress at SIGTERM may take to finish before it is abandoned


class Schedule:
    """Needs of App: runtime, store, pipeline, telegram, retrainer, metrics, clock, role, _lock,
    lost_lock, cycle, reload_if_changed, announce, check_token."""

    _ticking: asyncio.Task | None  # the tick in progress, if any (see _finish_tick)
    _stopping: bool  # set at stop: a tick cancelled now is abandoned quietly, retention ends

    async def tick(self) -> None:
        """One scheduler tick: apply edited config/rules, then poll what is due."""
        if self.role == "core" and not self._lock.alive():
            self.lost_lock.set()  # run_forever stops: a standby may hold the lock by now
            return
        self.reload_if_changed()
        await self.announce()
        self._ticking = asyncio.current_task()
        try:
            report = await self.cycle()
        except asyncio.CancelledError:
            if not self._stopping:
                raise
            # Abandoned at stop: each feed update is one transaction, so what was not committed
            # is fetched again at the next start, and queued rows stay queued.
            log.info("stopping: the poll cycle in progress was abandoned; unfinished feeds are polled next time")
            return
        except Exception as exc:  # a bug in one tick must not stop the scheduler; it is logged in full
            if is_disk_full(exc):  # delivery could not record a send: held, warned once a minute
                self.pipeline.disk.hold("delivery")
            else:
                log.exception("poll cycle failed")
            return
        finally:
            self._ticking = None
        if report.outcomes:
            log.info("polled %d feeds in %.1fs: %d new items, %d errors", len(report.outcomes),
                     report.seconds, sum(o.new_items for o in report.outcomes), report.count("error"))

    async def retrain(self) -> None:
        """Retrain due topic classifiers; fitting runs in a worker thread, polling goes on."""
        try:
            if await self.retrainer.maybe_retrain(lambda: self.runtime.matcher) is not None:
                self.metrics.retrains.inc()
        except Exception:  # a failed retrain keeps the models in use
            log.exception("classifier retraining failed")

    async def run_forever(self, stop: asyncio.Event) -> None:
        """Tick every `polling.tick` seconds until stop is set."""
        from apscheduler.schedulers.asyncio import AsyncIOScheduler

        scheduler = AsyncIOScheduler(timezone=UTC)
        scheduler.add_job(self.tick, "interval", seconds=self.runtime.config.polling.tick,
                          max_instances=1, coalesce=True, next_run_time=self.clock())
        scheduler.add_job(self.retrain, "interval", seconds=RETRAIN_CHECK, max_instances=1, coalesce=True,
                          next_run_time=self.clock() + timedelta(seconds=RETRAIN_CHECK / 2))
        scheduler.add_job(self.prune_old, "interval", seconds=RETENTION_EVERY, max_instances=1, coalesce=True,
                          next_run_time=self.clock() + timedelta(seconds=RETRAIN_CHECK))
        scheduler.start()
        delivering = asyncio.create_task(self.telegram.run_delivery(stop)) if self.telegram else None
        waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self.lost_lock.wait())]
        if self.telegram is not None:
            waits.append(asyncio.ensure_future(self.telegram.refused.wait()))
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waits:
                w.cancel()
            stop.set()
            scheduler.shutdown(wait=False)
            await self._finish_tick(STOP_GRACE)
            if delivering is not None:  # a pass waiting on rate limits is cut short: rows stay queued
                await asyncio.gather(asyncio.wait_for(delivering, 5), return_exceptions=True)
        self.check_token()
        if self.lost_lock.is_set():
            raise WirewatchError("lost the core lock (its database connection died): stopped, so that only "
                                 "one core works; restart to stand by again")

    async def prune_old(self) -> int:
        """Retention: delete items older than bot.keep_items, batch by batch in a worker thread."""
        keep, total = self.runtime.config.bot.keep_items, 0
        if not keep:
            return 0
        cutoff = self.clock() - timedelta(seconds=keep)
        try:
            while not self._stopping and (n := await asyncio.to_thread(self.store.prune, cutoff)):
                total += n
        except Exception:  # retention must never stop the bot; the next run goes on
            log.exception("pruning old items failed after %d", total)
        if total:
            log.info("retention: pruned %d items first seen before %s", total, cutoff.isoformat(timespec="seconds"))
        return total

    async def _finish_tick(self, grace: float) -> None:
        """Let a tick in progress finish for `grace` seconds, then cancel it (quietly: see tick)."""
        self._stopping = True
        task = self._ticking
        if task is None or task.done():
            return
        await asyncio.wait({task}, timeout=grace)
        if not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
