"""Training data and training runs for the topic classifiers.

A topic learns from three sources:
  - the rule file's [classifier] positive / negative examples (always trained on);
  - labels: 👍/👎 feedback and `wirewatch train --input` files, stored in the `labels` table;
  - its own rule: on recent stored items that nobody labelled, the rule's verdict is a weak
    label (weight WEAK_WEIGHT). This is what lets a topic with few labels generalize beyond its
    keywords; as labels accumulate they outweigh it.
One label in HOLDOUT_EVERY (chosen by a hash of its text, so always the same ones) is never
trained on: it judges whether a new model is at least as good as the one in use.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from bot.match.classifier import Example, TopicModel, data_hash, fit_model
from bot.match.features import FeatureSpace, fit_space
from bot.match.nodes import Doc
from bot.match.rules import RuleMatcher, Topic
from bot.match.texts import LabelRow, PoolItem, item_text

WEAK_WEIGHT = 0.3
HOLDOUT_EVERY = 5
MIN_HOLDOUT = 3  # held-out labels of each class needed to compare two models


def in_holdout(text: str) -> bool:
    """Whether a label is kept aside to judge models (stable: a hash of its text)."""
    return hashlib.sha256(text.encode()).digest()[0] % HOLDOUT_EVERY == 0


def rule_verdicts(rules: RuleMatcher, pool: Sequence[PoolItem]) -> list[set[str]]:
    """The topics whose rule matches each pool item."""
    out = []
    for p in pool:
        title, _, summary = p.text.partition("\n")
        out.append({m.topic for m in rules.match_doc(Doc(title, summary, p.source, p.body))})
    return out


def topic_examples(topic: Topic, labels: Iterable[LabelRow], pool: Sequence[PoolItem],
                   verdicts: Sequence[set[str]], *, holdout: bool = True) -> tuple[list[Example], list[Example]]:
    """(training examples, held-out examples) of one topic; the latest label of a text wins."""
    spec = topic.classifier
    train = [Example(t, 1, origin="rule-file") for t in (spec.positive if spec else ())]
    train += [Example(t, 0, origin="rule-file") for t in (spec.negative if spec else ())]
    latest = {row.text: row for row in labels if row.topic == topic.id}
    held = []
    for row in latest.values():
        example = Example(row.text, int(row.label), origin=row.origin)
        (held if holdout and in_holdout(row.text) else train).append(example)
    seen = {e.text for e in train} | {e.text for e in held}
    train += [Example(p.text, int(topic.id in v), WEAK_WEIGHT, "rule")
              for p, v in zip(pool, verdicts, strict=True) if p.text not in seen]
    return train, held


def fit_topics(examples: Mapping[str, Sequence[Example]], trained_at: str,
               space: FeatureSpace | None = None) -> dict[str, TopicModel]:
    """Fit every topic that has both labels, in the given space or one learned from all their texts."""
    usable = {t: ex for t, ex in examples.items() if len({e.label for e in ex}) == 2}
    if not usable:
        return {}
    space = space or fit_space(list(dict.fromkeys(e.text for ex in usable.values() for e in ex)))
    return {t: fit_model(t, ex, space, trained_at) for t, ex in usable.items()}


def judge(candidate: TopicModel, current: TopicModel | None, held: Sequence[Example]) -> tuple[bool, str]:
    """Whether the candidate may replace the current model, and how they compared."""
    from sklearn.metrics import average_precision_score

    if current is None:
        return True, "first model"
    y = np.array([e.label for e in held])
    pos = int(y.sum())
    if pos < MIN_HOLDOUT or len(y) - pos < MIN_HOLDOUT:
        return True, f"not compared: {pos} positive, {len(y) - pos} negative held-out labels"
    new, old = (average_precision_score(y, [m.score(e.text) for e in held]) for m in (candidate, current))
    if new + 1e-9 >= old:
        return True, f"held-out average precision {new:.2f} (was {old:.2f})"
    return False, f"kept the model of {current.info.trained_at[:16]}: held-out average precision {new:.2f} < {old:.2f}"


@dataclass
class TrainResult:
    """What a training run produced: the models to use and one line per topic."""

    models: dict[str, TopicModel] = field(default_factory=dict)  # new models that passed judge()
    notes: dict[str, str] = field(default_factory=dict)


def train(topics: Sequence[Topic], labels: Sequence[LabelRow], pool: Sequence[PoolItem],
          current: Mapping[str, TopicModel], trained_at: str, space: FeatureSpace | None = None) -> TrainResult:
    """Train these topics (CPU-bound: callers run it in a worker thread).

    With a space, the topics are fitted in it (so they are scored with the topics already using
    it); without, a new space is learned from all their texts.
    """
    verdicts = rule_verdicts(RuleMatcher(topics), pool)
    split = {t.id: topic_examples(t, labels, pool, verdicts) for t in topics}
    result = TrainResult()
    todo = {}
    for tid, (train_ex, _) in split.items():
        old = current.get(tid)
        if old is not None and space is not None and old.space.id == space.id and old.info.data_hash == data_hash(train_ex):
            result.notes[tid] = "unchanged"
        else:
            todo[tid] = train_ex
    fitted = fit_topics(todo, trained_at, space)
    for tid in todo:
        if tid not in fitted:
            result.notes[tid] = "not trained: needs positive and negative examples"
            continue
        ok, why = judge(fitted[tid], current.get(tid), split[tid][1])
        result.notes[tid] = why
        if ok:
            result.models[tid] = replace(fitted[tid], info=replace(fitted[tid].info, holdout=why))
    return result


def records_to_labels(records: Iterable, topics: Sequence[Topic]) -> tuple[list[LabelRow], set[str]]:
    """Labelled JSONL records -> one label per (record, topic with a [classifier] section).

    A record belongs to the topics its `labels` name (matched as in topic_for_label) and is a
    negative for every other one. Returns the labels and the label names no topic matched.
    """
    learners = [t for t in topics if t.classifier is not None]
    rows, unknown = [], set()
    for record in records:
        named = set()
        for name in record.labels:
            topic = topic_for_label(name, topics)
            if topic is None:
                unknown.add(name)
            else:
                named.add(topic.id)
        text = item_text(record.item.title, record.item.summary, record.item.body)
        rows += [LabelRow(t.id, text, int(t.id in named), "file") for t in learners]
    return rows, unknown


def topic_for_label(name: str, topics: Sequence[Topic]) -> Topic | None:
    """The topic a label in a JSONL file means: its id or name, case-insensitively (an id first).

    "World" -> world.toml, "KILL" -> kill.toml; "Sci/Tech" also matches sci-tech.toml
    (every run of characters other than letters and digits counts as one hyphen).
    """
    import re

    key = name.strip().casefold()
    slug = re.sub(r"[^0-9a-z]+", "-", key).strip("-")
    # an id wins over a name, a name over a slug; load_rules refuses a name that is another
    # topic's name or id, so only the slug rule could still be ambiguous
    for found in ((t for t in topics if key == t.id.casefold()), (t for t in topics if key == t.name.casefold()),
                  (t for t in topics if slug == t.id)):
        if (t := next(found, None)) is not None:
            return t
    return None
