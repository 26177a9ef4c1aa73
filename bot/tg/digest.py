"""Per-chat delivery settings and time rules: quiet hours, digest times, when held alerts go out.

Pure functions of the settings and an injected `now`. A chat's settings come from config.toml
([[chats]]) with what chat commands stored on top (the command wins; see README "Telegram").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.config import ChatSettings
from bot.i18n import DEFAULT as DEFAULT_LANGUAGE
from bot.i18n import LANGUAGES, Tr, pick, translation
from bot.store.chats import ChatRow

_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_OFFSET = re.compile(r"^(?:UTC|GMT)?([+-])(\d{1,2})(?::?([0-5]\d))?$", re.IGNORECASE)
DEFAULT_DIGEST_TIMES = (time(8, 0), time(18, 0))


@dataclass(frozen=True)
class ChatPrefs:
    """How and when one chat gets alerts, after merging config and stored settings."""

    mode: str = "instant"  # instant | digest
    digest_times: tuple[time, ...] = DEFAULT_DIGEST_TIMES
    quiet_hours: tuple[time, time] | None = None
    timezone: str = "UTC"
    thread_id: int | None = None
    language: str = DEFAULT_LANGUAGE  # of its replies and alerts (bot.i18n)
    silent: bool = False  # alerts arrive without notification (disable_notification)

    @property
    def zone(self) -> tzinfo:
        return zone_of(self.timezone)


def parse_clock(text: str) -> time:
    """'7:30' -> time(7, 30); ValueError with the reason otherwise."""
    m = _CLOCK.match(text.strip())
    if not m:
        raise ValueError(f"{text!r} is not a time of day (use HH:MM, e.g. 07:30)")
    return time(int(m.group(1)), int(m.group(2)))


def parse_range(text: str) -> tuple[time, time]:
    start, sep, end = text.partition("-")
    if not sep:
        raise ValueError(f"{text!r} is not a range of hours (use e.g. 22:00-07:00)")
    first, last = parse_clock(start), parse_clock(end)
    if first == last:
        raise ValueError("quiet hours must start and end at different times")
    return first, last


def _offset(name: str) -> timedelta | None:
    """'+03:00', 'UTC+3', '-0530' -> the offset; None when the name is not an offset."""
    m = _OFFSET.match(name.strip().replace(" ", ""))
    if not m:
        return None
    span = timedelta(hours=int(m.group(2)), minutes=int(m.group(3) or 0))
    return -span if m.group(1) == "-" else span


def zone_of(name: str) -> tzinfo:
    """An IANA zone, or a fixed UTC offset stored as 'UTC+03:00' (see check_zone)."""
    span = _offset(name)
    return ZoneInfo(name) if span is None else timezone(span, name)


def check_zone(name: str) -> str:
    """The zone's stored name: an IANA name as given, a UTC offset as 'UTC+03:00'."""
    span = _offset(name)
    if span is not None:
        if not timedelta(hours=-12) <= span <= timedelta(hours=14):
            raise ValueError(f"{name!r} is not a UTC offset (from -12:00 to +14:00)")
        sign, minutes = "-" if span < timedelta(0) else "+", int(abs(span).total_seconds()) // 60
        return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r} (use an IANA name such as Asia/Baghdad, "
                         "or a UTC offset such as +03:00)") from None
    return name


def fmt_clock(t: time) -> str:
    return t.strftime("%H:%M")


def merge_prefs(config: ChatSettings | None, stored: ChatRow | None, default_zone: str) -> ChatPrefs:
    """Config values, overridden by any setting a chat command stored."""
    prefs = ChatPrefs(timezone=default_zone)
    if config is not None:
        prefs = ChatPrefs(config.mode, config.digest_times or DEFAULT_DIGEST_TIMES, config.quiet_hours,
                          config.timezone or default_zone, config.thread_id)
    if stored is None:
        return prefs
    return ChatPrefs(
        mode=stored.mode or prefs.mode,
        digest_times=tuple(parse_clock(x) for x in stored.digest_times) if stored.digest_times else prefs.digest_times,
        quiet_hours=prefs.quiet_hours if stored.quiet_hours is None else (parse_range(stored.quiet_hours) if stored.quiet_hours else None),
        timezone=stored.timezone or prefs.timezone,
        thread_id=prefs.thread_id if stored.thread_id is None else (stored.thread_id or None),
        language=pick(stored.language, stored.tg_language),
        silent=prefs.silent if stored.silent is None else stored.silent,
    )


def in_quiet(prefs: ChatPrefs, now: datetime) -> bool:
    """Is `now` inside the chat's quiet hours (which may wrap past midnight)?"""
    if prefs.quiet_hours is None:
        return False
    start, end = prefs.quiet_hours
    local = now.astimezone(prefs.zone).time()
    return start <= local < end if start < end else (local >= start or local < end)


def _next_local(now: datetime, at: time, zone: tzinfo) -> datetime:
    """The first moment after `now` when the local clock reads `at`."""
    local = now.astimezone(zone)
    candidate = datetime.combine(local.date(), at, zone)
    if candidate <= local:
        candidate = datetime.combine(local.date() + timedelta(days=1), at, zone)
    return candidate.astimezone(now.tzinfo)


def quiet_end(prefs: ChatPrefs, now: datetime) -> datetime:
    """When the current quiet period ends (now, if not in one)."""
    if not in_quiet(prefs, now):
        return now
    assert prefs.quiet_hours is not None
    return _next_local(now, prefs.quiet_hours[1], prefs.zone)


def next_digest(prefs: ChatPrefs, now: datetime) -> datetime:
    """The next digest time after now."""
    return min(_next_local(now, at, prefs.zone) for at in prefs.digest_times or DEFAULT_DIGEST_TIMES)


def hold_until(prefs: ChatPrefs, now: datetime) -> datetime | None:
    """When a new alert arriving now should go out; None: send it now."""
    if prefs.mode == "digest":
        due = next_digest(prefs, now)
        return quiet_end(prefs, due) if in_quiet(prefs, due) else due
    return quiet_end(prefs, now) if in_quiet(prefs, now) else None


def releasable(prefs: ChatPrefs, planned: datetime, now: datetime) -> bool:
    """May an alert held until `planned` go out now? Never inside quiet hours; in instant mode as
    soon as quiet hours are over (even if they were changed meanwhile); in digest mode at its time."""
    if in_quiet(prefs, now):
        return False
    return prefs.mode != "digest" or planned <= now


def describe(prefs: ChatPrefs, tr: Tr | None = None) -> str:
    """The settings as /settings shows them (and `check` lists them: English)."""
    _ = (tr or translation(DEFAULT_LANGUAGE))._
    times = ", ".join(map(fmt_clock, prefs.digest_times))
    mode = _("instant") if prefs.mode == "instant" else _("digest at {times}").format(times=times)
    quiet = "-".join(map(fmt_clock, prefs.quiet_hours)) if prefs.quiet_hours else _("off")
    thread = str(prefs.thread_id) if prefs.thread_id else _("main")
    return "\n".join([_("mode: {mode}").format(mode=mode), _("quiet hours: {quiet}").format(quiet=quiet),
                      _("time zone: {zone}").format(zone=prefs.timezone), _("thread: {thread}").format(thread=thread),
                      _("silent: {state}").format(state=_("on") if prefs.silent else _("off")),
                      _("language: {language}").format(language=LANGUAGES[prefs.language])])
