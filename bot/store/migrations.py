"""Migrations and the schema version check.

The schema version lives in `meta`; a change to bot/store/tables.py adds a step to MIGRATIONS.
Add a step, never edit one.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import inspect, select, text
from sqlalchemy.engine import Connection

from bot.store import health
from bot.store.tables import (
    handover,
    meta,
    metadata,
    mutes,
    outbox,
    stories,
    story_judgements,
    subscriptions,
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
