"""Inline keyboards and their compact callback data (Telegram allows 64 bytes).

    fb:<outbox id>:+   this alert belongs to its topics      (👍)
    fb:<outbox id>:-   it does not                           (👎)
    fb:<outbox id>:m   mute the alert's topics in this chat  (🔕)
    pj:<outbox id>:s   a related alert is the same story as the one it replies to ("Same story")
    pj:<outbox id>:d   it is a different story                ("Different story")
    sub:<topic id>:1   subscribe this chat to a topic (0: unsubscribe)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

CHOICES = {"+": "👍", "-": "👎", "m": "🔕"}
_LIMIT = 64


@dataclass(frozen=True)
class Feedback:
    row_id: int
    choice: str  # + - m


@dataclass(frozen=True)
class StoryVerdict:
    row_id: int
    verdict: str  # same | different


VERDICTS = {"s": "same", "d": "different"}
VERDICT_LABELS = {"same": "Same story", "different": "Different story"}


@dataclass(frozen=True)
class SubscribeToggle:
    topic: str
    subscribe: bool


def feedback_keyboard(row_id: int, chosen: str | None = None) -> InlineKeyboardMarkup:
    """👍 / 👎 / 🔕 under an alert; the chosen one carries a check mark."""
    buttons = [
        InlineKeyboardButton(f"{emoji} ✓" if choice == chosen else emoji, callback_data=f"fb:{row_id}:{choice}")
        for choice, emoji in CHOICES.items()
    ]
    return InlineKeyboardMarkup([buttons])


def alert_keyboard(row_id: int, chosen: str | None = None, *, story: str | None = None) -> InlineKeyboardMarkup:
    """The feedback buttons, and under a related alert a second row: "Same story" / "Different
    story" while unjudged (story "open"), then only the verdict given, with a check mark."""
    rows = list(feedback_keyboard(row_id, chosen).inline_keyboard)
    if story == "open":
        rows.append([InlineKeyboardButton(label, callback_data=f"pj:{row_id}:{code}")
                     for code, label in ((c, VERDICT_LABELS[v]) for c, v in VERDICTS.items())])
    elif story in VERDICT_LABELS:
        code = next(c for c, v in VERDICTS.items() if v == story)
        rows.append([InlineKeyboardButton(f"{VERDICT_LABELS[story]} ✓", callback_data=f"pj:{row_id}:{code}")])
    return InlineKeyboardMarkup(rows)


def topics_keyboard(names: Mapping[str, str], subscribed: Iterable[str]) -> InlineKeyboardMarkup:
    """One button per topic: ✅ name (press to unsubscribe) or ➕ name (press to subscribe)."""
    on = set(subscribed)
    rows = []
    for topic, name in names.items():
        data = f"sub:{topic}:{0 if topic in on else 1}"
        if len(data.encode()) > _LIMIT:
            continue  # an id this long cannot ride in a button; /subscribe still works
        rows.append([InlineKeyboardButton(f"{'✅' if topic in on else '➕'} {name}", callback_data=data)])
    return InlineKeyboardMarkup(rows)


def parse_callback(data: str | None) -> Feedback | StoryVerdict | SubscribeToggle | None:
    """The action a button press asks for, or None for data this bot did not make."""
    kind, _, rest = (data or "").partition(":")
    if kind in ("fb", "pj"):
        row, _, choice = rest.partition(":")
        if row.isdigit() and kind == "fb" and choice in CHOICES:
            return Feedback(int(row), choice)
        if row.isdigit() and kind == "pj" and choice in VERDICTS:
            return StoryVerdict(int(row), VERDICTS[choice])
    elif kind == "sub":
        topic, _, flag = rest.rpartition(":")
        if topic and flag in ("0", "1"):
            return SubscribeToggle(topic, flag == "1")
    return None
