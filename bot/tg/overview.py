"""What chat commands changed, as `wirewatch check` lists it: feeds added by /addfeed, and chats
whose topics or settings were set from Telegram (these win over config.toml). Reads the database
only if it already exists, and read-only; never imports python-telegram-bot.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import DatabaseError

from bot.errors import Problem
from bot.preflight import url_problem
from bot.runtime import Runtime, with_stored_routes
from bot.store import chats as db
from bot.store.db import IMPORTED, Store, unreadable
from bot.store.health import sqlite_file
from bot.store.migrations import SCHEMA_VERSION
from bot.tg.digest import describe, merge_prefs


def stored_lines(rt: Runtime) -> list[str]:
    """Lines for `check`; empty when there is no database yet."""
    return stored_report(rt)[0]


def stored_feed_problems(rt: Runtime) -> list[Problem]:
    """Feeds added by /addfeed or import that every fetch would refuse, judged as config.toml's
    feeds are (preflight.url_problem); none when there is no database yet.

    A database that cannot be used raises, as in stored_report: check exits 1 with that one line.
    """
    opened = Store.read_only(rt.config.bot.database_url)  # check writes nothing
    if opened is None:
        return []
    store, version = opened
    if version < SCHEMA_VERSION:  # run migrates it first; its feeds are judged then
        store.close()
        return []
    allow = rt.config.polling.allow_private_networks
    try:
        feeds = [f for f in store.feeds(active_only=True) if f.origin in ("admin", IMPORTED)]
    except (DatabaseError, UnicodeDecodeError) as exc:
        raise unreadable(store.engine, exc) from None
    finally:
        store.close()
    where = {"admin": "added by /addfeed", IMPORTED: "imported"}
    return [Problem(f"database: feed #{f.id} ({where[f.origin]})", reason)
            for f in feeds if (reason := url_problem(f.url, allow))]


def stored_report(rt: Runtime) -> tuple[list[str], bool]:
    """Lines for `check`, and False when the database exists but cannot be read (check exits 1)."""
    url = rt.config.bot.database_url
    opened = Store.read_only(url)  # a database that cannot be used raises DamagedDatabase: check exits 1
    if opened is None:
        path = sqlite_file(url)
        return [f"database: {path} does not exist yet (`wirewatch run` creates it)" if path else
                "database: no wirewatch tables yet (`wirewatch run` creates them)"], True
    store, version = opened
    if version < SCHEMA_VERSION:  # its tables lack what the migrations add: reading them would fail
        store.close()
        return [f"database: schema version {version}; `wirewatch run` migrates it to {SCHEMA_VERSION}"], True
    try:
        store.items_since(datetime.now(UTC) - timedelta(seconds=rt.config.stories.window))  # as run reads
        return _size_lines(store) + _feed_lines(store) + _chat_lines(rt, store), True
    except (DatabaseError, UnicodeDecodeError) as exc:  # rows that SQLite's quick_check cannot see
        raise unreadable(store.engine, exc) from None
    finally:
        store.close()


def _size_lines(store: Store) -> list[str]:
    from bot.store.retention import database_size, oldest_item

    size, (count, first) = database_size(store.engine), oldest_item(store.engine)
    shown = "size unknown" if size is None else f"{size / 1e6:.1f} MB"
    oldest = f", oldest first seen {first:%Y-%m-%d %H:%M} UTC" if first else ""
    return [f"database: {shown}, {count} items{oldest}"]


def _feed_lines(store: Store) -> list[str]:
    added = [f for f in store.feeds(active_only=True) if f.origin in ("admin", IMPORTED)]
    if not added:
        return []
    return [f"feeds added by /addfeed or import ({len(added)}):", *(f"  #{f.id} {f.name}  {f.url}" for f in added)]


def _chat_lines(rt: Runtime, store: Store) -> list[str]:
    stored = db.stored_chats(store)
    chats = {c.id: c for c in db.all_chats(store)}
    touched = sorted(set(chats) | set(stored.added) | set(stored.removed))
    if not touched:
        return []
    routes = {r.chat_id: r.topics for r in with_stored_routes(rt, stored, telegram=True).routes if r.chat_id}
    config = {c.id: c for c in rt.config.chats}
    lines = [f"chats changed from Telegram ({len(touched)}; these settings win over config.toml):"]
    for chat_id in touched:
        row = chats.get(chat_id)
        name = config[chat_id].name if chat_id in config else (row.title if row and row.title else str(chat_id))
        if row is not None and not row.active:
            lines.append(f"  {chat_id} {name}: inactive ({row.inactive_reason})")
            continue
        topics = routes.get(chat_id, frozenset())
        shown = "*" if topics is None else ", ".join(sorted(topics)) or "none"
        prefs = merge_prefs(config.get(chat_id), row, rt.config.bot.timezone)
        lines.append(f"  {chat_id} {name}: {shown}; " + describe(prefs).replace("\n", "; "))
    return lines
