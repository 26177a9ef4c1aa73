"""What the Telegram handlers need from the running app (a Protocol, so tg never imports app), and
the small helpers every handler shares: who may do what, a chat's settings and topics, replies.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from telegram import LinkPreviewOptions, Update
from telegram.constants import ChatMemberStatus, ChatType, ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import ContextTypes

from bot.alerts.compose import alert_from_json
from bot.i18n import Tr, pick, translation
from bot.ingest.fetch import Fetcher
from bot.judgements import StoryJudge
from bot.models import FetchResult, ParsedFeed
from bot.runtime import Runtime
from bot.store import chats as db
from bot.store.db import Store
from bot.tg.digest import ChatPrefs, merge_prefs
from bot.tg.explain import clip_html

HOST_KEY = "wirewatch.host"
log = logging.getLogger(__name__)
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


class Host(Protocol):
    """The running wirewatch as the handlers see it (bot.app.App implements it)."""

    store: Store
    runtime: Runtime
    fetcher: Fetcher
    clock: Callable[[], datetime]
    judge: StoryJudge  # acts on "Same story" / "Different story"

    @property
    def last_cycle_seconds(self) -> float | None: ...

    def core_lag(self) -> float | None: ...  # run --role core: the pollers' oldest waiting item

    def refresh_routes(self) -> None: ...

    def reload_now(self) -> tuple[bool, str]: ...

    def seed_feed(self, feed_id: int, result: FetchResult, parsed: ParsedFeed) -> int: ...

    async def announce(self) -> None: ...


def host_of(context: ContextTypes.DEFAULT_TYPE) -> Host:
    return context.application.bot_data[HOST_KEY]


def topic_names(host: Host) -> dict[str, str]:
    return {tid: topic.name for tid, topic in host.runtime.topics.items()}


def chat_prefs(host: Host, chat_id: int) -> ChatPrefs:
    """The chat's delivery settings: config.toml, overridden by what its commands stored."""
    config = next((c for c in host.runtime.config.chats if c.id == chat_id), None)
    return merge_prefs(config, db.get_chat(host.store, chat_id), host.runtime.config.bot.timezone)


def chat_topics(host: Host, chat_id: int) -> frozenset[str] | None:
    """Topics the chat gets now (None: every topic), from the current routes."""
    for route in host.runtime.routes:
        if route.chat_id == chat_id:
            return route.topics
    return frozenset()


def subscribed(host: Host, chat_id: int) -> list[str]:
    wanted = chat_topics(host, chat_id)
    return [t for t in host.runtime.topics if wanted is None or t in wanted]


def followed_topics(host: Host, row: db.TgRow) -> tuple[list[str], list[str]]:
    """An alert's topics, and those of them its chat follows now (what 👍 👎 🔕 act on)."""
    topics = list(alert_from_json(row.payload).topics)
    wanted = chat_topics(host, row.chat_id)
    return topics, [t for t in topics if wanted is None or t in wanted]


async def set_markup(query, markup) -> None:
    """Replace the buttons of the message a button was pressed on."""
    try:
        await query.edit_message_reply_markup(reply_markup=markup)
    except BadRequest as exc:  # unchanged buttons, or the message is gone: the choice is stored anyway
        log.debug("buttons not updated: %s", exc)


def chat_tr(host: Host, update: Update) -> Tr:
    """The language to answer this update in: the chat's /settings lang, else the sender's
    Telegram language_code (the chat's recorded one for a private chat), else English."""
    chat, user = update.effective_chat, update.effective_user
    row = db.get_chat(host.store, chat.id) if chat is not None else None
    code = (user.language_code if user is not None else None) or (row.tg_language if row else None)
    return translation(pick(row.language if row else None, code))


def is_bot_admin(host: Host, update: Update) -> bool:
    user = update.effective_user
    return user is not None and user.id in host.runtime.config.telegram.admins


async def may_change(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """Private chats: yes. Groups: chat administrators (asked with getChatMember) and bot admins."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or chat.type == ChatType.PRIVATE or is_bot_admin(host_of(context), update):
        return True
    message = update.effective_message
    if message is not None and message.sender_chat is not None and message.sender_chat.id == chat.id:
        return True  # an anonymous group administrator posts as the group itself
    if user is None:
        return False
    try:
        member = await context.bot.get_chat_member(chat.id, user.id)
    except TelegramError:
        return False
    return member.status in (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)


async def reply(update: Update, text: str, **kwargs) -> None:
    """Answer in the chat (and thread) the command came from, HTML, no link previews."""
    message = update.effective_message
    if message is not None:  # clipped: a reply over Telegram's limit would fail as a whole
        await message.reply_text(clip_html(text), parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW,
                                 do_quote=False, **kwargs)


def remember_chat(host: Host, update: Update) -> bool:
    """Store the chat (reactivating it after a block); True when it was reactivated."""
    chat = update.effective_chat
    if chat is None:
        return False
    title = chat.title or chat.full_name or chat.username
    user = update.effective_user
    code = user.language_code if user is not None and chat.type == ChatType.PRIVATE else None
    back = db.register_chat(host.store, chat.id, title, chat.type, host.clock(), tg_language=code)
    if back:
        host.refresh_routes()
    return back
