"""rules/<topic-id>.toml -> Topic, and RuleMatcher: every topic's query against one item.

Loading never raises on a bad file: each problem names the file, the key (and for a query the
line and column in the file) so `wirewatch check` can list them all at once.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.errors import Problem, RuleSyntaxError
from bot.match.nodes import Doc, Node, evaluate
from bot.match.prefilter import Prefilter
from bot.match.query import parse_query
from bot.models import Item, Match

MODES = ("rules", "filter", "expand", "classifier")
_ID = re.compile(r"[a-z0-9][a-z0-9_-]*")
_TOP_KEYS = ("name", "description", "query", "classifier")
_CLASSIFIER_KEYS = ("mode", "threshold", "expand_threshold", "min_labels", "positive", "negative")
_QUERY_START = re.compile(r"""^[ \t]*query[ \t]*=[ \t]*('''|\"\"\"|'|")""", re.MULTILINE)
_TOML_AT = re.compile(r"\(at line (\d+), column (\d+)\)")


@dataclass(frozen=True)
class ClassifierSpec:
    mode: str
    threshold: float = 0.5
    expand_threshold: float = 0.8
    min_labels: int = 20
    positive: tuple[str, ...] = ()
    negative: tuple[str, ...] = ()


@dataclass(frozen=True)
class Topic:
    id: str
    name: str
    description: str
    query_text: str
    query: Node
    classifier: ClassifierSpec | None
    file: Path


class _Checker:
    """Reads typed values out of one parsed rule file, collecting a Problem per bad key."""

    def __init__(self, path: Path, text: str):
        self.path, self.text, self.problems = path, text, []

    def problem(self, key: str, reason: str) -> None:
        self.problems.append(Problem(f"{self.path}: {key}", reason))

    def unknown(self, table: dict[str, Any], allowed: tuple[str, ...], prefix: str = "") -> None:
        for key in table:
            if key not in allowed:
                self.problem(prefix + key, f"unknown key (allowed: {', '.join(allowed)})")

    def string(self, table: dict[str, Any], key: str, required: bool) -> str | None:
        value = table.get(key)
        if value is None:
            if required:
                self.problem(key, "missing (a string is required)")
            return None if required else ""
        if not isinstance(value, str) or (required and not value.strip()):
            self.problem(key, f"must be a non-empty string, not {value!r}")
            return None
        return value

    def fraction(self, table: dict[str, Any], key: str, default: float) -> float:
        value = table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            self.problem(f"classifier.{key}", f"must be a number from 0 to 1, not {value!r}")
            return default
        return float(value)

    def count(self, table: dict[str, Any], key: str, default: int) -> int:
        value = table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            self.problem(f"classifier.{key}", f"must be a whole number >= 0, not {value!r}")
            return default
        return value

    def texts(self, table: dict[str, Any], key: str) -> tuple[str, ...]:
        value = table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            self.problem(f"classifier.{key}", "must be a list of non-empty strings")
            return ()
        return tuple(value)

    def classifier(self, table: Any) -> ClassifierSpec | None:
        if not isinstance(table, dict):
            self.problem("classifier", "must be a table ([classifier])")
            return None
        self.unknown(table, _CLASSIFIER_KEYS, "classifier.")
        mode = table.get("mode")
        if mode not in MODES:
            self.problem("classifier.mode", f"must be one of {', '.join(MODES)}, not {mode!r}")
        spec = ClassifierSpec(
            mode=str(mode),
            threshold=self.fraction(table, "threshold", 0.5),
            expand_threshold=self.fraction(table, "expand_threshold", 0.8),
            min_labels=self.count(table, "min_labels", 20),
            positive=self.texts(table, "positive"),
            negative=self.texts(table, "negative"),
        )
        if spec.mode == "expand" and spec.expand_threshold < spec.threshold:
            self.problem("classifier.expand_threshold", "must not be below classifier.threshold")
        return spec

    def query(self, query_text: str) -> Node | None:
        try:
            return parse_query(query_text)
        except RuleSyntaxError as exc:
            line, column = query_position(self.text, exc.line, exc.column)
            detail = f"; expected {exc.expected}" if exc.expected else ""
            self.problems.append(Problem(f"{self.path}:{line}:{column}: query", exc.message + detail))
            return None


def query_position(file_text: str, line: int, column: int) -> tuple[int, int]:
    """Map a line/column inside the query string to the file (best effort: escapes shift columns)."""
    found = _QUERY_START.search(file_text)
    if not found:
        return line, column
    start = found.end()
    first_line = file_text.count("\n", 0, start) + 1
    first_column = start - (file_text.rfind("\n", 0, start) + 1) + 1
    if len(found.group(1)) == 3 and file_text[start : start + 2].lstrip("\r").startswith("\n"):
        first_line, first_column = first_line + 1, 1  # TOML drops a newline right after '''
    if line == 1:
        return first_line, first_column + column - 1
    return first_line + line - 1, column


def parse_rule_file(path: Path, text: str) -> tuple[Topic | None, list[Problem]]:
    """Validate one rule file's text; return the topic (None if anything is wrong) and its problems."""
    check = _Checker(path, text)
    if not _ID.fullmatch(path.stem):
        check.problems.append(Problem(str(path), "the file name is the topic id and must match [a-z0-9][a-z0-9_-]*"))
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        at = _TOML_AT.search(str(exc))
        where = f"{path}:{at.group(1)}:{at.group(2)}" if at else str(path)
        return None, [*check.problems, Problem(where, f"not valid TOML: {exc}")]
    check.unknown(data, _TOP_KEYS)
    name = check.string(data, "name", required=True)
    description = check.string(data, "description", required=False)
    query_text = check.string(data, "query", required=True)
    query = check.query(query_text) if query_text else None
    classifier = check.classifier(data["classifier"]) if "classifier" in data else None
    if check.problems or name is None or description is None or query is None or query_text is None:
        return None, check.problems
    return Topic(path.stem, name, description, query_text, query, classifier, path), []


def load_rules(rules_dir: Path) -> tuple[dict[str, Topic], list[Problem]]:
    """Load every rules_dir/*.toml; topics by id (sorted) and every problem found, never raising."""
    if not rules_dir.is_dir():
        return {}, [Problem(str(rules_dir), "rules directory not found")]
    topics: dict[str, Topic] = {}
    problems: list[Problem] = []
    for path in sorted(rules_dir.glob("*.toml")):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(Problem(str(path), f"cannot read: {exc}"))
            continue
        topic, found = parse_rule_file(path, text)
        problems.extend(found)
        if topic:
            topics[topic.id] = topic
    return topics, problems + name_clashes(topics.values())


def name_clashes(topics: Iterable[Topic]) -> list[Problem]:
    """A topic named like another topic's name or id, ignoring case, one problem per clash.

    Labels (`wirewatch train`) and /subscribe find a topic by id or name, ignoring case; two
    topics answering to one word would take each other's labels, so the word must be unique.
    A name may equal its own topic's id. Reported on the file whose name clashes, naming the other
    (of two equal names, the later file in sorted order).
    """
    topics = list(topics)
    owner = {t.id.casefold(): t for t in topics}
    out = []
    for t in topics:
        key = t.name.casefold()
        other = owner.setdefault(key, t)
        if other is not t:
            what = "id" if key == other.id.casefold() else "name"
            out.append(Problem(f"{t.file}: name", f"{t.name!r} is the {what} of the topic in {other.file} "
                                                  "(topic names and ids must differ, ignoring case)"))
    return out


class RuleMatcher:
    """All topics' queries compiled once; an Aho-Corasick pass picks the topics worth evaluating."""

    def __init__(self, topics: Iterable[Topic]) -> None:
        self.topics = tuple(topics)
        self._prefilter = Prefilter([t.query for t in self.topics])

    def match_doc(self, doc: Doc) -> list[Match]:
        """Matches for an already tokenized item, in topic order."""
        out = []
        for i in self._prefilter.candidates(doc.all_tokens()):
            hits = evaluate(self.topics[i].query, doc)
            if hits is not None:
                out.append(Match(self.topics[i].id, 1.0, tuple(dict.fromkeys(hits))))
        return out

    def match(self, item: Item) -> list[Match]:
        """Every topic whose query is true for the item, with the terms that hit."""
        return self.match_doc(Doc(item.title, item.summary, item.source, item.body))

    def match_text(self, title: str, summary: str = "", source: str = "", body: str = "") -> list[Match]:
        """Like match() for loose text (the `wirewatch match TEXT` command)."""
        return self.match_doc(Doc(title, summary, source, body))

    def explain(self, item: Item) -> dict[str, tuple[str, ...]]:
        """Topic id -> why, for the topics that match."""
        return {m.topic: m.why for m in self.match(item)}
