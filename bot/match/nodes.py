"""Query syntax tree nodes and what they mean against one tokenized item.

Each node answers `test(doc, scope, label)`: None when false, else the labels of the terms that
made it true (empty for a true NOT). Positional nodes (words, prefixes, phrases, exact-case terms
and OR groups of them) also give token spans, which phrases and NEAR compare.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

from bot.match.doc import FIELDS, Doc, FieldText

__all__ = [
    "DEFAULT_SCOPE", "FIELDS", "And", "Doc", "Exact", "Field", "FieldText", "Hits", "Near", "Node", "Not", "Or",
    "Phrase", "Prefix", "Span", "Term", "evaluate", "hit_label",
]

DEFAULT_SCOPE = ("title", "summary", "body")  # an unscoped term never matches the feed's name
Hits = tuple[str, ...] | None
Span = tuple[int, int, str]  # first and last token index (inclusive), the leaf that hit; unordered


def hit_label(label: str, term: object, field: str) -> str:
    """How a hit reads in a match's why: an unscoped term found only in the article body says so
    ("anbar (body)"); a scoped one already names its field ("body:anbar")."""
    return f"{label}{term} (body)" if field == "body" and not label else f"{label}{term}"


class Node:
    """Base of every syntax tree node."""

    positional = False

    def test(self, doc: Doc, scope: tuple[str, ...], label: str) -> Hits:
        raise NotImplementedError

    def spans(self, field: FieldText) -> list[Span]:
        raise TypeError(f"{self} has no positions")

    def leaves(self) -> Iterator[Node]:
        yield self

    def empty_value(self) -> bool:
        """Truth of the query for an item that contains none of its terms."""
        return False


class _Leaf(Node):
    positional = True

    def present(self, field: FieldText) -> bool:
        return bool(self.spans(field))

    def test(self, doc: Doc, scope: tuple[str, ...], label: str) -> Hits:
        for name in scope:
            if self.present(doc.fields[name]):
                return (hit_label(label, self, name),)
        return None


@dataclass(frozen=True)
class Term(_Leaf):
    word: str  # folded

    def present(self, field: FieldText) -> bool:
        return self.word in field.vocab

    def spans(self, field: FieldText) -> list[Span]:
        return [(p, p, self.word) for p in field.at(self.word)]

    def __str__(self) -> str:
        return self.word


@dataclass(frozen=True)
class Prefix(_Leaf):
    stem: str  # folded

    def present(self, field: FieldText) -> bool:
        keys = field.keys
        i = bisect_left(keys, self.stem)
        return i < len(keys) and keys[i].startswith(self.stem)

    def spans(self, field: FieldText) -> list[Span]:
        keys, out = field.keys, []
        i = bisect_left(keys, self.stem)
        while i < len(keys) and keys[i].startswith(self.stem):
            out.extend((p, p, str(self)) for p in field.at(keys[i]))
            i += 1
        return out

    def __str__(self) -> str:
        return f"{self.stem}*"


@dataclass(frozen=True)
class Phrase(_Leaf):
    words: tuple[str, ...]  # folded
    last_prefix: bool = False  # "north korea*": the last word is a prefix

    def spans(self, field: FieldText) -> list[Span]:
        n, tokens, words_ = len(self.words), field.tokens, self.words
        starts = field.at(words_[0])
        if self.last_prefix:
            found = [p for p in starts if p + n <= len(tokens) and tuple(tokens[p : p + n - 1]) == words_[:-1]
                     and tokens[p + n - 1].startswith(words_[-1])]
        else:
            found = [p for p in starts if tuple(tokens[p : p + n]) == words_]
        return [(p, p + n - 1, str(self)) for p in found]

    def __str__(self) -> str:
        return '"' + " ".join(self.words) + ('*"' if self.last_prefix else '"')


@dataclass(frozen=True)
class Exact(_Leaf):
    words: tuple[str, ...]  # as written: case matters

    def spans(self, field: FieldText) -> list[Span]:
        n = len(self.words)
        starts = field.raw_at(self.words[0])
        found = [p for p in starts if all(p + k in field.raw_at(w) for k, w in enumerate(self.words[1:], 1))]
        return [(p, p + n - 1, str(self)) for p in found]

    def __str__(self) -> str:
        return "'" + " ".join(self.words) + "'"


@dataclass(frozen=True)
class And(Node):
    children: tuple[Node, ...]

    def test(self, doc: Doc, scope: tuple[str, ...], label: str) -> Hits:
        hits: tuple[str, ...] = ()
        for child in self.children:
            found = child.test(doc, scope, label)
            if found is None:
                return None
            hits += found
        return hits

    def leaves(self) -> Iterator[Node]:
        for child in self.children:
            yield from child.leaves()

    def empty_value(self) -> bool:
        return all(c.empty_value() for c in self.children)

    def __str__(self) -> str:
        return "(" + " AND ".join(map(str, self.children)) + ")"


@dataclass(frozen=True)
class Or(Node):
    children: tuple[Node, ...]

    @property
    def positional(self) -> bool:  # type: ignore[override]
        return all(c.positional for c in self.children)

    @cached_property
    def _words(self) -> dict[str, int]:
        """Plain-word children by position: one set intersection tests them all at once."""
        return {c.word: i for i, c in enumerate(self.children) if isinstance(c, Term)}

    @cached_property
    def _others(self) -> tuple[tuple[int, Node], ...]:
        return tuple((i, c) for i, c in enumerate(self.children) if not isinstance(c, Term))

    def test(self, doc: Doc, scope: tuple[str, ...], label: str) -> Hits:
        # Every true branch, not just the first, so `why` shows all the evidence, in query order.
        words_, found = self._words, {}
        for name in scope:  # the first field in scope order names a hit (title before body)
            for w in doc.fields[name].vocab.intersection(words_):  # walks the query's few words, not the body's
                found.setdefault(words_[w], (hit_label(label, w, name),))
        for i, child in self._others:
            more = child.test(doc, scope, label)
            if more is not None:
                found[i] = more
        if not found:
            return None
        return tuple(hit for i in sorted(found) for hit in found[i])

    def spans(self, field: FieldText) -> list[Span]:
        return [s for c in self.children for s in c.spans(field)]

    def leaves(self) -> Iterator[Node]:
        for child in self.children:
            yield from child.leaves()

    def empty_value(self) -> bool:
        return any(c.empty_value() for c in self.children)

    def __str__(self) -> str:
        return "(" + " OR ".join(map(str, self.children)) + ")"


@dataclass(frozen=True)
class Not(Node):
    child: Node

    def test(self, doc: Doc, scope: tuple[str, ...], label: str) -> Hits:
        return () if self.child.test(doc, scope, label) is None else None

    def leaves(self) -> Iterator[Node]:
        yield from self.child.leaves()

    def empty_value(self) -> bool:
        return not self.child.empty_value()

    def __str__(self) -> str:
        return f"NOT {self.child}"


@dataclass(frozen=True)
class Near(Node):
    left: Node
    right: Node
    distance: int  # at most this many tokens apart, either order; 1 = adjacent

    def test(self, doc: Doc, scope: tuple[str, ...], label: str) -> Hits:
        for name in scope:  # both sides in the same field: a title word is not "near" the summary
            field = doc.fields[name]
            left = self.left.spans(field)
            pair = self.close(left, self.right.spans(field)) if left else None
            if pair:
                return (hit_label(label, f"NEAR/{self.distance}({pair[0]}, {pair[1]})", name),)
        return None

    def close(self, left: list[Span], right: list[Span]) -> tuple[str, str] | None:
        """The first pair of hits at most `distance` tokens apart."""
        for ls, le, lname in left:
            for rs, re_, rname in right:
                gap = rs - le if rs > le else ls - re_
                if 0 < gap <= self.distance:  # overlapping spans are one mention, not two
                    return lname, rname
        return None

    def leaves(self) -> Iterator[Node]:
        yield from self.left.leaves()
        yield from self.right.leaves()

    def __str__(self) -> str:
        return f"NEAR/{self.distance}({self.left}, {self.right})"


@dataclass(frozen=True)
class Field(Node):
    name: str  # one of FIELDS
    child: Node

    def test(self, doc: Doc, scope: tuple[str, ...], label: str) -> Hits:
        return self.child.test(doc, (self.name,), f"{self.name}:")

    def leaves(self) -> Iterator[Node]:
        yield from self.child.leaves()

    def empty_value(self) -> bool:
        return self.child.empty_value()

    def __str__(self) -> str:
        return f"{self.name}:{self.child}"


def evaluate(node: Node, doc: Doc) -> Hits:
    """Labels of the terms that make the query true for doc, or None when it is false."""
    return node.test(doc, DEFAULT_SCOPE, "")
