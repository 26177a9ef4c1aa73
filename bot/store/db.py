"""Data access. Every write that belongs to one feed update happens in one transaction, so a crash
loses nothing already stored and a restart duplicates nothing (item keys and outbox rows are unique).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from itertools import groupby
from operator import itemgetter
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import (
    String,
    Table,
    Update,
    bindparam,
    case,
    create_engine,
    event,
    func,
    literal,
    null,
    select,
    union_all,
    update,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DatabaseError

from bot.config import feed_host
from bot.errors import WirewatchError
from bot.ingest.normalize import MAX_BODY_CHARS
from bot.models import FeedForUpdate, Item, Match, StoryAction, StoryDecision
from bot.store import health
from bot.store import schema as t
from bot.store.lock import InstanceLock, setup_transaction
from bot.store.types import bounded_key

IMPORTED = "import"  # feeds.origin of a feed added from an OPML file (others: "config", "admin")


@dataclass(frozen=True)
class FeedRow:
    """A stored feed with its health: what /feeds and `check` show."""

    id: int
    url: str
    name: str
    origin: str
    interval: float | None
    active: bool
    etag: str | None
    last_modified: str | None
    body_hash: str | None
    next_check_at: datetime
    last_checked_at: datetime | None
    last_success_at: datetime | None
    last_status: str | None
    error_count: int
    last_error: str | None
    items_total: int
    ttl_minutes: int | None
    config_url: str | None = None
    fulltext_ok: int = 0  # article pages whose text became an item's body (full_text feeds)
    fulltext_failed: int = 0  # pages that failed or held no article: those items kept their teaser

    def for_update(self) -> FeedForUpdate:
        return FeedForUpdate(
            self.id, self.url, self.name, self.etag, self.last_modified, self.body_hash,
            self.error_count, first_fetch=self.last_success_at is None,
        )


@dataclass(frozen=True)
class FeedState:
    """What one fetch changed about a feed; written with that fetch's items."""

    checked_at: datetime
    next_check_at: datetime
    status: str  # new | unchanged | not_modified | error
    error: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    ttl_minutes: int | None = None
    moved_to: str | None = None  # permanent redirect target


@dataclass(frozen=True)
class Delivery:
    """One outbox row to write: what to send to which target."""

    target: str
    kind: str
    payload: dict


@dataclass(frozen=True)
class ProcessedItem:
    item: Item
    matches: tuple[Match, ...]
    decision: StoryDecision
    deliveries: tuple[Delivery, ...]


@dataclass(frozen=True)
class StoryMember:
    """One item of a story, as /why and an edited alert show it."""

    source: str
    title: str
    url: str | None


@dataclass(frozen=True)
class StoryRecord:
    """A stored story: its headline, targets alerted, sources, and members oldest first."""

    title: str = ""
    alerted: frozenset[str] = frozenset()
    sources: tuple[str, ...] = ()
    members: tuple[StoryMember, ...] = ()


@dataclass(frozen=True)
class OutboxRow:
    id: int
    target: str
    story_id: str
    kind: str
    payload: dict
    attempts: int
    message_ref: str | None


