""""Same story" / "Different story" under a related alert (one sent as a reply to an earlier
story's alert). "Same" folds the related story into the earlier one, whose alerts are then edited
to add the source, and edits this reply to say so; "different" keeps them apart. Both are stored
as a judgement that tunes the story thresholds (bot/judgements.py). In groups only administrators
may answer: a fold changes what everyone sees.
"""

from __future__ import annotations

import logging

from telegram import LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot.alerts.compose import alert_from_json
from bot.i18n import N_, translation
from bot.store import chats as db
from bot.tg.delivery import related_state
from bot.tg.format import format_alert
from bot.tg.host import chat_prefs, chat_tr, host_of, may_change, set_markup, topic_names
from bot.tg.keyboards import StoryVerdict, alert_keyboard

log = logging.getLogger(__name__)
VERDICT_TOASTS = {
    "folded": N_("Folded into the earlier story; its alert will list this source."),
    "kept apart": N_("Kept apart: noted as a different story."),
    "already folded": N_("Already folded into the earlier story."),
    "already kept apart": N_("Already judged a different story."),
}


async def on_verdict(update: Update, context: ContextTypes.DEFAULT_TYPE, action: StoryVerdict) -> str:
    """Same story: fold and edit this reply to say so; different: keep apart, mark the button."""
    host, query = host_of(context), update.callback_query
    tr = chat_tr(host, update)
    row = db.outbox_row(host.store, action.row_id)
    message = query.message
    if row is None or message is None or row.chat_id != message.chat.id or not row.payload.get("related"):
        return tr._("This alert is no longer known.")
    if not await may_change(update, context):
        return tr._("Only chat administrators can judge stories here.")
    outcome = host.judge.judge(row.story_id, action.verdict, chat_id=row.chat_id, user_id=query.from_user.id)
    if outcome.status == "unknown":
        return tr._("This story is no longer known.")
    alert = alert_from_json(row.payload)
    story = related_state(host.store, row.chat_id, alert)[1] or action.verdict
    markup = alert_keyboard(row.id, row.feedback, story=story, tr=tr)
    if story == "same":  # the reply now says it was folded
        prefs = chat_prefs(host, row.chat_id)
        text = format_alert(alert, names=topic_names(host), zone=prefs.timezone, related="folded",
                            tr=translation(prefs.language))
        previews = LinkPreviewOptions(is_disabled=not host.runtime.config.telegram.link_previews)  # as the alert was sent
        await _set_text(query, text, markup, previews)
    else:
        await set_markup(query, markup)
    return tr._(VERDICT_TOASTS[outcome.status])


async def _set_text(query, text: str, markup, previews: LinkPreviewOptions) -> None:
    try:
        await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=markup,
                                      link_preview_options=previews)
    except BadRequest as exc:  # unchanged, or the message is gone: the verdict is stored anyway
        log.debug("message not updated: %s", exc)
