"""/settings arguments -> the chat settings to store. Parsing is pure; storing is one call.

    /settings mode instant
    /settings mode digest 08:00,18:00
    /settings quiet 22:00-07:00        /settings quiet off
    /settings tz Asia/Baghdad
    /settings thread here              /settings thread off   (forum topics; not in private chats)
    /settings silent on                /settings silent off   (alerts without notification)
    /settings reset                    back to config.toml
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.store import chats as db
from bot.store.db import Store
from bot.tg.digest import check_zone, fmt_clock, parse_clock, parse_range

USAGE = ("Usage: /settings mode instant | /settings mode digest 08:00,18:00 | /settings quiet 22:00-07:00 "
         "| /settings quiet off | /settings tz Asia/Baghdad | /settings tz +03:00 | /settings thread here|off "
         "| /settings silent on|off | /settings reset")
NO_THREADS = "/settings thread is for forum groups: a private chat has no topic threads."
RESET = dict.fromkeys(db.SETTINGS)


def parse_settings(args: list[str], thread_id: int | None = None, private: bool = False) -> dict[str, Any]:
    """The settings an argument list asks for; ValueError naming what is wrong."""
    if not args:
        raise ValueError(USAGE)
    key, rest = args[0].lower(), args[1:]
    if key == "reset" and not rest:
        return dict(RESET)
    if key == "mode":
        return _mode(rest)
    if key in ("quiet", "quiet_hours") and len(rest) == 1:
        off = rest[0].lower() in ("off", "none", "-")
        return {"quiet_hours": "" if off else "-".join(map(fmt_clock, parse_range(rest[0])))}
    if key in ("tz", "timezone") and len(rest) == 1:
        return {"timezone": check_zone(rest[0])}
    if key == "thread" and private:
        raise ValueError(NO_THREADS)
    if key == "thread" and len(rest) == 1 and rest[0].lower() in ("here", "off"):
        return {"thread_id": (thread_id or 0) if rest[0].lower() == "here" else 0}
    if key == "silent" and len(rest) == 1 and rest[0].lower() in ("on", "off"):
        return {"silent": rest[0].lower() == "on"}
    raise ValueError(USAGE)


def _mode(rest: list[str]) -> dict[str, Any]:
    if rest == ["instant"]:
        return {"mode": "instant"}
    if rest and rest[0] == "digest":
        values: dict[str, Any] = {"mode": "digest"}
        times = ",".join(rest[1:]).replace(" ", "")
        if times:
            clocks = sorted({parse_clock(x) for x in times.split(",") if x})
            values["digest_times"] = [fmt_clock(c) for c in clocks]
        return values
    raise ValueError("Usage: /settings mode instant  or  /settings mode digest 08:00,18:00")


def apply_settings(store: Store, chat_id: int, args: list[str], now: datetime, thread_id: int | None = None,
                   private: bool = False) -> str | None:
    """Parse and store; the error message to show, or None when stored."""
    try:
        values = parse_settings(args, thread_id, private)
    except ValueError as exc:
        return str(exc)
    db.set_chat_settings(store, chat_id, now, **values)
    return None
