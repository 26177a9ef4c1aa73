"""A feed's failure as a value: whatever one feed's update raised becomes a "kind: message" error
recorded on that feed. A bug is logged with its traceback once per feed and cause, then as one line,
so a poison feed does not fill the log every tick; a full disk is one warning a minute.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.exc import SQLAlchemyError

from bot.errors import FeedError

MAX_MESSAGE = 300  # the error is stored on the feed and shown in /feeds and admin notices
_REMEMBERED = 10_000  # causes kept to log once; a bound so a fuzzing feed cannot grow it forever


def is_disk_full(exc: BaseException) -> bool:
    """SQLite's SQLITE_FULL ('database or disk is full'), as raised through SQLAlchemy or not."""
    orig = getattr(exc, "orig", exc)
    return "database or disk is full" in str(orig)


def describe(exc: BaseException) -> str:
    """'kind: message' for any exception out of one feed's update.

    Storage errors name the driver's error only: SQLAlchemy's text would carry the statement and its
    parameters (feed text) into the feed's stored error.
    """
    if isinstance(exc, FeedError):
        return _clip(str(exc))
    if isinstance(exc, SQLAlchemyError):
        orig = getattr(exc, "orig", None) or exc
        return _clip(f"storage: {type(orig).__name__}: {orig}")
    return _clip(f"internal: {type(exc).__name__}: {exc}")


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"


def cause(exc: BaseException) -> tuple[str, str]:
    """The exception type and the innermost frame that raised it: one cause, however often seen."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else ""
    return type(exc).__name__, where


class OnceLog:
    """Logs a feed's unexpected exception with its traceback the first time, in one line after."""

    def __init__(self, logger: logging.Logger):
        self.log, self.seen = logger, set()

    def report(self, url: str, feed_id: int, exc: BaseException) -> None:
        key = (feed_id, *cause(exc))
        if key in self.seen:
            self.log.warning("feed %s failed again (%s), traceback logged before", url, describe(exc))
            return
        if len(self.seen) >= _REMEMBERED:
            self.seen.clear()
        self.seen.add(key)
        self.log.error("feed %s: unexpected %s; recorded on the feed", url, describe(exc), exc_info=exc)


class DiskFull:
    """While the database reports a full disk, work is held (nothing fetched, nothing lost) and a
    warning is logged at most once per `every`; the first write that succeeds again ends it."""

    def __init__(self, logger: logging.Logger, clock: Callable[[], datetime], every: float = 60.0):
        self.log, self.clock, self.every = logger, clock, timedelta(seconds=every)
        self.until: datetime | None = None  # held until then: the next attempt
        self._warned: datetime | None = None

    def hold(self, what: str) -> None:
        now = self.clock()
        self.until = now + self.every
        if self._warned is None or now - self._warned >= self.every:
            self._warned = now
            self.log.warning("database or disk is full: %s held, nothing lost; retrying every %ds until "
                             "there is space", what, self.every.total_seconds())

    def holding(self) -> bool:
        return self.until is not None and self.clock() < self.until

    def clear(self) -> None:
        if self.until is not None:
            self.log.warning("database writable again: work resumed")
        self.until = self._warned = None
