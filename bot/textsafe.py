"""Feed text made safe to show: no invisible direction or zero-width tricks, lengths that fit
Telegram's limits (UTF-16 code units, which is what Telegram counts), host names that cannot
pass for another (homographs shown in punycode). Pure functions.

Zero-width joiner and non-joiner (U+200D, U+200C) are kept only where they do a job: between two
letters of a script that uses them for spelling (ZWNJ is the Persian and Kurdish "half space":
می‌خواهم is written with one; Urdu and Indic scripts use both) and ZWJ inside emoji sequences
(👨‍👩‍👧). Between Latin, Cyrillic or Greek letters, or at the edge of a word, they only hide
something (a word split to dodge a filter, two look-alike names), so they go.
"""

from __future__ import annotations

import html
import re
import unicodedata

import idna

# Bidi embeddings/overrides/isolates, the Arabic letter mark, LRM/RLM; zero-width space, word
# joiner, BOM; the invisible math operators and deprecated format characters.
_ALWAYS = "\u202a-\u202e\u2066-\u2069\u061c\u200e\u200f\u200b\u2060\ufeff\u2061-\u2064\u206a-\u206f"
INVISIBLE_CHARS = f"{_ALWAYS}\u200c\u200d"  # a regex character-class body
_INVISIBLE = re.compile(f"[{INVISIBLE_CHARS}]+")
_NO_JOINERS = ("LATIN", "CYRILLIC", "GREEK")
_EMOJI_BEFORE = {"So", "Sk", "Mn"}  # an emoji, a skin-tone modifier, or VS16 (U+FE0F, a mark)


def _script(ch: str) -> str:
    """The script of a letter, from its Unicode name (stdlib only; good enough for these checks)."""
    name = unicodedata.name(ch, "")
    if name.startswith(("CJK", "KANGXI")):
        return "HAN"
    return name.split(" ", 1)[0]


def _keeps_joiner(text: str, start: int, end: int) -> bool:
    before, after = text[start - 1 : start], text[end : end + 1]
    if not before or not after or end - start > 1:
        return False
    if text[start] == "\u200d" and unicodedata.category(after) == "So" \
            and unicodedata.category(before) in _EMOJI_BEFORE:
        return True
    if not (before.isalpha() or unicodedata.category(before).startswith("M")) or not after.isalpha():
        return False
    script = _script(after)
    return script not in _NO_JOINERS and (not before.isalpha() or _script(before) == script)


def strip_invisible(text: str) -> str:
    """Text without bidi controls and zero-width characters (joiners kept where they spell)."""
    if text.isascii() or not _INVISIBLE.search(text):
        return text

    def drop(m: re.Match[str]) -> str:
        keep = m.group() in ("\u200c", "\u200d") and _keeps_joiner(text, m.start(), m.end())
        return m.group() if keep else ""

    return _INVISIBLE.sub(drop, text)


def utf16_len(text: str) -> int:
    """Length as Telegram counts it: characters beyond U+FFFF (most emoji) count twice."""
    return len(text) if text.isascii() else len(text.encode("utf-16-le", "surrogatepass")) // 2


def fit_units(text: str, units: int) -> int:
    """How many characters of text fit in `units` UTF-16 units, not splitting a character from
    the marks, joiners and variation selectors that follow it."""
    used, i = 0, 0
    while i < len(text):
        used += 2 if ord(text[i]) > 0xFFFF else 1
        if used > units:
            break
        i += 1
    else:
        return len(text)
    while i > 0 and (unicodedata.combining(text[i]) or text[i] in "\u200c\u200d\ufe0f" or
                     text[i - 1] == "\u200d"):
        i -= 1
    return i


def clip(text: str, limit: int) -> str:
    """Spaces folded, invisible characters gone, at most `limit` UTF-16 units, cut at a word with
    an ellipsis (before escaping, so no entity is cut)."""
    text = " ".join(strip_invisible(text[: max(8 * limit, 4096)]).split())  # work bounded by limit
    if utf16_len(text) <= limit:
        return text
    end = fit_units(text, limit - 1)
    cut = text.rfind(" ", 0, end)
    return text[: cut if cut > end // 2 else end].rstrip(" ,;:-") + "…"


# ---- host names --------------------------------------------------------------------------------

# UTS 39 "highly restrictive": the script mixes that real names use (Japanese, Chinese, Korean).
_ALLOWED_MIXES = ({"LATIN", "HAN", "HIRAGANA", "KATAKANA"}, {"LATIN", "HAN", "BOPOMOFO"},
                  {"LATIN", "HAN", "HANGUL"})
# Cyrillic letters that look like Latin ones: a label made of these alone passes for Latin.
_LATIN_LOOKALIKES = set("аеорсухіјѕԁһӏԛԝүьвкмнт")


def _scripts(label: str) -> set[str]:
    return {_script(ch) for ch in label if ch.isalpha()}


def _deceptive(labels: list[str]) -> bool:
    tld_ascii = labels[-1].isascii()
    for label in labels:
        scripts = _scripts(label)
        if len(scripts) > 1 and not any(scripts <= mix for mix in _ALLOWED_MIXES):
            return True
        if scripts == {"CYRILLIC"} and tld_ascii and set(label) - set("-0123456789") <= _LATIN_LOOKALIKES:
            return True  # аррӏе.com: whole-script look-alike of a Latin name
    return False


def display_host(host: str) -> str:
    """The host as shown to people: Unicode when it is honest, punycode when it mixes scripts
    (or is a Cyrillic look-alike of a Latin name) so a homograph is visible as one."""
    host = host.strip(".").lower()
    try:
        shown = idna.decode(host) if "xn--" in host else host
        ascii_form = idna.encode(shown).decode("ascii") if not shown.isascii() else shown
    except (idna.IDNAError, UnicodeError, ValueError):  # not valid IDNA: never shown as Unicode
        return ".".join(label if label.isascii() else "xn--" + label.encode("punycode").decode("ascii")
                        for label in host.split("."))
    return ascii_form if _deceptive(shown.split(".")) else shown


_TAGS = re.compile(r"<[^>]+>")


def html_to_plain(text: str) -> str:
    """A Telegram HTML notice as a log line shows it: tags dropped, entities read (&#x27; -> ')."""
    return html.unescape(_TAGS.sub("", text))
