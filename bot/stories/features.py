"""What one item looks like to the story clusterer: pure functions of its title and summary.

Terms are bot.text.words tokens minus function words, counted with the title and the lead
weighted up (news says who, what and where first). Names are guessed without an NLP model: a
token written with a capital where no sentence starts, an acronym, or a number with three or more
digits ("2005", "425m", "mh370") pins an event down. Title Case and ALL CAPS text say nothing
about names; the clusterer then asks how other items in its window write the word.
"""

from __future__ import annotations

import math
import re
import zlib
from dataclasses import dataclass

from bot.text import fold_word, raw_words, words

# English function words and reporting verbs: present in every story, evidence of none.
STOPWORDS = frozenset(
    """
    a about above after again against ago all also am among an and another any are around as at
    back be became because been before being below between both but by can could did do does
    doing done down during each either else ever every few for from further get gets got had has
    have having he her here hers herself him himself his how however i if in into is it its itself
    just last like made make makes many may me might more most much must my myself near need new
    news no nor not now of off on once one only or other others our ours ourselves out over own
    per put said same say saying says see seen she should since so some still such take than that
    the their theirs them themselves then there these they this those though through thus to told
    too took toward under until up upon us very via was way we well were what when where whether
    which while who whom whose why will with within without would yet you your yours yourself
    according reported reports report stated today yesterday tomorrow week s t
    """.split()
)

TITLE_WEIGHT = 2.0  # a title word counts twice: titles name the event
LEAD_WORDS = 50  # the first words of a summary (the lead) ...
LEAD_WEIGHT = 2.0  # ... count twice as well
SPECIFIC_DIGITS = 3  # "2005" and "425" identify an event; "3" and "10" do not
SKETCH_SIZE = 8  # hashes kept per item for near-copy detection
TITLE_KEY_WORDS = 5  # shorter titles ("Business Highlights") repeat without being one story

# Where a sentence (or a quotation) starts, a capital letter is grammar, not a name.
_SENTENCE = re.compile(r"[.!?;:|]\s+|\n+|``|''|[\"“”«»(\[]| [-–—] ")
_SHINGLE_SPAN = 300  # words read for shingles: copies agree from the start


@dataclass(frozen=True, slots=True)
class ItemFeatures:
    """Term weights before IDF, how the item writes its words, a shingle sketch, a title key."""

    tf: dict[str, float]  # content term -> sqrt of its weighted count, in text order
    names: frozenset[str]  # written like a name here
    plain: frozenset[str]  # written in lower case here: not a name, whatever other items say
    length: int  # content words read
    heads: frozenset[str]  # content terms of the title
    sketch: tuple[int, ...]
    title_key: str  # normalized title, "" when too short to identify a story


def extract(title: str, summary: str) -> ItemFeatures:
    """Features of one item; summary may be empty (headline-only feeds)."""
    title_words, body_words = words(title), words(summary)
    counts = term_counts(title_words, body_words)
    named, plain = cased_words(title, summary)
    return ItemFeatures(
        tf={t: math.sqrt(c) for t, c in counts.items()},
        names=frozenset(t for t in named if t in counts),
        plain=frozenset(t for t in plain if t in counts),
        length=sum(1 for t in title_words + body_words if t in counts),
        heads=frozenset(t for t in title_words if t in counts),
        sketch=shingle_sketch(title_words + body_words),
        title_key=" ".join(title_words) if len(title_words) >= TITLE_KEY_WORDS else "",
    )


def is_content(token: str) -> bool:
    """A token that can tell stories apart: not a function word, not a lone letter."""
    return token not in STOPWORDS and (len(token) > 1 or token.isdigit())


def term_counts(title_words: list[str], body_words: list[str]) -> dict[str, float]:
    """Weighted counts of content terms: title words and lead words count double."""
    counts: dict[str, float] = {}
    for i, token in enumerate(body_words):
        counts[token] = counts.get(token, 0.0) + (LEAD_WEIGHT if i < LEAD_WORDS else 1.0)
    for token in title_words:
        counts[token] = counts.get(token, 0.0) + TITLE_WEIGHT
    return {t: c for t, c in counts.items() if is_content(t)}


def cased_words(title: str, summary: str) -> tuple[set[str], set[str]]:
    """Folded words written like names, and words written in lower case, sentence by sentence."""
    names: set[str] = set()
    plain: set[str] = set()
    for text in (title, summary):
        if text:
            _read_case(text, casing(text), names, plain)
    folded = {fold_word(t) for t in names}
    return folded, {fold_word(t) for t in plain} - folded


def casing(text: str) -> str:
    """"upper" for ALL CAPS, "title" for Title Case (capitals mark no names), else "normal"."""
    longer = [w for w in raw_words(text) if len(w) > 3 and w.isalpha()]
    # camelCase names (eBay, iPhone, McDonald) look the same in any style: they do not count
    styled = [w for w in longer if w.isupper() or w[1:].islower()]
    if len(styled) < 3:
        return "normal"
    if sum(w.isupper() for w in styled) >= 0.75 * len(styled):
        return "upper"
    return "title" if sum(w[0].isupper() for w in styled) >= 0.9 * len(styled) else "normal"


def _read_case(text: str, case: str, names: set[str], plain: set[str]) -> None:
    """Add raw tokens written like names to names, lower-case ones to plain."""
    normal = case == "normal"
    for sentence in _SENTENCE.split(text):
        for i, token in enumerate(raw_words(sentence)):
            if token.isalpha() and token.islower():
                if normal:
                    plain.add(token)
            elif looks_like_name(token, case, i > 0):
                names.add(token)


def looks_like_name(token: str, case: str, mid_sentence: bool) -> bool:
    """Is this raw token a name, a code or a specific number, given the text's casing?"""
    if token.isdigit():
        return len(token) >= SPECIFIC_DIGITS
    if not token.isalpha():
        return any(ch.isdigit() for ch in token)  # "6th", "425m", "mh370"
    if case == "upper":
        return False
    if 2 <= len(token) <= 5 and token.isupper():
        return True  # acronym: NATO, ISIS, GM
    return case == "normal" and mid_sentence and token[0].isupper()


def shingle_sketch(tokens: list[str]) -> tuple[int, ...]:
    """Bottom-k sketch of word 3-gram shingles: the SKETCH_SIZE smallest CRC32 hashes, sorted."""
    tokens = tokens[:_SHINGLE_SPAN]
    triples = zip(tokens, tokens[1:], tokens[2:], strict=False)
    hashes = {zlib.crc32(f"{a} {b} {c}".encode()) for a, b, c in triples}
    return tuple(sorted(hashes)[:SKETCH_SIZE])  # () for fewer than three words


def sketch_similarity(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    """Estimated Jaccard similarity of two bottom-k sketches (0 when either is empty)."""
    if not a or not b:
        return 0.0
    k = min(len(a), len(b))
    common = set(a).intersection(b)
    if not common:
        return 0.0
    union = sorted(set(a).union(b))[:k]
    return sum(1 for h in union if h in common) / k
