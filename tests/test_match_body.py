"""Rules against the article body: field scopes, NEAR within one field, and a why that names the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.match.nodes import Doc, evaluate
from bot.match.query import parse_query
from bot.match.rules import RuleMatcher, Topic

TITLE = "Senior Islamic State leader killed in strike"
SUMMARY = "A coalition strike killed a senior leader."
BODY = ("Officials said the operation took place in Anbar Province. The more leaders are arrested or "
        "killed, the more ISIS fragments, one analyst said.")


def why(query: str, title: str = TITLE, summary: str = SUMMARY, body: str = BODY):
    return evaluate(parse_query(query), Doc(title, summary, "Wire", body))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("anbar", ("anbar (body)",)),  # unscoped: title, summary and body
        ("body:anbar", ("body:anbar",)),
        ("title:anbar", None),
        ("summary:anbar", None),
        ("title:leader", ("title:leader",)),
        ("leader", ("leader",)),  # found in the title first: no field note
        ("body:leader", None),  # the body says "leaders"
        ("body:leader*", ("body:leader*",)),
        ("fragments", ("fragments (body)",)),
        ("source:wire AND anbar", ("source:wire", "anbar (body)")),
        ("(anbar OR raqqa) AND strike", ("anbar (body)", "strike")),
        ('"anbar province"', ('"anbar province" (body)',)),
        ("anbar NOT title:anbar", ("anbar (body)",)),
        ("NOT body:anbar AND strike", None),
    ],
)
def test_field_scopes_and_the_field_in_why(query, expected):
    assert why(query) == expected


@pytest.mark.parametrize(
    ("query", "title", "summary", "body", "expected"),
    [
        ("ISIS NEAR/8 leader*", "", "", BODY, ("NEAR/8(isis, leader*) (body)",)),  # the example
        ("ISIS NEAR/8 leader*", "ISIS", "", "leaders said", None),  # title word is not near a body word
        ("ISIS NEAR/3 leader*", "", "news about ISIS", "leaders met", None),  # summary end, body start
        ("ISIS NEAR/3 leader*", "ISIS leaders", "", "", ("NEAR/3(isis, leader*)",)),
        ("body:(ISIS NEAR/3 leader*)", "ISIS leaders", "", "", None),
        ("title:ISIS NEAR/3 leader*", "", "", "ISIS leaders", None),
        ("body:ISIS NEAR/3 leader*", "", "", "ISIS leaders", ("body:NEAR/3(isis, leader*)",)),
    ],
)
def test_near_never_spans_fields(query, title, summary, body, expected):
    assert why(query, title, summary, body) == expected


def test_the_matcher_agrees_and_reports_the_body_field():
    topic = Topic("anbar", "Anbar", "", "anbar", parse_query("anbar"), None, Path("anbar.toml"))
    [found] = RuleMatcher([topic]).match_text(TITLE, SUMMARY, body=BODY)
    assert found.why == ("anbar (body)",)
    assert RuleMatcher([topic]).match_text(TITLE, SUMMARY) == []


def test_the_fast_ascii_tokenizer_gives_the_regex_tokens():
    """words() splits ASCII text without the regex (5 KB bodies); the tokens must be the same."""
    import random
    import re

    from bot.text import fold, raw_words, words

    word = re.compile(r"\w+")
    rng = random.Random(5)
    chars = "abcAZ09_ -,.'\"!?()[]{}\t\n/\\@#$%^&*+=<>|~`;:\x0b\x1f"
    for _ in range(5000):
        text = "".join(rng.choice(chars) for _ in range(rng.randint(0, 30)))
        assert words(text) == word.findall(fold(text)) and raw_words(text) == word.findall(text), repr(text)


def test_words_and_raw_words_stay_aligned_on_any_text():
    """Exact-case terms and NEAR read raw_words positions against words(): one token each, in
    Arabic with tatweel and harakat, German ß, Turkish dotted I, combining accents and marks."""
    import random

    from bot.text import raw_words, words

    rng = random.Random(1)
    chars = "aZé'’ ß İıـ\u0301\u064e-ابتʼʿ.,x9"
    for _ in range(20000):
        text = "".join(rng.choice(chars) for _ in range(rng.randint(0, 12)))
        assert len(words(text)) == len(raw_words(text)), repr(text)


@pytest.mark.parametrize(("text", "tokens"), [
    ("frappe sur l'Iran", ["frappe", "sur", "l", "iran"]),  # an elision: the name is still a word
    ("dell'Isis", ["dell", "isis"]),
    ("IŞİD'in lideri", ["isid", "in", "lideri"]),  # a Turkish suffix after the name
    ("O'Brien's men", ["o", "brien", "s", "men"]),
])
def test_a_mark_splits_words_for_rules_so_a_name_after_it_is_found(text, tokens):
    from bot.text import raw_words, words

    assert words(text) == tokens
    assert [t.casefold() for t in raw_words(text)] == tokens  # token for token, as exact-case terms need


def test_the_story_clusterer_reads_a_mark_inside_a_name_as_spelling():
    from bot.stories.features import extract

    assert {"qaim", "obrien"} <= set(extract("Clashes near Al Qa'im and O'Brien's base", "").tf)
    assert "re" in extract("THEY'RE back in Qaʼim", "").tf  # a clitic stays split off, in any case


def test_a_rule_matches_a_transliteration_with_a_mark():
    """The shipped Anbar rule spells al-Qaim's variants: a report of Al Qa'im is Anbar news too."""
    from bot.match.rules import load_rules

    topics, problems = load_rules(Path(__file__).resolve().parents[1] / "rules")
    assert problems == []
    matcher = RuleMatcher([topics["anbar"]])
    for title in ("Clashes near Al Qa'im", "Clashes near al-Qaim", "Clashes near Al Qaʼim", "Clashes near Al-Qaem"):
        assert [m.topic for m in matcher.match_text(title)] == ["anbar"], title
