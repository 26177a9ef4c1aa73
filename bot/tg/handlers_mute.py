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

from bot.alerts.compose import alert_from_json
from bot.i18n import N_, Tr, translation
from bot.store import chats as db
from bot.tg.channels import may_change_target, target_of
from bot.tg.delivery import related_state
from bot.tg.host import (
    Host,
    chat_prefs,
    chat_tr,
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
    alert_keyboard,
    mute_span_keyboard,
    mute_topic_keyboard,
    undo_keyboard,
)
from bot.tg.topic_args import listed, parse_duration, resolve, span_text, split_duration
from bot.tg.topics_view import until_text

REFUSED = N_("Only administrators of this chat can change what it receives.")
USAGE = N_("Usage: /mute [@channel] TOPIC [DURATION] [silent] — e.g. /mute anbar 2h; /mute all 1d; /mute anbar silent.")
SPAN_OF = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1), "f": None}


async def mute(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    host = host_of(context)
    tr = chat_tr(host, update)
    target = await target_of(update, context, tr)
    if target is None:
        return
    silent = any(a.casefold() == "silent" for a in target.args)
    words, duration = split_duration([a for a in target.args if a.casefold() != "silent"])
    if not words:
        await reply(update, tr._(USAGE))
        return
    if not await may_change_target(update, context, target):
        await reply(update, tr._(REFUSED))
        return
    try:
        span = parse_duration(duration) if duration else None
    except ValueError as exc:  # the duration parser's reason is English (it is precise about units)
        await reply(update, tr._("Not muted: {reason}.").format(reason=escape(str(exc))))
        return
    named = resolve(words, topic_names(host))
    found = subscribed(host, target.chat_id) if named.every else list(named.found)
    if named.unknown or not found:
        if named.unknown:
            text = tr._("Not muted: unknown topic {words}. See /topics.").format(words=escape(listed(named.unknown)))
        else:
            text = tr._("Not muted: this chat follows no topic. See /topics.")
        await reply(update, text)
        return
    until = host.clock() + span if span else db.FOREVER
    db.mute(host.store, target.chat_id, found, until, host.clock(), silent=silent)
    await reply(update, target.prefix(_done_text(host, found, span, silent, tr)))


def _done_text(host: Host, topics: list[str], span: timedelta | None, silent: bool, tr: Tr) -> str:
    names = tr._(", ").join(escape(topic_names(host).get(t, t)) for t in topics)
    length = tr._("for {span}").format(span=span_text(span)) if span else tr._("until /unmute")
    if silent:
        return tr._("Silenced {topics} {length}: its alerts arrive without notification.").format(topics=names, length=length)
    return tr._("Muted {topics} {length}.").format(topics=names, length=length)


async def unmute(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    host = host_of(context)
    tr = chat_tr(host, update)
    target = await target_of(update, context, tr)
    if target is None:
        return
    if not await may_change_target(update, context, target):
        await reply(update, tr._(REFUSED))
        return
    named = resolve(target.args, topic_names(host))
    if named.unknown:
        await reply(update, tr._("Unknown topic: {words}. See /topics.").format(words=escape(listed(named.unknown))))
        return
    topics = None if named.every or not target.args else list(named.found)
    lifted = db.unmute(host.store, target.chat_id, topics, host.clock())
    done = tr.n_("Unmuted {n} topic.", "Unmuted {n} topics.", lifted).format(n=lifted) if lifted else \
        tr._("Nothing was muted.")
    await reply(update, target.prefix(done))


# ---- 🔕 under an alert ---------------------------------------------------------------------------


async def mute_button(update: Update, context: ContextTypes.DEFAULT_TYPE, row: db.TgRow,
                      step: MuteStep) -> str:
    """One step of the 🔕 questions on the alert of `row`; the toast to show. Topic keys are
    indexes into the alert's topics, of which only those the chat follows are offered."""
    host, query = host_of(context), update.callback_query
    tr = chat_tr(host, update)
    if not await may_change(update, context):
        return tr._("Only chat administrators can mute topics here.")
    alert_topics, followed = followed_topics(host, row)
    if not followed:
        return tr._("This chat no longer follows this alert's topics.")
    names = topic_names(host)
    if step.kind == "cancel":
        await set_markup(query, alert_markup(host, row, row.feedback))
        return tr._("Nothing muted.")
    if step.topic is None:  # the 🔕 press itself
        if len(followed) > 1:
            keys = [(str(alert_topics.index(t)), names.get(t, t)) for t in followed]
            await set_markup(query, mute_topic_keyboard(row.id, keys, tr))
            return tr._("Which topic should be muted here?")
        step = MuteStep("ask", row.id, str(alert_topics.index(followed[0])))
    chosen = followed if step.topic == "a" else [t for i, t in enumerate(alert_topics) if str(i) == step.topic]
    if not chosen or not set(chosen) <= set(followed):
        return tr._("This button is no longer active.")
    shown = tr._(", ").join(names.get(t, t) for t in chosen)
    if step.kind == "ask":
        await set_markup(query, mute_span_keyboard(row.id, step.topic, tr))
        return tr._("Mute {topics} for how long?").format(topics=shown)
    if step.kind == "undo":
        db.unmute(host.store, row.chat_id, chosen)
        await _edit_notice(query, tr._("Unmuted {topics} here (undone).").format(topics=escape(shown)))
        return tr._("Unmuted {topics}").format(topics=shown)
    return await _do_mute(update, host, row, chosen, step, tr)


async def _do_mute(update: Update, host: Host, row: db.TgRow, topics: list[str], step: MuteStep, tr: Tr) -> str:
    span = SPAN_OF[step.span or "f"]
    until = host.clock() + span if span else db.FOREVER
    db.mute(host.store, row.chat_id, topics, until, host.clock())
    db.set_feedback(host.store, row.id, "m")
    query = update.callback_query
    await set_markup(query, alert_markup(host, row, "m"))
    shown = tr._(", ").join(topic_names(host).get(t, t) for t in topics)
    length = tr._(SPANS[step.span or "f"])
    if span:
        length += " " + tr._("(until {when})").format(when=until_text(until, tr))
    notice = "🔕 " + tr._("Muted {topics} here for {length}.").format(topics=escape(shown), length=length)
    await query.message.reply_text(notice, do_quote=False, parse_mode=ParseMode.HTML,
                                   reply_markup=undo_keyboard(row.id, step.topic or "a", tr))
    return tr._("Muted {topics}").format(topics=shown)


async def _edit_notice(query, text: str) -> None:
    with contextlib.suppress(BadRequest):  # the notice was deleted or already says so: the mute is lifted anyway
        await query.edit_message_text(text, parse_mode=ParseMode.HTML)


def alert_markup(host: Host, row: db.TgRow, chosen: str | None):
    """The alert's buttons with `chosen` marked; a related alert keeps its story row."""
    story = related_state(host.store, row.chat_id, alert_from_json(row.payload))[1]
    return alert_keyboard(row.id, chosen, story=story, tr=translation(chat_prefs(host, row.chat_id).language))
