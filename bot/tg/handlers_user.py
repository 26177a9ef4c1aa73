"""Commands for everyone (private chats and groups; in groups only administrators change settings):
/start /help /topics /subscribe /unsubscribe /settings /why /test (/mute /unmute: handlers_mute).

Every reply is in the chat's language: `tr = chat_tr(host, update)` once per update, passed on.
"""

from __future__ import annotations

from html import escape

from telegram import Update
from telegram.constants import ChatType
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
    subscribed,
    topic_names,
)
from bot.tg.settings import apply_settings
from bot.tg.topic_args import listed, resolve
from bot.tg.topics_view import topics_page

REFUSED = N_("Only administrators of this chat can change what it receives.")

USER_COMMANDS = [
    ("start", N_("start receiving alerts here")),
    ("help", N_("what this bot does and its commands")),
    ("topics", N_("list topics; subscribe or unsubscribe with a tap")),
    ("subscribe", N_("[@channel] TOPIC: get alerts for a topic (here, or in a channel you administer)")),
    ("unsubscribe", N_("[@channel] TOPIC: stop alerts for a topic")),
    ("mute", N_("TOPIC [2h|1d] [silent]: pause a topic, or deliver it silently")),
    ("unmute", N_("[TOPIC]: resume muted topics")),
    ("settings", N_("delivery mode, digest times, quiet hours, time zone, silent, language")),
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
    if not host.runtime.topics:
        await reply(update, tr._("No topics are configured yet."))
        return
    text, markup = topics_page(host, update.effective_chat.id, 0, tr)
    await reply(update, text, reply_markup=markup)


async def _change_topics(update: Update, context: ContextTypes.DEFAULT_TYPE, active: bool) -> None:
    host = host_of(context)
    tr = chat_tr(host, update)
    target = await target_of(update, context, tr)
    if target is None:
        return
    if not target.args:
        usage = tr._("Usage: /subscribe [@channel] TOPIC [TOPIC …] (spaces or commas; all: every topic) — "
                     "see /topics.") if active else \
            tr._("Usage: /unsubscribe [@channel] TOPIC [TOPIC …] (spaces or commas; all: every topic) — see /topics.")
        await reply(update, target.prefix(usage))
        return
    if not await may_change_target(update, context, target):
        await reply(update, tr._(REFUSED))
        return
    named = resolve(target.args, topic_names(host))
    before = set(subscribed(host, target.chat_id))
    change = [t for t in named.found if (t in before) != active]
    if change:
        if not target.channel:
            remember_chat(host, update)
        db.set_subscription(host.store, target.chat_id, change, active, host.clock())
        host.refresh_routes()
    unchanged = [t for t in named.found if t not in change]
    await reply(update, target.prefix(change_text(host, active, change, unchanged, named.unknown, tr)))


def change_text(host, active: bool, changed: list[str], unchanged: list[str], unknown: tuple[str, ...],
                tr: Tr) -> str:
    """What /subscribe or /unsubscribe actually did, topic by topic."""
    names = topic_names(host)

    def shown(topics) -> str:
        return tr._(", ").join(escape(names.get(t, t)) for t in topics)

    lines = []
    if changed:
        done = tr._("Subscribed to {topics}.") if active else tr._("Unsubscribed from {topics}.")
        lines.append(done.format(topics=shown(changed)))
    if unchanged:
        same = tr._("Already subscribed to {topics}.") if active else tr._("Not subscribed to {topics}.")
        lines.append(same.format(topics=shown(unchanged)))
    if unknown:
        known = ", ".join(host.runtime.topics) or tr._("none")
        lines.append(tr._("Unknown topic: {words}. Known topics: {known}.").format(
            words=escape(listed(unknown)), known=escape(known)))
    return "\n".join(lines) or tr._("Nothing changed.")


async def subscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _change_topics(update, context, True)


async def unsubscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _change_topics(update, context, False)


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
        private = update.effective_chat.type == ChatType.PRIVATE and not target.channel
        error = apply_settings(host.store, target.chat_id, target.args, host.clock(), thread, private, tr)
        if error:
            await reply(update, escape(error))
            return
        tr = tr if target.channel else chat_tr(host, update)  # /settings lang answers in the new language
    await reply(update, target.prefix(settings_text(chat_prefs(host, target.chat_id), tr, bool(target.channel))))


def settings_text(prefs, tr: Tr, channel: bool) -> str:
    from bot.tg.digest import describe

    hint = tr._("Change with e.g. /settings mode digest 08:00,18:00 · /settings quiet 22:00-07:00 · "
                "/settings tz Asia/Baghdad · /settings silent on · /settings thread here · /settings lang ar · "
                "/settings reset")
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
