"""Saving and loading topic models under <data_dir>/models without pickle.

    models/spaces/<space-id>.json   vocabularies (JSON lists of strings)
    models/spaces/<space-id>.npz    IDF arrays
    models/topics/<topic-id>.npz    coefficients, intercept, calibration
    models/topics/<topic-id>.json   the manifest: versions, training-data hash, counts, file hashes

Arrays are read with allow_pickle=False and JSON with json.load, then checked for type and shape,
so a damaged or tampered file can only be refused, never executed. A space's id is a hash of its
content and a topic manifest records the SHA-256 of its arrays: a file changed behind the bot's
back does not load. A model written by another scikit-learn or feature version is not loaded
either: the retrainer trains a fresh one.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, fields
from pathlib import Path

import numpy as np

from bot.match.classifier import FORMAT_VERSION, ModelInfo, TopicModel, sklearn_version
from bot.match.features import FEATURES_VERSION, FeatureSpace, space_id


class ModelFileError(Exception):
    """A model on disk that must not be used; the message says why (shown by check and /why)."""


def save_model(models_dir: Path, model: TopicModel) -> None:
    """Write a model (and its space, if new); the topic manifest is written last, atomically."""
    spaces, topics = models_dir / "spaces", models_dir / "topics"
    spaces.mkdir(parents=True, exist_ok=True)
    topics.mkdir(parents=True, exist_ok=True)
    sp = model.space
    if not (spaces / f"{sp.id}.json").exists():
        _write(spaces / f"{sp.id}.npz", _npz(word_idf=sp.word_idf, char_idf=sp.char_idf))
        _write(spaces / f"{sp.id}.json", json.dumps({"word_vocab": sp.word_vocab, "char_vocab": sp.char_vocab}).encode())
    arrays = _npz(coef=model.coef, intercept=np.array([model.intercept]), platt=np.array(model.platt))
    _write(topics / f"{model.info.topic}.npz", arrays)
    manifest = {"format": FORMAT_VERSION, "space": sp.id, "arrays_sha256": hashlib.sha256(arrays).hexdigest(),
                **asdict(model.info)}
    _write(topics / f"{model.info.topic}.json", json.dumps(manifest, indent=1).encode())


def load_model(models_dir: Path, topic: str, spaces: dict[str, FeatureSpace] | None = None) -> TopicModel:
    """Load a topic's model or raise ModelFileError saying why it cannot be used."""
    path = models_dir / "topics" / f"{topic}.json"
    if not path.exists():
        raise ModelFileError("no model trained yet")
    manifest = _json(path)
    info = _info(manifest, topic)
    arrays_path = path.with_suffix(".npz")
    raw = _read(arrays_path)
    if hashlib.sha256(raw).hexdigest() != manifest.get("arrays_sha256"):
        raise ModelFileError(f"{arrays_path} does not match its manifest: retraining")
    sid = str(manifest.get("space"))
    space = (spaces or {}).get(sid) or load_space(models_dir, sid)
    if spaces is not None:
        spaces[sid] = space
    arrays = _arrays(arrays_path, raw, {"coef": (space.width,), "intercept": (1,), "platt": (2,)})
    platt = (float(arrays["platt"][0]), float(arrays["platt"][1]))
    return TopicModel(info, space, arrays["coef"], float(arrays["intercept"][0]), platt)


def load_space(models_dir: Path, sid: str) -> FeatureSpace:
    base = models_dir / "spaces" / sid
    vocab = _json(base.with_suffix(".json"))
    words, chars = vocab.get("word_vocab"), vocab.get("char_vocab")
    for name, value in (("word_vocab", words), ("char_vocab", chars)):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ModelFileError(f"{base}.json: {name} must be a list of strings")
    npz = base.with_suffix(".npz")
    idf = _arrays(npz, _read(npz), {"word_idf": (len(words),), "char_idf": (len(chars),)})
    if space_id(words, chars, np.concatenate([idf["word_idf"], idf["char_idf"]])) != sid:
        raise ModelFileError(f"{base}: content does not match its id: retraining")
    return FeatureSpace(tuple(words), tuple(chars), idf["word_idf"], idf["char_idf"], id=sid)


def load_models(models_dir: Path, topics: list[str]) -> tuple[dict[str, TopicModel], dict[str, str]]:
    """Every loadable model of these topics, and for the others the reason none is loaded."""
    models, notes, spaces = {}, {}, {}
    for topic in topics:
        try:
            models[topic] = load_model(models_dir, topic, spaces)
        except ModelFileError as exc:
            notes[topic] = str(exc)
    return models, notes


def remove_unused_spaces(models_dir: Path) -> None:
    """Delete space files no topic manifest refers to any more."""
    used = set()
    for manifest in (models_dir / "topics").glob("*.json"):
        try:
            used.add(str(json.loads(manifest.read_text(encoding="utf-8")).get("space")))
        except (OSError, ValueError, AttributeError):
            continue
    for path in (models_dir / "spaces").glob("*.*"):
        if path.stem not in used:
            path.unlink(missing_ok=True)


def _info(manifest: dict, topic: str) -> ModelInfo:
    if manifest.get("format") != FORMAT_VERSION or manifest.get("features_version") != FEATURES_VERSION:
        raise ModelFileError("saved by another wirewatch version: retraining")
    if manifest.get("sklearn_version") != sklearn_version():
        raise ModelFileError(f"trained with scikit-learn {manifest.get('sklearn_version')}, "
                             f"running {sklearn_version()}: retraining")
    try:
        info = ModelInfo(**{f.name: manifest[f.name] for f in fields(ModelInfo) if f.name in manifest})
    except TypeError as exc:
        raise ModelFileError(f"manifest of {topic} is incomplete: {exc}") from None
    if info.topic != topic or not all(isinstance(getattr(info, k), int) for k in ("positives", "negatives", "weak")):
        raise ModelFileError(f"manifest of {topic} is not valid")
    return info


def _arrays(path: Path, raw: bytes, shapes: dict[str, tuple[int, ...]]) -> dict[str, np.ndarray]:
    import io

    try:
        with np.load(io.BytesIO(raw), allow_pickle=False) as data:
            arrays = {k: np.asarray(data[k]) for k in shapes}
    except (ValueError, KeyError, OSError) as exc:
        raise ModelFileError(f"{path}: not a model array file ({exc})") from None
    for name, shape in shapes.items():
        a = arrays[name]
        if a.dtype != np.float64 or a.shape != shape or not np.all(np.isfinite(a)):
            raise ModelFileError(f"{path}: {name} must be {shape} finite float64, not {a.shape} {a.dtype}")
    return arrays


def _json(path: Path) -> dict:
    try:
        data = json.loads(_read(path).decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ModelFileError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ModelFileError(f"{path}: expected a JSON object")
    return data


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ModelFileError(f"{path}: cannot read ({exc.strerror})") from None


def _npz(**arrays: np.ndarray) -> bytes:
    import io

    buf = io.BytesIO()
    np.savez(buf, **{k: np.asarray(v, dtype=np.float64) for k, v in arrays.items()})
    return buf.getvalue()


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
