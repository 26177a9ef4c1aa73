"""Related stories below Telegram: the pipeline stores the relation and alerts it, the sinks show
it, a fold moves the story in the store and in the clusterer, judgements survive a restart and
set the thresholds, and the migration adds what a related story needs."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text, update

from bot.alerts.compose import alert_from_json, alert_to_json, compose_alert, format_console
from bot.alerts.outbox import Route, StoryView, drain, plan_deliveries
from bot.alerts.sinks import ConsoleSink, JsonlSink
from bot.judgements import StoryJudge
from bot.models import Item, Match, StoryAction
from bot.store import judgements as jdb
from bot.store import schema
from bot.store.db import FeedState, ProcessedItem, Store
from bot.stories.cluster import StoryClusterer, default_settings
from bot.stories.learn import MIN_JUDGEMENTS

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
ANBAR = Match("anbar", 1.0, ("qaim",))
CONSOLE, JSONL = Route("console"), Route("jsonl")
STRIKE = ("w1", "Drone strike kills ISIS commander Abu Khalid al-Rawi near al-Qaim",
          "A US drone strike killed Abu Khalid al-Rawi and two aides near al-Qaim in Anbar on Tuesday.", "Euphrates Wire")
STRIKE_B = ("l1", "Abu Khalid al-Rawi, senior ISIS figure, killed in US drone strike in Anbar's al-Qaim",
            "Abu Khalid al-Rawi was killed with two aides when a US drone struck near al-Qaim on Tuesday, officials said.",
            "Baghdad Ledger")


def item(key: str, title: str, summary: str, source: str, minutes: float = 0) -> Item:
    return Item(key=f"guid:{key}", title=title, summary=summary, url=f"https://news.example/{key}", source=source,
                published=NOW + timedelta(minutes=minutes), content_hash=key, guid=key)


JOIN, RELATED = 8.0, 0.05  # a join bar above the strike pair's confidence (~5.4): they come out related


def related_clusterer() -> StoryClusterer:
    clusterer = StoryClusterer(default_settings())
    clusterer.set_thresholds(JOIN, RELATED)
    return clusterer


@pytest.fixture
def store(tmp_path):
    s = Store.open(f"sqlite:///{tmp_path / 'ww.db'}")
    s.sync_config_feeds([("https://x.org/rss", "X", None)], NOW)
    yield s
    s.close()


def ingest(store: Store, clusterer: StoryClusterer, *items: Item) -> list[ProcessedItem]:
    """What the pipeline does per item (match skipped: every item is Anbar), one feed update."""
    out, views = [], {}
    for it in items:
        decision = clusterer.assign(it)
        view = views.get(decision.story_id) or StoryView()
        related = None
        if decision.action is StoryAction.RELATED:
            found = store.story_view(decision.related)
            related = (decision.related, found.title or views[decision.related].title)
        deliveries = plan_deliveries(it, [ANBAR], decision.story_id, view, [CONSOLE, JSONL], related=related)
        views[decision.story_id] = view.adding(it, (d.target for d in deliveries if d.kind == "alert"))
        out.append(ProcessedItem(it, (ANBAR,), decision, tuple(deliveries)))
    store.save_update(store.feeds()[0].id, FeedState(checked_at=NOW, next_check_at=NOW, status="new"), out)
    return out


def test_clusterer_thresholds_give_three_decisions():
    clusterer = related_clusterer()
    first = clusterer.assign(item(*STRIKE))
    second = clusterer.assign(item(*STRIKE_B, minutes=30))
    assert (first.action, second.action, second.related) == (StoryAction.NEW, StoryAction.RELATED, first.story_id)
    assert RELATED <= second.score < JOIN and second.story_id != first.story_id
    clusterer.set_thresholds(second.score, 0.05)  # at the pair's score it joins
    third = clusterer.assign(item("x1", STRIKE_B[1] + " (update)", STRIKE_B[2], "Levant Monitor", minutes=40))
    assert third.action is StoryAction.JOIN
    with pytest.raises(ValueError, match="0 < related <= join"):
        clusterer.set_thresholds(0.1, 0.2)


def test_fold_moves_members_and_lifts_a_keep_apart():
    clusterer = related_clusterer()
    a = clusterer.assign(item(*STRIKE)).story_id
    b = clusterer.assign(item(*STRIKE_B, minutes=30)).story_id
    clusterer.fold(b, into=a)
    again = clusterer.assign(item("l9", STRIKE_B[1], STRIKE_B[2], "Levant Monitor", minutes=35))
    assert again.story_id == a  # the title identity of the folded item now leads into a
    clusterer.keep_apart("s-x", a)
    clusterer.fold("s-x", into=a)  # people changed their minds: the fold lifts the pair's keep-apart
    assert not clusterer.kept_apart("s-x", a)


async def test_related_item_alerts_on_its_own_and_the_sinks_show_it(store, tmp_path):
    first, second = ingest(store, related_clusterer(), item(*STRIKE), item(*STRIKE_B, minutes=30))
    assert [d.kind for d in second.deliveries] == ["alert", "alert"]  # its own story, alerted
    with store.engine.connect() as conn:
        row = conn.execute(select(schema.stories).where(schema.stories.c.id == second.decision.story_id)).one()
    assert (row.related, row.related_score) == (first.decision.story_id, second.decision.score)
    assert jdb.related_pair(store, second.decision.story_id) == (first.decision.story_id, second.decision.score)
    out, path = io.StringIO(), tmp_path / "alerts.jsonl"
    assert await drain(store, {"console": ConsoleSink(out), "jsonl": JsonlSink(path)}, lambda: NOW) == 4
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    assert [x["related"] for x in lines] == [None, first.decision.story_id]
    assert lines[1]["related_title"] == STRIKE[1]
    assert f"↳ may be the same story as {STRIKE[1]} (story {first.decision.story_id})" in out.getvalue()


def test_an_ordinary_alert_has_no_related_line_and_rows_queued_before_still_read():
    alert = compose_alert(item(*STRIKE), [ANBAR], "s-1")
    assert "may be the same" not in format_console(alert)
    queued_before = {k: v for k, v in alert_to_json(alert).items() if k not in ("related", "related_title", "also_links")}
    assert alert_from_json(queued_before) == alert


def test_update_links_each_other_source_to_its_own_article():
    story = StoryView(frozenset({"console"}), ("Euphrates Wire", "Baghdad Ledger"), "Strike",
                      (("Euphrates Wire", "https://a/1"), ("Baghdad Ledger", "https://b/1"), ("Baghdad Ledger", "https://b/2")))
    row = plan_deliveries(item("m1", "Strike again", "Text.", "Levant Monitor"), [ANBAR], "s-1", story, [CONSOLE])[0]
    assert row.payload["also_links"] == {"Baghdad Ledger": "https://b/1", "Levant Monitor": "https://news.example/m1"}


def test_same_folds_in_the_store_and_queues_the_earlier_alerts_edit(store):
    clusterer = related_clusterer()
    first, second = ingest(store, clusterer, item(*STRIKE), item(*STRIKE_B, minutes=30))
    judge = StoryJudge(store, clusterer, lambda: NOW)
    a, b = first.decision.story_id, second.decision.story_id
    assert judge.judge(b, "same", chat_id=5, user_id=6).status == "folded"
    view = store.story_view(a)
    assert [m.source for m in view.members] == ["Euphrates Wire", "Baghdad Ledger"]
    assert view.sources == ("Euphrates Wire", "Baghdad Ledger")
    updates = [r for r in store.pending(["console", "jsonl"], NOW) if r.kind == "update"]
    assert [(r.target, r.story_id, r.payload["also_links"]) for r in updates] == [
        ("console", a, {"Baghdad Ledger": "https://news.example/l1"}), ("jsonl", a, {"Baghdad Ledger": "https://news.example/l1"})]
    assert judge.judge(b, "different", chat_id=5, user_id=7).status == "already folded"
    assert [(j.verdict, j.user_id) for j in jdb.judgements(store)] == [("same", 6), ("different", 7)]
    assert judge.judge("s-unknown", "same", chat_id=5, user_id=6).status == "unknown"


def test_judgements_survive_a_restart_and_set_the_thresholds(store):
    clusterer = related_clusterer()
    first, second = ingest(store, clusterer, item(*STRIKE), item(*STRIKE_B, minutes=30))
    judge = StoryJudge(store, clusterer, lambda: NOW)
    a, b = first.decision.story_id, second.decision.story_id
    assert judge.judge(b, "different", chat_id=5, user_id=6).status == "kept apart"
    assert clusterer.kept_apart(a, b) and clusterer.thresholds() == (JOIN, RELATED)  # one answer: nothing moves
    lowest = round(second.decision.score + 0.02, 4)
    for n in range(MIN_JUDGEMENTS - 1):  # more "same" answers, at other pairs' scores above this one's
        jdb.save_judgement(store, jdb.Judgement(f"s-{n}", f"s-o{n}", lowest + n / 100, "same"), NOW)
    restarted = related_clusterer()
    StoryJudge(store, restarted, lambda: NOW).restore()
    assert restarted.kept_apart(a, b)
    join, related = restarted.thresholds()
    assert join == lowest > second.decision.score  # the lowest "same", above the "different" pair
    assert related == pytest.approx(0.05 * 1.5)  # towards the "different" pair, by at most half


def test_each_answer_sets_the_thresholds_at_once(store):
    clusterer = related_clusterer()
    first, second = ingest(store, clusterer, item(*STRIKE), item(*STRIKE_B, minutes=30))
    judge = StoryJudge(store, clusterer, lambda: NOW)
    for n in range(MIN_JUDGEMENTS - 1):
        jdb.save_judgement(store, jdb.Judgement(f"s-{n}", f"s-o{n}", 0.6, "different"), NOW)
    assert clusterer.thresholds() == (JOIN, RELATED)
    judge.judge(second.decision.story_id, "different", chat_id=5, user_id=6)  # the fifth answer
    assert clusterer.thresholds() == (JOIN, pytest.approx(0.075))  # related up towards them, by at most half


def test_migration_adds_related_columns_and_the_judgements_table(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    Store.open(url).close()
    old = Store.open(url)
    with old.engine.begin() as conn:  # back to schema version 2: before related stories
        conn.execute(text("DROP TABLE story_judgements"))
        conn.execute(text("ALTER TABLE stories DROP COLUMN related"))
        conn.execute(text("ALTER TABLE stories DROP COLUMN related_score"))
        conn.execute(update(schema.meta).values(value="2"))
    old.close()
    s = Store.open(url)
    with s.engine.connect() as conn:
        assert schema.current_version(conn) == schema.SCHEMA_VERSION
        assert conn.execute(select(schema.stories.c.related, schema.stories.c.related_score)).all() == []
        assert conn.execute(select(schema.story_judgements)).all() == []
    s.close()


# ---- Telegram text and buttons (pure) --------------------------------------------------------------

def test_edited_alert_links_each_source_escaped_and_the_related_lines():
    from bot.tg.format import format_alert

    alert = compose_alert(item(*STRIKE), [ANBAR], "s-1", related=("s-0", "Earlier <b>strike</b> & more"))
    links = {"Ledger <x>": 'https://l.example/a?b=1&c="2"', "Monitor": "javascript:alert(1)"}
    text = format_alert(alert, names={}, zone="UTC", also=["Ledger <x>", "Monitor", "Plain"], links=links)
    assert text.endswith('<i>also: <a href="https://l.example/a?b=1&amp;c=&quot;2&quot;">Ledger &lt;x&gt;</a>, Monitor, Plain</i>')
    assert "may be the same" not in text  # not sent as a reply here: a normal alert
    opened = format_alert(alert, names={}, zone="UTC", related="open")
    assert opened.endswith("↳ <i>may be the same story as</i> Earlier &lt;b&gt;strike&lt;/b&gt; &amp; more")
    assert format_alert(alert, names={}, zone="UTC", related="folded").endswith(
        "↳ <i>same story, folded into:</i> Earlier &lt;b&gt;strike&lt;/b&gt; &amp; more")


@pytest.mark.parametrize("char", ["a", "ب", "😀", "𠜎"])  # one UTF-16 unit, and two (astral)
def test_alert_stays_under_telegrams_limit_in_utf16_units(char):
    from bot.tg.format import MAX_TEXT, format_alert, utf16_len
    from tests.botapi import html_to_text

    long = char * 4000  # no spaces: every clip keeps its full length
    alert = replace(compose_alert(Item(key="k", title=long, summary="", url="https://x.example/" + "p" * 2000,
                                       source=long, published=NOW), [Match(long, 1.0)], "s-1", related=("s-0", long)),
                    summary=long)  # a full-length summary, as a payload may carry
    also = [f"{long[:150]} {n}" for n in range(9)]
    text = format_alert(alert, names={}, zone="UTC", also=also, links={s: "https://x.example/" + "q" * 2000 for s in also},
                        related="open")
    assert utf16_len(html_to_text(text)) < MAX_TEXT


def test_story_buttons_and_their_callbacks():
    from bot.tg.keyboards import StoryVerdict, alert_keyboard, parse_callback

    def labels(markup):
        return [[b.text for b in row] for row in markup.inline_keyboard]

    assert labels(alert_keyboard(5)) == [["👍", "👎", "🔕"]]
    opened = alert_keyboard(2**40, "+", story="open")
    assert labels(opened) == [["👍 ✓", "👎", "🔕"], ["Same story", "Different story"]]
    assert all(len(b.callback_data.encode()) <= 64 for row in opened.inline_keyboard for b in row)
    assert [parse_callback(b.callback_data) for b in opened.inline_keyboard[1]] == [
        StoryVerdict(2**40, "same"), StoryVerdict(2**40, "different")]
    assert labels(alert_keyboard(5, story="different"))[1] == ["Different story ✓"]
    assert parse_callback("pj:5:x") is None and parse_callback("pj:x:s") is None


def test_one_person_pressing_again_is_one_answer_for_the_thresholds(store):
    """Eight presses of "Same story" by one user on one pair are stored, but count once: one
    person cannot move the deployment's thresholds alone."""
    clusterer = related_clusterer()
    _, second = ingest(store, clusterer, item(*STRIKE), item(*STRIKE_B, minutes=30))
    judge = StoryJudge(store, clusterer, lambda: NOW)
    for _ in range(8):
        judge.judge(second.decision.story_id, "same", chat_id=5, user_id=6)
    assert len(jdb.judgements(store)) == 8 and clusterer.thresholds() == (JOIN, RELATED)
    for user in range(7, 7 + MIN_JUDGEMENTS):  # other people answering: each counts
        judge.judge(second.decision.story_id, "same", chat_id=5, user_id=user)
    assert clusterer.thresholds() != (JOIN, RELATED)
