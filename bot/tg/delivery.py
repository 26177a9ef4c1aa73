"""Draining the outbox into Telegram: per chat in order, chats in parallel, nothing lost.

A row is marked sent only after Telegram returned the message id, so a crash resends at most the
message in flight (one per chat). Per chat, rows go strictly in outbox order: a row waiting for a
retry holds back the rows behind it. Alerts arriving in quiet hours, or for a digest-mode chat, are
held and later sent together as one digest message. A blocked chat is deactivated and its queue
failed (with the reason, and the admin chat told); a migrated group is moved to its new id.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import replace
from datetime import datetime, timedelta
from enum import Enum

from bot.alerts.compose import alert_from_json
from bot.alerts.outbox import DeliveryError
from bot.i18n import translation
from bot.models import Alert
from bot.store import chats as db
from bot.store import judgements as judged
from bot.store.chats import TgRow
from bot.store.db import Store
from bot.tg.digest import ChatPrefs, hold_until, releasable
from bot.tg.format import digest_chunks, digest_entry, digest_text, format_update, source_also
from bot.tg.sink import ChatBlocked, ChatMoved, MessageGone, TelegramSink

log = logging.getLogger(__name__)
DIGEST_REF = "digest:"  # message_ref prefix of rows delivered inside a digest


class Next(Enum):
    GO_ON = "go on"  # this row is settled; continue with the chat's next row
    STOP = "stop"  # leave the chat's remaining rows for a later pass


class TelegramDelivery:
    def __init__(self, store: Store, sink: TelegramSink, *, prefs_for: Callable[[int], ChatPrefs],
                 wants_for: Callable[[int], frozenset[str] | None], notify: Callable[[str], Awaitable[None]],
                 routes_changed: Callable[[], None], clock: Callable[[], datetime], concurrency: int = 64,
                 on_error: Callable[[str], None] = lambda kind: None):
        self.store, self.sink, self.clock = store, sink, clock
        self.on_error = on_error  # counts errors by kind (metrics)
        self.prefs_for, self.wants_for = prefs_for, wants_for
        self.notify, self.routes_changed = notify, routes_changed
        self._slots = asyncio.Semaphore(concurrency)
        self._lock = asyncio.Lock()
        self._moved = False

    async def deliver(self) -> int:
        """One pass over every chat's queue; how many rows were delivered."""
        async with self._lock:
            sent = 0
            for _ in range(3):  # a migrated chat's rows were moved to its new id: one more pass for them
                self._moved = False
                by_chat: dict[int, list[TgRow]] = {}
                for row in db.telegram_queue(self.store):
                    by_chat.setdefault(row.chat_id, []).append(row)
                done = await asyncio.gather(*(self._guarded(chat, rows) for chat, rows in by_chat.items()))
                sent += sum(done)
                if not self._moved:
                    break
            return sent

    async def _guarded(self, chat_id: int, rows: list[TgRow]) -> int:
        async with self._slots:
            try:
                return await self._chat(chat_id, rows)
            except Exception:  # a bug for one chat must not stop delivery to the others
                log.exception("delivery to chat %s failed", chat_id)
                return 0

    async def _chat(self, chat_id: int, rows: list[TgRow]) -> int:
        prefs, now = self.prefs_for(chat_id), self.clock()
        if any(r.status == "held" and r.attempts and r.next_attempt_at > now for r in rows):
            return 0  # a digest that failed backs off, and what is queued behind it waits
        held = [r for r in rows if r.status == "held" and releasable(prefs, r.next_attempt_at, now)]
        sent = 0
        if held:
            released = await self._release(chat_id, held, prefs)
            if released is None:
                return 0
            sent += released
        pending = [r for r in rows if r.status == "pending"]
        later = superseded(pending)
        for row in pending:
            if row.next_attempt_at > now:
                break  # waiting for a retry: the rows behind it wait too (order per chat)
            if row.id in later:
                continue  # a later report of the story edits the alert with these sources too
            outcome, delivered = await self._row(chat_id, row, prefs)
            sent += delivered
            if delivered and (merged := [r.id for r in pending if later.get(r.id) == row.id]):
                db.mark_sent_many(self.store, merged, self.clock(), None)
            if outcome is Next.STOP:
                break
        return sent

    async def _row(self, chat_id: int, row: TgRow, prefs: ChatPrefs) -> tuple[Next, int]:
        now = self.clock()
        alert = alert_from_json(row.payload)
        try:
            if row.kind == "alert":
                muted, silent = self._mutes(chat_id, alert, now)
                if muted:
                    db.set_status(self.store, [row.id], "muted", "topic muted in this chat")
                    return Next.GO_ON, 0
                if until := hold_until(prefs, now):
                    db.hold(self.store, row.id, until)
                    return Next.GO_ON, 0
                reply_to, story = related_state(self.store, chat_id, alert)
                ref = await self.sink.send_alert(chat_id, row, replace(prefs, silent=prefs.silent or silent),
                                                 reply_to=reply_to, story=story)
            else:
                ref = await self._update(chat_id, row, alert, prefs, now)
                if ref is None:
                    return Next.GO_ON, 0
        except DeliveryError as exc:
            return await self._failed(chat_id, [row], exc), 0
        self.store.mark_sent(row.id, self.clock(), ref)
        return Next.GO_ON, 1

    def _mutes(self, chat_id: int, alert: Alert, now: datetime) -> tuple[bool, bool]:
        """(muted, silent): every topic of the alert that the chat follows is muted; or each is
        muted or silenced, so the alert goes without notification."""
        wanted = self.wants_for(chat_id)
        topics = [t for t in alert.topics if wanted is None or t in wanted] or list(alert.topics)
        mutes = db.mutes(self.store, chat_id, now)
        loud = [t for t in topics if t not in mutes]
        audible = [t for t in topics if t not in mutes or mutes[t][1]]
        return not audible, not loud

    async def _update(self, chat_id: int, row: TgRow, update: Alert, prefs: ChatPrefs, now: datetime) -> str | None:
        """Edit the story's alert; a message id, or None when the update was held or settled."""
        original = db.alert_row(self.store, chat_id, row.story_id)
        if original is not None and original.status == "failed":
            # the story's alert never arrived here (Telegram refused it): this report is the
            # chat's first of the story, sent as its alert (as an alert is: mutes, quiet hours),
            # and later reports edit it
            muted, silent = self._mutes(chat_id, update, now)
            if muted:
                db.set_status(self.store, [row.id], "muted", "topic muted in this chat")
                return None
            if until := hold_until(prefs, now):
                db.hold(self.store, row.id, until)
                return None
            ref = await self.sink.send_alert(chat_id, row, replace(prefs, silent=prefs.silent or silent))
            db.make_alert(self.store, row.id)
            return ref
        if original is None or original.status == "muted":
            db.set_status(self.store, [row.id], original.status if original else "failed", "the story's alert was not sent here")
            return None
        if original.status == "held":
            db.hold(self.store, row.id, original.next_attempt_at)
            return None
        if original.status == "pending":
            raise DeliveryError("waiting for the story's alert", retry_after=5)
        if (original.message_ref or "").startswith(DIGEST_REF):  # went out in a digest: not editable alone
            if until := hold_until(prefs, now):
                db.hold(self.store, row.id, until)
                return None
            return await self.sink.send_update(chat_id, update, prefs, row.attempts)
        try:
            story = related_state(self.store, chat_id, alert_from_json(original.payload))[1]
            return await self.sink.edit_alert(chat_id, original, update, prefs, row.attempts, story=story)
        except MessageGone:
            return await self.sink.send_update(chat_id, update, prefs, row.attempts)

    async def _release(self, chat_id: int, held: list[TgRow], prefs: ChatPrefs) -> int | None:
        """Send held rows as one digest (split only past Telegram's length limit)."""
        groups = _digest_groups(held)
        entries = [self._entry(rows, prefs) for rows in groups]
        tr = translation(prefs.language)
        kind = tr._("Digest") if prefs.mode == "digest" else tr._("Held during quiet hours")
        header = kind + " · " + tr.n_("{n} alert", "{n} alerts", len(groups)).format(n=len(groups))
        chunks = digest_chunks(entries, header)
        for part, chunk in enumerate(chunks, 1):
            text = digest_text([entries[i] for i in chunk], header, part, len(chunks))
            rows = [r for i in chunk for r in groups[i]]
            try:
                ref = await self.sink.send_digest(chat_id, text, prefs, rows[0].attempts)
            except DeliveryError as exc:
                await self._failed(chat_id, rows, exc)
                return None
            db.mark_sent_many(self.store, [r.id for r in rows], self.clock(), DIGEST_REF + ref)
        return len(held)

    def _entry(self, rows: list[TgRow], prefs: ChatPrefs) -> str:
        first = alert_from_json(rows[0].payload)
        also = [s for r in rows[1:] for s in alert_from_json(r.payload).also]
        tr = translation(prefs.language)
        if rows[0].kind == "alert":
            return digest_entry(first, names=self.sink.names, zone=prefs.timezone, also=source_also(also, first.source),
                                tr=tr)
        return format_update(alert_from_json(rows[-1].payload), zone=prefs.timezone, tr=tr)

    async def _failed(self, chat_id: int, rows: list[TgRow], exc: DeliveryError) -> Next:
        now = self.clock()
        self.on_error(error_kind(exc))
        if isinstance(exc, ChatBlocked):
            failed = db.deactivate_chat(self.store, chat_id, str(exc), now)
            self.routes_changed()
            await self.notify(f"Chat {chat_id} is unreachable ({exc}). Its subscriptions are paused and "
                              f"{failed} queued alert(s) were marked failed; sending /start there resumes them.")
            return Next.STOP
        if isinstance(exc, ChatMoved):
            db.migrate_chat(self.store, chat_id, exc.new_chat_id, now)
            self.routes_changed()
            self._moved = True
            await self.notify(f"Group {chat_id} became supergroup {exc.new_chat_id}; its subscriptions and queue "
                              "moved there. Update config.toml if it lists the old id.")
            return Next.STOP
        log.warning("delivery to chat %s failed: %s", chat_id, exc)
        for row in rows:
            if exc.retry_after is None:
                self.store.mark_failed(row.id, str(exc))
            else:
                self.store.mark_retry(row.id, str(exc), now + timedelta(seconds=exc.retry_after))
        return Next.GO_ON if exc.retry_after is None else Next.STOP


