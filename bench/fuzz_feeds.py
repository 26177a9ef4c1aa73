"""The long fuzz run: mutated feeds through the parse pool and normalize (tests/fuzzfeeds.py).

    python bench/fuzz_feeds.py --cases 5000 --seed 1 --corpus ../shared/data/feeds

Prints cases, how many yielded items, FeedError kinds, failures (with their tracebacks) and the
slowest case (wall seconds, both parses); CPU time of this process and of the parse workers.
Exit 1 when any case failed.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.ingest.parsepool import ParsePool  # noqa: E402
from tests.fuzzfeeds import Report, cases, run_case, seeds  # noqa: E402


async def fuzz(args: argparse.Namespace) -> Report:
    pool = ParsePool(timeout=args.timeout)
    report = Report()
    try:
        for case in cases(seeds(args.corpus, args.max_bytes), args.cases, seed=args.seed):
            await run_case(pool, case, report)
            if args.progress and report.cases % args.progress == 0:
                print(report.line(), file=sys.stderr, flush=True)
    finally:
        await pool.close()
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--corpus", type=Path, default=None, help="a directory of real feed files to mutate too")
    parser.add_argument("--max-bytes", type=int, default=None, help="only corpus files up to this size")
    parser.add_argument("--timeout", type=float, default=20.0, help="the parse deadline (polling.parse_timeout)")
    parser.add_argument("--progress", type=int, default=0, help="print a progress line every N cases")
    args = parser.parse_args()
    started = time.process_time()
    report = asyncio.run(fuzz(args))
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(report.line())
    print(f"CPU: this process {time.process_time() - started:.1f}s, parse workers {workers.ru_utime + workers.ru_stime:.1f}s")
    for timeout in report.timeouts:
        print("stopped at the deadline:", timeout)
    for failure in report.failures:
        print("\n" + failure)
    return 1 if report.failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
