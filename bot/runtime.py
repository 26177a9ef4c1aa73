"""The running configuration: config.toml + rules/ + routes, loaded and validated as one snapshot.

A snapshot is immutable; hot reload builds a new one and swaps it in only if it is valid, so an
invalid edit is reported and the running configuration is kept.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from bot.alerts.outbox import Route
from bot.config import Config, guess_rules_dir, load_config
from bot.errors import ConfigError, Problem
from bot.match.decide import TopicMatcher
from bot.match.retrain import load_matcher
from bot.match.rules import Topic, load_rules
from bot.store.chats import StoredChats


@dataclass(frozen=True)
class Runtime:
    config: Config
    topics: dict[str, Topic]
    matcher: TopicMatcher  # rules + classifiers; .match(item) -> list[Match]
    routes: tuple[Route, ...]


def load_runtime(path: Path, *, telegram: bool | None = None) -> Runtime:
    """Load config and rules; raise ConfigError with every problem in either.

    The error's `partial` is what did validate (the Config, or a ConfigDraft), for `check`.
    """
    try:
        config, problems, partial = load_config(path), [], None
    except ConfigError as exc:
        config, problems, partial = None, list(exc.problems), exc.partial
    if config is None and not path.is_file():
        raise ConfigError(problems)  # no config at all: its rules_dir is a guess, say nothing of it
    rules_dir = config.bot.rules_dir if config else guess_rules_dir(path)
    topics, rule_problems = load_rules(rules_dir)
    problems += rule_problems
    # a topic whose rule file has errors is reported there, not again as unknown
    broken = {f.stem for f in Path(rules_dir).glob("*.toml") if any(p.where.startswith(str(f)) for p in rule_problems)}
    chat_topics = [c.topics for c in config.chats] if config else partial.chat_topics() if partial else []
    problems += _unknown_chat_topics(path, chat_topics, topics, broken)
    if problems or config is None:
        raise ConfigError(problems, partial=config or partial)
    use_telegram = bool(config.telegram.token) if telegram is None else telegram
    matcher = load_matcher(topics, config.bot.data_dir)
    return Runtime(config, topics, matcher, build_routes(config, use_telegram))


def build_routes(config: Config, telegram: bool, *,
                 stored: StoredChats | None = None, topics: Iterable[str] = ()) -> tuple[Route, ...]:
    """Targets and their topics: console and JSONL take every topic; chats take their own.

    Without Telegram a chat still gets a route (target None) so alerts can name the chats they
    are for, but nothing is queued for it. With Telegram, what chat commands stored wins over
    config.toml: topics subscribed there are added, topics unsubscribed removed (`topics`, every
    topic id, resolves "*" minus those); a chat that blocked the bot gets no route; a migrated
    group's config entry routes to its new id.
    """
    stored = stored or StoredChats()
    routes = []
    if config.outputs.console:
        routes.append(Route("console"))
    if config.outputs.jsonl:
        routes.append(Route("jsonl"))
    extra: dict[int, set[str]] = {}
    for chat_id, added in stored.added.items() if telegram else ():  # command chats need Telegram
        extra.setdefault(chat_id, set()).update(added)
    every = frozenset(topics)
    for chat in config.chats:
        chat_id = _current_id(chat.id, stored.moved)
        added = extra.pop(chat_id, set())  # popped even for "*", so the chat gets one route
        base = None if "*" in chat.topics else frozenset(chat.topics) | added
        routes += _chat_route(chat_id, base, stored, every, telegram)
    for chat_id, wanted in extra.items():
        routes += _chat_route(chat_id, frozenset(wanted), stored, every, telegram)
    return tuple(routes)


def _current_id(chat_id: int, moved: Mapping[int, int]) -> int:
    for _ in range(5):  # a group migrates once; the bound only guards against a bad row
        chat_id = moved.get(chat_id, chat_id)
    return chat_id


def _chat_route(chat_id: int, base: frozenset[str] | None, stored: StoredChats, every: frozenset[str],
                telegram: bool) -> list[Route]:
    """The chat's route: its topics (None: all) minus what it unsubscribed; none if it left."""
    if not telegram:
        return [Route(None, base, chat_id)]
    if chat_id in stored.inactive:
        return []
    removed = stored.removed.get(chat_id, frozenset())
    wanted = base if not removed else (every if base is None else base) - removed
    return [Route(f"tg:{chat_id}", wanted, chat_id)]


def with_stored_routes(runtime: Runtime, stored: StoredChats, telegram: bool) -> Runtime:
    """The runtime with routes rebuilt from config plus what chat commands stored."""
    routes = build_routes(runtime.config, telegram, stored=stored, topics=runtime.topics)
    return replace(runtime, routes=routes)


def _unknown_chat_topics(path: Path, chat_topics: Iterable[tuple[str, ...] | None], topics: dict[str, Topic],
                         broken: Iterable[str] = ()) -> list[Problem]:
    """chats[i].topics naming no topic; None is a topics value that did not validate (reported)."""
    out, broken = [], set(broken)
    for i, names in enumerate(chat_topics):
        for name in names or ():
            if name != "*" and name not in topics and name not in broken:
                known = ", ".join(sorted(topics)) or "none"
                out.append(Problem(f"{path}: chats[{i}].topics", f"unknown topic {name!r} (known: {known})"))
    return out
