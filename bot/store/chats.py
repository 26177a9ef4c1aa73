"""Data access for the Telegram layer: chats and their settings, subscriptions, mutes, feedback
labels, and the outbox queries delivery needs (holding, digests, edits, migration).

Functions take the Store; every multi-row change is one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, delete, func, select, update
from sqlalchemy.engine import Connection

from bot.match.texts import item_text
from bot.store import schema as t
from bot.store.db import Store

FOREVER = datetime(9999, 12, 31, tzinfo=UTC)  # until of a mute without a duration
SETTINGS = ("mode", "digest_times", "quiet_hours", "timezone", "thread_id", "silent", "language")


def tg_target(chat_id: int) -> str:
    return f"tg:{chat_id}"


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


@dataclass(frozen=True)
class StoredChats:
    """What chat commands and Telegram changed about routing: the input of build_routes."""

    added: Mapping[int, frozenset[str]] = field(default_factory=dict)  # topics subscribed by command
    removed: Mapping[int, frozenset[str]] = field(default_factory=dict)  # topics unsubscribed by command
    inactive: frozenset[int] = frozenset()  # blocked or removed the bot
    moved: Mapping[int, int] = field(default_factory=dict)  # migrated group -> supergroup


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


# ---- chats ---------------------------------------------------------------------------------------


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


# ---- subscriptions and mutes ---------------------------------------------------------------------


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


# ---- outbox rows for Telegram --------------------------------------------------------------------


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
    """The story's first alert to this chat (what an update edits)."""
    o = t.outbox.c
    query = select(t.outbox).where(o.target == tg_target(chat_id), o.story_id == story_id, o.kind == "alert")
    with store.engine.connect() as conn:
        r = conn.execute(query.order_by(o.id)).first()
    return _tg_row(r) if r else None


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


def mark_sent_many(store: Store, row_ids: Iterable[int], now: datetime, message_ref: str) -> None:
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


# ---- feedback and explanations -------------------------------------------------------------------


def save_labels(store: Store, item_id: int, topics: Iterable[str], label: int, user_id: int,
                now: datetime, origin: str = "button") -> None:
    """One labelled example per topic (a later press by the same user replaces the earlier)."""
    with store.engine.begin() as conn:
        item = conn.execute(select(t.items.c.title, t.items.c.summary, t.items.c.body)
                            .where(t.items.c.id == item_id)).first()
        text = item_text(item.title, item.summary, item.body) if item else ""
        for topic in topics:
            key = and_(t.labels.c.topic == topic, t.labels.c.item_id == item_id, t.labels.c.user_id == user_id)
            values = {"label": label, "text": text, "origin": origin, "created_at": now}
            if conn.execute(update(t.labels).where(key).values(**values)).rowcount == 0:
                conn.execute(t.labels.insert().values(topic=topic, item_id=item_id, user_id=user_id, **values))


@dataclass(frozen=True)
class Explanation:
    """Why an item was alerted: its matches and its story."""

    title: str
    source: str
    matches: tuple[tuple[str, float, tuple[str, ...]], ...]  # (topic, score, why)
    story_id: str | None
    story_title: str | None
    story_sources: tuple[str, ...]
    story_items: int
    members: tuple[tuple[str, str], ...] = ()  # (headline, source) of every item of the story, oldest first


def explain_item(store: Store, item_id: int) -> Explanation | None:
    with store.engine.connect() as conn:
        item = conn.execute(select(t.items).where(t.items.c.id == item_id)).first()
        if item is None:
            return None
        found = conn.execute(select(t.matches).where(t.matches.c.item_id == item_id).order_by(t.matches.c.topic)).all()
        story = conn.execute(select(t.stories).where(t.stories.c.id == item.story_id)).first()
    members = store.story_view(item.story_id).members if item.story_id else ()
    return Explanation(
        item.title, item.source, tuple((m.topic, m.score, tuple(m.why)) for m in found), item.story_id,
        story.title if story else None, tuple(story.sources) if story else (), story.item_count if story else 0,
        tuple((m.title, m.source) for m in members),
    )
