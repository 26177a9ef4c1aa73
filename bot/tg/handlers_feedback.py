"""Button presses: 👍 / 👎 / 🔕 under alerts, and the subscribe toggles of /topics.

👍 and 👎 store one labelled example per topic of the alert (who, when, which item) for the
classifier; 🔕 mutes the alert's topics in this chat (administrators only in groups). Each press
is answered with a short toast and the buttons change to show the choice.
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot.alerts.compose import alert_from_json
from bot.i18n import N_
from bot.store import chats as db
from bot.tg.host import chat_tr, host_of, may_change, subscribed, topic_names
from bot.tg.keyboards import (
    Feedback,
    SubscribeToggle,
    feedback_keyboard,
    parse_callback,
    topics_keyboard,
)

log = logging.getLogger(__name__)
TOASTS = {"+": N_("Thanks: marked relevant for {topics}"), "-": N_("Thanks: marked not relevant for {topics}")}


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    action = parse_callback(query.data)
    if isinstance(action, Feedback):
        toast = await _feedback(update, context, action)
    elif isinstance(action, SubscribeToggle):
        toast = await _toggle(update, context, action)
    else:
        toast = chat_tr(host_of(context), update)._("This button is no longer active.")
    await query.answer(toast)


async def _feedback(update: Update, context: ContextTypes.DEFAULT_TYPE, action: Feedback) -> str:
    host, query = host_of(context), update.callback_query
    tr = chat_tr(host, update)
    row = db.outbox_row(host.store, action.row_id)
    message = query.message
    if row is None or message is None or row.chat_id != message.chat.id:
        return tr._("This alert is no longer known.")
    topics = alert_from_json(row.payload).topics
    names = tr._(", ").join(topic_names(host).get(t, t) for t in topics)
    if action.choice == "m":
        if not await may_change(update, context):
            return tr._("Only chat administrators can mute topics here.")
        db.mute(host.store, row.chat_id, topics, db.FOREVER, host.clock())
        toast = tr._("Muted {topics} here. /unmute to undo.").format(topics=names)
    else:
        label = 1 if action.choice == "+" else 0
        db.save_labels(host.store, row.item_id, topics, label, query.from_user.id, host.clock())
        toast = tr._(TOASTS[action.choice]).format(topics=names)
    db.set_feedback(host.store, row.id, action.choice)
    await _set_markup(query, feedback_keyboard(row.id, action.choice))
    return toast[:190]  # toasts are capped at 200 characters


async def _toggle(update: Update, context: ContextTypes.DEFAULT_TYPE, action: SubscribeToggle) -> str:
    host, query = host_of(context), update.callback_query
    tr = chat_tr(host, update)
    if action.topic not in host.runtime.topics:
        return tr._("That topic no longer exists.")
    if not await may_change(update, context):
        return tr._("Only chat administrators can change subscriptions here.")
    chat_id = query.message.chat.id
    db.set_subscription(host.store, chat_id, [action.topic], action.subscribe, host.clock())
    host.refresh_routes()
    await _set_markup(query, topics_keyboard(topic_names(host), subscribed(host, chat_id)))
    name = host.runtime.topics[action.topic].name
    done = tr._("Subscribed to {topics}") if action.subscribe else tr._("Unsubscribed from {topics}")
    return done.format(topics=name)


async def _set_markup(query, markup) -> None:
    try:
        await query.edit_message_reply_markup(reply_markup=markup)
    except BadRequest as exc:  # unchanged buttons, or the message is gone: the choice is stored anyway
        log.debug("buttons not updated: %s", exc)
