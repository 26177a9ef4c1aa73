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
import html
import re
from collections.abc import Container
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote_plus, urljoin, urlsplit, urlunsplit

from bot.models import Item, ParsedFeed, RawEntry
from bot.text import fold, words

TITLE_FROM_SUMMARY_CHARS = 80
MAX_TITLE_CHARS = 300
MAX_SUMMARY_CHARS = 1500  # enough for matching and alerts; full articles would bloat history
FUTURE_TOLERANCE = timedelta(days=1)

# --- html_to_text -------------------------------------------------------------------------

# Content that is never shown, up to its closing tag (or the end, as a browser would treat it).
_HIDDEN_OPEN = re.compile(r"<(script|style|noscript|template)\b|<(!--)", re.I)
_HIDDEN_CLOSE = {
    name: re.compile(rf"</{name}\s*>", re.I) for name in ("script", "style", "noscript", "template")
}
_HIDDEN_CLOSE["!--"] = re.compile("-->")
_BREAKING_TAG = re.compile(
    r"</?(?:p|div|br|li|ul|ol|h[1-6]|tr|td|th|table|blockquote|section|article|header|footer"
    r"|figure|figcaption|img|hr|pre|dd|dt|dl|iframe)\b[^<>]*>",
    re.I,
)
# Only names of HTML elements (or namespaced ones, "o:p", "media:content") are tags: in plain text
# "x<y and a>b" is a comparison, and must not lose "y and a".
_ELEMENTS = (
    "a abbr acronym address area article aside audio b base basefont bdi bdo big blink blockquote body br "
    "button canvas caption center cite code col colgroup data datalist dd del details dfn dialog dir div dl "
    "dt em embed fieldset figcaption figure font footer form frame frameset h1 h2 h3 h4 h5 h6 head header "
    "hgroup hr html i iframe img input ins kbd label legend li link main map mark marquee menu meta meter "
    "nav nobr noframes noscript object ol optgroup option output p param picture pre progress q rp rt ruby "
    "s samp script search section select small source span strike strong style sub summary sup svg table "
    "tbody td template textarea tfoot th thead time title tr track tt u ul var video wbr"
).split()
_ELEMENT_NAMES = frozenset(_ELEMENTS)
_ANY_TAG = re.compile(r"</?([A-Za-z][\w.:-]*)(?=[\s/>])[^<>]*>|<![^<>]*>|<\?[^<>]*>")


def _tag_or_text(m: re.Match[str]) -> str:
    name = m.group(1)
    if name is None or ":" in name or "-" in name or name.lower() in _ELEMENT_NAMES:
        return ""
    return m.group()


# Markup that survives one entity decode: an escaped-HTML summary (&lt;p&gt;) inside HTML.
_ESCAPED_MARKUP = re.compile(
    r"</?(?:p|br|div|span|a|b|i|em|strong|img|ul|ol|li|h[1-6]|font|figure|table|iframe|object|embed)\b[^<>]*>",
    re.I,
)
# Only entities with their ';': "R&D" or "?a=1&copy=2" stay as written.
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_CONTROL = dict.fromkeys([*range(0, 9), 11, 12, *range(14, 32), 127, 0x200B, 0xFEFF])
# Boilerplate endings: (words that must occur near the end, pattern, how far from the end).
_TAILS = (
    (
        ("appeared first on",),
        re.compile(r"The post .{1,300}? appeared first on .{1,200}$", re.S),
        520,
    ),
    (
        ("reading", "Read "),
        re.compile(
            r"(?:Continue|Keep) reading\b.{0,160}$|Read (?:more|(?:the )?full (?:story|article))\b.{0,160}$",
            re.S,
        ),
        200,
    ),
)
_ELLIPSES = ("[…]", "[...]")


def _drop_hidden(markup: str) -> str:
    """Markup without scripts, styles and comments; one forward pass, so linear on any input."""
    kept, pos = [], 0
    while match := _HIDDEN_OPEN.search(markup, pos):
        kept.append(markup[pos : match.start()])
        close = _HIDDEN_CLOSE[(match.group(1) or match.group(2)).lower()].search(
            markup, match.end()
        )
        pos = close.end() if close else len(markup)
    kept.append(markup[pos:])
    return " ".join(kept)


def _strip_tags(markup: str) -> str:
    return _ANY_TAG.sub(_tag_or_text, _BREAKING_TAG.sub(" ", _drop_hidden(markup)))


def _decode(text: str) -> str:
    return _ENTITY.sub(lambda m: html.unescape(m.group()), text)


def _drop_tail(text: str) -> str:
    """Text without one boilerplate ending ("The post X appeared first on Y", "Read more")."""
    for markers, pattern, window in _TAILS:
        start = max(0, len(text) - window)
        if not any(text.find(marker, start) >= 0 for marker in markers):
            continue  # a substring scan is far cheaper than the regex
        match = pattern.search(text, start)
        if match and (match.start() == 0 or text[match.start() - 1].isspace()):
            return text[: match.start()].rstrip()
    if text.endswith(_ELLIPSES):
        return text[: text.rindex("[")].rstrip() + "…"
    return text


def _drop_tails(text: str) -> str:
    for _ in range(3):  # a WordPress summary can end in "[…] Continue reading → The post ..."
        shorter = _drop_tail(text)
        if shorter == text:
            break
        text = shorter
    return text


def html_to_text(markup: str) -> str:
    """Plain text of an HTML fragment: tags and scripts gone, entities decoded, spaces folded."""
    text = _strip_tags(markup) if "<" in markup else markup
    if "&" in text:
        text = _decode(text)
        if "<" in text and _ESCAPED_MARKUP.search(text):
            text = _strip_tags(text)
        if "&" in text:  # double-escaped entities (&amp;amp;, &amp;#8217;) are common in feeds
            text = _decode(text)
    text = " ".join(text.translate(_CONTROL).split())
    return _drop_tails(text)


def _clip(text: str, limit: int) -> str:
    """Text cut to at most `limit` characters at a word boundary, with an ellipsis if cut."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-") + "…"


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
    if not (title or summary or url):
        return None
    title = _clip(title, MAX_TITLE_CHARS) or _clip(summary or url or "", TITLE_FROM_SUMMARY_CHARS)
    summary = _clip(summary, MAX_SUMMARY_CHARS)
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
    )


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
