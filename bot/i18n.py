"""Translations of the bot's messages (gettext), one catalog per language, passed where messages
are built: there is no global translator, each chat's replies and alerts use its own.

Catalogs are `bot/locale/<lang>/LC_MESSAGES/wirewatch.po`, read at first use with Babel (parse the
.po, write the .mo in memory, load it): no build step, so a fresh `pip install -e .`, a wheel and
the Docker image all work, and a .po edit can never be shadowed by a stale .mo. English is the
source language: it needs no catalog and never imports Babel. Extracting and updating catalogs
is described in README "Translations".

    tr = translation("ar"); tr._("Nothing was muted.")  ->  "لم يكن أي موضوع مكتوماً."
"""

from __future__ import annotations

import gettext
import re
import unicodedata
from datetime import datetime, tzinfo
from functools import cache
from io import BytesIO
from pathlib import Path

LOCALE_DIR = Path(__file__).with_name("locale")
DOMAIN = "wirewatch"
LANGUAGES = {"en": "English", "ar": "العربية"}
DEFAULT = "en"
RTL_LANGUAGES = frozenset({"ar"})
RLM = "\u200f"  # right-to-left mark: starts a line as a right-to-left paragraph
_RTL_BLOCKS = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc]")  # Hebrew, Arabic, Syriac, Thaana, N'Ko…


def N_(message: str) -> str:
    """Mark a module-level string for extraction; it is translated where it is shown."""
    return message


class Tr:
    """One language's messages: `_` (gettext), `n_` (ngettext) and dates in that language."""

    def __init__(self, language: str, catalog: gettext.NullTranslations):
        self.language, self._catalog = language, catalog

    def _(self, message: str) -> str:
        return self._catalog.gettext(message)

    def n_(self, singular: str, plural: str, n: int) -> str:
        return self._catalog.ngettext(singular, plural, n)

    @property
    def rtl(self) -> bool:
        return self.language in RTL_LANGUAGES

    def when(self, moment: datetime, zone: tzinfo) -> str:
        """'21 Nov 14:05 +03' (English, as before) or the same in this language's words."""
        local = moment.astimezone(zone)
        if self.language == DEFAULT:
            return local.strftime("%d %b %H:%M %Z")
        from babel.dates import format_datetime

        return f"{format_datetime(local, 'd MMM HH:mm', locale=self.language)} {local.strftime('%Z')}"


def language_of(code: str | None) -> str | None:
    """A shipped language for a Telegram language_code or a user's choice ('ar-IQ' -> 'ar')."""
    base = (code or "").strip().lower().replace("_", "-").split("-")[0]
    return base if base in LANGUAGES else None


def pick(chosen: str | None, telegram_code: str | None) -> str:
    """The chat's language: its /settings choice, else its Telegram language, else English."""
    return language_of(chosen) or language_of(telegram_code) or DEFAULT


def translation(language: str | None) -> Tr:
    """The catalog for a language (English, the source, for any language not shipped)."""
    return _translation(language_of(language) or DEFAULT)


@cache  # one Tr per shipped language: catalogs are read once per process
def _translation(language: str) -> Tr:
    if language == DEFAULT:
        return Tr(DEFAULT, gettext.NullTranslations())
    return Tr(language, _load(LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"))


def _load(po: Path) -> gettext.GNUTranslations:
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po.open("rb") as f:
        catalog = read_po(f, locale=po.parents[1].name, domain=DOMAIN)
    buffer = BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def is_rtl(text: str) -> bool:
    """Whether most strongly directional letters of the text are right-to-left (Arabic, Hebrew)."""
    if not _RTL_BLOCKS.search(text):  # most text has no right-to-left letter: no per-character scan
        return False
    rtl = ltr = 0
    for ch in text:
        kind = unicodedata.bidirectional(ch)
        rtl += kind in ("R", "AL")
        ltr += kind == "L"
    return rtl > ltr


def directed(text: str) -> str:
    """A line of feed text that reads right to left starts with RLM, so Telegram lays it out
    right-aligned even when its first word is Latin ('ISIS يعلن …') or a number."""
    return RLM + text if is_rtl(text) else text
