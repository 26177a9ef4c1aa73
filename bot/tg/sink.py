"""Telegram calls for the outbox: send an alert, edit it for a story update, send a digest.

Every python-telegram-bot error is translated here, in one place, into what the outbox does next:
RetryAfter -> retry after that long; network trouble -> back off and retry; Forbidden -> the chat
is gone (ChatBlocked); ChatMigrated -> the chat moved (ChatMoved); any other BadRequest -> the row
fails permanently. A message id comes back only once Telegram confirmed the message.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from datetime import timedelta

from telegram import Bot, InlineKeyboardMarkup, LinkPreviewOptions, ReplyParameters
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)

from bot.alerts.compose import alert_from_json
from bot.alerts.outbox import DeliveryError
from bot.i18n import translation
from bot.models import Alert
from bot.store.chats import TgRow
from bot.tg.digest import ChatPrefs
from bot.tg.format import format_alert, format_update, source_also
from bot.tg.keyboards import alert_keyboard

MAX_BACKOFF = 600.0


class ChatBlocked(DeliveryError):
    """The bot was blocked by the user or removed from the chat (403)."""

    def __init__(self, message: str):
        super().__init__(message, retry_after=None)


class ChatMoved(DeliveryError):
    """The group became a supergroup with a new id: resend there."""

    def __init__(self, new_chat_id: int):
        super().__init__(f"group migrated to {new_chat_id}", retry_after=0)
        self.new_chat_id = new_chat_id


class MessageGone(Exception):
    """The message an update should edit no longer exists."""


def backoff(attempts: int) -> float:
    """Seconds before retrying after a network error: 5, 10, 20, ... up to 10 minutes."""
    return min(MAX_BACKOFF, 5.0 * 2 ** min(attempts, 10))


def _seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 warns that retry_after will become a timedelta
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def translate(exc: TelegramError, attempts: int = 0) -> DeliveryError:
    """What a Telegram error means for the outbox row being delivered."""
    if isinstance(exc, RetryAfter):
        return DeliveryError(f"rate limited by Telegram: {exc}", retry_after=_seconds(exc))
    if isinstance(exc, ChatMigrated):
        return ChatMoved(exc.new_chat_id)
    if isinstance(exc, Forbidden):
        return ChatBlocked(str(exc))
    if isinstance(exc, BadRequest):  # a subclass of NetworkError: test it first
        return DeliveryError(f"refused by Telegram: {exc}", retry_after=None)
    if isinstance(exc, NetworkError):
        return DeliveryError(f"network error: {exc}", retry_after=backoff(attempts))
    return DeliveryError(f"Telegram error: {exc}", retry_after=backoff(attempts))


class TelegramSink:
    """Sends and edits alert messages through a (rate-limited) PTB bot."""

    def __init__(self, bot: Bot, *, names: Mapping[str, str] | None = None, link_previews: bool = False):
        self.bot = bot
        self.names = names or {}  # topic id -> display name; replaced on reload
        self.previews = LinkPreviewOptions(is_disabled=not link_previews)

    async def _post(self, chat_id: int, text: str, prefs: ChatPrefs, attempts: int,
                    markup: InlineKeyboardMarkup | None = None, reply_to: int | None = None) -> str:
        # a reply whose message was deleted meanwhile is still sent, as a plain message
        replying = ReplyParameters(reply_to, allow_sending_without_reply=True) if reply_to else None
        try:
            message = await self.bot.send_message(
                chat_id, text, parse_mode=ParseMode.HTML, link_preview_options=self.previews,
                message_thread_id=prefs.thread_id, reply_markup=markup, reply_parameters=replying,
                disable_notification=prefs.silent,
            )
        except TelegramError as exc:
            raise translate(exc, attempts) from exc
        return str(message.message_id)

    async def send_alert(self, chat_id: int, row: TgRow, prefs: ChatPrefs, *, reply_to: int | None = None,
                         story: str | None = None) -> str:
        """A new alert with its feedback buttons; returns the message id. With reply_to (the
        earlier story's alert here) it is a related alert: a reply with "Same story" /
        "Different story" buttons (story: "open", or the verdict already given)."""
        alert = alert_from_json(row.payload)
        related = ("folded" if story == "same" else "open") if reply_to else None
        text = format_alert(alert, names=self.names, zone=prefs.timezone, related=related,
                            tr=translation(prefs.language))
        markup = alert_keyboard(row.id, row.feedback, story=story if reply_to else None,
                                tr=translation(prefs.language))
        return await self._post(chat_id, text, prefs, row.attempts, markup, reply_to)

    async def edit_alert(self, chat_id: int, original: TgRow, update: Alert, prefs: ChatPrefs, attempts: int,
                         *, story: str | None = None) -> str:
        """Add the update's sources (each a link to its article) to the alert already sent;
        MessageGone if it was deleted. story: the related state of the original, kept as it was."""
        alert = alert_from_json(original.payload)
        related = None if story is None else ("folded" if story == "same" else "open")
        text = format_alert(alert, names=self.names, zone=prefs.timezone, also=source_also(update.also, alert.source),
                            links=update.also_links, related=related,
                            tr=translation(prefs.language))
        try:
            await self.bot.edit_message_text(
                text, chat_id=chat_id, message_id=int(original.message_ref or 0), parse_mode=ParseMode.HTML,
                link_preview_options=self.previews,
                reply_markup=alert_keyboard(original.id, original.feedback, story=story, tr=translation(prefs.language)),
            )
        except BadRequest as exc:
            if "not modified" in exc.message.lower():
                return str(original.message_ref)  # already shows these sources: done
            if "not found" in exc.message.lower():
                raise MessageGone(str(exc)) from exc
            raise translate(exc, attempts) from exc
        except TelegramError as exc:
            raise translate(exc, attempts) from exc
        return str(original.message_ref)

    async def send_update(self, chat_id: int, update: Alert, prefs: ChatPrefs, attempts: int) -> str:
        """A short fresh message for an update whose alert message is gone."""
        text = format_update(update, zone=prefs.timezone, tr=translation(prefs.language))
        return await self._post(chat_id, text, prefs, attempts)

    async def send_digest(self, chat_id: int, text: str, prefs: ChatPrefs, attempts: int) -> str:
        return await self._post(chat_id, text, prefs, attempts)

    async def set_buttons(self, chat_id: int, message_id: int, markup: InlineKeyboardMarkup) -> None:
        """Replace a message's buttons; an unchanged keyboard is not an error."""
        try:
            await self.bot.edit_message_reply_markup(chat_id=chat_id, message_id=message_id, reply_markup=markup)
        except BadRequest as exc:
            if "not modified" not in exc.message.lower():
                raise
