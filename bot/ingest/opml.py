"""OPML subscription lists, in and out. Pure: bytes -> feeds, feeds -> bytes.

Reading takes two libraries, each for what it is good at. listparser (the subscription-list
parser feed readers use) interprets OPML: nested category outlines, `xmlUrl` spelled in any case,
title/text fallbacks. But it reads through an HTML parser that accepts anything, so it cannot
reject a broken file; defusedxml first checks that the file is well-formed XML (naming line and
column when it is not) and refuses entity declarations and external references, which is what a
billion-laughs or XXE file needs. Writing uses xml.etree, which escapes every attribute.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime

import defusedxml.ElementTree as SafeET
import listparser
from defusedxml import DefusedXmlException

from bot.errors import InputError
from bot.ingest.netguard import BadHostError, feed_target

MAX_BYTES = 5 * 1024 * 1024  # a list of 50,000 feeds is about 5 MB


@dataclass(frozen=True)
class OpmlFeed:
    url: str
    title: str
    categories: tuple[str, ...] = ()


@dataclass(frozen=True)
class OpmlList:
    title: str
    feeds: tuple[OpmlFeed, ...]
    skipped: tuple[str, ...]  # outline URLs that are not http(s) feed URLs, with the reason


def read_opml(data: bytes, where: str = "OPML") -> OpmlList:
    """The feeds of an OPML document; InputError naming `where` and the reason when it is not one."""
    if len(data) > MAX_BYTES:
        raise InputError(f"{where}: larger than {MAX_BYTES // 1024 // 1024} MB")
    root = _well_formed(data, where)
    if root.tag.rpartition("}")[2].lower() != "opml" or root.find("body") is None:
        raise InputError(f"{where}: not OPML (the root element is <{root.tag}>, expected <opml> with a <body>)")
    parsed = listparser.parse(data)
    feeds, skipped, seen = [], [], set()
    for entry in parsed.feeds:
        url = (entry.get("url") or "").strip()
        problem = url_problem(url)
        if problem:
            named = url and problem.startswith((f"{url}: ", f"{url!r}: "))  # the reason may name it already
            skipped.append(problem if named else f"{url or '(empty)'}: {problem}")
            continue
        if url in seen:
            continue
        seen.add(url)
        categories = tuple("/".join(path) for path in entry.get("categories", []) if path)
        feeds.append(OpmlFeed(url, (entry.get("title") or "").strip() or url, categories))
    return OpmlList((parsed.meta.get("title") or "").strip(), tuple(feeds), tuple(skipped))


def _well_formed(data: bytes, where: str) -> ET.Element:
    try:
        return SafeET.fromstring(data, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise InputError(f"{where}: refused: the file declares XML entities or external references ({exc})") from None
    except ET.ParseError as exc:
        line, column = exc.position
        raise InputError(f"{where}: not well-formed XML at line {line}, column {column + 1}: "
                         f"{str(exc).split(':')[0]}") from None


def url_problem(url: str) -> str | None:
    """Why a URL cannot be a feed URL (None when it can), as fetching would refuse it: the
    fetcher's own judgement (netguard.feed_target). Addresses are checked at fetch time."""
    try:
        feed_target(url, guard=False)
    except BadHostError as exc:
        return str(exc)
    return None


def write_opml(feeds: Iterable[tuple[str, str]], title: str, now: datetime) -> bytes:
    """An OPML 2.0 document of (url, name) pairs."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    ET.SubElement(head, "dateCreated").text = format_datetime(now)
    body = ET.SubElement(root, "body")
    for url, name in feeds:
        ET.SubElement(body, "outline", type="rss", text=name, title=name, xmlUrl=url)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"
