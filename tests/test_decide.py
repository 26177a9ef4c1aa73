"""Rules and classifier combined per topic mode: the matcher the pipeline uses."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.cli import main
from bot.match.classifier import Example, fit_model
from bot.match.decide import TopicMatcher, decide
from bot.match.features import fit_space
from bot.match.modelfile import save_model
from bot.match.rules import ClassifierSpec, parse_rule_file
from bot.models import Item
from tests.topicdata import DRONE_RULE, drone_set, rule_file

SPEC = ClassifierSpec(mode="filter", threshold=0.5, expand_threshold=0.8)


@pytest.mark.parametrize(
    ("mode", "rule_hit", "score", "expected"),
    [
        ("rules", True, 0.0, True),
        ("rules", False, 1.0, False),
        ("filter", True, 0.5, True),
        ("filter", True, 0.49, False),
        ("filter", False, 1.0, False),
        ("expand", True, 0.0, True),
        ("expand", False, 0.8, True),
        ("expand", False, 0.79, False),
        ("classifier", False, 0.5, True),
        ("classifier", True, 0.49, False),
        # no usable model (score None): every mode behaves as rules
        ("filter", True, None, True),
        ("expand", False, None, False),
        ("classifier", True, None, True),
        ("classifier", False, None, False),
    ],
)
def test_mode_semantics(mode, rule_hit, score, expected):
    assert decide(mode, rule_hit, score, replace(SPEC, mode=mode)) is expected


def topic(mode: str, min_labels: int = 5, extra: str = ""):
    found, problems = parse_rule_file(Path("rules/drones.toml"), rule_file(mode, min_labels, extra))
    assert not problems
    return found


@pytest.fixture(scope="module")
def drone_model():
    pos, neg = drone_set(30)
    train = [Example(t, 1) for t in pos] + [Example(t, 0) for t in neg]
    return fit_model("drones", train, fit_space([e.text for e in train]), "2026-01-01T00:00:00+00:00")


def item(title: str, summary: str = "") -> Item:
    return Item(key=title, title=title, summary=summary, url=None, source="", published=datetime.now(UTC))


STRIKE = item("Drone strike kills 4 militants near Mosul")  # rule hit, high score
NO_RULE = item("Unmanned aircraft pounded fighters in Raqqa overnight")  # no rule hit
DELIVERY = item("Delivery drones hit the market in Kirkuk")  # rule hit ("drones ... hit"), low score


def matched(matcher: TopicMatcher, it: Item) -> bool:
    return bool(matcher.match(it))


@pytest.mark.parametrize(
    ("mode", "strike", "no_rule", "delivery"),
    [
        ("rules", True, False, True),
        ("filter", True, False, False),
        ("expand", True, True, True),
        ("classifier", True, True, False),
    ],
)
def test_modes_on_items(drone_model, mode, strike, no_rule, delivery):
    m = TopicMatcher([topic(mode)], {"drones": drone_model})
    assert drone_model.score(NO_RULE.text) >= 0.8 and drone_model.score(DELIVERY.text) < 0.5
    assert (matched(m, STRIKE), matched(m, NO_RULE), matched(m, DELIVERY)) == (strike, no_rule, delivery)


def test_why_has_rule_terms_and_model_terms(drone_model):
    m = TopicMatcher([topic("filter")], {"drones": drone_model})
    (found,) = m.match(STRIKE)
    assert found.topic == "drones" and found.score == pytest.approx(drone_model.score(STRIKE.text))
    rule_terms, model_why = found.why[:-1], found.why[-1]
    assert rule_terms and all(not t.startswith("model") for t in rule_terms)
    assert model_why.startswith(f"model {found.score:.2f}: +")


def test_too_few_labels_behaves_as_rules_and_says_so(drone_model):
    m = TopicMatcher([topic("classifier", min_labels=100)], {"drones": drone_model})
    assert not m.match(NO_RULE)  # the classifier alone would take it
    (found,) = m.match(STRIKE)
    assert found.score == 1.0
    assert found.why[-1] == "rules only until 100 positive and 100 negative labels (has 30 and 30)"
    assert "rules only until 100" in m.status("drones")


def test_without_a_model_the_topic_says_why(drone_model):
    m = TopicMatcher([topic("expand")], {}, {"drones": "no model trained yet"})
    (found,) = m.match(STRIKE)
    assert found.why[-1] == "rules only: no model trained yet"
    m.install({"drones": drone_model})
    assert matched(m, NO_RULE) and m.status("drones").startswith("expand (model of 2026-01-01T00:00")


def test_batch_matches_like_single_items(drone_model):
    plain = parse_rule_file(Path("rules/plain.toml"), DRONE_RULE.replace("Drone strikes", "Plain"))[0]
    m = TopicMatcher([topic("expand"), plain], {"drones": drone_model})
    items = [STRIKE, NO_RULE, DELIVERY, item("Markets rally")]
    batch, single = m.match_many(items), [m.match(i) for i in items]
    assert [[x.topic for x in found] for found in batch] == [[x.topic for x in found] for found in single]
    for b, s in zip(sum(batch, []), sum(single, []), strict=True):
        assert b.score == pytest.approx(s.score, abs=1e-5) and b.why[:-1] == s.why[:-1]
    assert [x.topic for x in m.match(STRIKE)] == ["drones", "plain"]


def test_runtime_uses_saved_models_and_check_shows_them(drone_model, write_config, tmp_path, capsys):
    path = write_config('[bot]\ndata_dir = "data"\n', rules={"drones": rule_file("classifier", 5)})
    assert main(["check", "-c", str(path)]) == 0
    assert "drones  Drone strikes  [classifier: classifier (rules only: no model trained yet)]" in capsys.readouterr().out
    save_model(tmp_path / "data" / "models", drone_model)
    assert main(["check", "-c", str(path)]) == 0
    assert "[classifier: classifier (model of 2026-01-01T00:00: 30 positive, 30 negative labels)]" in capsys.readouterr().out
    assert main(["match", "-c", str(path), NO_RULE.title]) == 0
    out = capsys.readouterr().out
    assert out.startswith("drones\t") and "\tmodel " in out  # no rule hit: the classifier took it
