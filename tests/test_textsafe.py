"""Display safety as tables: invisible characters, clipping in UTF-16 units, homograph hosts, and
every message the bot composes staying valid HTML under 4,096 UTF-16 units whatever the feed sent."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.alerts.compose import format_console
from bot.ingest.htmltext import html_to_text as normalize_text
from bot.models import Alert, AlertKind
from bot.store.chats import Explanation
from bot.store.db import FeedRow
from bot.textsafe import clip, display_host, strip_invisible, utf16_len
from bot.tg import explain
from bot.tg.format import (
    MAX_TEXT,
    digest_chunks,
    digest_entry,
    digest_text,
    format_alert,
    format_update,
)
from tests.botapi import html_to_text

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("text", "shown"), [
    ("Breaking: \u202etxet desrever", "Breaking: txet desrever"),  # RIGHT-TO-LEFT OVERRIDE
    ("\u202aa\u202bb\u202cc\u202dd", "abcd"),  # embeddings, pop, LTR override
    ("\u2066isolated\u2069 \u2067r\u2068f\u2069", "isolated rf"),
    ("price\u200e 5\u200f", "price 5"),  # LRM, RLM
    ("pay\u200bpal", "paypal"),  # zero-width space
    ("a\u2060b\ufeffc", "abc"),  # word joiner, BOM
    ("\ufeffTitle", "Title"),
    ("الرمادي\u061c مجلس", "الرمادي مجلس"),  # Arabic letter mark goes
    ("مجلس محافظة الأنبار يقرّ الميزانية", "مجلس محافظة الأنبار يقرّ الميزانية"),  # Arabic untouched
    ("می\u200cخواهم", "می\u200cخواهم"),  # Persian half space (ZWNJ) between letters: kept
    ("ب\u200dب", "ب\u200dب"),  # ZWJ between Arabic letters (joining form): kept
    ("\u200cمی", "می"),  # at the edge of a word: nothing to join
    ("پ\u200c\u200cی", "پی"),  # a run of joiners spells nothing
    ("pay\u200cpal", "paypal"),  # between Latin letters: only hides a split
    ("pay\u200dpal", "paypal"),
    ("\u0430\u200cb", "\u0430b"),  # Cyrillic + Latin
    ("👨\u200d👩\u200d👧 family", "👨\u200d👩\u200d👧 family"),  # emoji ZWJ sequence: kept
    ("❤\ufe0f\u200d🔥", "❤\ufe0f\u200d🔥"),  # after VS16
    ("plain ASCII stays", "plain ASCII stays"),
])
def test_strip_invisible(text: str, shown: str) -> None:
    assert strip_invisible(text) == shown


def test_normalize_removes_them_from_titles() -> None:
    assert normalize_text("<b>Ramadi\u202e</b> council&#x200B; vote\u2066") == "Ramadi council vote"
    assert normalize_text("می\u200cخواهم") == "می\u200cخواهم"


@pytest.mark.parametrize(("text", "limit", "units"), [
    ("word " * 100, 50, 50),
    ("😀" * 2000, 300, 300),  # emoji are two units each
    ("😀" * 10, 7, 7),  # never half a surrogate pair
    ("x" * 10_000, 100, 100),
    ("👨\u200d👩\u200d👧" * 50, 20, 20),
    ("é" * 500, 10, 10),
])
def test_clip_counts_utf16_units(text: str, limit: int, units: int) -> None:
    clipped = clip(text, limit)
    assert utf16_len(clipped) <= units and clipped.endswith("…")
    assert not clipped[:-1].endswith("\u200d")  # no sequence cut after its joiner


@pytest.mark.parametrize(("host", "shown"), [
    ("www.apple.com", "www.apple.com"),
    ("xn--pple-43d.com", "xn--pple-43d.com"),  # Cyrillic а + Latin pple: mixed
    ("аpple.com", "xn--pple-43d.com"),  # the same, given in Unicode
    ("xn--80ak6aa92e.com", "xn--80ak6aa92e.com"),  # аррӏе: all Cyrillic, every letter a look-alike
    ("xn--e1afmkfd.xn--p1ai", "пример.рф"),  # honest Cyrillic
    ("xn--bcher-kva.example", "bücher.example"),  # Latin with a diacritic
    ("xn--mgbh0fb.xn--kgbechtv", "مثال.إختبار"),  # Arabic
    ("xn--wgv71a119e.jp", "日本語.jp"),
    ("xn--eckwd4c7cu47r2wf.jp", "ドメイン名例.jp"),  # Katakana + Han: an allowed mix
    ("xn--ggle-0nda.com", "xn--ggle-0nda.com"),  # Greek omicrons in a Latin name
    ("news.example", "news.example"),
    ("feeds_1.example", "feeds_1.example"),
])
def test_display_host(host: str, shown: str) -> None:
    assert display_host(host) == shown


def test_alert_link_shows_a_homograph_in_punycode() -> None:
    text = format_alert(alert(url="https://xn--80ak6aa92e.com/news"), names={}, zone="UTC")
    assert ">xn--80ak6aa92e.com</a>" in text


# ---- every message under the limit ---------------------------------------------------------------

HOSTILE = {
    "long": "Source " + "x" * 10_000,
    "emoji": "😀" * 2_000,
    "words": "word " * 3_000,
    "bidi": "\u202e" * 3_000 + "evil" + "\u2066" * 3_000,
    "marks": "e" + "\u0301" * 8_000,
}


def alert(text: str = "Title", *, url: str | None = "https://news.example/a", kind=AlertKind.ALERT,
          also: tuple[str, ...] = ()) -> Alert:
    return Alert(kind, "s1", "k1", text, text, url, text, NOW, tuple(f"t{i}-{text[:50]}" for i in range(30)),
                 also=also)


def visible_units(html: str) -> int:
    return utf16_len(html_to_text(html))  # raises if Telegram would refuse the HTML


@pytest.mark.parametrize("case", HOSTILE)
def test_every_message_fits(case: str) -> None:
    text = HOSTILE[case]
    names = {f"t{i}-{text[:50]}": text for i in range(30)}
    also = tuple(f"{text}{i}" for i in range(40))
    messages = {
        "alert": format_alert(alert(text), names=names, zone="UTC", also=also),
        "alert, long url": format_alert(alert(text, url="https://news.example/" + "a" * 5000), names=names, zone="UTC"),
        "update": format_update(alert(text, kind=AlertKind.UPDATE, also=also), zone="UTC"),
        "update, one source": format_update(alert(text, kind=AlertKind.UPDATE), zone="UTC"),
        "why": explain._why_item(Explanation(text, text, tuple((f"t{i}", 0.9, (text,) * 5) for i in range(5)),
                                             "s1", text, also, 40), names),
        "why (5 items)": explain.clip_html("\n\n".join(
            [explain._why_item(Explanation(text, text, (("t0", 0.9, (text,)),), "s1", text, also, 40), names)] * 5)),
        "feeds": explain.feeds_table([feed_row(i, text) for i in range(500)], NOW, 3),
        "status": explain.status_text({}, {}, [feed_row(i, text) for i in range(20)], 1.0),
        "test": explain.test_text([], names, None),
    }
    messages |= {f"notice {i}": n for i, n in enumerate(explain.feed_notices([outcome(text)], 3))}
    entries = [digest_entry(alert(text), names=names, zone="UTC", also=also) for _ in range(30)]
    for n, chunk in enumerate(digest_chunks(entries, text)):
        messages[f"digest {n}"] = digest_text([entries[i] for i in chunk], text, n + 1, 9)
    for name, html in messages.items():
        assert visible_units(html) <= MAX_TEXT, (name, visible_units(html))
        assert "\u202e" not in html and "\u2066" not in html, name
    assert "evil" in messages["alert"] or case != "bidi"


def test_console_strips_bidi_and_clips_sources() -> None:
    out = format_console(alert("\u202eTitle", also=("x" * 10_000,), kind=AlertKind.UPDATE))
    assert "\u202e" not in out and len(out) < 1000


def feed_row(i: int, name: str) -> FeedRow:
    return FeedRow(i, f"https://news.example/{name[:3000]}", name, "config", None, True, None, None, None,
                   NOW, NOW, None, "error", 5, name, 0, None)


class outcome:  # noqa: N801 - the shape feed_notices reads
    def __init__(self, text: str):
        self.feed, self.status, self.error = feed_row(1, text), "error", text
        self.feed = FeedRow(**{**self.feed.__dict__, "error_count": 2})
