"""SSRF guard: refuse to connect to loopback, private, link-local and other non-public addresses.

A feed URL comes from a config file or a chat command, so a hostile or careless URL must not
reach the bot's own machine or its LAN. The check runs where aiohttp resolves a host name
(bot/ingest/resolver.py GuardedResolver, the one part that needs aiohttp: config checks and
`check` import this module without it), so the addresses checked are the addresses connected to and a DNS answer
that changes between a check and the connect (rebinding) cannot slip through. aiohttp does not
call the resolver for IP literals, so the fetcher checks those itself with check_url().

Which hosts count as "IP literals" differs between aiohttp versions (3.10 took `2130706433` and
`127.1` for literals and let the OS turn them into 127.0.0.1; 3.14 refuses them), and `ipaddress`
parses none of the legacy forms. So every URL is parsed here before aiohttp sees it: a host is
either an IP address in any spelling the OS or a browser accepts (decimal, octal, hex, 1-4 parts,
trailing dot; IPv6 with embedded IPv4 or a zone), which is checked and rewritten to its canonical
form, or a DNS name, which must look like one and goes through GuardedResolver. Anything else is
refused, so no version of aiohttp is left to guess.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import unquote

from yarl import URL

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_NAT64 = (ipaddress.ip_network("64:ff9b::/96"),  # well-known NAT64 prefix embeds an IPv4 address
          ipaddress.ip_network("64:ff9b:1::/48"))  # local-use NAT64 (RFC 8215), last 32 bits
_SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT: not public, not "private"
_CATEGORIES = (
    ("loopback", "is_loopback"),
    ("unspecified", "is_unspecified"),
    ("link-local", "is_link_local"),
    ("multicast", "is_multicast"),
    ("reserved", "is_reserved"),
    ("private", "is_private"),
    ("site-local", "is_site_local"),
)


class BlockedAddressError(Exception):
    """A host resolved to (or is) an address the guard refuses; str() names host and address."""

    def __init__(self, host: str, address: str, reason: str, *, literal: bool = False):
        self.host, self.address, self.reason = host, address, reason
        verb = "is" if literal else "resolves to"
        where = host if host == address else f"{host} {verb} {address}, which"
        super().__init__(f"{where} is not a public address ({reason})")


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address inside an IPv4-mapped, 6to4, Teredo or NAT64 IPv6 address, if any."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]  # (server, client): the client is where the packets end up
    if any(ip in net for net in _NAT64):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def blocked_reason(ip: IPAddress) -> str | None:
    """Why this address must not be connected to, or None when it is public."""
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_ipv4(ip)
        if inner is not None and (reason := blocked_reason(inner)):
            return f"{reason}: embeds IPv4 {inner}"
        if ip.ipv4_mapped is not None:
            return None  # a mapped public IPv4 address is that address
        if ip.scope_id:
            return "scoped"
    for reason, attribute in _CATEGORIES:
        if getattr(ip, attribute, False):
            return reason
    if ip in _SHARED:
        return "shared (carrier-grade NAT)"
    return None if ip.is_global else "non-global"


def parse_ip(host: str) -> IPAddress | None:
    """The address when host is an IP literal (brackets allowed), else None."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def check_address(host: str, address: str) -> None:
    """Raise BlockedAddressError when address (a resolved or literal IP) is not public."""
    ip = parse_ip(address)
    if ip is None:
        raise BlockedAddressError(host, address, "unparseable")
    reason = blocked_reason(ip)
    if reason:
        raise BlockedAddressError(host, address, reason)


class BadHostError(ValueError):
    """A URL whose host is neither an IP address nor a DNS name (or whose authority is ambiguous)."""


# The last label decides, as in the WHATWG URL standard: a host ending in a number is an IPv4
# address or nothing (no TLD is numeric), so `1.2.3.4.5` and `0x7g.1` are refused, not resolved.
_NUMBER = re.compile(r"0[xX][0-9a-fA-F]*|[0-9]+")
_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")


