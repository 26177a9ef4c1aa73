"""What the fast path knows: namespaces, the tables of elements it reads or declines, and
feedparser's own helpers and namespace prefixes, so the results come out as feedparser's."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

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
    _cp1252 = _FeedParserMixin = _urljoin = make_safe_absolute_uri = FeedParserDict = None
    _PREFIX, _PREFIXES = {}, frozenset()

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
