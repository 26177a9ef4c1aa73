"""A database that cannot be used gives one clear message (file, what was found, what to do) and
exit 1, for `run` and for `check`, with no traceback: a table over damaged copies of a real one."""

from __future__ import annotations

import asyncio
import logging
import random
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.app import App
from bot.cli import main
from bot.runtime import load_runtime
from bot.store import schema
from tests.tg_harness import COUNCIL, STRIKE, rss

pytest_plugins = ["tests.feedserver"]
PAGE = 4096
_BASE: dict[str, bytes] = {}


def write_config(tmp_path: Path, feeds: dict[str, str]) -> Path:
    (tmp_path / "rules").mkdir(exist_ok=True)
    (tmp_path / "rules" / "anbar.toml").write_text('name = "Anbar"\nquery = "anbar OR ramadi"\n')
    tables = "".join(f'[[feeds]]\nurl = "{u}"\nname = "{n}"\n' for u, n in feeds.items())
    path = tmp_path / "config.toml"
    path.write_text(f'[bot]\ndata_dir = "data"\n[polling]\nallow_private_networks = true\n'
                    f'[outputs]\nconsole = false\n{tables}', encoding="utf-8")
    return path


async def base_database(feed_server, tmp_path: Path) -> bytes:
    """A real database after one cycle over a feed: feeds, items, stories, matches (built once)."""
    if "db" not in _BASE:
        feed_server.set("/wire.xml", rss("Wire", [STRIKE, COUNCIL]))
        (tmp_path / "base").mkdir()
        path = write_config(tmp_path / "base", {feed_server.url("/wire.xml"): "Wire"})
        app = App(load_runtime(path))
        await app.start()
        await app.cycle(every_feed=True)
        await app.stop()
        _BASE["db"] = (tmp_path / "base" / "data" / "wirewatch.db").read_bytes()
    return _BASE["db"]


