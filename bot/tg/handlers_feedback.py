"""Button presses: 👍 / 👎 / 🔕 under alerts, "Same story" / "Different story" under related
alerts, and the subscribe toggles of /topics.

👍 and 👎 store one labelled example per topic of the alert (who, when, which item) for the
classifier; 🔕 mutes the alert's topics in this chat (administrators only in groups). "Same story"
folds the related story into the earlier one (whose alerts are then edited to add the source) and
"Different story" keeps them apart; both are stored as a judgement that tunes the story
thresholds, and in groups only administrators may give them (a fold changes what everyone sees).
Each press is answered with a short toast and the buttons change to show the choice.
"""

from __future__ import annotations

import logging

from telegram import LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot.alerts.compose import alert_from_json
from bot.store import chats as db
from bot.tg.delivery import related_state
from bot.tg.format import format_alert
from bot.tg.host import chat_prefs, host_of, may_change, subscribed, topic_names
from bot.tg.keyboards import (
    Feedback,
    StoryVerdict,
    SubscribeToggle,
    alert_keyboard,
    parse_callback,
    topics_keyboard,
)

log = logging.getLogger(__name__)
TOASTS = {"+": "Thanks: marked relevant", "-": "Thanks: marked not relevant"}
VERDICT_TOASTS = {
    "folded": "Folded into the earlier story; its alert will list this source.",
    "kept apart": "Kept apart: noted as a different story.",
    "already folded": "Already folded into the earlier story.",
    "already kept apart": "Already judged a different story.",
}


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    action = parse_callback(query.data)
    if isinstance(action, Feedback):
        toast = await _feedback(update, context, action)
    elif isinstance(action, StoryVerdict):
        toast = await _verdict(update, context, action)
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
    story = related_state(host.store, row.chat_id, alert_from_json(row.payload))[1]
    await _set_markup(query, alert_keyboard(row.id, action.choice, story=story))
    return toast[:190]  # toasts are capped at 200 characters


async def _verdict(update: Update, context: ContextTypes.DEFAULT_TYPE, action: StoryVerdict) -> str:
    """Same story: fold and edit this reply to say so; different: keep apart, mark the button."""
    host, query = host_of(context), update.callback_query
    row = db.outbox_row(host.store, action.row_id)
    message = query.message
    if row is None or message is None or row.chat_id != message.chat.id or not row.payload.get("related"):
        return "This alert is no longer known."
    if not await may_change(update, context):
        return "Only chat administrators can judge stories here."
    outcome = host.judge.judge(row.story_id, action.verdict, chat_id=row.chat_id, user_id=query.from_user.id)
    if outcome.status == "unknown":
        return "This story is no longer known."
    alert = alert_from_json(row.payload)
    story = related_state(host.store, row.chat_id, alert)[1] or action.verdict
    markup = alert_keyboard(row.id, row.feedback, story=story)
    if story == "same":  # the reply now says it was folded
        text = format_alert(alert, names=topic_names(host), zone=chat_prefs(host, row.chat_id).timezone, related="folded")
        previews = LinkPreviewOptions(is_disabled=not host.runtime.config.telegram.link_previews)  # as the alert was sent
        await _set_text(query, text, markup, previews)
    else:
        await _set_markup(query, markup)
    return VERDICT_TOASTS[outcome.status]


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


async def _set_text(query, text: str, markup, previews: LinkPreviewOptions) -> None:
    try:
        await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=markup,
                                      link_preview_options=previews)
    except BadRequest as exc:  # unchanged, or the message is gone: the verdict is stored anyway
        log.debug("message not updated: %s", exc)


async def _set_markup(query, markup) -> None:
    try:
        await query.edit_message_reply_markup(reply_markup=markup)
    except BadRequest as exc:  # unchanged buttons, or the message is gone: the choice is stored anyway
        log.debug("buttons not updated: %s", exc)
