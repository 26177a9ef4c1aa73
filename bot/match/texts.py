"""What the topic classifier learns from and reads, as text: numpy-free, so a run whose topics
have no trained model never imports numpy or scikit-learn (start-up is every `run --once`'s cost).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.text import words

# An article body adds its first this many tokens (the lede, where news states its facts): a
# 3,000-word body would otherwise outweigh the title's dozen words in every L2-normalized block.
BODY_TOKENS = 250


def item_text(title: str, summary: str, body: str = "") -> str:
    """The text a label stores and the classifier reads: title, newline, summary (and, when the
    item has a body, the folded tokens of the summary and the body's start, see body_tokens)."""
    if body:
        summary = " ".join(body_tokens(words(summary), words(body)))
    return f"{title}\n{summary}" if summary else title


def body_tokens(summary: list[str], body: list[str]) -> list[str]:
    """The tokens after the title: the summary, then the body's first BODY_TOKENS tokens; a
    summary that is the body's own start (a teaser from the lede) is not counted twice."""
    if not body:
        return summary
    if body[: len(summary)] == summary:
        return body[: max(len(summary), BODY_TOKENS)]
    return summary + body[:BODY_TOKENS]


Tokens = tuple[list[str], list[str]]  # folded tokens of the title and of the summary


def tokens(text: str) -> Tokens:
    """Folded tokens of the title (first line) and of the rest."""
    title, _, summary = text.partition("\n")
    return words(title), words(summary)


@dataclass(frozen=True)
class LabelRow:
    """One stored label: text (title, newline, summary) belongs (1) or not (0) to a topic."""

    topic: str
    text: str
    label: int
    origin: str = "file"  # button | file
    user_id: int | None = None
    item_id: int | None = None


@dataclass(frozen=True)
class PoolItem:
    """An unlabelled item the rules can label weakly."""

    text: str  # item_text: title, newline, summary (and the body's start)
    source: str = ""
    body: str = ""  # the whole body, for the rule's verdict
