"""Features, model, scoring bank and safe persistence of the topic classifier."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest
import sklearn
from scipy.sparse import hstack
from sklearn.feature_extraction.text import TfidfVectorizer

from bot.match.classifier import Example, ModelBank, data_hash, explain_terms, fit_model
from bot.match.features import char_features, fit_space, tokens, word_features
from bot.match.modelfile import ModelFileError, load_model, load_models, save_model
from tests.topicdata import drone_set


def examples(count: int = 30, seed: int = 1) -> list[Example]:
    pos, neg = drone_set(count, seed)
    return [Example(t, 1) for t in pos] + [Example(t, 0) for t in neg]


@pytest.fixture(scope="module")
def model():
    train = examples()
    return fit_model("drones", train, fit_space([e.text for e in train]), "2026-01-01T00:00:00+00:00")


def test_features_use_the_rule_matchers_folding():
    title, body = tokens("MÓSUL Drone-Strike\nUAVs hit")
    assert title == ["mosul", "drone", "strike"] and body == ["uavs", "hit"]
    feats = word_features(title, body)
    assert {"mosul", "drone strike", "strike uavs", "t:drone"} <= set(feats)
    assert " dr" in char_features(title, body) and "ike " in char_features(title, body)


def test_feature_space_matches_scikit_learn_tfidf():
    pos, neg = drone_set(30)
    space = fit_space(pos + neg)
    blocks = []
    for vocab, idf, build in ((space.word_vocab, space.word_idf, word_features),
                              (space.char_vocab, space.char_idf, char_features)):
        vec = TfidfVectorizer(analyzer=lambda d: d, sublinear_tf=True, vocabulary={f: i for i, f in enumerate(vocab)})
        vec.idf_ = idf
        blocks.append(vec.transform([build(*tokens(t)) for t in pos + neg]))
    expected = hstack(blocks).toarray()
    assert np.allclose(space.transform(pos + neg).toarray(), expected)


def test_model_separates_unseen_headlines(model):
    pos, neg = drone_set(12, seed=7)  # other headlines from the same templates
    high = [model.score(t) for t in pos]
    low = [model.score(t) for t in neg]
    assert all(0.0 <= s <= 1.0 for s in high + low)
    assert min(high) > max(low)
    assert np.mean(high) > 0.5 > np.mean(low)


def test_bank_scores_every_topic_like_its_model(model):
    other = examples(20, seed=3)
    second = fit_model("other", [Example(e.text, 1 - e.label) for e in other],
                       fit_space([e.text for e in other]), "2026-01-01T00:00:00+00:00")
    bank = ModelBank({"drones": model, "other": second})  # two feature spaces: two groups
    texts = drone_set(5, seed=9)[0] + ["", "Nothing in any vocabulary: qqqq zzzz"]
    batch = bank.scores_many(texts)
    for i, text in enumerate(texts):
        assert np.allclose(bank.scores(text), [model.score(text), second.score(text)])
        assert np.allclose(batch[i], bank.scores(text))


def test_explanation_names_the_weighted_words(model):
    why = explain_terms(model, "Drone strike kills 5 militants near Mosul")
    assert any(term in why for term in ("+drone", "+strike", "+kills"))
    assert all(term[0] in "+-" for term in why)


def test_training_needs_both_labels():
    only = [Example("a drone strike", 1), Example("another drone strike", 1)]
    with pytest.raises(ValueError, match="both positive and negative"):
        fit_model("t", only, fit_space([e.text for e in only]), "now")


def test_data_hash_follows_the_data_not_its_order():
    ex = examples(5)
    assert data_hash(ex) == data_hash(list(reversed(ex)))
    assert data_hash(ex) != data_hash(ex[:-1] + [Example(ex[-1].text, 1 - ex[-1].label)])


# ---- persistence ----------------------------------------------------------------------------------


def test_saved_model_loads_and_scores_the_same(model, tmp_path):
    save_model(tmp_path, model)
    loaded = load_model(tmp_path, "drones")
    assert loaded.info == model.info and loaded.space.id == model.space.id
    for text in drone_set(5, seed=11)[0]:
        assert loaded.score(text) == pytest.approx(model.score(text))


def test_model_of_another_scikit_learn_is_not_loaded(model, tmp_path):
    save_model(tmp_path, model)
    manifest = tmp_path / "topics" / "drones.json"
    data = json.loads(manifest.read_text())
    data["sklearn_version"] = "0.0.1"
    manifest.write_text(json.dumps(data))
    models, notes = load_models(tmp_path, ["drones"])
    assert models == {}
    assert "scikit-learn 0.0.1" in notes["drones"] and sklearn.__version__ in notes["drones"]


def test_missing_model_is_a_note_not_an_error(tmp_path):
    assert load_models(tmp_path, ["drones"]) == ({}, {"drones": "no model trained yet"})


def test_changed_arrays_are_refused(model, tmp_path):
    save_model(tmp_path, model)
    arrays = tmp_path / "topics" / "drones.npz"
    buf = io.BytesIO()
    np.savez(buf, coef=np.zeros(model.space.width), intercept=np.array([9.0]), platt=np.array([1.0, 0.0]))
    arrays.write_bytes(buf.getvalue())
    with pytest.raises(ModelFileError, match="does not match its manifest"):
        load_model(tmp_path, "drones")


def test_changed_vocabulary_is_refused(model, tmp_path):
    save_model(tmp_path, model)
    vocab = tmp_path / "spaces" / f"{model.space.id}.json"
    data = json.loads(vocab.read_text())
    data["word_vocab"][0] = "tampered"
    vocab.write_text(json.dumps(data))
    with pytest.raises(ModelFileError, match="does not match its id"):
        load_model(tmp_path, "drones")


class _Boom:
    """Unpickling this would create a file: the loader must never unpickle."""

    def __init__(self, path: str):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_a_pickled_payload_is_never_executed(model, tmp_path):
    save_model(tmp_path, model)
    marker = tmp_path / "executed"
    arrays = tmp_path / "topics" / "drones.npz"
    buf = io.BytesIO()
    np.savez(buf, coef=np.array([_Boom(str(marker))], dtype=object), intercept=np.array([0.0]), platt=np.array([1.0, 0.0]))
    payload = buf.getvalue()
    arrays.write_bytes(payload)
    # even with a manifest claiming these bytes, loading refuses the object array without running it
    manifest = tmp_path / "topics" / "drones.json"
    data = json.loads(manifest.read_text())
    import hashlib

    data["arrays_sha256"] = hashlib.sha256(payload).hexdigest()
    manifest.write_text(json.dumps(data))
    with pytest.raises(ModelFileError):
        load_model(tmp_path, "drones")
    assert not marker.exists()
    assert zipfile.is_zipfile(arrays)  # the payload really was there
