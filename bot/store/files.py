"""The files of an SQLite database: its directory, the file itself and the lock files beside it.

Each problem is one WirewatchError naming the file, what is wrong and the fix, found before
SQLite (whose "unable to open database file" names neither) or os.open (a traceback) meets it.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from bot.errors import WirewatchError


def _read_only_fs(path: Path) -> bool:
    try:
        return bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def _why_unwritable(path: Path) -> str:
    return "on a read-only file system" if _read_only_fs(path) else "permission denied for this user"


def lock_files(db: Path) -> tuple[Path, Path]:
    """The instance lock `run` holds and the setup lock around creating tables and syncing feeds."""
    return Path(f"{db}.lock"), Path(f"{db}.setup-lock")


def place_error(db: Path) -> WirewatchError | None:
    """Why `run` could not write the database's directory, the file or its lock files; None if it can.

    Reads only (check calls it too); a missing directory is fine, `run` creates it."""
    folder = db.parent
    if not folder.exists():
        return None
    if not os.access(folder, os.W_OK | os.X_OK):
        return WirewatchError(f"data directory {folder} is not writable ({_why_unwritable(folder)}): wirewatch "
                              f"keeps {db.name}, its WAL and lock files there; make it writable for this user "
                              "(chown/chmod), or set [bot] data_dir to a writable directory")
    if db.is_file() and not os.access(db, os.W_OK):
        return WirewatchError(f"database {db} is not writable ({_why_unwritable(db)}): make it writable for "
                              "this user (chown/chmod; an earlier run as root leaves it owned by root)")
    for lock in lock_files(db):
        if lock.is_dir() or (lock.exists() and not os.access(lock, os.W_OK)):
            code = errno.EISDIR if lock.is_dir() else errno.EROFS if _read_only_fs(lock) else errno.EACCES
            return lock_file_error(lock, OSError(code, os.strerror(code)))
    return None


def writable_place(db: Path) -> None:
    """`run`: the database's directory exists (created if missing) and it and the files in it can be written."""
    try:
        db.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WirewatchError(f"cannot create data directory {db.parent}: {exc.strerror}; create it, or set "
                             "[bot] data_dir to a writable directory") from None
    if error := place_error(db):
        raise error


def lock_file_error(path: Path, exc: OSError) -> WirewatchError:
    """The error for a lock file that cannot be opened for writing."""
    if exc.errno == errno.EISDIR or path.is_dir():
        found, fix = "it is a directory", f"remove it (rmdir {path}); wirewatch creates the file itself"
    elif exc.errno == errno.EROFS:
        found, fix = "the file system is read-only", "set [bot] data_dir to a writable directory"
    elif exc.errno in (errno.EACCES, errno.EPERM):
        found = "permission denied"
        fix = ("remove it or fix its owner (an earlier run as root leaves it owned by root): it holds no data, "
               "wirewatch creates it again")
    else:
        found, fix = exc.strerror or str(exc), "remove it; wirewatch creates it again"
    return WirewatchError(f"cannot open lock file {path}: {found}; {fix}")


def open_lock_file(path: Path) -> int:
    """A file descriptor of the lock file, created if missing."""
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise lock_file_error(path, exc) from None


def open_lock_file_to_read(path: Path) -> int | None:
    """`check`'s descriptor of an existing lock file, opened without writing (flock needs no write
    access); None without one."""
    try:
        return os.open(path, os.O_RDONLY)
    except OSError:  # missing or unreadable: check goes on without waiting on it
        return None
