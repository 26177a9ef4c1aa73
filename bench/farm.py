"""A loopback feed farm for benchmarks: N feeds on many 127.x.y.z hosts, served by aiohttp in a
separate process so its CPU never counts against the client being measured.

Feeds are built from the well-formed, news-sized (1-100 entries) real feed files in
../shared/data/feeds (a generated item is
spliced in before the first <item>/<entry>, kept only where feedparser then sees one more entry,
without complaint, and every entry has an id or a link, as reader requires) and from
generated news-like RSS 2.0, Atom and JSON feeds whose text comes from the AG News and UCI News
corpora in ../shared/data. Most feeds send ETag and Last-Modified and answer conditional requests
with 304; some send only one validator, some none (identical 200 bodies); some are slow; some fail
(500, 404, 503 with Retry-After, an HTML page, a body that is not a feed).

    with FarmProcess(FarmSpec(feeds=1000)) as farm:
        farm.urls                     # feed URLs, in feed order
        farm.advance(0.1)             # 10% of the healthy feeds gain 1-3 new items
        farm.stats(reset=True)        # requests by answer since the last reset
        farm.served()                 # when each change was first fetched

    python bench/farm.py --feeds 1000    # serve until Ctrl-C (prints the control URL)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import hashlib
import io
import itertools
import json
import multiprocessing as mp
import queue
import random
import re
import time
import urllib.request
import zlib
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path
from xml.sax.saxutils import escape

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
FAILURES = ("500", "404", "503", "html", "junk")
_SPLICE = (b"<item>", b"<item ", b"<entry>", b"<entry ")


@dataclass(frozen=True)
class FarmSpec:
    """Shape of the farm; the same spec and seed give the same farm and the same changes."""

    feeds: int = 1000
    seed: int = 1
    items: int = 25  # items in a generated feed (a rolling window)
    real: float = 0.3  # share of feeds built from real feed files
    failing: float = 0.02
    slow: float = 0.02
    slow_delay: tuple[float, float] = (0.5, 2.0)
    no_validators: float = 0.1  # identical 200 bodies every time
    one_validator: float = 0.1  # half ETag only, half Last-Modified only
    feeds_per_host: int = 5
    backdate: float = 0.0  # hours added to the age of the initial items (25+: a silent first cycle)
    data: Path = DATA


@dataclass
class Feed:
    """One feed's behaviour and its current response."""

    id: int
    kind: str  # rss | atom | json | real
    behaviour: str  # ok | slow | fail:<kind>
    validators: str  # both | etag | lm | none
    delay: float = 0.0
    template: tuple[bytes, bytes, str] | None = None  # (head, tail, rss|atom) of a real file
    items: deque = field(default_factory=deque)  # newest first: (serial, title, summary, unix time)
    body: bytes = b""
    etag: str | None = None
    modified: float = 0.0
    version: int = 0  # bumped by every change
    served: int = 0  # the last version sent in full


# ---- building feeds -------------------------------------------------------------------------


def news_texts(data: Path) -> list[tuple[str, str]]:
    """(title, summary) pairs: AG News headlines with descriptions, UCI News headlines alone."""
    out = []
    for path, key in ((data / "topics/agnews-dev.jsonl", "summary"), (data / "stories/uci-news-dev.jsonl", None)):
        with path.open(encoding="utf-8") as lines:
            out += [(d["title"], d.get(key, "") if key else "") for d in map(json.loads, lines)]
    random.Random(0).shuffle(out)
    return out


_NAMEABLE = re.compile(r"\b(?:[A-Z][A-Za-z]+|\d+)\b")
_SYLLABLES = "ka ra mu sa di ba ha ti ja qa lo fa zu ne ur am il ya".split()


