"""Refuse pathological XML cheaply, before feedparser sees it. Pure.

feedparser's SAX handlers are quadratic in the attributes of one element (10k attributes: 2.5 s,
40k: 34 s) and slow on deep nesting (100k levels: ~10 s), far under the size cap. One expat pass
(C, linear; a Python call per element only) measures the document; a body that expat cannot
read to the end is measured by a tag scan instead, since feedparser's loose parser reads it anyway.

The limits are 100x and more above anything in the real feed corpus (../shared/data/feeds: at most
10 attributes on one element, depth 14 in a real feed (51 in a gzip file read as tags), no entity
declaration; tests/test_limits.py checks that no corpus file is refused) and far below where
feedparser gets slow (1,000 attributes: ~25 ms).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from xml.parsers import expat

from bot.errors import FeedError


@dataclass(frozen=True)
class XmlLimits:
    attributes: int = 1000  # on one element
    depth: int = 1000  # elements open at once
    entities: int = 100  # <!ENTITY declarations


@dataclass
class XmlShape:
    """What check_xml_limits measures: the most attributes on one element, the deepest nesting."""

    attributes: int = 0
    depth: int = 0
    entities: int = 0
    scanned: bool = False  # measured by the tag scan (expat stopped early)


_TAG = re.compile(rb"<(/?)[A-Za-z_][^<>]*>")
_ATTRIBUTE = re.compile(rb"""[^\s=<>/"']+\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>"']+)""")


def check_xml_limits(body: bytes, limits: XmlLimits = XmlLimits()) -> XmlShape:
    """The document's shape; FeedError('too_complex', what and where) when it passes a limit."""
    shape = XmlShape(entities=body.count(b"<!ENTITY"))
    if shape.entities > limits.entities:
        raise FeedError("too_complex", f"{shape.entities} entity declarations (limit {limits.entities})")
    try:
        _expat_shape(body, shape, limits)
    except (expat.ExpatError, ValueError, LookupError):  # malformed, or an encoding expat lacks
        shape.attributes = shape.depth = 0
        shape.scanned = True
        _scan_shape(body, shape, limits)
    return shape


def _refuse(what: str, count: int, limit: int, line: int | None = None) -> FeedError:
    where = f" at line {line}" if line else ""
    return FeedError("too_complex", f"{what} {count}{where} exceeds the limit of {limit}")


def _expat_shape(body: bytes, shape: XmlShape, limits: XmlLimits) -> None:
    parser = expat.ParserCreate()
    depth = 0

    def start(_name: str, attrs: dict) -> None:
        nonlocal depth
        depth += 1
        if depth > shape.depth:
            shape.depth = depth
            if depth > limits.depth:
                raise _refuse("nesting depth", depth, limits.depth, parser.CurrentLineNumber)
        if len(attrs) > shape.attributes:
            shape.attributes = len(attrs)
            if len(attrs) > limits.attributes:
                raise _refuse("attributes on one element:", len(attrs), limits.attributes,
                              parser.CurrentLineNumber)

    def end(_name: str) -> None:
        nonlocal depth
        depth -= 1

    parser.StartElementHandler, parser.EndElementHandler = start, end
    parser.Parse(body, True)


def _scan_shape(body: bytes, shape: XmlShape, limits: XmlLimits) -> None:
    """Tags read the way a forgiving parser would: opening, closing, self-closing."""
    depth = 0
    for tag in _TAG.finditer(body):
        if tag.group(1):
            depth = max(depth - 1, 0)
            continue
        text = tag.group()
        if len(text) > 4 * limits.attributes:  # an attribute takes at least 4 bytes: ' a=1'
            count = len(_ATTRIBUTE.findall(text))
            shape.attributes = max(shape.attributes, count)
            if count > limits.attributes:
                raise _refuse("attributes on one element:", count, limits.attributes)
        if not text.endswith(b"/>"):
            depth += 1
            if depth > shape.depth:
                shape.depth = depth
                if depth > limits.depth:
                    raise _refuse("nesting depth", depth, limits.depth)
