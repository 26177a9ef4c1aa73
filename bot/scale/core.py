"""What `run --role core` adds to the single process (bot/app.py): the lock a standby waits on,
the cycle over what the pollers handed over, and the lag metric."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from bot.pipeline import CycleReport
from bot.scale.locks import RoleLock, lock_all, lock_core
from bot.store import handover
from bot.store.db import Store
from bot.store.lock import InstanceLock


async def take_lock(role: str, store: Store, url: str) -> InstanceLock | RoleLock:
    """all: the instance lock (and, on PostgreSQL, no poller running); core: the core lock,
    waiting as a standby while another core holds it."""
    if role == "core":
        return await lock_core(url)
    if store.engine.dialect.name == "sqlite":
        return store.lock_instance()
    return lock_all(url)


async def take_handover(pipeline, tick: float) -> CycleReport:
    """The core's cycle: passes while they come back full (a backlog), for about one tick at most,
    so that delivery, which follows, is never long behind."""
    started, outcomes = time.monotonic(), []
    while True:
        report = pipeline.take_handover()
        outcomes += report.outcomes
        if report.handed < handover.BATCH or time.monotonic() - started > tick:
            return CycleReport(outcomes, time.monotonic() - started, handed=report.handed)
        await asyncio.sleep(0)  # let Telegram's handlers and delivery run between passes


class LagCollector(Collector):
    """Read at scrape time: how long the oldest handed-over item has waited."""

    def __init__(self, lag: Callable[[], float | None]):
        self.lag = lag

    def collect(self):
        yield GaugeMetricFamily("wirewatch_core_lag_seconds", "Age of the oldest item handed over by a poller "
                                "and not processed by the core yet (0: none)", value=self.lag() or 0.0)