class NewsStream:
    """News-like (title, summary) pairs without end: the corpus texts once as they are, then each
    round again as other events of the same shape. A later round swaps names (capitalized words
    that are not function words), numbers and years for others (the same swap throughout an item),
    so round k of a text shares its common words with round 0 but not its names: a different event
    on the same subject, not a copy. The corpora hold ~7k texts; without this, a history of 100k
    items would be mostly repeats."""

    def __init__(self, data: Path, names: int = 5000):
        from bot.stories.features import STOPWORDS

        rng = random.Random(3)
        self.texts = news_texts(data)
        self.names = sorted({"".join(rng.choices(_SYLLABLES, k=rng.randint(2, 4))).title() for _ in range(names)})
        self.keep = STOPWORDS  # "The", "In", "After": capitalized at a sentence start, not names

    def __getitem__(self, n: int) -> tuple[str, str]:
        title, summary = self.texts[n % len(self.texts)]
        rnd = n // len(self.texts)
        return (self._retell(title, rnd), self._retell(summary, rnd)) if rnd else (title, summary)

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return map(self.__getitem__, itertools.count())

    def _retell(self, text: str, rnd: int) -> str:
        def swap(m: re.Match[str]) -> str:
            word, h = m[0], zlib.crc32(f"{m[0]}/{rnd}".encode())
            if word.lower() in self.keep:
                return word
            if word.isdigit():
                return str(1980 + h % 46) if len(word) == 4 and word[:2] in ("19", "20") else str(h % 997)
            return self.names[h % len(self.names)]
        return _NAMEABLE.sub(swap, text)


def real_templates(data: Path) -> list[tuple[bytes, bytes, str]]:
    """Real feed files split where a generated item can go, checked with feedparser."""
    import feedparser

    out = []
    with (data / "feeds/CATALOGUE.tsv").open(encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f, delimiter="\t") if 0 < int(r["entries"] or 0) <= 100 and r["bozo"] == "0"]
    for row in rows:
        body = (data / "feeds" / row["path"]).read_bytes()
        at = min((i for i in (body.find(m) for m in _SPLICE) if i >= 0), default=-1)
        if at < 0:
            continue
        kind = "atom" if body[at:at + 6] == b"<entry" else "rss"
        probe = body[:at] + _item_xml(kind, 0, 0, ("probe", "probe"), time.time()) + body[at:]
        parsed = feedparser.parse(io.BytesIO(probe), sanitize_html=False, resolve_relative_uris=False)
        identified = all(e.get("id") or e.get("link") for e in parsed.entries)  # reader needs one
        if identified and len(parsed.entries) == int(row["entries"]) + 1 and not parsed.bozo:
            out.append((body[:at], body[at:], kind))
    return out


def _link(feed: int, serial: int) -> str:
    return f"https://news{feed % 97}.example/{feed}/story-{serial}"


def _ascii(text: str) -> str:
    """XML text that survives any ASCII-compatible file encoding: non-ASCII as character refs."""
    return escape(text).encode("ascii", "xmlcharrefreplace").decode()


def _item_xml(kind: str, feed: int, serial: int, text: tuple[str, str], when: float) -> bytes:
    title, summary = map(_ascii, text)
    guid, link = f"farm-{feed}-{serial}", _link(feed, serial)
    if kind == "atom":
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(when))
        return (f'<entry><title>{title}</title><link rel="alternate" href="{link}"/><id>{guid}</id>'
                f"<updated>{stamp}</updated><summary>{summary}</summary></entry>\n").encode()
    stamp = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(when))
    return (f'<item><title>{title}</title><link>{link}</link><guid isPermaLink="false">{guid}</guid>'
            f"<pubDate>{stamp}</pubDate><description>{summary}</description></item>\n").encode()


def render(feed: Feed) -> bytes:
    """The feed's body from its current items."""
    rows = [(serial, (title, summary), when) for serial, title, summary, when in feed.items]
    if feed.kind == "json":
        items = [{"id": f"farm-{feed.id}-{s}", "url": _link(feed.id, s), "title": t[0], "content_html": t[1],
                  "date_published": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(w))} for s, t, w in rows]
        doc = {"version": "https://jsonfeed.org/version/1.1", "title": f"Farm {feed.id}",
               "home_page_url": f"https://news{feed.id % 97}.example/", "items": items}
        return json.dumps(doc, ensure_ascii=False).encode()
    kind = feed.template[2] if feed.template else feed.kind
    body = b"".join(_item_xml(kind, feed.id, s, t, w) for s, t, w in rows)
    if feed.template:
        return feed.template[0] + body + feed.template[1]
    if kind == "atom":
        return (b'<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
                b"<title>Farm %d</title><id>urn:farm:%d</id><updated>2024-01-01T00:00:00Z</updated>\n%s</feed>"
                % (feed.id, feed.id, body))
    return (b'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel><title>Farm %d</title>'
            b"<link>https://news%d.example/</link><description>farm</description>\n%s</channel></rss>"
            % (feed.id, feed.id % 97, body))


