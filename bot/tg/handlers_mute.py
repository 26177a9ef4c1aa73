"""Muting: /mute and /unmute, and the questions 🔕 under an alert asks (which topic, for how long),
answered with an undo button. A mute never subscribes; `silent` delivers without notification.

    /mute anbar 2h · /mute anbar, drone-strikes 1d · /mute all 1w · /mute anbar silent [8h]
"""

from __future__ import annotations

import contextlib
from datetime import timedelta
from html import escape

from telegram import Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot.store import chats as db
from bot.tg.host import (
    Host,
    followed_topics,
    host_of,
    may_change,
    reply,
    set_markup,
    subscribed,
    topic_names,
)
from bot.tg.keyboards import (
    SPANS,
    MuteStep,
    feedback_keyboard,
    mute_span_keyboard,
    mute_topic_keyboard,
    undo_keyboard,
)
from bot.tg.topic_args import parse_duration, resolve, span_text, split_duration
from bot.tg.topics_view import until_text

REFUSED = "Only administrators of this chat can change what it receives."
USAGE = "Usage: /mute TOPIC [DURATION] [silent] — e.g. /mute anbar 2h; /mute all 1d; /mute anbar silent."
SPAN_OF = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1), "f": None}


async def mute(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    host, args = host_of(context), list(context.args or [])
    silent = any(a.casefold() == "silent" for a in args)
    args = [a for a in args if a.casefold() != "silent"]
    words, duration = split_duration(args)
    if not words:
        await reply(update, USAGE)
        return
    if not await may_change(update, context):
        await reply(update, REFUSED)
        return
    try:
        span = parse_duration(duration) if duration else None
    except ValueError as exc:
        await reply(update, f"Not muted: {escape(str(exc))}.")
        return
    chat_id = update.effective_chat.id
    named = resolve(words, topic_names(host))
    found = subscribed(host, chat_id) if named.every else list(named.found)
    if named.unknown or not found:
        what = ", ".join(named.unknown) or "this chat follows no topic"
        await reply(update, f"Not muted: unknown topic {escape(what)}. See /topics.")
        return
    until = host.clock() + span if span else db.FOREVER
    db.mute(host.store, chat_id, found, until, host.clock(), silent=silent)
    await reply(update, _done_text(host, found, span, silent))


def _done_text(host: Host, topics: list[str], span: timedelta | None, silent: bool) -> str:
    names = ", ".join(escape(topic_names(host).get(t, t)) for t in topics)
    length = f"for {span_text(span)}" if span else "until /unmute"
    if silent:
        return f"Silenced {names} {length}: its alerts arrive without notification."
    return f"Muted {names} {length}."


async def unmute(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    host = host_of(context)
    if not await may_change(update, context):
        await reply(update, REFUSED)
        return
    named = resolve(context.args or [], topic_names(host))
    if named.unknown:
        await reply(update, f"Unknown topic: {escape(', '.join(named.unknown))}. See /topics.")
        return
    topics = None if named.every or not context.args else list(named.found)
    lifted = db.unmute(host.store, update.effective_chat.id, topics, host.clock())
    await reply(update, f"Unmuted {lifted} topic(s)." if lifted else "Nothing was muted.")


# ---- 🔕 under an alert ---------------------------------------------------------------------------


async def mute_button(update: Update, context: ContextTypes.DEFAULT_TYPE, row: db.TgRow,
                      step: MuteStep) -> str:
    """One step of the 🔕 questions on the alert of `row`; the toast to show. Topic keys are
    indexes into the alert's topics, of which only those the chat follows are offered."""
    host, query = host_of(context), update.callback_query
    if not await may_change(update, context):
        return "Only chat administrators can mute topics here."
    alert_topics, followed = followed_topics(host, row)
    if not followed:
        return "This chat no longer follows this alert's topics."
    names = topic_names(host)
    if step.kind == "cancel":
        await set_markup(query, feedback_keyboard(row.id, row.feedback))
        return "Nothing muted."
    if step.topic is None:  # the 🔕 press itself
        if len(followed) > 1:
            keys = [(str(alert_topics.index(t)), names.get(t, t)) for t in followed]
            await set_markup(query, mute_topic_keyboard(row.id, keys))
            return "Which topic should be muted here?"
        step = MuteStep("ask", row.id, str(alert_topics.index(followed[0])))
    chosen = followed if step.topic == "a" else [t for i, t in enumerate(alert_topics) if str(i) == step.topic]
    if not chosen or not set(chosen) <= set(followed):
        return "This button is no longer active."
    shown = ", ".join(names.get(t, t) for t in chosen)
    if step.kind == "ask":
        await set_markup(query, mute_span_keyboard(row.id, step.topic))
        return f"Mute {shown} for how long?"
    if step.kind == "undo":
        db.unmute(host.store, row.chat_id, chosen)
        await _edit_notice(query, f"Unmuted {escape(shown)} here (undone).")
        return f"Unmuted {shown}"
    return await _do_mute(update, host, row, chosen, step)


async def _do_mute(update: Update, host: Host, row: db.TgRow, topics: list[str], step: MuteStep) -> str:
    span = SPAN_OF[step.span or "f"]
    until = host.clock() + span if span else db.FOREVER
    db.mute(host.store, row.chat_id, topics, until, host.clock())
    db.set_feedback(host.store, row.id, "m")
    query = update.callback_query
    await set_markup(query, feedback_keyboard(row.id, "m"))
    shown = ", ".join(topic_names(host).get(t, t) for t in topics)
    length = SPANS[step.span or "f"] + (f" (until {until_text(until)})" if span else "")
    await query.message.reply_text(f"🔕 Muted {escape(shown)} here for {length}.", do_quote=False,
                                   parse_mode=ParseMode.HTML, reply_markup=undo_keyboard(row.id, step.topic or "a"))
    return f"Muted {shown}"


async def _edit_notice(query, text: str) -> None:
    with contextlib.suppress(BadRequest):  # the notice was deleted or already says so: the mute is lifted anyway
        await query.edit_message_text(text, parse_mode=ParseMode.HTML)
