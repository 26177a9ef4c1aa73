"""Is the database usable? One clear answer (file, what was found, what to do) instead of a
traceback from deep inside SQLite or SQLAlchemy.

Checked when the store opens, for `run` and for `check`: the SQLite file's header (a text file,
random or zeroed bytes, a file cut short) before SQLite sees it; then SQLite's own quick_check
(damaged pages), the schema version (a number, not newer than this wirewatch) and that every
table and column of the schema is there. Nothing here writes to the database.
"""

from __future__ import annotations

import struct
from pathlib import Path
from urllib.parse import unquote

from sqlalchemy import MetaData, inspect, select
from sqlalchemy.engine import URL, Connection

from bot.errors import WirewatchError

HEADER = b"SQLite format 3\x00"
HEADER_SIZE = 100


class DamagedDatabase(WirewatchError):
    """The database cannot be used as it is; the message says what to do."""

    def __init__(self, where: str, found: str, *, newer: bool = False):
        self.where, self.found = where, found
        if newer:
            todo = "upgrade wirewatch, or restore a backup made by this version"
        else:
            todo = (f"restore it from a backup, or move it aside (mv {where} {where}.damaged) to start "
                    "fresh: feeds and chats in config.toml come back, stored items, settings made "
                    "in Telegram and queued alerts do not")
        super().__init__(f"database {where} cannot be used: {found}. To fix: {todo}")


def sqlite_file(database_url: str) -> Path | None:
    """The file of a sqlite:/// URL (None for memory databases and other engines)."""
    if not database_url.startswith("sqlite:///"):
        return None
    name = database_url.removeprefix("sqlite:///").split("?", 1)[0]
    return Path(name) if name and name != ":memory:" else None


def _looks_like(data: bytes) -> str:
    if not data.strip(b"\x00"):
        return "only zero bytes"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return f"not a SQLite database (it starts with bytes {data[:8].hex(' ')})"
    if text.isprintable() or all(c.isprintable() or c in "\r\n\t" for c in text):
        return f"a text file, not a SQLite database (it starts with {text[:40]!r})"
    return f"not a SQLite database (it starts with bytes {data[:8].hex(' ')})"


def file_problem(path: Path) -> str | None:
    """What is wrong with the file by its header alone; None when it may be a good database."""
    if not path.exists() or path.is_dir():
        return "a directory, not a file" if path.is_dir() else None
    size = path.stat().st_size
    if size == 0:  # SQLite would take it as a new database: everything stored would be sent again
        return "cut short (0 bytes: the file is empty)"
    with path.open("rb") as f:
        head = f.read(HEADER_SIZE)
    if not head.startswith(HEADER):
        return _looks_like(head)
    if size < HEADER_SIZE:
        return f"cut short ({size} bytes, less than the {HEADER_SIZE}-byte header)"
    page_size = struct.unpack(">H", head[16:18])[0]
    page_size = 65536 if page_size == 1 else page_size
    changes, pages, valid_for = (struct.unpack(">I", head[o:o + 4])[0] for o in (24, 28, 92))
    if page_size < 512 or page_size & (page_size - 1):
        return f"a damaged header (page size {page_size})"
    if changes == valid_for and pages and size < pages * page_size:  # the page count is current
        return f"cut short ({size} bytes; its header says {pages} pages of {page_size} bytes)"
    return None


def quick_check(conn: Connection) -> str | None:
    """SQLite's quick_check (every page and index entry is readable); None when ok."""
    if conn.dialect.name != "sqlite":
        return None
    rows = [r[0] for r in conn.exec_driver_sql("PRAGMA quick_check(3)")]
    return None if rows == ["ok"] else "damaged pages (SQLite quick_check: " + "; ".join(map(str, rows)) + ")"


def stored_version(conn: Connection, meta_table) -> tuple[int, bool]:
    """(schema version, whether the meta table exists); raises DamagedDatabase for a bad value."""
    if not conn.dialect.has_table(conn, meta_table.name):
        return 0, False
    row = conn.execute(select(meta_table.c.value).where(meta_table.c.key == "schema_version")).first()
    if row is None:
        return 0, True
    value = str(row[0]).strip()
    if not value.isdigit():
        raise DamagedDatabase(where_of(conn), f"its schema version is {value[:40]!r}, not a number")
    return int(value), True


def foreign_tables(conn: Connection, metadata: MetaData) -> list[str]:
    """Tables of a database with no wirewatch schema version: empty for a new database."""
    ours = set(metadata.tables)
    return sorted(n for n in inspect(conn).get_table_names() if n not in ours and not n.startswith("sqlite_"))


def missing_parts(conn: Connection, metadata: MetaData) -> list[str]:
    """Tables and columns of the schema that the database lacks (dropped by hand, or damaged)."""
    inspector = inspect(conn)
    present = set(inspector.get_table_names())
    out = []
    for name, table in metadata.tables.items():
        if name not in present:
            out.append(f"table {name}")
            continue
        have = {c["name"] for c in inspector.get_columns(name)}
        out += [f"column {name}.{c.name}" for c in table.columns if c.name not in have]
    return out


def where_of(conn: Connection) -> str:
    """The file (or the URL, password hidden) of a connection, for messages."""
    return where_of_url(conn.engine.url)


def where_of_url(url: URL) -> str:
    if url.get_backend_name() == "sqlite" and url.database:
        return unquote(url.database.removeprefix("file:"))  # a read-only URI names the same file
    return url.render_as_string(hide_password=True)
