"""Rule files: loading, every problem reported with file and key, and the shipped example topics."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.errors import Problem
from bot.match.query import Or
from bot.match.rules import ClassifierSpec, RuleMatcher, load_rules, parse_rule_file

RULES = Path(__file__).resolve().parents[1] / "rules"

GOOD = '''name = "Mosul"
description = "News from Mosul"
query = 'Mosul OR الموصل'
'''


def write(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def wheres(problems: list[Problem]) -> list[str]:
    return sorted(p.where for p in problems)


def test_good_file_loads_with_defaults(tmp_path: Path) -> None:
    text = GOOD + '[classifier]\nmode = "filter"\npositive = ["Mosul dam repaired"]\n'
    topics, problems = load_rules(write(tmp_path, {"mosul.toml": text}))
    assert problems == []
    topic = topics["mosul"]
    assert (topic.name, topic.description, topic.file) == ("Mosul", "News from Mosul", tmp_path / "mosul.toml")
    assert isinstance(topic.query, Or)
    assert topic.classifier == ClassifierSpec("filter", 0.5, 0.8, 20, ("Mosul dam repaired",), ())


def test_every_problem_is_reported_together(tmp_path: Path) -> None:
    files = {
        "good.toml": GOOD,
        "unknown.toml": GOOD + 'colour = "red"\n',
        "Bad_Name.toml": GOOD,
        "noquery.toml": 'name = "x"\n',
        "noname.toml": "query = 'mosul'\nname = ''\n",
        "notoml.toml": 'name = "x"\nquery = \n',
        "mode.toml": GOOD + '[classifier]\nmode = "magic"\nthreshold = 1.5\nmin_labels = -1\npositive = "one"\nextra = 1\n',
        "expand.toml": GOOD + '[classifier]\nmode = "expand"\nthreshold = 0.9\nexpand_threshold = 0.6\n',
        "flags.toml": GOOD + '[classifier]\nmode = "rules"\nthreshold = true\n',
        "table.toml": GOOD + 'classifier = "filter"\n',
        "numquery.toml": 'name = "x"\nquery = 5\n',
    }
    topics, problems = load_rules(write(tmp_path, files))
    assert list(topics) == ["good"]
    d = str(tmp_path)
    assert wheres(problems) == sorted([
        f"{d}/unknown.toml: colour",
        f"{d}/Bad_Name.toml",
        f"{d}/noquery.toml: query",
        f"{d}/noname.toml: name",
        f"{d}/notoml.toml:2:9",
        f"{d}/mode.toml: classifier.extra",
        f"{d}/mode.toml: classifier.mode",
        f"{d}/mode.toml: classifier.threshold",
        f"{d}/mode.toml: classifier.min_labels",
        f"{d}/mode.toml: classifier.positive",
        f"{d}/expand.toml: classifier.expand_threshold",
        f"{d}/flags.toml: classifier.threshold",
        f"{d}/table.toml: classifier",
        f"{d}/numquery.toml: query",
    ])
    reasons = {p.where: p.reason for p in problems}
    assert "unknown key" in reasons[f"{d}/unknown.toml: colour"]
    assert "rules, filter, expand, classifier" in reasons[f"{d}/mode.toml: classifier.mode"]
    assert "0 to 1" in reasons[f"{d}/mode.toml: classifier.threshold"]
    assert "[a-z0-9]" in reasons[f"{d}/Bad_Name.toml"]
    assert "not valid TOML" in reasons[f"{d}/notoml.toml:2:9"]


QUERY_FILES = [
    # (file text, file line, file column): where the error is in the file, not in the query
    ("name = 'x'\nquery = 'mosul OR'\n", 2, 18),
    ("name = 'x'\nquery = \"(mosul\"\n", 2, 10),  # the ( that is not closed
    ("name = 'x'\n\nquery = '''\nmosul\nOR (kirkuk\n  AND )\n'''\n", 6, 7),
    ("name = 'x'\nquery = '''mosul\n  AND )\n'''\n", 3, 7),
    ("name = 'x'\nquery = '''  mosul AND )'''\n", 2, 24),
    ('name = "x"\nquery = """\n"islamic state\n"""\n', 3, 1),
]


@pytest.mark.parametrize(("text", "line", "column"), QUERY_FILES)
def test_query_errors_point_into_the_file(tmp_path: Path, text: str, line: int, column: int) -> None:
    path = tmp_path / "t.toml"
    topic, problems = parse_rule_file(path, text)
    assert topic is None
    assert [p.where for p in problems] == [f"{path}:{line}:{column}: query"]
    assert "expected" in problems[0].reason


def test_purely_negative_query_is_a_rule_error(tmp_path: Path) -> None:
    _, problems = parse_rule_file(tmp_path / "t.toml", "name = 'x'\nquery = 'NOT film'\n")
    assert len(problems) == 1 and "almost everything" in problems[0].reason


def test_missing_or_unreadable_rules(tmp_path: Path) -> None:
    assert load_rules(tmp_path / "nope") == ({}, [Problem(str(tmp_path / "nope"), "rules directory not found")])
    (tmp_path / "latin1.toml").write_bytes(b'name = "Caf\xe9"\nquery = "x"\n')
    topics, problems = load_rules(tmp_path)
    assert topics == {} and wheres(problems) == [str(tmp_path / "latin1.toml")]


