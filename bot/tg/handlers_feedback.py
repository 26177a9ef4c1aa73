"""Button presses: 👍 / 👎 / 🔕 under alerts, the mute questions, the /topics pages, and (in
handlers_story) "Same story" / "Different story" under related alerts.

👍 and 👎 store one labelled example per topic of the alert that the chat follows (who, when,
which item) for the classifier, which every chat shares: in groups only chat administrators may
label. 🔕 asks which topic and for how long (handlers_mute). Each press is answered with a short
toast and the buttons change to show the choice.
"""

from __future__ import annotations

from telegram import Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot.i18n import N_
from bot.store import chats as db
from bot.tg.handlers_mute import alert_markup, mute_button
from bot.tg.handlers_story import on_verdict
from bot.tg.host import chat_tr, followed_topics, host_of, may_change, set_markup, topic_names
from bot.tg.keyboards import (
    Feedback,
    MuteStep,
    StoryVerdict,
    SubscribeToggle,
    TopicsPage,
    parse_callback,
)
from bot.tg.topics_view import topics_page

TOASTS = {"+": N_("Thanks: marked relevant for {topics}"), "-": N_("Thanks: marked not relevant for {topics}")}
STALE = N_("This button is no longer active.")


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    action = parse_callback(query.data)
    if isinstance(action, (Feedback, MuteStep)):
        toast = await _on_alert(update, context, action)
    elif isinstance(action, StoryVerdict):
        toast = await on_verdict(update, context, action)
    elif isinstance(action, SubscribeToggle):
        toast = await _toggle(update, context, action)
    elif isinstance(action, TopicsPage):
        await _show_page(update, context, action.page)
        toast = None
    else:
        toast = chat_tr(host_of(context), update)._(STALE)
    await query.answer(toast[:190] if toast else None)  # toasts are capped at 200 characters


async def _on_alert(update: Update, context: ContextTypes.DEFAULT_TYPE, action: Feedback | MuteStep) -> str:
    host, message = host_of(context), update.callback_query.message
    row = db.outbox_row(host.store, action.row_id)
    if row is None or message is None or row.chat_id != message.chat.id:
        return chat_tr(host, update)._("This alert is no longer known.")
    if isinstance(action, MuteStep):
        return await mute_button(update, context, row, action)
    if action.choice == "m":
        return await mute_button(update, context, row, MuteStep("ask", row.id))
    return await _label(update, context, row, action.choice)


async def _label(update: Update, context: ContextTypes.DEFAULT_TYPE, row: db.TgRow, choice: str) -> str:
    host, query = host_of(context), update.callback_query
    tr = chat_tr(host, update)
    if not await may_change(update, context):
        return tr._("Only chat administrators can label alerts here (the classifier is shared).")
    _, topics = followed_topics(host, row)
    if not topics:
        return tr._("This chat no longer follows this alert's topics.")
    db.save_labels(host.store, row.item_id, topics, 1 if choice == "+" else 0, query.from_user.id, host.clock())
    db.set_feedback(host.store, row.id, choice)
    await set_markup(query, alert_markup(host, row, choice))
    return tr._(TOASTS[choice]).format(topics=tr._(", ").join(topic_names(host).get(t, t) for t in topics))


async def _toggle(update: Update, context: ContextTypes.DEFAULT_TYPE, action: SubscribeToggle) -> str:
    host, query = host_of(context), update.callback_query
    tr = chat_tr(host, update)
    if action.topic not in host.runtime.topics:
        return tr._("That topic no longer exists.")
    if not await may_change(update, context):
        return tr._("Only chat administrators can change subscriptions here.")
    db.set_subscription(host.store, query.message.chat.id, [action.topic], action.subscribe, host.clock())
    host.refresh_routes()
    await _show_page(update, context, action.page)
    name = host.runtime.topics[action.topic].name
    done = tr._("Subscribed to {topics}") if action.subscribe else tr._("Unsubscribed from {topics}")
    return done.format(topics=name)


async def _show_page(update: Update, context: ContextTypes.DEFAULT_TYPE, page: int) -> None:
    """Redraw the /topics message: the text and the buttons of one page, together."""
    query = update.callback_query
    if not _is_topics_view(query.message):  # forged data on an alert must not replace it for everyone
        return
    host = host_of(context)
    text, markup = topics_page(host, query.message.chat.id, page, chat_tr(host, update))
    try:
        await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)
    except BadRequest as exc:  # "not modified" (the same page again) or the message is gone
        if "not modified" not in exc.message.lower():
            raise


def _is_topics_view(message) -> bool:
    """A /topics message: its buttons page (tp:) or toggle subscriptions (ts:)."""
    markup = getattr(message, "reply_markup", None)
    rows = markup.inline_keyboard if markup is not None else ()
    return any((b.callback_data or "").startswith(("tp:", "ts:")) for row in rows for b in row)
