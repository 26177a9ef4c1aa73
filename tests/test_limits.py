"""Pathological XML is refused before feedparser, and no real feed is."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.errors import FeedError
from bot.ingest.limits import XmlLimits, check_xml_limits
from bot.ingest.parse import parse_feed

CORPUS = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "feeds"
ITEM = "<item><title>x</title><link>https://x.example/1</link></item>"


def rss(inner: str, head: str = "") -> bytes:
    return f'<?xml version="1.0"?>{head}<rss version="2.0"><channel><title>T</title>{inner}</channel></rss>'.encode()


def attributes(n: int) -> bytes:
    attrs = " ".join(f'a{i}="v"' for i in range(n))
    return rss(f"<item><title>x</title><link>https://x.example/1</link><category {attrs}>c</category></item>")


def nested(depth: int, close: bool = True) -> bytes:
    return rss(ITEM + "<x>" * depth + ("</x>" * depth if close else ""))


def entities(n: int) -> bytes:
    decls = "".join(f'<!ENTITY e{i} "v">' for i in range(n))
    return rss(ITEM, head=f"<!DOCTYPE rss [{decls}]>")


LIMITS = XmlLimits()


@pytest.mark.parametrize(("body", "message"), [
    (attributes(LIMITS.attributes + 1), "attributes on one element: 1001 at line 1"),
    (nested(LIMITS.depth + 1), "nesting depth 1001"),
    (nested(100_000, close=False), "nesting depth 1001"),  # malformed: the tag scan finds it
    (entities(LIMITS.entities + 1), "101 entity declarations"),
    (attributes(100_000)[:-30], "attributes on one element: 100000"),  # cut short after it
], ids=["attributes", "depth", "depth-unclosed", "entities", "attributes-truncated"])
def test_pathological_xml_is_refused(body: bytes, message: str) -> None:
    with pytest.raises(FeedError) as caught:
        parse_feed(body)
    assert caught.value.kind == "too_complex"
    assert message in caught.value.message


@pytest.mark.parametrize("body", [attributes(LIMITS.attributes), nested(LIMITS.depth - 3), entities(LIMITS.entities)],
                         ids=["attributes", "depth", "entities"])
def test_at_the_limit_is_parsed(body: bytes) -> None:
    assert len(parse_feed(body).entries) == 1


def test_a_multibyte_encoding_expat_lacks_is_scanned() -> None:
    body = rss(ITEM).replace(b'version="1.0"?>', b'version="1.0" encoding="shift_jis"?>')
    shape = check_xml_limits(body)
    assert shape.scanned and shape.depth == 4


def corpus_files() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    return sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.suffix not in (".tsv", ".txt", ".json")
                  and "LICENSE" not in p.name)


@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/data/feeds (the real feed corpus) is absent")
def test_no_real_feed_is_refused() -> None:
    """Every corpus file passes, with room: its shape stays under a tenth of each limit."""
    tenth = XmlLimits(LIMITS.attributes // 10, LIMITS.depth // 10, LIMITS.entities // 10)
    files = corpus_files()
    assert len(files) > 200
    for path in files:
        check_xml_limits(path.read_bytes(), tenth)  # raises FeedError naming the file's problem
