"""All wiring: store, fetcher, clusterer, pipeline, sinks, scheduler, hot reload."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TextIO

from bot.alerts.outbox import Sink, drain
from bot.alerts.sinks import ConsoleSink, JsonlSink
from bot.errors import ConfigError
from bot.ingest.fetch import Fetcher
from bot.pipeline import CycleReport, Pipeline
from bot.runtime import Runtime, load_runtime
from bot.stories.cluster import StoryClusterer
from bot.store.db import Store

log = logging.getLogger(__name__)


def utcnow() -> datetime:
    return datetime.now(UTC)


class App:
    """One running wirewatch: start(), cycles (once or scheduled), stop()."""

    def __init__(self, runtime: Runtime, *, clock: Callable[[], datetime] = utcnow, stdout: TextIO | None = None):
        self.runtime, self.clock, self.stdout = runtime, clock, stdout or sys.stdout
        self._fingerprint = _fingerprint(runtime)
        self.last_cycle: CycleReport | None = None

    async def start(self) -> None:
        cfg = self.runtime.config
        self.store = Store.open(cfg.bot.database_url)
        self.store.sync_config_feeds(((f.url, f.name, f.interval) for f in cfg.feeds), self.clock())
        self.fetcher = await Fetcher(cfg.polling).__aenter__()
        self.clusterer = StoryClusterer(cfg.stories)
        window_start = self.clock() - timedelta(seconds=cfg.stories.window)
        self.clusterer.restore(self.store.items_since(window_start))  # story state survives restarts
        self.pipeline = Pipeline(store=self.store, fetcher=self.fetcher, clusterer=self.clusterer,
                                 runtime=self.runtime, clock=self.clock)
        self.sinks = self._sinks()

    async def stop(self) -> None:
        await self.fetcher.close()
        self.store.close()

    def _sinks(self) -> dict[str, Sink]:
        out = self.runtime.config.outputs
        sinks: dict[str, Sink] = {}
        if out.console:
            sinks["console"] = ConsoleSink(self.stdout, self.runtime.config.bot.timezone)
        if out.jsonl:
            sinks["jsonl"] = JsonlSink(out.jsonl)
        return sinks

    async def cycle(self, *, every_feed: bool = False) -> CycleReport:
        """Poll due feeds (or every feed), then deliver what is queued."""
        due = None if every_feed else self.clock()
        report = await self.pipeline.poll(self.store.feeds(due_before=due))
        await drain(self.store, self.sinks, self.clock)
        self.last_cycle = report
        return report

    async def tick(self) -> None:
        """One scheduler tick: apply edited config/rules, then poll what is due."""
        self.reload_if_changed()
        try:
            report = await self.cycle()
        except Exception:  # a bug in one tick must not stop the scheduler; it is logged in full
            log.exception("poll cycle failed")
            return
        if report.outcomes:
            log.info("polled %d feeds in %.1fs: %d new items, %d errors", len(report.outcomes),
                     report.seconds, sum(o.new_items for o in report.outcomes), report.count("error"))

    def reload_if_changed(self) -> bool:
        """Hot reload: swap in the edited config and rules if they are valid, else keep running."""
        fingerprint = _fingerprint(self.runtime)
        if fingerprint == self._fingerprint:
            return False
        self._fingerprint = fingerprint
        try:
            new = load_runtime(self.runtime.config.path)
        except ConfigError as exc:
            log.error("config not reloaded, keeping the running one:\n%s", exc)
            return False
        self._apply(new)
        log.info("reloaded %s: %d feeds, %d topics", new.config.path, len(new.config.feeds), len(new.topics))
        return True

    def _apply(self, new: Runtime) -> None:
        old = self.runtime.config
        for section in ("bot", "polling", "stories"):
            if getattr(old, section) != getattr(new.config, section):
                log.warning("[%s] changed: restart wirewatch to apply it", section)
        self.store.sync_config_feeds(((f.url, f.name, f.interval) for f in new.config.feeds), self.clock())
        self.runtime = self.pipeline.runtime = new
        self.sinks = self._sinks()

    async def run_forever(self, stop: asyncio.Event) -> None:
        """Tick every `polling.tick` seconds until stop is set."""
        from apscheduler.schedulers.asyncio import AsyncIOScheduler

        scheduler = AsyncIOScheduler(timezone=UTC)
        scheduler.add_job(self.tick, "interval", seconds=self.runtime.config.polling.tick,
                          max_instances=1, coalesce=True, next_run_time=self.clock())
        scheduler.start()
        try:
            await stop.wait()
        finally:
            scheduler.shutdown(wait=False)


def _fingerprint(runtime: Runtime) -> tuple:
    """mtime and size of config.toml and every rule file: cheap to compare each tick."""
    paths = [runtime.config.path, *sorted(Path(runtime.config.bot.rules_dir).glob("*.toml"))]
    out = []
    for p in paths:
        try:
            st = p.stat()
            out.append((str(p), st.st_mtime_ns, st.st_size))
        except OSError:
            out.append((str(p), None, None))
    return tuple(out)
