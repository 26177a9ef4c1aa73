"""Feed bytes -> ParsedFeed: RSS 0.9x/1.0/2.0 and Atom through feedparser, JSON Feed by a small
reader of our own. A body that holds no feed raises FeedError("parse", reason); a malformed feed
that still yields entries is returned with `warning` set.
"""

from __future__ import annotations

import calendar
import io
import json
import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin

import feedparser

from bot.errors import FeedError
from bot.ingest.fastparse import parse_fast
from bot.ingest.htmltext import html_to_text
from bot.ingest.limits import check_xml_limits
from bot.ingest.repair import neutralize_extensions, repair_feed_bytes, scrub_text, usable_encoding
from bot.models import ParsedFeed, RawEntry

_JSON_TYPES = ("application/feed+json", "application/json")
_PAGE_TYPES = (None, "", "text/html", "application/xhtml+xml")
_HTML_PAGE_MARKERS = (b"<!doctype html", b"<html")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
_LEADING_JUNK = b" \t\r\n\xef\xbb\xbf"  # whitespace and a UTF-8 byte order mark


def parse_feed(body: bytes, *, url: str = "", content_type: str | None = None, fast: bool = True) -> ParsedFeed:
    """Parse one feed body; raise FeedError("parse", reason) when it holds no usable feed.

    fast: plain RSS 2.0 and Atom 1.0 go through fastparse (the same result, ~10x less CPU);
    False always uses feedparser (tests compare the two).
    """
    quick = parse_quick(body, url=url, content_type=content_type, fast=fast)
    return quick if quick is not None else parse_slow(body, url=url, content_type=content_type)


def parse_quick(body: bytes, *, url: str = "", content_type: str | None = None,
                fast: bool = True) -> ParsedFeed | None:
    """What needs no feedparser: JSON Feeds and the fast path, bounded work (C parsers) that can
    run inline. None: the body needs parse_slow, which callers may run where it can be stopped.
    Pathological XML is refused here (FeedError "too_complex", see limits.py)."""
    head = body[:1024].lstrip(_LEADING_JUNK)
    if not head:
        raise FeedError("parse", "empty response body")
    body = repair_feed_bytes(body)
    mime = (content_type or "").split(";")[0].strip().lower()
    if head.startswith(b"{") or (mime in _JSON_TYPES and not head.startswith(b"<")):
        return _parse_json_feed(body, url)
    check_xml_limits(body)
    headers = _xml_headers(content_type)
    # fastparse reads the encoding from the document, as feedparser does when no charset is given.
    result = parse_fast(body) if fast and headers["content-type"] == "application/xml" else None
    return None if result is None else _xml_result(result, body, url)


def parse_slow(body: bytes, *, url: str = "", content_type: str | None = None) -> ParsedFeed:
    """An RSS / Atom body through feedparser; call parse_quick first (it refuses what is too
    complex and reads JSON Feeds)."""
    body = repair_feed_bytes(body)
    return _xml_result(_feedparser(body, _xml_headers(content_type)), body, url)


# --- RSS / Atom ---------------------------------------------------------------------------


def _xml_headers(content_type: str | None) -> dict[str, str]:
    """Headers for feedparser: the HTTP charset counts only when the server said it serves XML.

    We always claim an XML media type: feedparser applies RFC 3023 to text/* (us-ascii unless a
    charset is given) and flags every feed served as text/html, which is noise, not malformation.
    No Content-Location either: with a base URI feedparser re-resolves it at every element (+30%
    parse time); we resolve the few relative links ourselves.
    """
    mime, _, params = (content_type or "").partition(";")
    charset = ""
    for param in params.split(";"):
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            charset = value.strip().strip("\"'")
    charset = charset if usable_encoding(charset.encode("utf-8", "replace")) else ""
    serves_xml = mime.strip().lower().endswith(("xml", "rss", "atom"))
    headers = {
        "content-type": "application/xml"
        + (f"; charset={charset}" if charset and serves_xml else "")
    }
    return headers


def _feedparser(body: bytes, headers: dict[str, str]) -> Any:
    """feedparser's result; FeedError when feedparser itself fails on the input.

    Its handlers of some extensions fail on unusual input (psc:chapter without start: TypeError;
    gml:pos outside georss:where: KeyError); those elements are renamed away and parsed again.
    A BytesIO, never bytes: feedparser.parse treats bytes as a possible file name.
    """
    try:
        return feedparser.parse(io.BytesIO(body), response_headers=headers, sanitize_html=False,
                                resolve_relative_uris=False)
    except Exception as exc:  # noqa: BLE001 - a library failing on hostile input is a feed problem
        failure = exc
    plain = neutralize_extensions(body)
    if plain != body:
        try:
            return feedparser.parse(io.BytesIO(plain), response_headers=headers, sanitize_html=False,
                                    resolve_relative_uris=False)
        except Exception:  # noqa: BLE001,S110 - reported below as the first failure
            pass
    raise FeedError("parse", f"feedparser failed on this document ({type(failure).__name__}: {failure})"[:300])


def _xml_result(result: Any, body: bytes, url: str) -> ParsedFeed:
    problem = _bozo_message(result)
    if not result.entries:
        if problem:
            raise FeedError("parse", _not_a_feed_reason(body, problem))
        if not result.get("version"):
            raise FeedError("parse", "XML document is not an RSS, RDF or Atom feed")
    channel = result.feed
    return ParsedFeed(
        title=html_to_text(channel.get("title") or ""),
        link=_join(url, _string(channel.get("link"))),
        entries=tuple(_xml_entry(entry, url) for entry in result.entries),
        ttl_minutes=_ttl(channel.get("ttl")),
        warning=f"malformed feed: {problem}" if problem else None,
    )


