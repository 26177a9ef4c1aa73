"""The resolver half of the SSRF guard (bot/ingest/netguard.py): every address a DNS answer
gives is checked where aiohttp resolves it, so a name that rebinds between a check and the
connect cannot reach a private address. Apart from netguard so that its pure URL checks, which
config loading and `check` use, do not import aiohttp.
"""

from __future__ import annotations

import socket

from aiohttp.abc import AbstractResolver, ResolveResult

from bot.ingest.netguard import check_address


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
