"""Training data, judging and background retraining of topic classifiers, and the CLI around them."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import ClassifierSettings
from bot.items_jsonl import ItemRecord, item_from_text
from bot.match.classifier import Example, fit_model
from bot.match.decide import TopicMatcher
from bot.match.features import fit_space
from bot.match.labels import add_file_labels, read_labels
from bot.match.modelfile import save_model
from bot.match.retrain import Retrainer, load_matcher, models_dir
from bot.match.rules import parse_rule_file
from bot.match.training import (
    WEAK_WEIGHT,
    LabelRow,
    PoolItem,
    in_holdout,
    records_to_labels,
    topic_examples,
    topic_for_label,
    train,
)
from bot.store import chats
from bot.store import schema as t
from bot.store.db import Store
from tests.topicdata import drone_set, rule_file

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime = T0):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def topic(mode: str = "expand", min_labels: int = 5, extra: str = "", tid: str = "drones", name: str = "Drone strikes"):
    text = rule_file(mode, min_labels, extra).replace('name = "Drone strikes"', f'name = "{name}"')
    found, problems = parse_rule_file(Path(f"rules/{tid}.toml"), text)
    assert not problems
    return found


@pytest.fixture
def store(tmp_path):
    s = Store.open(f"sqlite:///{tmp_path / 'db.sqlite'}")
    yield s
    s.close()


def add_item(store: Store, title: str, n: int) -> int:
    with store.engine.begin() as conn:
        return conn.execute(t.items.insert().values(
            key=f"k{n}", title=title, summary="", source="Wire", published=T0, first_seen=T0, content_hash=str(n),
        )).inserted_primary_key[0]


def press(store: Store, titles: list[str], label: int, now: datetime, start: int = 0) -> None:
    """Feedback buttons, through the same call the Telegram handler makes."""
    for n, title in enumerate(titles, start):
        chats.save_labels(store, add_item(store, title, n), ["drones"], label, user_id=7, now=now)


# ---- assembling training data ---------------------------------------------------------------------


def test_examples_come_from_rule_file_labels_and_weak_rule_verdicts():
    tp = topic(extra='positive = ["Drone strike on a convoy"]\nnegative = ["Drone racing league"]\n')
    texts = [f"text {i}" for i in range(40)]
    train_text = next(x for x in texts if not in_holdout(x))
    held_text = next(x for x in texts if in_holdout(x))
    labels = [LabelRow("drones", train_text, 1), LabelRow("drones", train_text, 0),  # the later label wins
              LabelRow("drones", held_text, 1), LabelRow("other", "elsewhere", 1)]
    pool = [PoolItem(train_text), PoolItem("Drone strike kills 3"), PoolItem("Markets rally")]
    verdicts = [set(), {"drones"}, set()]
    examples, held = topic_examples(tp, labels, pool, verdicts)
    assert examples == [
        Example("Drone strike on a convoy", 1, origin="rule-file"),
        Example("Drone racing league", 0, origin="rule-file"),
        Example(train_text, 0, origin="file"),
        Example("Drone strike kills 3", 1, WEAK_WEIGHT, "rule"),  # the labelled pool text is not repeated
        Example("Markets rally", 0, WEAK_WEIGHT, "rule"),
    ]
    assert held == [Example(held_text, 1, origin="file")]


@pytest.mark.parametrize(
    ("label", "expected"),
    [("World", "world"), ("KILL", "kill"), ("kill", "kill"), ("Sci/Tech", "sci-tech"),
     ("Drone strikes", "drones"), ("Sports", None)],
)
def test_labels_map_to_rule_files_by_id_or_name(label, expected):
    topics = [topic(tid=tid, name=tid.upper()) for tid in ("world", "kill", "sci-tech")] + [topic()]
    found = topic_for_label(label, topics)
    assert (found.id if found else None) == expected


@pytest.mark.parametrize(("label", "expected"), [("beta", "beta"), ("BETA", "beta")])
def test_a_label_naming_an_id_means_that_topic_not_one_named_so(label, expected):
    topics = [topic(tid="alpha", name="Beta"), topic(tid="beta", name="Other")]  # load_rules refuses this pair
    assert topic_for_label(label, topics).id == expected


def test_jsonl_labels_are_positives_for_their_topics_and_negatives_elsewhere():
    topics = [topic(tid="kill"), topic(tid="arrest")]
    records = [ItemRecord("1", item_from_text("a\nb"), False, ("KILL", "FORCE")), ItemRecord("2", item_from_text("c"), False, ())]
    rows, unknown = records_to_labels(records, topics)
    assert [(r.topic, r.text, r.label) for r in rows] == [("kill", "a\nb", 1), ("arrest", "a\nb", 0), ("kill", "c", 0), ("arrest", "c", 0)]
    assert unknown == {"FORCE"}


# ---- judging: a worse model is not swapped in ----------------------------------------------------


def labelled(flip_training: bool) -> list[LabelRow]:
    pos, neg = drone_set(40, seed=5)
    rows = []
    for text, label in [(x, 1) for x in pos] + [(x, 0) for x in neg]:
        wrong = flip_training and not in_holdout(text)
        rows.append(LabelRow("drones", text, 1 - label if wrong else label))
    return rows


@pytest.fixture(scope="module")
def good_model():
    pos, neg = drone_set(30)
    ex = [Example(x, 1) for x in pos] + [Example(x, 0) for x in neg]
    return fit_model("drones", ex, fit_space([e.text for e in ex]), T0.isoformat())


def test_a_worse_model_is_not_swapped_in(good_model):
    held = [r for r in labelled(False) if in_holdout(r.text)]
    assert sum(r.label for r in held) >= 3 and sum(1 - r.label for r in held) >= 3
    result = train([topic()], labelled(flip_training=True), [], {"drones": good_model}, T0.isoformat())
    assert result.models == {}
    assert result.notes["drones"].startswith("kept the model of 2026-03-01T12:00: held-out average precision")


def test_a_model_not_worse_is_swapped_in(good_model):
    result = train([topic()], labelled(flip_training=False), [], {"drones": good_model}, T0.isoformat())
    assert result.models["drones"].info.holdout.startswith("held-out average precision 1.00 (was 1.00)")


def test_unchanged_data_is_not_retrained():
    first = train([topic()], labelled(False), [], {}, T0.isoformat())
    space = first.models["drones"].space
    again = train([topic()], labelled(False), [], first.models, T0.isoformat(), space)
    assert first.notes["drones"] == "first model" and again.notes == {"drones": "unchanged"} and not again.models


# ---- the store, the retrainer, feedback ----------------------------------------------------------


def test_feedback_label_flows_into_the_next_model(store, tmp_path):
    clock = Clock()
    pos, neg = drone_set(20, seed=2)
    press(store, pos, 1, clock.now)
    press(store, neg, 0, clock.now, start=100)
    matcher = TopicMatcher([topic("classifier")], {}, {})
    retrainer = Retrainer(store, tmp_path, ClassifierSettings(), clock)
    first = asyncio.run(retrainer.maybe_retrain(lambda: matcher)).models["drones"]
    doubt = next(x for x in drone_set(30, seed=9)[0] if not in_holdout(x) and x not in pos)
    before = first.score(doubt)
    clock.now += timedelta(minutes=1)
    press(store, [doubt], 0, clock.now, start=500)  # 👎 on an item the model liked
    assert any(r.text == doubt and r.label == 0 and r.origin == "button" for r in read_labels(store))
    second = asyncio.run(retrainer.maybe_retrain(lambda: matcher, force=True)).models["drones"]
    assert second.info.negatives == first.info.negatives + 1
    assert second.score(doubt) < before
    assert matcher.models["drones"] is second  # swapped into the matcher in use


def test_due_after_schedule_new_labels_or_without_model(store, tmp_path):
    clock = Clock()
    matcher = TopicMatcher([topic(), replace(topic(tid="plain", name="Plain"), classifier=None)])
    retrainer = Retrainer(store, tmp_path, ClassifierSettings(retrain_every=3600, min_new_labels=2), clock)
    assert [x.id for x in retrainer.due(matcher, clock.now)] == ["drones"]  # no model yet
    pos, neg = drone_set(10)
    press(store, pos, 1, clock.now)
    press(store, neg, 0, clock.now, start=100)
    asyncio.run(retrainer.maybe_retrain(lambda: matcher))
    assert "drones" in matcher.models and retrainer.due(matcher, clock.now) == []
    clock.now += timedelta(minutes=5)
    press(store, ["Drone strike hits a depot in Baiji"], 1, clock.now, start=200)
    assert retrainer.due(matcher, clock.now) == []
    press(store, ["Drone strike hits a convoy in Baiji"], 1, clock.now, start=300)
    assert [x.id for x in retrainer.due(matcher, clock.now)] == ["drones"]  # two new labels
    assert [x.id for x in retrainer.due(matcher, T0 + timedelta(hours=2))] == ["drones"]  # schedule


def test_new_labels_refit_in_the_shared_space_the_schedule_renews_it(store, tmp_path):
    clock = Clock()
    topics = [topic(), topic(tid="strikes", name="Strikes")]
    matcher = TopicMatcher(topics)
    retrainer = Retrainer(store, tmp_path, ClassifierSettings(retrain_every=3600), clock)
    pos, neg = drone_set(10)
    press(store, pos, 1, clock.now)
    press(store, neg, 0, clock.now, start=100)
    assert retrainer.plan(matcher, topics[:1], force=False) == (topics, None)  # no space yet: all, new space
    asyncio.run(retrainer.maybe_retrain(lambda: matcher, force=True))
    space = matcher.models["drones"].space
    assert matcher.models["strikes"].space is space  # trained together: one space
    clock.now += timedelta(minutes=10)
    assert retrainer.plan(matcher, topics[:1], force=False) == (topics[:1], space)  # new labels only
    clock.now += timedelta(hours=2)
    assert retrainer.plan(matcher, topics[:1], force=False) == (topics, None)  # due by schedule


def test_model_from_another_version_is_retrained_not_loaded(store, tmp_path, good_model):
    save_model(models_dir(tmp_path), good_model)
    manifest = models_dir(tmp_path) / "topics" / "drones.json"
    manifest.write_text(json.dumps({**json.loads(manifest.read_text()), "sklearn_version": "0.1"}))
    tp = topic("classifier")
    matcher = load_matcher({"drones": tp}, tmp_path)
    assert matcher.models == {} and "scikit-learn 0.1" in matcher.status("drones")
    pos, neg = drone_set(10)
    press(store, pos, 1, T0)
    press(store, neg, 0, T0, start=100)
    retrainer = Retrainer(store, tmp_path, ClassifierSettings(), Clock())
    assert retrainer.due(matcher, T0) == [tp]
    asyncio.run(retrainer.maybe_retrain(lambda: matcher))
    reloaded = load_matcher({"drones": tp}, tmp_path)
    assert reloaded.models["drones"].info.sklearn_version != "0.1"


async def test_retraining_does_not_block_polling(store, tmp_path):
    pos, neg = drone_set(150, seed=4)
    now = T0
    add_file_labels(store, [LabelRow("drones", x, 1) for x in pos] + [LabelRow("drones", x, 0) for x in neg], now)
    matcher = TopicMatcher([topic("classifier")])
    retrainer = Retrainer(store, tmp_path, ClassifierSettings(), Clock())
    ticks = 0

    async def poller():  # stands in for the scheduler's poll ticks
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.001)

    task = asyncio.create_task(poller())
    await asyncio.sleep(0)
    start = ticks
    result = await retrainer.maybe_retrain(lambda: matcher, force=True)
    task.cancel()
    assert "drones" in result.models and "drones" in matcher.models
    assert ticks - start >= 10  # the loop kept turning while the model was fitted


# ---- command line --------------------------------------------------------------------------------


def write_labelled(path: Path, count: int = 30) -> Path:
    pos, neg = drone_set(count, seed=3)
    rows = [{"id": f"p{i}", "title": x, "labels": ["drones"]} for i, x in enumerate(pos)]
    rows += [{"id": f"n{i}", "title": x, "labels": ["weather"]} for i, x in enumerate(neg)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_train_command_stores_labels_and_trains(write_config, tmp_path, capsys):
    path = write_config('[bot]\ndata_dir = "data"\n', rules={"drones": rule_file("classifier", 5)})
    labelled_file = write_labelled(tmp_path / "labelled.jsonl")
    assert main(["train", "-c", str(path), "--input", str(labelled_file)]) == 0
    out, err = capsys.readouterr()
    assert "60 items, 60 labels added, 0 changed" in out and "drones: first model" in out
    assert "weather" in err  # a label with no rule file is named
    assert main(["train", "-c", str(path), "--input", str(labelled_file)]) == 0
    assert "0 labels added" in capsys.readouterr().out
    assert main(["check", "-c", str(path)]) == 0
    assert "[classifier: classifier (model of" in capsys.readouterr().out


def test_train_without_a_classifier_says_the_labels_were_not_stored(write_config, tmp_path, capsys):
    path = write_config('[bot]\ndata_dir = "data"\n', rules={"drones": 'name = "Drones"\nquery = "drone"\n'})
    labelled_file = write_labelled(tmp_path / "labelled.jsonl")
    assert main(["train", "-c", str(path), "--input", str(labelled_file)]) == 0
    assert "labels were not stored (add [classifier] to a rule file" in capsys.readouterr().err
    assert not (tmp_path / "data").exists()  # nothing written


def test_eval_topics_reports_every_column(write_config, tmp_path, capsys):
    weather = 'name = "Weather"\nquery = "rain OR storm OR harvest"\n'  # no [classifier]: scored as rules
    path = write_config('[bot]\ndata_dir = "data"\n', rules={"drones": rule_file("expand", 2), "weather": weather})
    labelled_file = write_labelled(tmp_path / "labelled.jsonl")
    assert main(["eval", "topics", "-c", str(path), "--input", str(labelled_file), "--train-size", "20"]) == 0
    out = capsys.readouterr().out
    assert "N=20 labelled, 40 held out" in out
    assert all(c in out for c in ("rules P/R/F1", "labels-only P/R/F1", "classifier P/R/F1", "combined P/R/F1"))
    drones = next(line for line in out.splitlines() if line.strip().startswith("drones"))
    assert drones.rstrip().endswith("expand") and 10 <= int(drones.split()[1]) <= 30  # held-out positives
    weather_row = next(line for line in out.splitlines() if line.strip().startswith("weather"))
    cells = weather_row.split()
    assert cells[-1] == "rules" and cells[2] == cells[5]  # combined is the rule alone
    assert not (tmp_path / "data" / "models").exists()  # eval trains in memory only


def test_eval_topics_refuses_a_training_size_beyond_the_data(write_config, tmp_path, capsys):
    path = write_config("", rules={"drones": rule_file("expand", 2)})
    labelled_file = write_labelled(tmp_path / "labelled.jsonl", 5)
    assert main(["eval", "topics", "-c", str(path), "--input", str(labelled_file), "--train-size", "10"]) == 1
    assert "--train-size must be from 1 to 9" in capsys.readouterr().err
