"""Failures as values: how an exception reads when recorded on a feed, and the full-disk hold."""

from __future__ import annotations

import logging
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import DataError, OperationalError

from bot.errors import FeedError
from bot.failures import DiskFull, OnceLog, describe, is_disk_full

FULL = OperationalError("INSERT INTO items ...", {"title": "secret feed text"},
                        sqlite3.OperationalError("database or disk is full"))


@pytest.mark.parametrize(("exc", "text"), [
    (FeedError("parse", "no feed entries"), "parse: no feed entries"),
    (DataError("UPDATE feeds SET ...", {"p": "feed text"}, ValueError("value too long")),
     "storage: ValueError: value too long"),
    (FULL, "storage: OperationalError: database or disk is full"),
    (KeyError("where"), "internal: KeyError: 'where'"),
    (ValueError("x\n" * 400), "internal: ValueError: " + "x " * 138 + "x…"),
])
def test_describe_names_kind_and_cause_without_the_statement(exc, text) -> None:
    assert describe(exc) == text
    assert "feed text" not in describe(exc) and len(describe(exc)) <= 300


def test_is_disk_full() -> None:
    assert is_disk_full(FULL) and is_disk_full(sqlite3.OperationalError("database or disk is full"))
    assert not is_disk_full(OperationalError("x", {}, sqlite3.OperationalError("database is locked")))


def test_disk_full_warns_once_a_minute_and_holds_until_then(caplog) -> None:
    now = [datetime(2026, 5, 1, tzinfo=UTC)]
    disk = DiskFull(logging.getLogger("t"), lambda: now[0])
    warned = []
    for second in (0, 10, 30, 59, 60, 61, 100, 121):
        now[0] = datetime(2026, 5, 1, tzinfo=UTC) + timedelta(seconds=second)
        caplog.clear()
        disk.hold("polling")
        warned += [second] if "disk is full" in caplog.text else []
    assert warned == [0, 60, 121]
    assert disk.holding()
    now[0] += timedelta(seconds=60)
    assert not disk.holding()
    disk.clear()
    assert "writable again" in caplog.text and not disk.holding()


def test_once_log_keeps_one_traceback_per_feed_and_cause(caplog) -> None:
    once = OnceLog(logging.getLogger("t"))
    for feed_id in (1, 1, 2):
        try:
            {}["where"]
        except KeyError as exc:
            once.report(f"https://f{feed_id}.example/", feed_id, exc)
    assert [bool(r.exc_info) for r in caplog.records] == [True, False, True]
