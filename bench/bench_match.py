"""Rule matching speed: microseconds per item for N topics (budget: <= 200 us with 100 topics,
<= 1 ms for an item with a 5 KB article body).

    python bench/bench_match.py [--topics 100] [--items 5000] [--body 5000] [--input items.jsonl] [--rules DIR]

--body N also times the same items with an N-byte body: once of ordinary words only (no rule
term in it: the prefilter should make it cheap) and once with topic words at the headline rate.

Topics are generated in the shapes real rule files use (ORs of names, phrases, prefixes, NEAR,
NOT, field scopes, exact-case and Arabic terms); --rules adds the rule files of a directory.
Items are generated news-like text, or read from JSONL (title, summary or text, source).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.match.query import parse_query  # noqa: E402
from bot.match.rules import RuleMatcher, Topic, load_rules  # noqa: E402
from bot.models import Item  # noqa: E402

PLACES = ("Mosul Ramadi Fallujah Kirkuk Erbil Baghdad Basra Tikrit Samarra Baiji Raqqa Deir Idlib "
          "Aleppo Homs Hama Daraa Palmyra Hasakah Qamishli Kobani Manbij Tanf Sinjar Tal Afar").split()
GROUPS = ("ISIS ISIL Daesh Hezbollah Hamas PKK YPG SDF PMF Houthis Taliban Qaeda Nusra "
          "Wagner IRGC Quds").split()
ROLES = "leader commander emir deputy spokesman chief minister general official envoy".split()
ACTS = "strike attack raid clash bomb shell ambush kill captur arrest seiz withdraw deploy".split()
ARABIC = "الموصل الرمادي الفلوجة كركوك أربيل بغداد داعش الحشد التحالف قصف غارة هجوم".split()
SOURCES = ("Reuters", "AP News", "Rudaw English", "Al Jazeera", "Shafaq News", "BBC Arabic")
ARABIC_FILLER = "في من على إلى قال مع بعد اليوم الحكومة مصدر أمني مدينة المحافظة وزارة أن التي عن".split()
FILLER = ("the a of in on and to for with after says said new report government security forces "
          "officials people s city province region talks week years market price police court "
          "election vote border oil water power school health amid over near against").split()


def make_names(rng: random.Random, count: int) -> list[str]:
    """Place and person names beyond the real ones, so that 100 topics are 100 different interests."""
    syllables = "ka ra mu sa di ba ha ti ja qa lo fa zu ne ur am il ya".split()
    return sorted({"".join(rng.choices(syllables, k=rng.randint(2, 4))).title() for _ in range(count)})


def make_query(rng: random.Random, i: int, names_pool: list[str]) -> str:
    """One query in one of the shapes real topics take."""
    names = rng.sample(names_pool, rng.randint(3, 9))
    shape = i % 6
    if shape == 0:
        return " OR ".join(names)
    if shape == 1:
        roles = " OR ".join(f"{r}*" for r in rng.sample(ROLES, 4))
        return f"({' OR '.join(names)}) AND ({roles}) AND NOT (film OR \"video game\")"
    if shape == 2:
        acts = " OR ".join(f"{a}*" for a in rng.sample(ACTS, 4))
        return f"({' OR '.join(names[:4])}) NEAR/5 ({acts})"
    if shape == 3:
        phrases = " OR ".join(f'"{a} {b}"' for a, b in zip(names, rng.sample(FILLER, len(names)), strict=False))
        return f"title:({phrases}) OR summary:{names[0]}"
    if shape == 4:
        return f"('IS' OR ISIS OR {rng.choice(ARABIC)}) NEAR/4 ({' OR '.join(rng.sample(ROLES, 3))})"
    return f"({' OR '.join(rng.sample(ARABIC, 4))}) AND ({' OR '.join(names[:3])} OR {rng.choice(ARABIC)})"


def make_topics(count: int, seed: int) -> list[Topic]:
    rng = random.Random(seed)
    pool = PLACES + GROUPS + make_names(random.Random(seed), 400)
    topics = []
    for i in range(count):
        text = make_query(rng, i, pool)
        topics.append(Topic(f"t{i}", f"topic {i}", "", text, parse_query(text), None, Path("bench")))
    return topics


def make_items(count: int, seed: int) -> list[Item]:
    """Mostly ordinary news words, a topic word now and then, curly quotes, 1 in 8 in Arabic."""
    rng = random.Random(seed)
    topical = PLACES + GROUPS + make_names(random.Random(seed), 400) + ROLES + [a + "ed" for a in ACTS] + ARABIC
    now = datetime.now(UTC)

    def text(words: list[str], n: int) -> str:
        return " ".join(rng.choice(topical) if rng.random() < 0.08 else rng.choice(words) for _ in range(n))

    out = []
    for i in range(count):
        words = ARABIC_FILLER if i % 8 == 0 else FILLER
        title = text(words, rng.randint(7, 14)).replace(" s ", "’s ", 1)
        out.append(item(str(i), title, text(words, rng.randint(20, 45)), rng.choice(SOURCES), now))
    return out


def item(key: str, title: str, summary: str, source: str, now: datetime, body: str = "") -> Item:
    return Item(key=key, title=title, summary=summary, url=None, source=source, published=now, body=body)


def with_bodies(items: list[Item], size: int, seed: int, rate: float) -> list[Item]:
    """The items with an article body of about `size` bytes; `rate` of its words are topic words."""
    rng = random.Random(seed)
    topical = PLACES + GROUPS + make_names(random.Random(seed), 400) + ROLES + [a + "ed" for a in ACTS]
    out = []
    for it in items:
        words, n = [], 0
        while n < size:
            word = rng.choice(topical) if rng.random() < rate else rng.choice(FILLER)
            words.append(word)
            n += len(word) + 1
        out.append(replace(it, body=" ".join(words)))
    return out


def read_items(path: Path, limit: int) -> list[Item]:
    now, out = datetime.now(UTC), []
    with path.open(encoding="utf-8") as lines:
        for n, line in enumerate(lines):
            if n >= limit:
                break
            d = json.loads(line)
            out.append(item(str(d.get("id", n)), d.get("title", ""), d.get("summary") or d.get("text", ""),
                            d.get("source", ""), now))
    return out


def timed(matcher: RuleMatcher, items: list[Item], repeats: int) -> tuple[float, int]:
    """Best-of-repeats CPU microseconds per item (other processes share the CPU), and match count."""
    best, found = float("inf"), 0
    for _ in range(repeats):
        start = time.process_time()
        found = sum(len(matcher.match(it)) for it in items)
        best = min(best, time.process_time() - start)
    return best / len(items) * 1e6, found


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--topics", type=int, default=100)
    ap.add_argument("--items", type=int, default=5000)
    ap.add_argument("--input", type=Path, help="items JSONL (title, summary or text)")
    ap.add_argument("--rules", type=Path, help="also load the rule files of this directory")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--body", type=int, default=0, metavar="BYTES", help="also time items with a body this long")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    topics = make_topics(args.topics, args.seed)
    if args.rules:
        loaded, problems = load_rules(args.rules)
        if problems:
            sys.exit("\n".join(map(str, problems)))
        topics += list(loaded.values())
    items = read_items(args.input, args.items) if args.input else make_items(args.items, args.seed)
    start = time.perf_counter()
    matcher = RuleMatcher(topics)
    build_ms = (time.perf_counter() - start) * 1e3
    per_item, found = timed(matcher, items, args.repeats)
    print(f"topics={len(topics)} items={len(items)} compile={build_ms:.1f} ms "
          f"matches={found} ({found / len(items):.2f}/item)")
    print(f"match: {per_item:.1f} us per item (budget 200 us)")
    if args.body:
        few = items[: max(1, len(items) // 5)]  # a 5 KB body costs more: fewer items, same shape
        for label, rate in (("no rule term in the body", 0.0), ("1 word in 100 a topic word", 0.01), ("topic words at the headline rate (8 in 100)", 0.08)):
            per_body, found = timed(matcher, with_bodies(few, args.body, args.seed, rate), args.repeats)
            print(f"match with a {args.body}-byte body, {label}: {per_body:.1f} us per item "
                  f"(budget 1000 us), {found / len(few):.2f} matches/item")


if __name__ == "__main__":
    main()
