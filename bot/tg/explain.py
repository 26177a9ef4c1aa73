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
from bot.textsafe import clip, fit_units, utf16_len
from bot.tg.format import MAX_TEXT, SOURCE_MAX, field

WHY_ITEMS = 5  # items explained for a digest
ENGLISH = translation("en")
STATUS_WORDS = {  # a feed's last fetch, as /feeds shows it
    "": "not fetched", "new": "new items", "unchanged": "no change", "not_modified": "no change", "error": "error",
}
WHY_MEMBERS = 30  # a story's items listed by /why (clip_html keeps the reply within the limit)


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


def _why_item(e: db.Explanation, names: Mapping[str, str], tr: Tr = ENGLISH) -> str:
    lines = [f"<b>{field(e.title, 200)}</b> ({field(e.source, SOURCE_MAX)})"]
    for topic, score, terms in e.matches:
        hits = ", ".join(terms) or tr._("(no terms recorded)")
        lines.append("• " + tr._("{topic}: score {score}; matched {terms}").format(
            topic=field(names.get(topic, topic), 100), score=f"{score:.2f}", terms=field(hits, 300)))
    if e.story_id:
        sources = ", ".join(clip(s, 60) for s in e.story_sources[:10])
        more = " " + tr._("… and {n} more").format(n=len(e.story_sources) - 10) if len(e.story_sources) > 10 else ""
        lines.append(tr.n_("Story {story}: {n} item from {sources}", "Story {story}: {n} items from {sources}",
                           e.story_items).format(story=f"<code>{escape(e.story_id)}</code>", n=e.story_items,
                                                 sources=field(sources, 700) + more))
        if len(e.members) > 1:  # every report folded into the story, so a wrong fold shows
            lines += [f"  – {field(title, 150)} ({field(source, 60)})" for title, source in e.members[:WHY_MEMBERS]]
            if len(e.members) > WHY_MEMBERS:
                lines.append("  " + tr._("… and {n} more").format(n=len(e.members) - WHY_MEMBERS))
    return "\n".join(lines)


def test_text(found: Iterable[Match], names: Mapping[str, str], here: frozenset[str] | None,
              tr: Tr = ENGLISH) -> str:
    """Which topics a text matches, and whether this chat gets them."""
    lines = []
    for m in found:
        note = "" if here is None or m.topic in here else " " + tr._("(not subscribed here)")
        line = tr._("{topic}: score {score}; matched {terms}").format(
            topic=f"<b>{field(names.get(m.topic, m.topic), 100)}</b>", score=f"{m.score:.2f}",
            terms=field(", ".join(m.why) or "-", 300))
        lines.append(f"• {line}{note}")
    return clip_html(tr._("Would match:") + "\n" + "\n".join(lines)) if lines else tr._("No topic matches that text.")


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
        full = f" full text {f.fulltext_ok} ok, {f.fulltext_failed} failed" if f.fulltext_ok or f.fulltext_failed else ""
        rows.append(f"{f.id:>4} {clip(f.name, 22):<22} {_age(f.last_checked_at, now):>9} {status:<12} "
                    f"{f.error_count:>3} {f.items_total:>6}{full}")
        if f.error_count and f.last_error:  # why it fails, under its line
            rows.append(f"     ↳ {clip(f.last_error, 70)}")
    failing = sum(f.error_count >= failing_after for f in feeds)
    head = tr._("<b>Feeds</b>: {active} active, {failing} failing").format(active=len(feeds), failing=failing) + "\n"
    body, shown = "", 0
    for line in rows:
        if utf16_len(head) + utf16_len(body) + utf16_len(line) + 40 > MAX_TEXT:
            break
        body, shown = body + escape(line) + "\n", shown + 1
    more = len(rows) - shown
    return head + f"<pre>{body}</pre>" + ("\n" + tr._("… and {n} more").format(n=more) if more else "")


def status_text(depth: Mapping[str, int], counts: Mapping[str, int], failing: Sequence[FeedRow],
                last_cycle: float | None, tr: Tr = ENGLISH, lag: float | None = None) -> str:
    """lag: a core's (run --role core) wait of the oldest item the pollers handed over; else None."""
    _ = tr._
    cycle = f"{last_cycle:.1f}s" if last_cycle is not None else _("no cycle yet")
    names = ": " + field(", ".join(clip(f.name, 60) for f in failing[:10]), 800) if failing else ""
    lines = [
        _("<b>Status</b>"),
        _("queue: {pending} pending, {held} held").format(pending=depth.get("pending", 0), held=depth.get("held", 0)),
        _("alerts sent today: {n}").format(n=counts.get("alerts_sent", 0)),
        _("items stored: {n}").format(n=counts.get("items", 0)),
        _("feeds failing: {n}").format(n=len(failing)) + names,
        _("last cycle: {cycle}").format(cycle=cycle),
    ]
    if lag is not None:
        lines.append(_("items from the pollers: the oldest waiting {seconds}s").format(seconds=f"{lag:.0f}"))
    return "\n".join(lines)


def feed_notices(outcomes: Iterable, failing_after: int) -> list[str]:
    """Admin-chat notices for feeds that just reached `failing_after` errors, or just recovered.

    Each outcome has .feed (the FeedRow before this fetch), .status and .error.
    """
    out = []
    for o in outcomes:
        before = o.feed.error_count
        if o.status == "error" and before + 1 == failing_after:
            out.append(f"⚠️ Feed failing: <b>{field(o.feed.name, 200)}</b> ({field(o.feed.url, 600)}) — "
                       f"{failing_after} errors in a row; last: {field(o.error or 'unknown', 1000)}")
        elif o.status not in ("error", "held") and before >= failing_after:
            out.append(f"✅ Feed recovered: <b>{field(o.feed.name, 200)}</b> ({field(o.feed.url, 600)}) after {before} errors")  # held: not fetched
    return out


def clip_html(text: str) -> str:
    """Keep a reply within Telegram's limit (only used on texts whose tags close per line)."""
    if utf16_len(text) <= MAX_TEXT:
        return text
    cut = text.rfind("\n", 0, fit_units(text, MAX_TEXT - 20))
    return text[: max(cut, 0)] + "\n…"
