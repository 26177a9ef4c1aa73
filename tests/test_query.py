"""The rule language: what a query matches, what `why` says, and how a bad query is reported."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from bot.errors import RuleSyntaxError
from bot.match.nodes import Doc, evaluate
from bot.match.query import And, Exact, Field, Near, Not, Or, Phrase, Prefix, Term, parse_query
from bot.match.rules import RuleMatcher, Topic


def run(query: str, title: str, summary: str = "", source: str = "") -> tuple[str, ...] | None:
    """Match through RuleMatcher (prefilter included) and check it agrees with plain evaluation."""
    node = parse_query(query)
    matcher = RuleMatcher([Topic("t", "T", "", query, node, None, Path("t.toml"))])
    found = matcher.match_text(title, summary, source)
    direct = evaluate(node, Doc(title, summary, source))
    assert (direct is not None) == bool(found), "prefilter dropped a true topic"
    return found[0].why if found else None


CASES = [
    # phrases: whole tokens in order; punctuation between them does not matter
    ('"islamic state"', "Islamic State claims attack", "", True),
    ('"islamic state"', "Islamic-State claims attack", "", True),
    ('"islamic state"', "State says Islamic groups banned", "", False),
    ('"abu bakr al-baghdadi"', "Abu Bakr al Baghdadi reported dead", "", True),
    ('"north korea*"', "North Korean missile test", "", True),
    ('"north korea*"', "Korean leader visits north", "", False),
    # whole words only, prefixes by *
    ("leader", "Leaders meet in Baghdad", "", False),
    ("leader*", "Leadership council meets", "", True),
    ("leader*", "Misleading report withdrawn", "", False),
    # implicit and explicit AND, OR, and their precedence
    ("mosul drone", "Drone seen over Mosul", "", True),
    ("mosul drone", "Drone seen over Kirkuk", "", False),
    ("mosul AND drone", "Mosul", "a drone was seen", True),
    ("mosul OR kirkuk", "Kirkuk governor resigns", "", True),
    ("mosul OR kirkuk drone", "Mosul market reopens", "", True),
    ("mosul OR kirkuk drone", "Kirkuk market reopens", "", False),
    ("(mosul OR kirkuk) drone", "Mosul market reopens", "", False),
    ("(mosul OR kirkuk) drone", "Drone downed near Kirkuk", "", True),
    # NOT, unary and after a term
    ("isis NOT film", "ISIS film wins award", "", False),
    ("isis NOT film", "ISIS attack in desert", "", True),
    ('isis AND NOT (film OR "video game")', "ISIS video game banned", "", False),
    ('isis AND NOT (film OR "video game")', "ISIS video of the game", "", True),
    ("NOT film isis", "ISIS attack in desert", "", True),
    # NEAR/n: either order, counted in tokens, 1 = adjacent, never across fields
    ("drone NEAR/3 strike", "Drone strike kills two", "", True),
    ("drone NEAR/3 strike", "Strike by a drone", "", True),
    ("drone NEAR/3 strike", "Strike carried out by drone", "", False),
    ("drone NEAR/3 strike", "Drone hovered for hours before the strike", "", False),
    ("drone NEAR/1 strike", "Drone and strike", "", False),
    ("drone NEAR/2 strike", "Drone and strike", "", True),
    ("drone NEAR/3 strike", "Drone", "strike", False),
    ('"islamic state" NEAR/2 leader*', "Leader of Islamic State killed", "", True),
    ("(drone OR uav) NEAR/2 strike*", "UAV strikes convoy", "", True),
    ("'IS' NEAR/1 commander", "IS commander captured", "", True),
    ("'IS' NEAR/1 commander", "is commander captured", "", False),
    # field scopes; an unscoped term reads title and summary but never the source
    ("title:mosul", "Mosul dam repairs", "", True),
    ("title:mosul", "Dam repairs", "Work near Mosul", False),
    ("summary:mosul", "Dam repairs", "Work near Mosul", True),
    ("source:reuters", "Dam repairs", "", False),
    ("reuters", "Dam repairs", "", False),
    ('title:("islamic state" OR isis) leader*', "Islamic State", "leader killed", True),
    ('title:("islamic state" OR isis) leader*', "Leader killed", "Islamic State", False),
    ("title:drone NEAR/2 strike", "Drone", "strike", False),
    ("title:drone NEAR/2 strike", "Drone strike", "", True),
    # exact case in single quotes; double quotes and bare words fold case
    ("'IS' leader", "IS leader killed", "", True),
    ("'IS' leader", "This is the leader", "", False),
    ("'IS' leader", "Is leader dead?", "", False),
    ('"is" leader', "This is the leader", "", True),
    ("'Islamic State'", "Islamic State", "", True),
    ("'Islamic State'", "islamic state", "", False),
    # accents and case
    ("mosul", "MÓSUL under curfew", "", True),
    ("Mósul", "Mosul under curfew", "", True),
    ("qaim", "Al-Qāim crossing", "", True),
    # Arabic: hamza and ta marbuta variants, harakat, shadda and tatweel are folded
    ("الأنبار", "اشتباكات في الانبار", "", True),
    ("الانبار", "اشتباكات في الأَنْبَار", "", True),
    ("مسيرة", "قصف بطائرة مسيّرة", "", True),
    ("مسيرة", "قصف بطائرة مسيره", "", True),
    ("داعش", "هجوم لـ داعـــش", "", True),
    ('"الدولة الإسلامية"', "تنظيم الدولة الاسلامية يتبنى", "", True),
    ("الأنبار", "اشتباكات في الموصل", "", False),
]


@pytest.mark.parametrize(("query", "title", "summary", "expected"), CASES)
def test_query_matches(query: str, title: str, summary: str, expected: bool) -> None:
    assert (run(query, title, summary) is not None) is expected


def test_source_scope_reads_the_feed_name() -> None:
    assert run("source:reuters", "Dam repairs", "", "Reuters World") is not None
    assert run("reuters", "Dam repairs", "", "Reuters World") is None


WHY = [
    ('(isis OR "islamic state") AND leader* AND NOT film', "Islamic State leaders meet", "", ('"islamic state"', "leader*")),
    ('title:"islamic state" leader', "Islamic State", "the leader spoke", ('title:"islamic state"', "leader")),
    ("(drone OR uav) NEAR/3 strike*", "Drone strikes hit convoy", "", ("NEAR/3(drone, strike*)",)),
    ("title:(drone NEAR/3 strike)", "Strike by drone", "", ("title:NEAR/3(drone, strike)",)),
    ("'IS' OR isis", "IS and ISIS", "", ("'IS'", "isis")),
    ("mosul OR kirkuk OR erbil", "Erbil and Mosul", "Mosul again", ("mosul", "erbil")),
    ("isis NOT film", "ISIS attack", "", ("isis",)),
]


@pytest.mark.parametrize(("query", "title", "summary", "why"), WHY)
def test_why_names_the_terms_that_hit(query: str, title: str, summary: str, why: tuple[str, ...]) -> None:
    assert run(query, title, summary) == why


def test_parse_tree_shape() -> None:
    node = parse_query("a b OR NOT c d NEAR/4 \"e f\" title:ggg* OR 'H'")
    assert node == Or((
        And((Term("a"), Term("b"))),
        And((Not(Term("c")), Near(Term("d"), Phrase(("e", "f")), 4), Field("title", Prefix("ggg")))),
        Exact(("H",)),
    ))
    assert parse_query("al-Baghdadi") == Phrase(("al", "baghdadi"))
    assert parse_query('"Leader"') == Term("leader")
    assert parse_query("title:x NEAR/2 y") == Field("title", Near(Term("x"), Term("y"), 2))


ERRORS = [
    ("", 1, 1, "empty query", "a term"),
    ("   \n  ", 1, 1, "empty query", "a term"),
    ("(mosul OR kirkuk", 1, 1, "this ( is not closed (found the end instead of ))", ")"),
    ("a AND (mosul OR\n kirkuk", 1, 7, "this ( is not closed", ")"),
    ("mosul OR", 1, 9, "ends after OR", "a term"),
    ("mosul AND\n", 1, 10, "ends after AND", "a term"),
    ("OR mosul", 1, 1, "unexpected OR", "a term"),
    ("mosul)", 1, 6, "unmatched )", "end of the query"),
    ("mosul\nAND (kirkuk\n  OR )", 3, 6, "unexpected )", "a term"),
    ('mosul "islamic state', 1, 7, "unterminated phrase", '"'),
    ("'IS leader", 1, 1, "unterminated exact-case", "'"),
    ('""', 1, 1, "empty quotes", "a word"),
    ("drone NEAR/x strike", 1, 7, "NEAR distance", "NEAR/n"),
    ("drone NEAR/0 strike", 1, 7, "NEAR distance", "NEAR/n"),
    ("drone NEAR/101 strike", 1, 7, "NEAR distance", "NEAR/n"),
    ("drone NEAR strike", 1, 7, "NEAR distance", "NEAR/n"),
    ("drone NEAR/3 strike NEAR/3 kill", 1, 21, "chained", "AND"),
    ("(drone isis) NEAR/3 strike", 1, 14, "operand", "OR group"),
    ("title:drone NEAR/3 summary:strike", 1, 13, "different fields", "one field"),
    ("title: mosul", 1, 1, "empty field", "title:"),
    ("(title:)", 1, 2, "empty field", "title:"),
    ("mosul\n  summary:", 2, 3, "empty field", "summary:"),
    ("author:smith", 1, 1, "unknown field", "title:, summary:, body: or source:"),
    ("NOT film", 1, 1, "almost everything", "must contain"),
    ("isis OR NOT film", 1, 1, "almost everything", "must contain"),
    ("()", 1, 2, "empty parentheses", "a term"),
    ("lead*er", 1, 5, "* inside", "end of a word"),
    ("ab*", 1, 1, "too broad", "3 letters"),
    ("al-Bagh*", 1, 1, "several words", "quoted phrase*"),
    ('"nor* korea"', 1, 5, "misplaced *", "after the last word"),
    ("'IS*'", 1, 4, "misplaced *", "no * in an exact-case term"),
    ("mosul & kirkuk", 1, 7, "no letters", "a term"),
]


@pytest.mark.parametrize(("query", "line", "column", "message", "expected"), ERRORS)
def test_syntax_errors_say_where_and_what(query: str, line: int, column: int, message: str, expected: str) -> None:
    with pytest.raises(RuleSyntaxError) as info:
        parse_query(query)
    err = info.value
    assert (err.line, err.column) == (line, column), str(err)
    assert message in err.message
    assert expected in err.expected


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    with pytest.raises(RuleSyntaxError, match="nested too deep"):
        parse_query("(" * 500 + "mosul" + ")" * 500)


def random_query(rng: random.Random, depth: int = 0) -> str:
    leaves = ["alpha", "beta", "gamma", "delta", '"alpha beta"', "gam*", '"beta gam*"', "'Beta'", "title:delta", "summary:alpha", "body:beta"]
    roll = rng.random()
    if depth > 2 or roll < 0.4:
        return rng.choice(leaves)
    if roll < 0.5:
        return f"NOT {random_query(rng, depth + 1)}"
    if roll < 0.6:
        return f"{rng.choice(leaves[:8])} NEAR/{rng.randint(1, 3)} {rng.choice(leaves[:8])}"
    op = rng.choice([" AND ", " OR ", " "])
    return "(" + op.join(random_query(rng, depth + 1) for _ in range(rng.randint(2, 3))) + ")"


def test_prefilter_never_changes_the_answer() -> None:
    """Random queries and texts: the matcher with its prefilter agrees with plain evaluation."""
    rng = random.Random(3)
    topics = []
    while len(topics) < 150:
        text = random_query(rng)
        try:
            node = parse_query(text)
        except RuleSyntaxError:
            continue
        topics.append(Topic(f"t{len(topics)}", "", "", text, node, None, Path("t.toml")))
    topics.append(Topic("hand-built", "", "", "NOT alpha", Not(Term("alpha")), None, Path("h.toml")))
    matcher = RuleMatcher(topics)
    vocab = ["alpha", "Alpha", "beta", "Beta", "BETA", "gamma", "gammas", "delta", "x", "y", "z"]
    for _ in range(300):
        title, summary, body = (" ".join(rng.choices(vocab, k=rng.randint(0, 6))) for _ in range(3))
        doc = Doc(title, summary, "", body)
        expected = [t.id for t in topics if evaluate(t.query, doc) is not None]
        assert [m.topic for m in matcher.match_text(title, summary, body=body)] == expected, (title, summary, body)
