"""Story clustering cost: microseconds per item and RSS as the history grows (budget 0.5 ms/item).

    python bench/bench_stories.py [--checkpoints 10000,100000] [--measure 2000] [--headlines | --articles]

Items are generated news-like headlines with one-sentence summaries: stories about generated
people, places and organisations (tens of thousands of names, so the term tables grow as they
would), rewritten with varied wording, arriving over 48 hours so that every item is still in the
default 48 h window at the end. --headlines drops the summaries; --articles gives every item a
full-text body (Item.body) of about 300 words, as the full-text fetch would. At each checkpoint the next --measure items are timed one by one
(CPU time of this process, median and 95th percentile, so that other load on the machine does
not count; wall-clock median too) and the process RSS is read. Flat numbers mean the cost does not
grow with the history.
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.models import Item  # noqa: E402
from bot.stories.cluster import StoryClusterer, default_settings  # noqa: E402

VERBS = ("kills attacks seizes arrests announces signs wins loses opens closes raises cuts bans "
         "approves rejects visits meets warns sues fires hires buys sells delays launches").split()
NOUNS = ("market checkpoint convoy deal election contract factory bridge airport port pipeline "
         "talks budget merger strike protest trial vote summit ceasefire tariff recall").split()
ROLES = "minister governor commander chief executive spokesman judge mayor general envoy".split()
FILLER = ("officials said on after amid over near against talks week security forces government "
          "people city province region police court border oil water power health record sources "
          "expected could first since years months local national foreign").split()
DAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()
TEMPLATES = (
    "{p} {v} {n} in {pl}",
    "{pl}: {o} {v} {n}",
    "{o} {v} {n} as {p} {w}",
    "{p} of {o} {v} {n} near {pl}",
    "{n} in {pl}: {p} {v} after {w}",
    "{o} and {p} {v} {n}, {k} {w}",
)


def make_names(rng: random.Random, count: int) -> list[str]:
    """Generated proper names (people, places, organisations), distinct and pronounceable."""
    syllables = "ka ra mu sa di ba ha ti ja qa lo fa zu ne ur am il ya vo pe gri sto".split()
    return sorted({"".join(rng.choices(syllables, k=rng.randint(2, 4))).title() for _ in range(count)})


def make_story(rng: random.Random, names: list[str]) -> dict[str, str]:
    """The facts one story's items share."""
    return {"p": " ".join(rng.sample(names, 2)), "pl": rng.choice(names), "o": rng.choice(names),
            "v": rng.choice(VERBS), "n": rng.choice(NOUNS), "k": str(rng.randint(2, 900)),
            "r": rng.choice(ROLES), "d": rng.choice(DAYS)}


def write_item(rng: random.Random, story: dict[str, str]) -> tuple[str, str]:
    """One rewrite: a headline template and a summary sentence with varied filler."""
    facts = {**story, "w": " ".join(rng.sample(FILLER, 2))}
    title = rng.choice(TEMPLATES).format(**facts)
    filler = " ".join(rng.sample(FILLER, 6))
    summary = (f"{story['p']}, the {story['r']} of {story['o']}, {story['v']} a {story['n']} in "
               f"{story['pl']} on {story['d']}, {filler}, {story['k']} {rng.choice(FILLER)}.")
    return title, summary


def article(rng: random.Random, story: dict[str, str], summary: str) -> str:
    """About 300 words: the lead, then sentences around the story's facts with varied filler."""
    sentences = [summary]
    for _ in range(14):
        filler = " ".join(rng.sample(FILLER, 12))
        sentences.append(f"{rng.choice(ROLES).title()} {story['p']} {rng.choice(VERBS)} {filler} "
                         f"{story['pl']} {rng.randint(2, 900)}.")
    return " ".join(sentences)


def stream(total: int, seed: int = 7, span_hours: float = 48.0, headlines: bool = False,
           articles: bool = False) -> Iterator[Item]:
    """total items over span_hours: a third start stories, the rest rewrite recent ones."""
    rng = random.Random(seed)
    names = make_names(rng, 40_000)
    recent: list[dict[str, str]] = []
    start = datetime(2024, 3, 1, tzinfo=UTC)
    step = span_hours * 3600.0 / total
    for i in range(total):
        if not recent or rng.random() < 0.35:
            recent.append(make_story(rng, names))
            recent = recent[-300:]
        story = recent[-1 - min(len(recent) - 1, int(rng.expovariate(1 / 20)))]
        title, summary = write_item(rng, story)
        body = article(rng, story, summary) if articles else ""
        yield Item(key=f"gen:{i}", title=title, summary="" if headlines else summary, body=body,
                   url=f"https://example.com/{i}",
                   source=f"outlet{rng.randint(1, 500)}", published=start + timedelta(seconds=i * step))


def rss_mb() -> float:
    gc.collect()
    return psutil.Process().memory_info().rss / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoints", default="10000,100000")
    parser.add_argument("--measure", type=int, default=2000)
    parser.add_argument("--headlines", action="store_true", help="items without summaries")
    parser.add_argument("--articles", action="store_true", help="items with a ~300-word body")
    args = parser.parse_args()
    checkpoints = sorted(int(x) for x in args.checkpoints.split(","))
    clusterer = StoryClusterer(default_settings())
    base = rss_mb()
    print(f"RSS before any item: {base:.0f} MB")
    print(f"{'history':>9} {'held':>8} {'cpu median us':>14} {'cpu p95 us':>11} {'wall median us':>15} "
          f"{'RSS MB':>7} {'clusterer MB':>13}")
    items = stream(max(checkpoints) + args.measure, headlines=args.headlines, articles=args.articles)
    fed = 0
    for mark in checkpoints:
        for item in items:
            clusterer.assign(item)
            fed += 1
            if fed == mark:
                break
        memory = rss_mb()
        cpu, wall = [], []
        for _, item in zip(range(args.measure), items, strict=False):
            started, started_cpu = time.perf_counter(), time.process_time()
            clusterer.assign(item)
            cpu.append((time.process_time() - started_cpu) * 1e6)
            wall.append((time.perf_counter() - started) * 1e6)
        fed += len(cpu)
        p95 = statistics.quantiles(cpu, n=20)[-1]
        print(f"{mark:>9} {len(clusterer):>8} {statistics.median(cpu):>14.0f} {p95:>11.0f} "
              f"{statistics.median(wall):>15.0f} {memory:>7.0f} {memory - base:>13.0f}")


if __name__ == "__main__":
    main()
