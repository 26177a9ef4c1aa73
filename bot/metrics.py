"""Prometheus metrics and /healthz, served on `[metrics] listen` (off by default; the server is
bot/metrics_server.py, imported only when it listens).

Counters and histograms are fed by the app as it works (cycles, fetches, story decisions,
retrains, Telegram errors); what the database knows (feeds by status, the outbox) is read when
Prometheus scrapes. Everything lives in the CollectorRegistry given, never the global one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from bot.models import FetchResult, StoryDecision
from bot.store.db import Store

HEALTHY_INTERVALS = 3  # /healthz is 503 once no cycle finished for this many poll intervals


class Metrics:
    def __init__(self, registry: CollectorRegistry):
        self.registry = registry

        def counter(name: str, doc: str, labels: tuple[str, ...] = ()) -> Counter:
            return Counter(name, doc, labels, registry=registry)

        self.fetches = counter("wirewatch_fetches", "Feed fetches by result", ("result",))
        self.fetch_seconds = Histogram("wirewatch_fetch_duration_seconds", "Time of one feed fetch",
                                       buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30), registry=registry)
        self.items_new = counter("wirewatch_items_new", "New items stored")
        self.story_decisions = counter("wirewatch_story_decisions", "Story decisions by kind", ("kind",))
        self.telegram_errors = counter("wirewatch_telegram_errors", "Telegram delivery errors by kind", ("kind",))
        self.retrains = counter("wirewatch_classifier_retrains", "Classifier retraining runs")
        self.cycle_seconds = Histogram("wirewatch_cycle_duration_seconds", "Time of one poll cycle",
                                       buckets=(0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300), registry=registry)
        self.last_cycle = Gauge("wirewatch_last_cycle_end_timestamp_seconds", "When the last poll cycle ended",
                                registry=registry)

    def fetched(self, result: FetchResult, seconds: float) -> None:
        self.fetches.labels(result.status.value).inc()
        self.fetch_seconds.observe(seconds)

    def decided(self, decision: StoryDecision) -> None:
        self.story_decisions.labels(decision.action.value).inc()

    def cycle_done(self, seconds: float, new_items: int, at: datetime) -> None:
        self.cycle_seconds.observe(seconds)
        self.items_new.inc(new_items)
        self.last_cycle.set(at.timestamp())

    def watch_store(self, store: Store, clock: Callable[[], datetime]) -> None:
        self.registry.register(StoreCollector(store, clock))


class StoreCollector(Collector):
    """Read at scrape time: feeds by status, outbox rows by sink and status, oldest pending age."""

    def __init__(self, store: Store, clock: Callable[[], datetime]):
        self.store, self.clock = store, clock

    def collect(self):
        health = self.store.health(self.clock())
        feeds = GaugeMetricFamily("wirewatch_feeds", "Active feeds by last fetch status", labels=["status"])
        for status, n in sorted(health["feeds"].items()):
            feeds.add_metric([status], n)
        rows = GaugeMetricFamily("wirewatch_outbox_rows", "Alert rows in the outbox by sink and outcome",
                                 labels=["sink", "outcome"])
        for (sink, status), n in sorted(health["outbox"].items()):
            rows.add_metric([sink, status], n)
        yield feeds
        yield rows
        yield GaugeMetricFamily("wirewatch_outbox_depth", "Outbox rows waiting to be sent", value=health["pending"])
        yield GaugeMetricFamily("wirewatch_outbox_oldest_pending_age_seconds",
                                "Age of the oldest row waiting to be sent (0: none)", value=health["oldest_pending_age"])


def health(last_cycle_end: datetime | None, started: datetime, now: datetime, interval: float) -> tuple[bool, str]:
    """Healthy while a poll cycle ended within HEALTHY_INTERVALS intervals (or the app just started)."""
    limit = HEALTHY_INTERVALS * interval
    if last_cycle_end is None:
        age = (now - started).total_seconds()
        if age <= limit:
            return True, f"starting: no poll cycle finished yet ({age:.0f}s since start)"
        return False, f"no poll cycle finished in the {age:.0f}s since start (limit {limit:.0f}s)"
    age = (now - last_cycle_end).total_seconds()
    if age <= limit:
        return True, f"ok: last poll cycle ended {age:.0f}s ago"
    return False, f"last poll cycle ended {age:.0f}s ago, more than {HEALTHY_INTERVALS} poll intervals ({limit:.0f}s)"


class TimedFetcher:
    """The fetcher, counting each fetch's result and time (the pipeline is unchanged)."""

    def __init__(self, fetcher, metrics: Metrics):
        self._fetcher, self._metrics = fetcher, metrics

    async def fetch(self, feed):
        started = time.perf_counter()
        result = await self._fetcher.fetch(feed)
        self._metrics.fetched(result, time.perf_counter() - started)
        return result

    def __getattr__(self, name: str):
        return getattr(self._fetcher, name)


class CountedClusterer:
    """The story clusterer, counting each decision by kind."""

    def __init__(self, clusterer, metrics: Metrics):
        self._clusterer, self._metrics = clusterer, metrics

    def assign(self, item, now=None):
        decision = self._clusterer.assign(item, now)
        self._metrics.decided(decision)
        return decision

    def __getattr__(self, name: str):
        return getattr(self._clusterer, name)
