"""Where alerts go without Telegram (or in addition): the console and a JSONL file."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TextIO

from bot.alerts.compose import alert_to_json, format_console
from bot.alerts.outbox import DeliveryError
from bot.models import Alert
from bot.store.db import OutboxRow


class ConsoleSink:
    """Prints a readable block per alert."""

    def __init__(self, stream: TextIO | None = None, timezone: str = "UTC"):
        self.stream = stream or sys.stdout
        self.timezone = timezone

    async def send(self, alert: Alert, row: OutboxRow) -> str | None:
        """Print the alert."""
        print(format_console(alert, self.timezone), file=self.stream, flush=True)
        return None


class JsonlSink:
    """Appends one JSON object per alert or update; fsynced before the outbox row is marked sent."""

    def __init__(self, path: Path):
        self.path = path

    async def send(self, alert: Alert, row: OutboxRow) -> str | None:
        """Append the alert as one line."""
        line = json.dumps(alert_to_json(alert), ensure_ascii=False) + "\n"
        try:
            with self.path.open("a", encoding="utf-8") as f:
                f.write(line)
                f.flush()
                os.fsync(f.fileno())
        except OSError as exc:
            raise DeliveryError(f"cannot write {self.path}: {exc.strerror}", retry_after=60) from exc
        return None
