"""config.toml -> frozen, validated settings.

Every problem is collected (file, key path, reason) and reported together; unknown keys are
errors so a typo never silently falls back to a default. `${VAR}` and `${VAR:-default}` are read
from the environment. config.example.toml documents every key below with its default.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.errors import ConfigError, Problem

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}
_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True)
class BotSettings:
    data_dir: Path
    database_url: str
    rules_dir: Path
    timezone: str
    log_level: str
    keep_items: float = 90 * 86400.0  # seconds items are kept (0: forever); older ones are pruned


@dataclass(frozen=True)
class MetricsSettings:
    listen: tuple[str, int] | None = None  # host and port of /metrics and /healthz; None: off


@dataclass(frozen=True)
class TelegramSettings:
    token: str | None = field(repr=False)  # a secret: never printed
    api_base_url: str | None
    admins: tuple[int, ...]
    admin_chat: int | None
    link_previews: bool
    failing_after: int


@dataclass(frozen=True)
class PollingSettings:
    interval: float
    min_interval: float
    max_interval: float
    tick: float
    jitter: float
    concurrency: int
    per_host: int
    timeout: float
    max_bytes: int
    max_redirects: int
    backfill: float
    allow_private_networks: bool
    user_agent: str
    parse_timeout: float = 20.0  # seconds a feedparser parse may take before its worker is killed
    parse_workers: int = 1  # worker processes for feedparser (the slow path)
    full_text: bool = False  # default of [[feeds]] full_text: fetch each new item's article page


@dataclass(frozen=True)
class StorySettings:
    window: float  # seconds an item stays joinable
    threshold: float  # score a full-text item (article) needs to join a story
    title_threshold: float  # score a headline-only item needs; items in between interpolate
    copy_threshold: float  # shingle overlap (0-1) that makes a near-verbatim copy
    time_scale: float  # seconds since a story's nearest related item that halve its score
    name_weight: float  # weight of names and specific numbers over ordinary words
    centroid_weight: float  # story profile vs its closest item, in the score (0-1)
    conflict_penalty: float  # score factor when shared words look like another event (a doubt)
    max_terms: int  # terms kept per item vector
    posting_cap: int  # recent items indexed per term: keeps the per-item cost flat
    join_threshold: float = 1.0  # confidence (score over the length's bar) to join a story
    related_threshold: float = 0.75  # confidence to start a story shown as related to the closest


@dataclass(frozen=True)
class FeedSettings:
    url: str
    name: str  # "" when not configured: the feed is named by its own <title>
    interval: float | None
    full_text: bool = False  # fetch each new item's page and use its main text as the body


@dataclass(frozen=True)
class ChatSettings:
    id: int
    name: str
    topics: tuple[str, ...]  # ("*",) means every topic
    mode: str  # instant | digest
    digest_times: tuple[time, ...]
    quiet_hours: tuple[time, time] | None
    timezone: str | None
    thread_id: int | None


@dataclass(frozen=True)
class OutputSettings:
    console: bool
    jsonl: Path | None


@dataclass(frozen=True)
class ClassifierSettings:
    retrain_every: float = 86400.0  # seconds between scheduled retrains of a topic's model
    min_new_labels: int = 10  # new labels of a topic that trigger a retrain before that
    weak_items: int = 2000  # recent stored items the topic's rule labels weakly for training


@dataclass(frozen=True)
class Config:
    path: Path
    bot: BotSettings
    telegram: TelegramSettings
    polling: PollingSettings
    stories: StorySettings
    outputs: OutputSettings
    feeds: tuple[FeedSettings, ...]
    chats: tuple[ChatSettings, ...]
    classifier: ClassifierSettings = field(default_factory=ClassifierSettings)
    metrics: MetricsSettings = field(default_factory=MetricsSettings)


# ---- value parsers: each returns the value or raises ValueError with the reason ----------------


def _duration(v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float | str):
        raise ValueError("expected a duration such as 90, \"90s\", \"15m\", \"2h\" or \"1d\"")
    m = _DURATION.match(str(v))
    if not m:
        raise ValueError(f"{v!r} is not a duration (use e.g. \"90s\", \"15m\", \"2h\", \"1d\")")
    return float(m.group(1)) * _UNITS[m.group(2)]


def _typed(*types: type, name: str) -> Callable[[Any], Any]:
    def check(v: Any) -> Any:
        if isinstance(v, bool) and bool not in types:
            raise ValueError(f"expected {name}, got a boolean")
        if not isinstance(v, types):
            raise ValueError(f"expected {name}, got {type(v).__name__}")
        return v

    return check


_str, _bool = _typed(str, name="a string"), _typed(bool, name="true or false")
_int, _num = _typed(int, name="an integer"), _typed(int, float, name="a number")


def _positive(parse: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def check(v: Any) -> Any:
        v = parse(v)
        if v <= 0:
            raise ValueError("must be greater than 0")
        return v

    return check


def _fraction(v: Any) -> float:
    v = _num(v)
    if not 0 <= v <= 1:
        raise ValueError("must be between 0 and 1")
    return float(v)


def _int_list(v: Any) -> tuple[int, ...]:
    if not isinstance(v, list) or not all(isinstance(x, int) and not isinstance(x, bool) for x in v):
        raise ValueError("expected a list of integers (Telegram user ids)")
    return tuple(v)


def _str_list(v: Any) -> tuple[str, ...]:
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise ValueError("expected a list of strings")
    return tuple(v)


def _clock(v: Any) -> time:
    m = _CLOCK.match(_str(v).strip())
    if not m:
        raise ValueError(f"{v!r} is not a time of day (use \"HH:MM\")")
    return time(int(m.group(1)), int(m.group(2)))


def _clock_list(v: Any) -> tuple[time, ...]:
    return tuple(sorted(_clock(x) for x in _str_list(v)))


def _time_range(v: Any) -> tuple[time, time] | None:
    if v == "":
        return None
    start, sep, end = _str(v).partition("-")
    if not sep:
        raise ValueError(f"{v!r} is not a range of hours (use \"22:00-07:00\")")
    return _clock(start), _clock(end)


def _zone(v: Any) -> str:
    try:
        ZoneInfo(_str(v))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {v!r} (use an IANA name such as \"Asia/Baghdad\")") from exc
    return v


def _choice(*options: str) -> Callable[[Any], str]:
    def check(v: Any) -> str:
        if v not in options:
            raise ValueError(f"{v!r} is not one of: {', '.join(options)}")
        return v

    return check


def _level(v: Any) -> str:
    """A logging level in any case ("debug", "Info"), stored upper-case."""
    return _choice("DEBUG", "INFO", "WARNING", "ERROR")(_str(v).upper())


def _listen(v: Any) -> tuple[str, int] | None:
    """"host:port" (e.g. "127.0.0.1:9108", "[::1]:9108"), or "" for off."""
    v = _str(v).strip()
    if not v:
        return None
    m = re.match(r"^(\[[0-9a-fA-F:]+\]|[^\s:\[\]]+):(\d{1,5})$", v)
    if not m or not 0 < int(m.group(2)) < 65536:
        raise ValueError(f"{v!r} is not host:port (e.g. \"127.0.0.1:9108\")")
    return m.group(1).strip("[]"), int(m.group(2))


def _url(v: Any) -> str:
    v = _str(v).strip()
    if not re.match(r"^https?://[^\s/]+", v):
        raise ValueError(f"{v!r} is not an http(s) URL")
    return v


# ---- schema: key -> (parser, default). REQUIRED marks keys without a default -------------------

REQUIRED = object()

SCHEMA: dict[str, dict[str, tuple[Callable[[Any], Any], Any]]] = {
    "bot": {
        "data_dir": (_str, "./data"),
        "database_url": (_str, ""),
        "rules_dir": (_str, "./rules"),
        "timezone": (_zone, "UTC"),
        "log_level": (_level, "INFO"),
        "keep_items": (_duration, "90d"),
    },
    "telegram": {
        "token": (_str, ""),
        "api_base_url": (_str, ""),
        "admins": (_int_list, []),
        "admin_chat": (_int, 0),
        "link_previews": (_bool, False),
        "failing_after": (_positive(_int), 3),
    },
    "polling": {
        "interval": (_positive(_duration), "15m"),
        "min_interval": (_positive(_duration), "2m"),
        "max_interval": (_positive(_duration), "6h"),
        "tick": (_positive(_duration), "5s"),
        "jitter": (_fraction, 0.1),
        "concurrency": (_positive(_int), 20),
        "per_host": (_positive(_int), 2),
        "timeout": (_positive(_duration), "30s"),
        "max_bytes": (_positive(_int), 5_000_000),
        "max_redirects": (_int, 5),
        "backfill": (_duration, "24h"),
        "allow_private_networks": (_bool, False),
        "user_agent": (_str, "wirewatch/0.1 (+https://github.com/wirewatch/wirewatch)"),
        "parse_timeout": (_positive(_duration), "20s"),
        "parse_workers": (_positive(_int), 1),
        "full_text": (_bool, False),
    },
    "stories": {
        "window": (_positive(_duration), "48h"),
        "threshold": (_fraction, 0.33),
        "title_threshold": (_fraction, 0.12),
        "copy_threshold": (_fraction, 0.6),
        "time_scale": (_positive(_duration), "6h"),
        "name_weight": (_positive(_num), 1.5),
        "centroid_weight": (_fraction, 0.8),
        "conflict_penalty": (_fraction, 0.4),
        "max_terms": (_positive(_int), 40),
        "posting_cap": (_positive(_int), 100),
        "join_threshold": (_positive(_num), 1.0),
        "related_threshold": (_positive(_num), 0.75),
    },
    "outputs": {
        "console": (_bool, True),
        "jsonl": (_str, ""),
    },
    "metrics": {
        "listen": (_listen, ""),
    },
    "classifier": {
        "retrain_every": (_positive(_duration), "24h"),
        "min_new_labels": (_positive(_int), 10),
        "weak_items": (_positive(_int), 2000),
    },
}

FEED_SCHEMA = {"url": (_url, REQUIRED), "name": (_str, ""), "interval": (_positive(_duration), None),
               "full_text": (_bool, None)}
CHAT_SCHEMA = {
    "id": (_int, REQUIRED),
    "name": (_str, ""),
    "topics": (_str_list, ["*"]),
    "mode": (_choice("instant", "digest"), "instant"),
    "digest_times": (_clock_list, ["08:00", "18:00"]),
    "quiet_hours": (_time_range, ""),
    "timezone": (_zone, None),
    "thread_id": (_int, None),
}


class _Reader:
    """Walks the parsed TOML against the schema, collecting every problem instead of stopping."""

    def __init__(self, file: str):
        self.file = file
        self.problems: list[Problem] = []

    def fail(self, key: str, reason: str) -> None:
        self.problems.append(Problem(f"{self.file}: {key}", reason))

    def table(self, data: Any, where: str, schema: Mapping[str, tuple]) -> dict[str, Any]:
        if not isinstance(data, dict):
            self.fail(where, "expected a table")
            data = {}
        for key in data.keys() - schema.keys():
            self.fail(f"{where}.{key}", f"unknown key (known: {', '.join(schema)})")
        out = {}
        for key, (parse, default) in schema.items():
            out[key] = self.value(data, key, f"{where}.{key}", parse, default)
        return out

    def value(self, data: dict, key: str, where: str, parse: Callable, default: Any) -> Any:
        if key not in data:
            if default is REQUIRED:
                self.fail(where, "is required")
                return None
            return default if default is None else parse(default)
        try:
            return parse(_expand(data[key]))
        except KeyError as exc:  # str() of a KeyError is its repr: quoted
            self.fail(where, str(exc.args[0]))
            return None
        except ValueError as exc:
            self.fail(where, str(exc))
            return None

    def array(self, data: Any, where: str, schema: Mapping[str, tuple]) -> list[dict[str, Any]]:
        if not isinstance(data, list):
            self.fail(where, "expected an array of tables ([[...]])")
            return []
        return [self.table(row, f"{where}[{i}]", schema) for i, row in enumerate(data)]


def _expand(v: Any) -> Any:
    """Replace ${VAR} / ${VAR:-default} in strings (and lists of strings) from the environment."""
    if isinstance(v, list):
        return [_expand(x) for x in v]
    if not isinstance(v, str):
        return v

    def sub(m: re.Match) -> str:
        name, default = m.group(1), m.group(2)
        if name in os.environ:
            return os.environ[name]
        if default is not None:
            return default
        raise KeyError(f"environment variable {name} is not set (write ${{{name}:-}} to allow that)")

    return _ENV.sub(sub, v)


def default_config_path(explicit: str | None = None) -> Path:
    """-c FILE, else $WIREWATCH_CONFIG, else ./config.toml."""
    return Path(explicit or os.environ.get("WIREWATCH_CONFIG") or "config.toml")


def load_config(path: Path) -> Config:
    """Read and validate config.toml; raise ConfigError listing every problem."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError([Problem(str(path), "file not found (pass -c FILE or set WIREWATCH_CONFIG)")]) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError([Problem(str(path), f"not valid TOML: {exc}")]) from None
    return parse_config(raw, path)


