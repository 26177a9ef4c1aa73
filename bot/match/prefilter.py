"""Which topics can possibly match an item, from one Aho-Corasick pass over its tokens.

Every leaf of a query has a key: the text its hit must contain in the item's space-joined folded
tokens (" word ", " stem", " two words "). From each query we derive requirement groups, a
conjunction of "at least one of these keys": `(a OR b) AND c AND NOT d` needs {a, b} and {c}.
A topic is evaluated only when every one of its groups has a key in the item.
"""

from __future__ import annotations

from collections.abc import Sequence

import ahocorasick

from bot.match.nodes import And, Exact, Field, Near, Node, Or, Phrase, Prefix, Term
from bot.text import words

Group = frozenset[str]


def leaf_key(leaf: Node) -> str:
    """The text a leaf's hit must contain in the item's space-joined folded tokens."""
    if isinstance(leaf, Prefix):
        return f" {leaf.stem}"
    if isinstance(leaf, Term):
        return f" {leaf.word} "
    if isinstance(leaf, Phrase) and leaf.last_prefix:
        return " " + " ".join(leaf.words)
    if isinstance(leaf, Phrase | Exact):
        return " " + " ".join(words(" ".join(leaf.words))) + " "
    raise TypeError(f"not a leaf: {leaf!r}")


def requirements(node: Node) -> list[Group]:
    """Key groups that must each be hit for the query to be true (NOT contributes none)."""
    if isinstance(node, Term | Prefix | Phrase | Exact):
        return [frozenset({leaf_key(node)})]
    if isinstance(node, And):
        return [group for child in node.children for group in requirements(child)]
    if isinstance(node, Near):
        return requirements(node.left) + requirements(node.right)
    if isinstance(node, Field):
        return requirements(node.child)
    if isinstance(node, Or):
        parts = [requirements(child) for child in node.children]
        if not all(parts):  # a branch with no requirement (a NOT) can be true on its own
            return []
        return [frozenset().union(*(min(part, key=len) for part in parts))]
    return []


def topic_groups(query: Node) -> list[Group] | None:
    """The groups to check for one query; None when it must be evaluated for every item."""
    if query.empty_value():
        return None
    # Without groups, some leaf must still hit: a query false on an empty item needs a term.
    return requirements(query) or [frozenset(leaf_key(leaf) for leaf in query.leaves())]


class Prefilter:
    """Candidate topic indexes for an item's tokens."""

    def __init__(self, queries: Sequence[Node]):
        self._always: list[int] = []
        self._groups: list[list[Group]] = []
        self._by_key: dict[str, list[int]] = {}
        for i, query in enumerate(queries):
            groups = topic_groups(query)
            self._groups.append(groups or [])
            if groups is None:
                self._always.append(i)
                continue
            for key in min(groups, key=len):  # index each topic under its most selective group
                self._by_key.setdefault(key, []).append(i)
        self._automaton = self._build([k for gs in self._groups for g in gs for k in g])

    @staticmethod
    def _build(keys: list[str]) -> ahocorasick.Automaton | None:
        if not keys:
            return None
        automaton = ahocorasick.Automaton()
        for key in keys:
            automaton.add_word(key, key)
        automaton.make_automaton()
        return automaton

    def candidates(self, tokens: list[str]) -> list[int]:
        """Indexes of the queries worth evaluating, in order."""
        if self._automaton is None:
            return list(self._always)
        hit = {key for _, key in self._automaton.iter(" " + " ".join(tokens) + " ")}
        found = {i for key in hit for i in self._by_key.get(key, ())}
        found = {i for i in found if all(not g.isdisjoint(hit) for g in self._groups[i])}
        return sorted(found.union(self._always))
