"""config.toml -> frozen, validated settings.

Every problem is collected (file, key path, reason) and reported together; unknown keys are
errors so a typo never silently falls back to a default. `${VAR}` and `${VAR:-default}` are read
from the environment. config.example.toml documents every key below with its default.

  settings.py  the frozen dataclasses (Config and one per section), feed_host
  values.py    value parsers: each returns the value or raises ValueError with the reason
  schema.py    key -> (parser, default) for every section, [[feeds]] and [[chats]]
  loader.py    reading, validating and building: load_config, parse_config, guess_rules_dir,
               ConfigDraft (what an invalid config did hold, for `check`)
"""

from __future__ import annotations

from bot.config.loader import (
    ConfigDraft,
    default_config_path,
    guess_rules_dir,
    load_config,
    parse_config,
)
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
    feed_host,
)
from bot.config.values import _duration as _duration  # re-exported: bench/bench_growth.py uses it

__all__ = [
    "CHAT_SCHEMA",
    "ConfigDraft",
    "FEED_SCHEMA",
    "REQUIRED",
    "SCHEMA",
    "BotSettings",
    "ChatSettings",
    "ClassifierSettings",
    "Config",
    "FeedSettings",
    "MetricsSettings",
    "OutputSettings",
    "PollingSettings",
    "StorySettings",
    "TelegramSettings",
    "default_config_path",
    "feed_host",
    "guess_rules_dir",
    "load_config",
    "parse_config",
]
