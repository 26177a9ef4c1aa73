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
from itertools import chain, islice

from bot.text import close_marks, fold_word, raw_words, words

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

# Capitalized, but a date, not a protagonist: two reports of one event name different days.
CALENDAR = frozenset(
    """monday tuesday wednesday thursday friday saturday sunday january february march april may
    june july august september october november december""".split()
)
TITLE_WEIGHT = 2.0  # a title word counts twice: titles name the event
LEAD_WORDS = 50  # the first words of a summary (the lead) ...
LEAD_WEIGHT = 2.0  # ... count twice as well
SPECIFIC_DIGITS = 3  # "2005" and "425" identify an event; "3" and "10" do not
SKETCH_SIZE = 8  # hashes kept per item for near-copy detection
TITLE_KEY_WORDS = 5  # shorter titles ("Business Highlights") repeat without being one story

# Wire services mark revisions in the headline ("UPDATE 1-", "REFILE-"): not words of the story.
_WIRE_PREFIX = re.compile(r"^(?:(?:UPDATE|REFILE|CORRECTED|WRAPUP|RPT|EXCLUSIVE|BREAKING|URGENT)"
                          r"(?: ?\d+)?\s*[-:–—]\s*)+")
ACTION_WORDS = 25  # the title, else the first action in this many words of the text, says what happened
# What happened, in classes that exclude each other within a group: an item that says "killed"
# and a story that says "captured" (and never "killed") report two events.
ACTIONS: dict[str, tuple[str, str]] = {}
for _group, _side, _words in (
    ("fate", "killed", "kill kills killed killing dead death die dies died slain assassinated"),
    ("fate", "captured", "capture captures captured arrest arrests arrested detain detains "
                         "detained detention custody"),
    # what an official does with a person: hires, fires or meets them (a headline names one)
    ("office", "appointed", "hire hires hired appoint appoints appointed appointment names named "
                            "nominate nominates nominated picks tapped successor replaces succeeds sworn"),
    ("office", "dismissed", "fires fired sack sacks sacked dismiss dismisses dismissed oust "
                            "ousts ousted removes removed relieved resign resigns resigned quits"),
    ("office", "met", "meet meets met meeting talks discuss discusses discussed visit visits "
                      "visited"),
    # a place or a service: opened or back, closed or stopped
    ("doors", "opened", "opens opened reopen reopens reopened inaugurates inaugurated resume resumes "
                        "resumed restore restores restored"),
    ("doors", "closed", "close closes closed shut shuts shutters halt halts halted suspend suspends "
                        "suspended"),
    # what becomes of people held: taken, let go, or out by their own doing (a prison's release
    # and its break-out are two events)
    ("custody", "abducted", "kidnap kidnaps kidnapped kidnapping abduct abducts abducted abduction"),
    ("custody", "freed", "frees freed freeing release releases released"),
    ("custody", "escaped", "escape escapes escaped escapees jailbreak breakout"),
    ("result", "won", "win wins won beat beats victory"),
    ("result", "lost", "lose loses lost defeat defeated"),
):
    for _w in _words.split():
        ACTIONS[_w] = (_group, _side)
