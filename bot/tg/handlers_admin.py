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
from bot.feedlist import find_active
from bot.i18n import N_
from bot.ingest.discover import discover, looks_like_html
from bot.ingest.parse import parse_feed
from bot.models import FeedForUpdate, FetchStatus
from bot.store import chats as db
from bot.store.db import FeedRow
from bot.tg import discovery, explain
from bot.tg.format import clip
from bot.tg.host import Host, chat_tr, host_of, is_bot_admin, reply

REFUSED = N_("Sorry, that command is only for wirewatch admins.")
Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[None]]


def admin_only(handler: Handler) -> Handler:
    """Run the handler only for bot admins; refuse everyone else before anything happens."""

    @functools.wraps(handler)
    async def guarded(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        host = host_of(context)
        if not is_bot_admin(host, update):
            await reply(update, chat_tr(host, update)._(REFUSED))
            return
        await handler(update, context)

    return guarded


@admin_only
async def feeds(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    host = host_of(context)
    rows = host.store.feeds(active_only=True)
    failing_after = host.runtime.config.telegram.failing_after
    await reply(update, explain.feeds_table(rows, host.clock(), failing_after, chat_tr(host, update)))


@admin_only
async def addfeed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    args = list(context.args or [])
    if not args or not re.match(r"^https?://[^\s/]+", args[0]):
        tr = chat_tr(host_of(context), update)
        await reply(update, tr._("Usage: /addfeed URL [NAME] — an http(s) feed URL, or a web page that announces its feed."))
        return
    await add_from_url(update, context, args[0], " ".join(args[1:]).strip(), follow=True)


async def add_from_url(update: Update, context: ContextTypes.DEFAULT_TYPE, url: str, name: str, *,
                       follow: bool, found_on: str = "") -> None:
    """Fetch and parse the URL; add it if it is a feed. A web page is searched for the feeds it
    announces (follow=True only: a discovered URL is never searched again)."""
    host = host_of(context)
    tr = chat_tr(host, update)
    if known := find_feed(host, url):
        await reply(update, _already(known, tr))
        return
    result = await host.fetcher.fetch(FeedForUpdate(0, url, name or url))
    if result.status is FetchStatus.ERROR:
        await reply(update, tr._("Not added: {url} could not be fetched: {error}").format(
            url=escape(url), error=escape(result.error or "unknown error")))
        return
    try:
        parsed = await asyncio.to_thread(parse_feed, result.body, url=result.final_url or url)
    except FeedError as exc:
        if follow and looks_like_html(result.body):
            await offer_alternates(update, context, result.body, result.final_url or url, name)
        else:
            await reply(update, tr._("Not added: {url} is not a feed: {error}").format(url=escape(url), error=escape(str(exc))))
        return
    if result.final_url and (known := find_feed(host, result.final_url)):
        await reply(update, _already(known, tr))
        return
    name = clip(name or parsed.title or url, 200)
    feed_id = host.store.add_feed(url, name, "admin", host.clock())
    stored = host.seed_feed(feed_id, result, parsed)  # what the feed holds now is stored, never alerted
    where = " " + tr._("(announced by {page})").format(page=escape(found_on)) if found_on else ""
    n = len(parsed.entries)
    added = tr.n_("Added feed #{id} {name}{where} ({n} entry now, {stored} stored without alerting); "
                  "new items alert from the next poll.",
                  "Added feed #{id} {name}{where} ({n} entries now, {stored} stored without alerting); "
                  "new items alert from the next poll.", n)
    await reply(update, added.format(id=feed_id, name=f"<b>{escape(name)}</b>", where=where, n=n, stored=stored))


def _already(feed: FeedRow, tr) -> str:
    return tr._("Already polled: feed #{id} {name} ({url}). Nothing changed.").format(
        id=feed.id, name=f"<b>{escape(feed.name)}</b>", url=escape(feed.url))


async def offer_alternates(update: Update, context: ContextTypes.DEFAULT_TYPE, body: bytes, page: str,
                           name: str) -> None:
    """A web page: follow its one announced feed, or offer its several as buttons."""
    alternates, tr = discover(body, page), chat_tr(host_of(context), update)
    if not alternates:
        await reply(update, tr._("Not added: {url} is not a feed but a web page that announces none (no {link}). "
                                 "Send the feed's own URL.").format(
            url=escape(page), link=escape('<link rel="alternate" type="application/rss+xml">')))
    elif len(alternates) == 1:
        await add_from_url(update, context, alternates[0].url, name, follow=False, found_on=page)
    else:
        offer = discovery.Offer(page, name, tuple(alternates))
        token = discovery.remember(context, offer)
        await reply(update, discovery.choice_text(offer, tr), reply_markup=discovery.choice_keyboard(token, offer))


async def addfeed_choice(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A press on one of the feeds offered for a web page (admins only, like /addfeed)."""
    query, host = update.callback_query, host_of(context)
    tr = chat_tr(host, update)
    if not is_bot_admin(host, update):
        await query.answer(tr._(REFUSED), show_alert=True)
        return
    taken = discovery.take(context, query.data or "")
    if taken is None:
        await query.answer(tr._("This choice has expired: send /addfeed again."), show_alert=True)
        return
    offer, chosen = taken
    await query.answer()
    with contextlib.suppress(TelegramError):  # the buttons go; the list stays as a record
        await query.edit_message_reply_markup(None)
    await add_from_url(update, context, chosen.url, offer.name, follow=False, found_on=offer.page)


def find_feed(host: Host, key: str) -> FeedRow | None:
    return find_active(host.store.feeds(active_only=True), key)


@admin_only
async def removefeed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    host = host_of(context)
    tr = chat_tr(host, update)
    if not context.args:
        await reply(update, tr._("Usage: /removefeed URL|ID (see /feeds for ids)."))
        return
    feed = find_feed(host, context.args[0])
    if feed is None:
        await reply(update, tr._("No active feed {key}. See /feeds.").format(key=escape(context.args[0])))
        return
    name = f"<b>{escape(feed.name)}</b>"
    if feed.origin == "config":
        await reply(update, tr._("{name} is listed in config.toml, which wins for its feeds: "
                                 "remove it there (it is re-read on save).").format(name=name))
        return
    host.store.set_feed_active(feed.id, False)
    await reply(update, tr._("Removed feed #{id} {name}. Its stored items stay.").format(id=feed.id, name=name))


@admin_only
async def reload(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    host = host_of(context)
    ok, message = host.reload_now()
    tr = chat_tr(host, update)
    prefix = tr._("Reloaded") if ok else tr._("Not reloaded (the running configuration is kept)")
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
    text = explain.status_text(db.queue_depth(host.store), counts, failing, host.last_cycle_seconds, chat_tr(host, update),
                               lag=host.core_lag())
    await reply(update, text)
