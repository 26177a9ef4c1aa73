"""Opening the database: the read-only check of an existing SQLite file, the error for one that
cannot be read, the settings every new connection gets, and `check`'s read-only opening.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DatabaseError

from bot.errors import WirewatchError
from bot.store import files, health
from bot.store import schema as t
from bot.store.lock import setup_lock, setup_transaction, sqlite_path


def open_engine(database_url: str) -> Engine:
    """The engine of the database, created and migrated (Store.open)."""
    path = health.sqlite_file(database_url)
    if path is not None:
        files.writable_place(path)  # before SQLite's "unable to open database file", which names no cause
    engine = create_engine(database_url)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    elif engine.dialect.name == "postgresql":
        event.listen(engine, "connect", _postgres_settings)
    try:
        if path is None:
            with setup_transaction(engine) as conn:  # two starting at once: one creates, one waits
                t.migrate(conn)
        else:  # under the setup lock a file another wirewatch is creating is never seen half made (empty)
            with setup_lock(sqlite_path(engine)):
                _check_file(path)
                with engine.begin() as conn:
                    t.migrate(conn)
    except BaseException as exc:
        engine.dispose()
        if isinstance(exc, DatabaseError | UnicodeDecodeError):
            raise unreadable(engine, exc) from None
        raise
    return engine


def open_read_only(database_url: str) -> tuple[Engine, int] | None:
    """`check`: the engine of the existing database and its schema version, checked and never
    written, nor created, nor migrated; None when there is no database (or no wirewatch table) yet."""
    path = health.sqlite_file(database_url)
    if path is not None:
        if error := files.place_error(path):  # what `run` would refuse
            raise error
        if not path.exists():
            return None
        with setup_lock(path.resolve(), shared=True):  # a `run` creating it finishes first
            if problem := health.file_problem(path):
                raise health.DamagedDatabase(str(path), problem)
            engine = _read_only_engine(path)
            return engine, _checked(engine, str(path))
    engine = create_engine(database_url)
    if engine.dialect.name == "postgresql":
        event.listen(engine, "connect", _postgres_settings)
    version = _checked(engine, "")
    if version == 0:  # no wirewatch table: a new database (check raised for anything else)
        engine.dispose()
        return None
    return engine, version


def _check_file(path: Path) -> None:
    """DamagedDatabase if the existing file cannot be used; nothing written to it."""
    if problem := health.file_problem(path):  # before SQLite touches the file
        raise health.DamagedDatabase(str(path), problem)
    if path.is_file():
        engine = _read_only_engine(path)  # before anything (even journal_mode=WAL) writes to it
        try:
            _checked(engine, str(path))
        finally:
            engine.dispose()


def _read_only_engine(path: Path) -> Engine:
    engine = create_engine(f"sqlite:///file:{quote(str(path.resolve()))}?mode=ro&uri=true")
    event.listen(engine, "connect", _read_only_pragmas)
    return engine


def _checked(engine: Engine, where: str) -> int:
    """quick_check and the schema checks: the schema version, or DamagedDatabase if unusable."""
    try:
        with engine.connect() as conn:
            if problem := health.quick_check(conn):
                raise health.DamagedDatabase(where or health.where_of(conn), problem)
            return t.check(conn)
    except (DatabaseError, UnicodeDecodeError) as exc:
        engine.dispose()
        raise unreadable(engine, exc, where) from None
    except BaseException:
        engine.dispose()
        raise


# SQLite's words for a file that is not (or no longer) a usable database, as opposed to one
# that cannot be opened now (locked, no permission, no such directory).
_DAMAGE_WORDS = ("not a database", "malformed", "corrupt", "no such table", "no such column", "codec", "decode")


def unreadable(engine: Engine, exc: Exception, where: str = "") -> WirewatchError:
    """The error for a database that failed while being read: damaged, or not openable."""
    reason = str(getattr(exc, "orig", None) or exc)
    where = where or health.where_of_url(engine.url)
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


def _read_only_pragmas(dbapi_conn, _record) -> None:
    """No journal_mode: setting it writes. query_only: even a bug cannot write through `check`."""
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA query_only=ON")
    cur.execute("PRAGMA busy_timeout=5000")
    cur.close()


def _postgres_settings(dbapi_conn, _record) -> None:
    """The durability SQLite gets from WAL + synchronous=NORMAL: a crashed wirewatch loses nothing
    committed, a crashed machine may lose the last moments (an outbox row sent again, a feed
    fetched again). A flushed WAL record per commit would cost ~6 ms per sent alert."""
    with dbapi_conn.cursor() as cur:
        cur.execute("SET synchronous_commit = off")
    dbapi_conn.commit()
