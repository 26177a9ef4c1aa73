"""Late folds: when an item joins a story, the stories it was also close to are compared with the
grown story as wholes, and folded into the earliest when nothing says two events (decide.refold).
Both had alerted, so a late fold hides nothing. The same items give the same stories through
replay, across run cycles, across a restart (saved window or rebuilt from the store), and the
store records the fold.

All text here is written for these tests.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.models import Item, Match, StoryAction, StoryDecision
from bot.store.db import FeedState, ProcessedItem
from bot.store.judgements import fold_stories
from bot.stories import decide, score
from bot.stories.cluster import StoryClusterer, default_settings
from bot.stories.evaluate import final_stories
from bot.stories.features import ACTION_BITS, FIRST_YEAR
from bot.stories.held import Story
from bot.stories.snapshot import Marker
from tests.test_stories import BACKGROUND, T0

KILLED, CAPTURED = ACTION_BITS["killed"], ACTION_BITS["captured"]


def story(sid: str, weights: dict[str, float], leads: dict[str, int], born: int,
          actions: int = 0, years: int = 0) -> Story:
    """A held story of two or more members, built by hand: profile, main names, what and when."""
    st = Story(sid)
    st.centroid, st.norm2, st.size = dict(weights), sum(w * w for w in weights.values()), 2
    st.leads, st.actions, st.years, st.born = dict(leads), actions, years, born
    return st


def weighed(st: Story, confidence: float) -> decide.Weighed:
    return decide.Weighed(score.Candidate(st), confidence, ())


FLOOD = {"hadith": 0.6, "euphrates": 0.5, "flood": 0.4, "rooftops": 0.3, "boats": 0.2}
GROWN = story("s-b", FLOOD, {"hadith": 2, "euphrates": 1}, born=5)


@pytest.mark.parametrize("other, confidence, apart, folds", [
    (story("s-a", FLOOD, {"hadith": 2}, 1), 1.5, (), True),  # one event in two stories
    (story("s-a", FLOOD, {"hadith": 2}, 1), 0.9, (), False),  # the item is not confident of it
    (story("s-a", {"hadith": 0.6, "market": 0.8}, {"hadith": 1}, 1), 1.5, (), False),  # not alike
    (story("s-a", FLOOD, {"hadith": 2}, 1, actions=KILLED), 1.5, (), True),  # one side names no action
    (story("s-a", {**FLOOD, "ramadi": 0.1}, {"ramadi": 3}, 1), 1.5, (), False),  # its main name is not the grown one's
    (story("s-a", FLOOD, {"hadith": 2}, 1), 1.5, (frozenset(("s-a", "s-b")),), False),  # people said different
    (story("s-a", FLOOD, {"hadith": 2}, 1, years=1 << (2023 - FIRST_YEAR)), 1.5, (), True),  # the grown one names none
])
def test_refold_folds_only_one_event_without_contradiction(other, confidence, apart, folds):
    found = decide.refold(GROWN, [weighed(GROWN, 3.0), weighed(other, confidence)], apart)
    assert [st.id for st, _ in found] == (["s-a"] if folds else [])
    if folds:
        assert found[0][1].startswith("one event with s-a: stories 1.00 alike, item confidence 1.50")


@pytest.mark.parametrize("a_actions, b_actions, a_years, b_years, says", [
    (KILLED, CAPTURED, 0, 0, "actions: killed vs captured"),
    (0, 0, 1 << (2019 - FIRST_YEAR), 1 << (2021 - FIRST_YEAR), "other years: 2019 vs 2021"),
    (KILLED, KILLED, 1 << 5, 1 << 5, ""),
])
def test_story_contradictions(a_actions, b_actions, a_years, b_years, says):
    a = story("s-a", FLOOD, {"hadith": 2}, 1, a_actions, a_years)
    b = story("s-b", FLOOD, {"hadith": 2}, 2, b_actions, b_years)
    assert decide.story_contradictions(a, b) == ([says] if says else [])


def test_a_main_name_the_other_story_never_names_contradicts():
    a = story("s-a", FLOOD, {"hadith": 2}, 1)
    b = story("s-b", {**FLOOD, "qaim": 0.5}, {"qaim": 3}, 2)
    assert decide.story_contradictions(a, b) == ["s-a never names qaim"]


def item(key: str, title: str, summary: str, minutes: int) -> Item:
    return Item(key, title, summary, f"https://x.example/{key}", "Wire", T0 + timedelta(minutes=minutes))


# A flood told at dawn; a day later a thinner report is only related (the time gap), then two
# full reports join that later story, and the second one shows the two stories are one event.
DAY = 1710
STREAM = [item(f"bg{i}", t, s, i) for i, (t, s) in enumerate(BACKGROUND)] + [
    item("f1", "Flood waters cut off Hadith as Euphrates bursts its banks",
         "The Euphrates burst its banks near Hadith on Tuesday, cutting the town off and forcing families onto "
         "rooftops, the Anbar provincial council said.", 60),
    item("f2", "Hadith residents stranded on rooftops after Euphrates flood",
         "Families in Hadith waited on rooftops for boats after the Euphrates flooded the town, civil defence "
         "officials in Anbar said.", 90),
    item("f3", "Hadith flood: boats reach stranded families",
         "Civil defence boats reached families in Hadith after the Euphrates flood, Anbar officials said.", 60 + DAY),
    item("f4", "Boats reach Hadith families stranded on rooftops by Euphrates flood",
         "Civil defence boats reached families stranded on rooftops in Hadith after the Euphrates burst its banks "
         "and cut off the town, the Anbar council said.", 90 + DAY),
    item("f5", "Euphrates flood: boats carry Hadith families from rooftops",
         "Boats of the civil defence carried families from rooftops in Hadith, cut off since the Euphrates burst "
         "its banks, the Anbar council said.", 120 + DAY),
]


@pytest.fixture
def fold_bar(monkeypatch):
    """The item confidence a fold needs, lowered so that this short stream shows one."""
    monkeypatch.setattr(decide, "FOLD_CONFIDENCE", 0.75)


def decisions(clusterer: StoryClusterer, items) -> list[StoryDecision]:
    return [clusterer.assign(i) for i in items]


def test_a_late_fold_joins_the_later_story_into_the_earlier(fold_bar):
    out = decisions(StoryClusterer(default_settings()), STREAM)
    flood = dict(zip([i.key for i in STREAM], out, strict=True))
    assert flood["f3"].action is StoryAction.RELATED and flood["f3"].related == flood["f1"].story_id
    folding = next(d for d in out if d.folded)
    assert folding.story_id == flood["f1"].story_id and folding.folded == (flood["f3"].story_id,)
    assert folding.why[-1] == f"folded {flood['f3'].story_id} into {flood['f1'].story_id}"
    final = final_stories(STREAM, out)
    assert len({final[i] for i, it in enumerate(STREAM) if it.key.startswith("f")}) == 1
    # no first item of the flood joined anything else, and f3 kept its own alert (related)
    assert flood["f1"].action is StoryAction.NEW


def test_a_late_fold_is_the_same_across_cycles_and_restarts(fold_bar, tmp_path):
    settings = default_settings()
    whole = final_stories(STREAM, decisions(StoryClusterer(settings), STREAM))
    cut = len(STREAM) - 2  # a restart between f3 and f4, before the fold
    for restart in ("none", "snapshot", "store"):
        first = StoryClusterer(settings)
        before = decisions(first, STREAM[:cut])
        second = first
        if restart == "snapshot":
            first.save_window(tmp_path / "w", Marker(1, 0))
            second = StoryClusterer(settings)
            assert second.load_window(tmp_path / "w", Marker(1, 0)) == ""
        elif restart == "store":
            second = StoryClusterer(settings)
            second.restore(zip(STREAM[:cut], final_stories(STREAM[:cut], before), strict=True))
        after = decisions(second, STREAM[cut:])
        assert final_stories(STREAM, before + after) == whole, restart
    # and after the fold: a window restored from the store (items under the story they were
    # folded into) decides the next report as the live one does
    live = StoryClusterer(settings)
    out = decisions(live, STREAM)
    rebuilt = StoryClusterer(settings)
    rebuilt.restore(zip(STREAM, final_stories(STREAM, out), strict=True))
    more = item("f6", "Hadith families rescued from Euphrates flood by boats",
                "Civil defence boats carried the last families of Hadith from their rooftops, the Anbar council said.",
                150 + DAY)
    assert live.assign(more).story_id == rebuilt.assign(more).story_id == whole[-1]


def test_the_store_records_a_fold(store):
    now = T0 + timedelta(days=1)
    store.sync_config_feeds([("https://a.org/rss", "A", None)], now)
    feed = store.feeds()[0].id
    state = FeedState(checked_at=now, next_check_at=now + timedelta(minutes=15), status="new")

    def processed(it: Item, sid: str, action: StoryAction) -> ProcessedItem:
        return ProcessedItem(it, (Match("anbar", 1.0, ("hadith",)),), StoryDecision(sid, action), ())

    f1, f3, f4 = (i for i in STREAM if i.key in ("f1", "f3", "f4"))
    store.save_update(feed, state, [processed(f1, "s-a", StoryAction.NEW), processed(f3, "s-b", StoryAction.NEW),
                                    processed(f4, "s-b", StoryAction.JOIN)])
    fold_stories(store, [("s-b", "s-a")], now)
    found = store.story_view("s-a")
    assert [m.title for m in found.members] == [f1.title, f3.title, f4.title]
    assert store.story_view("s-b").members == ()
    assert [sid for _, sid in store.items_since(T0)] == ["s-a"] * 3
