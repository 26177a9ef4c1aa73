"""Composing alerts, planning outbox rows (tables), and the console and JSONL sinks."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

import pytest

from bot.alerts.compose import also_line, compose_alert, format_console, summarize
from bot.alerts.outbox import DeliveryError, Route, StoryView, drain, plan_deliveries
from bot.alerts.sinks import ConsoleSink, JsonlSink
from bot.models import Item, Match
from bot.store.db import FeedState, ProcessedItem, Store

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
ITEM = Item(key="url:https://x.org/1", title="Drone strike near al-Qaim", summary="A drone strike hit a car.",
            url="https://x.org/1", source="Euphrates Wire", published=NOW)
ANBAR, DRONES = Match("anbar", 1.0, ("qaim",)), Match("drone-strikes", 1.0, ('"drone strike"',))


@pytest.mark.parametrize(
    ("text", "title", "expected"),
    [
        ("Short text.", "", "Short text."),
        ("Drone strike near al-Qaim. Three killed.", "Drone strike near al-Qaim", "Three killed."),
        ("First sentence is long enough to count as one. Second one is here. " + "Third " * 60, "",
         "First sentence is long enough to count as one. Second one is here."),
        ("Gen. Smith said U.S. forces struck a depot near the border overnight, officials said. " + "More " * 60, "",
         "Gen. Smith said U.S. forces struck a depot near the border overnight, officials said."),
        ("word " * 100, "", ("word " * 59).strip() + "…"),
        ("  spaced \n\n out  ", "", "spaced out"),
    ],
)
def test_summarize(text, title, expected):
    out = summarize(text, title)
    assert out == expected and len(out) <= 300


@pytest.mark.parametrize(
    ("sources", "expected"),
    [(("B",), "also: B"), (("B", "C", "D", "E", "F", "G", "H"), "also: B, C, D, E, F and 2 more")],
)
def test_also_line(sources, expected):
    assert also_line(sources) == expected


CONSOLE, JSONL = Route("console"), Route("jsonl")
CHAT_ANBAR = Route("tg:1", frozenset({"anbar"}), 1)
CHAT_DRONES = Route("tg:2", frozenset({"drone-strikes"}), 2)
CHAT_OFFLINE = Route(None, frozenset({"anbar"}), 3)  # a configured chat without Telegram


@pytest.mark.parametrize(
    ("found", "story", "routes", "quiet", "expected"),
    [
        # a new story that matched: every interested target gets an alert
        ([ANBAR], StoryView(), [CONSOLE, CHAT_ANBAR, CHAT_DRONES], False, [("console", "alert"), ("tg:1", "alert")]),
        # nothing matched: nobody
        ([], StoryView(), [CONSOLE, CHAT_ANBAR], False, []),
        # backfill: stored, not alerted
        ([ANBAR], StoryView(), [CONSOLE], True, []),
        # another outlet joins an alerted story: update, not a second alert
        ([ANBAR], StoryView(frozenset({"console", "tg:1"}), ("Levant Monitor",)), [CONSOLE, CHAT_ANBAR], False,
         [("console", "update"), ("tg:1", "update")]),
        # the same outlet again (a correction): no edit
        ([ANBAR], StoryView(frozenset({"console"}), ("Euphrates Wire",)), [CONSOLE], False, []),
        # the story now matches a topic a chat wants and it had not been told: it gets the alert
        ([ANBAR, DRONES], StoryView(frozenset({"tg:1"}), ("Levant Monitor",)), [CHAT_ANBAR, CHAT_DRONES], False,
         [("tg:1", "update"), ("tg:2", "alert")]),
        # a joining item that itself matched nothing still updates those already alerted
        ([], StoryView(frozenset({"console"}), ("Levant Monitor",)), [CONSOLE, CHAT_ANBAR], False, [("console", "update")]),
        # a chat with no Telegram is named in the alert but gets no row
        ([ANBAR], StoryView(), [JSONL, CHAT_OFFLINE], False, [("jsonl", "alert")]),
    ],
)
def test_plan_deliveries(found, story, routes, quiet, expected):
    rows = plan_deliveries(ITEM, found, "s-1", story, routes, quiet=quiet)
    assert [(r.target, r.kind) for r in rows] == expected


def test_planned_alert_names_chats_topics_and_why():
    row = plan_deliveries(ITEM, [ANBAR], "s-1", StoryView(), [JSONL, CHAT_OFFLINE])[0]
    assert row.payload["chats"] == [3] and row.payload["topics"] == ["anbar"]
    assert row.payload["why"] == {"anbar": ["qaim"]}


def test_update_lists_other_sources():
    story = StoryView(frozenset({"console"}), ("Levant Monitor", "Baghdad Ledger"))
    row = plan_deliveries(ITEM, [], "s-1", story, [CONSOLE])[0]
    assert row.payload["also"] == ["Baghdad Ledger", "Euphrates Wire"]


def test_a_late_fold_edit_lists_the_folded_story_outlets_even_from_a_known_outlet():
    story = StoryView(frozenset({"console"}), ("Levant Monitor", "Euphrates Wire"),
                      links=(("Levant Monitor", "https://lm.example/1"), ("Euphrates Wire", "https://x.org/0")))
    assert plan_deliveries(ITEM, [], "s-1", story, [CONSOLE]) == []  # a repeat outlet: no edit
    folded = StoryView(frozenset({"console"}), ("Baghdad Ledger",), links=(("Baghdad Ledger", "https://bl.example/1"),))
    [row] = plan_deliveries(ITEM, [], "s-1", story, [CONSOLE], folded=folded)  # but the fold brings one
    assert row.kind == "update" and row.payload["also"] == ["Euphrates Wire", "Baghdad Ledger"]
    assert row.payload["also_links"] == {"Euphrates Wire": "https://x.org/0", "Baghdad Ledger": "https://bl.example/1"}


def test_console_format():
    text = format_console(compose_alert(ITEM, [ANBAR, DRONES], "s-1"))
    assert text.splitlines() == [
        "[anbar · drone-strikes]", "Drone strike near al-Qaim", "A drone strike hit a car.",
        "Euphrates Wire · 2026-11-21 12:00 UTC · story s-1", "https://x.org/1",
    ]


@pytest.fixture
def store(tmp_path):
    s = Store.open(f"sqlite:///{tmp_path / 'ww.db'}")
    s.sync_config_feeds([("https://x.org/rss", "X", None)], NOW)
    from bot.models import StoryAction, StoryDecision

    deliveries = tuple(plan_deliveries(ITEM, [ANBAR], "s-1", StoryView(), [CONSOLE, JSONL]))
    p = ProcessedItem(ITEM, (ANBAR,), StoryDecision("s-1", StoryAction.NEW), deliveries)
    s.save_update(s.feeds()[0].id, FeedState(checked_at=NOW, next_check_at=NOW, status="new"), [p])
    yield s
    s.close()


async def test_drain_delivers_to_console_and_jsonl_once(store, tmp_path):
    out, path = io.StringIO(), tmp_path / "alerts.jsonl"
    sinks = {"console": ConsoleSink(out), "jsonl": JsonlSink(path)}
    assert await drain(store, sinks, lambda: NOW) == 2
    assert await drain(store, sinks, lambda: NOW) == 0
    assert "Drone strike near al-Qaim" in out.getvalue()
    line = json.loads(path.read_text(encoding="utf-8"))
    assert (line["type"], line["story"], line["source"]) == ("alert", "s-1", "Euphrates Wire")


class FlakySink:
    def __init__(self, error: DeliveryError):
        self.error, self.calls = error, 0

    async def send(self, alert, row):
        self.calls += 1
        if self.calls == 1:
            raise self.error
        return "m1"


async def test_failed_delivery_is_retried_later_not_lost(store):
    sink = FlakySink(DeliveryError("busy", retry_after=30))
    assert await drain(store, {"console": sink}, lambda: NOW) == 0
    assert await drain(store, {"console": sink}, lambda: NOW) == 0  # not due yet
    later = NOW.replace(minute=1)
    assert await drain(store, {"console": sink}, lambda: later) == 1
    assert store.pending(["console"], later) == []


async def test_unwritable_jsonl_keeps_the_alert_queued(store, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert await drain(store, {"jsonl": JsonlSink(blocker / "alerts.jsonl")}, lambda: NOW) == 0
    assert len(store.pending(["jsonl"], NOW.replace(hour=13))) == 1
