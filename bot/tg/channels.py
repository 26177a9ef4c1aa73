"""Which chat a command acts on: the chat it was sent in, or a channel named as its first word.

A channel has no one to type commands in it (and the bot ignores channel posts), so its
administrators manage it from a private chat with the bot: `/subscribe @channel anbar`,
`/settings @channel quiet 22:00-07:00`. Before anything changes, getChatMember must show that
the user is an administrator (or the creator) of the channel and that the bot is one of its
administrators, allowed to post; otherwise the reply says which of the two is missing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape

from telegram import Chat, Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.i18n import RLM, Tr
from bot.store import chats as db
from bot.tg.host import host_of, may_change, reply

_CHANNEL = re.compile(r"^(@[A-Za-z][A-Za-z0-9_]{3,31}|-100\d{5,})$")
ADMINS = (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)


@dataclass(frozen=True)
class Target:
    chat_id: int
    args: list[str]  # the command's arguments after the channel, if one was named
    channel: str = ""  # "@name" when the command acts on a channel, else ""
    rtl: bool = False  # the reply's language reads right to left

    def prefix(self, text: str) -> str:
        """A reply about a channel says which channel it is about (a right-to-left reply starts
        as such, though it opens with the Latin @name)."""
        if not self.channel:
            return text
        return f"{RLM if self.rtl else ''}<b>{escape(self.channel)}</b>: {text}"


def names_channel(args: list[str]) -> bool:
    return bool(args) and bool(_CHANNEL.match(args[0]))


async def target_of(update: Update, context: ContextTypes.DEFAULT_TYPE, tr: Tr) -> Target | None:
    """The chat to act on and the remaining arguments; None once a refusal has been sent. A
    channel is checked here, even for looking (its settings are its administrators' business)."""
    args = list(context.args or [])
    if not names_channel(args):
        return Target(update.effective_chat.id, args)
    if update.effective_chat.type != ChatType.PRIVATE:
        await reply(update, tr._("Manage a channel from a private chat with me: send the same command there."))
        return None
    chat, problem = await check_channel(context, args[0], update.effective_user.id, tr)
    if chat is None:
        await reply(update, problem)
        return None
    host = host_of(context)
    if db.register_chat(host.store, chat.id, chat.title or chat.username, chat.type, host.clock()):
        host.refresh_routes()  # the channel had been left or had removed the bot: it resumes
    label = f"@{chat.username}" if chat.username else (chat.title or str(chat.id))
    return Target(chat.id, args[1:], label, tr.rtl)


async def may_change_target(update: Update, context: ContextTypes.DEFAULT_TYPE, target: Target) -> bool:
    """A channel passed its checks in target_of; this chat is asked as before."""
    return bool(target.channel) or await may_change(update, context)


async def check_channel(context: ContextTypes.DEFAULT_TYPE, ref: str, user_id: int, tr: Tr) -> tuple[Chat | None, str]:
    """The channel, if the user and the bot administer it; else None and what to tell the user."""
    bot, shown = context.bot, escape(ref)
    try:
        chat = await bot.get_chat(int(ref) if ref.lstrip("-").isdigit() else ref)
    except TelegramError:
        return None, tr._("I cannot find {channel}. Add me to the channel as an administrator, then try again.").format(
            channel=shown)
    if chat.type != ChatType.CHANNEL:
        return None, tr._("{channel} is not a channel: send commands for a group in the group itself.").format(channel=shown)
    try:
        me = await bot.get_chat_member(chat.id, bot.id)
    except TelegramError:
        me = None
    if me is None or me.status not in ADMINS or getattr(me, "can_post_messages", None) is False:
        return None, tr._("I am not an administrator of {channel} allowed to post messages: add me as one first.").format(
            channel=shown)
    try:
        member = await bot.get_chat_member(chat.id, user_id)
    except TelegramError:
        member = None
    if member is None or member.status not in ADMINS:
        return None, tr._("Only administrators of {channel} can change what it receives.").format(channel=shown)
    return chat, ""
