"""Commands for everyone (private chats and groups; in groups only administrators change settings):
/start /help /topics /subscribe /unsubscribe /mute /unmute /settings /why /test.

Every reply is in the chat's language: `tr = chat_tr(host, update)` once per update, passed on.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from html import escape

from telegram import Update
from telegram.ext import ContextTypes

from bot.i18n import N_, Tr
from bot.items_jsonl import item_from_text
from bot.store import chats as db
from bot.tg import explain
from bot.tg.channels import may_change_target, target_of
from bot.tg.host import (
    chat_prefs,
    chat_topics,
    chat_tr,
    host_of,
    is_bot_admin,
    remember_chat,
    reply,
    resolve_topics,
    subscribed,
    topic_names,
)
from bot.tg.keyboards import topics_keyboard
from bot.tg.settings import apply_settings

REFUSED = N_("Only administrators of this chat can change what it receives.")
_DURATION = re.compile(r"^(\d+)\s*(m|min|h|d|w)$", re.IGNORECASE)
_UNITS = {"m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}

USER_COMMANDS = [
    ("start", N_("start receiving alerts here")),
    ("help", N_("what this bot does and its commands")),
    ("topics", N_("list topics; subscribe or unsubscribe with a tap")),
    ("subscribe", N_("[@channel] TOPIC: get alerts for a topic (here, or in a channel you administer)")),
    ("unsubscribe", N_("[@channel] TOPIC: stop alerts for a topic")),
    ("mute", N_("TOPIC [2h|1d]: pause a topic (all: every topic)")),
    ("unmute", N_("[TOPIC]: resume muted topics")),
    ("settings", N_("delivery mode, digest times, quiet hours, time zone, language")),
    ("why", N_("reply to an alert: why it matched, which story")),
    ("test", N_("TEXT: which topics would match this text")),
]
ADMIN_COMMANDS = [
    ("feeds", N_("feed health")),
    ("addfeed", N_("URL [NAME]: add a feed (or a web page that announces one)")),
    ("removefeed", N_("URL|ID: remove a feed added by command")),
    ("status", N_("queue, alerts today, failing feeds, last cycle")),
    ("reload", N_("re-read config.toml and rules")),
    ("export", N_("the feed list as an OPML file")),
    ("import", N_("reply to an OPML file: add its feeds")),
]


def parse_duration(text: str) -> timedelta:
    """'90m', '2h', '1d', '1w' -> timedelta; ValueError otherwise."""
    m = _DURATION.match(text.strip())
    if not m or int(m.group(1)) == 0:
        raise ValueError(f"{text!r} is not a duration (use e.g. 30m, 2h, 1d, 1w)")
    return timedelta(seconds=int(m.group(1)) * _UNITS[m.group(2).lower()])


def help_text(admin: bool, tr: Tr) -> str:
    _ = tr._
    lines = [_("<b>wirewatch</b> sends short news alerts for the topics this chat follows."), ""]
    lines += [f"/{name} — {escape(_(text))}" for name, text in USER_COMMANDS]
    if admin:
        lines += ["", _("<b>Admin</b>"), "/topics reload — " + _("re-read the rule files")]
        lines += [f"/{name} — {escape(_(text))}" for name, text in ADMIN_COMMANDS]
    return "\n".join(lines)


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    host = host_of(context)
    back = remember_chat(host, update)
    tr = chat_tr(host, update)
    topics = subscribed(host, update.effective_chat.id)
    names = topic_names(host)
    now = tr._(", ").join(escape(names[t]) for t in topics) or tr._("none yet — see /topics")
    greeting = tr._("Welcome back: alerts resume here.") if back else tr._("Hello! I send news alerts to this chat.")
    topics_line = tr._("Topics: {topics}").format(topics=now)
    await reply(update, f"{greeting}\n{topics_line}\n\n{help_text(is_bot_admin(host, update), tr)}")


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    host = host_of(context)
    await reply(update, help_text(is_bot_admin(host, update), chat_tr(host, update)))


async def topics(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if context.args and context.args[0].lower() == "reload":
        from bot.tg.handlers_admin import reload

        await reload(update, context)
        return
    host = host_of(context)
    remember_chat(host, update)
    tr = chat_tr(host, update)
    names = topic_names(host)
    if not names:
        await reply(update, tr._("No topics are configured yet."))
        return
    chat_id = update.effective_chat.id
    mine, muted = subscribed(host, chat_id), db.muted_topics(host.store, chat_id, host.clock())
    lines = [tr._("<b>Topics</b> (✅ = this chat gets it; tap to change)")]
    for tid, topic in host.runtime.topics.items():
        state = "✅" if tid in mine else "➖"
        note = " — " + tr._("muted until {when}").format(when=_until(muted[tid], tr)) if tid in muted else ""
        lines.append(f"{state} <b>{escape(topic.name)}</b> <code>{escape(tid)}</code>{note}\n   {escape(topic.description)}")
    await reply(update, explain.clip_html("\n".join(lines)), reply_markup=topics_keyboard(names, mine))


def _until(when: datetime, tr: Tr) -> str:
    return tr._("unmuted") if when.year >= 9999 else tr.when(when, "UTC")


async def _change_topics(update: Update, context: ContextTypes.DEFAULT_TYPE, active: bool) -> None:
    host = host_of(context)
    tr = chat_tr(host, update)
    target = await target_of(update, context, tr)
    if target is None:
        return
    if not target.args:
        usage = tr._("Usage: /subscribe [@channel] TOPIC — see /topics for the list.") if active else \
            tr._("Usage: /unsubscribe [@channel] TOPIC — see /topics for the list.")
        await reply(update, target.prefix(usage))
        return
    if not await may_change_target(update, context, target):
        await reply(update, tr._(REFUSED))
        return
    found, unknown = resolve_topics(host, target.args)
    if unknown:
        known = ", ".join(host.runtime.topics) or tr._("none")
        await reply(update, tr._("Unknown topic: {words}. Known topics: {known}.")
                    .format(words=escape(" ".join(unknown)), known=escape(known)))
        return
    if not target.channel:
        remember_chat(host, update)
    db.set_subscription(host.store, target.chat_id, found, active, host.clock())
    host.refresh_routes()
    names = tr._(", ").join(escape(topic_names(host)[t]) for t in found)
    done = tr._("Subscribed to {topics}.") if active else tr._("Unsubscribed from {topics}.")
    await reply(update, target.prefix(done.format(topics=names)))


async def subscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _change_topics(update, context, True)


async def unsubscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _change_topics(update, context, False)


async def mute(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    host = host_of(context)
    tr = chat_tr(host, update)
    target = await target_of(update, context, tr)
    if target is None:
        return
    args = target.args
    if not args:
        await reply(update, tr._("Usage: /mute [@channel] TOPIC [DURATION] — e.g. /mute anbar 2h; /mute all 1d."))
        return
    if not await may_change_target(update, context, target):
        await reply(update, tr._(REFUSED))
        return
    until, length = db.FOREVER, tr._("until /unmute")
    if len(args) > 1 and _DURATION.match(args[-1]):
        span = parse_duration(args.pop())
        until, length = host.clock() + span, tr._("for {span}").format(span=_span(span))
    chat_id = target.chat_id
    found, unknown = (subscribed(host, chat_id), []) if args == ["all"] else resolve_topics(host, args)
    if unknown or not found:
        words = " ".join(unknown) or tr._("none subscribed")
        await reply(update, tr._("Unknown topic: {words}. See /topics.").format(words=escape(words)))
        return
    db.mute(host.store, chat_id, found, until, host.clock())
    names = tr._(", ").join(escape(topic_names(host)[t]) for t in found)
    await reply(update, target.prefix(tr._("Muted {topics} {length}.").format(topics=names, length=length)))


def _span(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds // 60}m"


async def unmute(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    host = host_of(context)
    tr = chat_tr(host, update)
    target = await target_of(update, context, tr)
    if target is None:
        return
    if not await may_change_target(update, context, target):
        await reply(update, tr._(REFUSED))
        return
    found, unknown = resolve_topics(host, target.args) if target.args else (None, [])
    if unknown:
        await reply(update, tr._("Unknown topic: {words}. See /topics.").format(words=escape(" ".join(unknown))))
        return
    lifted = db.unmute(host.store, target.chat_id, found)
    done = tr.n_("Unmuted {n} topic.", "Unmuted {n} topics.", lifted).format(n=lifted) if lifted else \
        tr._("Nothing was muted.")
    await reply(update, target.prefix(done))


async def settings(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    host = host_of(context)
    tr = chat_tr(host, update)
    target = await target_of(update, context, tr)
    if target is None:
        return
    if target.args:
        if not await may_change_target(update, context, target):
            await reply(update, tr._(REFUSED))
            return
        if not target.channel:
            remember_chat(host, update)
        message = update.effective_message
        thread = message.message_thread_id if message and not target.channel else None
        error = apply_settings(host.store, target.chat_id, target.args, host.clock(), thread, tr)
        if error:
            await reply(update, escape(error))
            return
        tr = tr if target.channel else chat_tr(host, update)  # /settings lang answers in the new language
    await reply(update, target.prefix(settings_text(chat_prefs(host, target.chat_id), tr, bool(target.channel))))


def settings_text(prefs, tr: Tr, channel: bool) -> str:
    from bot.tg.digest import describe

    hint = tr._("Change with e.g. /settings mode digest 08:00,18:00 · /settings quiet 22:00-07:00 · "
                "/settings tz Asia/Baghdad · /settings thread here · /settings lang ar · /settings reset")
    if not channel:
        hint += " · " + tr._("/settings @channel … for a channel you administer")
    return f"{tr._('<b>Settings</b>')}\n{escape(describe(prefs, tr))}\n\n{hint}"


async def why(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    host, message = host_of(context), update.effective_message
    tr = chat_tr(host, update)
    target = message.reply_to_message if message else None
    if target is None:
        await reply(update, tr._("Reply to an alert with /why to see why it was sent."))
        return
    rows = db.rows_for_message(host.store, update.effective_chat.id, target.message_id)
    if not rows:
        await reply(update, tr._("That message is not an alert I sent here."))
        return
    await reply(update, explain.why_text(host.store, rows, topic_names(host), tr))


async def test(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    host = host_of(context)
    tr = chat_tr(host, update)
    text = (update.effective_message.text or "").partition(" ")[2].strip() if update.effective_message else ""
    if not text:
        await reply(update, tr._("Usage: /test TEXT — e.g. /test Drone strike near al-Qaim"))
        return
    found = host.runtime.matcher.match(item_from_text(text))
    here = chat_topics(host, update.effective_chat.id)
    await reply(update, explain.test_text(found, topic_names(host), here, tr))
