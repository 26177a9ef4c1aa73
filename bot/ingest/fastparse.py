"""A fast path for plain, well-formed RSS 2.0, RSS 1.0 and Atom 1.0 feeds.

feedparser spends about 0.3-0.6 ms an item in Python SAX handlers; ElementTree (expat, in C) reads
the same document several times faster. parse_fast builds the few fields parse.py reads from
feedparser's result (title, link, links, id, summary, content, dates, author) the way feedparser
would, with feedparser's own date parser, URI joins and text repairs, so the rest of parsing is
shared. That includes its quirks: a base URI that outlives its element, a title skipped after one
read no deeper, a summary filed as content after another, XHTML written out its way. It answers
None for anything it does not read exactly as feedparser does: other formats, DOCTYPEs, encodings
other than UTF-8 and common single-byte ones, markup or attributes where text is expected, most
repeated fields, and any element feedparser would map onto a title, link, id, date, author or
summary that is not one of those read here. The caller then uses feedparser.
tests/test_fastparse.py checks that both agree on every real feed file in ../shared/data/feeds.
"""

from __future__ import annotations

import contextlib
import re
import xml.etree.ElementTree as ET
from typing import Any
from xml.sax.saxutils import escape

try:  # feedparser's own date parser, URI joins and text fixes, so the results come out the same
    from feedparser.datetimes import _parse_date
    from feedparser.html import _cp1252
    from feedparser.mixin import _FeedParserMixin
    from feedparser.urls import _urljoin, make_safe_absolute_uri
    from feedparser.util import FeedParserDict

    # feedparser's prefix for each namespace it knows ("media"; "" for RSS and Atom). It reads an
    # element in any other namespace by its local name, and any attribute named base as a base URI.
    _PREFIX = {ns.lower(): prefix for ns, prefix in _FeedParserMixin.namespaces.items()}
    _PREFIXES = frozenset(prefix.lower() for prefix in _PREFIX.values()) - {""}  # as it looks them up
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
_XML = "{http://www.w3.org/XML/1998/namespace}"
_XHTML = "http://www.w3.org/1999/xhtml"
_XLINK = "http://www.w3.org/1999/xlink"
_RSS1_NS = re.compile(rb"""xmlns[^=]*=\s*["'](http://purl\.org/rss/1\.0/|http://my\.netscape\.com/rdf/simple/0\.9/)["']""", re.I)
_XMLNS = re.compile(rb"""xmlns:([^\s=]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
# Encodings expat and feedparser both read by their Python codec (single-byte, or UTF-8).
_ENCODINGS = frozenset(
    "utf-8 utf8 us-ascii ascii iso-8859-1 latin-1 latin1 iso-8859-2 iso-8859-5 iso-8859-7 iso-8859-9 "
    "iso-8859-15 windows-1250 windows-1251 windows-1252 windows-1253 windows-1254 windows-1256 koi8-r koi8-u".split()
)
_DECLARED = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_ENTITY_LIKE = re.compile("&([A-Za-z0-9_]+);")
_TYPES = {"text": "text/plain", "plain": "text/plain", "html": "text/html", "xhtml": "application/xhtml+xml"}
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_TEXT_TYPES = frozenset({"text", "plain", "html", "text/plain", "text/html"})  # never base64-decoded
_XHTML_TYPES = frozenset({"xhtml", "application/xhtml+xml"})
_QUOTE = {'"': "&quot;"}  # feedparser's escaping of attribute values in XHTML
# Local names feedparser maps (in some namespace) onto a field parse.py reads, or that open a
# context of their own: in an item or entry, and at the channel or feed level.
_CONTAINERS = frozenset("rss channel feed item entry source".split())
_RISKY = _CONTAINERS | frozenset(
    "title link description summary content encoded guid id pubdate published updated date created issued "
    "modified lastbuilddate author creator name email body fullitem abstract info ttl textinput".split()
)
# At the channel level also what feedparser files as content: its hasContent flag would carry into
# the first item and change where that item's description goes.
_RISKY_FEED = _CONTAINERS | frozenset("title link guid id ttl summary content encoded fullitem body".split())
# What we read, by (namespace, local name). Titles, summaries and content are events, read in
# document order (see _titles and _summaries), as are a source and an item, which clear the
# title mark; media:group and media:content are searched for media:title and media:description.
_EVENTS = frozenset({"title", "media_title", "summary", "content", "reset"})
_LAST_WINS = frozenset({"published", "updated", "author"})  # feedparser keeps the last (RSS authors)
_MEDIA_ITEM = {
    **{(m, "title"): "media_title" for m in _MEDIA}, **{(m, "description"): "summary" for m in _MEDIA},
    **{(m, "group"): "group" for m in _MEDIA}, **{(m, "content"): "group" for m in _MEDIA},
    ("", "source"): "reset", **{(it, "summary"): "summary" for it in _ITUNES},
}
_RSS_ITEM = {
    ("", "title"): "title", ("", "link"): "link", ("", "guid"): "guid", ("", "description"): "summary",
    (_CONTENT, "encoded"): "content", ("", "pubDate"): "published", (_DC, "date"): "updated",
    ("", "author"): "author", (_DC, "creator"): "author", (_DC, "title"): "title", ("", "content"): "content",
    (_ATOM, "published"): "published", (_ATOM, "updated"): "updated", (_ATOM, "author"): "atom_author",
    **{(itunes, "author"): "author" for itunes in _ITUNES}, **_MEDIA_ITEM,
}
_ATOM_ENTRY = {
    (_ATOM, "title"): "title", (_ATOM, "id"): "guid", (_ATOM, "summary"): "summary",
    (_ATOM, "content"): "content", (_ATOM, "published"): "published", (_ATOM, "updated"): "updated",
    (_ATOM, "author"): "atom_author", **_MEDIA_ITEM,
}
_CHANNEL = {("", "title"): "title", (_DC, "title"): "title", ("", "link"): "link", ("", "ttl"): "ttl",
            **{(it, "summary"): "channel_summary" for it in _ITUNES}}
_FEED = {(_ATOM, "title"): "title", (_ATOM, "id"): "guid"}
# Channel children whose fields feedparser files under their own context, as long as no other
# plain element starts inside them (one that does ends that context early).
_OWN_CONTEXT = {
    ("", "image"): frozenset("title link description url href width height".split()),
    **dict.fromkeys([("", "textInput"), ("", "textinput")], frozenset("title link description name".split())),
}
_HARMLESS = frozenset((m, "content") for m in _MEDIA)  # outside items, it only lists the file
_DESCRIPTIONS = frozenset({"description", f"{{{_DC}}}description", *(f"{{{m}}}description" for m in _MEDIA)})
_Event = tuple[str, ET.Element, int]  # (role, element, depth below the item, entry or channel)


class Unusual(Exception):
    """Internal: this document needs feedparser."""


def parse_fast(body: bytes) -> Any | None:
    """feedparser-shaped result (feed, entries, version, bozo) for a plain feed, else None."""
    if _parse_date is None or not _plain_document(body):
        return None
    try:
        root = ET.fromstring(body)
        _check_prefixes(body, root)
        bases = _bases(root)
        if root.tag == "rss":
            return _rss(root, bases)
        if root.tag == f"{{{_RDF}}}RDF":
            return _rdf(root, bases)
        if root.tag == f"{{{_ATOM}}}feed" and not _RSS1_NS.search(body):  # it could set the version
            return _atom(root, bases)
    except (ET.ParseError, Unusual, ValueError, RecursionError):
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


def _check_prefixes(body: bytes, root: ET.Element) -> None:
    """feedparser reads a prefix it knows ("dc") as the prefix of the namespace the document last
    bound it to, when it knows that one too: an element in a namespace whose prefix is bound to
    another is not read as we read it. An xlink binding turns into an attribute in XHTML."""
    remapped = set()
    for prefix, double, single in _XMLNS.findall(body):
        name, uri = prefix.decode("ascii", "replace"), (double or single).decode("utf-8", "replace").lower()
        known = "" if "backend.userland.com/rss" in uri else _PREFIX.get(uri, name)
        if uri == _XLINK or (name in _PREFIXES and known != name):
            remapped.add("xhtml" if uri == _XLINK else name)
    if remapped and any((_PREFIX.get(_split(el.tag)[0].lower()) or "").lower() in remapped for el in root.iter()):
        raise Unusual(f"prefixes bound to other namespaces: {sorted(remapped)}")


# ---- base URIs -------------------------------------------------------------------------------


def _bases(root: ET.Element) -> dict[ET.Element, str]:
    """Each element's base URI as feedparser tracks it ({} when the document sets none).

    feedparser joins xml:base (or a plain base attribute) onto the base in force, and when an
    element ends it goes back to its parent's base only if that is not empty: without a base
    on the root, one set anywhere stays in force for the rest of the document.
    """
    if not any(el.attrib and _base_attr(el) is not None for el in root.iter()):
        return {}
    bases: dict[ET.Element, str] = {}
    base, stack, todo = "", [], [(root, False)]
    while todo:
        el, leaving = todo.pop()
        if leaving:
            stack.pop()
            base = stack[-1] if stack and stack[-1] else base
            continue
        given = _base_attr(el) or base
        base = (make_safe_absolute_uri(base, given) or base) if base else _urljoin(base, given)
        bases[el] = base
        stack.append(base)
        todo += [(el, True), *((child, False) for child in reversed(el))]
    return bases


def _base_attr(el: ET.Element) -> str | None:
    found = [value for key, value in el.attrib.items() if _is_base(key)]
    if len(found) > 1:
        raise Unusual("two base attributes")  # which one wins depends on attribute order
    return found[0] if found else None


def _is_base(key: str) -> bool:
    ns, local = _split(key)
    return local.lower() == "base" and (key.startswith(_XML) or not _PREFIX.get(ns.lower()))


def _extra(el: ET.Element, allowed: frozenset[str] | set[str] = frozenset()) -> set[str]:
    """Attributes other than allowed ones and those that only set the base URI or language."""
    return {k for k in el.attrib.keys() - allowed if not (k.startswith(_XML) or _is_base(k))}


# ---- RSS 2.0 and 1.0 -------------------------------------------------------------------------


def _rss(root: ET.Element, bases: dict) -> Any:
    channels = list(root)
    if len(channels) != 1 or channels[0].tag != "channel" or _extra(root, {"version"}):
        raise Unusual("not one channel")
    fields, events, items = _children(channels[0], _CHANNEL, _RISKY_FEED, entry_tag="item", channel=True)
    carried, _ = _carried(channels[0], fields)
    feed = _channel(channels[0], fields, events, bases)
    return _rss_result(root, feed, items, carried + [False] * (len(items) - len(carried)), bases, "rss20")


def _rdf(root: ET.Element, bases: dict) -> Any:
    """RSS 1.0 (and 0.90): items beside the channel, in a namespace feedparser reads as RSS's."""
    for el in root.iter():
        if el.tag.startswith(_RSS1):
            el.tag = el.tag.partition("}")[2]
    items = [c for c in root if c.tag == "item"]
    if len(root) == 0 or root[0].tag != "channel" or any(c.tag not in ("item", "image", "textinput") for c in root[1:]):
        raise Unusual("not an RSS 1.0 document")  # a title read before the channel's would hide it
    fields, events, _ = _children(root[0], _CHANNEL, _RISKY_FEED, channel=True)
    for other in root[1:]:
        if other.tag in ("image", "textinput"):
            _check_subtree(other, _CONTAINERS)  # after the channel nothing in them is kept
    _, carried = _carried(root[0], fields)
    feed = _channel(root[0], fields, events, bases)
    return _rss_result(root, feed, items, [carried] + [False] * (len(items) - 1), bases, "rss10")


def _channel(channel: ET.Element, fields: dict, events: list[_Event], bases: dict) -> dict:
    if _extra(channel, {_ABOUT}):
        raise Unusual("channel attributes")
    feed = {"summary" if key == "channel_summary" else key: _text(el) for key, el in fields.items() if key != "link"}
    _titles(feed, events, channel)
    _links(feed, channel, bases, entry=False)
    return feed


def _rss_result(root: ET.Element, feed: dict, items: list[ET.Element], carried: list[bool], bases: dict,
                version: str) -> Any:
    if not items or sum(1 for _ in root.iter("item")) != len(items):
        raise Unusual("no items, or items elsewhere")
    return _result(feed, [_rss_item(item, has, bases) for item, has in zip(items, carried, strict=True)], version)


def _carried(channel: ET.Element, fields: dict) -> tuple[list[bool], bool]:
    """feedparser's hasContent flag at each item and after the channel. It lasts until an item
    ends; at the channel level only a description after an itunes:summary sets it."""
    summary = fields.get("channel_summary")
    flags, has, seen = [], False, False
    for child in channel if summary is not None else ():
        if child.tag == "item":
            flags.append(has)
            has = False
        elif child is summary:
            seen = True
        elif seen and child.tag in _DESCRIPTIONS:
            has = True
        elif seen and _split(child.tag) not in _OWN_CONTEXT and any(
                _split(sub.tag)[1].lower() == "description" for sub in child.iter()):
            raise Unusual("description after a channel summary")
    return flags, has


def _rss_item(item: ET.Element, has_content: bool, bases: dict) -> dict:
    if _extra(item, {_ABOUT}):
        raise Unusual("item attributes")
    fields, events, _ = _children(item, _RSS_ITEM, _RISKY)
    entry: dict[str, Any] = {"id": item.attrib[_ABOUT]} if _ABOUT in item.attrib else {}
    _titles(entry, events, item)
    if "guid" in fields:
        _guid(entry, fields["guid"], bases)
    _links(entry, item, bases)
    _summaries(entry, events, has_content)
    _dates(entry, fields)
    if "author" in fields and "atom_author" in fields:
        raise Unusual("RSS and Atom authors")  # an Atom author's name and email carry over
    if "author" in fields or "atom_author" in fields:
        entry["author"] = _text(fields["author"]) if "author" in fields else _atom_author(fields["atom_author"])
    return entry


def _guid(entry: dict, el: ET.Element, bases: dict) -> None:
    if _extra(el, {"isPermaLink"}):
        raise Unusual("guid attributes")
    permalink = el.attrib.get("isPermaLink", "true") == "true"
    entry["id"] = _fix(_resolved(el, bases, attrs=True) if permalink else _raw(el, attrs=True))
    if permalink:
        entry.setdefault("link", entry["id"])


# ---- Atom 1.0 --------------------------------------------------------------------------------


def _atom(root: ET.Element, bases: dict) -> Any:
    fields, events, entries = _children(root, _FEED, _RISKY_FEED, entry_tag=f"{{{_ATOM}}}entry")
    if not entries:
        raise Unusual("no entries")
    feed: dict[str, Any] = {}
    _titles(feed, events, root)
    _atom_id(feed, fields, bases)
    _links(feed, root, bases)
    return _result(feed, [_atom_entry(entry, bases) for entry in entries], "atom10")


def _atom_entry(el: ET.Element, bases: dict) -> dict:
    if _extra(el):
        raise Unusual("entry attributes")
    fields, events, _ = _children(el, _ATOM_ENTRY, _RISKY)
    entry: dict[str, Any] = {}
    _titles(entry, events, el)
    _atom_id(entry, fields, bases)
    _links(entry, el, bases)
    _summaries(entry, events, False)
    _dates(entry, fields)
    if "atom_author" in fields:
        entry["author"] = _atom_author(fields["atom_author"])
    return entry


def _atom_id(target: dict, fields: dict, bases: dict) -> None:
    if "guid" in fields:  # an Atom id counts as a permalink: the link until a link element sets one
        target["id"] = _fix(_resolved(fields["guid"], bases))
        target["link"] = target["id"]


def _links(target: dict, el: ET.Element, bases: dict, entry: bool = True) -> None:
    """links in document order, as feedparser lists them; link: the last element that set it."""
    links = []
    for child in el:
        if child.tag == "link":  # RSS: the URL is the text; in an item, feedparser also undoes &amp;
            href = _fix(_resolved(child, bases))
            href = _ENTITY_LIKE.sub(r"&\g<1>", href.replace("&amp;", "&") if entry else href)
            links.append({"rel": "alternate", "type": "text/html", **({"href": href} if href else {})})
            target["link"] = href
        elif child.tag == f"{{{_ATOM}}}link":
            attrs = _atom_link(child, bases)
            links.append(attrs)
            if "href" in attrs and attrs["rel"] == "alternate" and _TYPES.get(attrs["type"], attrs["type"]) in _HTML_TYPES:
                target["link"] = attrs["href"]
    if links:
        target["links"] = links


def _atom_link(link: ET.Element, bases: dict) -> dict:
    if len(link) or (link.text or "").strip() or _extra(link, {"rel", "type", "href", "title", "length", "hreflang"}):
        raise Unusual("unusual link")
    attrs = {k: v.lower() if k in ("rel", "type") else v for k, v in link.attrib.items() if "}" not in k}
    attrs.setdefault("rel", "alternate")
    attrs.setdefault("type", "application/atom+xml" if attrs["rel"] == "self" else "text/html")
    if "href" in attrs:  # joined where the link starts, onto its own base
        attrs["href"] = _urljoin(bases.get(link, ""), attrs["href"])
    return attrs


def _construct(el: ET.Element) -> str:
    """An Atom or Media RSS text element: plain text, escaped HTML or (Atom) XHTML, never base64."""
    kind = el.attrib.get("type", "text").lower()
    if _extra(el, {"type"}) or kind not in _TEXT_TYPES and not (kind in _XHTML_TYPES and el.tag.startswith(f"{{{_ATOM}}}")):
        raise Unusual("atom text construct")
    return _fix(_xhtml(el)) if kind in _XHTML_TYPES else _text(el, attrs=True)


def _xhtml(el: ET.Element) -> str:
    """XHTML as feedparser writes it out: tags without prefixes, names in lower case, text and
    attribute values escaped, an empty element opened and closed; one wrapping div is dropped."""
    inner = list(el)
    if len(inner) == 1 and _split(inner[0].tag)[1].lower() == "div" and not (el.text or "").strip() \
            and not (inner[0].tail or "").strip():
        el = inner[0]  # its tag is not written out, but what is inside must be XHTML too
    return (escape(el.text or "") + "".join(_markup(child) + escape(child.tail or "") for child in el)).strip()


def _markup(el: ET.Element) -> str:
    ns, local = _split(el.tag)
    name = local.lower()
    if ns != _XHTML or name in ("svg", "math") or hasattr(_FeedParserMixin, f"_end_xhtml_{name}"):
        raise Unusual(f"xhtml element {el.tag}")  # feedparser would act on these
    attrs = {}
    for key, value in el.attrib.items():
        key_ns, key_local = _split(key)
        name_in_tag = ("xml:" if key.startswith(_XML) else "") + key_local.lower()
        if (key_ns and not key.startswith(_XML)) or name_in_tag in attrs:
            raise Unusual("xhtml attributes")
        attrs[name_in_tag] = value.lower() if name_in_tag in ("rel", "type") else value
    written = "".join(f' {k}="{escape(v, _QUOTE)}"' for k, v in attrs.items())
    inside = escape(el.text or "") + "".join(_markup(child) + escape(child.tail or "") for child in el)
    return f"<{name}{written}>{inside}</{name}>"


def _atom_author(el: ET.Element) -> str:
    parts: dict[str, str] = {}
    for child in el:
        ns, name = _split(child.tag)
        if ns != _ATOM and not _risky(ns, name, _RISKY):
            _check_subtree(child, _RISKY)  # an extension such as gd:image
            continue
        if ns != _ATOM or name in parts or name not in ("name", "email", "uri"):
            raise Unusual("author")
        parts[name] = _raw(child)  # feedparser does not repair names and addresses
    if (el.text or "").strip():
        raise Unusual("author text")
    name, email = parts.get("name"), parts.get("email")
    return f"{name} ({email})" if name and email else name or email or ""


# ---- shared ----------------------------------------------------------------------------------


def _children(parent: ET.Element, known: dict, risky: frozenset[str], entry_tag: str | None = None,
              channel: bool = False) -> tuple[dict[str, ET.Element], list[_Event], list[ET.Element]]:
    """The known fields (each at most once, but for dates), the events and the entries; raise
    Unusual on a risky element."""
    fields: dict[str, ET.Element] = {}
    events: list[_Event] = []
    entries = []
    for child in parent:
        ns, local = _split(child.tag)
        key = "reset" if child.tag == entry_tag else known.get((ns, local))
        if child.tag == entry_tag:
            entries.append(child)
        elif key == "group":
            events += _group(child, risky, 2)
        elif key in _EVENTS:
            if key == "reset":  # an RSS source
                _check_subtree(child, risky)
        elif key is not None:  # its reader checks what is inside
            if key in fields and key not in _LAST_WINS:
                raise Unusual(f"repeated {local}")
            fields[key] = child
        elif (ns, local) == (_ATOM, "link"):
            pass  # read by _links
        elif channel and (ns, local) in _OWN_CONTEXT:
            if any(sub.tag not in _OWN_CONTEXT[(ns, local)] or len(sub) for sub in child):
                raise Unusual(f"unusual {child.tag}")  # its fields would go to the channel
            key = "reset"
        elif _risky(ns, local, risky):
            raise Unusual(f"risky element {child.tag}")
        else:
            _check_subtree(child, risky)
        if key in _EVENTS:
            events.append((key, child, 1))
    return fields, events, entries


def _group(group: ET.Element, risky: frozenset[str], depth: int) -> list[_Event]:
    """media:title and media:description inside media:group or media:content, with their depth."""
    events = []
    for child in group:
        ns, local = _split(child.tag)
        key = _MEDIA_ITEM.get((ns, local)) if ns in _MEDIA else None
        if key == "group":
            events += _group(child, risky, depth + 1)
        elif key is not None:
            events.append((key, child, depth))
        else:
            _check_subtree(child, risky, itself=True)
    return events


def _check_subtree(el: ET.Element, risky: frozenset[str], itself: bool = False) -> None:
    for sub in el.iter():
        if (sub is not el or itself) and _risky(*_split(sub.tag), risky):
            raise Unusual(f"risky nested element {sub.tag}")


def _risky(ns: str, local: str, risky: frozenset[str]) -> bool:
    """A risky local name, unless in a namespace feedparser prefixes and has no handler for."""
    name = local.lower()
    if name not in risky or (ns, local) in _HARMLESS:
        return False
    prefix = (_PREFIX.get(ns.lower()) or "").lower()
    return not prefix or any(hasattr(_FeedParserMixin, f"_{go}_{prefix}_{name}") for go in ("start", "end"))


def _split(tag: Any) -> tuple[str, str]:
    if not isinstance(tag, str):
        raise Unusual("comment or processing instruction")  # not produced by the default builder
    if tag.startswith("{"):
        ns, _, local = tag[1:].partition("}")
        return ns, local
    return "", tag


def _raw(el: ET.Element, attrs: bool = False) -> str:
    """Stripped text of an element without children."""
    if len(el) or (not attrs and el.attrib and _extra(el)):
        raise Unusual(f"markup or attributes in {el.tag}")
    return (el.text or "").strip()


def _text(el: ET.Element, attrs: bool = False) -> str:
    """Text as feedparser leaves it: stripped, then repaired."""
    return _fix(_raw(el, attrs))


def _resolved(el: ET.Element, bases: dict, attrs: bool = False) -> str:
    """A URI element's text as feedparser resolves it: joined onto the base URI in force."""
    raw = _raw(el, attrs)
    return _urljoin(bases.get(el, ""), raw) if raw else raw


def _fix(text: str) -> str:
    """feedparser's repairs: UTF-8 read as Latin-1 is re-read; C1 controls become cp1252."""
    if text.isascii():  # both repairs leave ASCII as it is; most text is ASCII
        return text
    with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
        text = text.encode("iso-8859-1").decode("utf-8")
    return text.translate(_cp1252)


def _event_text(el: ET.Element) -> str:
    return _construct(el) if el.tag.startswith((f"{{{_ATOM}}}", *(f"{{{m}}}" for m in _MEDIA))) else _text(el)


def _titles(target: dict, events: list[_Event], parent: ET.Element) -> None:
    """feedparser skips a title when one was read at the same or a shallower depth since the
    item (entry, source, image) started; a media:title leaves that mark as it found it. Else a
    title replaces one read no shallower."""
    titles = [el for key, el, _ in events if key in ("title", "media_title")]
    if len(titles) > 1:
        _no_image_between(titles[0], titles[-1], parent)
    mark, stored = -1, None
    for key, el, depth in events:
        if key == "reset":
            mark = -1
        elif key in ("title", "media_title"):
            value = _event_text(el)
            if not -1 < mark <= depth and (stored is None or depth <= stored):
                target["title"], stored = value, depth
            if value and key == "title":
                mark = depth


def _no_image_between(first: ET.Element, last: ET.Element, parent: ET.Element) -> None:
    """An image clears the title mark unless it has the prefix of a namespace feedparser knows,
    which ElementTree does not keep: so none between two titles."""
    inside = False
    for el in parent.iter():
        if el is last:
            return
        inside = inside or el is first
        ns, local = _split(el.tag)
        if inside and local.lower() == "image" and not _PREFIX.get(ns.lower()):
            raise Unusual("an image between titles")


def _summaries(entry: dict, events: list[_Event], has_content: bool) -> None:
    """Summaries and content in document order, filed as feedparser files them: a summary-like
    element after another, before any content, counts as content; content sets the summary only
    if there is none, and a summary replaces one read no shallower."""
    stored = None
    for key, el, depth in events:
        if key not in ("summary", "content"):
            continue
        value = _event_text(el)
        if key == "content" or ("summary" in entry and not has_content):
            has_content = True
            entry.setdefault("content", []).append({"value": value})
            entry.setdefault("summary", value)
        elif stored is None or depth <= stored:
            entry["summary"], stored = value, depth


def _dates(entry: dict, fields: dict) -> None:
    for key in ("published", "updated"):
        if key in fields:
            text = _text(fields[key])
            entry[key], entry[f"{key}_parsed"] = text, _parse_date(text)


def _result(feed: dict, entries: list[dict], version: str) -> Any:
    return FeedParserDict(feed=FeedParserDict(feed), entries=entries, version=version, bozo=False)
