"""The regional story set (tests/fixtures/stories-regional.jsonl, written for these tests).

Anbar / Iraq / Syria news of one day and a half, 21 events: pairs that must stay apart (same town,
other event; same kind of event, other people; same people, other event; two airstrikes on two
named ISIS leaders in one province hours apart; hired vs fired; killed vs captured) and rewrites
that must merge (heavy paraphrase, a toll revised 3 -> 5, al-Qaim / Al Qa'im, "UPDATE 1-").
A hidden event (the first item of an event joining another story) is an alert nobody gets.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.items_jsonl import read_items
from bot.stories.cluster import default_settings
from bot.stories.evaluate import eval_clusters, eval_orders

REGIONAL = Path(__file__).parent / "fixtures" / "stories-regional.jsonl"
MUST_MERGE = ("qaim-strike", "hit-bomb", "market-bombing", "bridge-budget", "police-chief-sacked")


def regional(path: Path = REGIONAL) -> tuple[list, list]:
    records = list(read_items(path))
    return [r.item for r in records], [r.story for r in records]




def test_no_event_is_hidden_in_published_order():
    report = eval_clusters(*regional(), default_settings())
    assert report.hidden == (), report.format_text()


def test_re_timed_orders_hide_no_event():
    """Re-timed, a story's first item is any of its items (a follow-up may come first). Measured 0
    hidden events in these 8 orders and in 8 more (seed 100); with name_weight 2.0 one order hid an
    "Islamic State claims the Ramadi market attack" follow-up, first of its event, in a killing in
    Ramadi ("Ramadi, Islamic State, killed")."""
    report = eval_orders(*regional(), default_settings(), orders=8, seed=0, retime=True)
    hidden = [len(r.hidden) for r in report.reports]
    assert sum(hidden) == 0, report.worst.format_text()


@pytest.mark.parametrize("story", MUST_MERGE)
def test_rewrites_merge(story):
    items, gold = regional()
    report = eval_clusters(items, gold, default_settings())
    split = {m.cluster for m in report.splits}
    assert story not in split, report.format_text()


REGIONAL_2 = REGIONAL.with_name("stories-regional-2.jsonl")


def test_the_second_regional_set_hides_no_other_event():
    """Written after the defaults were chosen (Mosul, Kirkuk, Deir ez-Zor, Basra, Najaf, Erbil)."""
    report = eval_orders(*regional(REGIONAL_2), default_settings(), orders=8, seed=0, retime=True)
    hidden = {h.gold for r in report.reports for h in r.hidden}
    # "Rockets hit Erbil base ... days after airport attack" tells of the drone at the airport in its
    # own words; only the weekdays (Friday, Tuesday) keep the two apart (bench/README "Days")
    assert hidden == set(), report.worst.format_text()


REGIONAL_3 = REGIONAL.with_name("stories-regional-3.jsonl")
# Left by the blind set, measured 2026-12-03 (hidden 0.6 / 0.4 per re-timed order, seeds 0 / 100):
# a second blast hours after the first in the same city, whose report tells of the first; the same
# governor opening a hospital and sacking a police chief in one town, confident above 2.0.
def hides_only(path: Path, known: set[str], orders: int) -> None:
    """A blind set hides nothing in published order, and over re-timed orders only the named
    events: so that nothing else starts to be hidden."""
    items, gold = regional(path)
    assert eval_clusters(items, gold, default_settings()).hidden == ()
    report = eval_orders(items, gold, default_settings(), orders=orders, seed=0, retime=True)
    hidden = {h.gold for r in report.reports for h in r.hidden}
    assert hidden <= known, report.worst.format_text()


KNOWN_BLIND = {"raqqa-morning-motorbike-bomb", "raqqa-evening-checkpoint-blast",
               "talafar-hospital-opening", "talafar-police-chief-sacked"}


def test_the_blind_regional_set_hides_only_the_known_pairs():
    """Written by someone who had not read the clusterer (Raqqa, Tal Afar, Sulaymaniyah, Idlib,
    Deir ez-Zor, Diyala): what it hides is named, so that nothing else starts to be."""
    hides_only(REGIONAL_3, KNOWN_BLIND, orders=8)


REGIONAL_4 = REGIONAL.with_name("stories-regional-4.jsonl")
# Written blind after this session's changes and scored once (hidden 2.1 / 2.8 / 2.6 per re-timed
# order at the session's start, 0.9 / 1.0 / 0.8 after; seeds 0 / 100 / 200): a football derby and
# an attack at the same stadium, a prisoner release and a prison break at one prison, a protest and
# the curfew after it, two rocket nights on the Green Zone. The release and the break no longer
# (freed vs escaped); the derby now only when the blast's "two days after city derby" comes first.
KNOWN_BLIND_4 = {"aleppo-derby-result", "basra-electricity-protest", "basra-curfew",
                 "green-zone-rocket-monday", "green-zone-rocket-wednesday"}


def test_the_fourth_regional_set_hides_only_the_known_pairs():
    """Baghdad, Basra, Anbar, Hasakah, Qamishli, Daraa, Homs, Aleppo; written by someone who had
    read neither the clusterer nor the other sets."""
    hides_only(REGIONAL_4, KNOWN_BLIND_4, orders=8)


REGIONAL_5 = REGIONAL.with_name("stories-regional-5.jsonl")
# Written blind after every change the fourth set saw (Kirkuk, Mosul dam, Palmyra, Manbij and
# al-Bukamal, Diyala and Salahuddin, Latakia and Tartus, Duhok, Samarra): scored once, hidden 0.0 /
# 0.0 / 0.1 per re-timed order (seeds 0 / 100 / 200). The one: an election and the protest over
# its result, a poll on the same council vote.
KNOWN_BLIND_5 = {"duhok-election-result-protests"}


def test_the_fifth_regional_set_hides_only_the_known_event():
    hides_only(REGIONAL_5, KNOWN_BLIND_5, orders=24)


REGIONAL_6 = REGIONAL.with_name("stories-regional-6.jsonl")
# Written blind (Suwayda, Baiji, Rutba, Deir ez-Zor, Aleppo, Mosul, Sulaymaniyah, al-Qaim) and
# scored once: hidden 0.9 / 0.5 / 1.0 per re-timed order, never alerted 0.2 / 0.4 / 0.4 (seeds 0 /
# 100 / 200). Left after the changes it led to: a truce and the clashes that broke it (both name the
# truce); and, when the re-timing puts the later event first, a fire "days after earlier blaze", an
# aid convoy "after earlier convoy was blocked", the pipeline's repair before its bombing.
KNOWN_BLIND_6 = {"suwayda-ceasefire-announced", "suwayda-truce-broken-clashes", "aleppo-souq-fire-nov4",
                 "suwayda-aid-convoy-blocked", "baiji-pipeline-bombing"}


def test_the_sixth_regional_set_hides_only_the_known_events():
    hides_only(REGIONAL_6, KNOWN_BLIND_6, orders=24)


REGIONAL_7 = REGIONAL.with_name("stories-regional-7.jsonl")
# Written blind after the changes the sixth set led to, scored once and not looked into (Baghdad,
# Sinjar, al-Hol, Abu Kamal, Sulaymaniyah, Idlib, Hermel, Baiji): hidden 0.2 / 0.1 / 1.1 per re-timed
# order, never alerted 0.1 / 0.0 / 0.8 (seeds 0 / 100 / 200; 0.4 / 0.2 / 1.2 before those changes).
KNOWN_BLIND_7 = {"qaim-abu-kamal-crossing-reopens", "al-hol-repatriation-first-batch",
                 "baghdad-sadr-city-market-car-bomb", "sinjar-snune-drone-strike-car"}


def test_the_seventh_regional_set_hides_only_the_known_events():
    hides_only(REGIONAL_7, KNOWN_BLIND_7, orders=24)
