"""Commands for everyone (private chats and groups; in groups only administrators change settings):
/start /help /topics /subscribe /unsubscribe /settings /why /test (/mute /unmute: handlers_mute).
"""

from __future__ import annotations

from html import escape

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import ContextTypes

from bot.items_jsonl import item_from_text
from bot.store import chats as db
from bot.tg import explain
from bot.tg.host import (
    chat_prefs,
    chat_topics,
    host_of,
    is_bot_admin,
    may_change,
    remember_chat,
    reply,
    subscribed,
    topic_names,
)
from bot.tg.settings import apply_settings
from bot.tg.topic_args import resolve
from bot.tg.topics_view import topics_page

REFUSED = "Only administrators of this chat can change what it receives."

USER_COMMANDS = [
    ("start", "start receiving alerts here"),
    ("help", "what this bot does and its commands"),
    ("topics", "list topics; subscribe or unsubscribe with a tap"),
    ("subscribe", "TOPIC: get alerts for a topic"),
    ("unsubscribe", "TOPIC: stop alerts for a topic"),
    ("mute", "TOPIC [2h|1d] [silent]: pause a topic, or deliver it silently"),
    ("unmute", "[TOPIC]: resume muted topics"),
    ("settings", "delivery mode, digest times, quiet hours, time zone, silent"),
    ("why", "reply to an alert: why it matched, which story"),
    ("test", "TEXT: which topics would match this text"),
]
ADMIN_COMMANDS = [
    ("feeds", "feed health"),
    ("addfeed", "URL [NAME]: add a feed"),
    ("removefeed", "URL|ID: remove a feed added by command"),
    ("status", "queue, alerts today, failing feeds, last cycle"),
    ("reload", "re-read config.toml and rules"),
]


def help_text(admin: bool) -> str:
    lines = ["<b>wirewatch</b> sends short news alerts for the topics this chat follows.", ""]
    lines += [f"/{name} — {escape(text)}" for name, text in USER_COMMANDS]
    if admin:
        lines += ["", "<b>Admin</b>", "/topics reload — re-read the rule files"]
        lines += [f"/{name} — {escape(text)}" for name, text in ADMIN_COMMANDS]
    return "\n".join(lines)


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    host = host_of(context)
    back = remember_chat(host, update)
    topics = subscribed(host, update.effective_chat.id)
    names = topic_names(host)
    now = ", ".join(escape(names[t]) for t in topics) or "none yet — see /topics"
    greeting = "Welcome back: alerts resume here." if back else "Hello! I send news alerts to this chat."
    await reply(update, f"{greeting}\nTopics: {now}\n\n{help_text(is_bot_admin(host, update))}")


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await reply(update, help_text(is_bot_admin(host_of(context), update)))


async def topics(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if context.args and context.args[0].lower() == "reload":
        from bot.tg.handlers_admin import reload

        await reload(update, context)
        return
    host = host_of(context)
    remember_chat(host, update)
    if not host.runtime.topics:
        await reply(update, "No topics are configured yet.")
        return
    text, markup = topics_page(host, update.effective_chat.id, 0)
    await reply(update, text, reply_markup=markup)


async def _change_topics(update: Update, context: ContextTypes.DEFAULT_TYPE, active: bool) -> None:
    host, verb = host_of(context), "subscribe" if active else "unsubscribe"
    if not context.args:
        await reply(update, f"Usage: /{verb} TOPIC [TOPIC …] (spaces or commas; all: every topic) — see /topics.")
        return
    if not await may_change(update, context):
        await reply(update, REFUSED)
        return
    named = resolve(context.args, topic_names(host))
    chat_id = update.effective_chat.id
    before = set(subscribed(host, chat_id))
    change = [t for t in named.found if (t in before) != active]
    if change:
        remember_chat(host, update)
        db.set_subscription(host.store, chat_id, change, active, host.clock())
        host.refresh_routes()
    await reply(update, change_text(host, active, change, [t for t in named.found if t not in change], named.unknown))


def change_text(host, active: bool, changed: list[str], unchanged: list[str], unknown: tuple[str, ...]) -> str:
    """What /subscribe or /unsubscribe actually did, topic by topic."""
    names = topic_names(host)

    def shown(topics) -> str:
        return ", ".join(escape(names.get(t, t)) for t in topics)

    lines = []
    if changed:
        lines.append(f"{'Subscribed to' if active else 'Unsubscribed from'} {shown(changed)}.")
    if unchanged:
        lines.append(f"{'Already subscribed to' if active else 'Not subscribed to'} {shown(unchanged)}.")
    if unknown:
        known = ", ".join(host.runtime.topics) or "none"
        lines.append(f"Unknown topic: {escape(', '.join(unknown))}. Known topics: {escape(known)}.")
    return "\n".join(lines) or "Nothing changed."


async def subscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _change_topics(update, context, True)


async def unsubscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _change_topics(update, context, False)


async def settings(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    host, chat = host_of(context), update.effective_chat
    if context.args:
        if not await may_change(update, context):
            await reply(update, REFUSED)
            return
        remember_chat(host, update)
        thread = update.effective_message.message_thread_id if update.effective_message else None
        private = chat.type == ChatType.PRIVATE
        error = apply_settings(host.store, chat.id, list(context.args), host.clock(), thread, private)
        if error:
            await reply(update, escape(error))
            return
    from bot.tg.digest import describe

    await reply(update, f"<b>Settings</b>\n{escape(describe(chat_prefs(host, chat.id)))}\n\n"
                        "Change with e.g. /settings mode digest 08:00,18:00 · /settings quiet 22:00-07:00 · "
                        "/settings tz Asia/Baghdad · /settings silent on · /settings thread here · /settings reset")


async def why(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    host, message = host_of(context), update.effective_message
    target = message.reply_to_message if message else None
    if target is None:
        await reply(update, "Reply to an alert with /why to see why it was sent.")
        return
    rows = db.rows_for_message(host.store, update.effective_chat.id, target.message_id)
    if not rows:
        await reply(update, "That message is not an alert I sent here.")
        return
    await reply(update, explain.why_text(host.store, rows, topic_names(host)))


async def test(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    host = host_of(context)
    text = (update.effective_message.text or "").partition(" ")[2].strip() if update.effective_message else ""
    if not text:
        await reply(update, "Usage: /test TEXT — e.g. /test Drone strike near al-Qaim")
        return
    found = host.runtime.matcher.match(item_from_text(text))
    here = chat_topics(host, update.effective_chat.id)
    await reply(update, explain.test_text(found, topic_names(host), here))
