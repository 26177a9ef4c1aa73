"""Clustering scores: B-cubed and pairwise precision/recall/F1, and the worst merges and splits."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class PRF:
    precision: float
    recall: float
    f1: float

    @classmethod
    def of(cls, precision: float, recall: float) -> PRF:
        total = precision + recall
        return cls(precision, recall, 2 * precision * recall / total if total else 0.0)


@dataclass(frozen=True)
class Mix:
    """One cluster and how its items spread over the other labelling: (label, count, title)."""

    cluster: str
    size: int
    parts: tuple[tuple[str, int, str], ...]


def bcubed(pred: Sequence[str], gold: Sequence[str]) -> PRF:
    """B-cubed: per item, the share of its predicted cluster that is its gold story, and back."""
    if len(pred) != len(gold):
        raise ValueError("pred and gold differ in length")
    if not pred:
        return PRF(1.0, 1.0, 1.0)
    cells = Counter(zip(pred, gold, strict=True))
    pred_size, gold_size = Counter(pred), Counter(gold)
    precision = sum(n * n / pred_size[p] for (p, _), n in cells.items()) / len(pred)
    recall = sum(n * n / gold_size[g] for (_, g), n in cells.items()) / len(pred)
    return PRF.of(precision, recall)


def pairwise(pred: Sequence[str], gold: Sequence[str]) -> PRF:
    """Pairwise: of item pairs put together, how many belong together, and back."""
    if len(pred) != len(gold):
        raise ValueError("pred and gold differ in length")

    def pairs(counts: Counter) -> int:
        return sum(n * (n - 1) // 2 for n in counts.values())

    both = pairs(Counter(zip(pred, gold, strict=True)))
    pred_pairs, gold_pairs = pairs(Counter(pred)), pairs(Counter(gold))
    precision = both / pred_pairs if pred_pairs else 1.0
    return PRF.of(precision, both / gold_pairs if gold_pairs else 1.0)


def worst_mixes(clusters: Sequence[str], labels: Sequence[str], titles: Sequence[str],
                n: int) -> list[Mix]:
    """Clusters that mix several labels, most mixed first (by items outside the largest label)."""
    members: dict[str, list[int]] = defaultdict(list)
    for i, cluster in enumerate(clusters):
        members[cluster].append(i)
    mixes = []
    for cluster, idx in members.items():
        spread = Counter(labels[i] for i in idx)
        if len(spread) > 1:
            first_title = {labels[i]: titles[i] for i in reversed(idx)}
            parts = tuple((label, size, first_title[label]) for label, size in spread.most_common())
            mixes.append(Mix(cluster, len(idx), parts))
    mixes.sort(key=lambda m: (-(m.size - m.parts[0][1]), -m.size, m.cluster))
    return mixes[:n]
