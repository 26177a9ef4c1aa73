"""When to poll a feed next, and in what order a cycle's feeds go out: pure functions.

The interval starts from the feed's own (or the global) interval, is raised to what the server
or the feed asked for (Cache-Control max-age, RSS <ttl>), clamped to [min_interval, max_interval],
doubled per consecutive error, held at least as long as a Retry-After, and jittered so that
feeds added together do not keep polling in lockstep.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from itertools import zip_longest
from typing import TypeVar
from urllib.parse import urlsplit

from bot.config import PollingSettings

T = TypeVar("T")
_MAX_DOUBLINGS = 60  # 2**60 times any interval is far past any cap; avoids float overflow


def backoff_interval(error_count: int, base: float, cap: float) -> float:
    """base * 2**(error_count-1), at most cap; base itself when there is no error."""
    doublings = min(max(error_count - 1, 0), _MAX_DOUBLINGS)
    return min(base * 2.0**doublings, cap)


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(value, high))


def base_interval_for(base_interval: float, *, settings: PollingSettings, max_age: float | None,
                      ttl_minutes: int | None) -> float:
    """The healthy-feed interval: raised to the server's and the feed's hints, then clamped."""
    hints = [h for h in (max_age, ttl_minutes * 60.0 if ttl_minutes else None) if h]
    return _clamp(max([base_interval, *hints]), settings.min_interval, settings.max_interval)


def interval_for(base_interval: float, *, settings: PollingSettings, error_count: int,
                 max_age: float | None, retry_after: float | None, ttl_minutes: int | None,
                 rng: random.Random) -> float:
    """Seconds until the next poll, jitter included."""
    interval = base_interval_for(base_interval, settings=settings, max_age=max_age,
                                 ttl_minutes=ttl_minutes)
    if error_count > 0:
        interval = backoff_interval(error_count, interval, settings.max_interval)
    floor = settings.min_interval
    if retry_after is not None:
        floor = max(floor, min(retry_after, settings.max_interval))
    jittered = interval * rng.uniform(1.0 - settings.jitter, 1.0 + settings.jitter)
    return _clamp(jittered, floor, settings.max_interval)


def next_check_at(now: datetime, *, base_interval: float, settings: PollingSettings,
                  error_count: int, max_age: float | None, retry_after: float | None,
                  ttl_minutes: int | None, rng: random.Random) -> datetime:
    """When to poll the feed next (now + interval_for(...))."""
    seconds = interval_for(base_interval, settings=settings, error_count=error_count,
                           max_age=max_age, retry_after=retry_after, ttl_minutes=ttl_minutes,
                           rng=rng)
    return now + timedelta(seconds=seconds)


def host_turns(feeds: Sequence[T], url: Callable[[T], str]) -> list[T]:
    """The feeds in turns by host: every host's first feed, then every host's second, and so on
    (hosts in order of first appearance, a host's feeds in their order). Requests to one host then
    seldom overlap, so its first connection is reused rather than a second one opened beside it
    (a connection costs more CPU than a request, a TLS one far more), and no server gets a burst."""
    by_host: dict[str, list[T]] = {}
    for feed in feeds:
        by_host.setdefault(url_host(url(feed)), []).append(feed)
    return [f for turn in zip_longest(*by_host.values()) for f in turn if f is not None]


def url_host(url: str) -> str:
    """The URL's host, lower-cased; "" when it has none or does not parse (the fetch says why)."""
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""
