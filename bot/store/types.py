"""Column types that clean and bound every string before it reaches the database.

PostgreSQL refuses a NUL character in text (`DataError`) and a string longer than its VARCHAR
(`StringDataRightTruncation`); SQLite takes both. Feeds send both (a NUL in a JSON Feed id, a
700-character GUID), so one feed's odd item must not depend on the backend. Every bound value,
in INSERTs, UPDATEs and WHERE clauses alike, goes through the same cleaning, so a lookup by a
cleaned value finds the stored row.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import JSON, String, Text
from sqlalchemy.types import TypeDecorator

HASH_TAIL = 1 + 64  # "#" and a sha256 hex digest


def clean(text: str) -> str:
    """Without NUL characters and lone surrogates (neither can be stored in PostgreSQL text)."""
    if "\x00" in text:
        text = text.replace("\x00", "")
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            text = text.encode("utf-8", "replace").decode("utf-8")
    return text


def bounded_key(text: str, length: int) -> str:
    """The cleaned text, or when longer than `length`, its head and a hash of the whole: still unique."""
    text = clean(text)
    if len(text) <= length:
        return text
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return f"{text[: length - HASH_TAIL]}#{digest}"


def clean_json(value: Any) -> Any:
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, dict):
        return {clean(str(k)): clean_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean_json(v) for v in value]
    return value


class BoundedString(TypeDecorator):
    """VARCHAR(n): cleaned, and cut to n characters (a guid, a URL, a name: informative, not keys)."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect) -> str | None:
        if value is None or not isinstance(value, str):
            return value
        value = clean(value)
        return value if self.length is None or len(value) <= self.length else value[: self.length]

    @property
    def length(self) -> int | None:
        return self.impl.length


class KeyString(BoundedString):
    """VARCHAR(n) for unique keys: a longer value keeps its head and gets a hash of the whole."""

    cache_ok = True

    def process_bind_param(self, value: str | None, dialect) -> str | None:
        if value is None or not isinstance(value, str):
            return value
        return bounded_key(value, self.length) if self.length else clean(value)


class CleanText(TypeDecorator):
    """TEXT: unbounded, cleaned."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect) -> str | None:
        return clean(value) if isinstance(value, str) else value


class CleanJSON(TypeDecorator):
    """JSON whose strings (keys and values) are cleaned."""

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: Any, dialect) -> Any:
        return None if value is None else clean_json(value)
