"""Parsing where a runaway can be stopped: the slow path (feedparser) runs in worker processes and
a worker still busy at the deadline is killed, so one feed never holds the cycle.

JSON Feeds, the limits check and the fast path (C parsers, linear) run in a thread of this
process, as before; only what they decline crosses to a worker. Workers are started on first use
(spawned, so they hold no copy of this process and no threads of it) and replaced when killed.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import traceback
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from bot.errors import FeedError
from bot.ingest.parse import parse_quick, parse_slow
from bot.models import ParsedFeed

MEMORY_LIMIT = 1 << 30  # bytes of address space a worker may use: a parse that needs more fails


class ParseWorkerError(Exception):
    """A bug in the worker's parse (its traceback is in the message); not a feed problem."""


class InlineParser:
    """Everything in a thread of this process: no deadline (tests, `wirewatch fetch`)."""

    async def parse(self, body: bytes, *, url: str, content_type: str | None = None) -> ParsedFeed:
        from bot.ingest.parse import parse_feed

        return await asyncio.to_thread(parse_feed, body, url=url, content_type=content_type)

    async def close(self) -> None:
        return None


@dataclass
class _Worker:
    process: Any
    conn: Connection


class ParsePool:
    """parse() like parse_feed, with feedparser in `workers` processes stopped after `timeout` s."""

    def __init__(self, *, timeout: float, workers: int = 1):
        self.timeout, self.size = timeout, workers
        self._context = multiprocessing.get_context("spawn")
        self._idle: asyncio.Queue[_Worker | None] | None = None
        self.killed = 0  # workers stopped at the deadline (for tests and /status)

    async def parse(self, body: bytes, *, url: str, content_type: str | None = None,
                    fast: bool = True) -> ParsedFeed:
        """fast=False sends every RSS / Atom body to feedparser (tests compare the two)."""
        quick = await asyncio.to_thread(parse_quick, body, url=url, content_type=content_type, fast=fast)
        if quick is not None:
            return quick
        return await self._slow((body, url, content_type))

    async def _slow(self, job: tuple) -> ParsedFeed:
        idle = self._queue()
        worker = await idle.get()  # waiting for a free worker does not count against the deadline
        try:
            worker = worker or await asyncio.to_thread(self._spawn)
            answer = await asyncio.to_thread(self._exchange, worker, job)
        except BaseException:
            idle.put_nowait(None)  # cancelled mid-exchange: the worker's state is unknown
            if worker is not None:
                self._stop(worker)
            raise
        if answer is None:
            self._stop(worker)
            worker = None
        idle.put_nowait(worker)
        return _result(answer, self.timeout)

    def _queue(self) -> asyncio.Queue[_Worker | None]:
        if self._idle is None:  # created in the running loop; None slots are started on demand
            self._idle = asyncio.Queue()
            for _ in range(self.size):
                self._idle.put_nowait(None)
        return self._idle

    def _spawn(self) -> _Worker:
        ours, theirs = self._context.Pipe()
        process = self._context.Process(target=_serve, args=(theirs,), daemon=True,
                                        name="wirewatch-parse")
        process.start()
        theirs.close()
        return _Worker(process, ours)

    def _exchange(self, worker: _Worker, job: tuple) -> tuple | None:
        """The worker's answer, or None when it is past the deadline or died."""
        try:
            worker.conn.send(job)
            if not worker.conn.poll(self.timeout):
                self.killed += 1
                return None
            return worker.conn.recv()
        except (EOFError, OSError):
            return ("died",)

    @staticmethod
    def _stop(worker: _Worker) -> None:
        worker.process.kill()
        worker.process.join()
        worker.conn.close()

    async def close(self) -> None:
        """Stop every worker (idle ones; a busy one is stopped when its parse returns)."""
        if self._idle is None:
            return
        while not self._idle.empty():
            worker = self._idle.get_nowait()
            if worker is not None:
                with contextlib.suppress(OSError):
                    worker.conn.send(None)
                await asyncio.to_thread(self._stop, worker)
        self._idle = None


def _result(answer: tuple | None, timeout: float) -> ParsedFeed:
    if answer is None:
        raise FeedError("parse_timeout", f"parsing took longer than {timeout:g}s; stopped")
    kind = answer[0]
    if kind == "ok":
        return answer[1]
    if kind == "feed":
        raise FeedError(answer[1], answer[2])
    if kind == "died":
        raise FeedError("parse_crash", "the parser process died on this document")
    raise ParseWorkerError(answer[1])


# ---- the worker process ------------------------------------------------------------------------


def _serve(conn: Connection) -> None:
    """Parse jobs until told to stop (None) or the pipe closes."""
    _limit_memory()
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        conn.send(_answer(*job))


def _answer(body: bytes, url: str, content_type: str | None) -> tuple:
    try:
        return ("ok", parse_slow(body, url=url, content_type=content_type))
    except FeedError as exc:
        return ("feed", exc.kind, exc.message)
    except MemoryError:
        return ("feed", "too_complex", f"parsing needed more than {MEMORY_LIMIT >> 20} MB")
    except Exception:  # noqa: BLE001 - sent back whole, logged by the pipeline
        return ("bug", traceback.format_exc())


def _limit_memory() -> None:
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        cap = MEMORY_LIMIT if hard == resource.RLIM_INFINITY else min(MEMORY_LIMIT, hard)
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    except (ImportError, ValueError, OSError):  # not on this platform: the deadline still holds
        pass
