"""Pure parts of the Telegram layer, as tables: text, buttons, settings, routes, error mapping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.alerts.outbox import Route
from bot.config import parse_config
from bot.models import Alert, AlertKind
from bot.runtime import build_routes
from bot.store.chats import StoredChats
from bot.tg.application import api_urls
from bot.tg.format import MAX_TEXT, digest_chunks, format_alert, format_update
from bot.tg.keyboards import Feedback, SubscribeToggle, feedback_keyboard, parse_callback
from bot.tg.settings import parse_settings
from bot.tg.sink import ChatBlocked, ChatMoved, translate
from bot.tg.topic_args import parse_duration, resolve
from tests.botapi import html_to_text

pytestmark = pytest.mark.filterwarnings("ignore:.*retry_after:telegram.warnings.PTBDeprecationWarning")
AT = datetime(2026, 3, 10, 12, 5, tzinfo=UTC)
NAMES = {"anbar": "Anbar", "drone-strikes": "Drone strikes"}


def alert(**fields) -> Alert:
    base = dict(kind=AlertKind.ALERT, story_id="s1", item_key="k", title="Strike near al-Qaim",
                summary="Three killed.", url="https://www.news.example/a?x=1&y=2", source="Wire",
                published=AT, topics=("anbar", "drone-strikes"))
    return Alert(**(base | fields))


def test_alert_layout():
    assert format_alert(alert(), names=NAMES, zone="Asia/Baghdad") == (
        "<i>Anbar · Drone strikes</i>\n<b>Strike near al-Qaim</b>\nThree killed.\nWire · 10 Mar 15:05 +03\n"
        '<a href="https://www.news.example/a?x=1&amp;y=2">news.example</a>'
    )
    also = format_alert(alert(), names=NAMES, zone="UTC", also=[f"S{i}" for i in range(8)])
    assert also.endswith("<i>also: S0, S1, S2, S3, S4 and 3 more</i>")


@pytest.mark.parametrize(
    "fields",
    [
        {"title": "<script>alert(1)</script> & \"quotes\" 'too'", "summary": "a < b > c & d"},
        {"source": "<b>Evil</b> & Co", "url": 'https://x.example/"><b>x</b>'},
        {"url": "javascript:alert(1)"},
        {"url": None, "summary": ""},
        {"title": "word " * 2000, "summary": "long " * 2000, "source": "S" * 500, "topics": tuple(f"t{i}" for i in range(300))},
        {"title": "حكومة الأنبار تعلن", "summary": "نص عربي <مع> رموز & أخرى"},
    ],
)
def test_alert_text_is_valid_html_within_limits(fields):
    a = alert(**fields)
    text = format_alert(a, names=NAMES, zone="UTC", also=["<x>"] * 9)
    plain = html_to_text(text)  # raises where Telegram would refuse the HTML
    assert len(plain) < MAX_TEXT
    assert "<script>" not in text and "javascript:" not in text
    if "<" in a.title:
        assert a.title.split()[0] in plain  # escaped, not dropped
    html_to_text(format_update(a, zone="UTC"))


def test_digest_chunks_stay_under_the_limit():
    entries = ["x" * 1000] * 9
    chunks = digest_chunks(entries, "Digest")
    assert [len(c) for c in chunks] == [4, 4, 1]
    assert [i for c in chunks for i in c] == list(range(9))


@pytest.mark.parametrize(
    ("data", "action"),
    [
        ("fb:12:+", Feedback(12, "+")),
        ("fb:12:m", Feedback(12, "m")),
        ("fb:x:+", None),
        ("fb:12:?", None),
        ("sub:anbar:1", SubscribeToggle("anbar", True)),
        ("sub:drone-strikes:0", SubscribeToggle("drone-strikes", False)),
        ("sub::1", None),
        ("other", None),
        (None, None),
    ],
)
def test_parse_callback(data, action):
    assert parse_callback(data) == action


def test_feedback_keyboard_marks_the_choice_and_fits():
    markup = feedback_keyboard(2**40, "-")
    buttons = markup.inline_keyboard[0]
    assert [b.text for b in buttons] == ["👍", "👎 ✓", "🔕"]
    assert all(len(b.callback_data.encode()) <= 64 for b in buttons)


@pytest.mark.parametrize(
    ("args", "values"),
    [
        (["mode", "instant"], {"mode": "instant"}),
        (["mode", "digest", "18:00,7:30"], {"mode": "digest", "digest_times": ["07:30", "18:00"]}),
        (["mode", "digest", "08:00,", "18:00"], {"mode": "digest", "digest_times": ["08:00", "18:00"]}),
        (["quiet", "22:00-07:00"], {"quiet_hours": "22:00-07:00"}),
        (["quiet", "off"], {"quiet_hours": ""}),
        (["tz", "Asia/Baghdad"], {"timezone": "Asia/Baghdad"}),
        (["thread", "off"], {"thread_id": 0}),
        (["lang", "AR"], {"language": "ar"}),
        (["lang", "en-GB"], {"language": "en"}),
        (["lang", "auto"], {"language": None}),
        (["tz", "+03:00"], {"timezone": "UTC+03:00"}),
        (["tz", "UTC-5:30"], {"timezone": "UTC-05:30"}),
        (["silent", "on"], {"silent": True}),
        (["silent", "OFF"], {"silent": False}),
        (["reset"], {"mode": None, "digest_times": None, "quiet_hours": None, "timezone": None, "thread_id": None,
                     "silent": None, "language": None}),
    ],
)
def test_parse_settings(args, values):
    assert parse_settings(args) == values


@pytest.mark.parametrize(
    ("args", "error"),
    [
        ([], "Usage"),
        (["mode", "weekly"], "Usage"),
        (["mode", "digest", "25:00"], "not a time of day"),
        (["quiet", "22:00"], "not a range"),
        (["quiet", "07:00-07:00"], "different times"),
        (["tz", "Mars/Base"], "unknown time zone"),
        (["tz", "+15:00"], "not a UTC offset"),
        (["volume", "11"], "Usage"),
        (["lang", "klingon"], "Unknown language klingon: use one of en, ar, or auto"),
    ],
)
def test_parse_settings_errors(args, error):
    with pytest.raises(ValueError, match=error):
        parse_settings(args)


@pytest.mark.parametrize(("text", "span"), [("90m", timedelta(minutes=90)), ("2h", timedelta(hours=2)),
                                            ("1d", timedelta(days=1)), ("1W", timedelta(weeks=1))])
def test_parse_duration(text, span):
    assert parse_duration(text) == span


@pytest.mark.parametrize("text", ["0h", "2", "h", "2y", "-1h"])
def test_parse_duration_errors(text):
    with pytest.raises(ValueError):
        parse_duration(text)


@pytest.mark.parametrize(
    ("base", "urls"),
    [
        ("http://localhost:8081", ("http://localhost:8081/bot", "http://localhost:8081/file/bot")),
        ("http://localhost:8081/bot", ("http://localhost:8081/bot", "http://localhost:8081/file/bot")),
        ("http://h/bot{token}/test", ("http://h/bot{token}/test", "http://h/file/bot{token}/test")),
    ],
)
def test_api_urls(base, urls):
    assert api_urls(base) == urls


@pytest.mark.parametrize(
    ("exc", "kind", "retry"),
    [
        (lambda: RetryAfter(3), None, 3.0),
        (lambda: TimedOut(), None, 5.0),
        (lambda: NetworkError("Bad Gateway"), None, 5.0),
        (lambda: BadRequest("Bad Request: chat not found"), None, None),
        (lambda: Forbidden("Forbidden: bot was blocked by the user"), ChatBlocked, None),
        (lambda: ChatMigrated(-1009), ChatMoved, 0),
    ],
)
def test_telegram_errors_become_outbox_decisions(exc, kind, retry):
    out = translate(exc())  # built here: PTB warns when a RetryAfter is made
    assert out.retry_after == retry and (kind is None or isinstance(out, kind))


CONFIG = parse_config({
    "outputs": {"console": True},
    "chats": [{"id": 1, "topics": ["anbar"]}, {"id": 2, "topics": ["*"]}, {"id": -100, "topics": ["anbar"]}],
}, Path("/nowhere/config.toml"))
EVERY = ("anbar", "drone-strikes", "mosul")


@pytest.mark.parametrize(
    ("stored", "telegram", "expected"),
    [
        (StoredChats(), True, [("tg:1", {"anbar"}), ("tg:2", None), ("tg:-100", {"anbar"})]),
        (StoredChats(added={1: frozenset({"mosul"}), 5: frozenset({"anbar"})}, removed={2: frozenset({"mosul"})}),
         True, [("tg:1", {"anbar", "mosul"}), ("tg:2", {"anbar", "drone-strikes"}), ("tg:-100", {"anbar"}), ("tg:5", {"anbar"})]),
        (StoredChats(removed={1: frozenset({"anbar"})}, inactive=frozenset({2}), moved={-100: -1009}),
         True, [("tg:1", set()), ("tg:-1009", {"anbar"})]),
        (StoredChats(added={5: frozenset({"anbar"})}), False, [(None, {"anbar"}), (None, None), (None, {"anbar"})]),
    ],
)
def test_routes_layer_chat_commands_over_config(stored, telegram, expected):
    routes = build_routes(CONFIG, telegram, stored=stored, topics=EVERY)
    assert routes[0] == Route("console")
    got = [(r.target, None if r.topics is None else set(r.topics)) for r in routes[1:]]
    assert got == expected


def test_a_notice_logged_reads_as_plain_text():
    """The admin notice goes to the log too, where HTML entities would be noise."""
    from bot.textsafe import html_to_plain

    assert html_to_plain("⚠️ <b>rules/x.toml</b>: name &#x27;bot&#x27; &amp; co &lt;3") == "⚠️ rules/x.toml: name 'bot' & co <3"


@pytest.mark.parametrize(("words", "found"), [(["beta"], ("beta",)), (["BETA", "alpha"], ("beta", "alpha"))])
def test_subscribe_words_naming_an_id_mean_that_topic(words, found):
    # load_rules refuses such a pair; resolve still must not depend on the order topics come in
    assert resolve(words, {"beta": "Other", "alpha": "Beta"}).found == found
