"""Feeds: the configured and added feeds, their names and activity, and the state each fetch
leaves (written with that fetch's items, in its transaction).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import cache
from itertools import groupby
from operator import itemgetter

from sqlalchemy import Update, bindparam, select, update
from sqlalchemy.engine import Connection, Engine

from bot.config import feed_host
from bot.store import schema as t
from bot.store.lock import setup_transaction
from bot.store.rows import FeedRow, FeedState


class FeedsMixin:
    """Store methods on the feeds table."""

    engine: Engine

    def sync_config_feeds(self, feeds: Iterable[tuple[str, str, float | None]], now: datetime) -> None:
        """Make the config's feeds active (adding new ones, due now) and retire removed ones.

        Only rows that differ are written, so a restart with an unchanged config costs one read.
        """
        wanted = {url: (name, interval) for url, name, interval in feeds}
        c = t.feeds.c
        with setup_transaction(self.engine) as conn:  # two at once would both insert a new feed
            rows = conn.execute(select(c.id, c.url, c.config_url, c.origin, c.name, c.interval, c.active)).all()
            known = {row.config_url or row.url: row for row in rows}
            for url, (name, interval) in wanted.items():
                if url not in known:
                    conn.execute(t.feeds.insert().values(
                        url=url, config_url=url, name=name or feed_host(url), interval=interval, origin="config",
                        active=True, next_check_at=now, created_at=now, error_count=0, items_total=0,
                    ))
                elif values := _config_changes(known[url], name, interval):
                    conn.execute(update(t.feeds).where(c.id == known[url].id).values(**values))
            gone = [row.id for url, row in known.items() if row.origin == "config" and row.active and url not in wanted]
            if gone:
                conn.execute(update(t.feeds).where(c.id.in_(gone)).values(active=False))

    def add_feed(self, url: str, name: str, origin: str, now: datetime) -> int:
        with self.engine.begin() as conn:
            existing = conn.execute(select(t.feeds.c.id).where(t.feeds.c.url == url)).scalar()
            if existing is not None:
                conn.execute(update(t.feeds).where(t.feeds.c.id == existing).values(active=True, name=name))
                return existing
            return conn.execute(t.feeds.insert().values(
                url=url, config_url=url, name=name, origin=origin, active=True,
                next_check_at=now, created_at=now, error_count=0, items_total=0,
            )).inserted_primary_key[0]

    def rename_feed(self, feed_id: int, name: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(t.feeds).where(t.feeds.c.id == feed_id).values(name=name))

    def set_feed_active(self, feed_id: int, active: bool) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(t.feeds).where(t.feeds.c.id == feed_id).values(active=active))

    def feeds(self, *, active_only: bool = True, due_before: datetime | None = None) -> list[FeedRow]:
        query = select(*[t.feeds.c[f] for f in FeedRow.__dataclass_fields__]).order_by(t.feeds.c.id)
        if active_only:
            query = query.where(t.feeds.c.active.is_(True))
        if due_before is not None:
            query = query.where(t.feeds.c.next_check_at <= due_before).order_by(t.feeds.c.next_check_at)
        with self.engine.connect() as conn:
            return [FeedRow(**row._mapping) for row in conn.execute(query)]

    def count_full_text(self, feed_id: int, ok: int, failed: int) -> None:
        """Add to the feed's counts of article pages extracted and failed."""
        c = t.feeds.c
        with self.engine.begin() as conn:
            conn.execute(update(t.feeds).where(c.id == feed_id).values(
                fulltext_ok=c.fulltext_ok + ok, fulltext_failed=c.fulltext_failed + failed))


def _config_changes(row, name: str, interval: float | None) -> dict:
    """The columns a configured feed must change; a feed without a configured name keeps the one
    its <title> gave it."""
    wanted = {"interval": interval, "active": True, "origin": "config"} | ({"name": name} if name else {})
    return {col: value for col, value in wanted.items() if getattr(row, col) != value}


def _save_feed_states(conn: Connection, states: Sequence[tuple[int, FeedState, int]]) -> None:
    """Feed states (feed id, state, new items) in order; one executemany per run of the same shape."""
    pending: list[tuple[tuple[bool, bool, bool], dict]] = []
    for feed_id, s, new_items in states:
        if s.moved_to:  # the check in _shape must see every earlier state
            _execute_runs(conn, pending)
            pending = []
        pending.append((_shape(conn, s), _state_params(feed_id, s, new_items)))
    _execute_runs(conn, pending)


def _execute_runs(conn: Connection, pending: list[tuple[tuple[bool, bool, bool], dict]]) -> None:
    for shape, run in groupby(pending, key=itemgetter(0)):
        conn.execute(_feed_update(*shape), [params for _, params in run])


def _shape(conn: Connection, s: FeedState) -> tuple[bool, bool, bool]:
    """(failed, new, moved): a permanent redirect moves the feed unless another one polls that URL."""
    moved = bool(s.moved_to) and conn.execute(select(t.feeds.c.id).where(t.feeds.c.url == s.moved_to)).first() is None
    return s.status == "error", s.status == "new", moved


def _state_params(feed_id: int, s: FeedState, new_items: int) -> dict:
    return {
        "p_id": feed_id, "p_checked_at": s.checked_at, "p_next_check_at": s.next_check_at, "p_status": s.status,
        "p_new_items": new_items, "p_error": s.error, "p_etag": s.etag, "p_last_modified": s.last_modified,
        "p_body_hash": s.body_hash, "p_ttl_minutes": s.ttl_minutes, "p_moved_to": s.moved_to,
    }


@cache
def _feed_update(failed: bool, new: bool, moved: bool) -> Update:
    """The UPDATE for one shape of feed state, built once: building a statement costs more than running it."""
    c = t.feeds.c
    values: dict = {
        "last_checked_at": bindparam("p_checked_at"), "next_check_at": bindparam("p_next_check_at"),
        "last_status": bindparam("p_status"), "items_total": c.items_total + bindparam("p_new_items"),
    }
    if failed:
        values |= {"error_count": c.error_count + 1, "last_error": bindparam("p_error")}
    else:
        values |= {"error_count": 0, "last_error": None, "last_success_at": bindparam("p_checked_at")}
    if new:
        values |= {key: bindparam(f"p_{key}") for key in ("etag", "last_modified", "body_hash", "ttl_minutes")}
    if moved:
        values["url"] = bindparam("p_moved_to")
    return update(t.feeds).where(c.id == bindparam("p_id")).values(values)
