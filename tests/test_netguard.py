"""The SSRF guard's own host parser, as a table, and end to end: the fetcher, a config feed and
/addfeed refuse every spelling of a private address whatever aiohttp version is installed."""

from __future__ import annotations

import pytest

from bot.ingest.fetch import Fetcher
from bot.ingest.netguard import BadHostError, BlockedAddressError, check_url, parse_url
from bot.models import FetchStatus
from tests.botapi import bot_api  # noqa: F401  (fixture)
from tests.test_fetch import RSS, feed, kind, polling
from tests.tg_harness import ADMIN, COUNCIL, ask, rss, start_app, write_config

pytest_plugins = ["tests.feedserver"]

# (URL, what the guard says): a reason (blocked), "bad" (not a host at all), or the URL connected to.
TABLE = [
    ("http://2130706433/", "127.0.0.1, which is not a public address (loopback)"),  # decimal
    ("http://017700000001/", "loopback"),  # octal, one part
    ("http://0177.0.0.1/", "loopback"),  # octal part
    ("http://0x7f.1/", "loopback"),  # hex, short
    ("http://0X7F000001/", "loopback"),  # hex, one part
    ("http://0x7f.0x0.0x0.0x1/", "loopback"),
    ("http://127.1/", "loopback"),  # short dotted
    ("http://127.0.1/", "loopback"),
    ("http://127.000.000.001/", "loopback"),  # zero-padded (octal zeros)
    ("http://0/", "0.0.0.0, which is not a public address (unspecified)"),
    ("http://0.0.0.0/", "unspecified"),
    ("http://127.0.0.1./", "loopback"),  # trailing dot
    ("http://127.0.0.1.:8080/x", "loopback"),
    ("http://[::1]/", "loopback"),
    ("http://[::ffff:127.0.0.1]/", "loopback: embeds IPv4 127.0.0.1"),  # IPv4-mapped
    ("http://[::ffff:a00:1]/", "private: embeds IPv4 10.0.0.1"),
    ("http://[64:ff9b::7f00:1]/", "loopback: embeds IPv4 127.0.0.1"),  # NAT64
    ("http://[64:ff9b:1::a9fe:a9fe]/", "link-local: embeds IPv4 169.254.169.254"),  # local NAT64
    ("http://[2002:7f00:1::]/", "loopback: embeds IPv4 127.0.0.1"),  # 6to4
    ("http://[2002:c0a8:101::1]/", "private: embeds IPv4 192.168.1.1"),
    ("http://[::127.0.0.1]/", "reserved"),  # IPv4-compatible (deprecated)
    ("http://[fe80::1%25eth0]/", "scoped"),  # a zone id
    ("http://[fe80::1]/", "link-local"),
    ("http://[fc00::1]/", "private"),
    ("http://good.example@127.0.0.1/", "loopback"),  # userinfo: the host is after the @
    ("http://good.example:80@127.0.0.1/", "loopback"),
    ("http://a@b@127.0.0.1/", "loopback"),
    ("http://good.example\\@127.0.0.1/", "bad"),  # browsers and RFC 3986 disagree: refused
    ("http://127.0.0.1\\@good.example/", "bad"),
    ("http://good.example%5C@127.0.0.1/", "loopback"),
    ("http://１２７.０.０.１/", "loopback"),  # full-width digits: IDNA maps them to ASCII
    ("http://127。0。0。1/", "loopback"),  # ideographic full stops
    ("http://10.0.0.1/", "private"),
    ("http://012.0.0.1/", "private"),  # octal 012 = 10
    ("http://192.168.0.1/", "private"),
    ("http://3232235521/", "private"),  # 192.168.0.1
    ("http://169.254.169.254/", "link-local"),  # cloud metadata
    ("http://0xa9fea9fe/", "link-local"),
    ("http://100.64.0.1/", "shared (carrier-grade NAT)"),
    ("http://224.0.0.1/", "multicast"),
    ("http://240.0.0.1/", "reserved"),
    ("http://1.2.3.4.5/", "bad"),  # ends in a number, is no address
    ("http://08.1/", "bad"),  # 8 is not an octal digit
    ("http://0x7g.1/", "bad"),
    ("http://4294967296/", "bad"),  # 2**32
    ("http://256.1.1.1/", "bad"),
    ("http://127..1/", "bad"),
    ("http://example.123/", "bad"),
    ("http://exa mple.com/", "bad"),
    ("http:///feed", "bad"),
    ("http://93.184.216.34/feed", "http://93.184.216.34/feed"),  # public: unchanged
    ("http://1572395042/feed", "http://93.184.216.34/feed"),  # public, odd spelling: canonical
    ("http://0x5d.0xb8.0xd8.0x22:8080/", "http://93.184.216.34:8080/"),
    ("http://[2606:2800:220:1::1]/", "http://[2606:2800:220:1::1]/"),
    ("http://news.example/rss", "http://news.example/rss"),  # a name: the resolver checks it
    ("http://news.example./rss", "http://news.example./rss"),
    ("http://127.0.0.1.nip.example/", "http://127.0.0.1.nip.example/"),  # a name, not an address
    ("http://ехаmple.com/", "http://xn--mple-43d3a6i.com/"),  # IDN: punycode goes to the resolver
    ("http://feeds_1.example/", "http://feeds_1.example/"),
]


