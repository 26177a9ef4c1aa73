"""Item JSONL, the input of match / replay / eval (DESIGN.md "Item JSONL").

One JSON object per line: `id` (required), `title`, `summary`, `text` (the article body), `url`,
`source`, `published` (ISO 8601), and for eval `labels` or `story`. Unknown keys are ignored.
A record with only `text` gets its summary from the text's start, as a feed item would.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from bot.errors import InputError
from bot.ingest.htmltext import html_to_text
from bot.ingest.normalize import canonical_url, content_hash, summary_and_body
from bot.models import Item

# Items without a date all get this one, so "published order" is file order for them.
UNDATED = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class ItemRecord:
    id: str
    item: Item
    dated: bool
    labels: tuple[str, ...] = ()
    story: str | None = None


def read_items(path: str | Path, stdin: TextIO | None = None) -> Iterator[ItemRecord]:
    """Yield records in file order ("-": from stdin); a bad line raises InputError naming the
    file and line, and so does an id that an earlier line had (its decisions would be ambiguous)."""
    if str(path) == "-":
        yield from _records(stdin or sys.stdin, "<stdin>")
        return
    path = Path(path)
    try:
        f = path.open(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from None
    with f:
        yield from _records(f, str(path))


def _records(lines: Iterable[str], name: str) -> Iterator[ItemRecord]:
    first: dict[str, int] = {}  # id -> the line that had it
    for number, line in enumerate(lines, 1):
        if line.strip():
            record = _record(line, f"{name}:{number}")
            seen = first.setdefault(record.id, number)
            if seen != number:
                raise InputError(f"{name}:{number}: id {record.id!r} repeats line {seen}")
            yield record


def _record(line: str, where: str) -> ItemRecord:
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise InputError(f"{where}: not valid JSON: {exc.msg} (column {exc.colno})") from None
    if not isinstance(data, dict):
        raise InputError(f"{where}: expected a JSON object")
    if data.get("id") in (None, ""):
        raise InputError(f"{where}: missing required key 'id'")
    published = _date(data.get("published"), where)
    labels = data.get("labels") or []
    if not isinstance(labels, list):
        raise InputError(f"{where}: 'labels' must be a list of topic ids")
    item = _item(data, published or UNDATED)
    story = data.get("story", data.get("event"))  # ECB+ names its gold story "event"
    return ItemRecord(str(data["id"]), item, published is not None, tuple(map(str, labels)), None if story is None else str(story))


def _item(data: dict, published: datetime) -> Item:
    title = html_to_text(str(data.get("title") or ""))
    text = html_to_text(str(data.get("text") or ""))
    rest = text[len(title) :] if title and text.startswith(title) else None
    if rest is not None and not rest[:1].isalnum():
        text = rest.lstrip()  # full texts often repeat the title as line one
    summary, body = summary_and_body(html_to_text(str(data.get("summary") or "")), text)
    url = canonical_url(str(data["url"])) if data.get("url") else None
    return Item(
        key=f"id:{data['id']}", title=title, summary=summary, url=url,
        source=str(data.get("source") or ""), published=published,
        content_hash=content_hash(title, summary), body=body,
    )


def _date(value: object, where: str) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"{where}: 'published' is not an ISO 8601 date: {value!r}") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def item_from_text(text: str) -> Item:
    """An item for `wirewatch match TEXT`: the first line is the title, the rest the summary."""
    title, _, rest = text.strip().partition("\n")
    return Item(key="text", title=title, summary=rest.strip(), url=None, source="", published=datetime.now(UTC))
