"""Article extraction for full_text feeds: CPU per page and the share of pages where text was found.

    python bench/bench_fulltext.py [--runs N] [PAGE.html ...]

Without pages it reads tests/fixtures/articles/*.html (three articles: news, blog post with
comments, Arabic; two pages without one: a paywall stub and a section index). A page "hits" when
extract_text returns text (at least MIN_TEXT characters); for the fixtures the expected answer is
known, so misses and false hits are printed too. Extraction runs in a worker thread in the bot;
here it runs inline and is timed with time.process_time (the machine is shared).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.ingest.fulltext import extract_text  # noqa: E402

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "articles"
NO_ARTICLE = {"paywall-stub.html", "section-index.html"}  # fixtures where nothing should be found


def measure(path: Path, runs: int) -> tuple[float, int]:
    page = path.read_bytes()
    extract_text(page, "https://example.org/a")  # warm: imports, lxml, trafilatura's caches
    cpu = []
    for _ in range(runs):
        start = time.process_time()
        text = extract_text(page, "https://example.org/a")
        cpu.append((time.process_time() - start) * 1000)
    return statistics.median(cpu), len(text)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("pages", nargs="*", type=Path)
    ap.add_argument("--runs", type=int, default=20)
    args = ap.parse_args()
    pages = args.pages or sorted(FIXTURES.glob("*.html"))
    hits, times = 0, []
    for path in pages:
        ms, chars = measure(path, args.runs)
        times.append(ms)
        hits += chars > 0
        expected = "" if args.pages else ("  (expected none)" if path.name in NO_ARTICLE else "  (expected text)")
        print(f"{path.name}: {path.stat().st_size / 1024:.1f} KB, {ms:.1f} ms CPU, {chars} chars extracted{expected}")
    print(f"{len(pages)} pages: median {statistics.median(times):.1f} ms CPU per page, max {max(times):.1f}; "
          f"text found on {hits}/{len(pages)} ({hits / len(pages):.0%})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
