"""Outbox rows bound for Telegram chats (target "tg:<chat id>"): the delivery queue, the rows of
one message or one story's alert, holding for digests, statuses, feedback, and the counts status
reports read.

Functions take the Store; every multi-row change is one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select, update

from bot.store import schema as t
from bot.store.db import Store


def tg_target(chat_id: int) -> str:
    return f"tg:{chat_id}"



@dataclass(frozen=True)
class TgRow:
    """An outbox row bound for a Telegram chat."""

    id: int
    chat_id: int
    story_id: str
    item_id: int
    kind: str
    payload: dict
    status: str
    attempts: int
    message_ref: str | None
    feedback: str | None
    next_attempt_at: datetime


def _tg_row(r: Any) -> TgRow:
    return TgRow(r.id, int(r.target.removeprefix("tg:")), r.story_id, r.item_id, r.kind, r.payload,
                 r.status, r.attempts, r.message_ref, r.feedback, r.next_attempt_at)


def telegram_queue(store: Store, limit: int = 5000) -> list[TgRow]:
    """Every Telegram row still to deliver (pending, due or not, and held), in outbox order."""
    o = t.outbox.c
    query = select(t.outbox).where(o.target.like("tg:%"), o.status.in_(("pending", "held"))).order_by(o.id).limit(limit)
    with store.engine.connect() as conn:
        return [_tg_row(r) for r in conn.execute(query)]


def outbox_row(store: Store, row_id: int) -> TgRow | None:
    with store.engine.connect() as conn:
        r = conn.execute(select(t.outbox).where(t.outbox.c.id == row_id, t.outbox.c.target.like("tg:%"))).first()
    return _tg_row(r) if r else None


def alert_row(store: Store, chat_id: int, story_id: str) -> TgRow | None:
    """The story's first alert to this chat (what an update edits); one that failed only when no
    other did (a later report sent in its place, make_alert, is the one to edit)."""
    o = t.outbox.c
    query = select(t.outbox).where(o.target == tg_target(chat_id), o.story_id == story_id, o.kind == "alert")
    with store.engine.connect() as conn:
        r = conn.execute(query.order_by(case((o.status == "failed", 1), else_=0), o.id)).first()
    return _tg_row(r) if r else None


def make_alert(store: Store, row_id: int) -> None:
    """An update row sent as the story's alert (its alert failed here): what later reports edit."""
    with store.engine.begin() as conn:
        conn.execute(update(t.outbox).where(t.outbox.c.id == row_id).values(kind="alert"))


def rows_for_message(store: Store, chat_id: int, message_id: int) -> list[TgRow]:
    """The rows delivered as one message (one alert, or the alerts of a digest)."""
    o = t.outbox.c
    refs = (str(message_id), f"digest:{message_id}")
    query = select(t.outbox).where(o.target == tg_target(chat_id), o.message_ref.in_(refs)).order_by(o.id)
    with store.engine.connect() as conn:
        return [_tg_row(r) for r in conn.execute(query)]


def hold(store: Store, row_id: int, until: datetime) -> None:
    """Hold a row for a digest; attempts restart, so attempts > 0 on a held row means a failed digest."""
    with store.engine.begin() as conn:
        conn.execute(update(t.outbox).where(t.outbox.c.id == row_id).values(status="held", next_attempt_at=until, attempts=0))


def set_status(store: Store, row_ids: Iterable[int], status: str, note: str | None = None) -> None:
    with store.engine.begin() as conn:
        conn.execute(update(t.outbox).where(t.outbox.c.id.in_(list(row_ids))).values(status=status, last_error=note))


def mark_sent_many(store: Store, row_ids: Iterable[int], now: datetime, message_ref: str | None) -> None:
    """Rows delivered together (a digest), marked sent in one transaction."""
    with store.engine.begin() as conn:
        conn.execute(update(t.outbox).where(t.outbox.c.id.in_(list(row_ids))).values(
            status="sent", sent_at=now, message_ref=message_ref, attempts=t.outbox.c.attempts + 1))


def set_feedback(store: Store, row_id: int, choice: str) -> None:
    with store.engine.begin() as conn:
        conn.execute(update(t.outbox).where(t.outbox.c.id == row_id).values(feedback=choice))


def telegram_sent_since(store: Store, since: datetime) -> int:
    """Alerts Telegram confirmed since a time (console and JSONL lines are not alerts sent)."""
    o = t.outbox.c
    query = select(func.count()).where(o.target.like("tg:%"), o.kind == "alert", o.status == "sent", o.sent_at >= since)
    with store.engine.connect() as conn:
        return conn.execute(query).scalar() or 0


def queue_depth(store: Store) -> dict[str, int]:
    """Outbox rows waiting, by status (pending, held)."""
    o = t.outbox.c
    query = select(o.status, func.count()).where(o.status.in_(("pending", "held"))).group_by(o.status)
    with store.engine.connect() as conn:
        return {status: n for status, n in conn.execute(query)}
