"""`wirewatch eval topics`: rules, classifier and their combination scored against labelled JSONL.

For a training size N, N random items (fixed seed) are the labelled ones and every other item
is held out and scored. Per topic it reports precision, recall and F1 of
  rules        the rule file's query alone;
  labels-only  a classifier trained on the N labels and the rule file's examples only;
  classifier   the classifier as wirewatch trains it: those labels plus the rule's verdicts on
               unlabelled items (weak labels). The unlabelled items are the held-out ones, cross-
               fitted: the held-out set is split in two halves and each half is scored by a model
               whose unlabelled items were the other half, so no scored item was ever seen;
  combined     the rule file's mode applied to rule hits and that classifier's scores, behaving
               as `rules` while the topic has fewer than min_labels labels of a class.
A label in the file maps to a rule file by a case-insensitive match of its id or name
(training.topic_for_label).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bot.items_jsonl import ItemRecord
from bot.match.classifier import ModelBank
from bot.match.decide import decide, readiness
from bot.match.rules import ClassifierSpec, RuleMatcher, Topic
from bot.match.texts import item_text
from bot.match.training import (
    PoolItem,
    fit_topics,
    records_to_labels,
    rule_verdicts,
    topic_examples,
    topic_for_label,
)

CURVE = (20, 50, 200, 1000)
DEFAULT_SPEC = ClassifierSpec(mode="rules")
COLUMNS = ("rules", "labels-only", "classifier", "combined")


@dataclass(frozen=True)
class PRF:
    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @classmethod
    def of(cls, gold: np.ndarray, predicted: np.ndarray) -> PRF:
        return cls(int((gold & predicted).sum()), int((~gold & predicted).sum()), int((gold & ~predicted).sum()))


@dataclass(frozen=True)
class TopicScores:
    """One topic at one training size."""

    size: int
    topic: str
    mode: str
    held_out: int
    positives: int  # held-out items labelled with the topic
    scores: dict[str, PRF]  # by COLUMNS
    note: str = ""  # e.g. why `combined` behaved as rules


def eval_topics(records: Sequence[ItemRecord], topics: Sequence[Topic], size: int, seed: int = 0) -> list[TopicScores]:
    """Score every topic the records' labels name, training on `size` random records."""
    wanted = _evaluated(records, topics)
    order = list(range(len(records)))
    random.Random(seed).shuffle(order)
    train_recs = [records[i] for i in order[:size]]
    held = [records[i] for i in order[size:]]
    if not wanted or not held:
        return []
    learners = [t if t.classifier else _with_spec(t) for t in wanted]
    labels, _ = records_to_labels(train_recs, learners)
    pool = [PoolItem(item_text(r.item.title, r.item.summary, r.item.body), r.item.source, r.item.body) for r in held]
    hits = np.array([[t.id in v for t in learners] for v in rule_verdicts(RuleMatcher(learners), pool)], bool)
    only = _labels_only(learners, labels, pool)
    scores, notes = _cross_fitted(learners, labels, pool)
    out = []
    for j, t in enumerate(learners):
        gold = np.array([any(topic_for_label(n, [t]) for n in r.labels) for r in held], bool)
        spec = t.classifier
        combined = np.array([decide(spec.mode, bool(h), None if notes[t.id] else s, spec)
                             for h, s in zip(hits[:, j], scores[:, j], strict=True)], bool)
        result = {
            "rules": PRF.of(gold, hits[:, j]),
            "labels-only": PRF.of(gold, only[:, j] >= spec.threshold),
            "classifier": PRF.of(gold, scores[:, j] >= spec.threshold),
            "combined": PRF.of(gold, combined),
        }
        out.append(TopicScores(size, t.id, spec.mode, len(held), int(gold.sum()), result, notes[t.id]))
    return out


def _evaluated(records: Sequence[ItemRecord], topics: Sequence[Topic]) -> list[Topic]:
    named = {n for r in records for n in r.labels}
    found = {t.id: t for n in named if (t := topic_for_label(n, topics))}
    return [t for t in topics if t.id in found]


def _with_spec(topic: Topic) -> Topic:
    from dataclasses import replace

    return replace(topic, classifier=DEFAULT_SPEC)


def _labels_only(topics: Sequence[Topic], labels, pool: Sequence[PoolItem]) -> np.ndarray:
    """Scores of held-out items by models trained on labels and rule-file examples only."""
    examples = {t.id: topic_examples(t, labels, [], [], holdout=False)[0] for t in topics}
    return _score(fit_topics(examples, "eval"), topics, [p.text for p in pool])


def _cross_fitted(topics: Sequence[Topic], labels, pool: Sequence[PoolItem]) -> tuple[np.ndarray, dict[str, str]]:
    """Scores of held-out items by the full classifier, each half taught by the other half."""
    out = np.zeros((len(pool), len(topics)))
    notes: dict[str, str] = {t.id: "" for t in topics}
    halves = [list(range(0, len(pool), 2)), list(range(1, len(pool), 2))]
    for scored, taught in (halves, halves[::-1]):
        teach = [pool[i] for i in taught]
        verdicts = rule_verdicts(RuleMatcher(topics), teach)
        examples = {t.id: topic_examples(t, labels, teach, verdicts, holdout=False)[0] for t in topics}
        models = fit_topics(examples, "eval")
        out[scored] = _score(models, topics, [pool[i].text for i in scored])
        for t in topics:
            why = readiness(t.classifier, models.get(t.id), "not trained: needs positive and negative examples")
            notes[t.id] = notes[t.id] or why
    return out, notes


def _score(models: dict, topics: Sequence[Topic], texts: list[str]) -> np.ndarray:
    """(texts x topics) scores; 0 for a topic without a model."""
    out = np.zeros((len(texts), len(topics)))
    bank = ModelBank({t.id: models[t.id] for t in topics if t.id in models})
    if len(bank):
        got = bank.scores_many(texts)
        for j, t in enumerate(topics):
            if t.id in bank.topics:
                out[:, j] = got[:, bank.topics.index(t.id)]
    return out


def format_report(results: Sequence[TopicScores], unknown: Sequence[str] = ()) -> str:
    """A table per training size: precision / recall / F1 of each column, per topic."""
    lines = []
    for size in dict.fromkeys(r.size for r in results):
        rows = [r for r in results if r.size == size]
        lines.append(f"N={size} labelled, {rows[0].held_out} held out")
        lines.append(f"  {'topic':<16} {'gold':>5}  " + "  ".join(f"{c + ' P/R/F1':<19}" for c in COLUMNS) + "  mode")
        for r in rows:
            cells = "  ".join(f"{s.precision:.2f}/{s.recall:.2f}/{s.f1:.3f}".ljust(19) for s in r.scores.values())
            lines.append(f"  {r.topic:<16} {r.positives:>5}  {cells}  {r.mode}" + (f" ({r.note})" if r.note else ""))
    if unknown:
        lines.append(f"labels with no rule file (not scored): {', '.join(sorted(unknown))}")
    return "\n".join(lines)
