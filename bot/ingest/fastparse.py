"""A fast path for plain, well-formed RSS 2.0, RSS 1.0 and Atom 1.0 feeds.

feedparser spends about 0.3-0.6 ms an item in Python SAX handlers; ElementTree (expat, in C) reads
the same document several times faster. parse_fast builds the few fields parse.py reads from
feedparser's result (title, link, links, id, summary, content, dates, author) the way feedparser
would, with feedparser's own date parser and text repairs, so the rest of parsing is shared. It
answers None for anything it does not read exactly as feedparser does: other formats, DOCTYPEs,
xml:base, encodings other than UTF-8 and common single-byte ones, markup or attributes where text
is expected, repeated fields, and any element feedparser would map onto a title, link, id, date,
author or summary that is not one of those read here. The caller then uses feedparser.
tests/test_fastparse.py checks that both agree on every real feed file in ../shared/data/feeds.
"""

from __future__ import annotations

import contextlib
import re
import xml.etree.ElementTree as ET
from typing import Any

try:  # feedparser's own date parser and text fixes, so dates and text come out the same
    from feedparser.datetimes import _parse_date
    from feedparser.html import _cp1252
    from feedparser.urls import _urljoin
    from feedparser.util import FeedParserDict
except ImportError:  # a feedparser without them: no fast path
    _parse_date = None

_ATOM = "http://www.w3.org/2005/Atom"
_CONTENT = "http://purl.org/rss/1.0/modules/content/"
_DC = "http://purl.org/dc/elements/1.1/"
_MEDIA = ("http://search.yahoo.com/mrss/", "http://search.yahoo.com/mrss")
_ITUNES = ("http://www.itunes.com/dtds/podcast-1.0.dtd", "http://www.itunes.com/DTDs/Podcast-1.0.dtd",
           "http://www.itunes.com/DTDs/PodCast-1.0.dtd")
_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_RSS1 = ("{http://purl.org/rss/1.0/}", "{http://my.netscape.com/rdf/simple/0.9/}")  # RSS 1.0 / 0.90
_ABOUT = f"{{{_RDF}}}about"
_XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"
# Encodings expat and feedparser both read by their Python codec (single-byte, or UTF-8).
_ENCODINGS = frozenset(
    "utf-8 utf8 us-ascii ascii iso-8859-1 latin-1 latin1 iso-8859-2 iso-8859-5 iso-8859-7 iso-8859-9 "
    "iso-8859-15 windows-1250 windows-1251 windows-1252 windows-1253 windows-1254 windows-1256 koi8-r koi8-u".split()
)
_DECLARED = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_ENTITY_LIKE = re.compile("&([A-Za-z0-9_]+);")
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
# Local names feedparser maps (in some namespace) onto a field parse.py reads, or that open a
# context of their own: in an item or entry, and at the channel or feed level.
_CONTAINERS = frozenset("rss channel feed item entry source".split())
_RISKY = _CONTAINERS | frozenset(
    "title link description summary content encoded guid id pubdate published updated date created issued "
    "modified lastbuilddate author creator name email body fullitem abstract info ttl".split()
)
# At the channel level also what feedparser files as content: its hasContent flag would carry into
# the first item and change where that item's description goes.
_RISKY_FEED = _CONTAINERS | frozenset("title link guid id ttl summary content encoded fullitem body".split())
# What we read, by (namespace, local name): RSS item, Atom entry, channel / feed.
_RSS_ITEM = {
    ("", "title"): "title", ("", "link"): "link", ("", "guid"): "guid", ("", "description"): "description",
    (_CONTENT, "encoded"): "content", ("", "pubDate"): "published", (_DC, "date"): "updated",
    ("", "author"): "author", (_DC, "creator"): "author", (_DC, "title"): "title",
    **{(itunes, "author"): "author" for itunes in _ITUNES},
    **{(itunes, "summary"): "itunes_summary" for itunes in _ITUNES},
}
_ATOM_ENTRY = {
    (_ATOM, "title"): "title", (_ATOM, "id"): "guid", (_ATOM, "summary"): "summary",
    (_ATOM, "content"): "content", (_ATOM, "published"): "published", (_ATOM, "updated"): "updated",
    (_ATOM, "author"): "author",
}
_CHANNEL = {("", "title"): "title", (_DC, "title"): "title", ("", "link"): "link", ("", "ttl"): "ttl"}
_FEED = {(_ATOM, "title"): "title", (_ATOM, "id"): "guid"}
_HARMLESS = frozenset({(m, "content") for m in _MEDIA} | {("", "source")})  # RSS source: a context of its own
# Channel children whose subtrees feedparser files under their own context, not the channel's.
_OWN_CONTEXT = frozenset({("", "image"), ("", "textInput"), ("", "textinput")})


