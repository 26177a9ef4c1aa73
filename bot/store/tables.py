"""The tables. SQLAlchemy Core only, so the same schema runs on SQLite and PostgreSQL.

A change here needs a step in bot/store/migrations.py for the databases already written.
"""

from __future__ import annotations

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
)
from sqlalchemy.types import TypeDecorator

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