def _bozo_message(result: Any) -> str | None:
    if not result.get("bozo"):
        return None
    exc = result.get("bozo_exception")
    return f"{type(exc).__name__}: {exc}" if exc is not None else "malformed document"


def _not_a_feed_reason(body: bytes, problem: str) -> str:
    head = body[:1024].lstrip(_LEADING_JUNK).lower()
    if any(marker in head for marker in _HTML_PAGE_MARKERS):
        return "got an HTML page, not a feed"
    return f"no feed entries found in a malformed document ({problem})"


def _xml_entry(entry: Any, url: str) -> RawEntry:
    return RawEntry(
        guid=_string(entry.get("id")),
        link=_join(url, _entry_link(entry)),
        title=entry.get("title") or "",
        summary=_entry_summary(entry),
        published=_entry_date(entry),
        author=_string(entry.get("author")),
        content=_entry_content(entry),
    )


def _entry_link(entry: Any) -> str | None:
    """The rel=alternate HTML link, else whatever feedparser chose as the entry's link."""
    for link in entry.get("links") or ():
        rel, kind = link.get("rel", "alternate"), link.get("type")
        if rel == "alternate" and kind in _PAGE_TYPES and link.get("href"):
            return link["href"]
    return _string(entry.get("link"))


def _entry_summary(entry: Any) -> str:
    summary = entry.get("summary")
    if summary:
        return summary
    for content in entry.get("content") or ():
        if content.get("value"):
            return content["value"]
    return ""


def _entry_content(entry: Any) -> str:
    """The longest content (content:encoded, Atom content): the article, when the feed carries it."""
    values = [c.get("value") or "" for c in entry.get("content") or ()]
    return max(values, key=len, default="")


def _entry_date(entry: Any) -> datetime | None:
    """published, else updated, else created; dict.get skips feedparser's deprecated aliasing."""
    for kind in ("published", "updated", "created"):
        moment = _from_struct_time(dict.get(entry, f"{kind}_parsed")) or _date_from_text(
            dict.get(entry, kind)
        )
        if moment is not None:
            return moment
    return None


def _from_struct_time(value: Any) -> datetime | None:
    """feedparser's struct_time (always UTC) -> aware UTC datetime; None when unusable."""
    if value is None:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


_MAX_TTL = 525_600  # a year of minutes: more is kept as a year (past 64 bits it could not be stored)


def _ttl(value: Any) -> int | None:
    try:
        minutes = int(str(value).strip())
    except ValueError:
        return None
    return min(minutes, _MAX_TTL) if minutes > 0 else None


# --- JSON Feed 1.0 / 1.1 ------------------------------------------------------------------


def _parse_json_feed(body: bytes, url: str) -> ParsedFeed:
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise FeedError("parse", f"invalid JSON: {exc}") from None
    version = doc.get("version") if isinstance(doc, dict) else None
    if not isinstance(version, str) or "jsonfeed.org" not in version:
        raise FeedError("parse", "JSON document is not a JSON Feed (no jsonfeed.org version)")
    items = doc.get("items")
    if not isinstance(items, list):
        raise FeedError("parse", "JSON Feed has no 'items' list")
    base = _join(url, _string(doc.get("feed_url"))) or url or None
    home = _join(base, _string(doc.get("home_page_url")))
    entries = (_json_entry(item, base) for item in items if isinstance(item, dict))
    return ParsedFeed(
        title=html_to_text(_string(doc.get("title")) or ""),
        link=home,
        entries=tuple(entries),
    )


def _json_entry(item: dict[str, Any], base: str | None) -> RawEntry:
    summary = _string(item.get("summary")) or _string(item.get("content_html"))
    return RawEntry(
        guid=_json_id(item.get("id")),
        link=_join(base, _string(item.get("url")) or _string(item.get("external_url"))),
        title=_string(item.get("title")) or "",
        summary=summary or _string(item.get("content_text")) or "",
        published=_date_from_text(item.get("date_published"))
        or _date_from_text(item.get("date_modified")),
        author=_json_author(item),
        content=_string(item.get("content_html")) or _string(item.get("content_text")) or "",
    )


def _json_id(value: Any) -> str | None:
    """Ids must be strings, but numbers occur in the wild; anything else is no id."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return str(value)
    return _string(value)


def _json_author(item: dict[str, Any]) -> str | None:
    authors = item.get("authors")
    people = authors if isinstance(authors, list) else [item.get("author")]  # 1.1, else 1.0
    for person in people:
        if isinstance(person, dict) and _string(person.get("name")):
            return _string(person.get("name"))
    return None


def _date_from_text(value: Any) -> datetime | None:
    """ISO 8601 / RFC 3339, else RFC 822, as UTC (naive means UTC). Reads JSON Feed dates and
    what feedparser leaves unparsed, such as an RFC 822 date without a zone."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        moment = _read_date(value.strip())
        return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _read_date(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return parsedate_to_datetime(text)


def _string(value: Any) -> str | None:
    """A non-blank string, stripped and without lone surrogates (JSON allows "\\ud800")."""
    if isinstance(value, str) and value.strip():
        return scrub_text(value.strip())
    return None


def _join(base: str | None, link: str | None) -> str | None:
    """link made absolute against base when it is relative (no scheme)."""
    if not link or not base or _SCHEME.match(link):
        return link or None
    try:
        return urljoin(base, link)
    except ValueError:  # a broken base such as "http://[::1"
        return link
