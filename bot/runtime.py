"""The running configuration: config.toml + rules/ + routes, loaded and validated as one snapshot.

A snapshot is immutable; hot reload builds a new one and swaps it in only if it is valid, so an
invalid edit is reported and the running configuration is kept.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from bot.alerts.outbox import Route
from bot.config import Config, guess_rules_dir, load_config
from bot.errors import ConfigError, Problem
from bot.match.rules import RuleMatcher, Topic, load_rules


@dataclass(frozen=True)
class Runtime:
    config: Config
    topics: dict[str, Topic]
    matcher: RuleMatcher
    routes: tuple[Route, ...]


def load_runtime(path: Path, *, telegram: bool | None = None) -> Runtime:
    """Load config and rules; raise ConfigError with every problem in either."""
    try:
        config, problems = load_config(path), []
    except ConfigError as exc:
        config, problems = None, list(exc.problems)
    topics, rule_problems = load_rules(config.bot.rules_dir if config else guess_rules_dir(path))
    problems += rule_problems
    if config:
        problems += _unknown_chat_topics(config, topics)
    if problems or config is None:
        raise ConfigError(problems)
    use_telegram = bool(config.telegram.token) if telegram is None else telegram
    return Runtime(config, topics, RuleMatcher(topics.values()), build_routes(config, use_telegram))


def build_routes(config: Config, telegram: bool, subscriptions: Iterable[tuple[int, str]] = ()) -> tuple[Route, ...]:
    """Targets and their topics: console and JSONL take every topic; chats take their own.

    Without Telegram a chat still gets a route (target None) so alerts can name the chats they
    are for, but nothing is queued for it.
    """
    routes = []
    if config.outputs.console:
        routes.append(Route("console"))
    if config.outputs.jsonl:
        routes.append(Route("jsonl"))
    extra: dict[int, set[str]] = {}
    for chat_id, topic in subscriptions:
        extra.setdefault(chat_id, set()).add(topic)
    for chat in config.chats:
        wanted = None if "*" in chat.topics else frozenset(chat.topics) | extra.pop(chat.id, set())
        routes.append(Route(f"tg:{chat.id}" if telegram else None, wanted, chat.id))
    for chat_id, wanted in extra.items():
        routes.append(Route(f"tg:{chat_id}" if telegram else None, frozenset(wanted), chat_id))
    return tuple(routes)


def _unknown_chat_topics(config: Config, topics: dict[str, Topic]) -> list[Problem]:
    out = []
    for i, chat in enumerate(config.chats):
        for name in chat.topics:
            if name != "*" and name not in topics:
                known = ", ".join(sorted(topics)) or "none"
                out.append(Problem(f"{config.path}: chats[{i}].topics", f"unknown topic {name!r} (known: {known})"))
    return out
