"""A saved window or journal damaged on disk, or holding what no save writes: refused as
"damaged" (naming the file and what is wrong), and the window rebuilt; never loaded as another
window, never a crash at the start or a failure of every later feed."""

from __future__ import annotations

import gc
import json
import pickle
from dataclasses import asdict, replace

import pytest

from bot.stories import snapfile, snapshot
from bot.stories.cluster import StoryClusterer, default_settings
from bot.stories.snapshot import Marker
from bot.stories.window import Window
from tests.test_story_snapshot import MARK, decisions, items, journalled, window_state, with_payload


def flip(file, data: bytes, sid: str) -> None:
    """One byte of the payload changed: a story id becomes another (what a bad disk does)."""
    at = data.index(sid.encode(), data.index(b"\n", data.index(b"\n") + 1))
    last = sid[-1]
    file.write_bytes(data[: at + len(sid) - 1] + (b"1" if last != "1" else b"2") + data[at + len(sid) :])


def refused_then_rebuilt(file, marker: Marker, settings, stream, name: str, words: str) -> None:
    """The load gives no window, names the file and what is wrong; a rebuilt window then saves
    and loads back as ever (whole: the journal it refused is gone)."""
    fresh, frozen = StoryClusterer(settings), gc.get_freeze_count()
    why = fresh.load_window(file, marker)
    assert why.startswith("damaged") and f"({name})" in why and words in why, why
    assert len(fresh) == 0 and gc.get_freeze_count() == frozen
    decisions(fresh, stream)  # the rebuild (from the database in `run`)
    fresh.save_window(file, replace(marker, last_item=marker.last_item + 1))
    assert not snapshot.journal_path(file).exists()
    again = StoryClusterer(settings)
    assert again.load_window(file, replace(marker, last_item=marker.last_item + 1)) == ""
    assert window_state(again) == window_state(fresh)


@pytest.mark.parametrize(("payload", "head", "words"), [
    (pickle.dumps(set()), {}, "the payload is a set, not a list of window changes"),
    (pickle.dumps({"hold": 1}), {}, "the payload is a dict"),
    (pickle.dumps([]), {}, "0 changes, the header says"),  # its header says there are some
    (pickle.dumps([("hold",)]), {"changes": 1}, "IndexError"),  # a list of one change, not one
], ids=["set", "dict", "empty list", "not a change"])
def test_a_journal_of_anything_but_its_changes_is_damaged(tmp_path, monkeypatch, payload, head, words):
    """Taken as the window's changes, a set failed every later feed (`'set' object has no attribute
    'append'`), and an empty list silently dropped what the header says happened."""
    live, file, _, stream = journalled(tmp_path, monkeypatch)
    with_payload(snapshot.journal_path(file), snapshot.JOURNAL_MAGIC, payload, **head)
    refused_then_rebuilt(file, replace(MARK, last_item=60), default_settings(window=6 * 3600.0), stream[:30],
                         snapshot.journal_path(file).name, words)


@pytest.mark.parametrize(("payload", "words"), [
    (pickle.dumps(Window.__new__(Window), protocol=5), "the window has no span"),  # crashed the start
    (pickle.dumps({"a": 1}), "the payload is a dict, not a story window"),
], ids=["empty Window", "dict"])
def test_a_snapshot_of_anything_but_a_whole_window_is_damaged(tmp_path, payload, words):
    file, settings, stream = tmp_path / snapshot.FILE_NAME, default_settings(), items()
    live = StoryClusterer(settings)
    decisions(live, stream[:10])
    live.save_window(file, MARK)
    with_payload(file, snapshot.MAGIC, payload)
    refused_then_rebuilt(file, MARK, settings, stream[:10], snapshot.FILE_NAME, words)


def test_a_window_with_a_part_of_the_wrong_type_is_damaged(tmp_path):
    file, settings, stream = tmp_path / snapshot.FILE_NAME, default_settings(), items()
    live = StoryClusterer(settings)
    decisions(live, stream[:10])
    live._window._heap = set(live._window._heap)
    snapfile.write(file, snapshot.MAGIC, {"fingerprint": snapshot.fingerprint(settings), "marker": asdict(MARK)},
                   live._window)
    refused_then_rebuilt(file, MARK, settings, stream[:10], snapshot.FILE_NAME, "the window's _heap is a set")


def test_a_flipped_byte_in_the_snapshot_fails_its_checksum(tmp_path):
    """Unchecked, the window loaded with a story under another id: its next item alerted again."""
    file, settings, stream = tmp_path / snapshot.FILE_NAME, default_settings(), items()
    live = StoryClusterer(settings)
    decisions(live, stream[:10])
    live.save_window(file, MARK)
    flip(file, file.read_bytes(), next(iter(live._window.stories)))
    refused_then_rebuilt(file, MARK, settings, stream[:10], snapshot.FILE_NAME, "checksum")


def test_a_flipped_byte_in_the_journal_fails_its_checksum(tmp_path, monkeypatch):
    live, file, _, stream = journalled(tmp_path, monkeypatch)
    journal = snapshot.journal_path(file)
    held = next(c for c in live._window.changes if c[0] == "hold")
    flip(journal, journal.read_bytes(), held[1][3])  # the story it joined
    refused_then_rebuilt(file, replace(MARK, last_item=60), default_settings(window=6 * 3600.0), stream[:30],
                         journal.name, "checksum")


def test_a_snapshot_of_an_older_format_is_not_current_and_not_damaged(tmp_path):
    file, settings = tmp_path / snapshot.FILE_NAME, default_settings()
    live = StoryClusterer(settings)
    decisions(live, items()[:10])
    live.save_window(file, MARK)
    head, start = snapfile.header(file.read_bytes(), snapshot.MAGIC)
    del head["format"], head["crc32"]  # as format 1 wrote it
    file.write_bytes(snapshot.MAGIC + json.dumps(head).encode() + b"\n" + file.read_bytes()[start:])
    why = StoryClusterer(settings).load_window(file, MARK)
    assert why.startswith("written in another file format") and "damaged" not in why


def test_a_window_whose_items_are_not_what_a_save_writes_is_damaged_not_a_crash(tmp_path):
    """Allowed classes in a shape no save writes (an item whose time is text): the expiry that
    ends a load meets it, and the load says so; the start does not fail."""
    file, settings, stream = tmp_path / snapshot.FILE_NAME, default_settings(), items()
    live = StoryClusterer(settings)
    decisions(live, stream[:10])
    live._window._heap[0].time = "yesterday"
    snapfile.write(file, snapshot.MAGIC, {"fingerprint": snapshot.fingerprint(settings), "marker": asdict(MARK)},
                   live._window)
    fresh, frozen = StoryClusterer(settings), gc.get_freeze_count()
    why = fresh.load_window(file, MARK, stream[9].published)
    assert why.startswith(f"damaged ({snapshot.FILE_NAME}): TypeError"), why
    assert len(fresh) == 0 and gc.get_freeze_count() == frozen