class Farm:
    """The farm's state: feeds, the text supply, and what changed when."""

    def __init__(self, spec: FarmSpec):
        self.spec, self.rng = spec, random.Random(spec.seed)
        self.texts = iter(NewsStream(spec.data))
        self.serial = itertools.count(1)
        templates = real_templates(spec.data)
        self.feeds = [self._feed(i, templates) for i in range(spec.feeds)]
        self.healthy = [f for f in self.feeds if not f.behaviour.startswith("fail")]
        self.cycle = 0
        self.counts: Counter[str] = Counter()
        self.first_served: list[tuple[int, int, float]] = []  # (feed, version, time) of each change's first 200

    def _feed(self, i: int, templates: list) -> Feed:
        s, r = self.spec, self.rng
        u, v = r.random(), r.random()
        behaviour = f"fail:{FAILURES[i % len(FAILURES)]}" if u < s.failing else "slow" if u < s.failing + s.slow else "ok"
        validators = "none" if v < s.no_validators else "both" if v >= s.no_validators + s.one_validator else r.choice(("etag", "lm"))
        real = r.random() < s.real
        kind = "real" if real else r.choices(("rss", "atom", "json"), (70, 20, 10))[0]
        feed = Feed(i, kind, behaviour, validators, r.uniform(*s.slow_delay) if behaviour == "slow" else 0.0,
                    template=templates[i % len(templates)] if real else None)
        count, now = (r.randint(0, 3) if real else s.items), time.time() - s.backdate * 3600
        feed.items.extend((next(self.serial), *next(self.texts), now - k * r.uniform(600, 7200)) for k in range(count))
        self._publish(feed, now)
        return feed

    def _publish(self, feed: Feed, now: float) -> None:
        feed.version += 1
        feed.body = render(feed)
        feed.etag = f'"{hashlib.sha1(feed.body).hexdigest()[:16]}"'
        feed.modified = max(float(int(now)), feed.modified + 1)  # strictly later, to the second

    def advance(self, share: float, detail: bool = False) -> dict:
        """A share of the healthy feeds gains 1-3 new items each (the oldest drop off)."""
        self.cycle += 1
        rng, now = random.Random(self.spec.seed * 1000 + self.cycle), time.time()
        chosen = rng.sample(self.healthy, round(share * len(self.healthy)))
        new = []
        for feed in chosen:
            for _ in range(rng.randint(1, 3)):
                serial, (title, summary) = next(self.serial), next(self.texts)
                feed.items.appendleft((serial, title, summary, now))
                new.append({"feed": feed.id, "guid": f"farm-{feed.id}-{serial}", "url": _link(feed.id, serial),
                            "title": title, "at": now, "version": feed.version + 1})
            while len(feed.items) > (10 if feed.template else self.spec.items):
                feed.items.pop()
            self._publish(feed, now)
        return {"cycle": self.cycle, "feeds": len(chosen), "items": len(new), "new": new if detail else []}

    def answer(self, feed: Feed, headers) -> tuple[int, dict[str, str], bytes]:
        """(status, headers, body) for one GET of this feed."""
        if feed.behaviour.startswith("fail:"):
            return _failure(feed.behaviour[5:])
        out = {"Content-Type": "application/feed+json" if feed.kind == "json" else "application/xml"}
        if feed.validators in ("both", "etag"):
            out["ETag"] = feed.etag
        if feed.validators in ("both", "lm"):
            out["Last-Modified"] = format_datetime_utc(feed.modified)
        if _fresh(headers, out.get("ETag"), feed.modified if "Last-Modified" in out else None):
            return 304, out, b""
        if feed.served < feed.version:
            feed.served = feed.version
            self.first_served.append((feed.id, feed.version, time.time()))
        return 200, out, feed.body


def format_datetime_utc(when: float) -> str:
    return time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(when))


def _fresh(headers, etag: str | None, modified: float | None) -> bool:
    """Conditional GET: If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2)."""
    tags = headers.get("If-None-Match")
    if tags is not None:
        return etag is not None and any(t.strip().removeprefix("W/") == etag for t in tags.split(","))
    since = headers.get("If-Modified-Since")
    if not since or modified is None:
        return False
    try:
        return modified <= parsedate_to_datetime(since).timestamp()
    except (TypeError, ValueError, IndexError):
        return False


