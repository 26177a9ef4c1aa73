"""RawEntry -> Item: plain text, canonical URL, UTC date and a stable key. Pure functions.

Decisions worth knowing:
- A date more than a day in the future is treated as missing (a typo or a wrong timezone would
  otherwise pin the item to the top and defeat backfill), so the item gets its first-seen time.
- The key is computed from the entry's own date (None if absent), never from the first-seen time,
  so an undated entry keeps the same key on every poll.
- A guid shared by entries with different links in one feed is junk for that feed (some feeds
  repeat one id or the site's home page on every entry): those entries are keyed by URL instead.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Container
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote_plus, urljoin, urlsplit, urlunsplit

from bot.ingest.htmltext import html_to_text
from bot.models import Item, ParsedFeed, RawEntry
from bot.text import fold, words

TITLE_FROM_SUMMARY_CHARS = 80
MAX_TITLE_CHARS = 300
MAX_SUMMARY_CHARS = 300  # what an alert shows; the article itself is the body
MAX_BODY_CHARS = 20_000  # a long article's first ~3,000 words: enough to match and cluster on
FUTURE_TOLERANCE = timedelta(days=1)

def _clip(text: str, limit: int) -> str:
    """Text cut to at most `limit` characters at a word boundary, with an ellipsis if cut."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-") + "…"


clip_text = _clip  # for other stages that bound text the same way (full-text extraction)


# --- canonical_url ------------------------------------------------------------------------

_TRACKING_PARAMS = frozenset(
    "fbclid gclid dclid gbraid wbraid msclkid yclid twclid igshid mc_cid mc_eid ocid cmpid cmp "
    "_ga _gl spm ref_src ref_url xtor ito smid mkt_tok _hsenc _hsmi oly_enc_id oly_anon_id "
    "vero_id __twitter_impression".split()
)
_TRACKING_PREFIXES = ("utm_", "ns_", "at_", "pk_", "mtm_", "hsa_")
# "ref" is a tracking tag when it names a channel (?ref=rss); elsewhere (?ref=main) it is content.
_REF_CHANNEL = re.compile(
    r"(?:rss|feeds?|feedburner|atom|twitter|tw|facebook|fb|linkedin|social|share|email|newsletter"
    r"|home|homepage|hp|nav|menu|sidebar|related|web|app)(?:[-_.].*)?",
    re.I,
)
_DEFAULT_PORTS = {"http": 80, "https": 443}
_URL_JUNK = re.compile(r"[\t\r\n]")


def _is_tracking(piece: str) -> bool:
    name, _, value = piece.partition("=")
    name = unquote_plus(name).lower()
    if name in _TRACKING_PARAMS or name.startswith(_TRACKING_PREFIXES):
        return True
    return name == "ref" and _REF_CHANNEL.fullmatch(unquote_plus(value)) is not None


def _clean_query(query: str) -> str:
    return "&".join(p for p in query.split("&") if p and not _is_tracking(p))


def _netloc(scheme: str, host: str, port: int | None) -> str:
    host = host.rstrip(".")
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    return host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"


def canonical_url(url: str, base: str | None = None) -> str | None:
    """The http(s) URL with scheme/host lowercased, default port, fragment and trackers removed."""
    url = _URL_JUNK.sub("", url or "").strip().replace(" ", "%20").replace("&amp;", "&")
    if not url:
        return None
    try:
        absolute = url.startswith(("http://", "https://"))
        parts = urlsplit(url if absolute or not base else urljoin(base, url))
        scheme, host, port = parts.scheme.lower(), parts.hostname, parts.port
    except ValueError:  # bad port, bad IPv6 literal
        return None
    if scheme not in _DEFAULT_PORTS or not host:
        return None
    netloc = _netloc(scheme, host, port)
    return urlunsplit((scheme, netloc, parts.path or "/", _clean_query(parts.query), ""))


# --- keys ---------------------------------------------------------------------------------

_JUNK_GUIDS = frozenset({"", "0", "-1", "null", "none", "nil", "undefined", "guid", "id", "#", "/"})


def _is_junk_guid(guid: str) -> bool:
    """True for ids that cannot tell entries apart: empty, placeholders, a bare site address."""
    value = guid.strip().lower()
    if value in _JUNK_GUIDS:
        return True
    home = canonical_url(value) if value.startswith(("http://", "https://")) else None
    return home is not None and home.count("/") == 3 and home.endswith("/")


