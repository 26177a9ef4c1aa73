"""The command line as a user meets it: documented commands, exit codes, messages."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import build_parser, main

REPO = Path(__file__).resolve().parents[1]
ANBAR = 'name = "Anbar"\ndescription = "Anbar province"\nquery = "anbar OR ramadi OR title:fallujah"\n'


def commands() -> list[str]:
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    return list(sub.choices)


@pytest.mark.parametrize("name", commands())
def test_every_command_is_documented_in_readme(name):
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert f"`wirewatch {name}" in readme


@pytest.mark.parametrize("name", commands())
def test_every_command_has_help(name, capsys):
    with pytest.raises(SystemExit) as exc:
        main([name, "--help"])
    assert exc.value.code == 0 and "usage: wirewatch" in capsys.readouterr().out


def test_usage_error_exits_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["frobnicate"])
    assert exc.value.code == 2


def test_python_dash_m_bot_is_wirewatch():
    out = subprocess.run([sys.executable, "-m", "bot", "--version"], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(REPO)}, check=True)
    assert out.stdout.startswith("wirewatch ")


def test_check_lists_feeds_topics_chats(write_config, capsys):
    path = write_config('[[feeds]]\nurl = "https://a.example/rss"\nname = "A"\n[[chats]]\nid = 7\ntopics = ["anbar"]',
                        rules={"anbar": ANBAR})
    assert main(["check", "-c", str(path)]) == 0
    out = capsys.readouterr().out
    assert "A  https://a.example/rss" in out and "anbar  Anbar" in out and "7 7: anbar" in out


def test_check_reports_every_problem_and_exits_1(write_config, capsys):
    path = write_config('[polling]\ninterval = "soon"\n[[chats]]\nid = 7\ntopics = ["nope"]',
                        rules={"anbar": ANBAR, "broken": 'name = "B"\nquery = "anbar AND"\n'})
    assert main(["check", "-c", str(path)]) == 1
    err = capsys.readouterr().err
    assert "polling.interval" in err and "broken.toml" in err and "problem(s)" in err


def test_check_uses_environment_config(write_config, monkeypatch, capsys):
    path = write_config("", rules={"anbar": ANBAR})
    monkeypatch.setenv("WIREWATCH_CONFIG", str(path))
    assert main(["check"]) == 0
    assert f"{path}: ok" in capsys.readouterr().out


def test_match_text_shows_topic_score_and_why(write_config, capsys):
    path = write_config("", rules={"anbar": ANBAR})
    assert main(["match", "-c", str(path), "Clashes reported in Ramadi"]) == 0
    topic, score, why = capsys.readouterr().out.strip().split("\t")
    assert (topic, score) == ("anbar", "1.00") and "ramadi" in why


def test_match_input_writes_jsonl(write_config, tmp_path, capsys):
    path = write_config("", rules={"anbar": ANBAR})
    items = tmp_path / "items.jsonl"
    items.write_text('{"id": "a", "title": "Fallujah bridge reopens"}\n\n{"id": 2, "summary": "Fallujah", "extra": 1}\n')
    assert main(["match", "-c", str(path), "--input", str(items)]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert lines[0]["id"] == "a" and lines[0]["topics"][0]["topic"] == "anbar"
    assert lines[1] == {"id": "2", "topics": []}  # title: scope excludes the summary


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"id": "a"}\n{"title": "no id"}\n', "items.jsonl:2: missing required key 'id'"),
        ('{"id": "a"\n', "items.jsonl:1: not valid JSON"),
        ('{"id": "a", "published": "yesterday"}\n', "items.jsonl:1: 'published' is not an ISO 8601 date"),
    ],
)
def test_bad_jsonl_names_file_and_line(write_config, tmp_path, capsys, content, message):
    path = write_config("", rules={"anbar": ANBAR})
    items = tmp_path / "items.jsonl"
    items.write_text(content)
    assert main(["match", "-c", str(path), "--input", str(items)]) == 1
    assert message in capsys.readouterr().err


def test_missing_config_is_exit_1_with_hint(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("WIREWATCH_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    assert main(["check"]) == 1
    assert "config.toml: file not found" in capsys.readouterr().err


STORY_ITEMS = [
    {"id": "late", "title": "Fallujah bridge reopens to traffic", "source": "B", "published": "2026-11-20T12:00:00Z", "story": "b"},
    {"id": "w1", "title": "Drone strike kills ISIS commander Abu Khalid al-Rawi near al-Qaim in Anbar", "source": "Wire",
     "published": "2026-11-20T10:00:00Z", "story": "a"},
    {"id": "w2", "title": "Abu Khalid al-Rawi, ISIS commander, killed by US drone strike near al-Qaim, Anbar officials say",
     "source": "Ledger", "published": "2026-11-20T11:00:00+00:00", "story": "a"},
    {"id": "f", "title": "Football: Baghdad club wins the cup", "source": "Wire", "published": "2026-11-20T10:30:00Z", "story": "c"},
]


def test_replay_writes_one_decision_per_item_in_time_order(write_config, tmp_path):
    path = write_config("", rules={"anbar": 'name = "Anbar"\nquery = "anbar OR fallujah"\n'})
    items, out = tmp_path / "items.jsonl", tmp_path / "out.jsonl"
    items.write_text("".join(json.dumps(i) + "\n" for i in STORY_ITEMS))
    assert main(["replay", "-c", str(path), "--input", str(items), "--output", str(out)]) == 0
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert [(x["id"], x["action"]) for x in lines] == [("w1", "alert"), ("f", "none"), ("w2", "merge"), ("late", "alert")]
    assert lines[0]["story"] == lines[2]["story"] != lines[3]["story"]
    assert set(lines[0]) == {"id", "topics", "story", "action", "related", "folded", "why"}
    assert lines[0]["topics"] == [{"topic": "anbar", "score": 1.0, "why": ["anbar"]}]
    assert lines[2]["why"][0].startswith("words ") and any(w.startswith("confidence ") for w in lines[2]["why"])


def test_replay_now_decides_as_a_run_cycle_at_that_time(write_config, tmp_path, capsys):
    """An archived report older than the window by the clock is compared by identity only in
    `run`; `replay --now` does the same, so its rewrite inside the window starts a story."""
    path = write_config("", rules={"anbar": ANBAR})
    items = tmp_path / "items.jsonl"
    old = {**STORY_ITEMS[1], "published": "2026-11-18T11:00:00Z"}  # 49 h before the clock below
    rewrite = {**STORY_ITEMS[2], "published": "2026-11-18T13:00:00Z"}  # 47 h before it
    items.write_text(json.dumps(old) + "\n" + json.dumps(rewrite) + "\n")
    for now, same in ((None, True), ("2026-11-20T12:00:00Z", False)):
        argv = ["replay", "-c", str(path), "--input", str(items)] + (["--now", now] if now else [])
        assert main(argv) == 0
        first, second = (json.loads(x) for x in capsys.readouterr().out.splitlines())
        assert (first["story"] == second["story"]) is same, (now, first, second)
    assert first["why"] == ["older than the window"]


def test_replay_reads_standard_input(write_config, monkeypatch, capsys):
    """`wirewatch fetch feed.xml | wirewatch replay --input -`"""
    path = write_config("", rules={"anbar": ANBAR})
    monkeypatch.setattr("sys.stdin", io.StringIO("".join(json.dumps(i) + "\n" for i in STORY_ITEMS)))
    assert main(["replay", "-c", str(path), "--input", "-"]) == 0
    assert [json.loads(x)["id"] for x in capsys.readouterr().out.splitlines()] == ["w1", "f", "w2", "late"]


def test_an_id_given_twice_is_refused_naming_both_lines(write_config, tmp_path, capsys):
    path = write_config("", rules={"anbar": ANBAR})
    items = tmp_path / "items.jsonl"
    items.write_text(json.dumps(STORY_ITEMS[0]) + "\n" + json.dumps(STORY_ITEMS[1]) + "\n"
                     + json.dumps({**STORY_ITEMS[3], "id": "late"}) + "\n")
    assert main(["replay", "-c", str(path), "--input", str(items)]) == 1
    captured = capsys.readouterr()
    assert f"{items}:3: id 'late' repeats line 1" in captured.err and captured.out == ""


def test_replay_bad_input_writes_nothing(write_config, tmp_path):
    path = write_config("", rules={"anbar": ANBAR})
    items, out = tmp_path / "items.jsonl", tmp_path / "out.jsonl"
    items.write_text(json.dumps(STORY_ITEMS[0]) + "\n{broken\n")
    assert main(["replay", "-c", str(path), "--input", str(items), "--output", str(out)]) == 1
    assert not out.exists()


def test_eval_clusters_prints_scores(write_config, tmp_path, capsys):
    path = write_config("", rules={"anbar": ANBAR})
    items = tmp_path / "items.jsonl"
    items.write_text("".join(json.dumps(i) + "\n" for i in STORY_ITEMS))
    assert main(["eval", "clusters", "-c", str(path), "--input", str(items)]) == 0
    out = capsys.readouterr().out
    assert "B-cubed   precision 1.000   recall 1.000   F1 1.000" in out and "gold stories 3" in out


def test_eval_clusters_scores_orders_and_retimes(write_config, tmp_path, capsys):
    path = write_config("", rules={"anbar": ANBAR})
    items = tmp_path / "items.jsonl"
    items.write_text("".join(json.dumps(i) + "\n" for i in STORY_ITEMS))
    assert main(["eval", "clusters", "-c", str(path), "--input", str(items), "--orders", "3", "--seed", "4"]) == 0
    out = capsys.readouterr().out
    assert "mean of 3 shuffled orders" in out and "worst order:" in out and "hidden events" in out
    assert main(["eval", "clusters", "-c", str(path), "--input", str(items), "--retime"]) == 0
    assert "mean of 1 re-timed orders" in capsys.readouterr().out


@pytest.mark.parametrize(("argv", "message"), [
    (["clusters", "--orders", "0"], "--orders: must be 1 or more, not 0"),
    (["clusters", "--orders", "x"], "--orders: not a whole number: 'x'"),
    (["clusters", "--curve"], "--curve applies to `eval topics` only"),
    (["clusters", "--train-size", "50"], "--train-size applies to `eval topics` only"),
    (["topics", "--orders", "3", "--retime"], "--orders, --retime apply to `eval clusters` only"),
])
def test_eval_refuses_options_it_would_ignore(argv, message, write_config, tmp_path, capsys):
    path = write_config("", rules={"anbar": ANBAR})
    items = tmp_path / "items.jsonl"
    items.write_text("".join(json.dumps(i) + "\n" for i in STORY_ITEMS))
    try:
        code = main(["eval", *argv, "-c", str(path), "--input", str(items)])
    except SystemExit as exc:  # argparse's own usage errors
        code = exc.code
    assert code == 2 and message in capsys.readouterr().err


def test_eval_clusters_of_no_items_is_an_error(write_config, tmp_path, capsys):
    path = write_config("", rules={"anbar": ANBAR})
    items = tmp_path / "empty.jsonl"
    items.write_text("\n")
    assert main(["eval", "clusters", "-c", str(path), "--input", str(items)]) == 1
    assert "empty.jsonl: no items to score" in capsys.readouterr().err


def test_eval_clusters_needs_gold_story(write_config, tmp_path, capsys):
    path = write_config("", rules={"anbar": ANBAR})
    items = tmp_path / "items.jsonl"
    items.write_text('{"id": "x", "title": "t"}\n')
    assert main(["eval", "clusters", "-c", str(path), "--input", str(items)]) == 1
    assert "item x has no 'story'" in capsys.readouterr().err


def test_config_checks_and_replay_do_not_import_the_http_client():
    """URL checks are pure (netguard): check, replay and eval start without aiohttp's import."""
    code = ("import sys; import bot.config, bot.preflight, bot.replay, bot.items_jsonl; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'aiohttp', 'telegram', 'numpy'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(REPO)}, check=True)
    assert out.stdout.strip() == "[]"
