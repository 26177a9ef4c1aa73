"""Chats as stored and their settings: a chat recorded when Telegram shows it, settings chosen
by command, and a chat that left (blocked or removed the bot) or moved (group -> supergroup).

Functions take the Store; every multi-row change is one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, select, update
from sqlalchemy.engine import Connection

from bot.store import schema as t
from bot.store.db import Store
from bot.store.tg_outbox import tg_target

SETTINGS = ("mode", "digest_times", "quiet_hours", "timezone", "thread_id", "silent", "language")


@dataclass(frozen=True)
class ChatRow:
    """A chat as stored; settings left None fall back to config.toml."""

    id: int
    title: str | None = None
    kind: str | None = None
    active: bool = True
    inactive_reason: str | None = None
    moved_to: int | None = None
    mode: str | None = None
    digest_times: tuple[str, ...] | None = None
    quiet_hours: str | None = None
    timezone: str | None = None
    thread_id: int | None = None
    silent: bool | None = None
    language: str | None = None  # chosen with /settings lang
    tg_language: str | None = None  # Telegram's language_code for the chat's user (private chats)


def _chat(row: Any) -> ChatRow:
    times = tuple(row.digest_times) if row.digest_times is not None else None
    return ChatRow(row.id, row.title, row.kind, row.active, row.inactive_reason, row.moved_to,
                   row.mode, times, row.quiet_hours, row.timezone, row.thread_id, row.silent, row.language,
                   row.tg_language)


def get_chat(store: Store, chat_id: int) -> ChatRow | None:
    with store.engine.connect() as conn:
        row = conn.execute(select(t.chats).where(t.chats.c.id == chat_id)).first()
    return _chat(row) if row else None


def all_chats(store: Store) -> list[ChatRow]:
    with store.engine.connect() as conn:
        return [_chat(r) for r in conn.execute(select(t.chats).order_by(t.chats.c.id))]


def _ensure(conn: Connection, chat_id: int, now: datetime, **values: Any) -> None:
    exists = conn.execute(select(t.chats.c.id).where(t.chats.c.id == chat_id)).first()
    if exists:
        if values:
            conn.execute(update(t.chats).where(t.chats.c.id == chat_id).values(updated_at=now, **values))
    else:
        conn.execute(t.chats.insert().values(id=chat_id, created_at=now, updated_at=now, **{"active": True, **values}))


def register_chat(store: Store, chat_id: int, title: str | None, kind: str | None, now: datetime,
                  tg_language: str | None = None) -> bool:
    """Record a chat seen in Telegram (and its user's language_code, if given); reactivate it if
    it had blocked the bot. True if reactivated."""
    before = get_chat(store, chat_id)
    extra = {"tg_language": tg_language} if tg_language else {}
    with store.engine.begin() as conn:
        _ensure(conn, chat_id, now, title=title, kind=kind, active=True, inactive_reason=None, **extra)
    return before is not None and not before.active


def set_chat_settings(store: Store, chat_id: int, now: datetime, **values: Any) -> None:
    """Store settings chosen by command (keys from SETTINGS; None clears one back to config)."""
    unknown = set(values) - set(SETTINGS)
    if unknown:
        raise ValueError(f"not chat settings: {sorted(unknown)}")
    with store.engine.begin() as conn:
        _ensure(conn, chat_id, now, **values)


def deactivate_chat(store: Store, chat_id: int, reason: str, now: datetime) -> int:
    """The bot was blocked or removed: stop routing to the chat, fail its queued rows; how many."""
    with store.engine.begin() as conn:
        _ensure(conn, chat_id, now, active=False, inactive_reason=reason)
        queued = and_(t.outbox.c.target == tg_target(chat_id), t.outbox.c.status.in_(("pending", "held")))
        return conn.execute(update(t.outbox).where(queued).values(status="failed", last_error=reason)).rowcount


def migrate_chat(store: Store, old: int, new: int, now: datetime) -> None:
    """A group became a supergroup: move its settings, subscriptions and outbox rows to the new id."""
    with store.engine.begin() as conn:
        row = conn.execute(select(t.chats).where(t.chats.c.id == old)).first()
        settings = {k: getattr(row, k) for k in (*SETTINGS, "title")} if row else {}
        _ensure(conn, new, now, kind="supergroup", active=True, inactive_reason=None, **settings)
        _ensure(conn, old, now, active=False, inactive_reason=f"migrated to {new}", moved_to=new)
        taken = set(conn.execute(select(t.subscriptions.c.topic).where(t.subscriptions.c.chat_id == new)).scalars())
        subs = t.subscriptions.c
        conn.execute(update(t.subscriptions).where(subs.chat_id == old, subs.topic.not_in(taken)).values(chat_id=new))
        conn.execute(delete(t.subscriptions).where(subs.chat_id == old))
        m = t.mutes.c
        kept = set(conn.execute(select(m.topic).where(m.chat_id == new)).scalars())
        conn.execute(update(t.mutes).where(m.chat_id == old, m.topic.not_in(kept)).values(chat_id=new))
        conn.execute(delete(t.mutes).where(m.chat_id == old))
        conn.execute(update(t.outbox).where(t.outbox.c.target == tg_target(old)).values(target=tg_target(new)))
