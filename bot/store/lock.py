"""One wirewatch per database: a lock held for the life of `run`, and short locks around setup.

PostgreSQL: a session advisory lock on a connection kept open (released when the process dies,
however it dies); the holder is found again through its connection's application_name. SQLite: an
flock on a file beside the database (released by the kernel when the process dies), holding the
holder's pid and host. Setup (creating tables, syncing config feeds) takes a short exclusive lock
of its own, so two processes starting at once never both create the same table or feed row.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from bot.errors import WirewatchError
from bot.store.files import lock_files, open_lock_file, open_lock_file_to_read

LOCK_CLASS = 0x7777  # first key of wirewatch's advisory locks; the second names schema and purpose
_KEY = "hashtext(:purpose || current_schema()) & 2147483647"


class AlreadyRunning(WirewatchError):
    pass


def holder_text(pid: str | int, host: str) -> str:
    return f"another wirewatch is running on this database (pid {pid}, host {host})"


class InstanceLock:
    """Held from acquire() to release(); a second acquire on the same database raises AlreadyRunning."""

    def __init__(self, release) -> None:
        self._release = release

    @classmethod
    def acquire(cls, engine: Engine) -> InstanceLock:
        if engine.dialect.name == "sqlite":
            if engine.url.database in (None, "", ":memory:"):
                return cls(None)  # a private database: nobody else can open it
            return cls(_flock_instance(sqlite_path(engine)))
        return cls(_advisory_instance(engine))

    def release(self) -> None:
        if self._release is not None:
            self._release()
            self._release = None


def sqlite_path(engine: Engine) -> Path:
    return Path(engine.url.database or "wirewatch.db").resolve()


def _flock_instance(db: Path):
    db.parent.mkdir(parents=True, exist_ok=True)
    fd = open_lock_file(lock_files(db)[0])
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        held = os.read(fd, 200).decode(errors="replace").split() or ["?", "?"]
        os.close(fd)
        raise AlreadyRunning(holder_text(held[0], held[-1])) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()} {socket.gethostname()}\n".encode(), 0)

    def release() -> None:
        os.ftruncate(fd, 0)
        os.close(fd)  # closing drops the flock

    return release


def _advisory_instance(engine: Engine):
    conn = engine.connect()
    me = f"wirewatch pid={os.getpid()} host={socket.gethostname()}"
    conn.execute(text("SELECT set_config('application_name', :me, false)"), {"me": me})
    got = conn.execute(text(f"SELECT pg_try_advisory_lock({LOCK_CLASS}, {_KEY})"), {"purpose": "run:"}).scalar()
    conn.commit()
    if not got:
        holder = _advisory_holder(conn)
        conn.close()
        raise AlreadyRunning(holder)

    def release() -> None:
        with contextlib.suppress(Exception):  # a dead connection has released it already
            conn.execute(text(f"SELECT pg_advisory_unlock({LOCK_CLASS}, {_KEY})"), {"purpose": "run:"})
            conn.commit()
        conn.close()

    return release


def _advisory_holder(conn: Connection) -> str:
    name = conn.execute(text(
        "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
        f" WHERE l.locktype = 'advisory' AND l.classid = {LOCK_CLASS} AND l.objsubid = 2"
        f" AND l.objid = ({_KEY})::bigint::oid AND l.granted"), {"purpose": "run:"}).scalar() or ""
    fields = dict(part.split("=", 1) for part in name.split() if "=" in part)
    return holder_text(fields.get("pid", "?"), fields.get("host", "?"))


@contextlib.contextmanager
def setup_transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction no other wirewatch's setup runs beside (creating tables, syncing config feeds)."""
    if engine.dialect.name != "sqlite":
        with engine.begin() as conn:
            conn.execute(text(f"SELECT pg_advisory_xact_lock({LOCK_CLASS}, {_KEY})"), {"purpose": "setup:"})
            yield conn  # the lock goes with the transaction
        return
    if engine.url.database in (None, "", ":memory:"):
        with engine.begin() as conn:
            yield conn
        return
    with setup_lock(sqlite_path(engine)), engine.begin() as conn:
        yield conn  # committed before the flock is dropped


@contextlib.contextmanager
def setup_lock(db: Path, *, shared: bool = False) -> Iterator[None]:
    """The SQLite database's setup flock: exclusive for a setup, shared for `check`, which must
    not write (it opens an existing lock file read-only, and takes none if there is none)."""
    path = lock_files(db)[1]
    fd = open_lock_file_to_read(path) if shared else open_lock_file(path)
    if fd is None:
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)  # waits: setup takes milliseconds
        yield
    finally:
        os.close(fd)
