"""When to decline: documents, prefixes and elements feedparser would read otherwise than the
fast path does (raise Unusual), and the walk over an item's or channel's children that sorts
what is read from what is risky."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from bot.ingest.fastparse.elements import _split
from bot.ingest.fastparse.names import (
    _ATOM,
    _DECLARED,
    _ENCODINGS,
    _EVENTS,
    _HARMLESS,
    _LAST_WINS,
    _MEDIA,
    _MEDIA_ITEM,
    _OWN_CONTEXT,
    _PREFIX,
    _PREFIXES,
    _XLINK,
    _XMLNS,
    Unusual,
    _Event,
    _FeedParserMixin,
)


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


# ---- an element's children -------------------------------------------------------------------


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