class Store:
    def __init__(self, engine: Engine):
        self.engine = engine

    @classmethod
    def open(cls, database_url: str) -> Store:
        """Open (creating and migrating) the database."""
        path = health.sqlite_file(database_url)
        if path is not None:
            if problem := health.file_problem(path):  # before SQLite touches the file
                raise health.DamagedDatabase(str(path), problem)
            if path.is_file() and path.stat().st_size:
                _check_read_only(path)  # before anything (even journal_mode=WAL) writes to it
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(database_url)
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
        elif engine.dialect.name == "postgresql":
            event.listen(engine, "connect", _postgres_settings)
        try:
            with setup_transaction(engine) as conn:  # two starting at once: one creates, one waits
                t.migrate(conn)
        except BaseException as exc:
            engine.dispose()
            if isinstance(exc, DatabaseError | UnicodeDecodeError):
                raise unreadable(engine, exc) from None
            raise
        return cls(engine)

    def close(self) -> None:
        self.engine.dispose()

    def lock_instance(self) -> InstanceLock:
        """The lock `run` holds for its lifetime; AlreadyRunning if another wirewatch holds it."""
        return InstanceLock.acquire(self.engine)

    # ---- feeds ---------------------------------------------------------------------------------

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

    # ---- one feed update, one transaction ------------------------------------------------------

    def known_keys(self, keys: Sequence[str]) -> set[str]:
        """Those of these item keys that are stored (as given: a long key is stored hashed)."""
        seen: set[str] = set()
        if keys:
            as_stored = {stored_key(k): k for k in keys}
            with self.engine.connect() as conn:
                for chunk in _chunks(list(as_stored), 500):
                    seen.update(as_stored[k] for k in conn.execute(_KNOWN, {"keys": chunk}).scalars())
        return seen

    def unseen(self, items: Sequence[Item], checked: Collection[str] = ()) -> list[Item]:
        """Items whose key is not stored yet, in their order, without repeats.

        checked: keys known_keys just found not stored, so not asked again."""
        seen = self.known_keys([i.key for i in items if i.key not in checked])
        out, taken = [], set()
        for item in items:
            as_stored = stored_key(item.key)  # two keys that differ only by a NUL are one item
            if item.key not in seen and as_stored not in taken:
                taken.add(as_stored)
                out.append(item)
        return out

    def save_update(self, feed_id: int, state: FeedState, processed: Sequence[ProcessedItem]) -> None:
        """Write the feed's new state, its new items, their matches, stories and outbox rows."""
        with self.engine.begin() as conn:
            save_processed(conn, processed, state.checked_at)
            _save_feed_states(conn, [(feed_id, state, len(processed))])

    def save_states(self, states: Sequence[tuple[int, FeedState]]) -> None:
        """Write the states of feeds that brought no new items, in one transaction."""
        if states:
            with self.engine.begin() as conn:
                _save_feed_states(conn, [(feed_id, state, 0) for feed_id, state in states])

    # ---- stories -------------------------------------------------------------------------------

    def alerted_targets(self, story_id: str) -> set[str]:
        """Targets that already got (or are queued) the first alert of this story."""
        with self.engine.connect() as conn:
            return set(conn.execute(_ALERTED, {"sid": story_id}).scalars())

    def story_sources(self, story_id: str) -> list[str]:
        with self.engine.connect() as conn:
            row = conn.execute(_SOURCES, {"sid": story_id}).scalar()
        return list(row or [])

    def story_view(self, story_id: str) -> StoryRecord:
        """Headline, alerted targets, sources and members of a stored story (empty if none)."""
        return self.story_records([story_id]).get(story_id, StoryRecord())

    def story_records(self, story_ids: Iterable[str]) -> dict[str, StoryRecord]:
        """story_view of many stories, one round trip per 500 (a cycle's batch asks once)."""
        rows: dict[str, list] = {}
        with self.engine.connect() as conn:
            for chunk in _chunks(list(dict.fromkeys(story_ids)), 500):
                for r in conn.execute(_RECORDS, {"sids": chunk}):
                    rows.setdefault(r[0], []).append(r)
        return {sid: _record(found) for sid, found in rows.items() if any(r[1] == 0 for r in found)}

    def window_marker(self) -> tuple[int, int]:
        """(newest item id, pair judgements stored): what a saved story window must still match."""
        with self.engine.connect() as conn:
            newest = conn.execute(select(func.max(t.items.c.id))).scalar()
            judged = conn.execute(select(func.max(t.story_judgements.c.id))).scalar()
        return newest or 0, judged or 0

    def items_since(self, since: datetime) -> list[tuple[Item, str]]:
        """Stored items published since `since`, oldest first, with their story: the clusterer's window."""
        query = select(t.items).where(t.items.c.published >= since).order_by(t.items.c.published, t.items.c.id)
        with self.engine.connect() as conn:
            return [(_row_item(row), row.story_id) for row in conn.execute(query)]

    # ---- outbox --------------------------------------------------------------------------------

    def pending(self, targets: Iterable[str], now: datetime, limit: int = 500) -> list[OutboxRow]:
        """Due outbox rows for these targets, oldest first (so per-chat order is kept)."""
        query = (
            select(t.outbox)
            .where(t.outbox.c.status == "pending", t.outbox.c.next_attempt_at <= now, t.outbox.c.target.in_(list(targets)))
            .order_by(t.outbox.c.id)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [OutboxRow(r.id, r.target, r.story_id, r.kind, r.payload, r.attempts, r.message_ref) for r in conn.execute(query)]

    def mark_sent(self, row_id: int, now: datetime, message_ref: str | None = None) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(t.outbox).where(t.outbox.c.id == row_id).values(
                status="sent", sent_at=now, message_ref=message_ref, attempts=t.outbox.c.attempts + 1,
            ))

    def mark_retry(self, row_id: int, error: str, retry_at: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(t.outbox).where(t.outbox.c.id == row_id).values(
                last_error=error, next_attempt_at=retry_at, attempts=t.outbox.c.attempts + 1,
            ))

    def mark_failed(self, row_id: int, error: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(t.outbox).where(t.outbox.c.id == row_id).values(status="failed", last_error=error))

    def sent_ref(self, target: str, story_id: str) -> str | None:
        """The message reference of the story's first alert to this target, once sent."""
        query = select(t.outbox.c.message_ref).where(
            t.outbox.c.target == target, t.outbox.c.story_id == story_id,
            t.outbox.c.kind == "alert", t.outbox.c.status == "sent",
        )
        with self.engine.connect() as conn:
            return conn.execute(query).scalar()

    def counts(self, since: datetime) -> dict[str, int]:
        """Queue depth and alerts sent since a time, for status reports."""
        with self.engine.connect() as conn:
            pending = conn.execute(select(func.count()).where(t.outbox.c.status == "pending")).scalar()
            sent = conn.execute(select(func.count()).where(
                t.outbox.c.status == "sent", t.outbox.c.kind == "alert", t.outbox.c.sent_at >= since,
            )).scalar()
            stored = conn.execute(select(func.count()).select_from(t.items)).scalar()
        return {"pending": pending, "alerts_sent": sent, "items": stored}

    def prune(self, cutoff: datetime, limit: int = 500) -> int:
        """One batch of retention (bot.store.retention); items pruned, 0 when nothing is left to do."""
        from bot.store.retention import prune_batch

        return prune_batch(self.engine, cutoff, limit)

    def health(self, now: datetime) -> dict:
        """For metrics: active feeds by last status, outbox rows by sink and status, the oldest pending."""
        sink = case((t.outbox.c.target.like("tg:%"), "telegram"), else_=t.outbox.c.target)
        with self.engine.connect() as conn:
            feeds = conn.execute(select(t.feeds.c.last_status, func.count()).where(t.feeds.c.active.is_(True))
                                 .group_by(t.feeds.c.last_status)).all()
            outbox = conn.execute(select(sink, t.outbox.c.status, func.count()).group_by(sink, t.outbox.c.status)).all()
            oldest = conn.execute(select(func.min(t.outbox.c.created_at)).where(t.outbox.c.status == "pending")).scalar()
        if isinstance(oldest, str):  # SQLite returns an aggregate of a datetime column as text
            oldest = datetime.fromisoformat(oldest)
        if oldest is not None and oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=UTC)
        by_sink = {(str(k), str(st)): n for k, st, n in outbox}
        return {
            "feeds": {status or "never": n for status, n in feeds},
            "outbox": by_sink,
            "pending": sum(n for (_, st), n in by_sink.items() if st == "pending"),
            "oldest_pending_age": (now - oldest).total_seconds() if oldest else 0.0,
        }


