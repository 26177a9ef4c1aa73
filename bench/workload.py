"""The wirewatch side of the benchmark workload: 20 topic rule files, 50 chats, a config.toml for a
farm, and news-like Items for the stages that run without HTTP.

Topics: the five example rules in rules/, the three evaluation rules in bench/rules-* (query only,
no classifier) and twelve generated in the shapes bench_match.py uses.
"""

from __future__ import annotations

import json
import random
import sys
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_match import make_topics  # noqa: E402
from bench.farm import DATA, news_texts  # noqa: E402
from bot.models import Item  # noqa: E402

TOPICS = 20
CHATS = 50


def write_rules(rules_dir: Path, count: int = TOPICS, seed: int = 7) -> list[str]:
    """Write `count` rule files (queries only) and return their topic ids."""
    rules_dir.mkdir(parents=True, exist_ok=True)
    files = sorted((ROOT / "rules").glob("*.toml")) + sorted((ROOT / "bench").glob("rules-*/*.toml"))
    queries = [(p.stem, tomllib.loads(p.read_text(encoding="utf-8"))) for p in files][:count]
    rules = [(stem, doc["name"], doc["query"]) for stem, doc in queries]
    rules += [(t.id, t.name, t.query_text) for t in make_topics(count - len(rules), seed)]
    for stem, name, query in rules:
        (rules_dir / f"{stem}.toml").write_text(
            f"name = {json.dumps(name)}\nquery = '''\n{query}\n'''\n", encoding="utf-8")
    return [stem for stem, _, _ in rules]


def write_config(workdir: Path, urls: list[str], *, chats: int = CHATS, seed: int = 7,
                 telegram: tuple[str, str] | None = None, polling: dict | None = None,
                 database_url: str = "") -> Path:
    """config.toml for these feeds, 20 topics and `chats` chats (1-4 topics each); alerts to JSONL.

    telegram: (token, api_base_url) to deliver through a Bot API server as well.
    """
    topics = write_rules(workdir / "rules")
    rng = random.Random(seed)
    token, api = telegram or ("", "")
    settings = {"allow_private_networks": True} | (polling or {})
    lines = [
        "[bot]", f'data_dir = "{workdir / "data"}"', 'rules_dir = "rules"', 'log_level = "WARNING"',
        f"database_url = {json.dumps(database_url)}",
        "[telegram]", f"token = {json.dumps(token)}", f"api_base_url = {json.dumps(api)}",
        "[polling]", *(f"{k} = {json.dumps(v)}" for k, v in settings.items()),
        "[outputs]", "console = false", f'jsonl = "{workdir / "alerts.jsonl"}"',
    ]
    for i, url in enumerate(urls):
        lines += ["[[feeds]]", f'url = "{url}"', f'name = "Farm {i}"']
    for i in range(chats):
        wanted = rng.sample(topics, rng.randint(1, 4))
        lines += ["[[chats]]", f"id = {-1001000000000 - i}", f'name = "Desk {i}"', f"topics = {json.dumps(wanted)}"]
    path = workdir / "config.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def news_items(count: int, *, start: datetime | None = None, spacing: float = 2.0,
               data: Path = DATA) -> list[Item]:
    """`count` Items with real news text (repeating the corpora), `spacing` seconds apart."""
    start = start or datetime.now(UTC) - timedelta(seconds=count * spacing)
    texts = news_texts(data)
    out = []
    for i in range(count):
        title, summary = texts[i % len(texts)]
        out.append(Item(
            key=f"guid:bench-{i}", title=title, summary=summary, url=f"https://news{i % 97}.example/s/{i}",
            source=f"Farm {i % 500}", published=start + timedelta(seconds=i * spacing), guid=f"bench-{i}",
            feed_id=1 + i % 500,
        ))
    return out