def guess_rules_dir(path: Path) -> Path:
    """bot.rules_dir of a config that did not validate, so its rule files can be checked too."""
    try:
        value = tomllib.loads(path.read_text(encoding="utf-8")).get("bot", {}).get("rules_dir")
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, AttributeError):
        value = None
    return path.resolve().parent / (value if isinstance(value, str) else SCHEMA["bot"]["rules_dir"][1])


def parse_config(raw: dict[str, Any], path: Path) -> Config:
    """Validate an already-parsed TOML document; relative paths resolve against path's folder."""
    r = _Reader(str(path))
    for key in raw.keys() - SCHEMA.keys() - {"feeds", "chats"}:
        r.fail(key, f"unknown section (known: {', '.join([*SCHEMA, 'feeds', 'chats'])})")
    sections = {name: r.table(raw.get(name, {}), name, schema) for name, schema in SCHEMA.items()}
    feeds = r.array(raw.get("feeds", []), "feeds", FEED_SCHEMA)
    chats = r.array(raw.get("chats", []), "chats", CHAT_SCHEMA)
    _check_cross(r, sections, feeds, chats)
    if r.problems:
        raise ConfigError(r.problems)
    return _build(path, sections, feeds, chats)


def _check_cross(r: _Reader, s: dict, feeds: list[dict], chats: list[dict]) -> None:
    p = s["polling"]
    if None not in (p["min_interval"], p["max_interval"]) and p["min_interval"] > p["max_interval"]:
        r.fail("polling.min_interval", "is greater than polling.max_interval")
    seen: dict[str, int] = {}
    for i, feed in enumerate(feeds):
        if feed["url"] in seen:
            r.fail(f"feeds[{i}].url", f"duplicate of feeds[{seen[feed['url']]}].url")
        seen.setdefault(feed["url"], i)
    ids = [c["id"] for c in chats]
    for i, chat_id in enumerate(ids):
        if chat_id is not None and ids.index(chat_id) != i:
            r.fail(f"chats[{i}].id", f"duplicate chat id {chat_id}")