_KEY_LENGTH = t.items.c.key.type.length  # read once: a column attribute lookup costs more than the key


def stored_key(key: str) -> str:
    """An item key as the items table stores it (cleaned; hashed when longer than the column)."""
    return bounded_key(key, _KEY_LENGTH)


# Built once: building a statement costs more than running it.
# The keys are bound as they are stored (stored_key), so as plain strings: not cleaned twice.
_KNOWN = select(t.items.c.key).where(t.items.c.key.in_(bindparam("keys", expanding=True, type_=String())))
_STORIES = select(t.stories).where(t.stories.c.id.in_(bindparam("ids", expanding=True)))
_ALERTED = select(t.outbox.c.target).where(t.outbox.c.story_id == bindparam("sid"), t.outbox.c.kind == "alert")
_SOURCES = select(t.stories.c.sources).where(t.stories.c.id == bindparam("sid"))
_RECORDS = union_all(  # per story: its row once per alert target (ord 0), and its items (ord = item id);
    # sorted in Python: an ORDER BY over the union costs the database a temporary sort (~30% more)
    select(t.stories.c.id, literal(0).label("ord"), t.stories.c.title, t.stories.c.sources, t.outbox.c.target,
           null().label("source"), null().label("item_title"), null().label("url"))
    .select_from(t.stories.outerjoin(t.outbox, (t.outbox.c.story_id == t.stories.c.id) & (t.outbox.c.kind == "alert")))
    .where(t.stories.c.id.in_(bindparam("sids", expanding=True))),
    select(t.items.c.story_id, t.items.c.id, null(), null(), null(), t.items.c.source, t.items.c.title, t.items.c.url)
    .where(t.items.c.story_id.in_(bindparam("sids", expanding=True))),
)


