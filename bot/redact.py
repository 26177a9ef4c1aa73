"""Keep secrets (the Telegram bot token) out of every log line, traceback and stack dump.

python-telegram-bot puts the token in every request URL (`/bot<token>/getMe`) and logs that URL
at DEBUG ("Set Bot API URL: …"); httpx logs request URLs at INFO; an exception raised deep in a
request can carry the URL too. A logging.Filter on each handler sees every record that reaches
an output, whichever logger it came from (a filter on a logger sees only that logger's own
records, not its children's), so the Redactor is put on every handler of the root logger and of
the libraries' loggers, and on those loggers themselves for handlers added to them later.

It is installed by the App (not at import time) and removed when the App stops.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from urllib.parse import quote

REDACTED = "<redacted>"
# The loggers whose handlers (if any) get the filter besides the root's: the libraries that see
# the token, and our own.
LOGGERS = ("", "telegram", "telegram.ext", "httpx", "httpcore", "apscheduler", "aiohttp", "asyncio", "bot")
_TRACEBACKS = logging.Formatter()


def secret_forms(token: str) -> tuple[str, ...]:
    """The spellings of a token that can appear in output: as is, URL-quoted, its secret half."""
    forms = {token, quote(token, safe=""), quote(token)}
    _, _, secret = token.partition(":")
    if len(secret) >= 8:  # "123456:ABC…": the bot id is public (it is in the bot's user id)
        forms.add(secret)
    return tuple(sorted((f for f in forms if f), key=len, reverse=True))


class Redactor(logging.Filter):
    """Replaces every form of the secrets in a record's message, traceback and stack info."""

    def __init__(self, secrets: Iterable[str]):
        super().__init__()
        self.forms = tuple(f for s in secrets if s for f in secret_forms(s))

    def redact(self, text: str) -> str:
        for form in self.forms:
            if form in text:
                text = text.replace(form, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string: logging reports it, unredacted args go
            message, record.args = str(record.msg), None
        clean = self.redact(message)
        if clean != message or record.args:
            record.msg, record.args = clean, None  # formatted once, here, without the secret
        if record.exc_info and not record.exc_text:
            record.exc_text = _TRACEBACKS.formatException(record.exc_info)  # formatters reuse it
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def install(redactor: Redactor, loggers: Iterable[str] = LOGGERS) -> Callable[[], None]:
    """Put the redactor on these loggers and all their handlers; returns the undo."""
    targets: list[logging.Filterer] = []
    for name in loggers:
        logger = logging.getLogger(name)
        targets.append(logger)
        targets.extend(logger.handlers)
    for target in targets:
        target.addFilter(redactor)

    def uninstall() -> None:
        for target in targets:
            target.removeFilter(redactor)

    return uninstall
