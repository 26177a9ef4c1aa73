"""A late fold end to end, with the default constants: real HTTP from the loopback feed server,
real SQLite, `run --once` cycles of the app, a restart, and `replay` of the same feeds.

Two outlets' first reports of one refinery fire share little but the place (one heard an
explosion, the other saw a fire and missing workers), so the second is only related: both alert.
A fuller report an hour later tells both halves: it joins the earlier story and folds the other
into it. Nothing is hidden (both early alerts went out), the fuller report is an update, and the
store, also after a restart, holds one story.

All text here is written for this test.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from bot.app import App
from bot.cli import main
from bot.fetchcmd import feed_items, item_record
from bot.runtime import load_runtime
from bot.store import schema
from bot.stories import snapshot
from tests.test_stories import BACKGROUND

T0 = datetime(2026, 11, 16, 22, 0, tzinfo=UTC)  # the explosion, late on Monday
REFINERY = 'name = "Refineries"\ndescription = "Oil refineries"\nquery = "refinery OR baiji"\n'
FEEDS = {"/wire.xml": "Euphrates Wire", "/ledger.xml": "Baghdad Ledger", "/tigris.xml": "Tigris Times",
         "/herald.xml": "Anbar Herald", "/desk.xml": "World Desk"}

# (feed, guid, title, summary, minutes after T0)
EVENT = [
    ("/wire.xml", "w1", "Explosion rocks Baiji refinery",
     "A large explosion was heard at the Baiji oil refinery in Salahuddin late on Monday, residents said.", 0),
    ("/ledger.xml", "l1", "Workers missing as fire engulfs Baiji plant",
     "Several workers are unaccounted for after fire engulfed a unit of the Baiji plant in Salahuddin, "
     "a local official said.", 25),
    ("/tigris.xml", "t1", "Explosion rocks Baiji refinery; workers missing as fire engulfs plant",
     "A large explosion rocked the Baiji oil refinery in Salahuddin late on Monday, setting off a fire that "
     "engulfed a unit of the plant. Several workers are unaccounted for, officials said, and residents said "
     "the explosion was heard across the town.", 90),
    ("/ledger.xml", "l2", "Baiji refinery fire put out; six workers still missing",
     "Civil defence teams put out the fire at the Baiji oil refinery in Salahuddin on Tuesday morning after "
     "the explosion late on Monday; six workers are still missing, officials said.", 600),
    ("/herald.xml", "h1", "Six workers missing after Baiji refinery explosion and fire",
     "Six workers were still missing on Tuesday after an explosion and fire at the Baiji oil refinery in "
     "Salahuddin late on Monday, the provincial council said.", 605),
]
# the other news of the day: background the window holds, which matches no topic
DESK = [("/desk.xml", f"d{i}", t, s, -600 + 30 * i) for i, (t, s) in enumerate(BACKGROUND)]
CYCLES = [40, 100, 610]  # minutes after T0: the early reports, the fuller one, the next morning's
RESTART_AFTER = 1  # the app stops and starts again after the fold, before the next morning's report


def rss(name: str, rows, now: datetime) -> str:
    entries = "".join(
        f"<item><guid isPermaLink='false'>{guid}</guid><title>{escape(title)}</title>"
        f"<link>https://news.example/{guid}</link><description>{escape(summary)}</description>"
        f"<pubDate>{format_datetime(T0 + timedelta(minutes=m))}</pubDate></item>"
        for _, guid, title, summary, m in sorted(rows, key=lambda r: -r[4])  # newest first, as feeds are
        if T0 + timedelta(minutes=m) <= now)
    return f"<?xml version='1.0'?><rss version='2.0'><channel><title>{name}</title>{entries}</channel></rss>"


def serve(server, now: datetime) -> None:
    for path, name in FEEDS.items():
        server.set(path, rss(name, [r for r in DESK + EVENT if r[0] == path], now))


def config(server, tmp_path: Path) -> Path:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "refineries.toml").write_text(REFINERY, encoding="utf-8")
    feeds = "".join(f'[[feeds]]\nurl = "{server.url(p)}"\nname = "{n}"\n' for p, n in FEEDS.items())
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[bot]\ndata_dir = "data"\n[polling]\nallow_private_networks = true\ntimeout = "5s"\n'
                   f'[outputs]\nconsole = false\njsonl = "alerts.jsonl"\n{feeds}', encoding="utf-8")
    return cfg


def sent(tmp_path: Path) -> list[dict]:
    return [json.loads(line) for line in (tmp_path / "alerts.jsonl").read_text(encoding="utf-8").splitlines()]


def stored(tmp_path: Path) -> dict[str, str]:
    """guid -> story id, as the database has them."""
    engine = create_engine(f"sqlite:///{tmp_path / 'data' / 'wirewatch.db'}")
    with engine.connect() as conn:
        rows = conn.execute(select(schema.items.c.guid, schema.items.c.story_id)).all()
    engine.dispose()
    return dict(rows)


async def started(cfg: Path, now: dict[str, datetime]) -> App:
    app = App(load_runtime(cfg, telegram=False), clock=lambda: now["t"])
    await app.start()
    return app


@pytest.mark.parametrize("keep_window", [True, False], ids=["saved window", "rebuilt from the store"])
async def test_a_fuller_report_folds_two_early_stories_and_nothing_is_hidden(feed_server, tmp_path, keep_window):
    cfg = config(feed_server, tmp_path)
    now = {"t": T0}
    app = await started(cfg, now)
    try:
        for k, minutes in enumerate(CYCLES):
            now["t"] = T0 + timedelta(minutes=minutes)
            serve(feed_server, now["t"])
            await app.cycle(every_feed=True)
            if k == 0:  # the two early reports: two stories, two alerts, the second related to the first
                first = [a for a in sent(tmp_path) if a["type"] == "alert"]
                wire, ledger = first
                assert wire["source"] == "Euphrates Wire" and ledger["source"] == "Baghdad Ledger"
                assert wire["story"] != ledger["story"] and ledger["related"] == wire["story"]
            if k == 1:  # the fuller report folded them: the store holds one story
                assert set(stored(tmp_path).get(g) for g in ("w1", "l1", "t1")) == {wire["story"]}
            if k == RESTART_AFTER:
                await app.stop()
                if not keep_window:
                    (tmp_path / "data" / snapshot.FILE_NAME).unlink()
                app = await started(cfg, now)
    finally:
        await app.stop()

    lines = sent(tmp_path)
    alerts = [a for a in lines if a["type"] == "alert"]
    assert [(a["source"], a["story"]) for a in alerts] == [("Euphrates Wire", wire["story"]),
                                                         ("Baghdad Ledger", ledger["story"])]  # nothing hidden
    updates = [a for a in lines if a["type"] == "update"]
    # the fuller report edits the earlier alert; next morning the Ledger's second report is no new
    # outlet (the fold gave the story its sources), the Herald's is, and its edit lists them all
    assert [(u["source"], u["story"]) for u in updates] == [("Tigris Times", wire["story"]),
                                                          ("Anbar Herald", wire["story"])]
    assert updates[0]["also"] == ["Baghdad Ledger", "Tigris Times"]  # the folded story's outlet too
    assert set(updates[0]["also_links"]) == {"Baghdad Ledger", "Tigris Times"}
    assert set(updates[-1]["also"]) == {"Baghdad Ledger", "Tigris Times", "Anbar Herald"}
    stories = stored(tmp_path)
    assert {stories[g] for g in ("w1", "l1", "t1", "l2", "h1")} == {wire["story"]}  # one story, after the restart too
    assert len({stories[r[1]] for r in DESK}) == len(DESK)  # the day's other news stays apart


def test_replay_of_the_same_feeds_shows_the_fold(tmp_path):
    """`replay` of the five feeds' items (as `fetch` gives them) decides as the pipeline did, and
    says so: the fuller report's line lists the folded story."""
    now = T0 + timedelta(minutes=CYCLES[-1])
    items = [item for path, name in FEEDS.items()
             for item in feed_items(rss(name, [r for r in DESK + EVENT if r[0] == path], now).encode(),
                                    url=f"https://news.example{path}", where=path, source=name, now=now)]
    (tmp_path / "items.jsonl").write_text("".join(json.dumps(item_record(i)) + "\n" for i in items), encoding="utf-8")
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "refineries.toml").write_text(REFINERY, encoding="utf-8")
    (tmp_path / "config.toml").write_text('[bot]\ndata_dir = "data"\n', encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert main(["replay", "-c", str(tmp_path / "config.toml"), "--input", str(tmp_path / "items.jsonl"),
                 "--output", str(out)]) == 0
    guid = {i.key: i.guid for i in items}
    lines = {guid[x["id"]]: x for x in map(json.loads, out.read_text(encoding="utf-8").splitlines())}
    w1, l1, t1, l2, h1 = (lines[g] for g in ("w1", "l1", "t1", "l2", "h1"))
    assert [x["action"] for x in (w1, l1, t1, l2, h1)] == ["alert", "alert", "merge", "merge", "merge"]
    assert l1["related"] == w1["story"] != l1["story"]
    assert t1["story"] == w1["story"] and t1["folded"] == [l1["story"]]
    assert l2["story"] == h1["story"] == w1["story"] and l2["folded"] == h1["folded"] == []
