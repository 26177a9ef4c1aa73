"""Mutes live apart from subscriptions (issue 13, defect 1): the store functions and the migration
that moves the mutes an older database kept on subscription rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text

from bot.store import chats as db
from bot.store import schema as t
from bot.store.db import Store

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def test_mute_and_unmute_never_touch_subscriptions(tmp_path):
    store = Store.open(f"sqlite:///{tmp_path / 'w.db'}")
    try:
        db.mute(store, 8, ["anbar", "drones"], NOW + timedelta(hours=2), NOW)
        db.mute(store, 8, ["drones"], db.FOREVER, NOW, silent=True)  # a later mute replaces the earlier
        assert db.stored_chats(store).added == {}
        assert db.mutes(store, 8, NOW) == {"anbar": (NOW + timedelta(hours=2), False), "drones": (db.FOREVER, True)}
        assert db.muted_topics(store, 8, NOW) == {"anbar": NOW + timedelta(hours=2)}  # silenced is not muted
        assert db.unmute(store, 8, None, NOW + timedelta(hours=3)) == 1  # the expired one is not counted
        assert db.mutes(store, 8, NOW) == {}
    finally:
        store.close()


def test_migration_moves_old_mutes_out_of_subscriptions(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    store = Store.open(url)
    before = 1 + t.MIGRATIONS.index(t._mutes_apart_and_silent)  # the version just before this step
    with store.engine.begin() as conn:  # what a database of that version looked like
        conn.execute(text("DROP TABLE mutes"))
        conn.execute(text("ALTER TABLE chats DROP COLUMN silent"))
        conn.execute(t.meta.update().where(t.meta.c.key == "schema_version").values(value=str(before)))
        conn.execute(t.subscriptions.insert().values(chat_id=8, topic="anbar", active=True, created_at=NOW,
                                                     muted_until=NOW + timedelta(days=1)))
    store.close()

    store = Store.open(url)
    try:
        assert db.mutes(store, 8, NOW) == {"anbar": (NOW + timedelta(days=1), False)}
        with store.engine.connect() as conn:
            assert conn.execute(select(t.subscriptions.c.muted_until)).scalars().all() == [None]
            assert conn.execute(select(t.chats.c.silent)).all() == []  # the column exists
    finally:
        store.close()
