"""Tables and migrations. SQLAlchemy Core only, so the same schema runs on SQLite and PostgreSQL.

The schema version lives in `meta`; MIGRATIONS[n] takes version n to n+1. Add a step, never edit one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Table,
    UniqueConstraint,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import Connection
from sqlalchemy.types import TypeDecorator

from bot.store import health
from bot.store.types import BoundedString as String  # every string column cleaned and bounded
from bot.store.types import CleanJSON as JSON
from bot.store.types import CleanText as Text
from bot.store.types import KeyString


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in, aware UTC datetimes out, whatever the backend stores."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use aware UTC datetimes")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


metadata = MetaData()

meta = Table("meta", metadata, Column("key", String(64), primary_key=True), Column("value", Text))

feeds = Table(
    "feeds",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("url", String(2048), nullable=False, unique=True),
    Column("config_url", String(2048)),  # the URL as configured, when a redirect moved it
    Column("name", String(200), nullable=False),
    Column("origin", String(16), nullable=False, default="config"),  # config | admin
    Column("interval", Float),
    Column("active", Boolean, nullable=False, default=True),
    Column("etag", String(512)),
    Column("last_modified", String(128)),
    Column("body_hash", String(64)),
    Column("ttl_minutes", Integer),
    Column("next_check_at", UTCDateTime, nullable=False),
    Column("last_checked_at", UTCDateTime),
    Column("last_success_at", UTCDateTime),
    Column("last_status", String(32)),
    Column("error_count", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Column("items_total", Integer, nullable=False, default=0),
    Column("fulltext_ok", Integer, nullable=False, server_default="0"),  # full-text pages extracted
    Column("fulltext_failed", Integer, nullable=False, server_default="0"),  # ... and failed (teaser kept)
    Column("created_at", UTCDateTime, nullable=False),
)

items = Table(
    "items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key", KeyString(600), nullable=False, unique=True),  # long keys hashed
    Column("feed_id", Integer, ForeignKey("feeds.id", ondelete="SET NULL")),
    Column("guid", String(1024)),
    Column("url", String(2048)),
    Column("title", Text, nullable=False),
    Column("summary", Text, nullable=False),
    Column("source", String(200), nullable=False),
    Column("published", UTCDateTime, nullable=False),
    Column("first_seen", UTCDateTime, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("story_id", String(40), index=True),
    Column("body", Text, nullable=False, server_default=""),  # the article text, at most MAX_BODY_CHARS
    Index("ix_items_published", "published"),
)

matches = Table(
    "matches",
    metadata,
    Column("item_id", Integer, ForeignKey("items.id", ondelete="CASCADE"), primary_key=True),
    Column("topic", String(100), primary_key=True),
    Column("score", Float, nullable=False),
    Column("why", JSON, nullable=False),
)

stories = Table(
    "stories",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("first_item_id", Integer, ForeignKey("items.id", ondelete="SET NULL")),
    Column("title", Text, nullable=False),
    Column("topics", JSON, nullable=False),
    Column("sources", JSON, nullable=False),
    Column("item_count", Integer, nullable=False, default=1),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("related", String(40)),  # the earlier story this one may be the same as (RELATED)
    Column("related_score", Float),  # the clusterer's score for that pair
    Index("ix_stories_first_item", "first_item_id"),  # retention unlinks pruned items
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("target", String(64), nullable=False),  # console | jsonl | tg:<chat id>
    Column("story_id", String(40), nullable=False),
    Column("item_id", Integer, ForeignKey("items.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(16), nullable=False),  # alert | update
    Column("payload", JSON, nullable=False),
    Column("status", String(16), nullable=False, default="pending"),  # pending | held | sent | failed | muted
    Column("attempts", Integer, nullable=False, default=0),
    Column("created_at", UTCDateTime, nullable=False),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime),
    Column("message_ref", String(64)),  # e.g. Telegram message id, for later edits
    Column("last_error", Text),
    Column("feedback", String(8)),  # the feedback button last pressed on this alert (+ - m)
    UniqueConstraint("target", "story_id", "item_id", name="uq_outbox_target_story_item"),
    Index("ix_outbox_due", "status", "next_attempt_at"),
    Index("ix_outbox_story", "story_id"),  # alerted_targets runs per item that joins a story
    Index("ix_outbox_item", "item_id"),  # retention: an item's rows still to deliver, then deleted with it
)

# A chat known from Telegram (a command, a delivery). Settings columns left NULL fall back to the
# chat's [[chats]] table in config.toml (or the defaults); set by chat command, they win over it.
chats = Table(
    "chats",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),  # Telegram ids exceed 32 bits
    Column("title", String(200)),
    Column("kind", String(16)),  # private | group | supergroup | channel
    Column("active", Boolean, nullable=False, default=True),  # False: the bot was blocked or removed
    Column("inactive_reason", Text),
    Column("moved_to", BigInteger),  # the supergroup this group was migrated to
    Column("mode", String(16)),  # instant | digest
    Column("digest_times", JSON),  # ["08:00", "18:00"]
    Column("quiet_hours", String(16)),  # "22:00-07:00"; "" = none
    Column("timezone", String(64)),
    Column("thread_id", BigInteger),  # forum topic; 0 = the main thread
    Column("silent", Boolean),  # alerts arrive without notification; NULL = off
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("language", String(16)),  # chosen with /settings lang; None = tg_language
    Column("tg_language", String(16)),  # the language_code Telegram last sent for a private chat's user
)

# Topics added (active) or removed (not active) by chat command, over the config's topics.
subscriptions = Table(
    "subscriptions",
    metadata,
    Column("chat_id", BigInteger, primary_key=True, autoincrement=False),
    Column("topic", String(100), primary_key=True),
    Column("active", Boolean, nullable=False, default=True),
    Column("muted_until", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
)

# A topic muted (or silenced: delivered without notification) in a chat until a time. Kept apart
# from subscriptions so that muting never subscribes a chat to anything.
mutes = Table(
    "mutes",
    metadata,
    Column("chat_id", BigInteger, primary_key=True, autoincrement=False),
    Column("topic", String(100), primary_key=True),
    Column("until", UTCDateTime, nullable=False),
    Column("silent", Boolean, nullable=False, default=False),
    Column("created_at", UTCDateTime, nullable=False),
)

labels = Table(
    "labels",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("topic", String(100), nullable=False, index=True),
    Column("item_id", Integer, ForeignKey("items.id", ondelete="CASCADE")),
    Column("text", Text, nullable=False),  # kept so a label survives item pruning
    Column("label", Integer, nullable=False),  # 1 belongs, 0 does not
    Column("user_id", BigInteger),
    Column("origin", String(16), nullable=False),  # button | file
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("topic", "item_id", "user_id", name="uq_labels_topic_item_user"),
)

# A person's answer to "same story?" under a related alert: what threshold learning reads.
story_judgements = Table(
    "story_judgements",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("story_id", String(40), nullable=False, index=True),  # the later (related) story
    Column("other_id", String(40), nullable=False),  # the earlier story it was shown beside
    Column("score", Float),  # the clusterer's score for the pair when it decided RELATED
    Column("verdict", String(16), nullable=False),  # same | different
    Column("chat_id", BigInteger),
    Column("user_id", BigInteger),
    Column("created_at", UTCDateTime, nullable=False),
)


# New items a poller fetched, waiting for the core (--role poller/core; bot/store/handover.py).
# A row is deleted in the transaction that stores its items, so a pending row is work not done.
handover = Table(
    "handover",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),  # arrival order
    Column("feed_id", Integer, ForeignKey("feeds.id", ondelete="CASCADE"), nullable=False),
    Column("entries", JSON, nullable=False),  # [{item fields..., "quiet": bool}] in the feed's order
    Column("created_at", UTCDateTime, nullable=False),
    Column("status", String(16), nullable=False),  # pending | failed (after MAX_ATTEMPTS)
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("error", Text),
    Index("ix_handover_status_id", "status", "id"),
)

# MIGRATIONS[n] takes a database from version n+1 to n+2. A new database gets the current
# tables directly (create_all) and skips every step.
def _index_outbox_story(conn: Connection) -> None:
    next(i for i in outbox.indexes if i.name == "ix_outbox_story").create(conn, checkfirst=True)


def _chat_languages(conn: Connection) -> None:
    """chats.language (/settings lang) and chats.tg_language (Telegram's language_code)."""
    have = {c["name"] for c in inspect(conn).get_columns("chats")}
    for name in ("language", "tg_language"):
        if name not in have:
            conn.execute(text(f"ALTER TABLE chats ADD COLUMN {name} VARCHAR(16)"))


def _mutes_apart_and_silent(conn: Connection) -> None:
    """Mutes get their own table (a mute used to upsert an active subscription), chats a silent flag."""
    from sqlalchemy import text, update

    mutes.create(conn, checkfirst=True)
    subs = subscriptions.c
    rows = conn.execute(select(subs.chat_id, subs.topic, subs.muted_until, subs.created_at)
                        .where(subs.muted_until.is_not(None))).all()
    if rows:
        conn.execute(mutes.insert(), [{"chat_id": r.chat_id, "topic": r.topic, "until": r.muted_until,
                                       "silent": False, "created_at": r.created_at} for r in rows])
        conn.execute(update(subscriptions).values(muted_until=None))
    if "silent" not in {c["name"] for c in inspect(conn).get_columns("chats")}:
        conn.execute(text("ALTER TABLE chats ADD COLUMN silent BOOLEAN"))



def _related_stories(conn: Connection) -> None:
    """stories.related and related_score, and the story_judgements table (related alerts)."""
    have = {c["name"] for c in inspect(conn).get_columns("stories")}
    for column in (c for c in (stories.c.related, stories.c.related_score) if c.name not in have):
        kind = column.type.compile(dialect=conn.dialect)
        conn.execute(text(f"ALTER TABLE stories ADD COLUMN {column.name} {kind}"))
    story_judgements.create(conn, checkfirst=True)


def _add_item_body(conn: Connection) -> None:
    """Full article text (issue 11): items stored before it have an empty body; feeds count the
    article pages extracted and failed."""
    columns = {c["name"] for c in inspect(conn).get_columns("items")}
    if "body" not in columns:
        conn.execute(text("ALTER TABLE items ADD COLUMN body TEXT NOT NULL DEFAULT ''"))
    columns = {c["name"] for c in inspect(conn).get_columns("feeds")}
    for name in ("fulltext_ok", "fulltext_failed"):
        if name not in columns:
            conn.execute(text(f"ALTER TABLE feeds ADD COLUMN {name} INTEGER NOT NULL DEFAULT 0"))


def _index_for_retention(conn: Connection) -> None:
    for table, name in ((outbox, "ix_outbox_item"), (stories, "ix_stories_first_item")):
        next(i for i in table.indexes if i.name == name).create(conn, checkfirst=True)


def _add_handover(conn: Connection) -> None:
    """The pollers' hand-over of new items to the core (issue 16)."""
    handover.create(conn, checkfirst=True)


MIGRATIONS: list[Callable[[Connection], None]] = [_index_outbox_story, _mutes_apart_and_silent, _chat_languages,
                                                  _related_stories, _add_item_body,
                                                  _index_for_retention, _add_handover]
SCHEMA_VERSION = 1 + len(MIGRATIONS)


def current_version(conn: Connection) -> int:
    return health.stored_version(conn, meta)[0]


def check(conn: Connection) -> int:
    """The stored schema version, if this wirewatch can use the database; else DamagedDatabase.

    Reads only: run on a read-only connection before anything is written.
    """
    version, has_meta = health.stored_version(conn, meta)
    where = health.where_of(conn)
    if version > SCHEMA_VERSION:
        raise health.DamagedDatabase(where, f"it was written by a newer wirewatch (schema version {version}; "
                                            f"this wirewatch reads up to {SCHEMA_VERSION})", newer=True)
    if version == 0:
        _refuse_unversioned(conn, where, has_meta)
    elif version == SCHEMA_VERSION:  # an older version lacks what its migrations will add
        _refuse_incomplete(conn, where)
    return version


def migrate(conn: Connection) -> int:
    """Bring the schema up to SCHEMA_VERSION; refuse a newer, foreign or incomplete database."""
    version = check(conn)
    if version == 0:
        metadata.create_all(conn)
    else:
        for step in MIGRATIONS[version - 1 :]:
            step(conn)
    _refuse_incomplete(conn, health.where_of(conn))
    if version != SCHEMA_VERSION:
        conn.execute(meta.delete().where(meta.c.key == "schema_version"))
        conn.execute(meta.insert().values(key="schema_version", value=str(SCHEMA_VERSION)))
    return SCHEMA_VERSION


def _refuse_incomplete(conn: Connection, where: str) -> None:
    if missing := health.missing_parts(conn, metadata):
        raise health.DamagedDatabase(where, f"it lacks {', '.join(missing[:6])}" + (" …" if len(missing) > 6 else ""))


def _refuse_unversioned(conn: Connection, where: str, has_meta: bool) -> None:
    """A database without a schema version must be new: no tables but (maybe) an empty meta."""
    ours = [n for n in metadata.tables if n != "meta" and conn.dialect.has_table(conn, n)]
    others = health.foreign_tables(conn, metadata)
    if others:
        raise health.DamagedDatabase(where, f"it holds other tables ({', '.join(others[:6])}) and no wirewatch "
                                            "schema version (another program's database)")
    if ours:
        lost = "its schema version is missing" if has_meta else "its meta table (schema version) is missing"
        raise health.DamagedDatabase(where, f"{lost}, though it has wirewatch tables ({', '.join(ours[:4])} …)")
