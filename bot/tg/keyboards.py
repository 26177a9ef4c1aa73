"""Inline keyboards and their compact callback data (Telegram allows 64 bytes).

    fb:<outbox id>:+          this alert belongs to its topics          (👍)
    fb:<outbox id>:-          it does not                               (👎)
    fb:<outbox id>:m          mute: ask which topic                     (🔕)
    mm:<outbox id>:<t>        mute topic t (index in the alert, a: all): ask for how long
    md:<outbox id>:<t>:<span> mute topic t for h / d / w / f (until unmuted)
    mc:<outbox id>            cancel the mute questions
    mu:<outbox id>:<t>        undo a mute made from this alert
    ts:<page>:<0|1>:<topic>   /topics: subscribe (1) or unsubscribe (0), staying on this page
    tp:<page>                 /topics: show this page
    sub:<topic>:<0|1>         the toggle of earlier /topics messages (page 0)
    pj:<outbox id>:s          a related alert is the same story as the one it replies to ("Same story")
    pj:<outbox id>:d          it is a different story                   ("Different story")
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.i18n import N_, Tr, translation

ENGLISH = translation("en")

CHOICES = {"+": "👍", "-": "👎", "m": "🔕"}
SPANS = {"h": N_("1 h"), "d": N_("1 d"), "w": N_("1 w"), "f": N_("until unmuted")}  # shown through tr._
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
VERDICT_LABELS = {"same": N_("Same story"), "different": N_("Different story")}


@dataclass(frozen=True)
class SubscribeToggle:
    topic: str
    subscribe: bool
    page: int = 0


@dataclass(frozen=True)
class TopicsPage:
    page: int


@dataclass(frozen=True)
class MuteStep:
    """A step of the 🔕 questions: which topic (topic None), for how long (span None), or done."""

    kind: str  # ask | do | cancel | undo
    row_id: int
    topic: str | None = None  # an index into the alert's topics, or "a" for all of them
    span: str | None = None  # a key of SPANS


def feedback_keyboard(row_id: int, chosen: str | None = None) -> InlineKeyboardMarkup:
    """👍 / 👎 / 🔕 under an alert; the chosen one carries a check mark."""
    buttons = [
        InlineKeyboardButton(f"{emoji} ✓" if choice == chosen else emoji, callback_data=f"fb:{row_id}:{choice}")
        for choice, emoji in CHOICES.items()
    ]
    return InlineKeyboardMarkup([buttons])


def alert_keyboard(row_id: int, chosen: str | None = None, *, story: str | None = None,
                   tr: Tr = ENGLISH) -> InlineKeyboardMarkup:
    """The feedback buttons, and under a related alert a second row: "Same story" / "Different
    story" while unjudged (story "open"), then only the verdict given, with a check mark."""
    rows = list(feedback_keyboard(row_id, chosen).inline_keyboard)
    if story == "open":
        rows.append([InlineKeyboardButton(tr._(label), callback_data=f"pj:{row_id}:{code}")
                     for code, label in ((c, VERDICT_LABELS[v]) for c, v in VERDICTS.items())])
    elif story in VERDICT_LABELS:
        code = next(c for c, v in VERDICTS.items() if v == story)
        rows.append([InlineKeyboardButton(f"{tr._(VERDICT_LABELS[story])} ✓", callback_data=f"pj:{row_id}:{code}")])
    return InlineKeyboardMarkup(rows)


def mute_topic_keyboard(row_id: int, topics: Sequence[tuple[str, str]], tr: Tr = ENGLISH) -> InlineKeyboardMarkup:
    """Which topic to mute ((key, name) pairs), all of them, or cancel."""
    rows = [[InlineKeyboardButton(f"🔕 {name}", callback_data=f"mm:{row_id}:{key}")] for key, name in topics]
    if len(topics) > 1:
        rows.append([InlineKeyboardButton("🔕 " + tr._("all of these"), callback_data=f"mm:{row_id}:a")])
    rows.append([InlineKeyboardButton("✖ " + tr._("cancel"), callback_data=f"mc:{row_id}")])
    return InlineKeyboardMarkup(rows)


