"""Languages: the catalogs are complete and consistent with the code, languages are picked as
documented, and Arabic chats get Arabic replies and alerts laid out right to left."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot.i18n import LOCALE_DIR, RLM, directed, is_rtl, language_of, pick, translation
from bot.models import Alert, AlertKind
from bot.store import chats as db
from bot.tg.format import format_alert
from tests.botapi import bot_api  # noqa: F401  (fixture)
from tests.tg_harness import COUNCIL, STRIKE, STRIKE_B, USER, ask, rss, start_app, write_config

REPO = Path(__file__).resolve().parents[1]
KEYWORDS = {"_": None, "n_": (1, 2), "N_": None}
_FIELD = re.compile(r"\{(\w*)")


def code_messages() -> set[str]:
    """Every message the code marks for translation, as `pybabel extract` finds it (README)."""
    found = extract_from_dir(str(REPO / "bot"), method_map=[("**.py", "python")], keywords=KEYWORDS)
    return {m[2] if isinstance(m[2], str) else m[2][0] for m in found}


def catalog(language: str):
    with (LOCALE_DIR / language / "LC_MESSAGES" / "wirewatch.po").open("rb") as f:
        return read_po(f, locale=language)


def test_the_arabic_catalog_translates_every_message_of_the_code_and_no_other():
    ar = {m.id if isinstance(m.id, str) else m.id[0]: m for m in catalog("ar") if m.id}
    in_code = code_messages()
    assert in_code - set(ar) == set(), "run the extract and update commands of README 'Translations'"
    assert set(ar) - in_code == set(), "messages no longer in the code: update the catalog"
    untranslated = [k for k, m in ar.items() if not all(m.string if isinstance(m.string, tuple) else [m.string])]
    assert untranslated == []
    assert not [k for k, m in ar.items() if m.fuzzy]


def test_translations_keep_every_placeholder_and_valid_markup():
    for m in catalog("ar"):
        if not m.id:
            continue
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        wanted = set(_FIELD.findall(ids[-1]))
        for form, text in enumerate(strings):
            have = set(_FIELD.findall(text))
            # Arabic's zero, one and two forms spell the number out: only they may drop {n}
            allowed = wanted - {"n"} if isinstance(m.id, tuple) and form < 3 else wanted
            assert allowed <= have <= wanted, (ids[0], form, text)
            assert re.findall(r"</?\w+>", text) == re.findall(r"</?\w+>", ids[0]), (ids[0], text)


@pytest.mark.parametrize("chosen, telegram, expected", [
    (None, None, "en"), (None, "ar", "ar"), (None, "ar-IQ", "ar"), (None, "fr", "en"),
    ("en", "ar", "en"), ("ar", "en", "ar"), ("AR", None, "ar"), ("xx", "ar", "ar"),
])
def test_pick_a_language(chosen, telegram, expected):
    assert pick(chosen, telegram) == expected


def test_languages_and_dates():
    assert language_of("ar_SA") == "ar" and language_of("") is None and language_of("de") is None
    ar, en = translation("ar"), translation("en")
    assert ar._("Nothing was muted.") == "لم يكن أي موضوع مكتوماً." and en._("Nothing was muted.") == "Nothing was muted."
    assert translation("fr") is en  # a language not shipped is English
    assert ar.n_("{n} alert", "{n} alerts", 2) == "تنبيهان" and ar.n_("{n} alert", "{n} alerts", 11) == "{n} تنبيهاً"
    moment = datetime(2026, 11, 21, 11, 5, tzinfo=UTC)
    assert en.when(moment, ZoneInfo("Asia/Baghdad")) == "21 Nov 14:05 +03"
    assert ar.when(moment, ZoneInfo("Asia/Baghdad")) == "21 نوفمبر 14:05 +03"


@pytest.mark.parametrize("text, rtl", [
    ("مقتل قيادي في داعش قرب القائم", True), ("ISIS يعلن مسؤوليته عن هجوم في الأنبار", True),
    ("2024: غارة جوية", True), ("Drone strike near al-Qaim", False), ("Strike near القائم", False), ("", False),
])
def test_right_to_left_text(text, rtl):
    assert is_rtl(text) is rtl
    assert directed(text) == (RLM + text if rtl else text)


def test_an_arabic_alert_in_an_arabic_chat_lays_out_right_to_left():
    alert = Alert(kind=AlertKind.ALERT, story_id="s1", item_key="k1", title="ISIS يعلن مسؤوليته عن هجوم قرب القائم",
                  summary="قال مسؤولون إن الهجوم وقع فجر الثلاثاء.", url="https://news.example/a", source="وكالة الفرات",
                  published=datetime(2026, 11, 21, 11, 5, tzinfo=UTC), topics=("anbar",))
    html = format_alert(alert, names={"anbar": "الأنبار"}, zone="Asia/Baghdad", also=("Rudaw", "Shafaq"),
                        tr=translation("ar")).split("\n")
    assert html[1] == f"<b>{RLM}ISIS يعلن مسؤوليته عن هجوم قرب القائم</b>"  # starts right to left despite "ISIS"
    assert html[2].startswith(RLM + "قال")
    assert html[3] == f"{RLM}وكالة الفرات · 21 نوفمبر 14:05 +03"
    assert html[5] == f"{RLM}<i>أيضاً: Rudaw، Shafaq</i>"
    english = format_alert(alert, names={"anbar": "Anbar"}, zone="UTC", tr=translation("en")).split("\n")
    assert english[1].startswith(f"<b>{RLM}ISIS") and english[3] == "وكالة الفرات · 21 Nov 11:05 UTC"


async def test_telegram_language_is_the_default_and_settings_lang_overrides_it(bot_api, feed_server, tmp_path):  # noqa: F811
    bot_api.languages[USER] = "ar"
    feed_server.set("/wire.xml", rss("Wire", [STRIKE, COUNCIL]))
    app = await start_app(write_config(tmp_path, bot_api, {feed_server.url("/wire.xml"): "Wire"}))
    try:
        hello = await ask(bot_api, USER, USER, "/start")
        assert hello.startswith("مرحباً! أرسل تنبيهات إخبارية إلى هذه المحادثة.")
        assert "/subscribe — [@channel] موضوع: تلقّي تنبيهات موضوع" in hello
        assert db.get_chat(app.store, USER).tg_language == "ar"
        assert await ask(bot_api, USER, USER, "/subscribe anbar") == "تم الاشتراك في Anbar."
        assert "اللغة: العربية" in await ask(bot_api, USER, USER, "/settings")
        assert (await ask(bot_api, USER, USER, "/settings lang klingon")).startswith("لغة غير معروفة klingon")

        await app.cycle(every_feed=True)  # alerts follow the chat's language too
        alert = next(m for m in bot_api.messages(USER) if "al-Rawi" in m.text)
        feed_server.set("/ledger.xml", rss("Ledger", [STRIKE_B]))
        app.store.add_feed(feed_server.url("/ledger.xml"), "Ledger", "admin", app.clock())
        await app.cycle(every_feed=True)
        assert alert.text.split("\n")[-1] == f"{RLM}أيضاً: Ledger"

        changed = await ask(bot_api, USER, USER, "/settings lang en")  # answered in the new language
        assert changed.startswith("Settings") and "language: English" in changed
        assert db.get_chat(app.store, USER).language == "en"
        assert await ask(bot_api, USER, USER, "/unmute") == "Nothing was muted."
        assert "اللغة: العربية" in await ask(bot_api, USER, USER, "/settings lang auto")
        ar_menu = bot_api.commands['{"type": "default"}|ar']
        assert {c["command"] for c in ar_menu} == {c["command"] for c in bot_api.commands['{"type": "default"}']}
        assert next(c for c in ar_menu if c["command"] == "help")["description"] == "ما يفعله هذا البوت وأوامره"
    finally:
        await app.stop()


async def test_a_channel_managed_in_arabic(bot_api, feed_server, tmp_path):  # noqa: F811
    bot_api.channel(-1001900009, "iraqdesk", admins=[USER])
    bot_api.languages[USER] = "ar-IQ"
    app = await start_app(write_config(tmp_path, bot_api, {}))
    try:
        assert await ask(bot_api, USER, USER, "/subscribe @iraqdesk anbar") == f"{RLM}@iraqdesk: تم الاشتراك في Anbar."
        assert (await ask(bot_api, USER, USER, "/subscribe @nosuch anbar")).startswith("لا أجد @nosuch.")
    finally:
        await app.stop()


async def test_the_mute_questions_in_arabic(bot_api, feed_server, tmp_path):  # noqa: F811
    from tests.test_tg_defects import answer

    bot_api.languages[USER] = "ar"
    feed_server.set("/wire.xml", rss("Wire", [STRIKE]))
    app = await start_app(write_config(tmp_path, bot_api, {feed_server.url("/wire.xml"): "Wire"}))
    try:
        await ask(bot_api, USER, USER, "/subscribe anbar, drone-strikes")
        await app.cycle(every_feed=True)
        alert = bot_api.messages(USER)[-1]
        assert await answer(bot_api, USER, alert, "🔕") == "أي موضوع تريد كتمه هنا؟"
        assert alert.buttons == ["🔕 Anbar", "🔕 Drone strikes", "🔕 كلها", "✖ إلغاء"]
        assert await answer(bot_api, USER, alert, "🔕 Anbar") == "كتم Anbar لأي مدة؟"
        assert alert.buttons == ["ساعة", "يوم", "أسبوع", "حتى إلغاء الكتم", "✖ إلغاء"]
        before = len(bot_api.messages(USER))
        assert await answer(bot_api, USER, alert, "يوم") == "كُتم Anbar"
        notice = await bot_api.reply(USER, after=before)
        assert notice.text.startswith("🔕 كُتم Anbar هنا لمدة: يوم (حتى ") and notice.buttons == ["↩ تراجع"]
    finally:
        await app.stop()


async def test_a_digest_in_arabic(bot_api, feed_server, tmp_path):  # noqa: F811
    from tests.test_tg_digest import quiet_around
    from tests.tg_harness import Clock

    clock = Clock()
    feed_server.set("/wire.xml", rss("Wire", [STRIKE, COUNCIL]))
    chats = f'[[chats]]\nid = {USER}\ntopics = ["*"]\nquiet_hours = "{quiet_around(clock.now)}"\n'
    app = await start_app(write_config(tmp_path, bot_api, {feed_server.url("/wire.xml"): "Wire"}, chats=chats), clock)
    try:
        db.set_chat_settings(app.store, USER, clock(), language="ar")  # as /settings lang ar stores it
        await app.cycle(every_feed=True)
        clock.advance(minutes=70)
        await app.deliver()
        [digest] = bot_api.messages(USER)
        assert digest.text.startswith("محجوزة خلال ساعات الهدوء · تنبيهان\n\n• ")
        assert f"{RLM}Wire · " in digest.text  # source lines of an Arabic chat start right to left
    finally:
        await app.stop()


async def test_a_channel_set_to_arabic_gets_arabic_alerts(bot_api, feed_server, tmp_path):  # noqa: F811
    channel = -1001900010
    bot_api.channel(channel, "iraqdesk", admins=[USER])
    feed_server.set("/wire.xml", rss("Wire", [STRIKE]))
    feed_server.set("/ledger.xml", rss("Ledger", [STRIKE_B]))
    app = await start_app(write_config(tmp_path, bot_api, {feed_server.url("/wire.xml"): "Wire"}))
    try:
        await ask(bot_api, USER, USER, "/subscribe @iraqdesk anbar")
        answer = await ask(bot_api, USER, USER, "/settings @iraqdesk lang ar")
        assert answer.startswith("@iraqdesk: Settings") and "language: العربية" in answer  # the user's language
        await app.cycle(every_feed=True)
        alert = await bot_api.reply(channel)
        app.store.add_feed(feed_server.url("/ledger.xml"), "Ledger", "admin", app.clock())
        await app.cycle(every_feed=True)
        assert alert.text.split("\n")[-1] == f"{RLM}أيضاً: Ledger"
    finally:
        await app.stop()
