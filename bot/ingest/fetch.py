"""HTTP fetching: conditional GET, size and time caps, manual redirects, SSRF guard.

Fetcher.fetch never raises for network, HTTP or feed problems: it returns FetchResult(status=ERROR,
error="kind: message"). Kinds: bad_url, blocked, timeout, too_large, too_many_redirects, http,
network (connect/DNS/protocol failures), payload (body cut short or not decodable).
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType

import aiohttp
from aiohttp import ClientSession, ClientTimeout, DummyCookieJar, TCPConnector
from yarl import URL

from bot.config import PollingSettings
from bot.ingest.netguard import BadHostError, BlockedAddressError, fetch_target, parse_url
from bot.ingest.resolver import GuardedResolver
from bot.models import FeedForUpdate, FetchResult, FetchStatus

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_PERMANENT = frozenset({301, 308})
_RETRY_STATUSES = frozenset({429, 503})
_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.8"
)
_STAT_KEYS = ("requests", "new", "not_modified", "unchanged", "errors", "bytes")


class _FetchFailed(Exception):
    """Internal: a failure on its way to becoming a FetchResult."""

    def __init__(self, kind: str, message: str, *, http_status: int | None = None,
                 retry_after: float | None = None):
        super().__init__(f"{kind}: {message}")
        self.http_status, self.retry_after = http_status, retry_after


def _utcnow() -> datetime:
    return datetime.now(UTC)


# ---- pure header parsing ---------------------------------------------------------------------


def parse_http_date(value: str | None) -> datetime | None:
    """An RFC 9110 HTTP-date as an aware UTC datetime, or None when absent or malformed."""
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Retry-After as seconds from now: delta-seconds or an HTTP-date; None when unparseable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    when = parse_http_date(value)
    return None if when is None else max(0.0, (when - now).total_seconds())


def parse_max_age(value: str | None) -> float | None:
    """Cache-Control max-age in seconds; None when absent, malformed or no-store/no-cache."""
    if not value:
        return None
    age = None
    for directive in value.lower().split(","):
        name, _, arg = directive.strip().partition("=")
        if name in ("no-store", "no-cache"):
            return None
        if name == "max-age" and arg.strip('" ').isdigit():
            age = float(arg.strip('" '))
    return age


# ---- the fetcher -----------------------------------------------------------------------------


class Fetcher:
    """Fetches feeds over one aiohttp session with global and per-host concurrency limits."""

    def __init__(self, settings: PollingSettings, *, resolver_guard: bool | None = None,
                 clock: Callable[[], datetime] = _utcnow):
        self.settings = settings
        self.guard = not settings.allow_private_networks if resolver_guard is None else resolver_guard
        self.stats: dict[str, int] = dict.fromkeys(_STAT_KEYS, 0)
        self._clock = clock
        self._session: ClientSession | None = None
        # Our own semaphores gate requests before the timeout starts, so time spent queueing
        # behind other feeds never counts as a feed's timeout.
        self._slots = asyncio.Semaphore(settings.concurrency)
        self._hosts: dict[str, asyncio.Semaphore] = {}

    async def __aenter__(self) -> Fetcher:
        self._open()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the session and its connections; the fetcher may be reopened by fetching again."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _open(self) -> ClientSession:
        """The session, created on first use (it needs a running event loop)."""
        if self._session is None:
            resolver = aiohttp.DefaultResolver()
            connector = TCPConnector(
                limit=self.settings.concurrency,
                limit_per_host=self.settings.per_host,
                resolver=GuardedResolver(resolver) if self.guard else resolver,
            )
            headers = {"User-Agent": self.settings.user_agent, "Accept": _ACCEPT,
                       "Accept-Encoding": "gzip, deflate"}
            self._session = ClientSession(
                connector=connector, headers=headers, cookie_jar=DummyCookieJar(),
                timeout=ClientTimeout(), auto_decompress=True, trust_env=False,
            )
        return self._session

    async def fetch(self, feed: FeedForUpdate) -> FetchResult:
        """One feed, following redirects; every failure comes back as status ERROR."""
        started = time.monotonic()
        try:
            result = await self._follow(feed)
        except _FetchFailed as exc:
            result = FetchResult(FetchStatus.ERROR, error=str(exc), http_status=exc.http_status,
                                 retry_after=exc.retry_after)
        except Exception as exc:  # noqa: BLE001 - every network failure becomes a value
            result = FetchResult(FetchStatus.ERROR, error=self._describe(exc))
        self._count(result)
        return replace(result, elapsed=time.monotonic() - started)

    async def _follow(self, feed: FeedForUpdate) -> FetchResult:
        """Follow redirects by hand so each hop is checked; report the URL if all were permanent."""
        url, permanent = self._parse(feed.url), True
        for hop in range(self.settings.max_redirects + 1):
            outcome = await self._hop(url, feed)
            if isinstance(outcome, FetchResult):
                return replace(outcome, final_url=str(url)) if hop and permanent else outcome
            status, url = outcome
            permanent = permanent and status in _PERMANENT
        raise _FetchFailed("too_many_redirects",
                           f"more than {self.settings.max_redirects} redirects (next: {url})")

    async def _hop(self, url: URL, feed: FeedForUpdate) -> FetchResult | tuple[int, URL]:
        """One request within the host and global limits, under the timeout."""
        url = self._check_url(url)
        async with self._host_slot(url.host or ""), self._slots:
            async with asyncio.timeout(self.settings.timeout):
                return await self._exchange(url, feed)

    @staticmethod
    def _parse(text: str) -> URL:
        try:
            return parse_url(text)
        except BadHostError as exc:
            raise _FetchFailed("bad_url", str(exc)) from None

    def _check_url(self, url: URL) -> URL:
        """The URL to connect to (host parsed and checked by netguard, never left to aiohttp)."""
        try:
            return fetch_target(url, guard=self.guard)
        except BadHostError as exc:
            raise _FetchFailed("bad_url", str(exc)) from None

    def _host_slot(self, host: str) -> asyncio.Semaphore:
        slot = self._hosts.get(host)
        if slot is None:
            slot = self._hosts[host] = asyncio.Semaphore(self.settings.per_host)
        return slot

    async def _exchange(self, url: URL, feed: FeedForUpdate) -> FetchResult | tuple[int, URL]:
        """Send the conditional GET and turn the response into a result or a redirect."""
        self.stats["requests"] += 1
        headers = {}
        if feed.etag:
            headers["If-None-Match"] = feed.etag
        if feed.last_modified:
            headers["If-Modified-Since"] = feed.last_modified
        async with self._open().get(url, headers=headers, allow_redirects=False) as resp:
            status = resp.status
            if status == 304:
                return self._not_modified(resp, feed)
            if status in _REDIRECTS:
                return status, self._location(resp, url)
            if not 200 <= status < 300:
                raise self._http_error(resp)
            body = await self._read_capped(resp)
            return self._success(resp, feed, body)

    def _not_modified(self, resp: aiohttp.ClientResponse, feed: FeedForUpdate) -> FetchResult:
        h = resp.headers
        return FetchResult(FetchStatus.NOT_MODIFIED, body_hash=feed.body_hash,
                           etag=h.get("ETag", feed.etag),
                           last_modified=h.get("Last-Modified", feed.last_modified),
                           http_status=304, max_age=parse_max_age(h.get("Cache-Control")))

    def _success(self, resp: aiohttp.ClientResponse, feed: FeedForUpdate, body: bytes) -> FetchResult:
        digest = hashlib.sha256(body).hexdigest()
        h = resp.headers
        status = FetchStatus.UNCHANGED if digest == feed.body_hash else FetchStatus.NEW
        return FetchResult(status, body=b"" if status is FetchStatus.UNCHANGED else body,
                           body_hash=digest, etag=h.get("ETag"),
                           last_modified=h.get("Last-Modified"), http_status=resp.status,
                           max_age=parse_max_age(h.get("Cache-Control")))

    @staticmethod
    def _location(resp: aiohttp.ClientResponse, url: URL) -> URL:
        location = resp.headers.get("Location")
        if not location:
            raise _FetchFailed("http", f"{resp.status} {resp.reason} without a Location header",
                               http_status=resp.status)
        try:
            target = Fetcher._parse(location)
        except ValueError as exc:
            raise _FetchFailed("bad_url", f"redirect to {location!r}: {exc}") from None
        if (target.scheme or location.lstrip().startswith("//")) and not target.host:
            # "http://" joined to the feed's URL is the feed's URL again: not a loop, a broken header
            raise _FetchFailed("bad_url", f"redirect to {location!r}: no host")
        return url.join(target).with_fragment(None)

    def _http_error(self, resp: aiohttp.ClientResponse) -> _FetchFailed:
        retry_after = None
        if resp.status in _RETRY_STATUSES:
            now = parse_http_date(resp.headers.get("Date")) or self._clock()  # the server's clock
            retry_after = parse_retry_after(resp.headers.get("Retry-After"), now)
        return _FetchFailed("http", f"{resp.status} {resp.reason or ''}".strip(),
                            http_status=resp.status, retry_after=retry_after)

    async def _read_capped(self, resp: aiohttp.ClientResponse) -> bytes:
        """Read the (decompressed) body, refusing it as soon as it passes max_bytes."""
        limit = self.settings.max_bytes
        if resp.content_length is not None and resp.content_length > limit:
            raise _FetchFailed("too_large", f"Content-Length {resp.content_length} exceeds {limit} bytes")
        chunks, size = [], 0
        async for chunk in resp.content.iter_any():
            size += len(chunk)
            if size > limit:
                raise _FetchFailed("too_large", f"body exceeds {limit} bytes (after decompression)")
            chunks.append(chunk)
        self.stats["bytes"] += size
        return b"".join(chunks)

    def _describe(self, exc: Exception) -> str:
        """'kind: message' for an exception raised by aiohttp, the resolver or the guard."""
        if isinstance(exc, BlockedAddressError):
            return f"blocked: {exc}"
        if isinstance(exc, TimeoutError):
            return f"timeout: no complete response within {self.settings.timeout:g}s"
        if isinstance(exc, aiohttp.ClientPayloadError):
            return f"payload: {exc}"
        if isinstance(exc, aiohttp.InvalidURL | ValueError):
            return f"bad_url: {exc}"
        if isinstance(exc, aiohttp.ClientError | OSError):
            return f"network: {exc or type(exc).__name__}"
        raise exc  # anything else is a bug, not a feed problem

    def _count(self, result: FetchResult) -> None:
        key = "errors" if result.status is FetchStatus.ERROR else result.status.value
        self.stats[key] += 1
