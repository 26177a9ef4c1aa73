"""Reading config.toml: TOML -> schema check -> cross-checks -> Config, every problem reported.

Every problem is collected (file, key path, reason) and reported together; unknown keys are
errors so a typo never silently falls back to a default. `${VAR}` and `${VAR:-default}` are read
from the environment.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.config.schema import CHAT_SCHEMA, FEED_SCHEMA, REQUIRED, SCHEMA
from bot.config.settings import (
    BotSettings,
    ChatSettings,
    ClassifierSettings,
    Config,
    FeedSettings,
    MetricsSettings,
    OutputSettings,
    PollingSettings,
    StorySettings,
    TelegramSettings,
)
from bot.errors import ConfigError, Problem

_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


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
        raise ConfigError(r.problems, partial=ConfigDraft(path, sections, feeds, chats))
    return _build(path, sections, feeds, chats)


@dataclass(frozen=True)
class ConfigDraft:
    """What a config that did not validate holds: every value parsed, None where it was wrong.

    Enough for `check` to go on to chat topics and feed URLs in the same run (every problem at
    once), never enough to run with.
    """

    path: Path
    sections: dict[str, dict[str, Any]]
    feeds: list[dict[str, Any]]
    chats: list[dict[str, Any]]

    def chat_topics(self) -> list[tuple[str, ...] | None]:
        return [c["topics"] for c in self.chats]

    def feed_urls(self) -> list[str | None]:
        return [f["url"] for f in self.feeds]

    def jsonl(self) -> Path | None:
        return _jsonl_path(self.path, self.sections["outputs"]["jsonl"])


def _jsonl_path(path: Path, name: str | None) -> Path | None:
    """[outputs] jsonl, relative to the config file's folder; None when off (or invalid)."""
    return (path.resolve().parent / name).resolve() if name else None


def _check_cross(r: _Reader, s: dict, feeds: list[dict], chats: list[dict]) -> None:
    p = s["polling"]
    if None not in (p["min_interval"], p["max_interval"]) and p["min_interval"] > p["max_interval"]:
        r.fail("polling.min_interval", "is greater than polling.max_interval")
    join, related = s["stories"]["join_threshold"], s["stories"]["related_threshold"]
    if None not in (join, related) and related > join:  # StoryClusterer.set_thresholds refuses it too
        r.fail("stories.related_threshold", f"{related:g} is greater than stories.join_threshold ({join:g})")
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
        outputs=OutputSettings(o["console"], _jsonl_path(path, o["jsonl"])),
        feeds=tuple(FeedSettings(f["url"], f["name"], f["interval"],
                                 s["polling"]["full_text"] if f["full_text"] is None else f["full_text"])
                    for f in feeds),
        chats=tuple(ChatSettings(name=c["name"] or str(c["id"]), **{k: v for k, v in c.items() if k != "name"}) for c in chats),
        classifier=ClassifierSettings(**s["classifier"]),
        metrics=MetricsSettings(s["metrics"]["listen"]),
    )
