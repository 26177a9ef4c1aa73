"""Telegram's flood limits: ~30 messages/s overall, 20/min per group, 1/s per chat.

PTB's AIORateLimiter does the overall and per-group limits and retries a 429 after its
retry_after; it has no per-chat limit for private chats, so ChatRateLimiter adds one (for
sending and editing only, so command checks such as getChatMember are not slowed).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from aiolimiter import AsyncLimiter
from telegram.ext import AIORateLimiter, BaseRateLimiter

_PACED = ("send", "edit", "copy", "forward")  # endpoint prefixes that post into a chat
_MAX_CHAT_LIMITERS = 4096


@dataclass(frozen=True)
class Limits:
    """Rates (0 disables one) and how often a 429 is retried inside PTB before the outbox takes over."""

    overall_per_second: float = 30
    group_per_minute: float = 20
    chat_per_second: float = 1
    max_retries: int = 5


class ChatRateLimiter(BaseRateLimiter[int]):
    """AIORateLimiter plus a per-chat limiter on message-posting endpoints."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self._inner = AIORateLimiter(
            overall_max_rate=limits.overall_per_second, overall_time_period=1 if limits.overall_per_second else 0,
            group_max_rate=limits.group_per_minute, group_time_period=60 if limits.group_per_minute else 0,
            max_retries=limits.max_retries,
        )
        self._chats: dict[Any, AsyncLimiter] = {}

    async def initialize(self) -> None:
        await self._inner.initialize()

    async def shutdown(self) -> None:
        await self._inner.shutdown()

    def _chat_limiter(self, chat_id: Any) -> contextlib.AbstractAsyncContextManager:
        if not self.limits.chat_per_second or chat_id is None:
            return contextlib.nullcontext()
        if len(self._chats) > _MAX_CHAT_LIMITERS:  # forget idle chats so the map stays small
            for key, limiter in list(self._chats.items()):
                if limiter.has_capacity(limiter.max_rate):
                    del self._chats[key]
        limiter = self._chats.get(chat_id)
        if limiter is None:
            limiter = self._chats[chat_id] = AsyncLimiter(1, 1 / self.limits.chat_per_second)
        return limiter

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        paced = endpoint.startswith(_PACED)
        async with self._chat_limiter(str(data.get("chat_id")) if paced and "chat_id" in data else None):
            return await self._inner.process_request(callback, args, kwargs, endpoint, data, rate_limit_args)
