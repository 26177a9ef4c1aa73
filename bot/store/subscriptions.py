"""Subscriptions and mutes chosen by chat commands, and what the chats table and they change
about routing (StoredChats, the input of build_routes).

Functions take the Store; every multi-row change is one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, delete, select, update
from sqlalchemy.engine import Connection

from bot.store import schema as t
from bot.store.chat_settings import _chat, _ensure
from bot.store.db import Store

FOREVER = datetime(9999, 12, 31, tzinfo=UTC)  # until of a mute without a duration


@dataclass(frozen=True)
class StoredChats:
    """What chat commands and Telegram changed about routing: the input of build_routes."""

    added: Mapping[int, frozenset[str]] = field(default_factory=dict)  # topics subscribed by command
    removed: Mapping[int, frozenset[str]] = field(default_factory=dict)  # topics unsubscribed by command
    inactive: frozenset[int] = frozenset()  # blocked or removed the bot
    moved: Mapping[int, int] = field(default_factory=dict)  # migrated group -> supergroup


def set_subscription(store: Store, chat_id: int, topics: Iterable[str], active: bool, now: datetime) -> None:
    """Subscribe (active) or unsubscribe the chat from topics, overriding config.toml."""
    with store.engine.begin() as conn:
        _ensure(conn, chat_id, now)
        for topic in topics:
            _upsert_subscription(conn, chat_id, topic, now, active=active)


def _upsert_subscription(conn: Connection, chat_id: int, topic: str, now: datetime, **values: Any) -> None:
    key = and_(t.subscriptions.c.chat_id == chat_id, t.subscriptions.c.topic == topic)
    if conn.execute(update(t.subscriptions).where(key).values(**values)).rowcount == 0:
        conn.execute(t.subscriptions.insert().values(chat_id=chat_id, topic=topic, created_at=now,
                                                     **{"active": True, **values}))


def mute(store: Store, chat_id: int, topics: Iterable[str], until: datetime, now: datetime,
         silent: bool = False) -> None:
    """Mute (or, silent, deliver without notification) topics in a chat until a time. Never
    subscribes: a mute row lives apart from subscriptions."""
    with store.engine.begin() as conn:
        _ensure(conn, chat_id, now)
        for topic in topics:
            key = and_(t.mutes.c.chat_id == chat_id, t.mutes.c.topic == topic)
            conn.execute(delete(t.mutes).where(key))
            conn.execute(t.mutes.insert().values(chat_id=chat_id, topic=topic, until=until, silent=silent, created_at=now))


def unmute(store: Store, chat_id: int, topics: Iterable[str] | None = None, now: datetime | None = None) -> int:
    """Lift mutes (all of the chat's when topics is None); how many still running were lifted."""
    query = delete(t.mutes).where(t.mutes.c.chat_id == chat_id)
    if topics is not None:
        query = query.where(t.mutes.c.topic.in_(list(topics)))
    with store.engine.begin() as conn:
        if now is not None:
            conn.execute(query.where(t.mutes.c.until <= now))  # expired ones are not counted as lifted
        return conn.execute(query).rowcount


def mutes(store: Store, chat_id: int, now: datetime) -> dict[str, tuple[datetime, bool]]:
    """Topic -> (until, silent), for mutes still running."""
    m = t.mutes.c
    query = select(m.topic, m.until, m.silent).where(m.chat_id == chat_id, m.until > now)
    with store.engine.connect() as conn:
        return {r.topic: (r.until, bool(r.silent)) for r in conn.execute(query)}


def muted_topics(store: Store, chat_id: int, now: datetime) -> dict[str, datetime]:
    """Topic -> muted until, for mutes (not silenced topics) still running."""
    return {topic: until for topic, (until, silent) in mutes(store, chat_id, now).items() if not silent}


def stored_chats(store: Store) -> StoredChats:
    """Everything chat commands and Telegram changed about who gets which topics."""
    added: dict[int, set[str]] = {}
    removed: dict[int, set[str]] = {}
    with store.engine.connect() as conn:
        for r in conn.execute(select(t.subscriptions.c.chat_id, t.subscriptions.c.topic, t.subscriptions.c.active)):
            (added if r.active else removed).setdefault(r.chat_id, set()).add(r.topic)
        chats = [_chat(r) for r in conn.execute(select(t.chats))]
    return StoredChats(
        added={k: frozenset(v) for k, v in added.items()},
        removed={k: frozenset(v) for k, v in removed.items()},
        inactive=frozenset(c.id for c in chats if not c.active),
        moved={c.id: c.moved_to for c in chats if c.moved_to is not None},
    )
