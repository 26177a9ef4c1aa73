"""`run --role poller`: claim due feeds, fetch, parse, normalize, hand the new items to the core.

A poller is a procrastinate worker (bot/scale/engine.py) running the pipeline's first half: no
story window, no matcher state, no Telegram, so it starts in a second and its memory stays flat.
Any number of them may run, on any machine that reaches the database and the feeds.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from prometheus_client import CollectorRegistry

from bot.errors import WirewatchError
from bot.ingest.fetch import Fetcher
from bot.ingest.parsepool import ParsePool
from bot.metrics import Metrics, TimedFetcher, health
from bot.runtime import Runtime
from bot.scale import engine as jobs
from bot.scale.locks import RoleLock, lock_poller
from bot.scale.pipelines import PollerPipeline
from bot.store import handover
from bot.store.db import Store

if TYPE_CHECKING:
    from bot.metrics_server import MetricsServer

log = logging.getLogger(__name__)
HEARTBEAT = 2.0  # seconds between a poller's heartbeats; silent for STALLED: its jobs are failed
STALLED = 10.0
JOBS = 20  # poll jobs at once (of ~50 feeds each): a slow feed holds its job, not the poller; the
# fetcher's [polling] concurrency still bounds the requests in flight


def utcnow() -> datetime:
    return datetime.now(UTC)


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


class Poller:
    def __init__(self, runtime: Runtime, *, clock: Callable[[], datetime] = utcnow,
                 registry: CollectorRegistry | None = None, stalled_after: float = STALLED):
        self.runtime, self.clock = runtime, clock
        self.stalled_after = stalled_after
        self.metrics = Metrics(registry or CollectorRegistry())
        self.metrics_server: MetricsServer | None = None
        self.started_at = clock()
        self.last_poll_end: datetime | None = None
        self._lock: RoleLock | None = None
        self.fetched = self.handed = 0  # feeds fetched and items handed over since start (logged at stop)

    async def start(self) -> None:
        cfg = self.runtime.config
        url = cfg.bot.database_url
        self.store = Store.open(url)
        try:
            self._lock = lock_poller(url)
            jobs.ensure_schema(url)
            self.store.sync_config_feeds(((f.url, f.name, f.interval) for f in cfg.feeds), self.clock())
        except BaseException:
            self._release()
            raise
        self.fetcher = await Fetcher(cfg.polling).__aenter__()
        self.parser = ParsePool(timeout=cfg.polling.parse_timeout, workers=cfg.polling.parse_workers)
        self.pipeline = PollerPipeline(store=self.store, fetcher=TimedFetcher(self.fetcher, self.metrics), clusterer=None,
                                 runtime=self.runtime, clock=self.clock, parser=self.parser)
        self.engine = jobs.build_engine(url, tick=cfg.polling.tick, dispatch=self.dispatch, poll=self.poll,
                                        recover_after=self.stalled_after)
        if cfg.metrics.listen:
            from bot.metrics_server import serve_metrics  # aiohttp.web only when it listens

            try:
                self.metrics_server = await serve_metrics(self.metrics, self.health, cfg.metrics.listen)
            except WirewatchError:
                await self.stop()
                raise

    async def dispatch(self) -> int:
        """Due feeds into poll jobs, whole hosts to a job (the dispatch task: once a tick for all pollers)."""
        due = handover.due_by_host(self.store.engine, self.clock(), host_of)
        size = jobs.batch_size(self.runtime.config.polling.concurrency)
        return await jobs.defer_hosts(self.engine, due, size) if due else 0

    async def poll(self, feed_ids: list[int]) -> None:
        """A poll job's feeds: those still due are claimed, fetched and handed over."""
        polling = self.runtime.config.polling
        feeds = handover.claim(self.store.engine, feed_ids, self.clock(), polling.interval)
        if not feeds:
            return
        report = await self.pipeline.poll(feeds)
        self.fetched += len(report.outcomes)
        self.handed += sum(o.new_items for o in report.outcomes)
        self.last_poll_end = self.clock()
        self.metrics.cycle_done(report.seconds, 0, self.last_poll_end)  # items count where stored: the core

    def health(self) -> tuple[bool, str]:
        """/healthz of a poller: a poll job ended recently (an idle farm of quiet feeds still has due feeds)."""
        return health(self.last_poll_end, self.started_at, self.clock(), self.runtime.config.polling.interval)

    async def run_forever(self, stop: asyncio.Event) -> None:
        polling = self.runtime.config.polling
        name = f"wirewatch poller pid={os.getpid()} host={socket.gethostname()}"
        async with self.engine.open_async():
            worker = asyncio.create_task(self.engine.run_worker_async(
                queues=[jobs.QUEUE], name=name, concurrency=JOBS, install_signal_handlers=False,
                update_heartbeat_interval=min(HEARTBEAT, self.stalled_after / 3), stalled_worker_timeout=self.stalled_after,
                delete_jobs="successful", shutdown_graceful_timeout=10, fetch_job_polling_interval=polling.tick))
            stopping = asyncio.ensure_future(stop.wait())
            await asyncio.wait({worker, stopping}, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            worker.cancel()  # procrastinate stops gracefully: jobs in progress get shutdown_graceful_timeout
            await asyncio.gather(worker, return_exceptions=True)
            if worker.done() and not worker.cancelled() and worker.exception() and not stop.is_set():
                raise worker.exception()

    async def stop(self, *, exiting: bool = False) -> None:
        log.info("poller stopping: fetched %d feeds, handed %d new items over since start", self.fetched, self.handed)
        if self.metrics_server is not None:
            await self.metrics_server.stop()
            self.metrics_server = None
        await self.fetcher.close()
        await self.parser.close()
        self._release()

    def _release(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None
        self.store.close()
