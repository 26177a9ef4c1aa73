"""Value parsers for config.toml: each returns the value or raises ValueError with the reason."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.ingest.netguard import BadHostError, feed_target

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}
_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def _duration(v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float | str):
        raise ValueError("expected a duration such as 90, \"90s\", \"15m\", \"2h\" or \"1d\"")
    m = _DURATION.match(str(v))
    if not m:
        raise ValueError(f"{v!r} is not a duration (use e.g. \"90s\", \"15m\", \"2h\", \"1d\")")
    return float(m.group(1)) * _UNITS[m.group(2)]


def _typed(*types: type, name: str) -> Callable[[Any], Any]:
    def check(v: Any) -> Any:
        if isinstance(v, bool) and bool not in types:
            raise ValueError(f"expected {name}, got a boolean")
        if not isinstance(v, types):
            raise ValueError(f"expected {name}, got {type(v).__name__}")
        return v

    return check


_str, _bool = _typed(str, name="a string"), _typed(bool, name="true or false")
_int = _typed(int, name="an integer")


def _num(v: Any) -> int | float:
    v = _typed(int, float, name="a number")(v)
    if not math.isfinite(v):  # TOML has nan and inf; either turns every score it meets into nan or never
        raise ValueError(f"must be a finite number, not {v}")
    return v


def _positive(parse: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def check(v: Any) -> Any:
        v = parse(v)
        if v <= 0:
            raise ValueError("must be greater than 0")
        return v

    return check


def _not_negative(parse: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def check(v: Any) -> Any:
        v = parse(v)
        if v < 0:
            raise ValueError("must be 0 or more")
        return v

    return check


def _fraction(v: Any) -> float:
    v = _num(v)
    if not 0 <= v <= 1:
        raise ValueError("must be between 0 and 1")
    return float(v)


def _int_list(v: Any) -> tuple[int, ...]:
    if not isinstance(v, list) or not all(isinstance(x, int) and not isinstance(x, bool) for x in v):
        raise ValueError("expected a list of integers (Telegram user ids)")
    return tuple(v)


def _str_list(v: Any) -> tuple[str, ...]:
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise ValueError("expected a list of strings")
    return tuple(v)


def _clock(v: Any) -> time:
    m = _CLOCK.match(_str(v).strip())
    if not m:
        raise ValueError(f"{v!r} is not a time of day (use \"HH:MM\")")
    return time(int(m.group(1)), int(m.group(2)))


def _clock_list(v: Any) -> tuple[time, ...]:
    return tuple(sorted(_clock(x) for x in _str_list(v)))


def _time_range(v: Any) -> tuple[time, time] | None:
    if v == "":
        return None
    start, sep, end = _str(v).partition("-")
    if not sep:
        raise ValueError(f"{v!r} is not a range of hours (use \"22:00-07:00\")")
    return _clock(start), _clock(end)


def _zone(v: Any) -> str:
    try:
        ZoneInfo(_str(v))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {v!r} (use an IANA name such as \"Asia/Baghdad\")") from exc
    return v


def _choice(*options: str) -> Callable[[Any], str]:
    def check(v: Any) -> str:
        if v not in options:
            raise ValueError(f"{v!r} is not one of: {', '.join(options)}")
        return v

    return check


def _level(v: Any) -> str:
    """A logging level in any case ("debug", "Info"), stored upper-case."""
    return _choice("DEBUG", "INFO", "WARNING", "ERROR")(_str(v).upper())


def _listen(v: Any) -> tuple[str, int] | None:
    """"host:port" (e.g. "127.0.0.1:9108", "[::1]:9108"), or "" for off."""
    v = _str(v).strip()
    if not v:
        return None
    m = re.match(r"^(\[[0-9a-fA-F:]+\]|[^\s:\[\]]+):(\d{1,5})$", v)
    if not m or not 0 < int(m.group(2)) < 65536:
        raise ValueError(f"{v!r} is not host:port (e.g. \"127.0.0.1:9108\")")
    return m.group(1).strip("[]"), int(m.group(2))


def _url(v: Any) -> str:
    """A feed URL that fetching would not refuse as bad_url (the fetcher's own judgement, unguarded:
    whether a private address may be fetched is [polling]'s call, see bot.preflight)."""
    v = _str(v).strip()
    if not re.match(r"^https?://", v):
        raise ValueError(f"{v!r} is not an http(s) URL")
    try:
        feed_target(v, guard=False)
    except BadHostError as exc:
        raise ValueError(f"bad_url: {exc}") from None
    return v
