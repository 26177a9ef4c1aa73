"""/addfeed given a web page: the feeds the page announces (bot/ingest/discover.py), one followed
at once or several offered as buttons.

A button's callback data holds at most 64 bytes, too few for a URL, so the offered URLs wait in
the chat's PTB chat_data under a short random token: `af:<token>:<index>`. They are kept in
memory only (an offer from before a restart answers "expired: send /addfeed again").
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.ext import ContextTypes

from bot.i18n import Tr
from bot.ingest.discover import Alternate
from bot.tg.format import clip

OFFERS_KEY = "wirewatch.feed_offers"
KEEP = 5  # offers remembered per chat; older buttons expire


@dataclass(frozen=True)
class Offer:
    page: str
    name: str
    alternates: tuple[Alternate, ...]


def remember(context: ContextTypes.DEFAULT_TYPE, offer: Offer) -> str:
    """Keep the offer for this chat; its token."""
    offers: dict[str, Offer] = context.chat_data.setdefault(OFFERS_KEY, {})
    while len(offers) >= KEEP:
        offers.pop(next(iter(offers)))
    token = secrets.token_hex(4)
    offers[token] = offer
    return token


def choice_keyboard(token: str, offer: Offer) -> InlineKeyboardMarkup:
    rows = [[InlineKeyboardButton(clip(f"{a.kind.upper()}: {a.title or a.url}", 60), callback_data=f"af:{token}:{i}")]
            for i, a in enumerate(offer.alternates)]
    return InlineKeyboardMarkup(rows)


def choice_text(offer: Offer, tr: Tr) -> str:
    n = len(offer.alternates)
    lines = [tr.n_("{page} is a web page that announces {n} feed. Which one?",
                   "{page} is a web page that announces {n} feeds. Which one?", n).format(page=escape(offer.page), n=n)]
    lines += [f"{i + 1}. {escape(a.title or tr._('(untitled)'))} — {escape(a.url)}" for i, a in enumerate(offer.alternates)]
    return "\n".join(lines)


def take(context: ContextTypes.DEFAULT_TYPE, data: str) -> tuple[Offer, Alternate] | None:
    """The offer and choice a button press names, or None when it expired or is not one."""
    _, token, index = (data.split(":") + ["", ""])[:3]
    offer = context.chat_data.get(OFFERS_KEY, {}).get(token)
    if offer is None or not index.isdigit() or int(index) >= len(offer.alternates):
        return None
    return offer, offer.alternates[int(index)]
