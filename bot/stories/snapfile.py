"""The file format of the saved story window (snapshot.py decides when a file is written and when
it is taken back): a magic line, a JSON header line, then the payload pickled.

The header carries the format version and a CRC-32 of the payload: a file damaged on disk (a
flipped bit, a write cut short by a crash: the rename is not fsynced) is refused, where it would
otherwise unpickle into a different window that decides differently (a story id off by one digit is
a duplicate alert). The payload is read by a restricted unpickler, the window's own classes only:
the file is data, never code, even though it sits in the data directory with the database.
"""

from __future__ import annotations

import gc
import io
import json
import os
import pickle
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# The header's layout and what it vouches for. A file of another format is not current (rebuilt
# from the store, like one of other code), never "damaged": 1 had no checksum.
FORMAT = 2
# zlib.crc32 rather than hashlib.blake2b: on a 40 MB bytes object (the payload of a 100,000-item
# window) 17 ms against 60 ms of CPU, of a start-up whose budget is 2 s. It is against accidental
# damage, which it catches (every burst of up to 32 bits, else all but 1 in 2**32); a cryptographic
# hash would buy nothing more, since whoever can write the file can write a matching sum.
_SUM_KEY = "crc32"
_UNSUMMED = "00000000"  # written first, then overwritten in place: the payload is streamed to disk

ALLOWED = {
    ("bot.stories.window", "Window"), ("bot.stories.held", "Member"), ("bot.stories.held", "Story"),
    ("array", "array"), ("array", "_array_reconstructor"), ("builtins", "set"), ("builtins", "frozenset"),
}


class Damaged(Exception):
    """What is wrong with a file that is one of ours by its name or its magic."""


def write(path: Path, magic: bytes, head: dict, payload: object) -> None:
    """Atomic: a crash mid-write leaves the old file."""
    tmp = path.with_name(path.name + ".tmp")
    line = json.dumps({**head, "format": FORMAT, _SUM_KEY: _UNSUMMED}).encode()
    at = len(magic) + line.rindex(_UNSUMMED.encode())  # the sum is the header's last value
    try:
        with tmp.open("wb") as f, no_collection():  # a tuple per member: 20% of the dump went to collections
            f.write(magic + line + b"\n")
            summed = _Summing(f)
            pickle.dump(payload, summed, protocol=pickle.HIGHEST_PROTOCOL)
            f.seek(at)
            f.write(b"%08x" % summed.crc)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)  # a full disk leaves no half file behind
        raise


def header(data: bytes, magic: bytes) -> tuple[dict, int]:
    """The JSON header after magic, and where the payload starts."""
    if not data.startswith(magic):
        raise Damaged("no magic line")
    end = data.find(b"\n", len(magic))
    if end < 0:
        raise Damaged("no header line")
    try:
        head = json.loads(data[len(magic) : end])
    except ValueError as exc:
        raise Damaged(f"header: {exc}") from None
    if not isinstance(head, dict):
        raise Damaged("header: not a JSON object")
    return head, end + 1


def payload(data: bytes, start: int, head: dict) -> object:
    """The payload from data[start:], unpickled once its sum is the header's."""
    # over the bytes already read, without a copy: a whole window is read from disk once
    found = f"{zlib.crc32(memoryview(data)[start:]):08x}"
    if head.get(_SUM_KEY) != found:
        raise Damaged(f"checksum mismatch: the header says {head.get(_SUM_KEY)!r}, the payload sums to {found!r}")
    stream = io.BytesIO(data)
    stream.seek(start)
    try:
        with no_collection():  # hundreds of thousands of new objects: no collection passes while they arrive
            return _Loader(stream).load()
    except Exception as exc:  # noqa: BLE001 - a damaged file is a rebuild, never a crash
        raise Damaged(f"{type(exc).__name__}: {exc}") from exc


class _Summing:
    """A file that sums what the pickler writes to it (a frame of ~64 kB per call)."""

    def __init__(self, f: io.BufferedWriter):
        self.f, self.crc = f, 0

    def write(self, data: bytes) -> int:
        self.crc = zlib.crc32(data, self.crc)
        return self.f.write(data)


@contextmanager
def no_collection() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class _Loader(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> object:
        if (module, name) not in ALLOWED:
            raise pickle.UnpicklingError(f"{module}.{name} is not part of a story window")
        return super().find_class(module, name)
