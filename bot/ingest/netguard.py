"""SSRF guard: refuse to connect to loopback, private, link-local and other non-public addresses.

A feed URL comes from a config file or a chat command, so a hostile or careless URL must not
reach the bot's own machine or its LAN. The check runs where aiohttp resolves a host name
(GuardedResolver), so the addresses checked are the addresses connected to and a DNS answer
that changes between a check and the connect (rebinding) cannot slip through. aiohttp does not
call the resolver for IP literals, so the fetcher checks those itself with check_literal().
"""

from __future__ import annotations

import ipaddress
import socket

from aiohttp.abc import AbstractResolver, ResolveResult

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # well-known NAT64 prefix embeds an IPv4 address
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

    def __init__(self, host: str, address: str, reason: str):
        self.host, self.address, self.reason = host, address, reason
        where = host if host == address else f"{host} resolves to {address}, which"
        super().__init__(f"{where} is not a public address ({reason})")


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address inside an IPv4-mapped, 6to4, Teredo or NAT64 IPv6 address, if any."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]  # (server, client): the client is where the packets end up
    if ip in _NAT64:
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


def check_literal(host: str) -> None:
    """Check a URL host that is an IP literal (aiohttp connects to those without resolving)."""
    if parse_ip(host) is not None:
        check_address(host, host)


class GuardedResolver(AbstractResolver):
    """Wraps a resolver and refuses the whole answer if ANY address in it is not public."""

    def __init__(self, inner: AbstractResolver):
        self._inner = inner

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        for result in results:
            check_address(host, result["host"])
        return results

    async def close(self) -> None:
        await self._inner.close()
