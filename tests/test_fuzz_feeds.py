"""The fuzz suite: a few hundred mutated feeds (fixed seed), each yields items or a FeedError within
its deadline (the parse pool's), and normalize never raises on what parsing returned. Seeds are the
project's fixtures, plus the real corpus (../shared/data/feeds) when present. The long run is
bench/fuzz_feeds.py."""

from __future__ import annotations

from pathlib import Path

from bot.ingest.parsepool import ParsePool
from tests.fuzzfeeds import Report, cases, run_case, seeds

CORPUS = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "feeds"
CASES = 300
SEED_BYTES = 100_000  # corpus files up to this size: the megabyte ones are for bench/fuzz_feeds.py


async def test_fuzzed_feeds_yield_items_or_a_feed_error() -> None:
    pool = ParsePool(timeout=20.0)
    report = Report()
    try:
        for case in cases(seeds(CORPUS if CORPUS.is_dir() else None, SEED_BYTES), CASES, seed=12):
            await run_case(pool, case, report)
    finally:
        await pool.close()
    assert report.cases == CASES
    assert report.failures == [], "\n\n".join(report.failures[:5])
    assert report.items and report.feed_errors.get("too_complex")  # the generator reaches both sides
    assert "parse_timeout" not in report.feed_errors, report.line()


def test_the_generator_is_deterministic() -> None:
    fixtures = seeds()
    first = [(c.seed, c.mutations, c.body) for c in cases(fixtures, 30, seed=5)]
    assert first == [(c.seed, c.mutations, c.body) for c in cases(fixtures, 30, seed=5)]
    assert {m for _, ms, _ in first for m in ms} >= {"truncate", "flip_bytes", "splice", "surrogates"}
