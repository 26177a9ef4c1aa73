"""Admin commands (user ids in [telegram] admins): /feeds /addfeed /removefeed /status /reload
(and /topics reload). Anyone else gets a polite refusal and nothing changes.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import re
from collections.abc import Awaitable, Callable
from datetime import datetime, time
from html import escape
from zoneinfo import ZoneInfo

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.errors import FeedError
from bot.ingest.discover import discover, looks_like_html
from bot.ingest.parse import parse_feed
from bot.models import FeedForUpdate, FetchStatus
from bot.store import chats as db
from bot.store.db import FeedRow
from bot.tg import discovery, explain
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
    args = list(context.args or [])
    if not args or not re.match(r"^https?://[^\s/]+", args[0]):
        await reply(update, "Usage: /addfeed URL [NAME] — an http(s) feed URL, or a web page that announces its feed.")
        return
    await add_from_url(update, context, args[0], " ".join(args[1:]).strip(), follow=True)


async def add_from_url(update: Update, context: ContextTypes.DEFAULT_TYPE, url: str, name: str, *,
                       follow: bool, found_on: str = "") -> None:
    """Fetch and parse the URL; add it if it is a feed. A web page is searched for the feeds it
    announces (follow=True only: a discovered URL is never searched again)."""
    host = host_of(context)
    result = await host.fetcher.fetch(FeedForUpdate(0, url, name or url))
    if result.status is FetchStatus.ERROR:
        await reply(update, f"Not added: {escape(url)} could not be fetched: {escape(result.error or 'unknown error')}")
        return
    try:
        parsed = await asyncio.to_thread(parse_feed, result.body, url=result.final_url or url)
    except FeedError as exc:
        if follow and looks_like_html(result.body):
            await offer_alternates(update, context, result.body, result.final_url or url, name)
        else:
            await reply(update, f"Not added: {escape(url)} is not a feed: {escape(str(exc))}")
        return
    name = clip(name or parsed.title or url, 200)
    feed_id = host.store.add_feed(url, name, "admin", host.clock())
    where = f" (announced by {escape(found_on)})" if found_on else ""
    await reply(update, f"Added feed #{feed_id} <b>{escape(name)}</b>{where} ({len(parsed.entries)} entries now). "
                        "Its current items are stored without alerting; new ones alert from the next poll.")


async def offer_alternates(update: Update, context: ContextTypes.DEFAULT_TYPE, body: bytes, page: str,
                           name: str) -> None:
    """A web page: follow its one announced feed, or offer its several as buttons."""
    alternates = discover(body, page)
    if not alternates:
        await reply(update, f"Not added: {escape(page)} is not a feed but a web page that announces none (no "
                            "&lt;link rel=\"alternate\" type=\"application/rss+xml\"&gt;). Send the feed's own URL.")
    elif len(alternates) == 1:
        await add_from_url(update, context, alternates[0].url, name, follow=False, found_on=page)
    else:
        offer = discovery.Offer(page, name, tuple(alternates))
        token = discovery.remember(context, offer)
        await reply(update, discovery.choice_text(offer), reply_markup=discovery.choice_keyboard(token, offer))


async def addfeed_choice(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A press on one of the feeds offered for a web page (admins only, like /addfeed)."""
    query = update.callback_query
    if not is_bot_admin(host_of(context), update):
        await query.answer(REFUSED, show_alert=True)
        return
    taken = discovery.take(context, query.data or "")
    if taken is None:
        await query.answer("This choice has expired: send /addfeed again.", show_alert=True)
        return
    offer, chosen = taken
    await query.answer()
    with contextlib.suppress(TelegramError):  # the buttons go; the list stays as a record
        await query.edit_message_reply_markup(None)
    await add_from_url(update, context, chosen.url, offer.name, follow=False, found_on=offer.page)


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
    ok, message = host_of(context).reload_now()
    prefix = "Reloaded" if ok else "Not reloaded (the running configuration is kept)"
    await reply(update, explain.clip_html(f"{prefix}: {escape(message)}"))


def today_start(now: datetime, zone: str) -> datetime:
    local = now.astimezone(ZoneInfo(zone))
    return datetime.combine(local.date(), time(0), ZoneInfo(zone)).astimezone(now.tzinfo)


@admin_only
async def status(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    host = host_of(context)
    cfg = host.runtime.config
    now = host.clock()
    failing = [f for f in host.store.feeds(active_only=True) if f.error_count >= cfg.telegram.failing_after]
    counts = host.store.counts(today_start(now, cfg.bot.timezone))
    text = explain.status_text(db.queue_depth(host.store), counts, failing, host.last_cycle_seconds)
    await reply(update, text)
