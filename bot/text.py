"""Text folding shared by the rule matcher, the story clusterer and the classifier.

One function decides what "the same word" means everywhere: NFKC, casefold, Latin diacritics
stripped, Arabic diacritics (harakat, tatweel) removed and letter variants unified, so that
"Mosul", "MOSUL" and "Mósul" are one token, and so are "أبو" and "ابو".
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Arabic letter variants that writers use interchangeably; Persian/Urdu forms of kaf and yeh.
_ARABIC_VARIANTS = str.maketrans(
    {
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ى": "ي",
        "ی": "ي",
        "ئ": "ي",
        "ؤ": "و",
        "ة": "ه",
        "ک": "ك",
        "ـ": None,  # tatweel: stretches a word, carries no meaning
    }
)

# A token is a run of letters/digits; an apostrophe or hyphen splits ("al-Baghdadi" -> al, baghdadi).
_WORD = re.compile(r"\w+", re.UNICODE)


# Only non-ASCII runs can hold marks or variants: English text with one curly quote would
# otherwise pay a per-character Python loop (125 us instead of 20 us for a 340-character summary).
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")
_VARIANT_CHARS = re.compile("[" + "".join(map(chr, _ARABIC_VARIANTS)) + "]")


def _strip_run(run: re.Match[str]) -> str:
    return "".join(ch for ch in run.group() if not unicodedata.combining(ch))


def _strip_marks(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    if len(decomposed.encode("ascii", "ignore")) * 4 > len(decomposed) * 3:  # mostly ASCII
        return _NON_ASCII.sub(_strip_run, decomposed)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def fold(text: str) -> str:
    """Return text folded for case-, accent- and variant-insensitive comparison."""
    text = unicodedata.normalize("NFKC", text).casefold()
    if not text.isascii():
        text = unicodedata.normalize("NFC", _strip_marks(text))
        if _VARIANT_CHARS.search(text):
            text = text.translate(_ARABIC_VARIANTS)
    return text


@lru_cache(maxsize=65536)
def fold_word(word: str) -> str:
    """Fold one word (cached: rule terms and frequent tokens repeat)."""
    return fold(word)


# ASCII text: every non-word character to a space, then str.split; the same tokens as _WORD, 10x
# faster on a 5 KB article body (the regex walks it a character at a time).
_ASCII_GAPS = bytes(c if chr(c).isalnum() or chr(c) == "_" else 32 for c in range(256))


def _ascii_split(text: str) -> list[str]:
    return text.encode("ascii").translate(_ASCII_GAPS).decode("ascii").split()


# An apostrophe or ayn inside a transliterated name is spelling, not a word break: Qa'im, Qaʼim
# and Qaim are one word for the story clusterer (bot/stories/features.py), which compares whole
# reports. Not for rules and the classifier: there the mark is as often grammar, French
# "l'Iran", Italian "dell'Isis", Turkish "IŞİD'in", and a rule's name must still be found
# (a rule spells its variants: rules/anbar.toml). English clitics ('s, 't, 're, 'll, 've, 'd,
# 'm) stay split off. (The mark comes first in the pattern, so the lookarounds are tested only at
# marks; a text without one skips the pattern: it costs ~12 ns a character.)
_MARKS = "'’ʼʿʾ`"
_INNER_MARK = re.compile(rf"[{_MARKS}](?<=[^\W\d_].)(?=[^\W\d_]{{2,}})(?!(?i:re|ll|ve)\b)")


def close_marks(text: str) -> str:
    """text with the marks inside words removed (Al Qa'im -> Al Qaim)."""
    if text.isascii() and "'" not in text and "`" not in text:
        return text
    return _INNER_MARK.sub("", text)


def words(text: str) -> list[str]:
    """Folded word tokens of text, in order."""
    folded = fold(text)
    return _ascii_split(folded) if folded.isascii() else _WORD.findall(folded)


def raw_words(text: str) -> list[str]:
    """Word tokens with their original case (NFKC only), for case-sensitive terms like 'IS';
    token for token the same words as words()."""
    text = unicodedata.normalize("NFKC", text)
    if text.isascii():
        return _ascii_split(text)
    text = unicodedata.normalize("NFC", _strip_marks(text)).replace("ـ", "")  # tatweel: as fold drops it
    return _WORD.findall(text)