ACTION_BITS = {side: 1 << i for i, side in enumerate(dict.fromkeys(v[1] for v in ACTIONS.values()))}
ENDS = ((ACTION_BITS["freed"], ACTION_BITS["abducted"]), (ACTION_BITS["escaped"], ACTION_BITS["abducted"]))
# A title that tells of a further one ("Second explosion hits Raqqa", "Another car bomb ...",
# "Green Zone hit again") reports a new event of a kind the last one was: its own bit.
FURTHER = 1 << len(ACTION_BITS)
_FURTHER = re.compile("|".join((
    # not "new": New York, New Delhi, a new attack helicopter
    r"\b(?:second|third|fourth|another|fresh|renewed|further)\s+(?:\w+\s+)?(?:blasts?|explosions?|"
    r"bomb(?:s|ings?)?|attacks?|(?:air)?strikes?|raids?|rockets?|drones?|clash(?:es)?|shelling|suicide|"
    r"fires?|blazes?|ambush(?:es)?|abductions?|kidnappings?)\b",
    # the deed, at most three words before a colon or semicolon, "again": "Rocket hits Baghdad's
    # 'Green Zone' - again" (not "Bomb kills 12: 'Never again'")
    r"\b(?:hits?|struck|strikes?|attack(?:s|ed)?|target(?:s|ed)?|shell(?:s|ed)?|bomb(?:s|ed)?|rock(?:s|ed)?|"
    r"pound(?:s|ed)?|erupts?|erupted)\s+(?:(?![^\w\s]*never\b)[^\s:;|]+\s+){0,3}?(?:once\s+)?again\b",
    r"\bfor\s+(?:the\s+|a\s+)?(?:second|third|fourth)\s+time\b",
)), re.IGNORECASE)
# A headline that dates itself after another event ("Rockets hit Erbil base days after airport
# attack", "... after earlier convoy was blocked") is a later one. Its own bit, read on the arriving
# item whatever the story says: a follow-up of the story's own event says it too ("IS claims
# market bomb hours after attack"). A story's own (its earliest report's) counts in late folds.
LATER = FURTHER << 1
HEADLINE_WORDS = 20  # a longer title is a lead sentence: its "days after ..." is background
_LATER = re.compile(r"\b(?:hours?|days?|weeks?|months?)\s+after\b|"
                    r"\bafter\s+(?:an?\s+|the\s+)?(?:earlier|previous|recent)\b", re.IGNORECASE)
ACTION_GROUPS = {}
for _group, _side in ACTIONS.values():
    ACTION_GROUPS[_group] = ACTION_GROUPS.get(_group, 0) | ACTION_BITS[_side]

# Where a sentence (or a quotation) starts, a capital letter is grammar, not a name.
# (The lookahead lets the engine skip ordinary characters fast; the dash's space is looked behind
# for, so that spaces do not stop the skip: the same sentences, at a third of the cost.)
_SENTENCE = re.compile(r"(?=[.!?;:|\n`'\"“”«»(\[\-–—])(?:[.!?;:|]\s+|\n+|``|''|[\"“”«»(\[]|(?<= )[-–—] )")
_SHINGLE_SPAN = 300  # words read for shingles: copies agree from the start
CASING_WORDS = 150  # words read to tell ALL CAPS and Title Case text: a text keeps its style


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
    actions: int = 0  # ACTION_BITS of what the title and lead say happened, FURTHER: one more
    years: int = 0  # year_bits of the years the item mentions
    days: int = 0  # day_bits of the weekdays its title and dateline name


YEAR_WORDS = 100  # words of the text whose years date the event (later ones are background)
FIRST_YEAR, LAST_YEAR = 1950, 2049  # years an item can date its event by (one bit each)
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DAY_BITS = {day: 1 << i for i, day in enumerate(WEEKDAYS)}
DAY_WORDS = 30  # words of the text whose weekday dates the event: the dateline sentence (of 30,
                # 60 and 100, best on ECB+ 1-11, UCI half 1 and the regional set)


def year_bits(terms) -> int:
    """The years among these terms, one bit per year: two reports of one event name a year in
    common, and reports naming only other years are of another event (a 2005 earthquake is not
    the 2008 one)."""
    bits = 0
    for t in set(terms):
        if len(t) == 4 and t.isdigit() and FIRST_YEAR <= int(t) <= LAST_YEAR:
            bits |= 1 << (int(t) - FIRST_YEAR)
    return bits


def day_bits(terms) -> int:
    """The weekdays among these terms, one bit each: rewrites of one event say the same day, and
    a report of Friday's rockets is not one of Tuesday's drone, in the same town."""
    bits = 0
    for t in terms:
        bits |= DAY_BITS.get(t, 0)
    return bits


def clean(title: str, text: str) -> tuple[str, str]:
    """Title without a wire prefix; both with transliteration marks closed up (close_marks)."""
    title = _WIRE_PREFIX.sub("", title.strip())
    return close_marks(title), close_marks(text)


