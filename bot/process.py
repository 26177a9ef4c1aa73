"""What every command's process shares: exit codes, logging, stop signals, the config path.

Its own module so that bot.cli (argument parsing) and bot.commands (the commands) both use it
without importing each other.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path

EXIT_OK, EXIT_INPUT, EXIT_USAGE = 0, 1, 2  # 2 as argparse exits for usage errors
EXIT_HELD = 3  # run --once: work held by a full disk; nothing lost, a later run does it (cron sees a failure)


def setup_logging(level: str) -> None:
    logging.basicConfig(level=level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("apscheduler", "httpx", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def install_stop_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not on the main thread / platform
            loop.add_signal_handler(sig, stop.set)


def now_utc() -> datetime:
    return datetime.now(UTC)


def config_path(args: argparse.Namespace) -> Path:
    from bot.config import default_config_path

    return default_config_path(getattr(args, "config", None))