def flip_pages(b: bytes) -> bytes:
    out = bytearray(b)
    for page in range(1, len(b) // PAGE):
        out[page * PAGE] ^= 0xFF  # the b-tree page type of every page after the first
    return bytes(out)


def flip_text(b: bytes) -> bytes:
    """High bits flipped inside stored titles: SQLite's checks pass, the text is no UTF-8."""
    out, at = bytearray(b), b.find(b"Ramadi council")
    assert at > 0
    out[at : at + 6] = bytes(b ^ 0x80 for b in out[at : at + 6])
    return bytes(out)


def sql(*statements: str) -> Callable[[Path], None]:
    def run(path: Path) -> None:
        with sqlite3.connect(path) as conn:
            for statement in statements:
                conn.execute(statement)
        conn.close()

    return run


def other_program(path: Path) -> None:
    path.unlink()
    sql("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)", "INSERT INTO notes VALUES (1, 'x')")(path)


def directory(path: Path) -> None:
    path.unlink()
    path.mkdir()


R = random.Random(12)
# (case, damage to the good file's bytes or to the file, words the message must contain)
DAMAGE: list[tuple[str, Callable, str]] = [
    ("random bytes", lambda b: R.randbytes(len(b)), "not a SQLite database"),
    ("truncated to half", lambda b: b[: len(b) // 2], "cut short"),
    ("truncated to one page", lambda b: b[:PAGE], "cut short"),
    ("truncated inside the header", lambda b: b[:60], "cut short"),
    ("empty (0 bytes)", lambda b: b"", "cut short (0 bytes: the file is empty)"),
    ("flipped page types", flip_pages, "SQLite"),
    ("flipped bits in a title", flip_text, "SQLite cannot read it"),
    ("zeroed", lambda b: bytes(len(b)), "only zero bytes"),
    ("zeroed after the first page", lambda b: b[:PAGE] + bytes(len(b) - PAGE), "SQLite"),
    ("garbage header", lambda b: R.randbytes(100) + b[100:], "not a SQLite database"),
    ("bad page size", lambda b: b[:16] + b"\x03\x00" + b[18:], "damaged header"),
    ("text file", lambda b: b"[bot]\ndata_dir = 'data'\n# not a database\n", "a text file"),
    ("non-numeric schema version", sql("UPDATE meta SET value = 'two' WHERE key = 'schema_version'"),
     "schema version is 'two', not a number"),
    ("no schema version", sql("DELETE FROM meta"), "schema version is missing"),
    ("dropped meta table", sql("DROP TABLE meta"), "meta table (schema version) is missing"),
    ("dropped items table", sql("DROP TABLE matches", "DROP TABLE items"), "it lacks table items"),
    ("dropped column", sql("ALTER TABLE chats DROP COLUMN title"), "it lacks column chats.title"),
    ("newer schema", sql(f"UPDATE meta SET value = '{schema.SCHEMA_VERSION + 7}'"),
     "written by a newer wirewatch"),
    ("another program's database", other_program, "another program's database"),
    ("a directory", directory, "a directory"),
]


def damage(tmp_path: Path, base: bytes, how: Callable) -> tuple[Path, Path]:
    config = write_config(tmp_path, {})
    db = tmp_path / "data" / "wirewatch.db"
    db.parent.mkdir()
    db.write_bytes(base)
    if how.__code__.co_varnames[:1] == ("b",):
        db.write_bytes(how(base))
    else:
        how(db)
    return config, db


async def cli(capsys, *argv: str) -> tuple[int, str]:
    code = await asyncio.to_thread(main, list(argv))
    return code, capsys.readouterr().err


@pytest.mark.parametrize(("case", "how", "words"), DAMAGE, ids=[c for c, _, _ in DAMAGE])
async def test_damaged_database(feed_server, tmp_path, capsys, caplog, case, how, words) -> None:
    config, db = damage(tmp_path, await base_database(feed_server, tmp_path), how)
    before = db.read_bytes() if db.is_file() else None
    caplog.set_level(logging.INFO)
    export = [["feeds", "export"]] if case != "flipped bits in a title" else []  # it reads no item titles
    for args in [["check"], ["run", "--once"], *export]:  # the commands that open the store
        code, err = await cli(capsys, *args, "-c", str(config))
        command = args[0]
        assert code == 1, (command, err)
        assert f"database {db} cannot be used: " in err and words in err and "To fix: " in err, err
        assert err.count("\n") == 1 and "Traceback" not in err, err  # one message, one line
    assert not [r for r in caplog.records if r.exc_info], "no traceback logged"
    assert (db.read_bytes() if db.is_file() else None) == before  # nothing written to it


async def test_a_good_database_still_opens(feed_server, tmp_path, capsys) -> None:
    config, db = damage(tmp_path, await base_database(feed_server, tmp_path), lambda b: b)
    for command in ("check", "run"):
        code, err = await cli(capsys, command, "-c", str(config), *(["--once"] if command == "run" else []))
        assert code == 0, err


def test_check_never_creates_a_database_and_run_still_does(tmp_path, capsys) -> None:
    config, db = write_config(tmp_path, {}), tmp_path / "data" / "wirewatch.db"
    assert main(["check", "-c", str(config)]) == 0
    assert f"database: {db} does not exist yet (`wirewatch run` creates it)" in capsys.readouterr().out
    assert not (tmp_path / "data").exists()  # no file, no directory, no lock file
    assert main(["run", "--once", "-c", str(config)]) == 0
    assert db.stat().st_size > 0


async def test_check_does_not_migrate_an_older_database(feed_server, tmp_path, capsys) -> None:
    older = sql(f"UPDATE meta SET value = '{schema.SCHEMA_VERSION - 1}' WHERE key = 'schema_version'")
    config, db = damage(tmp_path, await base_database(feed_server, tmp_path), older)
    before = db.read_bytes()
    code, out = await asyncio.to_thread(main, ["check", "-c", str(config)]), capsys.readouterr().out
    assert code == 0 and f"database: schema version {schema.SCHEMA_VERSION - 1}; `wirewatch run` migrates it" in out
    assert db.read_bytes() == before  # read-only: the migration is run's
