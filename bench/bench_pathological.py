"""Pathological XML, before and after bounded parsing (issue 12).

    python bench/bench_pathological.py [--cap 60]

before: feedparser on the document as parse_feed ran it before (in a child process, stopped at
--cap seconds: reported as "> cap"); after: parse_feed, which refuses it before feedparser
(FeedError too_complex). CPU seconds (user+sys), not wall time: the machine is shared.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.errors import FeedError  # noqa: E402
from bot.ingest.parse import parse_feed  # noqa: E402

HEAD = b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><item><title>x</title><link>https://x.example/1</link>'
TAIL = b"</item></channel></rss>"
BEFORE = """import io, sys, feedparser
body = sys.stdin.buffer.read()
feedparser.parse(io.BytesIO(body), response_headers={"content-type": "application/xml"}, sanitize_html=False,
                 resolve_relative_uris=False)
"""


def attributes(n: int) -> bytes:
    return HEAD + b"<category " + b" ".join(b'a%d="v"' % i for i in range(n)) + b">c</category>" + TAIL


def nested(n: int) -> bytes:
    return HEAD + b"<x>" * n + b"</x>" * n + TAIL


def before(body: bytes, cap: float) -> str:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    spent0 = usage.ru_utime + usage.ru_stime
    try:
        subprocess.run([sys.executable, "-c", BEFORE], input=body, timeout=cap, check=True)
    except subprocess.TimeoutExpired:
        return f"> {cap:g}"
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return f"{usage.ru_utime + usage.ru_stime - spent0:.2f}"


def after(body: bytes) -> tuple[str, str]:
    started = time.process_time()
    try:
        parse_feed(body, url="https://x.example/")
        outcome = "parsed"
    except FeedError as exc:
        outcome = str(exc)
    return f"{time.process_time() - started:.3f}", outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cap", type=float, default=60.0, help="seconds before the 'before' run is stopped")
    args = parser.parse_args()
    cases = [("10k attributes", attributes(10_000)), ("40k attributes", attributes(40_000)),
             ("100k attributes", attributes(100_000)), ("100k deep", nested(100_000))]
    print("| case | bytes | before: feedparser, CPU s | after: parse_feed, CPU s | after: outcome |")
    print("| --- | --- | --- | --- | --- |")
    for name, body in cases:
        spent, outcome = after(body)
        print(f"| {name} | {len(body):,} | {before(body, args.cap)} | {spent} | {outcome} |", flush=True)


if __name__ == "__main__":
    main()
