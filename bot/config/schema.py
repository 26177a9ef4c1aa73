"""What config.toml may contain: each section's keys with their parser and default."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.config.values import (
    _bool,
    _choice,
    _clock_list,
    _duration,
    _fraction,
    _int,
    _int_list,
    _level,
    _listen,
    _not_negative,
    _num,
    _positive,
    _str,
    _str_list,
    _time_range,
    _url,
    _zone,
)

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
        "max_redirects": (_not_negative(_int), 5),
        "backfill": (_duration, "24h"),
        "allow_private_networks": (_bool, False),
        "user_agent": (_str, "wirewatch/0.1 (+https://github.com/wirewatch/wirewatch)"),
        "parse_timeout": (_positive(_duration), "20s"),
        "parse_workers": (_positive(_int), 1),
        "full_text": (_bool, False),
    },
    "stories": {
        "window": (_positive(_duration), "48h"),
        "threshold": (_positive(_fraction), 0.33),
        "title_threshold": (_positive(_fraction), 0.12),
        "copy_threshold": (_positive(_fraction), 0.6),
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
