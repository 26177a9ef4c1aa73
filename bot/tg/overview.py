"""What chat commands changed, as `wirewatch check` lists it: feeds added by /addfeed, and chats
whose topics or settings were set from Telegram (these win over config.toml). Reads the database
only if it already exists; never imports python-telegram-bot.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from bot.errors import WirewatchError
from bot.runtime import Runtime, with_stored_routes
from bot.store import chats as db
from bot.store.db import IMPORTED, Store
from bot.tg.digest import describe, merge_prefs


def stored_lines(rt: Runtime) -> list[str]:
    """Lines for `check`; empty when there is no database yet."""
    return stored_report(rt)[0]


def stored_report(rt: Runtime) -> tuple[list[str], bool]:
    """Lines for `check`, and False when the database exists but cannot be read (check exits 1)."""
    url = rt.config.bot.database_url
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return [], True
    try:
        store = Store.open(url)
    except WirewatchError as exc:
        return [f"database: not readable ({exc})"], False
    try:
        return _feed_lines(store) + _chat_lines(rt, store), True
    except SQLAlchemyError as exc:  # e.g. a database from before these tables existed
        return [f"database: not readable ({exc.__class__.__name__}: {exc.orig if hasattr(exc, 'orig') else exc})"], False
    finally:
        store.close()


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
