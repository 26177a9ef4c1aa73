"""Score the story clusterer against labelled Item JSONL (DESIGN.md "Item JSONL").

Items are streamed in `published` order (stable); an item without a date keeps its place in the
file by taking the date of the item before it. The clusterer sees no labels.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.config import StorySettings
from bot.errors import InputError
from bot.models import Item, StoryDecision
from bot.stories.cluster import StoryClusterer
from bot.stories.metrics import PRF, Mix, bcubed, pairwise, worst_mixes

# Date given to undated items at the start of a file: any fixed instant works.
UNDATED = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class ClusterReport:
    """Scores of one clustering run, with the clusters that went most wrong."""

    items: int
    gold_clusters: int
    predicted_clusters: int
    bcubed: PRF
    pairwise: PRF
    merges: tuple[Mix, ...]  # predicted stories that mix gold stories
    splits: tuple[Mix, ...]  # gold stories spread over predicted stories
    us_per_item: float

    def format_text(self) -> str:
        """A terminal-friendly report."""
        b, p = self.bcubed, self.pairwise
        lines = [
            f"items {self.items}   gold stories {self.gold_clusters}   "
            f"predicted stories {self.predicted_clusters}",
            f"B-cubed   precision {b.precision:.3f}   recall {b.recall:.3f}   F1 {b.f1:.3f}",
            f"pairwise  precision {p.precision:.3f}   recall {p.recall:.3f}   F1 {p.f1:.3f}",
            f"time      {self.us_per_item:.0f} us per item",
        ]
        lines += _format_mixes("worst merges (one predicted story, several gold stories)",
                               self.merges, "gold")
        lines += _format_mixes("worst splits (one gold story, several predicted stories)",
                               self.splits, "pred")
        return "\n".join(lines)


def _format_mixes(heading: str, mixes: Sequence[Mix], part: str) -> list[str]:
    lines = ["", heading + (":" if mixes else ": none")]
    for mix in mixes:
        lines.append(f"  {mix.cluster} ({mix.size} items)")
        for label, count, title in mix.parts[:4]:
            lines.append(f"    {count:4d} x {part} {label}: {_clip(title, 70)}")
        if len(mix.parts) > 4:
            lines.append(f"    ... and {len(mix.parts) - 4} more")
    return lines


def _clip(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def load_items_jsonl(path: str | Path) -> list[tuple[Item, dict[str, Any]]]:
    """Read Item JSONL: each Item with {"id", "labels", "story"}. Bad lines raise InputError."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read: {exc}") from None
    out: list[tuple[Item, dict[str, Any]]] = []
    previous = UNDATED
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item, meta = parse_item(json.loads(line), previous)
        except (json.JSONDecodeError, ValueError, TypeError) as exc:
            raise InputError(f"{path}:{number}: {exc}") from None
        previous = item.published
        out.append((item, meta))
    return out


def parse_item(obj: Any, undated: datetime) -> tuple[Item, dict[str, Any]]:
    """One JSONL object as an Item and its labels; raises ValueError naming the bad field."""
    if not isinstance(obj, dict):
        raise ValueError("expected a JSON object")
    if obj.get("id") in (None, ""):
        raise ValueError('missing "id"')
    title, url, source = _text(obj, "title"), _text(obj, "url"), _text(obj, "source")
    summary = _text(obj, "summary") or _text(obj, "text")
    if title and summary.startswith(title):
        summary = summary[len(title) :].lstrip()  # full texts often repeat the title as line one
    labels = obj.get("labels") or []
    if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
        raise ValueError('"labels" must be a list of strings')
    item_id = str(obj["id"])
    item = Item(key=f"id:{item_id}", title=title, summary=summary, url=url or None,
                source=source, published=_date(obj.get("published"), undated))
    story = obj.get("story", obj.get("event"))  # ECB+ calls its gold story "event"
    return item, {"id": item_id, "labels": labels, "story": None if story is None else str(story)}


def _text(obj: dict[str, Any], key: str) -> str:
    value = obj.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError(f'"{key}" must be a string')
    return value


def _date(value: Any, undated: datetime) -> datetime:
    if value in (None, ""):
        return undated
    if not isinstance(value, str):
        raise ValueError('"published" must be an ISO 8601 string')
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f'"published" is not ISO 8601: {value!r}') from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def gold_stories(rows: Sequence[tuple[Item, dict[str, Any]]], path: str | Path) -> list[str]:
    """The gold story of every loaded item; InputError names the first item without one."""
    for _, meta in rows:
        if meta["story"] is None:
            raise InputError(f'{path}: item {meta["id"]} has no "story" (gold story id) '
                             "to score against")
    return [meta["story"] for _, meta in rows]


def in_time_order(items: Sequence[Item]) -> list[int]:
    """Indexes of items by published time; ties keep input order."""
    return sorted(range(len(items)), key=lambda i: items[i].published)


def run_stream(items: Sequence[Item], settings: StorySettings) -> list[StoryDecision]:
    """Stream items in time order through a fresh clusterer; decisions come back in input order."""
    clusterer = StoryClusterer(settings)
    decisions: list[StoryDecision | None] = [None] * len(items)
    for i in in_time_order(items):
        decisions[i] = clusterer.assign(items[i])
    return decisions  # type: ignore[return-value]


def eval_clusters(items: Sequence[Item], gold: Sequence[str], settings: StorySettings,
                  worst: int = 5) -> ClusterReport:
    """Cluster items as a stream and score the stories against gold story ids."""
    if len(items) != len(gold):
        raise ValueError("items and gold differ in length")
    started = time.perf_counter()
    pred = [d.story_id for d in run_stream(items, settings)]
    elapsed = time.perf_counter() - started
    titles = [item.title for item in items]
    return ClusterReport(
        items=len(items),
        gold_clusters=len(set(gold)),
        predicted_clusters=len(set(pred)),
        bcubed=bcubed(pred, gold),
        pairwise=pairwise(pred, gold),
        merges=tuple(worst_mixes(pred, gold, titles, worst)),
        splits=tuple(worst_mixes(gold, pred, titles, worst)),
        us_per_item=1e6 * elapsed / max(1, len(items)),
    )
