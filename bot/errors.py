"""One error hierarchy. Bad input is a WirewatchError with a message that names what and where;
anything else that escapes is a bug."""

from __future__ import annotations

from dataclasses import dataclass


class WirewatchError(Exception):
    """Bad input or environment: reported to the user, exit code 1."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one input: `where` is e.g. 'config.toml: polling.interval'."""

    where: str
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"


class ConfigError(WirewatchError):
    """All problems found in config.toml and rules/*.toml, reported together."""

    def __init__(self, problems: list[Problem], *, partial: object = None):
        self.problems = list(problems)
        # what did validate (a ConfigDraft, or the Config when only rules failed), so `check` can
        # go on to the problems `run` would meet and report them in the same run
        self.partial = partial
        super().__init__("\n".join(str(p) for p in self.problems))


class RuleSyntaxError(WirewatchError):
    """A query that does not parse; line and column are 1-based within the query text."""

    def __init__(self, message: str, line: int, column: int, expected: str = ""):
        self.message, self.line, self.column, self.expected = message, line, column, expected
        detail = f"; expected {expected}" if expected else ""
        super().__init__(f"line {line}, column {column}: {message}{detail}")


class InputError(WirewatchError):
    """A bad JSONL input line or command argument: names the file and line."""


class FeedError(WirewatchError):
    """A feed could not be fetched or parsed. Recorded on the feed, never raised past the pipeline."""

    def __init__(self, kind: str, message: str, retry_after: float | None = None):
        self.kind, self.message, self.retry_after = kind, message, retry_after
        super().__init__(f"{kind}: {message}")