def related_state(store: Store, chat_id: int, alert: Alert) -> tuple[int | None, str | None]:
    """For a related alert: the message id of the earlier story's alert in this chat (None when
    it was never sent here: then it is a normal alert), and its judgement: "open", or the first
    verdict given ("same" | "different")."""
    if not alert.related:
        return None, None
    earlier = db.alert_row(store, chat_id, alert.related)
    if earlier is None or earlier.status != "sent" or not earlier.message_ref:
        return None, None
    message_id = earlier.message_ref.removeprefix(DIGEST_REF)  # inside a digest: reply to the digest
    if not message_id.isdigit():
        return None, None
    return int(message_id), judged.settled(store, alert.story_id, alert.related) or "open"


def error_kind(exc: DeliveryError) -> str:
    """blocked | moved | retry (Telegram said wait, or the network failed) | refused (will not retry)."""
    if isinstance(exc, ChatBlocked):
        return "blocked"
    if isinstance(exc, ChatMoved):
        return "moved"
    return "refused" if exc.retry_after is None else "retry"


def _digest_groups(held: Iterable[TgRow]) -> list[list[TgRow]]:
    """Held rows grouped by story: an alert with the updates that joined it, in outbox order."""
    groups: dict[str, list[TgRow]] = {}
    for row in held:
        groups.setdefault(row.story_id, []).append(row)
    return list(groups.values())


def superseded(pending: list[TgRow]) -> dict[int, int]:
    """Update rows (id -> the row that replaces them) that a later update of the same story in
    this chat's queue makes redundant: each update lists every source so far, so one edit says
    what twelve would (twelve outlets in one cycle were twelve edits of one message, 36 s of a
    group's 20-a-minute budget)."""
    last: dict[str, int] = {}
    for r in pending:
        if r.kind == "update":
            last[r.story_id] = r.id
    return {r.id: last[r.story_id] for r in pending if r.kind == "update" and last[r.story_id] != r.id}
