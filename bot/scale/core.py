"""What `run --role core` adds to the single process (bot/app.py): the lock a standby waits on,
the cycle over what the pollers handed over, the lag metric, and the pollers' feed failures for
the admin chat."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import select
from sqlalchemy.engine import Engine

from bot.pipeline import CycleReport, FeedOutcome
from bot.scale.locks import RoleLock, lock_all, lock_core
from bot.store import handover
from bot.store import schema as t
from bot.store.db import FeedRow, Store
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


class FeedWatch:
    """The pollers' fetch results as the core sees them, for the admin chat's "feed failing" and
    "feed recovered" notices (bot.tg.explain.feed_notices), which a single process draws from its
    own cycle: each call reads the feeds checked since the last one and says how each changed."""

    def __init__(self) -> None:
        self.errors: dict[int, int] | None = None  # error_count per feed as last seen
        self.since: datetime | None = None  # the latest last_checked_at seen (pollers' clocks, not ours)

    def outcomes(self, engine: Engine) -> list[FeedOutcome]:
        c = t.feeds.c
        query = select(*[c[f] for f in FeedRow.__dataclass_fields__]).where(c.active.is_(True))
        if self.since is not None:
            query = query.where(c.last_checked_at >= self.since)
        with engine.connect() as conn:
            rows = [FeedRow(**r._mapping) for r in conn.execute(query)]
        first, self.errors = self.errors is None, self.errors or {}
        out = []
        for row in rows:
            before = self.errors.get(row.id, 0)
            self.errors[row.id] = row.error_count
            if not first and row.error_count != before:
                status = "error" if row.error_count > before else (row.last_status or "new")
                out.append(FeedOutcome(replace(row, error_count=before), status, error=row.last_error))
        self.since = max((r.last_checked_at for r in rows if r.last_checked_at), default=self.since)
        return out
