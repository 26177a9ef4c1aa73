"""/settings arguments -> the chat settings to store. Parsing is pure; storing is one call.

    /settings mode instant
    /settings mode digest 08:00,18:00
    /settings quiet 22:00-07:00        /settings quiet off
    /settings tz Asia/Baghdad
    /settings thread here              /settings thread off   (forum topics; not in private chats)
    /settings silent on                /settings silent off   (alerts without notification)
    /settings lang ar                  /settings lang auto    (Telegram's language)
    /settings reset                    back to config.toml

Errors are in the chat's language (a Tr). The time parsers' messages are English (config.toml
shares them): English chats get them as they are, other languages what the setting expects.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.i18n import DEFAULT, LANGUAGES, N_, Tr, language_of, translation
from bot.store import chats as db
from bot.store.db import Store
from bot.tg.digest import check_zone, fmt_clock, parse_clock, parse_range

USAGE = N_("Usage: /settings mode instant | /settings mode digest 08:00,18:00 | /settings quiet 22:00-07:00 "
           "| /settings quiet off | /settings tz Asia/Baghdad | /settings tz +03:00 | /settings thread here|off "
           "| /settings silent on|off | /settings lang {languages}|auto | /settings reset")
NO_THREADS = N_("/settings thread is for forum groups: a private chat has no topic threads.")
RESET = dict.fromkeys(db.SETTINGS)


def usage(tr: Tr) -> str:
    return tr._(USAGE).format(languages="|".join(LANGUAGES))


def parse_settings(args: list[str], thread_id: int | None = None, private: bool = False,
                   tr: Tr | None = None) -> dict[str, Any]:
    """The settings an argument list asks for; ValueError naming what is wrong."""
    tr = tr or translation("en")
    if not args:
        raise ValueError(usage(tr))
    key, rest = args[0].lower(), args[1:]
    if key == "reset" and not rest:
        return dict(RESET)
    if key == "mode":
        return _mode(rest, tr)
    if key in ("quiet", "quiet_hours") and len(rest) == 1:
        return _quiet(rest[0], tr)
    if key in ("tz", "timezone") and len(rest) == 1:
        try:
            return {"timezone": check_zone(rest[0])}
        except ValueError as exc:
            raise ValueError(_reason(exc, tr, tr._("{value} is not a time zone: use an IANA name such as "
                                                   "Asia/Baghdad, or a UTC offset such as +03:00."), rest[0])) from None
    if key == "thread" and private:
        raise ValueError(tr._(NO_THREADS))
    if key == "thread" and len(rest) == 1 and rest[0].lower() in ("here", "off"):
        return {"thread_id": (thread_id or 0) if rest[0].lower() == "here" else 0}
    if key == "silent" and len(rest) == 1 and rest[0].lower() in ("on", "off"):
        return {"silent": rest[0].lower() == "on"}
    if key in ("lang", "language") and len(rest) == 1:
        return _language(rest[0], tr)
    raise ValueError(usage(tr))


def _reason(exc: ValueError, tr: Tr, translated: str, value: str) -> str:
    """The parser's own English message (exact, shared with config.toml), or in another language
    what the setting expects."""
    return str(exc) if tr.language == DEFAULT else translated.format(value=value)


def _quiet(value: str, tr: Tr) -> dict[str, Any]:
    if value.lower() in ("off", "none", "-"):
        return {"quiet_hours": ""}
    try:
        return {"quiet_hours": "-".join(map(fmt_clock, parse_range(value)))}
    except ValueError as exc:
        raise ValueError(_reason(exc, tr, tr._("{value} is not a range of hours: use two different times, "
                                               "e.g. 22:00-07:00."), value)) from None


def _language(value: str, tr: Tr) -> dict[str, Any]:
    if value.lower() in ("auto", "default", "reset"):
        return {"language": None}
    language = language_of(value)
    if language is None:
        raise ValueError(tr._("Unknown language {value}: use one of {languages}, or auto.")
                         .format(value=value, languages=", ".join(LANGUAGES)))
    return {"language": language}


def _mode(rest: list[str], tr: Tr) -> dict[str, Any]:
    if rest == ["instant"]:
        return {"mode": "instant"}
    if rest and rest[0] == "digest":
        values: dict[str, Any] = {"mode": "digest"}
        times = ",".join(rest[1:]).replace(" ", "")
        if times:
            try:
                clocks = sorted({parse_clock(x) for x in times.split(",") if x})
            except ValueError as exc:
                raise ValueError(_reason(exc, tr, tr._("{value} is not a time of day or a list of them (use HH:MM, "
                                                       "e.g. 08:00,18:00)."), times)) from None
            values["digest_times"] = [fmt_clock(c) for c in clocks]
        return values
    raise ValueError(tr._("Usage: /settings mode instant  or  /settings mode digest 08:00,18:00"))


def apply_settings(store: Store, chat_id: int, args: list[str], now: datetime, thread_id: int | None = None,
                   private: bool = False, tr: Tr | None = None) -> str | None:
    """Parse and store; the error message to show, or None when stored."""
    try:
        values = parse_settings(args, thread_id, private, tr)
    except ValueError as exc:
        return str(exc)
    db.set_chat_settings(store, chat_id, now, **values)
    return None