def _ipv4_number(part: str) -> int | None:
    """One part of a legacy IPv4 spelling: 0x.. hex, 0.. octal, else decimal (inet_aton rules)."""
    if part[:2].lower() == "0x":
        return int(part[2:] or "0", 16)
    if len(part) > 1 and part.startswith("0"):
        return int(part, 8) if part.isdigit() and set(part) <= set("01234567") else None
    return int(part) if part.isdigit() else None


def parse_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """The address of `127.1`, `0x7f.1`, `017700000001`, `2130706433`, `0`, ...; None if not IPv4."""
    parts = host.split(".")
    if len(parts) > 4 or not all(_NUMBER.fullmatch(p) for p in parts):
        return None
    numbers = [_ipv4_number(p) for p in parts]
    if None in numbers or any(n > 255 for n in numbers[:-1]):  # type: ignore[operator]
        return None
    head, last = numbers[:-1], numbers[-1]
    if last >= 256 ** (5 - len(parts)):  # type: ignore[operator]
        return None
    value = sum(n << (8 * (3 - i)) for i, n in enumerate(head)) + last  # type: ignore[operator]
    return ipaddress.IPv4Address(value)


def host_address(raw_host: str) -> IPAddress | None:
    """The address a URL's (ASCII, IDNA-encoded) host denotes, or None when it is a DNS name.

    Raises BadHostError for a host that is neither: what aiohttp would do with it is not ours to guess.
    """
    if ":" in raw_host:
        try:
            return ipaddress.ip_address(unquote(raw_host.strip("[]")))  # a zone id is %25-escaped
        except ValueError:
            raise BadHostError(f"{raw_host!r} is not a valid IPv6 address") from None
    host = raw_host.lower()
    host = host[:-1] if host.endswith(".") and len(host) > 1 else host
    if not host.isascii():
        raise BadHostError(f"host {raw_host!r} is not ASCII after IDNA encoding")
    labels = host.split(".")
    if _NUMBER.fullmatch(labels[-1]):
        address = parse_ipv4(host)
        if address is None:
            raise BadHostError(f"host {raw_host!r} ends in a number but is not an IPv4 address")
        return address
    if len(host) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise BadHostError(f"host {raw_host!r} is not a valid DNS name")
    return None


def parse_url(text: str) -> URL:
    """A URL from config, a command or a Location header; refuses what parsers read differently."""
    _, sep, rest = text.partition("://")
    rest = rest if sep else text[2:] if text.startswith("//") else ""  # "//host/..." is absolute too
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    if "\\" in authority or any(ord(c) < 0x21 or c == "\x7f" for c in authority):
        raise BadHostError(f"{text!r}: backslash, space or control character before the path")
    try:
        return URL(text)
    except ValueError as exc:
        raise BadHostError(f"{text!r}: {exc}") from None


def check_url(url: URL, *, guard: bool) -> URL:
    """The URL to connect to: its host parsed here, checked when guarded, IPv4 made canonical.

    A DNS name is returned as it is (GuardedResolver checks its addresses at connect time).
    """
    raw = url.raw_host
    if not raw:
        raise BadHostError(f"{url}: no host")
    address = host_address(raw)
    if address is None:
        return url
    if guard and (reason := blocked_reason(address)):
        raise BlockedAddressError(url.host or raw, str(address), reason, literal=True)
    if isinstance(address, ipaddress.IPv4Address) and raw != str(address):
        return url.with_host(str(address))  # what every aiohttp version connects to unresolved
    return url


def fetch_target(url: URL, *, guard: bool) -> URL:
    """check_url for one hop of a fetch: also refuses a scheme other than http(s) and no host.

    The one judgement of a URL that the fetcher (kind bad_url / blocked) and `wirewatch check`
    share, so check flags exactly what fetching would refuse, with the same reason.
    """
    if url.scheme not in ("http", "https"):
        raise BadHostError(f"{url}: only http and https URLs can be fetched")
    if not url.host:
        raise BadHostError(f"{url}: no host")
    return check_url(url, guard=guard)


def feed_target(text: str, *, guard: bool) -> URL:
    """A feed URL as written in config or the database, judged as its first fetch would judge it."""
    return fetch_target(parse_url(text), guard=guard)
