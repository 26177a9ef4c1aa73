"""Which roles may run beside which, on one PostgreSQL database (session advisory locks).

- `all` and `core` hold the instance lock of bot.store.lock ("run:"): one at a time. A second `all`
  refuses, naming the holder; a second `core` is a standby: it waits and takes the lock over
  within a second of the holder's connection dying (a killed process's socket is closed by its
  kernel at once; a machine that vanished is found by the server's TCP keepalives, set short here).
- pollers share "pollers:"; `all` takes it exclusively, so pollers and a single process never run
  on one database at once (the pollers' items would wait for a core that is not there).

Each lock has its own connection, named after its holder (pid, host, role) for the messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from dataclasses import dataclass

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine

from bot.store.lock import _KEY, LOCK_CLASS, AlreadyRunning, holder_text

log = logging.getLogger(__name__)
# The server drops a silent client's connection (and its locks) after about idle + interval * count.
KEEPALIVE = {"tcp_keepalives_idle": 3, "tcp_keepalives_interval": 1, "tcp_keepalives_count": 3}
CLIENT_KEEPALIVE = {"keepalives": 1, "keepalives_idle": 3, "keepalives_interval": 1, "keepalives_count": 3,
                    "connect_timeout": 5}
RETRY = 0.5  # seconds between a standby's attempts at the core lock


@dataclass
class Held:
    """An advisory lock held on its own connection, until release() or the connection dies."""

    engine: Engine
    conn: Connection
    purpose: str
    shared: bool

    def alive(self) -> bool:
        """Whether the connection (so the lock) is still there: False once the server dropped it."""
        try:
            self.conn.execute(text("SELECT 1")).scalar()
            self.conn.commit()
            return True
        except Exception:  # noqa: BLE001 - any failure means the lock cannot be trusted any more
            return False

    def release(self) -> None:
        unlock = "pg_advisory_unlock_shared" if self.shared else "pg_advisory_unlock"
        with contextlib.suppress(Exception):  # a dead connection has released it already
            self.conn.execute(text(f"SELECT {unlock}({LOCK_CLASS}, {_KEY})"), {"purpose": self.purpose})
            self.conn.commit()
        with contextlib.suppress(Exception):
            self.conn.close()
        self.engine.dispose()


class RoleLock:
    """The locks of one role, held together."""

    def __init__(self, *held: Held):
        self.held = held

    def alive(self) -> bool:
        return all(h.alive() for h in self.held)

    def release(self) -> None:
        for h in self.held:
            h.release()


def lock_engine(url: str) -> Engine:
    return create_engine(url, connect_args=CLIENT_KEEPALIVE, pool_size=1, max_overflow=0)


def try_lock(url: str, purpose: str, role: str, *, shared: bool = False) -> Held | None:
    """The lock if free now, else None."""
    engine = lock_engine(url)
    conn = engine.connect()
    me = f"wirewatch pid={os.getpid()} host={socket.gethostname()} role={role}"
    conn.execute(text("SELECT set_config('application_name', :me, false)"), {"me": me})
    for name, value in KEEPALIVE.items():
        conn.execute(text(f"SET {name} = {int(value)}"))
    lock = "pg_try_advisory_lock_shared" if shared else "pg_try_advisory_lock"
    got = conn.execute(text(f"SELECT {lock}({LOCK_CLASS}, {_KEY})"), {"purpose": purpose}).scalar()
    conn.commit()
    if got:
        return Held(engine, conn, purpose, shared)
    conn.close()
    engine.dispose()
    return None


def holder(url: str, purpose: str) -> dict[str, str]:
    """pid, host and role of a holder of this lock (fields it named itself; {} if none)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            name = conn.execute(text(
                "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
                f" WHERE l.locktype = 'advisory' AND l.classid = {LOCK_CLASS} AND l.objsubid = 2"
                f" AND l.objid = ({_KEY})::bigint::oid AND l.granted LIMIT 1"), {"purpose": purpose}).scalar() or ""
    finally:
        engine.dispose()
    return dict(part.split("=", 1) for part in name.split() if "=" in part)


def _refuse(url: str, purpose: str) -> AlreadyRunning:
    found = holder(url, purpose)
    return AlreadyRunning(holder_text(found.get("pid", "?"), found.get("host", "?")))


def lock_all(url: str) -> RoleLock:
    """`run --role all` on PostgreSQL: the instance lock, and no poller running."""
    run = try_lock(url, "run:", "all")
    if run is None:
        raise _refuse(url, "run:")
    pollers = try_lock(url, "pollers:", "all")
    if pollers is None:
        run.release()
        found = holder(url, "pollers:")
        raise AlreadyRunning(f"wirewatch pollers are running on this database (pid {found.get('pid', '?')}, "
                             f"host {found.get('host', '?')}): stop them, or run --role core beside them")
    return RoleLock(run, pollers)


def lock_poller(url: str) -> RoleLock:
    held = try_lock(url, "pollers:", "poller", shared=True)
    if held is None:
        found = holder(url, "pollers:")
        raise AlreadyRunning(f"a single-process wirewatch (--role all) is running on this database "
                             f"(pid {found.get('pid', '?')}, host {found.get('host', '?')}): pollers need --role core")
    return RoleLock(held)


async def lock_core(url: str) -> RoleLock:
    """The core lock, waiting as a standby while another core holds it; refused beside --role all."""
    waiting = False
    while True:
        held = await asyncio.to_thread(try_lock, url, "run:", "core")
        if held is not None:
            if waiting:
                log.warning("standby: took over the core lock")
            return RoleLock(held)
        found = await asyncio.to_thread(holder, url, "run:")
        if found.get("role") != "core" and found:  # a single process, or an older wirewatch
            raise AlreadyRunning(holder_text(found.get("pid", "?"), found.get("host", "?")))
        if not waiting:
            log.info("standby: the core lock is held (pid %s, host %s); waiting to take over",
                     found.get("pid", "?"), found.get("host", "?"))
            waiting = True
        await asyncio.sleep(RETRY)
