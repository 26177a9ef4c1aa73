"""The story window saved at a clean stop: taken back only when current, and then it decides
exactly as the live window would have; anything else rebuilds it from the store."""

from __future__ import annotations

import gc
import json
import logging
import os
import pickle
import zlib
from dataclasses import replace

import pytest

from bot.items_jsonl import read_items
from bot.stories import snapfile, snapshot
from bot.stories.cluster import StoryClusterer, default_settings
from bot.stories.snapshot import Marker
from tests import test_story_paths as paths

MARK = Marker(last_item=39, judgements=0)


def items():
    return [r.item for r in read_items(paths.REGIONAL)]


def decisions(clusterer: StoryClusterer, stream) -> list[tuple]:
    return [(d.story_id, d.action, round(d.score, 9), d.related) for d in map(clusterer.assign, stream)]


def test_a_saved_window_decides_exactly_as_the_live_one(tmp_path):
    stream, file = items(), tmp_path / snapshot.FILE_NAME
    live = StoryClusterer(default_settings())
    decisions(live, stream[:25])
    live.save_window(file, MARK)
    restored = StoryClusterer(default_settings())
    assert restored.load_window(file, MARK) == ""
    assert len(restored) == len(live)
    later = decisions(restored, stream[25:])
    assert later == decisions(live, stream[25:])
    assert any(action.value == "join" for _, action, _, _ in later)  # the comparison means something


def test_a_window_read_back_is_frozen_before_any_collection_scans_it(tmp_path, monkeypatch):
    """Reading a window makes millions of objects at 100k items: a collection before they are
    frozen scans them all (0.4 s of a 1.2 s start), so none may run in between."""
    file, live = tmp_path / snapshot.FILE_NAME, StoryClusterer(default_settings())
    decisions(live, items()[:25])
    live.save_window(file, MARK)
    passes, read, seen = [], [], []
    payload, freeze, restored = snapfile.payload, gc.freeze, StoryClusterer(default_settings())
    monkeypatch.setattr(snapfile, "payload", lambda *a: (read.append(len(passes)), payload(*a))[1])
    monkeypatch.setattr(gc, "freeze", lambda: (seen.append((gc.isenabled(), len(passes))), freeze()))
    threshold = gc.get_threshold()
    gc.set_threshold(1)  # any allocation with the collector on starts a pass
    gc.callbacks.append(on_pass := lambda phase, info: passes.append(phase))
    try:
        assert restored.load_window(file, MARK) == ""
    finally:
        gc.callbacks.remove(on_pass)
        gc.set_threshold(*threshold)
    assert seen == [(False, read[0])] and gc.isenabled()  # no pass from reading to freezing


@pytest.mark.parametrize(("change", "why"), [
    ("marker", "the database changed since it was written"),
    ("settings", "written by other code or settings"),
    ("truncate", "damaged"),
    ("magic", "not a story window snapshot"),
    ("missing", "no snapshot"),
])
def test_a_snapshot_that_is_not_current_is_refused_with_the_reason(tmp_path, change, why):
    file, settings = tmp_path / snapshot.FILE_NAME, default_settings()
    live = StoryClusterer(settings)
    decisions(live, items()[:10])
    live.save_window(file, MARK)
    marker = MARK
    if change == "marker":
        marker = replace(MARK, last_item=40)  # an item stored after the snapshot (a crash, another writer)
    elif change == "settings":
        settings = default_settings(max_terms=settings.max_terms + 1)
    elif change == "truncate":
        file.write_bytes(file.read_bytes()[:-100])
    elif change == "magic":
        file.write_bytes(b"x" + file.read_bytes())
    elif change == "missing":
        file.unlink()
    fresh = StoryClusterer(settings)
    assert fresh.load_window(file, marker).startswith(why)
    assert len(fresh) == 0


def test_every_member_slot_is_saved():
    live = StoryClusterer(default_settings())
    decisions(live, items()[:3])
    member = next(iter(live._window.identity.values()))
    state = member.__getstate__()
    assert len(state) == len(type(member).__slots__)
    copy = pickle.loads(pickle.dumps(member))
    assert all(getattr(copy, s) == getattr(member, s) for s in type(member).__slots__ if s != "story")


def test_a_failed_save_leaves_the_old_file_and_no_partial_one(tmp_path, monkeypatch):
    file = tmp_path / snapshot.FILE_NAME
    live = StoryClusterer(default_settings())
    decisions(live, items()[:10])
    live.save_window(file, MARK)
    before = file.read_bytes()

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(snapfile.pickle, "dump", full_disk)
    with pytest.raises(OSError):
        live.save_window(file, replace(MARK, last_item=50))
    assert file.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == [snapshot.FILE_NAME]


