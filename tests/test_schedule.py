"""Poll scheduling: tables for the interval rules, seeded randomness for the jitter."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.config import PollingSettings, parse_config
from bot.ingest.schedule import backoff_interval, host_turns, interval_for, next_check_at, url_host

MIN, MAX = 120.0, 21600.0


def polling(**overrides: object) -> PollingSettings:
    base = parse_config({}, Path("config.toml")).polling
    return replace(base, **{"interval": 900.0, "min_interval": MIN, "max_interval": MAX,
                            "jitter": 0.0, **overrides})


@pytest.mark.parametrize(("errors", "base", "cap", "expected"), [
    (0, 900, MAX, 900),
    (1, 900, MAX, 900),
    (2, 900, MAX, 1800),
    (3, 900, MAX, 3600),
    (5, 900, MAX, 14400),
    (6, 900, MAX, MAX),
    (10**6, 900, MAX, MAX),  # no overflow however long a feed has been failing
    (3, 10, 1e9, 40),
    (1, 50_000, MAX, MAX),
])
def test_backoff_interval(errors: int, base: float, cap: float, expected: float) -> None:
    assert backoff_interval(errors, base, cap) == expected


@pytest.mark.parametrize(("base", "errors", "max_age", "retry_after", "ttl", "expected"), [
    (900, 0, None, None, None, 900),
    (60, 0, None, None, None, MIN),  # clamped up
    (100_000, 0, None, None, None, MAX),  # clamped down
    (900, 0, 3600, None, None, 3600),  # server asks for longer
    (900, 0, 60, None, None, 900),  # a shorter max-age never speeds polling up
    (900, 0, 0, None, None, 900),
    (900, 0, None, None, 30, 1800),  # RSS <ttl> in minutes
    (900, 0, 1800, None, 60, 3600),  # the larger hint wins
    (900, 0, 1e9, None, None, MAX),
    (900, 0, None, None, 10_000, MAX),
    (900, 1, None, None, None, 900),  # first error: retry at the normal pace
    (900, 2, None, None, None, 1800),
    (900, 4, None, None, None, 7200),
    (900, 50, None, None, None, MAX),
    (900, 2, None, None, 60, 7200),  # backoff starts from the hinted interval
    (900, 1, None, 3000, None, 3000),  # Retry-After longer than the backoff
    (900, 3, None, 60, None, 3600),  # Retry-After shorter than the backoff
    (900, 1, None, 10**7, None, MAX),  # an absurd Retry-After is capped
    (60, 1, None, 0, None, MIN),
])
def test_interval_without_jitter(base: float, errors: int, max_age: float | None,
                                 retry_after: float | None, ttl: int | None, expected: float) -> None:
    got = interval_for(base, settings=polling(), error_count=errors, max_age=max_age,
                       retry_after=retry_after, ttl_minutes=ttl, rng=random.Random(0))
    assert got == expected


def _jittered(base: float, seeds: range, **kw: object) -> list[float]:
    options = {"error_count": 0, "max_age": None, "retry_after": None, "ttl_minutes": None, **kw}
    settings = polling(jitter=0.1)
    return [interval_for(base, settings=settings, rng=random.Random(s), **options) for s in seeds]


def test_jitter_spreads_feeds_within_bounds() -> None:
    values = _jittered(900, range(200))
    assert all(810 <= v <= 990 for v in values)
    assert max(values) - min(values) > 150  # spread over most of the +-10% band
    assert len(set(values)) == 200


def test_jitter_never_undercuts_retry_after_or_exceeds_cap() -> None:
    assert min(_jittered(900, range(200), error_count=1, retry_after=1000)) == 1000
    assert max(_jittered(MAX, range(200))) == MAX


def test_jitter_is_reproducible_with_a_seed() -> None:
    assert _jittered(900, range(5)) == _jittered(900, range(5))


def test_next_check_at_adds_the_interval() -> None:
    now = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    at = next_check_at(now, base_interval=900, settings=polling(), error_count=3, max_age=None,
                       retry_after=None, ttl_minutes=None, rng=random.Random(1))
    assert at == now + timedelta(seconds=3600)


@pytest.mark.parametrize(
    "urls, expected",
    [
        ([], []),
        (["http://a/1", "http://a/2", "http://a/3", "http://b/1", "http://c/1", "http://c/2"],
         ["http://a/1", "http://b/1", "http://c/1", "http://a/2", "http://c/2", "http://a/3"]),
        # one host: the order is kept
        (["https://a/3", "https://a/1", "https://a/2"], ["https://a/3", "https://a/1", "https://a/2"]),
        # the host is the host: case, port and scheme aside
        (["http://A.example/x", "https://a.example:8443/y", "http://b.example/z"],
         ["http://A.example/x", "http://b.example/z", "https://a.example:8443/y"]),
        # a URL that does not parse keeps its place among the hostless ones (its fetch says why)
        (["http://[bad/1", "not a url", "http://a/1"], ["http://[bad/1", "http://a/1", "not a url"]),
    ],
)
def test_host_turns(urls: list[str], expected: list[str]) -> None:
    assert host_turns(urls, lambda u: u) == expected


def test_url_host() -> None:
    assert [url_host(u) for u in ("http://Example.ORG:81/f", "feed", "http://[::1/")] == ["example.org", "", ""]
