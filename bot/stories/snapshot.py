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
"""

from __future__ import annotations

import gc
import hashlib
import io
import json
import os
import pickle
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from bot.config import StorySettings

MAGIC = b"wirewatch story window\n"
FILE_NAME = "story-window.snapshot"
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


def save(path: Path, window: object, settings: StorySettings, marker: Marker) -> None:
    """Write the window atomically (a crash mid-write leaves the old file or none)."""
    head = {"fingerprint": fingerprint(settings), "marker": asdict(marker)}
    tmp = path.with_name(path.name + ".tmp")
    try:
        with tmp.open("wb") as f, _no_collection():  # a tuple per member: 20% of the dump went to collections
            f.write(MAGIC + json.dumps(head).encode() + b"\n")
            pickle.dump(window, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)  # a full disk leaves no half file behind
        raise


def load(path: Path, settings: StorySettings, marker: Marker) -> tuple[object | None, str]:
    """(the window, "") when the snapshot at path is current, else (None, why not)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None, "no snapshot"
    except OSError as exc:
        return None, f"unreadable: {exc.strerror}"
    if not data.startswith(MAGIC):
        return None, "not a story window snapshot"
    head_end = data.find(b"\n", len(MAGIC))
    try:
        head = json.loads(data[len(MAGIC) : head_end])
    except ValueError:
        return None, "damaged header"
    if head.get("fingerprint") != fingerprint(settings):
        return None, "written by other code or settings"
    if head.get("marker") != asdict(marker):
        return None, "the database changed since it was written"
    return _unpickle(data[head_end + 1 :])


def _unpickle(payload: bytes) -> tuple[object | None, str]:
    try:
        with _no_collection():  # hundreds of thousands of new objects: no collection passes while they arrive
            window = _Loader(io.BytesIO(payload)).load()
            gc.freeze()  # long-lived (see bot/heap.py): else the first collection after this scans all of it
            return window, ""
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