def with_payload(file, magic: bytes, payload: bytes, **head) -> None:
    """The file with its header kept (and its checksum made to match) but another payload: what
    only a bug, or a hand, writes."""
    old, start = snapfile.header(file.read_bytes(), magic)
    old |= head | {"crc32": f"{zlib.crc32(payload):08x}"}
    file.write_bytes(magic + json.dumps(old).encode() + b"\n" + payload)


def test_learned_thresholds_do_not_invalidate_the_window(tmp_path):
    file = tmp_path / snapshot.FILE_NAME
    live = StoryClusterer(default_settings())
    decisions(live, items()[:10])
    live.save_window(file, MARK)
    learned = StoryClusterer(default_settings())
    learned.set_thresholds(0.9, 0.6)  # judgements moved them: the window's content is the same
    assert learned.load_window(file, MARK) == ""


def test_a_snapshot_never_runs_code(tmp_path):
    file, settings = tmp_path / snapshot.FILE_NAME, default_settings()
    StoryClusterer(settings).save_window(file, MARK)
    with_payload(file, snapshot.MAGIC, pickle.dumps(os.system))  # a global outside the window's classes
    why = StoryClusterer(settings).load_window(file, MARK)
    assert why.startswith("damaged") and "posix.system is not part of a story window" in why


async def test_a_restart_takes_the_saved_window_and_the_rebuild_agrees(feed_server, tmp_path, caplog):
    """Through the app: the restart in the middle of the regional stream reads the window saved at
    the stop (no rebuild), and with the file removed it is rebuilt; both give replay's stories."""
    sources = sorted({r.item.source for r in paths.records()})
    (tmp_path / "a").mkdir()
    cfg = paths.config(feed_server, tmp_path / "a", sources)
    replayed = paths.by_replay(cfg)
    with caplog.at_level(logging.INFO, logger="bot.app"):
        assert await paths.by_pipeline(feed_server, cfg, restart_after=3) == replayed
    rebuilt = [r.message for r in caplog.records if "story window rebuilt" in r.message]
    assert rebuilt == ["story window rebuilt from the database (saved window: no snapshot)"]  # the first start only
    assert (tmp_path / "a" / "data" / snapshot.FILE_NAME).exists()

    (tmp_path / "b").mkdir()
    cfg_b = paths.config(feed_server, tmp_path / "b", sources)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="bot.app"):
        assert await paths.by_pipeline(feed_server, cfg_b, restart_after=3, keep_window=False) == replayed
    assert sum("story window rebuilt" in r.message for r in caplog.records) == 2



async def test_a_window_that_cannot_be_read_or_saved_is_rebuilt_and_the_run_goes_on(feed_server, tmp_path, caplog):
    from tests.test_run import WIRE, alerts, config, once

    feed_server.set("/wire.xml", WIRE)
    path = config(feed_server, tmp_path, {"/wire.xml": "Euphrates Wire"})
    (tmp_path / "data" / snapshot.FILE_NAME).mkdir(parents=True)  # in the way of both
    with caplog.at_level(logging.INFO, logger="bot.app"):
        await once(path)
    messages = [r.getMessage() for r in caplog.records]
    assert any("story window rebuilt" in m and "unreadable" in m for m in messages)
    assert any(r.levelno == logging.WARNING and "story window not saved" in r.getMessage() for r in caplog.records)
    assert any(a["type"] == "alert" for a in alerts(tmp_path))
    assert not list((tmp_path / "data").glob("*.tmp"))


def window_state(clusterer: StoryClusterer) -> dict:
    """Everything a window decides from, by item keys (comparable across processes)."""
    w = clusterer._window
    live = sorted(w._heap)
    return {
        "members": [(m.seq, m.key, m.time, m.story.id, m.terms, m.weights.tobytes(), m.named, m.plain,
                     m.leads, m.heads, m.sketch, m.actions, m.years, m.days) for m in live],
        "tables": (w.df, w.name_df, w.plain_df, w.newest, w._seq, w._identity_floor),
        "postings": {t: [m.key for m in ms] for t, ms in w.postings.items()},
        "identity": {h: m.key for h, m in w.identity.items() if m.alive},
        "stories": {sid: (sorted(m.key for m in st.held()), st.centroid, st.norm2, st.size, st.last,
                          st.leads, st.actions, st.years, st.days, st.born) for sid, st in w.stories.items()},
    }


