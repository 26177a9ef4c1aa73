"""The story window on disk: a restart reads it back in a fraction of a second instead of
re-extracting every item of the last 48 hours (0.5 ms each: 20 s for 40,000 items).

A snapshot is the clusterer's window pickled whole at a clean stop, so the restored window is the
live one, exactly: it decides as the live one would have. It is used only when it is provably
current, and otherwise the window is rebuilt from the store as before:
- the code that builds windows (this package's sources) and the settings that shape them are the
  ones that wrote it (a fingerprint);
- the store is as it was when it was written: the same newest item id and the same number of pair
  judgements (a "same story" press moves items between stories). A crash after new items, another
  writer, a restored backup: all change the marker, so the window is rebuilt.
The file format is snapfile.py: a checksum of the payload, and an unpickler that accepts only the
window's own classes. What it unpickles is checked to be a whole window before it is used; a file
that fails any of that, or any step of taking it back, is "damaged" (the reason names the file) and
the window is rebuilt: damage costs a slower start, never a wrong window or a failing feed.

A run that changed a small part of a large window writes only what changed since the window was
last written whole: a journal beside it (story-window.snapshot.journal) of the window's own
steps (items held, stories moved, items expired), replayed on load through the same code, so the
window taken back is the one that was saved. The journal names the whole snapshot it follows
(that file's marker); past JOURNAL_SHARE of the window the next save is whole again, and the
journal goes.
"""

from __future__ import annotations

import gc
import hashlib
import json
from contextlib import suppress
from dataclasses import asdict, dataclass
from pathlib import Path

from bot.config import StorySettings
from bot.stories import snapfile
from bot.stories.window import Window

MAGIC = b"wirewatch story window\n"
FILE_NAME = "story-window.snapshot"
JOURNAL_MAGIC = b"wirewatch story window journal\n"
# Items held since the last whole save, as a share of the window, up to which a save writes the
# journal. Measured: a replayed item costs ~75 us on load, a pickled one ~10 us to save whole; with
# a share s of the window new per run, CPU per run is lowest with a whole save every
# sqrt(10 / (37.5 s)) runs: at 1% a run, every ~5 runs (5%).
JOURNAL_SHARE = 0.05
JOURNAL_SLACK = 1000  # changes recorded beyond 2 x JOURNAL_SHARE of the window (an expiry per item)
# Learned from judgements at run time; they decide joins, not what the window holds.
_UNSHAPING = ("join_threshold", "related_threshold")


@dataclass(frozen=True)
class Marker:
    """What of the store a window reflects."""

    last_item: int  # the newest stored item id
    judgements: int  # pair judgements stored


def fingerprint(settings: StorySettings) -> str:
    """Changes when the code or a setting that shapes the window changes."""
    digest = hashlib.sha256()
    for source in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(source.read_bytes())
    shaping = {k: v for k, v in asdict(settings).items() if k not in _UNSHAPING}
    digest.update(json.dumps(shaping, sort_keys=True).encode())
    return digest.hexdigest()


def journal_path(path: Path) -> Path:
    return path.with_name(path.name + ".journal")


def save(path: Path, window: Window, settings: StorySettings, marker: Marker) -> None:
    """Write what changed since the window was last written whole (a journal), or when that is
    not small or not known, the whole window. Atomic: a crash mid-write leaves the old files."""
    printed = fingerprint(settings)
    base = window.changes_since
    held = sum(1 for c in window.changes or () if c[0] == "hold")
    if (window.changes is not None and base is not None and held <= JOURNAL_SHARE * max(1, len(window))
            and _base_marker(path, printed) == base):
        head = {"fingerprint": printed, "base": base, "marker": asdict(marker), "changes": len(window.changes)}
        _write(journal_path(path), JOURNAL_MAGIC, head, window.changes)
        return
    _write(path, MAGIC, {"fingerprint": printed, "marker": asdict(marker)}, window)
    with suppress(OSError):  # left behind, it follows the old whole window's marker: a load ignores it
        journal_path(path).unlink(missing_ok=True)
    _record(window, [], asdict(marker))


def _record(window: Window, changes: list[tuple], since: dict | None) -> None:
    window.record(changes, since, int(2 * JOURNAL_SHARE * len(window)) + JOURNAL_SLACK)


_write = snapfile.write  # by this name: a test counts the files written


def _base_marker(path: Path, printed: str) -> dict | None:
    """The marker of the whole window at path, if that file is there and from this code."""
    try:
        with path.open("rb") as f:
            head, _ = snapfile.header(f.read(len(MAGIC)) + f.readline(), MAGIC)
    except (OSError, snapfile.Damaged):
        return None
    current = head.get("format") == snapfile.FORMAT and head.get("fingerprint") == printed
    return head.get("marker") if current else None


