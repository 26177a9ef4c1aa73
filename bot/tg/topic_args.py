"""Command arguments naming topics and durations: /subscribe, /unsubscribe, /mute, /unmute. Pure.

Topics are named by id or name in any case, separated by spaces or commas; a name of several
words is matched whole (the longest run of words that names a topic wins); `all` or `*` is every
topic. Durations are a number and a unit: 30m, 2h, 1d, 1w (also "2 hours", "3 days").
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta

EVERY = ("all", "*")
_UNIT_WORDS = {
    "m": 60, "min": 60, "mins": 60, "minute": 60, "minutes": 60,
    "h": 3600, "hr": 3600, "hrs": 3600, "hour": 3600, "hours": 3600,
    "d": 86400, "day": 86400, "days": 86400,
    "w": 604800, "week": 604800, "weeks": 604800,
}
_SHAPE = re.compile(r"^([+-]?)(\d+)\s*([^\d\s]*)$")
LONGEST = timedelta(weeks=52)
HINT = "use a number and m, h, d or w, e.g. 30m, 2h, 1d, 1w"


@dataclass(frozen=True)
class TopicWords:
    """What a list of words named: topic ids in order, and the words naming no topic."""

    found: tuple[str, ...]
    unknown: tuple[str, ...]
    every: bool = False  # `all` or `*` was among them


def resolve(words: Sequence[str], names: Mapping[str, str]) -> TopicWords:
    """Topic ids for words naming topics (names: topic id -> display name)."""
    keys = {name.casefold(): tid for tid, name in names.items()}
    keys.update((tid.casefold(), tid) for tid in names)  # an id wins over another topic's name
    found: list[str] = []
    unknown: list[str] = []
    every = False
    for chunk in " ".join(words).split(","):
        tokens = chunk.split()
        i = 0
        while i < len(tokens):
            j = next((j for j in range(len(tokens), i, -1) if " ".join(tokens[i:j]).casefold() in keys), None)
            if j is not None:
                found.append(keys[" ".join(tokens[i:j]).casefold()])
                i = j
                continue
            if tokens[i].casefold() in EVERY:
                every = True
                found.extend(names)
            else:
                unknown.append(tokens[i])
            i += 1
    return TopicWords(tuple(dict.fromkeys(found)), tuple(dict.fromkeys(unknown)), every)


def is_duration_like(word: str) -> bool:
    """Does a word look meant as a duration (a number first), right or wrong?"""
    return bool(re.match(r"^[+-]?\d", word.strip()))


def split_duration(args: Sequence[str]) -> tuple[list[str], str | None]:
    """(the other words, the duration text or None): the duration is the last word, or the last
    two when they read "2 hours"."""
    args = list(args)
    if len(args) >= 2 and args[-2].isdigit() and args[-1].casefold() in _UNIT_WORDS:
        return args[:-2], f"{args[-2]} {args[-1]}"
    if args and is_duration_like(args[-1]):
        return args[:-1], args[-1]
    return args, None


def parse_duration(text: str) -> timedelta:
    """'90m', '2h', '1d', '1w', '2 hours' -> timedelta; ValueError saying what is wrong."""
    m = _SHAPE.match(text.strip())
    if not m:
        raise ValueError(f"{text!r} is not a duration ({HINT})")
    sign, number, unit = m.group(1), int(m.group(2)), m.group(3).casefold()
    if sign == "-":
        raise ValueError(f"{text!r}: a duration cannot be negative ({HINT})")
    if not unit:
        raise ValueError(f"{text!r} has no unit: {number}m, {number}h, {number}d or {number}w?")
    if unit not in _UNIT_WORDS:
        raise ValueError(f"{text!r}: unknown unit {unit!r} ({HINT})")
    if number == 0:
        raise ValueError(f"{text!r} is no time at all: the shortest is 1m")
    span = timedelta(seconds=number * _UNIT_WORDS[unit])
    if span > LONGEST:
        raise ValueError(f"{text!r} is longer than 52w: leave the duration out to mute until /unmute")
    return span


def span_text(span: timedelta) -> str:
    """A duration as the commands write it: 2h, 1d, 90m."""
    seconds = int(span.total_seconds())
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds // 60}m"


SHOWN_WORDS = 8  # unknown words repeated back in a reply: enough to spot a typo, never a wall


def listed(words: tuple[str, ...] | list[str]) -> str:
    """Words for a reply, the first few and how many more (a pasted paragraph is not echoed whole)."""
    words = list(words)
    more = len(words) - SHOWN_WORDS
    return ", ".join(words[:SHOWN_WORDS]) + (f" … (+{more})" if more > 0 else "")