def _record(rows: list) -> StoryRecord:
    head = [r for r in rows if r[1] == 0]  # by position: cheaper than by name, per row
    members = sorted((r for r in rows if r[1]), key=itemgetter(1))
    return StoryRecord(
        head[0][2] or "", frozenset(r[4] for r in head if r[4] is not None), tuple(head[0][3] or ()),
        tuple(StoryMember(r[5], r[6], r[7]) for r in members),
    )


# ---- helpers for save_update ---------------------------------------------------------------------


def save_processed(conn: Connection, processed: Sequence[ProcessedItem], now: datetime) -> None:
    """Items, their matches, stories and outbox rows (also the core's write: bot.store.handover)."""
    if not processed:
        return
    ids = _insert_items(conn, processed, now)  # a few statements for all: per-row ones cost ~1 ms an item
    _insert_rows(conn, t.matches, [
        {"item_id": i, "topic": m.topic, "score": m.score, "why": list(m.why)}
        for p, i in zip(processed, ids, strict=True) for m in p.matches
    ])
    _save_stories(conn, processed, ids, now)
    _insert_rows(conn, t.outbox, [
        {"target": d.target, "story_id": p.decision.story_id, "item_id": i, "kind": d.kind,
         "payload": d.payload, "status": "pending", "attempts": 0, "created_at": now, "next_attempt_at": now}
        for p, i in zip(processed, ids, strict=True) for d in p.deliveries
    ])


def _insert_items(conn: Connection, processed: Sequence[ProcessedItem], now: datetime) -> list[int]:
    """Insert the items in order; their ids in the same order."""
    rows = [{
        "key": p.item.key, "feed_id": p.item.feed_id, "guid": p.item.guid, "url": p.item.url, "title": p.item.title,
        "summary": p.item.summary, "source": p.item.source, "published": p.item.published, "first_seen": now,
        "content_hash": p.item.content_hash, "story_id": p.decision.story_id,
        "body": p.item.body[:MAX_BODY_CHARS],
    } for p in processed]
    if not conn.dialect.insert_executemany_returning_sort_by_parameter_order:
        return [conn.execute(t.items.insert(), row).inserted_primary_key[0] for row in rows]
    query = t.items.insert().returning(t.items.c.id, sort_by_parameter_order=True)
    return list(conn.execute(query, rows).scalars())


def _insert_rows(conn: Connection, table: Table, rows: list[dict]) -> None:
    if rows:
        conn.execute(table.insert(), rows)


