"""Opening the database: the read-only check of an existing SQLite file, the error for one that
cannot be read, and the settings every new connection gets.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DatabaseError

from bot.errors import WirewatchError
from bot.store import health
from bot.store import schema as t
from bot.store.lock import setup_transaction


def open_engine(database_url: str) -> Engine:
    """The engine of the database, created and migrated (Store.open)."""
    path = health.sqlite_file(database_url)
    if path is not None:
        if problem := health.file_problem(path):  # before SQLite touches the file
            raise health.DamagedDatabase(str(path), problem)
        if path.is_file() and path.stat().st_size:
            _check_read_only(path)  # before anything (even journal_mode=WAL) writes to it
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(database_url)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    elif engine.dialect.name == "postgresql":
        event.listen(engine, "connect", _postgres_settings)
    try:
        with setup_transaction(engine) as conn:  # two starting at once: one creates, one waits
            t.migrate(conn)
    except BaseException as exc:
        engine.dispose()
        if isinstance(exc, DatabaseError | UnicodeDecodeError):
            raise unreadable(engine, exc) from None
        raise
    return engine


def _check_read_only(path: Path) -> None:
    """quick_check and the schema checks on a read-only connection: DamagedDatabase if unusable."""
    engine = create_engine(f"sqlite:///file:{quote(str(path.resolve()))}?mode=ro&uri=true")
    try:
        with engine.connect() as conn:
            if problem := health.quick_check(conn):
                raise health.DamagedDatabase(str(path), problem)
            t.check(conn)
    except (DatabaseError, UnicodeDecodeError) as exc:
        raise unreadable(engine, exc, str(path)) from None
    finally:
        engine.dispose()


# SQLite's words for a file that is not (or no longer) a usable database, as opposed to one
# that cannot be opened now (locked, no permission, no such directory).
_DAMAGE_WORDS = ("not a database", "malformed", "corrupt", "no such table", "no such column", "codec", "decode")


def unreadable(engine: Engine, exc: Exception, where: str = "") -> WirewatchError:
    """The error for a database that failed while being read: damaged, or not openable."""
    reason = str(getattr(exc, "orig", None) or exc)
    url = engine.url
    where = where or (url.database if url.get_backend_name() == "sqlite" and url.database else
                      url.render_as_string(hide_password=True))
    if isinstance(exc, UnicodeDecodeError) or any(w in reason.lower() for w in _DAMAGE_WORDS):
        return health.DamagedDatabase(where, f"SQLite cannot read it ({reason[:200]})")
    return WirewatchError(f"cannot open database {where}: {reason[:300]}")


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=5000")
    cur.close()


def _postgres_settings(dbapi_conn, _record) -> None:
    """The durability SQLite gets from WAL + synchronous=NORMAL: a crashed wirewatch loses nothing
    committed, a crashed machine may lose the last moments (an outbox row sent again, a feed
    fetched again). A flushed WAL record per commit would cost ~6 ms per sent alert."""
    with dbapi_conn.cursor() as cur:
        cur.execute("SET synchronous_commit = off")
    dbapi_conn.commit()