def mute_span_keyboard(row_id: int, topic: str, tr: Tr = ENGLISH) -> InlineKeyboardMarkup:
    """For how long: 1 h / 1 d / 1 w / until unmuted, or cancel."""
    spans = [InlineKeyboardButton(tr._(text), callback_data=f"md:{row_id}:{topic}:{key}") for key, text in SPANS.items()]
    cancel = InlineKeyboardButton("✖ " + tr._("cancel"), callback_data=f"mc:{row_id}")
    return InlineKeyboardMarkup([spans[:3], spans[3:], [cancel]])


def undo_keyboard(row_id: int, topic: str, tr: Tr = ENGLISH) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton("↩ " + tr._("undo"), callback_data=f"mu:{row_id}:{topic}")]])


def topics_keyboard(names: Mapping[str, str], subscribed: Iterable[str], page: int = 0,
                    pages: int = 1) -> InlineKeyboardMarkup:
    """One button per topic of the page: ✅ name (press to unsubscribe) or ➕ name (to subscribe);
    then ◀ n/N ▶ when there are several pages."""
    on = set(subscribed)
    rows = []
    for topic, name in names.items():
        data = f"ts:{page}:{0 if topic in on else 1}:{topic}"
        if len(data.encode()) > _LIMIT:
            continue  # an id this long cannot ride in a button; /subscribe still works
        rows.append([InlineKeyboardButton(f"{'✅' if topic in on else '➕'} {name}", callback_data=data)])
    if pages > 1:
        rows.append([
            InlineKeyboardButton("◀", callback_data=f"tp:{(page - 1) % pages}"),
            InlineKeyboardButton(f"{page + 1}/{pages}", callback_data=f"tp:{page}"),
            InlineKeyboardButton("▶", callback_data=f"tp:{(page + 1) % pages}"),
        ])
    return InlineKeyboardMarkup(rows)


def parse_callback(data: str | None) -> Feedback | StoryVerdict | SubscribeToggle | TopicsPage | MuteStep | None:
    """The action a button press asks for, or None for data this bot did not make."""
    kind, _, rest = (data or "").partition(":")
    parts = rest.split(":")
    if kind == "fb" and len(parts) == 2 and parts[0].isdigit() and parts[1] in CHOICES:
        return Feedback(int(parts[0]), parts[1])
    if kind == "pj" and len(parts) == 2 and parts[0].isdigit() and parts[1] in VERDICTS:
        return StoryVerdict(int(parts[0]), VERDICTS[parts[1]])
    if kind == "ts":
        page, _, tail = rest.partition(":")
        flag, _, topic = tail.partition(":")
        if page.isdigit() and flag in ("0", "1") and topic:
            return SubscribeToggle(topic, flag == "1", int(page))
    if kind == "sub":
        topic, _, flag = rest.rpartition(":")
        if topic and flag in ("0", "1"):
            return SubscribeToggle(topic, flag == "1")
    if kind == "tp" and rest.isdigit():
        return TopicsPage(int(rest))
    return _mute_step(kind, parts)


def _mute_step(kind: str, parts: list[str]) -> MuteStep | None:
    if not parts or not parts[0].isdigit():
        return None
    row, topic_ok = int(parts[0]), len(parts) > 1 and (parts[1] == "a" or parts[1].isdigit())
    if kind == "mc" and len(parts) == 1:
        return MuteStep("cancel", row)
    if kind in ("mm", "mu") and len(parts) == 2 and topic_ok:
        return MuteStep("ask" if kind == "mm" else "undo", row, parts[1])
    if kind == "md" and len(parts) == 3 and topic_ok and parts[2] in SPANS:
        return MuteStep("do", row, parts[1], parts[2])
    return None
