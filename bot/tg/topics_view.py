"""The /topics message: one page of topics with their descriptions, and the buttons for exactly
those topics, with ◀ ▶ to turn pages. Text and buttons are always built together, so a tap that
changes a subscription or the page redraws both."""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape

from telegram import InlineKeyboardMarkup

from bot.i18n import Tr, translation
from bot.store import chats as db
from bot.tg.host import Host, subscribed
from bot.tg.keyboards import topics_keyboard

ENGLISH = translation("en")
PAGE_SIZE = 8  # topics per page: keeps the text far below 4,096 characters and the keyboard short
DESCRIPTION_MAX = 200


def pages(count: int) -> int:
    return max(1, -(-count // PAGE_SIZE))


def topics_page(host: Host, chat_id: int, page: int, tr: Tr = ENGLISH) -> tuple[str, InlineKeyboardMarkup]:
    """The text and the keyboard of one page (a page past the end shows the last), in tr's language."""
    topics = list(host.runtime.topics.items())
    total = pages(len(topics))
    page = min(max(page, 0), total - 1)
    shown = topics[page * PAGE_SIZE:(page + 1) * PAGE_SIZE]
    mine, muted = set(subscribed(host, chat_id)), db.mutes(host.store, chat_id, host.clock())
    where = " · " + tr._("page {page} of {pages}").format(page=page + 1, pages=total) if total > 1 else ""
    lines = [tr._("<b>Topics</b> ({n}{where}; ✅ = this chat gets it; tap to change)").format(n=len(topics), where=where)]
    for tid, topic in shown:
        state = "✅" if tid in mine else "➖"
        note = ""
        if tid in muted:
            until, silent = muted[tid]
            state_until = tr._("silent until {when}") if silent else tr._("muted until {when}")
            note = " — " + state_until.format(when=until_text(until, tr))
        name, description = escape(_clip(topic.name, 100)), escape(_clip(topic.description, DESCRIPTION_MAX))
        lines.append(f"{state} <b>{name}</b> <code>{escape(tid[:100])}</code>{note}\n   {description}")
    names = {tid: topic.name for tid, topic in shown}
    return "\n".join(lines), topics_keyboard(names, mine, page, total)


def until_text(when: datetime, tr: Tr = ENGLISH) -> str:
    return tr._("unmuted") if when.year >= 9999 else tr.when(when, UTC)


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"
