"""The topic classifier: a logistic regression per topic over a shared TF-IDF FeatureSpace.

A TopicModel is plain data (its space's vocabulary and IDF, coefficients, a Platt calibration),
so it is saved as JSON + numpy arrays and loaded without executing anything (modelfile.py). The
ModelBank stacks the coefficients of the topics that share a space into one matrix, so scoring
an item for every topic is one tokenization and one small dense product, never a call into a
scikit-learn estimator (no per-call validation, no coefficient copies).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from bot.match.features import FEATURES_VERSION, FeatureSpace
from bot.match.texts import Tokens

if TYPE_CHECKING:
    from sklearn.linear_model import LogisticRegression

# scikit-learn and scipy (~100 MB, 1.5 s to import) are imported where a model is trained or
# scored, so a bot without classifier topics never loads them.

FORMAT_VERSION = 1
C = 1.0  # inverse L2 strength of the logistic regression
CALIBRATION_FOLDS = 5


@dataclass(frozen=True)
class Example:
    """One training text: label 1 belongs to the topic, 0 does not; weak examples weigh less."""

    text: str
    label: int
    weight: float = 1.0
    origin: str = "label"  # rule-file | button | file | label | rule (a rule verdict on an unlabelled item)


@dataclass(frozen=True)
class ModelInfo:
    """The manifest of a trained model: what it was trained with and on."""

    topic: str
    sklearn_version: str
    features_version: int
    data_hash: str
    positives: int  # labelled examples (rule file + labels), not counting rule-labelled items
    negatives: int
    weak: int  # unlabelled items labelled by the topic's rule
    trained_at: str
    holdout: str = ""  # how the model compared on held-out labels when it was swapped in


@dataclass(frozen=True, eq=False)
class TopicModel:
    """A fitted model: score = sigmoid(a * (coef . tfidf(text) + intercept) + c)."""

    info: ModelInfo
    space: FeatureSpace
    coef: np.ndarray
    intercept: float
    platt: tuple[float, float]  # (a, c)

    def decision(self, text: str) -> float:
        feats, values = self.space.vector(text)
        return float(values @ self.coef[feats] + self.intercept)

    def score(self, text: str) -> float:
        """Calibrated score of one text in [0, 1]."""
        a, c = self.platt
        return float(_expit(a * self.decision(text) + c))


def data_hash(examples: Sequence[Example]) -> str:
    """A hash of the training data and of everything else that shapes the model."""
    h = hashlib.sha256(json.dumps([FORMAT_VERSION, FEATURES_VERSION, C, sklearn_version()]).encode())
    for e in sorted(examples, key=lambda e: (e.text, e.label, e.weight)):
        h.update(json.dumps([e.text, e.label, e.weight]).encode())
    return h.hexdigest()


def sklearn_version() -> str:
    """The running scikit-learn's version (models record it; another one means retraining)."""
    import sklearn

    return sklearn.__version__


def _expit(x):
    from scipy.special import expit

    return expit(x)


def fit_model(topic: str, examples: Sequence[Example], space: FeatureSpace, trained_at: str) -> TopicModel:
    """Fit one topic's model in a space; examples must hold both labels."""
    from sklearn.linear_model import LogisticRegression

    y = np.array([e.label for e in examples], dtype=np.int64)
    if len(y) == 0 or y.min() == y.max():
        raise ValueError(f"topic {topic}: training needs both positive and negative examples")
    weights = np.array([e.weight for e in examples], dtype=np.float64)
    x = space.transform([e.text for e in examples])
    model = LogisticRegression(C=C, class_weight="balanced", max_iter=2000)
    model.fit(x, y, sample_weight=weights)
    labelled = [e for e in examples if e.origin != "rule"]
    info = ModelInfo(
        topic=topic, sklearn_version=sklearn_version(), features_version=FEATURES_VERSION,
        data_hash=data_hash(examples), positives=sum(e.label for e in labelled),
        negatives=sum(1 - e.label for e in labelled), weak=len(examples) - len(labelled),
        trained_at=trained_at,
    )
    coef = np.array(model.coef_[0], dtype=np.float64)
    return TopicModel(info, space, coef, float(model.intercept_[0]), _platt(model, x, y, weights))


