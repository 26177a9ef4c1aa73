"""Texts the bot answers with: /why, /test, /feeds, /status, and feed health notices. Mostly pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from html import escape

from bot.i18n import Tr, translation
from bot.models import Match
from bot.store import chats as db
from bot.store.chats import TgRow
from bot.store.db import FeedRow, Store
from bot.tg.format import MAX_TEXT, clip

WHY_ITEMS = 5  # items explained for a digest
ENGLISH = translation("en")
STATUS_WORDS = {  # a feed's last fetch, as /feeds shows it
    "": "not fetched", "new": "new items", "unchanged": "no change", "not_modified": "no change", "error": "error",
}


def why_text(store: Store, rows: Sequence[TgRow], names: Mapping[str, str], tr: Tr = ENGLISH) -> str:
    """Which rules and terms matched each item of the message, with scores, and its story."""
    parts = []
    items = list(dict.fromkeys(r.item_id for r in rows))
    for item_id in items[:WHY_ITEMS]:
        found = db.explain_item(store, item_id)
        if found is not None:
            parts.append(_why_item(found, names, tr))
    if len(items) > WHY_ITEMS:
        parts.append(tr._("… and {n} more").format(n=len(items) - WHY_ITEMS))
    return clip_html("\n\n".join(parts) or tr._("No record of why this was sent (the item was pruned)."))


def _why_item(e: db.Explanation, names: Mapping[str, str], tr: Tr) -> str:
    lines = [f"<b>{escape(clip(e.title, 200))}</b> ({escape(e.source)})"]
    for topic, score, terms in e.matches:
        hits = ", ".join(terms) or tr._("(no terms recorded)")
        lines.append("• " + tr._("{topic}: score {score}; matched {terms}").format(
            topic=escape(names.get(topic, topic)), score=f"{score:.2f}", terms=escape(hits)))
    if e.story_id:
        lines.append(tr.n_("Story {story}: {n} item from {sources}", "Story {story}: {n} items from {sources}",
                           e.story_items).format(story=f"<code>{escape(e.story_id)}</code>", n=e.story_items,
                                                 sources=escape(", ".join(e.story_sources))))
    return "\n".join(lines)


def test_text(found: Iterable[Match], names: Mapping[str, str], here: frozenset[str] | None,
              tr: Tr = ENGLISH) -> str:
    """Which topics a text matches, and whether this chat gets them."""
    lines = []
    for m in found:
        note = "" if here is None or m.topic in here else " " + tr._("(not subscribed here)")
        line = tr._("{topic}: score {score}; matched {terms}").format(
            topic=f"<b>{escape(names.get(m.topic, m.topic))}</b>", score=f"{m.score:.2f}", terms=escape(", ".join(m.why) or "-"))
        lines.append(f"• {line}{note}")
    return tr._("Would match:") + "\n" + "\n".join(lines) if lines else tr._("No topic matches that text.")


def _age(then: datetime | None, now: datetime) -> str:
    if then is None:
        return "never"
    seconds = max(0, int((now - then).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return f"{seconds}s ago"


def feeds_table(feeds: Sequence[FeedRow], now: datetime, failing_after: int, tr: Tr = ENGLISH) -> str:
    """The /feeds health table, failing feeds first, within one message."""
    order = sorted(feeds, key=lambda f: (f.error_count < failing_after, f.id))
    # the table's columns stay English: a monospaced block mixing directions would not line up
    rows = [f"{'id':>4} {'feed':<22} {'fetched':>9} {'status':<12} {'err':>3} {'items':>6}"]
    for f in order:
        status = STATUS_WORDS.get(f.last_status or "", f.last_status or "")[:12]
        rows.append(f"{f.id:>4} {clip(f.name, 22):<22} {_age(f.last_checked_at, now):>9} {status:<12} "
                    f"{f.error_count:>3} {f.items_total:>6}")
        if f.error_count and f.last_error:  # why it fails, under its line
            rows.append(f"     ↳ {clip(f.last_error, 70)}")
    failing = sum(f.error_count >= failing_after for f in feeds)
    head = tr._("<b>Feeds</b>: {active} active, {failing} failing").format(active=len(feeds), failing=failing) + "\n"
    body, shown = "", 0
    for line in rows:
        if len(head) + len(body) + len(line) + 40 > MAX_TEXT:
            break
        body, shown = body + escape(line) + "\n", shown + 1
    more = len(rows) - shown
    return head + f"<pre>{body}</pre>" + ("\n" + tr._("… and {n} more").format(n=more) if more else "")


def status_text(depth: Mapping[str, int], counts: Mapping[str, int], failing: Sequence[FeedRow],
                last_cycle: float | None, tr: Tr = ENGLISH) -> str:
    _ = tr._
    cycle = f"{last_cycle:.1f}s" if last_cycle is not None else _("no cycle yet")
    names = ": " + escape(", ".join(f.name for f in failing[:10])) if failing else ""
    lines = [
        _("<b>Status</b>"),
        _("queue: {pending} pending, {held} held").format(pending=depth.get("pending", 0), held=depth.get("held", 0)),
        _("alerts sent today: {n}").format(n=counts.get("alerts_sent", 0)),
        _("items stored: {n}").format(n=counts.get("items", 0)),
        _("feeds failing: {n}").format(n=len(failing)) + names,
        _("last cycle: {cycle}").format(cycle=cycle),
    ]
    return "\n".join(lines)


def feed_notices(outcomes: Iterable, failing_after: int) -> list[str]:
    """Admin-chat notices for feeds that just reached `failing_after` errors, or just recovered.

    Each outcome has .feed (the FeedRow before this fetch), .status and .error.
    """
    out = []
    for o in outcomes:
        before = o.feed.error_count
        if o.status == "error" and before + 1 == failing_after:
            out.append(f"⚠️ Feed failing: <b>{escape(o.feed.name)}</b> ({escape(o.feed.url)}) — "
                       f"{failing_after} errors in a row; last: {escape(o.error or 'unknown')}")
        elif o.status != "error" and before >= failing_after:
            out.append(f"✅ Feed recovered: <b>{escape(o.feed.name)}</b> ({escape(o.feed.url)}) after {before} errors")
    return out


def clip_html(text: str) -> str:
    """Keep a reply within Telegram's limit (only used on texts whose tags close per line)."""
    if len(text) <= MAX_TEXT:
        return text
    cut = text.rfind("\n", 0, MAX_TEXT - 20)
    return text[:cut] + "\n…"