def _build(path: Path, s: dict, feeds: list[dict], chats: list[dict]) -> Config:
    base = path.resolve().parent
    b, t, o = s["bot"], s["telegram"], s["outputs"]
    data_dir = (base / b["data_dir"]).resolve()
    database_url = b["database_url"] or f"sqlite:///{data_dir / 'wirewatch.db'}"
    return Config(
        path=path,
        bot=BotSettings(data_dir, database_url, (base / b["rules_dir"]).resolve(), b["timezone"], b["log_level"],
                        b["keep_items"]),
        telegram=TelegramSettings(
            token=t["token"] or None,
            api_base_url=t["api_base_url"] or None,
            admins=t["admins"],
            admin_chat=t["admin_chat"] or None,
            link_previews=t["link_previews"],
            failing_after=t["failing_after"],
        ),
        polling=PollingSettings(**s["polling"]),
        stories=StorySettings(**s["stories"]),
        outputs=OutputSettings(o["console"], (base / o["jsonl"]).resolve() if o["jsonl"] else None),
        feeds=tuple(FeedSettings(f["url"], f["name"], f["interval"],
                                 s["polling"]["full_text"] if f["full_text"] is None else f["full_text"])
                    for f in feeds),
        chats=tuple(ChatSettings(name=c["name"] or str(c["id"]), **{k: v for k, v in c.items() if k != "name"}) for c in chats),
        classifier=ClassifierSettings(**s["classifier"]),
        metrics=MetricsSettings(s["metrics"]["listen"]),
    )


def feed_host(url: str) -> str:
    """What a feed is called until its <title> is known."""
    return re.sub(r"^https?://(www\.)?", "", url).split("/")[0]