def _platt(model: LogisticRegression, x, y: np.ndarray, weights: np.ndarray) -> tuple[float, float]:
    """Sigmoid calibration fitted on out-of-fold decisions (identity when a class is too small)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    folds = min(CALIBRATION_FOLDS, int(min(y.sum(), len(y) - y.sum())))
    if folds < 2:
        return 1.0, 0.0
    cv = StratifiedKFold(folds, shuffle=True, random_state=0)
    decision = cross_val_predict(model, x, y, cv=cv, method="decision_function",
                                 params={"sample_weight": weights})
    platt = LogisticRegression(C=1e4)
    platt.fit(decision.reshape(-1, 1), y, sample_weight=weights)
    return float(platt.coef_[0, 0]), float(platt.intercept_[0])


class _Group:
    """The topics that share one feature space: coefficients stacked row-per-feature."""

    def __init__(self, space: FeatureSpace, models: Sequence[TopicModel], columns: Sequence[int]):
        self.space, self.columns = space, np.array(columns, np.int64)
        # C order: an item's few hundred features are whole contiguous rows of this matrix.
        self.weights = np.ascontiguousarray(np.stack([m.coef for m in models], axis=1), dtype=np.float32)
        self.intercept = np.array([m.intercept for m in models])

    def decisions(self, text: str | Tokens) -> np.ndarray:
        feats, values = self.space.vector(text)
        return values.astype(np.float32) @ self.weights[feats] + self.intercept

    def decisions_many(self, texts: Sequence[str | Tokens]) -> np.ndarray:
        x = self.space.transform(texts).astype(np.float32)  # float32 like the weights: no copy of them
        return np.asarray(x @ self.weights) + self.intercept


class ModelBank:
    """Every topic's model, compiled to score one item (or a batch) for all topics at once."""

    def __init__(self, models: Mapping[str, TopicModel]):
        self.models = dict(models)
        self.topics = tuple(self.models)
        by_space: dict[str, list[int]] = {}
        for column, model in enumerate(self.models.values()):
            by_space.setdefault(model.space.id, []).append(column)
        ms = list(self.models.values())
        self.groups = [_Group(ms[cols[0]].space, [ms[c] for c in cols], cols) for cols in by_space.values()]
        self.platt = np.array([m.platt for m in ms], dtype=np.float64).reshape(-1, 2)

    def __len__(self) -> int:
        return len(self.topics)

    def scores(self, text: str | Tokens) -> np.ndarray:
        """Calibrated score in [0, 1] per topic, in self.topics order."""
        out = np.zeros(len(self.topics))
        for g in self.groups:
            out[g.columns] = g.decisions(text)
        return _expit(self.platt[:, 0] * out + self.platt[:, 1])

    def scores_many(self, texts: Sequence[str | Tokens]) -> np.ndarray:
        """Scores of many texts, an (items x topics) array: one sparse product per space."""
        out = np.zeros((len(texts), len(self.topics)))
        if texts:
            for g in self.groups:
                out[:, g.columns] = g.decisions_many(texts)
        return _expit(self.platt[:, 0] * out + self.platt[:, 1])

    def explain(self, text: str | Tokens, topic: str, top: int = 3) -> tuple[str, ...]:
        """The terms that pushed this topic's score most, e.g. ('+drone', '+air strike', '-film')."""
        return explain_terms(self.models[topic], text, top)


def explain_terms(model: TopicModel, text: str | Tokens, top: int = 3) -> tuple[str, ...]:
    """The words and bigrams that pushed the score most, signed: ('+drone', '+air strike', '-film')."""
    ranked = sorted(model.space.contributions(text, model.coef).items(), key=lambda kv: -abs(kv[1]))
    pos = [f"+{t}" for t, v in ranked if v > 0][:top]
    neg = [f"-{t}" for t, v in ranked if v < 0][: max(1, top - 1)]
    return tuple(pos + neg)
