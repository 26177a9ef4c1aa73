"""RSS 2.0 and RSS 1.0 (and 0.90) documents: the channel and its items."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from bot.ingest.fastparse.decline import _check_subtree, _children
from bot.ingest.fastparse.elements import _extra, _fix, _raw, _resolved, _split, _text
from bot.ingest.fastparse.fields import _atom_author, _dates, _links, _result, _summaries, _titles
from bot.ingest.fastparse.names import (
    _ABOUT,
    _CHANNEL,
    _CONTAINERS,
    _DESCRIPTIONS,
    _OWN_CONTEXT,
    _RISKY,
    _RISKY_FEED,
    _RSS1,
    _RSS_ITEM,
    Unusual,
    _Event,
)


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
