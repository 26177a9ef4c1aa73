"""A feed fuzzer of our own: mutations of seed feed files (the project's fixtures, and the real
corpus when given) and a runner that checks each case yields items or a FeedError within its
deadline, and that normalize never raises on what parsing returned.

Used by tests/test_fuzz_feeds.py (a few hundred cases, fixed seed) and bench/fuzz_feeds.py (long).
"""

from __future__ import annotations

import random
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bot.errors import FeedError
from bot.ingest.normalize import guid_keys, normalize_entries
from bot.ingest.parsepool import ParsePool

FIXTURES = Path(__file__).parent / "fixtures" / "feeds"
NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)
_SURROGATES = (b"&#55357;&#56832;", b"&#xD83D;&#xDE00;", b"&#55357;", b"&#56832;", b"&#xdfff;x", b"&#56832;&#55357;")
_JSON_SURROGATES = (b"\\ud800", b"\\udc00", b"\\ud83d\\ude00", b"\\ude00\\ud83d")
_ENCODINGS = (b"undefined", b"punycode", b"idna", b"utf-\xff8", b"utf-8\x00", b"a" * 5000, b"bogus",
              b"utf-16", b"shift_jis", b"iso-2022-jp", b"unicode_escape", b"", b"ISO-8859-1\xa0", b"utf-7")
_EXTENSIONS = (
    b'<psc:chapters xmlns:psc="http://podlove.org/simple-chapters"><psc:chapter title="a"/></psc:chapters>',
    b'<gml:pos xmlns:gml="http://www.opengis.net/gml">1 2</gml:pos>',
    b'<georss:point xmlns:georss="http://www.georss.org/georss">x y</georss:point>',
    b'<media:content xmlns:media="http://search.yahoo.com/mrss/" url="%%"/>',
    b"<ttl>99999999999999999999999</ttl>", b"<pubDate>Mon, 99 Foo 99999 99:99:99 +9999</pubDate>",
    b"<![CDATA[", b"]]>", b"<!-- ", b"<!DOCTYPE rss [<!ENTITY a 'b'>]>", b"&a;", b"&nosuch;", b"\x00", b"\xff\xfe",
)


def seeds(corpus: Path | None = None, max_bytes: int | None = None) -> list[tuple[str, bytes]]:
    """(name, body) of the fixtures, then of the corpus files (sorted; those up to max_bytes)."""
    out = [(p.name, p.read_bytes()) for p in sorted(FIXTURES.iterdir()) if p.is_file()]
    if corpus is not None and corpus.is_dir():
        files = sorted(p for p in corpus.rglob("*") if p.is_file() and p.suffix not in (".tsv", ".txt")
                       and "LICENSE" not in p.name and (max_bytes is None or p.stat().st_size <= max_bytes))
        out += [(str(p.relative_to(corpus)), p.read_bytes()) for p in files]
    return out


# ---- mutations: each takes (rng, body, other seed's body) and returns new bytes -------------------


def _at(rng: random.Random, body: bytes) -> int:
    """A position, often just after a tag (inside text), where markup mutations bite."""
    at = rng.randrange(len(body) + 1)
    after_tag = body.find(b">", at) + 1
    return after_tag if after_tag and rng.random() < 0.7 else at


def truncate(rng, body, _other):
    return body[: rng.randrange(len(body) + 1)]


def flip_bytes(rng, body, _other):
    data = bytearray(body)
    for _ in range(rng.choice((1, 2, 5, 20))):
        if data:
            data[rng.randrange(len(data))] = rng.randrange(256)
    return bytes(data)


def splice(rng, body, other):
    return body[: rng.randrange(len(body) + 1)] + other[rng.randrange(len(other) + 1):]


def surrogates(rng, body, _other):
    pieces = _JSON_SURROGATES if body.lstrip()[:1] == b"{" else _SURROGATES
    for _ in range(rng.randint(1, 4)):
        at = body.find(b'"', rng.randrange(len(body) + 1)) + 1 if pieces is _JSON_SURROGATES else _at(rng, body)
        body = body[:at] + rng.choice(pieces) + body[at:]
    return body


