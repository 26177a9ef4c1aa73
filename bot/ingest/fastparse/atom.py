"""Atom 1.0 documents: the feed and its entries."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from bot.ingest.fastparse.decline import _children
from bot.ingest.fastparse.elements import _extra, _fix, _resolved
from bot.ingest.fastparse.fields import _atom_author, _dates, _links, _result, _summaries, _titles
from bot.ingest.fastparse.names import _ATOM, _ATOM_ENTRY, _FEED, _RISKY, _RISKY_FEED, Unusual


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