def _failure(kind: str) -> tuple[int, dict[str, str], bytes]:
    if kind == "html":
        return 200, {"Content-Type": "text/html"}, b"<!doctype html><html><body>moved</body></html>"
    if kind == "junk":
        return 200, {"Content-Type": "application/xml"}, b"this is not a feed\n" * 20
    if kind == "503":
        return 503, {"Retry-After": "120"}, b"busy"
    return int(kind), {}, b"error"


# ---- serving ----------------------------------------------------------------------------------


def host_of(spec: FarmSpec, feed: int) -> str:
    h = feed // spec.feeds_per_host
    return f"127.1.{h // 250}.{h % 250 + 1}"


async def serve(spec: FarmSpec, ready: mp.Queue | None = None) -> None:
    """Serve the farm until GET /_farm/stop; the control port goes to `ready`."""
    from aiohttp import web

    farm, stop = Farm(spec), asyncio.Event()

    async def feed(request: web.Request) -> web.Response:
        f = farm.feeds[int(request.match_info["id"])]
        if f.delay:
            await asyncio.sleep(f.delay)
        status, headers, body = farm.answer(f, request.headers)
        farm.counts[f"{status}" if status != 200 else f"200:{f.behaviour}"] += 1
        return web.Response(status=status, headers=headers, body=body)

    async def control(request: web.Request) -> web.Response:
        what, q = request.match_info["what"], request.query
        if what == "advance":
            return web.json_response(farm.advance(float(q.get("share", 0.1)), q.get("detail") == "1"))
        if what == "stats":
            out = dict(farm.counts)
            if q.get("reset") == "1":
                farm.counts.clear()
            return web.json_response(out)
        if what == "served":
            return web.json_response(farm.first_served)
        if what == "urls":
            return web.json_response([f"http://{host_of(spec, f.id)}:{request.url.port}/feed/{f.id}" for f in farm.feeds])
        stop.set()
        return web.json_response({})

    app = web.Application()
    app.router.add_get("/feed/{id}", feed)
    app.router.add_get("/_farm/{what}", control)
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=0.2)
    await runner.setup()
    first = web.TCPSite(runner, "127.0.0.1", 0)
    await first.start()
    port = runner.addresses[0][1]
    for host in sorted({host_of(spec, i) for i in range(spec.feeds)}):
        await web.TCPSite(runner, host, port, backlog=1024).start()
    if ready is not None:
        ready.put(port)
    else:
        print(f"farm of {spec.feeds} feeds: control http://127.0.0.1:{port}/_farm/(advance|stats|urls|stop)")
    await stop.wait()
    await runner.cleanup()


def _serve_process(spec: FarmSpec, ready: mp.Queue) -> None:
    asyncio.run(serve(spec, ready))


class FarmProcess:
    """The farm in a child process, controlled over loopback HTTP."""

    def __init__(self, spec: FarmSpec):
        self.spec = spec
        self.port = 0
        self.urls: list[str] = []

    def __enter__(self) -> FarmProcess:
        ctx = mp.get_context("spawn")
        ready = ctx.Queue()
        self.process = ctx.Process(target=_serve_process, args=(self.spec, ready), daemon=True)
        self.process.start()
        while not self.port:
            try:
                self.port = ready.get(timeout=1)
            except queue.Empty:
                if not self.process.is_alive():
                    raise RuntimeError(f"the farm process exited with {self.process.exitcode}") from None
        self.urls = self._get("urls")
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(OSError):
            self._get("stop")
        self.process.join(timeout=10)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(timeout=5)

    def _get(self, what: str, **query: object):
        qs = "&".join(f"{k}={v}" for k, v in query.items())
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/_farm/{what}?{qs}", timeout=120) as r:
            return json.loads(r.read())

    def advance(self, share: float, detail: bool = False) -> dict:
        return self._get("advance", share=share, detail=int(detail))

    def stats(self, reset: bool = False) -> dict[str, int]:
        return self._get("stats", reset=int(reset))

    def served(self) -> list[tuple[int, int, float]]:
        """(feed, version, time) of the first full answer after each change."""
        return [tuple(row) for row in self._get("served")]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--feeds", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    asyncio.run(serve(FarmSpec(feeds=args.feeds, seed=args.seed)))


if __name__ == "__main__":
    main()
