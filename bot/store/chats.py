"""Data access for the Telegram layer: chats and their settings, subscriptions, mutes, feedback
labels, and the outbox queries delivery needs (holding, digests, edits, migration).

Put together from one module per concern: chats, their settings and chats that left or moved
(bot.store.chat_settings), subscriptions, mutes and what they change about routing
(bot.store.subscriptions), outbox rows bound for Telegram (bot.store.tg_outbox), and feedback
labels and explanations (bot.store.feedback). Everything stays importable from here.
"""

from __future__ import annotations

from bot.store.chat_settings import (  # noqa: F401  (_chat, _ensure re-exported, as before the split)
    SETTINGS,
    ChatRow,
    _chat,
    _ensure,
    all_chats,
    deactivate_chat,
    get_chat,
    migrate_chat,
    register_chat,
    set_chat_settings,
)
from bot.store.feedback import Explanation, explain_item, save_labels
from bot.store.subscriptions import (  # noqa: F401  (_upsert_subscription re-exported)
    FOREVER,
    StoredChats,
    _upsert_subscription,
    mute,
    muted_topics,
    mutes,
    set_subscription,
    stored_chats,
    unmute,
)
from bot.store.tg_outbox import (  # noqa: F401  (_tg_row re-exported)
    TgRow,
    _tg_row,
    alert_row,
    hold,
    make_alert,
    mark_sent_many,
    outbox_row,
    queue_depth,
    rows_for_message,
    set_feedback,
    set_status,
    telegram_queue,
    telegram_sent_since,
    tg_target,
)

__all__ = [
    "FOREVER", "SETTINGS", "ChatRow", "Explanation", "StoredChats", "TgRow", "alert_row", "all_chats",
    "deactivate_chat", "explain_item", "get_chat", "hold", "make_alert", "mark_sent_many", "migrate_chat", "mute",
    "muted_topics", "mutes", "outbox_row", "queue_depth", "register_chat", "rows_for_message",
    "save_labels", "set_chat_settings", "set_feedback", "set_status", "set_subscription",
    "stored_chats", "telegram_queue", "telegram_sent_since", "tg_target", "unmute",
]
