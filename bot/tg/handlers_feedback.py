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
from bot.store import chats as db
from bot.tg.host import host_of, may_change, subscribed, topic_names
from bot.tg.keyboards import (
    Feedback,
    SubscribeToggle,
    feedback_keyboard,
    parse_callback,
    topics_keyboard,
)

log = logging.getLogger(__name__)
TOASTS = {"+": "Thanks: marked relevant", "-": "Thanks: marked not relevant"}


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    action = parse_callback(query.data)
    if isinstance(action, Feedback):
        toast = await _feedback(update, context, action)
    elif isinstance(action, SubscribeToggle):
        toast = await _toggle(update, context, action)
    else:
        toast = "This button is no longer active."
    await query.answer(toast)


async def _feedback(update: Update, context: ContextTypes.DEFAULT_TYPE, action: Feedback) -> str:
    host, query = host_of(context), update.callback_query
    row = db.outbox_row(host.store, action.row_id)
    message = query.message
    if row is None or message is None or row.chat_id != message.chat.id:
        return "This alert is no longer known."
    topics = alert_from_json(row.payload).topics
    names = ", ".join(topic_names(host).get(t, t) for t in topics)
    if action.choice == "m":
        if not await may_change(update, context):
            return "Only chat administrators can mute topics here."
        db.mute(host.store, row.chat_id, topics, db.FOREVER, host.clock())
        toast = f"Muted {names} here. /unmute to undo."
    else:
        label = 1 if action.choice == "+" else 0
        db.save_labels(host.store, row.item_id, topics, label, query.from_user.id, host.clock())
        toast = f"{TOASTS[action.choice]} for {names}"
    db.set_feedback(host.store, row.id, action.choice)
    await _set_markup(query, feedback_keyboard(row.id, action.choice))
    return toast[:190]  # toasts are capped at 200 characters


async def _toggle(update: Update, context: ContextTypes.DEFAULT_TYPE, action: SubscribeToggle) -> str:
    host, query = host_of(context), update.callback_query
    if action.topic not in host.runtime.topics:
        return "That topic no longer exists."
    if not await may_change(update, context):
        return "Only chat administrators can change subscriptions here."
    chat_id = query.message.chat.id
    db.set_subscription(host.store, chat_id, [action.topic], action.subscribe, host.clock())
    host.refresh_routes()
    await _set_markup(query, topics_keyboard(topic_names(host), subscribed(host, chat_id)))
    name = host.runtime.topics[action.topic].name
    return f"Subscribed to {name}" if action.subscribe else f"Unsubscribed from {name}"


async def _set_markup(query, markup) -> None:
    try:
        await query.edit_message_reply_markup(reply_markup=markup)
    except BadRequest as exc:  # unchanged buttons, or the message is gone: the choice is stored anyway
        log.debug("buttons not updated: %s", exc)
