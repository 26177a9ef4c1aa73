"""Time parse_feed + normalize_entries on a changed feed of ~55 items (budget: <= 30 ms).

    python bench/bench_parse.py [--runs N] [--items N] [--content BYTES] [FEED_FILE ...]

Without files it times a generated RSS 2.0 feed shaped like a busy news feed (HTML descriptions,
tracking links, categories, authors), and the same feed with a full article of about --content
bytes of HTML (default 5000) in each item's content:encoded (the body). Files given on the
command line are timed the same way.
Prints the median and the 90th percentile of many runs in milliseconds.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import feedparser  # noqa: E402

from bot.ingest.normalize import normalize_entries  # noqa: E402
from bot.ingest.parse import parse_feed  # noqa: E402

BUDGET_MS = 30.0
_PLACES = [
    "al-Qaim",
    "Ramadi",
    "Fallujah",
    "Rutba",
    "Hit",
    "Haditha",
    "Anah",
    "Rawa",
    "Sinjar",
    "Mosul",
]


def _article(i: int, size: int) -> str:
    """About `size` bytes of article HTML: paragraphs, a link, an image, entities."""
    place = _PLACES[(i + 3) % len(_PLACES)]
    paragraph = (f"<p>Officials in {place} said the operation, the {i}th this year, took place before dawn; "
                 "residents reported &ldquo;heavy gunfire&rdquo; and <a href='https://wire.example/x'>drones</a> "
                 "overhead for several hours, while the provincial council called for calm &amp; patience.</p>")
    html = f"<figure><img src='https://wire.example/{i}.jpg' alt=''></figure>"
    while len(html) < size:
        html += paragraph
    return html


def _item(i: int, now: datetime, content: int = 0) -> str:
    place = _PLACES[i % len(_PLACES)]
    when = format_datetime(now - timedelta(minutes=17 * i))
    paragraph = (
        f"Security forces in {place} said on Monday that an operation backed by coalition aircraft "
        "targeted a hideout used by an ISIS cell, and that &lt;b&gt;several suspects&lt;/b&gt; "
        "were detained. Officials said the sweep would continue along the Euphrates valley. "
    )
    return f"""
    <item>
      <title>Operation near {place} targets ISIS cell &amp;amp; hideouts ({i})</title>
      <link>https://wire.example/news/{i}-operation-{place.lower()}?utm_source=rss&amp;utm_medium=feed&amp;id={i}</link>
      <guid isPermaLink="false">wire-{i:05d}</guid>
      <pubDate>{when}</pubDate>
      <dc:creator>Staff reporter</dc:creator>
      <category>Iraq</category><category>Security</category>
      <description>&lt;p&gt;{paragraph * 2}&lt;/p&gt;&lt;p&gt;&lt;a href="https://wire.example/news/{i}"&gt;Continue reading&lt;/a&gt;&lt;/p&gt;</description>
      {f"<content:encoded><![CDATA[{_article(i, content)}]]></content:encoded>" if content else ""}
    </item>"""


def generated_feed(items: int, now: datetime, content: int = 0) -> bytes:
    """An RSS 2.0 feed of `items` news items, about 1 KB each (plus `content` bytes of article)."""
    body = "".join(_item(i, now, content) for i in range(items))
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
        "<title>Benchmark Wire</title><link>https://wire.example/</link>"
        f"<description>bench</description><ttl>15</ttl>{body}</channel></rss>"
    ).encode()


def _feedparser_alone(body: bytes) -> None:
    feedparser.parse(
        io.BytesIO(body),
        sanitize_html=False,
        resolve_relative_uris=False,
        response_headers={"content-type": "application/xml"},
    )


def _ours(body: bytes, now: datetime) -> int:
    feed = parse_feed(body, url="https://wire.example/rss")
    return len(normalize_entries(feed, source="bench", feed_id=1, now=now))


def _cpu_ms(action) -> float:
    cpu = time.process_time()
    action()
    return (time.process_time() - cpu) * 1000


def report(label: str, body: bytes, runs: int) -> float:
    """Print medians for parse+normalize and, interleaved so both see the same machine load,
    for feedparser alone (the floor under parse_feed); return the parse+normalize CPU median."""
    now = datetime.now(UTC)
    count = _ours(body, now)  # warm caches and imports
    walls, cpus, floor = [], [], []
    for _ in range(runs):
        floor.append(_cpu_ms(lambda: _feedparser_alone(body)))
        wall = time.perf_counter()
        cpus.append(_cpu_ms(lambda: _ours(body, now)))
        walls.append((time.perf_counter() - wall) * 1000)
    median = statistics.median(cpus)
    print(
        f"{label}: {len(body) / 1024:.0f} KB, {count} items: parse+normalize median {median:.1f} ms CPU"
        f" ({statistics.median(walls):.1f} ms wall, best {min(walls):.1f});"
        f" feedparser alone {statistics.median(floor):.1f} ms CPU"
    )
    return median


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path, help="real feed files to time as well")
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--items", type=int, default=55)
    parser.add_argument("--content", type=int, default=5000, metavar="BYTES",
                        help="article HTML per item for the full-text feed (0: skip it)")
    args = parser.parse_args()
    generated = generated_feed(args.items, datetime.now(UTC))
    median = report(f"generated RSS ({args.items} items)", generated, args.runs)
    if args.content:
        full = generated_feed(args.items, datetime.now(UTC), args.content)
        median = max(median, report(f"generated RSS, {args.content}-byte content:encoded ({args.items} items)",
                                    full, args.runs))
    for path in args.files:
        report(str(path), path.read_bytes(), args.runs)
    verdict = "within" if median <= BUDGET_MS else "OVER"
    print(f"budget {BUDGET_MS:.0f} ms (CPU) for the generated feeds: {verdict}")
    return 0 if median <= BUDGET_MS else 1


if __name__ == "__main__":
    raise SystemExit(main())
