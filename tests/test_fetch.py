"""Fetcher against a real loopback HTTP server; header parsing and the SSRF guard as tables."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp.abc import AbstractResolver, ResolveResult

from bot.config import PollingSettings, parse_config
from bot.ingest.fetch import Fetcher, parse_max_age, parse_retry_after
from bot.ingest.netguard import BlockedAddressError, blocked_reason
from bot.ingest.resolver import GuardedResolver
from bot.models import FeedForUpdate, FetchResult, FetchStatus
from tests.feedserver import FeedServer

pytest_plugins = ["tests.feedserver"]  # the feed_server fixture

RSS = b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title></channel></rss>'


def polling(**overrides: object) -> PollingSettings:
    """Default polling settings, loopback allowed, with overrides."""
    base = parse_config({}, Path("config.toml")).polling
    return replace(base, **{"allow_private_networks": True, **overrides})


def feed(url: str, **known: object) -> FeedForUpdate:
    return FeedForUpdate(id=1, url=url, name="test", **known)


def remember(f: FeedForUpdate, result: FetchResult) -> FeedForUpdate:
    """What the store keeps after a fetch."""
    return replace(f, etag=result.etag, last_modified=result.last_modified, body_hash=result.body_hash)


async def fetch_once(url: str, settings: PollingSettings | None = None, **known: object) -> FetchResult:
    async with Fetcher(settings or polling()) as fetcher:
        return await fetcher.fetch(feed(url, **known))


def kind(result: FetchResult) -> str:
    assert result.status is FetchStatus.ERROR, result
    return (result.error or "").split(":", 1)[0]


# ---- conditional GET and unchanged bodies ----------------------------------------------------


async def test_conditional_get_round_trip(feed_server: FeedServer) -> None:
    feed_server.set("/rss", RSS, headers={"Cache-Control": "public, max-age=600"})
    f = feed(feed_server.url("/rss"))
    async with Fetcher(polling()) as fetcher:
        first = await fetcher.fetch(f)
        second = await fetcher.fetch(remember(f, first))
        stats = dict(fetcher.stats)
    assert (first.status, first.body, first.http_status) == (FetchStatus.NEW, RSS, 200)
    assert first.etag and first.last_modified and first.max_age == 600
    assert (second.status, second.body, second.http_status) == (FetchStatus.NOT_MODIFIED, b"", 304)
    assert (second.etag, second.body_hash, second.max_age) == (first.etag, first.body_hash, 600)
    sent = feed_server.requests("/rss")[1].headers
    assert sent["If-None-Match"] == first.etag
    assert sent["If-Modified-Since"] == first.last_modified
    assert sent["User-Agent"] == polling().user_agent
    assert feed_server.count("/rss", status=304) == 1
    assert stats == {"requests": 2, "new": 1, "not_modified": 1, "unchanged": 0, "errors": 0,
                     "bytes": len(RSS)}


async def test_if_modified_since_alone_gives_304(feed_server: FeedServer) -> None:
    feed_server.set("/rss", RSS, etag=False)
    first = await fetch_once(feed_server.url("/rss"))
    second = await fetch_once(feed_server.url("/rss"), last_modified=first.last_modified)
    assert first.etag is None and second.status is FetchStatus.NOT_MODIFIED


async def test_changed_body_is_new_again(feed_server: FeedServer) -> None:
    feed_server.set("/rss", RSS)
    f = feed(feed_server.url("/rss"))
    async with Fetcher(polling()) as fetcher:
        first = await fetcher.fetch(f)
        feed_server.set("/rss", RSS + b"<!-- v2 -->")
        second = await fetcher.fetch(remember(f, first))
    assert second.status is FetchStatus.NEW and second.body.endswith(b"v2 -->")
    assert second.etag != first.etag and second.body_hash != first.body_hash


async def test_same_body_without_validators_is_unchanged(feed_server: FeedServer) -> None:
    feed_server.set("/rss", RSS, etag=False, last_modified=False)
    f = feed(feed_server.url("/rss"))
    async with Fetcher(polling()) as fetcher:
        first = await fetcher.fetch(f)
        second = await fetcher.fetch(remember(f, first))
        assert fetcher.stats["unchanged"] == 1
    assert first.status is FetchStatus.NEW
    assert (second.status, second.body, second.body_hash) == (FetchStatus.UNCHANGED, b"", first.body_hash)
    assert "If-None-Match" not in feed_server.requests("/rss")[1].headers


async def test_gzip_body_is_decoded(feed_server: FeedServer) -> None:
    feed_server.set("/rss", RSS * 50, gzip=True)
    result = await fetch_once(feed_server.url("/rss"))
    assert result.status is FetchStatus.NEW and result.body == RSS * 50
    assert "gzip" in feed_server.requests("/rss")[0].headers["Accept-Encoding"]


# ---- redirects -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("statuses", "moves"),
    [([301], True), ([308], True), ([301, 308, 301], True), ([302], False), ([301, 302], False),
     ([307, 301], False), ([303], False)],
)
async def test_redirect_chain(feed_server: FeedServer, statuses: list[int], moves: bool) -> None:
    feed_server.set("/final", RSS)
    paths = [f"/hop{i}" for i in range(len(statuses))] + ["/final"]
    for i, status in enumerate(statuses):
        target = paths[i + 1] if i % 2 else feed_server.url(paths[i + 1])  # relative and absolute
        feed_server.redirect(paths[i], target, status)
    result = await fetch_once(feed_server.url(paths[0]))
    assert result.status is FetchStatus.NEW and result.body == RSS
    assert result.final_url == (feed_server.url("/final") if moves else None)


async def test_redirect_loop_is_an_error(feed_server: FeedServer) -> None:
    feed_server.redirect("/a", "/b", 302)
    feed_server.redirect("/b", "/a", 302)
    result = await fetch_once(feed_server.url("/a"))
    assert kind(result) == "too_many_redirects"
    assert feed_server.count("/a") + feed_server.count("/b") == polling().max_redirects + 1


@pytest.mark.parametrize(("hops", "ok"), [(2, True), (3, False)])
async def test_max_redirects(feed_server: FeedServer, hops: int, ok: bool) -> None:
    feed_server.set("/end", RSS)
    for i in range(hops):
        feed_server.redirect(f"/r{i}", f"/r{i + 1}" if i + 1 < hops else "/end", 301)
    result = await fetch_once(feed_server.url("/r0"), polling(max_redirects=2))
    assert (result.status is FetchStatus.NEW) is ok
    assert ok or kind(result) == "too_many_redirects"


@pytest.mark.parametrize("location", ["http://", "https://", "//"])
async def test_a_redirect_to_no_host_is_a_bad_url_not_a_loop(feed_server: FeedServer, location: str) -> None:
    feed_server.redirect("/r", location, 302)
    result = await fetch_once(feed_server.url("/r"))
    assert kind(result) == "bad_url" and f"redirect to {location!r}: no host" in result.error
    assert feed_server.count("/r") == 1


async def test_redirect_to_other_scheme_is_refused(feed_server: FeedServer) -> None:
    feed_server.redirect("/r", "file:///etc/passwd", 302)
    assert kind(await fetch_once(feed_server.url("/r"))) == "bad_url"


# ---- failures become values ------------------------------------------------------------------


async def test_slow_response_times_out(feed_server: FeedServer) -> None:
    feed_server.set("/slow", RSS, delay=2.0)
    result = await fetch_once(feed_server.url("/slow"), polling(timeout=0.3))
    assert kind(result) == "timeout"


@pytest.mark.parametrize("how", ["content_length", "chunked", "gzip", "gzip_bomb"])
async def test_oversized_body_is_refused(feed_server: FeedServer, how: str) -> None:
    big = b"<rss>" + b"x" * 300_000
    if how == "gzip_bomb":
        feed_server.gzip_bomb("/big", size=32 * 1024 * 1024)
    else:
        feed_server.set("/big", big, chunked=how == "chunked", gzip=how == "gzip")
    result = await fetch_once(feed_server.url("/big"), polling(max_bytes=100_000))
    assert kind(result) == "too_large"
    assert ("Content-Length" in (result.error or "")) is (how == "content_length")


async def test_body_at_the_cap_is_accepted(feed_server: FeedServer) -> None:
    feed_server.set("/rss", b"x" * 1000, chunked=True)
    assert (await fetch_once(feed_server.url("/rss"), polling(max_bytes=1000))).body == b"x" * 1000


async def test_server_error(feed_server: FeedServer) -> None:
    feed_server.error("/rss", 500)
    result = await fetch_once(feed_server.url("/rss"))
    assert result.error == "http: 500 Internal Server Error"
    assert (result.http_status, result.retry_after) == (500, None)


@pytest.mark.parametrize(("status", "header", "seconds"), [
    (429, "120", 120),
    (503, "7", 7),
    (429, "in a while", None),
    (500, "120", None),  # only 429 and 503 carry a meaningful Retry-After
])
async def test_retry_after(feed_server: FeedServer, status: int, header: str,
                           seconds: float | None) -> None:
    feed_server.error("/rss", status, retry_after=header)
    result = await fetch_once(feed_server.url("/rss"))
    assert kind(result) == "http" and result.http_status == status
    assert result.retry_after == seconds


async def test_retry_after_http_date_is_relative_to_server_clock(feed_server: FeedServer) -> None:
    # The server stamps Date itself; an hour after it must read as about an hour.
    server_now = datetime.now(UTC).timestamp()
    later = datetime.fromtimestamp(server_now + 3600, UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")
    feed_server.error("/rss", 429, retry_after=later)
    result = await fetch_once(feed_server.url("/rss"))
    assert result.retry_after is not None and 3590 <= result.retry_after <= 3601


async def test_truncated_body_is_an_error(feed_server: FeedServer) -> None:
    feed_server.set("/rss", RSS * 100, truncate_at=200)
    assert kind(await fetch_once(feed_server.url("/rss"))) == "payload"


async def test_connection_refused_is_a_network_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again before the fetch: nobody listens there
    assert kind(await fetch_once(f"http://127.0.0.1:{port}/rss")) == "network"


@pytest.mark.parametrize("url", ["ftp://example.org/feed", "file:///etc/passwd", "feed.xml", "http:///x"])
async def test_bad_urls(url: str) -> None:
    assert kind(await fetch_once(url)) == "bad_url"


# ---- politeness ------------------------------------------------------------------------------


async def test_per_host_limit(feed_server: FeedServer) -> None:
    for i in range(6):
        feed_server.set(f"/f{i}", RSS, delay=0.1)
    async with Fetcher(polling(per_host=2, concurrency=10)) as fetcher:
        results = await asyncio.gather(*(fetcher.fetch(feed(feed_server.url(f"/f{i}"))) for i in range(6)))
    assert {r.status for r in results} == {FetchStatus.NEW}
    assert feed_server.peak_total == 2


async def test_global_limit_across_hosts(feed_server: FeedServer) -> None:
    # 127.0.0.1 and localhost are two host names for the same server: per-host 2 each, 3 overall.
    for i in range(8):
        feed_server.set(f"/f{i}", RSS, delay=0.1)
    urls = [feed_server.url(f"/f{i}") for i in range(8)]
    urls = [u.replace("127.0.0.1", "localhost") if i % 2 else u for i, u in enumerate(urls)]
    async with Fetcher(polling(per_host=2, concurrency=3)) as fetcher:
        results = await asyncio.gather(*(fetcher.fetch(feed(u)) for u in urls))
    assert {r.status for r in results} == {FetchStatus.NEW}
    assert feed_server.peak_total == 3


# ---- SSRF guard ------------------------------------------------------------------------------


@pytest.mark.parametrize(("host", "named"), [
    ("127.0.0.1", "127.0.0.1 is"),
    ("[::1]", "::1 is"),
    ("10.1.2.3", "10.1.2.3 is"),
    ("[::ffff:127.0.0.1]", "embeds IPv4 127.0.0.1"),
    ("localhost", "localhost resolves to "),
])
async def test_guard_refuses_private_targets(feed_server: FeedServer, host: str, named: str) -> None:
    feed_server.set("/rss", RSS)
    url = feed_server.url("/rss").replace("127.0.0.1", host)
    result = await fetch_once(url, polling(allow_private_networks=False, timeout=2))
    assert kind(result) == "blocked"
    assert named in (result.error or "") and "not a public address" in (result.error or "")
    assert feed_server.count("/rss") == 0


async def test_guard_can_be_forced_off(feed_server: FeedServer) -> None:
    feed_server.set("/rss", RSS)
    settings = polling(allow_private_networks=False)
    async with Fetcher(settings, resolver_guard=False) as fetcher:
        assert (await fetcher.fetch(feed(feed_server.url("/rss")))).status is FetchStatus.NEW


class _FixedResolver(AbstractResolver):
    """Answers every lookup with the given addresses (what a rebinding DNS server would say)."""

    def __init__(self, *addresses: str):
        self.addresses = addresses

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        return [ResolveResult(hostname=host, host=a, port=port, family=socket.AF_INET, proto=0,
                              flags=0) for a in self.addresses]

    async def close(self) -> None:
        pass


async def test_guarded_resolver_refuses_if_any_address_is_private() -> None:
    assert await GuardedResolver(_FixedResolver("93.184.216.34")).resolve("example.org", 80)
    with pytest.raises(BlockedAddressError, match=r"feeds\.example resolves to 192\.168\.1\.5"):
        await GuardedResolver(_FixedResolver("93.184.216.34", "192.168.1.5")).resolve("feeds.example", 80)


@pytest.mark.parametrize(("address", "reason"), [
    ("93.184.216.34", None),
    ("2606:2800:220:1:248:1893:25c8:1946", None),
    ("127.0.0.1", "loopback"),
    ("127.8.9.10", "loopback"),
    ("::1", "loopback"),
    ("0.0.0.0", "unspecified"),
    ("::", "unspecified"),
    ("10.0.0.1", "private"),
    ("172.16.5.4", "private"),
    ("192.168.0.1", "private"),
    ("fc00::1", "private"),
    ("169.254.169.254", "link-local"),  # cloud metadata endpoint
    ("fe80::1", "link-local"),
    ("224.0.0.1", "multicast"),
    ("ff02::1", "multicast"),
    ("240.0.0.1", "reserved"),
    ("100.64.0.1", "shared (carrier-grade NAT)"),
    ("::ffff:127.0.0.1", "loopback: embeds IPv4 127.0.0.1"),
    ("::ffff:10.0.0.1", "private: embeds IPv4 10.0.0.1"),
    ("2002:7f00:1::", "loopback: embeds IPv4 127.0.0.1"),  # 6to4
    ("2002:a00:1::", "private: embeds IPv4 10.0.0.1"),
    ("64:ff9b::a9fe:a9fe", "link-local: embeds IPv4 169.254.169.254"),  # NAT64
    ("::ffff:93.184.216.34", None),
])
def test_blocked_reason(address: str, reason: str | None) -> None:
    assert blocked_reason(ipaddress.ip_address(address)) == reason


# ---- header parsing --------------------------------------------------------------------------


@pytest.mark.parametrize(("header", "seconds"), [
    (None, None), ("", None), ("max-age=300", 300), ("public, max-age=60", 60),
    ('max-age="90"', 90), ("MAX-AGE=5", 5), ("max-age=abc", None), ("no-cache, max-age=300", None),
    ("no-store", None), ("s-maxage=100", None), ("max-age=0", 0),
])
def test_parse_max_age(header: str | None, seconds: float | None) -> None:
    assert parse_max_age(header) == seconds


NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(("header", "seconds"), [
    (None, None), ("", None), ("120", 120), (" 30 ", 30), ("-5", None), ("1.5", None),
    ("soon", None), ("Wed, 01 May 2024 12:10:00 GMT", 600),
    ("Wed, 01 May 2024 11:00:00 GMT", 0),  # in the past: retry now
])
def test_parse_retry_after(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header, NOW) == seconds