def verdict(url: str, *, guard: bool = True) -> str:
    try:
        return str(check_url(parse_url(url), guard=guard))
    except BlockedAddressError as exc:
        return str(exc)
    except BadHostError:
        return "bad"


@pytest.mark.parametrize(("url", "expected"), TABLE)
def test_host_table(url: str, expected: str) -> None:
    got = verdict(url)
    if expected.startswith("http") or expected == "bad":
        assert got == expected
    else:
        assert expected in got and "not a public address" in got, got


@pytest.mark.parametrize(("url", "expected"), [
    ("http://2130706433/", "http://127.0.0.1/"),
    ("http://0177.1:81/a", "http://127.0.0.1:81/a"),
    ("http://[::1]/", "http://[::1]/"),
    ("http://1.2.3.4.5/", "bad"),  # not a host, guard or no guard
])
def test_unguarded_still_parses_and_canonicalizes(url: str, expected: str) -> None:
    assert verdict(url, guard=False) == expected


# Spellings of 127.0.0.1 that the OS (or an older aiohttp) would connect to.
LOOPBACK = ["2130706433", "017700000001", "0177.0.0.1", "0x7f.1", "0x7f000001", "127.1", "127.0.1",
            "127.000.000.001", "127.0.0.1.", "good.example@127.0.0.1", "１２７.０.０.１"]


@pytest.mark.parametrize("host", [*LOOPBACK, "0", "[::ffff:127.0.0.1]", "[64:ff9b::7f00:1]"])
async def test_fetcher_refuses_every_spelling_before_connecting(feed_server, host: str) -> None:
    feed_server.set("/rss", RSS)
    url = feed_server.url("/rss").replace("127.0.0.1", host)
    async with Fetcher(polling(allow_private_networks=False, timeout=2)) as fetcher:
        result = await fetcher.fetch(feed(url))
    assert kind(result) == "blocked", result
    assert feed_server.count("/rss") == 0


@pytest.mark.parametrize("host", LOOPBACK)
async def test_allowed_private_spellings_reach_the_address_they_mean(feed_server, host: str) -> None:
    """With allow_private_networks the same spellings are fetched from 127.0.0.1 (canonical form)."""
    feed_server.set("/rss", RSS)
    async with Fetcher(polling(allow_private_networks=True, timeout=2)) as fetcher:
        result = await fetcher.fetch(feed(feed_server.url("/rss").replace("127.0.0.1", host)))
    assert result.status is FetchStatus.NEW, result
    assert feed_server.count("/rss") == 1


async def test_config_feed_and_addfeed_refuse_spellings(bot_api, feed_server, tmp_path):  # noqa: F811
    feed_server.set("/new.xml", rss("New", [COUNCIL]))
    spelled = [feed_server.url("/new.xml").replace("127.0.0.1", h) for h in LOOPBACK]
    path = write_config(tmp_path, bot_api, {spelled[0]: "Decimal", spelled[5]: "Short"}, private_ok=False)
    app = await start_app(path)
    try:
        report = await app.cycle(every_feed=True)
        assert [o.status for o in report.outcomes] == ["error", "error"]
        assert all(f.last_error.startswith("blocked: ") for f in app.store.feeds())
        for url in spelled:  # another path: a URL already polled is answered "Already polled"
            answer = await ask(bot_api, ADMIN, ADMIN, f"/addfeed {url.replace('/new.xml', '/other.xml')}")
            assert answer.startswith("Not added") and "not a public address" in answer, (url, answer)
        assert len(app.store.feeds()) == 2
    finally:
        await app.stop()
    assert feed_server.count("/new.xml") == feed_server.count("/other.xml") == 0