def journalled(tmp_path, monkeypatch, share: float = 100.0):
    """A live clusterer saved whole after 20 items, then (a fold, 10 more items) as a journal."""
    monkeypatch.setattr(snapshot, "JOURNAL_SHARE", share)
    stream, file = items(), tmp_path / snapshot.FILE_NAME
    live = StoryClusterer(default_settings(window=6 * 3600.0))  # items expire as the stream goes
    first = decisions(live, stream[:20])
    live.save_window(file, MARK)
    whole = file.read_bytes()
    a, b = list(dict.fromkeys(sid for sid, *_ in first))[-2:]  # two recent stories, still held
    live.fold(b, a)  # people said "same story": a move
    assert live._window.changes[-1] == ("move", b, a) and b not in live._window.stories
    decisions(live, stream[20:30])
    live.save_window(file, replace(MARK, last_item=60))
    return live, file, whole, stream


def test_a_small_change_is_saved_as_a_journal_and_taken_back_exactly(tmp_path, monkeypatch):
    live, file, whole, stream = journalled(tmp_path, monkeypatch)
    assert file.read_bytes() == whole and snapshot.journal_path(file).exists()  # the whole file untouched
    kinds = {c[0] for c in live._window.changes}
    assert kinds == {"hold", "move", "expire"}  # every kind of change is in the comparison
    restored = StoryClusterer(default_settings(window=6 * 3600.0))
    assert restored.load_window(file, replace(MARK, last_item=60)) == ""
    assert window_state(restored) == window_state(live)
    assert decisions(restored, stream[30:]) == decisions(live, stream[30:])
    # and it goes on from there: the next save adds to the same journal, over the same whole file
    restored.save_window(file, replace(MARK, last_item=70))
    again = StoryClusterer(default_settings(window=6 * 3600.0))
    assert again.load_window(file, replace(MARK, last_item=70)) == ""
    assert window_state(again) == window_state(live) and file.read_bytes() == whole


def test_past_its_share_the_window_is_saved_whole_again(tmp_path, monkeypatch):
    live, file, whole, _ = journalled(tmp_path, monkeypatch, share=0.05)
    assert file.read_bytes() != whole and not snapshot.journal_path(file).exists()
    restored = StoryClusterer(default_settings(window=6 * 3600.0))
    assert restored.load_window(file, replace(MARK, last_item=60)) == ""
    assert window_state(restored) == window_state(live)


@pytest.mark.parametrize(("change", "why"), [
    ("marker", "the database changed since it was written"),  # items stored after the journal
    ("stale", "the database changed since it was written"),  # a journal of an older whole window
    ("damaged", "damaged journal"),
])
def test_a_journal_that_is_not_current_is_refused_with_the_reason(tmp_path, monkeypatch, change, why):
    live, file, _, _ = journalled(tmp_path, monkeypatch)
    journal, marker = snapshot.journal_path(file), replace(MARK, last_item=60)
    if change == "marker":
        marker = replace(MARK, last_item=61)
    elif change == "stale":
        old = journal.read_bytes()
        StoryClusterer(default_settings(window=6 * 3600.0)).save_window(file, replace(MARK, last_item=5))
        journal.write_bytes(old)
    elif change == "damaged":
        journal.write_bytes(journal.read_bytes()[:-40])
    fresh, frozen = StoryClusterer(default_settings(window=6 * 3600.0)), gc.get_freeze_count()
    got = fresh.load_window(file, marker)
    assert got.startswith(why) and len(fresh) == 0
    assert gc.get_freeze_count() == frozen  # the window it gave up on is not kept frozen
    if change == "damaged":
        assert journal.name in got  # which file


def test_a_long_run_stops_recording_and_saves_whole(tmp_path, monkeypatch):
    """A `run` of days would record every item: past its cap the window stops, and writes whole."""
    monkeypatch.setattr(snapshot, "JOURNAL_SHARE", 100.0)
    stream, file = items(), tmp_path / snapshot.FILE_NAME
    live = StoryClusterer(default_settings())
    decisions(live, stream[:5])
    live.save_window(file, MARK)
    live._window.changes_cap = 3
    decisions(live, stream[5:15])
    assert live._window.changes is None
    live.save_window(file, replace(MARK, last_item=60))
    assert not snapshot.journal_path(file).exists() and live._window.changes == []
    restored = StoryClusterer(default_settings())
    assert restored.load_window(file, replace(MARK, last_item=60)) == ""
    assert window_state(restored) == window_state(live)

