"""Admin commands (user ids in [telegram] admins): /feeds /addfeed /removefeed /status /reload
(and /topics reload). Anyone else gets a polite refusal and nothing changes.
"""

from __future__ import annotations

import asyncio
import functools
import re
from collections.abc import Awaitable, Callable
from datetime import datetime, time
from html import escape
from zoneinfo import ZoneInfo

from telegram import Update
from telegram.ext import ContextTypes

from bot.errors import FeedError
from bot.ingest.parse import parse_feed
from bot.models import FeedForUpdate, FetchStatus
from bot.store import chats as db
from bot.store.db import FeedRow
from bot.tg import explain
from bot.tg.format import clip
from bot.tg.host import Host, host_of, is_bot_admin, reply

REFUSED = "Sorry, that command is only for wirewatch admins."
Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[None]]


def admin_only(handler: Handler) -> Handler:
    """Run the handler only for bot admins; refuse everyone else before anything happens."""

    @functools.wraps(handler)
    async def guarded(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if not is_bot_admin(host_of(context), update):
            await reply(update, REFUSED)
            return
        await handler(update, context)

    return guarded


@admin_only
async def feeds(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    host = host_of(context)
    rows = host.store.feeds(active_only=True)
    await reply(update, explain.feeds_table(rows, host.clock(), host.runtime.config.telegram.failing_after))


@admin_only
async def addfeed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    host, args = host_of(context), list(context.args or [])
    if not args or not re.match(r"^https?://[^\s/]+", args[0]):
        await reply(update, "Usage: /addfeed URL [NAME] — an http(s) feed URL.")
        return
    url, name = args[0], " ".join(args[1:]).strip()
    if known := find_feed(host, url):
        await reply(update, _already(known))
        return
    result = await host.fetcher.fetch(FeedForUpdate(0, url, name or url))
    if result.status is FetchStatus.ERROR:
        await reply(update, f"Not added: {escape(url)} could not be fetched: {escape(result.error or 'unknown error')}")
        return
    try:
        parsed = await asyncio.to_thread(parse_feed, result.body, url=result.final_url or url)
    except FeedError as exc:
        await reply(update, f"Not added: {escape(url)} is not a feed: {escape(str(exc))}")
        return
    if result.final_url and (known := find_feed(host, result.final_url)):
        await reply(update, _already(known))
        return
    name = clip(name or parsed.title or url, 200)
    feed_id = host.store.add_feed(url, name, "admin", host.clock())
    stored = host.seed_feed(feed_id, result, parsed)  # what the feed holds now is stored, never alerted
    await reply(update, f"Added feed #{feed_id} <b>{escape(name)}</b> ({len(parsed.entries)} entries now, "
                        f"{stored} stored without alerting); new items alert from the next poll.")


def _already(feed: FeedRow) -> str:
    return f"Already polled: feed #{feed.id} <b>{escape(feed.name)}</b> ({escape(feed.url)}). Nothing changed."


def find_feed(host: Host, key: str) -> FeedRow | None:
    for feed in host.store.feeds(active_only=True):
        if key == str(feed.id) or key == feed.url:
            return feed
    return None


@admin_only
async def removefeed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    host = host_of(context)
    if not context.args:
        await reply(update, "Usage: /removefeed URL|ID (see /feeds for ids).")
        return
    feed = find_feed(host, context.args[0])
    if feed is None:
        await reply(update, f"No active feed {escape(context.args[0])}. See /feeds.")
        return
    if feed.origin == "config":
        await reply(update, f"<b>{escape(feed.name)}</b> is listed in config.toml, which wins for its feeds: "
                            "remove it there (it is re-read on save).")
        return
    host.store.set_feed_active(feed.id, False)
    await reply(update, f"Removed feed #{feed.id} <b>{escape(feed.name)}</b>. Its stored items stay.")


@admin_only
async def reload(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    host = host_of(context)
    ok, message = host.reload_now()
    prefix = "Reloaded" if ok else "Not reloaded (the running configuration is kept)"
    await reply(update, explain.clip_html(f"{prefix}: {escape(message)}"))
    await host.announce()  # chats that lost a topic whose rule file is gone


def today_start(now: datetime, zone: str) -> datetime:
    local = now.astimezone(ZoneInfo(zone))
    return datetime.combine(local.date(), time(0), ZoneInfo(zone)).astimezone(now.tzinfo)


@admin_only
async def status(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    host = host_of(context)
    cfg = host.runtime.config
    now = host.clock()
    failing = [f for f in host.store.feeds(active_only=True) if f.error_count >= cfg.telegram.failing_after]
    since = today_start(now, cfg.bot.timezone)
    counts = host.store.counts(since) | {"alerts_sent": db.telegram_sent_since(host.store, since)}
    text = explain.status_text(db.queue_depth(host.store), counts, failing, host.last_cycle_seconds)
    await reply(update, text)
