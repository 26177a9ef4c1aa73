"""Tables and migrations, under the one name the store and the tests import them by.

  tables.py      the tables (SQLAlchemy Core, the same schema on SQLite and PostgreSQL)
  migrations.py  MIGRATIONS, SCHEMA_VERSION, and check/migrate (refuse a newer, foreign or
                 incomplete database)
"""

from __future__ import annotations

from bot.store.migrations import (
    MIGRATIONS,
    SCHEMA_VERSION,
    _add_handover,
    _add_item_body,
    _chat_languages,
    _index_for_retention,
    _index_outbox_story,
    _mutes_apart_and_silent,
    _refuse_incomplete,
    _refuse_unversioned,
    _related_stories,
    check,
    current_version,
    migrate,
)
from bot.store.tables import (
    UTCDateTime,
    chats,
    feeds,
    handover,
    items,
    labels,
    matches,
    meta,
    metadata,
    mutes,
    outbox,
    stories,
    story_judgements,
    subscriptions,
)

__all__ = [
    "MIGRATIONS", "SCHEMA_VERSION", "UTCDateTime", "chats", "check", "current_version", "feeds",
    "handover", "items", "labels", "matches", "meta", "metadata", "migrate", "mutes", "outbox",
    "stories", "story_judgements", "subscriptions",
    "_add_handover", "_add_item_body", "_chat_languages", "_index_for_retention", "_index_outbox_story",
    "_mutes_apart_and_silent", "_refuse_incomplete", "_refuse_unversioned", "_related_stories",
]
