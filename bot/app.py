"""All wiring: store, fetcher, clusterer, pipeline, sinks (hot reload: bot/reload.py; ticks and
periodic jobs: bot/runloop.py)."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from prometheus_client import CollectorRegistry
from sqlalchemy.exc import DatabaseError

from bot.alerts.outbox import Sink, drain
from bot.alerts.sinks import ConsoleSink, JsonlSink
from bot.config import StorySettings
from bot.errors import WirewatchError
from bot.heap import HeapKeeper
from bot.ingest.fetch import Fetcher
from bot.ingest.parsepool import ParsePool
from bot.judgements import StoryJudge
from bot.match.retrain import Retrainer
from bot.metrics import CountedClusterer, Metrics, TimedFetcher, health
from bot.models import FetchResult, ParsedFeed
from bot.pipeline import CycleReport, Pipeline
from bot.redact import Redactor, install
from bot.reload import HotReload, fingerprint
from bot.runloop import Schedule
from bot.runtime import Runtime, with_stored_routes
from bot.scale.core import FeedWatch, LagCollector, take_handover, take_lock
from bot.scale.locks import RoleLock
from bot.scale.pipelines import CorePipeline
from bot.store import handover
from bot.store.chats import stored_chats
from bot.store.db import Store, unreadable
from bot.store.lock import InstanceLock
from bot.stories.cluster import StoryClusterer
from bot.stories.snapshot import FILE_NAME as WINDOW_FILE
from bot.stories.snapshot import Marker

if TYPE_CHECKING:
    from bot.metrics_server import MetricsServer
    from bot.tg.application import TelegramService
    from bot.tg.limits import Limits

log = logging.getLogger(__name__)


def utcnow() -> datetime:
    return datetime.now(UTC)


class App(HotReload, Schedule):
    """One running wirewatch: start(), cycles (once or scheduled), stop()."""

    def __init__(self, runtime: Runtime, *, clock: Callable[[], datetime] = utcnow, stdout: TextIO | None = None,
                 telegram_limits: Limits | None = None, telegram_poll_timeout: float = 10.0, exclusive: bool = False,
                 registry: CollectorRegistry | None = None,
                 clusterer: Callable[[StorySettings], StoryClusterer] = StoryClusterer, role: str = "all"):
        self.runtime, self.clock, self.stdout = runtime, clock, stdout or sys.stdout
        self._new_clusterer = clusterer
        self._fingerprint = fingerprint(runtime)
        self.last_cycle: CycleReport | None = None
        self.telegram: TelegramService | None = None  # set by start() when a token is configured
        self.heap = HeapKeeper()
        self._tg_options = {"limits": telegram_limits, "poll_timeout": telegram_poll_timeout}
        self._unredact: Callable[[], None] = lambda: None
        self._notices: list[tuple[int | None, str]] = []  # (chat, or None: the admin chat; HTML text) to send
        self.exclusive = exclusive  # `run`: hold the database's instance lock while running
        self.role = role  # all | core (run --role; pollers are bot.scale.poller)
        self._lock: InstanceLock | RoleLock | None = None
        self.lost_lock = asyncio.Event()  # core: the lock's connection died, a standby may hold it now
        self._window_owned, self._window_saved = False, None  # see _restore_window
        self._ticking: asyncio.Task | None = None
        self._stopping = False
        self.metrics = Metrics(registry or CollectorRegistry())
        self.metrics_server: MetricsServer | None = None
        self.started_at = clock()
        self.last_cycle_end: datetime | None = None

    async def start(self) -> None:
        cfg = self.runtime.config
        if cfg.telegram.token:  # before anything that could log it (PTB logs its URL at DEBUG)
            self._unredact = install(Redactor([cfg.telegram.token]))
        try:
            self.store = Store.open(cfg.bot.database_url)
        except BaseException:
            self._unredact()
            raise
        if self.exclusive:
            try:
                self._lock = await take_lock(self.role, self.store, cfg.bot.database_url)
            except BaseException:
                self.store.close()
                self._unredact()
                raise
        self.clusterer = self._new_clusterer(cfg.stories)
        try:
            self._load_state()
        except (DatabaseError, UnicodeDecodeError) as exc:  # rows SQLite's quick_check cannot see
            self._release()
            raise unreadable(self.store.engine, exc) from None
        self.fetcher = await Fetcher(cfg.polling).__aenter__()
        self.parser = ParsePool(timeout=cfg.polling.parse_timeout, workers=cfg.polling.parse_workers)
        kind = CorePipeline if self.role == "core" else Pipeline
        self.pipeline = kind(store=self.store, fetcher=TimedFetcher(self.fetcher, self.metrics),
                                 clusterer=CountedClusterer(self.clusterer, self.metrics),
                                 runtime=self.runtime, clock=self.clock, parser=self.parser)
        self.metrics.watch_store(self.store, self.clock)
        if self.role == "core":
            self.metrics.registry.register(LagCollector(self.core_lag))
            self.feed_watch = FeedWatch()
        self.sinks = self._sinks()
        self.refresh_routes()
        self.retrainer = Retrainer(self.store, cfg.bot.data_dir, cfg.classifier, self.clock)
        if cfg.telegram.token:
            from bot.tg.application import TelegramService

            try:
                self.telegram = await TelegramService.start(self, **self._tg_options)
            except BaseException:
                await self.fetcher.close()
                await self.parser.close()
                self._release()
                raise
        if cfg.metrics.listen:
            from bot.metrics_server import serve_metrics  # aiohttp.web only when it listens

            try:
                self.metrics_server = await serve_metrics(self.metrics, self.health, cfg.metrics.listen)
            except WirewatchError:
                await self.stop()
                raise
        self.heap.start()  # libraries, models, the restored window: out of every full collection

    def core_lag(self) -> float | None:
        """Seconds the oldest item handed over by a poller has waited (core only; else None)."""
        return handover.lag(self.store.engine, self.clock()) if self.role == "core" else None

    def _load_state(self) -> None:
        """The story window back from the store (state survives restarts), then the config's feeds
        into it: reads first, so a database that fails them is left as it was."""
        self._restore_window()
        self.judge = StoryJudge(self.store, self.clusterer, self.clock)
        self.judge.restore()  # pairs kept apart, thresholds learned from stored judgements
        stored_chats(self.store)
        self.store.sync_config_feeds(((f.url, f.name, f.interval) for f in self.runtime.config.feeds), self.clock())

    async def stop(self, *, exiting: bool = False) -> None:
        """exiting: the process ends right after, so the frozen heap is left frozen (see HeapKeeper)."""
        self.heap.stop(exiting=exiting)
        if self.metrics_server is not None:
            await self.metrics_server.stop()
            self.metrics_server = None
        if self.telegram is not None:
            await self.telegram.stop()
            self.telegram = None
        await self.fetcher.close()
        await self.parser.close()
        # restored by this run, so written back for the next; not by a core that lost its lock: a
        # standby may be adding items the saved window would then wrongly claim to hold
        if self._window_owned and not self.lost_lock.is_set():
            self._save_window()
        self._release()

    def _restore_window(self) -> None:
        """The window saved at the last clean stop when it is current, else rebuilt item by item."""
        marker = Marker(*self.store.window_marker())
        why = self.clusterer.load_window(self._window_file(), marker, self.clock())
        if why:
            log.info("story window rebuilt from the database (saved window: %s)", why)
            since = self.clock() - timedelta(seconds=self.runtime.config.stories.window)
            self.clusterer.restore(self.store.items_since(since), self.store.items_before(since))
        self.heap.keep()
        self._window_saved = None if why else marker
        self._window_owned = True

    def _save_window(self) -> None:
        """Write the window for the next start, unless the file already holds it."""
        marker = Marker(*self.store.window_marker())
        if marker == self._window_saved:
            return
        try:
            self.clusterer.save_window(self._window_file(), marker)
        except OSError as exc:
            log.warning("story window not saved (%s): the next start rebuilds it from the database", exc)

    def _window_file(self) -> Path:
        return Path(self.runtime.config.bot.data_dir) / WINDOW_FILE

    def _release(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None
        self.store.close()
        self._unredact()

    def refresh_routes(self) -> None:
        """Routes from config.toml plus what chat commands stored (subscriptions, left or moved chats)."""
        new = with_stored_routes(self.runtime, stored_chats(self.store), bool(self.runtime.config.telegram.token))
        self.runtime = self.pipeline.runtime = new

    def seed_feed(self, feed_id: int, result: FetchResult, parsed: ParsedFeed) -> int:
        """A feed just added by /addfeed: store its current items without alerting; how many."""
        feed = next(f for f in self.store.feeds(active_only=False) if f.id == feed_id)
        return self.pipeline.seed(feed, result, parsed).new_items

    def health(self) -> tuple[bool, str]:
        """/healthz: whether a poll cycle ended recently enough, and why (not)."""
        return health(self.last_cycle_end, self.started_at, self.clock(), self.runtime.config.polling.interval)

    def count_telegram_error(self, kind: str) -> None:
        self.metrics.telegram_errors.labels(kind).inc()

    @property
    def last_cycle_seconds(self) -> float | None:
        return self.last_cycle.seconds if self.last_cycle else None

    def _sinks(self) -> dict[str, Sink]:
        out = self.runtime.config.outputs
        sinks: dict[str, Sink] = {}
        if out.console:
            sinks["console"] = ConsoleSink(self.stdout, self.runtime.config.bot.timezone)
        if out.jsonl:
            sinks["jsonl"] = JsonlSink(out.jsonl)
        return sinks

    async def cycle(self, *, every_feed: bool = False) -> CycleReport:
        """Poll due feeds (or every feed: run --once, which then delivers all it queued), then deliver."""
        if self.role == "core":
            report = await take_handover(self.pipeline, self.runtime.config.polling.tick)
        else:
            due = None if every_feed else self.clock()
            report = await self.pipeline.poll(self.store.feeds(due_before=due))
        self.last_cycle, self.last_cycle_end = report, self.clock()
        self.metrics.cycle_done(report.seconds, sum(o.new_items for o in report.outcomes), self.last_cycle_end)
        self.heap.after_cycle()
        if self.telegram is not None:  # feed failing / recovered notices
            checked = self.feed_watch.outcomes(self.store.engine) if self.role == "core" else report.outcomes
            await self.telegram.after_cycle(checked)
        await self.deliver(everything=every_feed)
        return report

    def check_token(self) -> None:
        """Stop (exit 1) once the Bot API refused the token: a bot that cannot poll or send
        must not stay up half alive. Queued alerts stay queued for the next start."""
        if self.telegram is not None and self.telegram.refused.is_set():
            from bot.tg.application import TOKEN_REVOKED

            raise WirewatchError(TOKEN_REVOKED)

    async def deliver(self, *, everything: bool = False) -> None:
        """Drain the outbox: console and JSONL now; Telegram now, or by waking its delivery loop.

        A pass sends up to 500 rows; `everything` (run --once) repeats passes until none is due."""
        while await drain(self.store, self.sinks, self.clock) and everything:
            pass
        if self.telegram is not None:
            await self.telegram.deliver()