def _as_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def _sha1(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def item_key(
    guid: str | None, canonical_url: str | None, title: str, published: datetime | None,
    feed_id: int | None = None,
) -> str:
    """Stable identity of an entry: its guid, else its canonical URL, else a hash of title+date.

    A guid that is not a URL ("1234") is only unique within its feed, so it is scoped by feed_id.
    """
    if guid and not _is_junk_guid(guid):
        guid = guid.strip()
        global_ = guid.startswith(("http://", "https://", "tag:", "urn:")) or feed_id is None
        return f"guid:{guid}" if global_ else f"guid:{feed_id}:{guid}"
    if canonical_url:
        return f"url:{canonical_url}"
    stamp = _as_utc(published).isoformat() if published else ""
    return "hash:" + _sha1(" ".join(words(title)) + "|" + stamp)


def content_hash(title: str, summary: str) -> str:
    """Hash of folded title and summary: case, accent and spacing edits do not change it."""
    return _sha1(fold(title) + "\n" + fold(summary))


# --- entries ------------------------------------------------------------------------------


def _published(raw: datetime | None, now: datetime) -> datetime:
    """The entry's date in UTC; first-seen time when missing or implausibly in the future."""
    if raw is None or _as_utc(raw) > now + FUTURE_TOLERANCE:
        return now
    return _as_utc(raw)


def _shared_guids(entries: tuple[RawEntry, ...]) -> set[str]:
    """Guids that this feed puts on entries with different links (or titles, when unlinked)."""
    seen: dict[str, str] = {}
    shared: set[str] = set()
    for entry in entries:
        if entry.guid:
            ident = entry.link or entry.title
            if seen.setdefault(entry.guid, ident) != ident:
                shared.add(entry.guid)
    return shared


def _to_item(
    entry: RawEntry,
    base: str | None,
    source: str,
    feed_id: int | None,
    now: datetime,
    junk: set[str],
) -> Item | None:
    url = canonical_url(entry.link, base) if entry.link else None
    title = html_to_text(entry.title) if entry.title else ""
    summary = html_to_text(entry.summary) if entry.summary else ""
    summary, body = summary_and_body(summary, html_to_text(entry.content) if entry.content else "")
    if not (title or summary or url):
        return None
    title = _clip(title, MAX_TITLE_CHARS) or _clip(summary or url or "", TITLE_FROM_SUMMARY_CHARS)
    guid = entry.guid.strip() if entry.guid and entry.guid.strip() else None
    key_guid = None if entry.guid in junk else guid
    return Item(
        key=item_key(key_guid, url, title, entry.published, feed_id),
        title=title,
        summary=summary,
        url=url,
        source=source,
        published=_published(entry.published, now),
        guid=guid,
        feed_id=feed_id,
        content_hash=content_hash(title, summary),
        body=body,
    )


def summary_and_body(summary: str, body: str) -> tuple[str, str]:
    """The bounded summary and body of plain texts: an empty summary is the body's start, and a
    description too long for the summary is the body when the feed gave no content."""
    if not body and len(summary) > MAX_SUMMARY_CHARS:
        body = summary  # a feed that puts the whole article in its description
    return _clip(summary or body, MAX_SUMMARY_CHARS), _clip(body, MAX_BODY_CHARS)


def guid_keys(feed: ParsedFeed, feed_id: int | None) -> list[str | None]:
    """Each entry's key when its guid alone decides it (else None): known before normalizing."""
    junk = _shared_guids(feed.entries)
    return [_guid_key(entry, junk, feed_id) for entry in feed.entries]


def _guid_key(entry: RawEntry, junk: set[str], feed_id: int | None) -> str | None:
    guid = entry.guid.strip() if entry.guid and entry.guid.strip() else None
    if guid is None or entry.guid in junk or _is_junk_guid(guid):
        return None
    return item_key(guid, None, "", None, feed_id)  # what _to_item would compute


def normalize_entries(
    feed: ParsedFeed, *, source: str, feed_id: int | None, now: datetime, skip: Container[str] = frozenset()
) -> list[Item]:
    """Items of one parsed feed, in feed order, without entries that repeat an earlier key.

    skip: guid keys (from guid_keys) already stored; those entries are not normalized at all.
    """
    now, junk = _as_utc(now), _shared_guids(feed.entries)
    items: list[Item] = []
    keys: set[str] = set()
    for entry in feed.entries:
        if skip and _guid_key(entry, junk, feed_id) in skip:
            continue
        item = _to_item(entry, feed.link, source, feed_id, now, junk)
        if item is not None and item.key not in keys:
            keys.add(item.key)
            items.append(item)
    return items
