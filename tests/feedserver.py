"""A loopback feed server for tests, benchmarks and the demo: real HTTP on 127.0.0.1.

Routes are configured per path: a body with ETag/Last-Modified and real conditional-GET answers,
redirects, slow, failing, truncated, gzip-encoded, oversized and gzip-bomb responses. Every
request is logged per path (headers seen, status sent) and in-flight requests are counted so
tests can check politeness limits.

    server = FeedServer(); await server.start()
    server.set("/feed.xml", b"<rss>...</rss>")
    url = server.url("/feed.xml"); ...; server.count("/feed.xml", status=304)
"""

from __future__ import annotations

import asyncio
import hashlib
import time
import zlib
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime

import pytest_asyncio
from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy

_PIECE = 64 * 1024


@dataclass
class Route:
    """How one path answers. Fields left at their defaults give a plain cacheable 200."""

    body: bytes = b""
    content_type: str = "application/rss+xml; charset=utf-8"
    status: int = 200
    etag: str | None = None
    last_modified: datetime | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before the headers are sent
    gzip: bool = False  # send the body gzip-encoded
    chunked: bool = False  # no Content-Length: chunked transfer encoding
    location: str | None = None  # redirect target (status 3xx)
    truncate_at: int | None = None  # promise the whole body, send this many bytes, then hang up
    raw: bytes | None = None  # pre-encoded payload sent as is (gzip bombs)


@dataclass(frozen=True)
class Hit:
    """One request as the server saw it."""

    method: str
    path: str
    headers: CIMultiDictProxy[str]
    status: int
    at: float


def _http_date(when: datetime) -> str:
    return format_datetime(when.astimezone(UTC), usegmt=True)


def _gzip_stream(pieces: int, piece: bytes) -> bytes:
    """gzip of `pieces` copies of `piece`, built incrementally so memory stays small."""
    z = zlib.compressobj(9, zlib.DEFLATED, 31)
    return b"".join([*(z.compress(piece) for _ in range(pieces)), z.flush()])


def _etag_matches(header: str, etag: str) -> bool:
    """Weak comparison (RFC 9110 13.1.2): W/ prefixes are ignored, '*' matches anything."""
    def strip(tag: str) -> str:
        return tag.strip().removeprefix("W/")

    return any(t.strip() == "*" or strip(t) == strip(etag) for t in header.split(","))


def _not_modified_since(header: str, last_modified: datetime) -> bool:
    try:
        since = parsedate_to_datetime(header)
    except (TypeError, ValueError, IndexError):
        return False
    return since.tzinfo is not None and last_modified <= since


