"""Rules and classifier combined per topic: the matcher the pipeline calls for every new item.

Modes (the rule file's [classifier] mode):
  rules       the rule decides
  filter      rule hit AND score >= threshold
  expand      rule hit, OR score >= expand_threshold without one
  classifier  score >= threshold
Until a topic's model was trained with at least min_labels positive and min_labels negative
labelled examples (rule-file examples + labels), the topic behaves as `rules` and its `why`
says so. A model is scored only for the topics that use it, and an item's text is tokenized
once for all of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.match.nodes import Doc
from bot.match.rules import ClassifierSpec, RuleMatcher, Topic
from bot.match.texts import Tokens, body_tokens
from bot.models import Item, Match

if TYPE_CHECKING:
    from bot.match.classifier import ModelBank, TopicModel


def decide(mode: str, rule_hit: bool, score: float | None, spec: ClassifierSpec | None) -> bool:
    """Whether an item belongs to a topic; score is None when the topic has no usable model."""
    if score is None or spec is None or mode == "rules":
        return rule_hit
    if mode == "filter":
        return rule_hit and score >= spec.threshold
    if mode == "expand":
        return rule_hit or score >= spec.expand_threshold
    if mode == "classifier":
        return score >= spec.threshold
    raise ValueError(f"unknown mode {mode!r}")


def readiness(spec: ClassifierSpec, model: TopicModel | None, note: str = "") -> str:
    """'' when the topic may use its model, else why it behaves as `rules` for now."""
    if spec.mode == "rules":
        return ""
    if model is None:
        return f"rules only: {note or 'no model trained yet'}"
    pos, neg = model.info.positives, model.info.negatives
    if pos < spec.min_labels or neg < spec.min_labels:
        return (f"rules only until {spec.min_labels} positive and {spec.min_labels} negative labels"
                f" (has {pos} and {neg})")
    return ""


def _bank(used: Mapping[str, TopicModel]) -> ModelBank | None:
    if not used:
        return None  # numpy and scikit-learn stay unimported until a topic uses a model
    from bot.match.classifier import ModelBank

    return ModelBank(used)


@dataclass(frozen=True)
class _Plan:
    """What the matcher uses right now: swapped whole, so a match never sees half an update."""

    bank: ModelBank | None  # None while no topic uses a model
    column: dict[str, int]  # topic id -> column in the bank, for topics whose model is in use
    waiting: dict[str, str]  # topic id -> why it behaves as rules
    models: dict[str, TopicModel]
    notes: dict[str, str]  # why a topic has no model (from loading or the last training)


class TopicMatcher:
    """RuleMatcher plus each topic's classifier, combined by the topic's mode."""

    def __init__(self, topics: Iterable[Topic], models: Mapping[str, TopicModel] | None = None,
                 notes: Mapping[str, str] | None = None):
        self.topics = tuple(topics)
        self.by_id = {t.id: t for t in self.topics}
        self._order = {t.id: i for i, t in enumerate(self.topics)}
        self.rules = RuleMatcher(self.topics)
        self.install(models or {}, notes or {})

    def install(self, models: Mapping[str, TopicModel], notes: Mapping[str, str] | None = None) -> None:
        """Use these models from the next match on (topics not given keep no model)."""
        notes = notes or {}
        used, waiting = {}, {}
        for t in self.topics:
            if t.classifier is None:
                continue
            why = readiness(t.classifier, models.get(t.id), notes.get(t.id, ""))
            if why:
                waiting[t.id] = why
            elif t.classifier.mode != "rules":
                used[t.id] = models[t.id]
        self._plan = _Plan(_bank(used), {tid: i for i, tid in enumerate(used)}, waiting, dict(models), dict(notes))

    @property
    def models(self) -> dict[str, TopicModel]:
        """Every installed model, used or still waiting for labels."""
        return dict(self._plan.models)

    @property
    def notes(self) -> dict[str, str]:
        return dict(self._plan.notes)

    def status(self, topic_id: str) -> str:
        """One line for `check`: the mode and whether the classifier is in use."""
        topic, plan = self.by_id[topic_id], self._plan
        if topic.classifier is None:
            return "rules"
        mode = topic.classifier.mode
        if topic_id in plan.waiting:
            return f"{mode} ({plan.waiting[topic_id]})"
        if topic_id in plan.column:
            info = plan.models[topic_id].info
            return f"{mode} (model of {info.trained_at[:16]}: {info.positives} positive, {info.negatives} negative labels)"
        return mode

    def match(self, item: Item) -> list[Match]:
        """Every topic the item belongs to, with score and why (rule terms, model terms)."""
        return self.match_many([item])[0]

    def match_many(self, items: Sequence[Item]) -> list[list[Match]]:
        """match() for items that arrived together: the models score them in one batch."""
        plan = self._plan
        docs = [Doc(i.title, i.summary, i.source, i.body) for i in items]
        hits = [{m.topic: m for m in self.rules.match_doc(d)} for d in docs]
        toks = [(d.fields["title"].tokens, body_tokens(d.fields["summary"].tokens, d.fields["body"].tokens))
                for d in docs]  # tokenized once
        if plan.bank is None or not items:
            scores = [None] * len(items)
        elif len(items) == 1:
            scores = [plan.bank.scores(toks[0])]
        else:
            scores = list(plan.bank.scores_many(toks))
        return [self._combine(plan, h, t, s) for h, t, s in zip(hits, toks, scores, strict=True)]

    def _combine(self, plan: _Plan, hits: dict[str, Match], toks: Tokens, scores) -> list[Match]:
        out = []
        for tid in sorted(hits.keys() | plan.column.keys(), key=self._order.__getitem__):
            hit, column = hits.get(tid), plan.column.get(tid)
            if column is None:  # rules decide
                waiting = plan.waiting.get(tid)
                out.append(Match(tid, hit.score, hit.why + ((waiting,) if waiting else ())))
                continue
            score, spec = float(scores[column]), self.by_id[tid].classifier
            if decide(spec.mode, hit is not None, score, spec):
                model_why = f"model {score:.2f}: {' '.join(plan.bank.explain(toks, tid))}".rstrip(": ")
                out.append(Match(tid, score, (hit.why if hit else ()) + (model_why,)))
        return out

    # The RuleMatcher conveniences that commands use.
    def match_text(self, title: str, summary: str = "", source: str = "", body: str = "") -> list[Match]:
        from datetime import UTC, datetime

        return self.match(Item(key="text", title=title, summary=summary, url=None, source=source,
                               published=datetime.now(UTC), body=body))

    def explain(self, item: Item) -> dict[str, tuple[str, ...]]:
        """Topic id -> why, for the topics that match."""
        return {m.topic: m.why for m in self.match(item)}
