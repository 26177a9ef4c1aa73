"""The fields both formats share, read as feedparser reads them: links, text constructs and
XHTML, authors, titles, summaries and content, dates, and the feedparser-shaped result."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any
from xml.sax.saxutils import escape

from bot.ingest.fastparse.decline import _check_subtree, _risky
from bot.ingest.fastparse.elements import _extra, _fix, _raw, _resolved, _split, _text
from bot.ingest.fastparse.names import (
    _ATOM,
    _ENTITY_LIKE,
    _HTML_TYPES,
    _MEDIA,
    _PREFIX,
    _QUOTE,
    _RISKY,
    _TEXT_TYPES,
    _TYPES,
    _XHTML,
    _XHTML_TYPES,
    _XML,
    FeedParserDict,
    Unusual,
    _Event,
    _FeedParserMixin,
    _parse_date,
    _urljoin,
)

# ---- links -----------------------------------------------------------------------------------


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


# ---- text constructs and authors -------------------------------------------------------------


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


def _event_text(el: ET.Element) -> str:
    return _construct(el) if el.tag.startswith((f"{{{_ATOM}}}", *(f"{{{m}}}" for m in _MEDIA))) else _text(el)


# ---- titles, summaries, dates ----------------------------------------------------------------


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