def _save_stories(conn: Connection, processed: Sequence[ProcessedItem], ids: Sequence[int], now: datetime) -> None:
    """Create or extend each item's story (topics and sources merged, items counted), one statement per kind."""
    wanted = list(dict.fromkeys(p.decision.story_id for p in processed))
    stored = {}
    for chunk in _chunks(wanted, 500):
        stored.update((row.id, row) for row in conn.execute(_STORIES, {"ids": chunk}))
    stories: dict[str, dict] = {}
    for p, item_id in zip(processed, ids, strict=True):
        sid, topics = p.decision.story_id, {m.topic for m in p.matches}
        story = stories.get(sid)
        if story is None and sid not in stored:
            related = p.decision.related if p.decision.action is StoryAction.RELATED else None
            stories[sid] = {"id": sid, "first_item_id": item_id, "title": p.item.title, "topics": topics,
                            "sources": [p.item.source], "item_count": 1, "created_at": now, "updated_at": now,
                            "related": related, "related_score": p.decision.score if related else None}
            continue
        if story is None:
            row = stored[sid]
            story = stories[sid] = {"p_id": sid, "topics": set(row.topics), "sources": list(row.sources),
                                    "item_count": row.item_count, "updated_at": now}
        story["topics"] |= topics
        story["sources"] += [p.item.source] if p.item.source not in story["sources"] else []
        story["item_count"] += 1
    for story in stories.values():
        story["topics"] = sorted(story["topics"])
    _insert_rows(conn, t.stories, [s for s in stories.values() if "id" in s])
    changed = [s for s in stories.values() if "p_id" in s]
    if changed:
        conn.execute(update(t.stories).where(t.stories.c.id == bindparam("p_id")), changed)


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


def _row_item(row) -> Item:
    return Item(
        key=row.key, title=row.title, summary=row.summary, url=row.url, source=row.source,
        published=row.published, guid=row.guid, feed_id=row.feed_id, content_hash=row.content_hash, id=row.id,
        body=row.body or "",
    )


def _chunks(seq: Sequence, size: int):
    for i in range(0, len(seq), size):
        yield seq[i : i + size]


def _check_read_only(path: Path) -> None:
    """quick_check and the schema checks on a read-only connection: DamagedDatabase if unusable."""
    engine = create_engine(f"sqlite:///file:{quote(str(path.resolve()))}?mode=ro&uri=true")
    try:
        with engine.connect() as conn:
            if problem := health.quick_check(conn):
                raise health.DamagedDatabase(str(path), problem)
            t.check(conn)
    except (DatabaseError, UnicodeDecodeError) as exc:
        raise unreadable(engine, exc, str(path)) from None
    finally:
        engine.dispose()


# SQLite's words for a file that is not (or no longer) a usable database, as opposed to one
# that cannot be opened now (locked, no permission, no such directory).
_DAMAGE_WORDS = ("not a database", "malformed", "corrupt", "no such table", "no such column", "codec", "decode")


def unreadable(engine: Engine, exc: Exception, where: str = "") -> WirewatchError:
    """The error for a database that failed while being read: damaged, or not openable."""
    reason = str(getattr(exc, "orig", None) or exc)
    url = engine.url
    where = where or (url.database if url.get_backend_name() == "sqlite" and url.database else
                      url.render_as_string(hide_password=True))
    if isinstance(exc, UnicodeDecodeError) or any(w in reason.lower() for w in _DAMAGE_WORDS):
        return health.DamagedDatabase(where, f"SQLite cannot read it ({reason[:200]})")
    return WirewatchError(f"cannot open database {where}: {reason[:300]}")


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=5000")
    cur.close()


def _postgres_settings(dbapi_conn, _record) -> None:
    """The durability SQLite gets from WAL + synchronous=NORMAL: a crashed wirewatch loses nothing
    committed, a crashed machine may lose the last moments (an outbox row sent again, a feed
    fetched again). A flushed WAL record per commit would cost ~6 ms per sent alert."""
    with dbapi_conn.cursor() as cur:
        cur.execute("SET synchronous_commit = off")
    dbapi_conn.commit()


def window_start(now: datetime, seconds: float) -> datetime:
    return now - timedelta(seconds=seconds)


def _config_changes(row, name: str, interval: float | None) -> dict:
    """The columns a configured feed must change; a feed without a configured name keeps the one
    its <title> gave it."""
    wanted = {"interval": interval, "active": True, "origin": "config"} | ({"name": name} if name else {})
    return {col: value for col, value in wanted.items() if getattr(row, col) != value}