class FeedServer:
    """aiohttp.web on 127.0.0.1 with a random port; configure routes with set()/redirect()/..."""

    def __init__(self, host: str = "127.0.0.1"):
        self.host = host
        self.port = 0
        self.routes: dict[str, Route] = {}
        self.hits: dict[str, list[Hit]] = defaultdict(list)
        self.in_flight: dict[str, int] = defaultdict(int)
        self.peak: dict[str, int] = defaultdict(int)  # max concurrent requests seen, per path
        self.peak_total = 0
        self._active = 0
        self._runner: web.AppRunner | None = None
        self._bombs: dict[int, bytes] = {}

    # ---- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> FeedServer:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        # A short shutdown timeout: stopping must not wait for a deliberately slow route.
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=0.2)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FeedServer:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ---- configuration -----------------------------------------------------------------------

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"

    def set(self, path: str, body: bytes | str, *, content_type: str = Route.content_type,
            etag: bool | str = True, last_modified: bool | datetime = True, **options) -> Route:
        """Serve body at path; a changed body gets a new ETag and a later Last-Modified.

        etag: True = derived from the body, a string = that tag, False = no ETag header.
        last_modified: True = now (strictly after the previous one), a datetime, False = none.
        options: any other Route field (status, headers, delay, gzip, chunked, truncate_at).
        """
        body = body.encode() if isinstance(body, str) else body
        previous = self.routes.get(path)
        route = Route(body=body, content_type=content_type, **options)
        route.etag = self._etag(body, etag)
        route.last_modified = self._last_modified(previous, last_modified)
        self.routes[path] = route
        return route

    def redirect(self, path: str, to: str, status: int = 301) -> Route:
        """path answers `status` with Location: to (a path on this server or an absolute URL)."""
        route = self.routes[path] = Route(status=status, location=to, content_type="text/plain")
        return route

    def error(self, path: str, status: int, *, retry_after: str | None = None,
              body: bytes = b"error", **options) -> Route:
        """path fails with status (e.g. 500, or 429/503 with a Retry-After header)."""
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        route = Route(body=body, status=status, headers=headers, content_type="text/plain", **options)
        self.routes[path] = route
        return route

    def gzip_bomb(self, path: str, size: int = 64 * 1024 * 1024) -> Route:
        """path sends a small gzip payload that inflates to `size` zero bytes."""
        if size not in self._bombs:
            self._bombs[size] = _gzip_stream(size // _PIECE, bytes(_PIECE))
        route = Route(raw=self._bombs[size], gzip=True, etag=None)
        self.routes[path] = route
        return route

    @staticmethod
    def _etag(body: bytes, etag: bool | str) -> str | None:
        if isinstance(etag, str):
            return etag
        return f'"{hashlib.sha256(body).hexdigest()[:16]}"' if etag else None

    @staticmethod
    def _last_modified(previous: Route | None, value: bool | datetime) -> datetime | None:
        if isinstance(value, datetime):
            return value
        if not value:
            return None
        now = datetime.now(UTC).replace(microsecond=0)
        if previous is not None and previous.last_modified is not None:
            now = max(now, previous.last_modified + timedelta(seconds=1))
        return now

    # ---- inspection --------------------------------------------------------------------------

    def requests(self, path: str) -> list[Hit]:
        """Requests to path, oldest first."""
        return list(self.hits.get(path, ()))

    def count(self, path: str, status: int | None = None) -> int:
        return sum(1 for h in self.hits.get(path, ()) if status is None or h.status == status)

    def reset(self) -> None:
        """Forget the request log and concurrency peaks (routes stay)."""
        self.hits.clear()
        self.peak.clear()
        self.peak_total = 0

    # ---- serving -----------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        self._enter(path)
        status = 500
        try:
            route = self.routes.get(path)
            if route is None:
                status = 404
                return web.Response(status=404, text=f"no route {path}")
            if route.delay:
                await asyncio.sleep(route.delay)
            response = await self._respond(request, route)
            status = response.status
            return response
        finally:
            self._leave(path)
            self.hits[path].append(Hit(request.method, path, request.headers, status, time.monotonic()))

    def _enter(self, path: str) -> None:
        self.in_flight[path] += 1
        self._active += 1
        self.peak[path] = max(self.peak[path], self.in_flight[path])
        self.peak_total = max(self.peak_total, self._active)

    def _leave(self, path: str) -> None:
        self.in_flight[path] -= 1
        self._active -= 1

    async def _respond(self, request: web.Request, route: Route) -> web.StreamResponse:
        headers = CIMultiDict(route.headers)
        if route.location is not None:
            headers["Location"] = route.location
            return web.Response(status=route.status, headers=headers, text="moved")
        if route.etag:
            headers["ETag"] = route.etag
        if route.last_modified:
            headers["Last-Modified"] = _http_date(route.last_modified)
        if route.status == 200 and self._fresh(request, route):
            return web.Response(status=304, headers=headers)
        headers["Content-Type"] = route.content_type
        payload = route.raw if route.raw is not None else route.body
        if route.gzip:
            headers["Content-Encoding"] = "gzip"
            payload = payload if route.raw is not None else _gzip_stream(1, payload)
        if route.truncate_at is not None:
            return await self._truncated(request, route, headers, payload)
        if route.chunked:
            return await self._chunked(request, route, headers, payload)
        return web.Response(status=route.status, headers=headers, body=payload)

    @staticmethod
    def _fresh(request: web.Request, route: Route) -> bool:
        """Conditional GET: If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2)."""
        if_none_match = request.headers.get("If-None-Match")
        if if_none_match is not None:
            return route.etag is not None and _etag_matches(if_none_match, route.etag)
        since = request.headers.get("If-Modified-Since")
        return bool(since and route.last_modified and _not_modified_since(since, route.last_modified))

    @staticmethod
    async def _chunked(request: web.Request, route: Route, headers: CIMultiDict,
                       payload: bytes) -> web.StreamResponse:
        response = web.StreamResponse(status=route.status, headers=headers)
        response.enable_chunked_encoding()
        await response.prepare(request)
        for start in range(0, len(payload), _PIECE):
            await response.write(payload[start:start + _PIECE])
        await response.write_eof()
        return response

    @staticmethod
    async def _truncated(request: web.Request, route: Route, headers: CIMultiDict,
                         payload: bytes) -> web.StreamResponse:
        """Promise len(payload) bytes, send truncate_at of them, then close the connection."""
        response = web.StreamResponse(status=route.status, headers=headers)
        response.content_length = len(payload)
        await response.prepare(request)
        await response.write(payload[: route.truncate_at])
        assert request.transport is not None
        request.transport.close()
        return response


@pytest_asyncio.fixture
async def feed_server() -> AsyncIterator[FeedServer]:
    """A started FeedServer on 127.0.0.1, stopped after the test."""
    async with FeedServer() as server:
        yield server