def odd_encoding(rng, body, _other):
    name = rng.choice(_ENCODINGS)
    head = b'<?xml version="1.0" encoding="' + name + b'"?>'
    if body.startswith(b"<?xml"):
        return head + body[body.find(b"?>") + 2 :]
    if rng.random() < 0.3:
        try:
            return body.decode("utf-8").encode(rng.choice(("utf-16", "utf-16-be", "utf-32", "cp037")))
        except (UnicodeError, LookupError):
            pass
    return head + body


def depth(rng, body, _other):
    n = rng.choice((50, 500, 999, 1001, 5000, 100_000))
    at = _at(rng, body)
    closing = b"</x>" * n if rng.random() < 0.5 else b""
    return body[:at] + b"<x>" * n + closing + body[at:]


def attributes(rng, body, _other):
    n = rng.choice((10, 300, 1000, 1001, 10_000, 40_000))
    attrs = b" ".join(b'a%d="v"' % i for i in range(n))
    at = _at(rng, body)
    return body[:at] + b"<category " + attrs + b">c</category>" + body[at:]


def extension(rng, body, _other):
    at = _at(rng, body)
    return body[:at] + rng.choice(_EXTENSIONS) + body[at:]


MUTATIONS: tuple[Callable, ...] = (truncate, flip_bytes, splice, surrogates, odd_encoding, depth, attributes,
                                   extension)


@dataclass(frozen=True)
class Case:
    index: int
    seed: str
    mutations: tuple[str, ...]
    body: bytes


def cases(seed_files: Sequence[tuple[str, bytes]], count: int, seed: int = 12) -> Iterator[Case]:
    """`count` mutated documents, the same for the same seeds and seed: 1-3 mutations each."""
    rng = random.Random(seed)
    for index in range(count):
        name, body = rng.choice(seed_files)
        applied = []
        for _ in range(rng.choice((1, 1, 2, 3))):
            mutate = rng.choice(MUTATIONS)
            body = mutate(rng, body, rng.choice(seed_files)[1]) or b" "
            applied.append(mutate.__name__)
        yield Case(index, name, tuple(applied), body)


# ---- running them -------------------------------------------------------------------------------


@dataclass
class Report:
    cases: int = 0
    items: int = 0  # cases that yielded at least one item
    feed_errors: dict[str, int] = field(default_factory=dict)  # by kind
    failures: list[str] = field(default_factory=list)
    timeouts: list[str] = field(default_factory=list)  # cases stopped at the deadline
    slowest: tuple[float, str] = (0.0, "")

    def line(self) -> str:
        return (f"{self.cases} cases: {self.items} with items, feed errors {dict(sorted(self.feed_errors.items()))}, "
                f"failures {len(self.failures)}, slowest {self.slowest[0]:.2f}s wall ({self.slowest[1]})")


async def run_case(pool: ParsePool, case: Case, report: Report) -> None:
    """Both parsers (fast path, then feedparser alone); normalize what either returns."""
    for fast in (True, False):
        started = time.monotonic()
        try:
            feed = await pool.parse(case.body, url="https://fuzz.example/feed", fast=fast)
            items = normalize_entries(feed, source="fuzz", feed_id=1, now=NOW)
            guid_keys(feed, 1)
            for item in items:
                (item.title + item.summary + (item.url or "") + item.key + (item.guid or "")).encode("utf-8")
            report.items += bool(items) and fast
        except FeedError as exc:
            where = f"case {case.index} ({case.seed}, {case.mutations}, fast={fast})"
            if exc.kind == "parse_crash":
                report.failures.append(f"{where}: {exc}")
            elif exc.kind == "parse_timeout":
                report.timeouts.append(where)
            report.feed_errors[exc.kind] = report.feed_errors.get(exc.kind, 0) + 1
        except Exception:  # noqa: BLE001 - that is what the fuzzer looks for
            report.failures.append(f"case {case.index} ({case.seed}, {case.mutations}, fast={fast}):\n"
                                   + traceback.format_exc())
        spent = time.monotonic() - started
        if spent > report.slowest[0]:
            report.slowest = (spent, f"case {case.index}: {case.seed} {'+'.join(case.mutations)} fast={fast}")
    report.cases += 1
