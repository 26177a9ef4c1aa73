"""The outbox: due rows and their delivery outcome, and the counts status reports and metrics
read (queue depth, alerts sent, feeds by last status); retention's batches run from here.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import bindparam, case, func, select, update
from sqlalchemy.engine import Engine

from bot.store import schema as t
from bot.store.rows import OutboxRow

# Built once: every delivered alert runs it, and building it cost more than running it.
_SENT = update(t.outbox).where(t.outbox.c.id == bindparam("row_id")).values(
    status="sent", sent_at=bindparam("now"), message_ref=bindparam("ref"), attempts=t.outbox.c.attempts + 1)


class OutboxMixin:
    """Store methods on the outbox, and the counts that report on it."""

    engine: Engine

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
            conn.execute(_SENT, {"row_id": row_id, "now": now, "ref": message_ref})

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
