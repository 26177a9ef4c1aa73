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
Loading accepts only the window's own classes (a restricted unpickler): the file is data, never
code, even though it sits in the data directory with the database.

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
import io
import json
import os
import pickle
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass
from pathlib import Path

from bot.config import StorySettings
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
_ALLOWED = {
    ("bot.stories.window", "Window"), ("bot.stories.held", "Member"), ("bot.stories.held", "Story"),
    ("array", "array"), ("array", "_array_reconstructor"), ("builtins", "set"), ("builtins", "frozenset"),
}


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
        head = {"fingerprint": printed, "base": base, "marker": asdict(marker)}
        _write(journal_path(path), JOURNAL_MAGIC, head, window.changes)
        return
    _write(path, MAGIC, {"fingerprint": printed, "marker": asdict(marker)}, window)
    with suppress(OSError):  # left behind, it follows the old whole window's marker: a load ignores it
        journal_path(path).unlink(missing_ok=True)
    _record(window, [], asdict(marker))


def _record(window: Window, changes: list[tuple], since: dict | None) -> None:
    window.record(changes, since, int(2 * JOURNAL_SHARE * len(window)) + JOURNAL_SLACK)


def _write(path: Path, magic: bytes, head: dict, payload: object) -> None:
    tmp = path.with_name(path.name + ".tmp")
    try:
        with tmp.open("wb") as f, _no_collection():  # a tuple per member: 20% of the dump went to collections
            f.write(magic + json.dumps(head).encode() + b"\n")
            pickle.dump(payload, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)  # a full disk leaves no half file behind
        raise


def _base_marker(path: Path, printed: str) -> dict | None:
    """The marker of the whole window at path, if that file is there and from this code."""
    try:
        with path.open("rb") as f:
            head = _head(f.read(len(MAGIC)) + f.readline(), MAGIC)
    except OSError:
        return None
    return head.get("marker") if head and head.get("fingerprint") == printed else None


def _head(data: bytes, magic: bytes) -> dict | None:
    """The JSON header after magic, or None."""
    if not data.startswith(magic):
        return None
    try:
        head = json.loads(data[len(magic) : data.find(b"\n", len(magic))])
    except ValueError:
        return None
    return head if isinstance(head, dict) else None


def load(path: Path, settings: StorySettings, marker: Marker) -> tuple[Window | None, str]:
    """(the window, "") when the snapshot at path, with its journal if any, is current, else
    (None, why not)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None, "no snapshot"
    except OSError as exc:
        return None, f"unreadable: {exc.strerror}"
    if not data.startswith(MAGIC):
        return None, "not a story window snapshot"
    head, printed = _head(data, MAGIC), fingerprint(settings)
    if head is None:
        return None, "damaged header"
    if head.get("fingerprint") != printed:
        return None, "written by other code or settings"
    changes = _journal(path, printed, head.get("marker"), marker)
    if changes is None and head.get("marker") != asdict(marker):
        return None, "the database changed since it was written"
    window, why = _unpickle(data[data.find(b"\n", len(MAGIC)) + 1 :])
    if isinstance(window, Window) and changes is not None:
        window, why = _replayed(window, changes, head.get("marker"), journal_path(path).name)
    elif isinstance(window, Window):
        _record(window, [], head.get("marker"))
    if window is not None:
        gc.freeze()  # long-lived (see bot/heap.py): else the first collection after this scans all of it
    return window, why


def _journal(path: Path, printed: str, base: dict | None, marker: Marker) -> bytes | None:
    """The pickled changes of the journal that follows this whole window up to marker, if any (a
    journal left from an older whole window, or one that is not current, does not count)."""
    try:
        data = journal_path(path).read_bytes()
    except OSError:
        return None
    head = _head(data, JOURNAL_MAGIC)
    if head is None or head.get("fingerprint") != printed or head.get("base") != base:
        return None
    if head.get("marker") != asdict(marker):
        return None
    return data[data.find(b"\n", len(JOURNAL_MAGIC)) + 1 :]


def _replayed(window: Window, payload: bytes, base: dict | None, name: str) -> tuple[Window | None, str]:
    try:
        with _no_collection():
            changes = _Loader(io.BytesIO(payload)).load()
            window.replay(changes)
    except Exception as exc:  # noqa: BLE001 - a damaged journal is a rebuild, never a crash
        return None, f"damaged journal ({name}): {type(exc).__name__}: {exc}"
    _record(window, changes, base)
    return window, ""


def _unpickle(payload: bytes) -> tuple[object | None, str]:
    try:
        with _no_collection():  # hundreds of thousands of new objects: no collection passes while they arrive
            return _Loader(io.BytesIO(payload)).load(), ""
    except Exception as exc:  # noqa: BLE001 - a damaged file is a rebuild, never a crash
        return None, f"damaged: {type(exc).__name__}: {exc}"


@contextmanager
def _no_collection() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class _Loader(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> object:
        if (module, name) not in _ALLOWED:
            raise pickle.UnpicklingError(f"{module}.{name} is not part of a story window")
        return super().find_class(module, name)