CLASHES = [
    ({"a": "Same Name", "b": "same name"}, "b", "'same name' is the name of the topic in {a}"),
    ({"alpha": "Beta", "beta": "Other"}, "alpha", "'Beta' is the id of the topic in {beta}"),
    ({"kill": "KILL", "murder": "Kill"}, "murder", "'Kill' is the id of the topic in {kill}"),
]


@pytest.mark.parametrize(("names", "where", "reason"), CLASHES)
def test_a_topic_named_like_another_is_a_rule_error(tmp_path: Path, names: dict, where: str, reason: str) -> None:
    for stem, name in names.items():
        (tmp_path / f"{stem}.toml").write_text(f"name = {name!r}\nquery = 'x'\n", encoding="utf-8")
    _, problems = load_rules(tmp_path)
    files = {stem: tmp_path / f"{stem}.toml" for stem in names}
    expected = f"{files[where]}: name: {reason.format(**files)} (topic names and ids must differ, ignoring case)"
    assert [str(p) for p in problems] == [expected]


def test_shipped_rules_load_cleanly() -> None:
    topics, problems = load_rules(RULES)
    assert problems == []
    assert {"anbar", "isis-leadership", "drone-strikes", "border-security", "coalition-forces"} <= set(topics)
    assert all(t.description for t in topics.values())


HEADLINES = [
    ("anbar", "Iraqi forces clear last militant pocket near Ramadi", "", True),
    ("anbar", "Flash floods reach Fallujah as the Euphrates rises", "", True),
    ("anbar", "Gunmen attack police post in Hit district", "", True),
    ("anbar", "Iraqi army launches desert sweep", "The operation covers the western desert of Anbar province.", True),
    ("anbar", "قوات الأمن تعتقل خلية إرهابية في الأنبار", "", True),
    ("anbar", "انفجار عبوة ناسفة في الفَلّوجة", "", True),
    ("anbar", "Oil Prices Hit Two-Year High", "", False),
    ("anbar", "Rockets Hit Town Of Tuz Khurmatu", "", False),
    ("anbar", "الحكومة تحافظ على الوضع القائم في كركوك", "", False),
    ("isis-leadership", "Senior ISIS commander killed in Iraqi airstrike", "", True),
    ("isis-leadership", "Islamic State names new leader after caliph's death", "", True),
    ("isis-leadership", "IS confirms death of its spokesman", "", True),
    ("isis-leadership", "US raid kills Abu Bakr al-Baghdadi", "", True),
    ("isis-leadership", "مقتل قيادي بارز في داعش بغارة جوية", "", True),
    ("isis-leadership", "Tribal leaders in Anbar reject the return of ISIS families", "", False),
    ("isis-leadership", "Documentary on ISIS leader wins festival award", "", False),
    ("isis-leadership", "Opposition leader says the election result is final", "", False),
    ("drone-strikes", "Drone strike kills two militants near Syrian border", "", True),
    ("drone-strikes", "Turkish drone hits car in Sinjar", "", True),
    ("drone-strikes", "Kamikaze drones attack base in eastern Syria", "", True),
    ("drone-strikes", "مسيرة مجهولة تستهدف سيارة في سنجار", "", True),
    ("drone-strikes", "قصف بطائرة مسيّرة على موقع عسكري", "", True),
    ("drone-strikes", "Amazon expands drone delivery trials after crash", "", False),
    ("drone-strikes", "Police use drones to watch traffic in Baghdad", "", False),
    ("drone-strikes", "مسيرة حاشدة في بغداد للمطالبة بالإصلاح", "", False),
    ("border-security", "Iraq sends reinforcements to Syrian border after prison break", "", True),
    ("border-security", "Smugglers caught crossing from Syria into Iraq", "", True),
    ("border-security", "Albu Kamal crossing reopens to trade", "", True),
    ("border-security", "Border guards foil infiltration attempt near al-Qaim", "", True),
    ("border-security", "إحباط محاولة تسلل على الحدود العراقية السورية", "", True),
    ("border-security", "حرس الحدود يضبط شحنة مخدرات قادمة من سوريا", "", True),
    ("border-security", "Turkey closes border crossing with Syria", "", False),
    ("border-security", "Iraq and Syria discuss sharing Euphrates water", "", False),
    ("coalition-forces", "Rocket attack targets Ain al-Asad air base", "", True),
    ("coalition-forces", "Inherent Resolve: coalition strikes hit militants", "", True),
    ("coalition-forces", "US troops begin leaving Iraq", "", True),
    ("coalition-forces", "U.S.-led coalition hands base to Iraqi army", "", True),
    ("coalition-forces", "التحالف الدولي ينفذ غارة في سوريا", "", True),
    ("coalition-forces", "Saudi-led coalition strikes Yemen port", "", False),
    ("coalition-forces", "Let us help, says Iraqi minister after floods", "", False),
    ("coalition-forces", "US forces in Japan hold drill", "", False),
]


@pytest.fixture(scope="module")
def shipped() -> RuleMatcher:
    topics, _ = load_rules(RULES)
    return RuleMatcher(topics.values())


@pytest.mark.parametrize(("topic", "title", "summary", "expected"), HEADLINES)
def test_shipped_topics_on_headlines(shipped: RuleMatcher, topic: str, title: str, summary: str, expected: bool) -> None:
    matched = {m.topic: m for m in shipped.match_text(title, summary)}
    assert (topic in matched) is expected, matched
    if expected:
        assert matched[topic].why and matched[topic].score == 1.0
