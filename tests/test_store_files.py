"""The files beside an SQLite database that `run` must write: lock files, the data directory, the
database file. Each problem is one line naming the file and the fix, exit 1, no traceback; real
files in tmp_path. Permission cases need a non-root user (root is not denied by a mode) or, as
root, a read-only bind mount."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli import main
from tests.test_damaged_db import write_config

ROOT = os.geteuid() == 0


def wirewatch(capsys, *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().err


def one_line(err: str) -> None:
    assert err.count("\n") == 1 and "Traceback" not in err, err


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[None]:
    """path not writable for this process: mode 0555/0444, or as root a read-only bind mount."""
    if not ROOT:
        mode = path.stat().st_mode
        path.chmod(0o555 if path.is_dir() else 0o444)
        try:
            yield
        finally:
            path.chmod(mode)
        return
    if subprocess.run(["mount", "--bind", "-o", "ro", str(path), str(path)], capture_output=True).returncode:
        pytest.skip("running as root (a mode does not deny root) and cannot bind-mount read-only")
    try:
        yield
    finally:
        subprocess.run(["umount", str(path)], check=True)


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, Path]:
    """A config and its database, created by one `run --once`."""
    config = write_config(tmp_path, {})
    assert main(["run", "--once", "-c", str(config)]) == 0
    return config, tmp_path / "data" / "wirewatch.db"


@pytest.mark.parametrize("name", ["wirewatch.db.lock", "wirewatch.db.setup-lock"])
def test_a_directory_in_place_of_a_lock_file(setup, capsys, name) -> None:
    config, db = setup
    lock = db.parent / name
    lock.unlink()
    lock.mkdir()
    for command in (["run", "--once"], ["check"]):
        code, err = wirewatch(capsys, *command, "-c", str(config))
        assert code == 1, err
        assert f"cannot open lock file {lock}: it is a directory; remove it (rmdir {lock})" in err
        one_line(err)


def test_a_lock_file_this_user_cannot_write(setup, capsys) -> None:
    config, db = setup
    lock = db.parent / "wirewatch.db.lock"
    with read_only(lock):
        code, err = wirewatch(capsys, "run", "--once", "-c", str(config))
    assert code == 1
    why = "the file system is read-only" if ROOT else "permission denied; remove it or fix its owner"
    assert f"cannot open lock file {lock}: {why}" in err, err
    one_line(err)


def test_a_database_file_this_user_cannot_write(setup, capsys) -> None:
    config, db = setup
    before = db.read_bytes()
    with read_only(db):
        code, err = wirewatch(capsys, "run", "--once", "-c", str(config))
    why = "on a read-only file system" if ROOT else "permission denied for this user"
    assert code == 1 and f"database {db} is not writable ({why})" in err, err
    one_line(err)
    assert db.read_bytes() == before


def test_a_read_only_data_directory(setup, capsys) -> None:
    config, db = setup
    before = db.read_bytes()
    with read_only(db.parent):
        for command in (["run", "--once"], ["check"]):
            code, err = wirewatch(capsys, *command, "-c", str(config))
            assert code == 1, err
            assert f"data directory {db.parent} is not writable (" in err and "[bot] data_dir" in err, err
            one_line(err)
    assert db.read_bytes() == before


def test_a_new_database_in_a_read_only_directory(tmp_path, capsys) -> None:
    config = write_config(tmp_path, {})
    (tmp_path / "data").mkdir()
    with read_only(tmp_path / "data"):
        code, err = wirewatch(capsys, "run", "--once", "-c", str(config))
    assert code == 1 and f"data directory {tmp_path / 'data'} is not writable (" in err, err
    one_line(err)