class Unusual(Exception):
    """Internal: this document needs feedparser."""


def parse_fast(body: bytes) -> Any | None:
    """feedparser-shaped result (feed, entries, version, bozo) for a plain feed, else None."""
    if _parse_date is None or not _plain_document(body):
        return None
    try:
        root = ET.fromstring(body)
        if any(el.attrib and (_XML_BASE in el.attrib or any(k.lower() == "base" for k in el.attrib)) for el in root.iter()):
            raise Unusual("a base URI")  # feedparser resolves against xml:base, and plain base too
        if root.tag == "rss":
            return _rss(root)
        if root.tag == f"{{{_RDF}}}RDF":
            return _rdf(root)
        if root.tag == f"{{{_ATOM}}}feed":
            return _atom(root)
    except (ET.ParseError, Unusual, ValueError):
        pass
    return None


def _plain_document(body: bytes) -> bool:
    """XML without a DOCTYPE, in UTF-8 or a declared single-byte encoding."""
    bom = body.startswith(b"\xef\xbb\xbf")
    head = body[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head.startswith(b"<") or b"<!DOCTYPE" in body[:4096] or b"<!ENTITY" in body[:4096]:
        return False
    declared = _DECLARED.match(head)
    encoding = declared.group(1).decode().lower() if declared else "utf-8"
    return encoding in _ENCODINGS and not (bom and encoding not in ("utf-8", "utf8"))


# ---- RSS 2.0 ---------------------------------------------------------------------------------


def _rss(root: ET.Element) -> Any:
    channels = list(root)
    if len(channels) != 1 or channels[0].tag != "channel" or root.attrib.keys() - {"version"}:
        raise Unusual("not one channel")
    fields, items = _children(channels[0], _CHANNEL, _RISKY_FEED, entry_tag="item", links=True)
    return _rss_result(root, channels[0], fields, items, "rss20")


def _rdf(root: ET.Element) -> Any:
    """RSS 1.0 (and 0.90): items beside the channel, in a namespace feedparser reads as RSS's."""
    for el in root.iter():
        if el.tag.startswith(_RSS1):
            el.tag = el.tag.partition("}")[2]
    channels = [c for c in root if c.tag == "channel"]
    items = [c for c in root if c.tag == "item"]
    if len(channels) != 1 or any(c.tag not in ("channel", "item", "image", "textinput") for c in root):
        raise Unusual("not an RSS 1.0 document")
    fields, _ = _children(channels[0], _CHANNEL, _RISKY_FEED, links=True)
    for other in root:
        if other.tag in ("image", "textinput"):
            _check_subtree(other, _CONTAINERS)  # their own context: only items and channels matter
    return _rss_result(root, channels[0], fields, items, "rss10")


def _rss_result(root: ET.Element, channel: ET.Element, fields: dict, items: list[ET.Element], version: str) -> Any:
    if not items or sum(1 for _ in root.iter("item")) != len(items):
        raise Unusual("no items, or items elsewhere")
    if channel.attrib.keys() - {_ABOUT}:
        raise Unusual("channel attributes")
    feed = {key: _text(el) for key, el in fields.items() if key != "link"}
    _links(feed, channel, entry=False)
    return _result(feed, [_rss_item(item) for item in items], version)


def _rss_item(item: ET.Element) -> dict:
    if item.attrib.keys() - {_ABOUT}:
        raise Unusual("item attributes")
    fields, _ = _children(item, _RSS_ITEM, _RISKY, links=True)
    entry: dict[str, Any] = {"id": item.attrib[_ABOUT]} if _ABOUT in item.attrib else {}
    if "title" in fields:
        entry["title"] = _text(fields["title"])
    if "guid" in fields:
        _guid(entry, fields["guid"])
    _links(entry, item)
    _rss_summary(entry, item, fields)
    _dates(entry, fields)
    if "author" in fields:
        entry["author"] = _text(fields["author"])
    return entry


def _guid(entry: dict, el: ET.Element) -> None:
    if el.attrib.keys() - {"isPermaLink"}:
        raise Unusual("guid attributes")
    permalink = el.attrib.get("isPermaLink", "true") == "true"
    entry["id"] = _fix(_resolved(el, attrs=True) if permalink else _raw(el, attrs=True))
    if permalink:
        entry.setdefault("link", entry["id"])


# ---- Atom 1.0 --------------------------------------------------------------------------------


def _atom(root: ET.Element) -> Any:
    fields, entries = _children(root, _FEED, _RISKY_FEED, entry_tag=f"{{{_ATOM}}}entry", links=True)
    if not entries:
        raise Unusual("no entries")
    feed: dict[str, Any] = {}
    if "title" in fields:
        feed["title"] = _atom_text(fields["title"])
    _atom_id(feed, fields)
    _links(feed, root)
    return _result(feed, [_atom_entry(entry) for entry in entries], "atom10")


def _atom_entry(el: ET.Element) -> dict:
    if el.attrib:
        raise Unusual("entry attributes")
    fields, _ = _children(el, _ATOM_ENTRY, _RISKY, links=True)
    entry: dict[str, Any] = {}
    if "title" in fields:
        entry["title"] = _atom_text(fields["title"])
    _atom_id(entry, fields)
    _links(entry, el)
    if "summary" in fields:
        entry["summary"] = _atom_text(fields["summary"])
    if "content" in fields:
        entry["content"] = [{"value": _atom_text(fields["content"])}]
        entry.setdefault("summary", entry["content"][0]["value"])
    _dates(entry, fields)
    if "author" in fields:
        entry["author"] = _atom_author(fields["author"])
    return entry


def _atom_id(target: dict, fields: dict) -> None:
    if "guid" in fields:  # an Atom id counts as a permalink: the link until a link element sets one
        target["id"] = _fix(_resolved(fields["guid"]))
        target["link"] = target["id"]


def _links(target: dict, el: ET.Element, entry: bool = True) -> None:
    """links in document order, as feedparser lists them; link: the last element that set it."""
    links = []
    for child in el:
        if child.tag == "link":  # RSS: the URL is the text; in an item, feedparser also undoes &amp;
            href = _fix(_resolved(child))
            href = _ENTITY_LIKE.sub(r"&\g<1>", href.replace("&amp;", "&") if entry else href)
            links.append({"rel": "alternate", "type": "text/html", **({"href": href} if href else {})})
            target["link"] = href
        elif child.tag == f"{{{_ATOM}}}link":
            attrs = _atom_link(child)
            links.append(attrs)
            if "href" in attrs and attrs["rel"] == "alternate" and _content_type(attrs["type"]) in _HTML_TYPES:
                target["link"] = attrs["href"]
    if links:
        target["links"] = links


def _atom_link(link: ET.Element) -> dict:
    if len(link) or (link.text or "").strip() or link.attrib.keys() - {"rel", "type", "href", "title", "length", "hreflang"}:
        raise Unusual("unusual link")
    attrs = {k: v.lower() if k in ("rel", "type") else v for k, v in link.attrib.items()}
    attrs.setdefault("rel", "alternate")
    attrs.setdefault("type", "application/atom+xml" if attrs["rel"] == "self" else "text/html")
    if "href" in attrs:
        attrs["href"] = _urljoin("", attrs["href"])
    return attrs


def _atom_text(el: ET.Element) -> str:
    kind = el.attrib.get("type", "text").lower()
    if el.attrib.keys() - {"type"} or kind not in ("text", "html"):
        raise Unusual("atom text construct")
    return _text(el, attrs=True)


def _atom_author(el: ET.Element) -> str:
    parts: dict[str, str] = {}
    for child in el:
        ns, name = _split(child.tag)
        if ns != _ATOM and name.lower() not in _RISKY:
            _check_subtree(child, _RISKY)  # an extension such as gd:image
            continue
        if ns != _ATOM or name in parts or name not in ("name", "email", "uri"):
            raise Unusual("author")
        parts[name] = _text(child)
    if (el.text or "").strip():
        raise Unusual("author text")
    name, email = parts.get("name"), parts.get("email")
    return f"{name} ({email})" if name and email else name or email or ""


# ---- shared ----------------------------------------------------------------------------------


def _children(parent: ET.Element, known: dict, risky: frozenset[str], entry_tag: str | None = None,
              links: bool = False) -> tuple[dict[str, ET.Element], list[ET.Element]]:
    """The known fields (each at most once) and the entries; raise Unusual on a risky element."""
    fields: dict[str, ET.Element] = {}
    entries = []
    for child in parent:
        ns, local = _split(child.tag)
        if child.tag == entry_tag:
            entries.append(child)
            continue
        key = known.get((ns, local))
        if key is not None:  # its reader checks what is inside
            if key in fields:
                raise Unusual(f"repeated {local}")
            fields[key] = child
        elif links and (ns, local) == (_ATOM, "link"):
            pass  # read by _links
        elif (ns, local) not in _HARMLESS and local.lower() in risky:
            raise Unusual(f"risky element {child.tag}")
        elif (ns, local) not in _OWN_CONTEXT:
            _check_subtree(child, risky)
    return fields, entries


def _check_subtree(el: ET.Element, risky: frozenset[str]) -> None:
    for sub in el.iter():
        if sub is el:
            continue
        ns, local = _split(sub.tag)
        if local.lower() in risky and (ns, local) not in _HARMLESS:
            raise Unusual(f"risky nested element {sub.tag}")


def _split(tag: Any) -> tuple[str, str]:
    if not isinstance(tag, str):
        raise Unusual("comment or processing instruction")  # not produced by the default builder
    if tag.startswith("{"):
        ns, _, local = tag[1:].partition("}")
        return ns, local
    return "", tag


def _raw(el: ET.Element, attrs: bool = False) -> str:
    """Stripped text of an element without children."""
    if len(el) or (el.attrib and not attrs):
        raise Unusual(f"markup or attributes in {el.tag}")
    return (el.text or "").strip()


def _text(el: ET.Element, attrs: bool = False) -> str:
    """Text as feedparser leaves it: stripped, then repaired."""
    return _fix(_raw(el, attrs))


def _resolved(el: ET.Element, attrs: bool = False) -> str:
    """A URI element's text as feedparser resolves it (no base: only its clean-up of slashes)."""
    raw = _raw(el, attrs)
    return _urljoin("", raw) if raw else raw


def _fix(text: str) -> str:
    """feedparser's repairs: UTF-8 read as Latin-1 is re-read; C1 controls become cp1252."""
    with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
        text = text.encode("iso-8859-1").decode("utf-8")
    return text.translate(_cp1252)


def _rss_summary(entry: dict, item: ET.Element, fields: dict) -> None:
    """description, itunes:summary and content:encoded in document order, filed as feedparser
    files them: a summary-like element after another, before any content, counts as content."""
    wanted = [fields[k] for k in ("description", "itunes_summary", "content") if k in fields]
    has_content = False
    for child in item:
        if not any(child is w for w in wanted):
            continue
        value = _text(child)
        if child is fields.get("content") or ("summary" in entry and not has_content):
            has_content = True
            entry.setdefault("content", []).append({"value": value})
            entry.setdefault("summary", value)
        else:
            entry["summary"] = value


def _dates(entry: dict, fields: dict) -> None:
    for key in ("published", "updated"):
        if key in fields:
            text = _text(fields[key])
            entry[key], entry[f"{key}_parsed"] = text, _parse_date(text)


def _content_type(kind: str) -> str:
    return {"text": "text/plain", "plain": "text/plain", "html": "text/html",
            "xhtml": "application/xhtml+xml"}.get(kind, kind)


def _result(feed: dict, entries: list[dict], version: str) -> Any:
    return FeedParserDict(feed=FeedParserDict(feed), entries=entries, version=version, bozo=False)