def action_bits(tokens: list[str], first: bool = False) -> int:
    """The action classes these (folded) tokens name; with first, only the first one named (a
    lead tells its own event first, then the background). A side that ends another ("Kidnapped
    engineer freed") is what happened: the other is who they are."""
    bits = 0
    for t in tokens:
        found = ACTIONS.get(t)
        if found is not None:
            bits |= ACTION_BITS[found[1]]
            if first:
                break
    for later, earlier in ENDS:
        if bits & later:
            bits &= ~earlier
    return bits


def conflicting_actions(a: int, b: int) -> list[str]:
    """Groups where a and b each name an action and share none: "killed vs captured"."""
    out = []
    for mask in ACTION_GROUPS.values():
        x, y = a & mask, b & mask
        if x and y and not x & y:
            out.append(f"{_side(x)} vs {_side(y)}")
    return out


def _side(bits: int) -> str:
    return "/".join(side for side, bit in ACTION_BITS.items() if bits & bit)


def extract(title: str, summary: str) -> ItemFeatures:
    """Features of one item; summary (the article text or teaser) may be empty (headline only)."""
    title, summary = clean(title, summary)
    title_words, body_words = words(title), words(summary)
    counts = term_counts(title_words, body_words)
    named, plain = cased_words(title, summary)
    everything = title_words + body_words
    return ItemFeatures(
        tf={t: math.sqrt(c) for t, c in counts.items()},
        names=frozenset(t for t in named if t in counts and t not in CALENDAR),
        plain=frozenset(plain.intersection(counts)),
        length=sum(map(counts.__contains__, everything)),
        heads=frozenset(counts.keys() & set(title_words)),
        sketch=shingle_sketch(everything),
        title_key=title_key(title_words),
        actions=(action_bits(title_words) or action_bits(body_words[:ACTION_WORDS], first=True))
                | _when(title, title_words),
        years=year_bits(title_words + body_words[:YEAR_WORDS]),
        days=day_bits(title_words + body_words[:DAY_WORDS]),
    )


def _when(title: str, title_words: list[str]) -> int:
    return ((FURTHER if _FURTHER.search(title) else 0)
            | (LATER if len(title_words) <= HEADLINE_WORDS and _LATER.search(title) else 0))


def title_key(title_words: list[str]) -> str:
    """The normalized title that identifies a story; "" when too short to."""
    return " ".join(title_words) if len(title_words) >= TITLE_KEY_WORDS else ""


def title_only_key(title: str) -> str:
    """title_key of a raw title without the rest of extract: items too old to compare by words."""
    return title_key(words(clean(title, "")[0]))


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
            sentences = [raw_words(part) for part in _SENTENCE.split(text)]
            _read_case(sentences, _casing(list(islice(chain.from_iterable(sentences), CASING_WORDS))), names, plain)
    folded = {fold_word(t) for t in names}
    # a lower-case ASCII word is already folded
    return folded, {t if t.isascii() else fold_word(t) for t in plain} - folded


def casing(text: str) -> str:
    """"upper" for ALL CAPS, "title" for Title Case (capitals mark no names), else "normal"."""
    return _casing(raw_words(text))


def _casing(tokens: list[str]) -> str:
    longer = [w for w in tokens[:CASING_WORDS] if len(w) > 3 and w.isalpha()]
    # camelCase names (eBay, iPhone, McDonald) look the same in any style: they do not count
    styled = [w for w in longer if w.isupper() or w[1:].islower()]
    if len(styled) < 3:
        return "normal"
    if sum(w.isupper() for w in styled) >= 0.75 * len(styled):
        return "upper"
    return "title" if sum(w[0].isupper() for w in styled) >= 0.9 * len(styled) else "normal"


def _read_case(sentences: list[list[str]], case: str, names: set[str], plain: set[str]) -> None:
    """Add raw tokens written like names to names, lower-case ones to plain. Each distinct token
    is judged once: a capital counts as a name only where some sentence has it past its start."""
    firsts: set[str] = set()
    later: set[str] = set()
    for sentence in sentences:
        if sentence:
            firsts.add(sentence[0])
            later.update(sentence[1:])
    normal = case == "normal"
    for token in firsts | later:
        if token.isalpha() and token.islower():
            if normal:
                plain.add(token)
        elif looks_like_name(token, case, token in later):
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