def load(path: Path, settings: StorySettings, marker: Marker,
         now: float | None = None) -> tuple[Window | None, str]:
    """(the window, "") when the snapshot at path, with its journal if any, is current, else
    (None, why not). now: expire what is older than the window by then, as a step of the load (a
    window whose items are not what any save writes fails here, a rebuild, not at the start)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None, "no snapshot"
    except OSError as exc:
        return None, f"unreadable: {exc.strerror}"
    if not data.startswith(MAGIC):
        return None, "not a story window snapshot"
    printed, journal = fingerprint(settings), journal_path(path)
    with snapfile.no_collection():  # until frozen: a collection first would scan every object read (0.4 s at 100k)
        try:
            window = _taken(data, journal, printed, marker)
            if now is not None and not isinstance(window, str):
                window.expire(now - settings.window)
        except _JournalDamaged as exc:
            return None, f"damaged journal ({journal.name}): {exc}"
        except snapfile.Damaged as exc:
            return None, f"damaged ({path.name}): {exc}"
        except Exception as exc:  # noqa: BLE001 - a step after the checks failed: still a rebuild, never a crash
            return None, f"damaged ({path.name}): {type(exc).__name__}: {exc}"
        if isinstance(window, str):
            return None, window
        gc.freeze()  # long-lived (see bot/heap.py), and out of the collector's sight before it runs again
    return window, ""


def _taken(data: bytes, journal: Path, printed: str, marker: Marker) -> Window | str:
    """The window the file holds with its journal replayed, or why it is not current."""
    head, start = snapfile.header(data, MAGIC)
    if head.get("format") != snapfile.FORMAT:
        return f"written in another file format ({head.get('format')!r}, this is {snapfile.FORMAT})"
    if head.get("fingerprint") != printed:
        return "written by other code or settings"
    base = head.get("marker")
    changes = _journal(journal, printed, base, marker)
    if changes is None and base != asdict(marker):
        return "the database changed since it was written"
    window = snapfile.payload(data, start, head)
    _check(window)
    _replayed(window, changes, base)
    return window


def _journal(journal: Path, printed: str, base: dict | None, marker: Marker) -> list[tuple] | None:
    """The changes of the journal that follows this whole window up to marker, if any (a journal
    left from an older whole window, or one that is not current, does not count)."""
    try:
        data = journal.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise _JournalDamaged(f"unreadable: {exc.strerror}") from None
    try:
        head, start = snapfile.header(data, JOURNAL_MAGIC)
        if head.get("format") != snapfile.FORMAT or head.get("fingerprint") != printed or head.get("base") != base:
            return None
        if head.get("marker") != asdict(marker):
            return None
        changes, claimed = snapfile.payload(data, start, head), head.get("changes")
    except snapfile.Damaged as exc:
        raise _JournalDamaged(str(exc)) from None
    # a list of steps, as many as its header says: anything else would be replayed as a window
    # that misses changes, or kept as `changes` and fail every later feed
    if type(changes) is not list or not all(type(c) is tuple and c for c in changes):
        raise _JournalDamaged(f"the payload is a {type(changes).__name__}, not a list of window changes")
    if len(changes) != claimed:
        raise _JournalDamaged(f"{len(changes)} changes, the header says {claimed!r}")
    return changes


def _replayed(window: Window, changes: list[tuple] | None, base: dict | None) -> None:
    if changes is None:
        _record(window, [], base)
        return
    try:
        with snapfile.no_collection():
            window.replay(changes)
    except Exception as exc:  # noqa: BLE001 - a damaged journal is a rebuild, never a crash
        raise _JournalDamaged(f"{type(exc).__name__}: {exc}") from exc
    _record(window, changes, base)


class _JournalDamaged(snapfile.Damaged):
    """The journal, not the whole window, is what is wrong."""


def _check(window: object) -> None:
    """That what was unpickled has every part of a window that a fresh one has, of its type (a
    part missing would fail the first feed, or the start, instead of the load). Not what the parts
    hold: damage there fails the checksum first, and a pass over 100,000 items costs 10-30 ms of the start."""
    if type(window) is not Window:
        raise snapfile.Damaged(f"the payload is a {type(window).__name__}, not a story window")
    state = vars(window)
    for name, value in Window(0.0, 0).__getstate__().items():  # what a save writes
        if name not in state:
            raise snapfile.Damaged(f"the window has no {name}")
        kind = (int, float) if isinstance(value, float) else type(value)
        if not isinstance(state[name], kind):
            raise snapfile.Damaged(f"the window's {name} is a {type(state[name]).__name__}")
