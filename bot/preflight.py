"""What `wirewatch check` finds beyond a valid config: what `run` would otherwise meet only while
running. Feed URLs that are literal loopback, private or link-local addresses (refused at every
fetch unless [polling] allow_private_networks), and an [outputs] jsonl file that cannot be written.
No network: names that need resolving are judged when fetched.
"""

from __future__ import annotations

import os
from pathlib import Path

from bot.config import Config
from bot.errors import Problem
from bot.ingest.netguard import BadHostError, BlockedAddressError, feed_target


def run_problems(config: Config) -> list[Problem]:
    """Problems `run` would hit with this (valid) config."""
    return _feed_problems(config) + _jsonl_problems(config)


def _feed_problems(config: Config) -> list[Problem]:
    allow = config.polling.allow_private_networks
    return [Problem(f"{config.path}: feeds[{i}].url", reason)
            for i, feed in enumerate(config.feeds) if (reason := url_problem(feed.url, allow))]


def url_problem(url: str, allow_private_networks: bool) -> str | None:
    """Why fetching this feed URL would fail before connecting, or None; fetch's own judgement.

    Only a well-formed private or loopback address mentions the flag: for a malformed URL the
    flag would change nothing, so the message must not suggest it.
    """
    try:
        feed_target(url, guard=not allow_private_networks)
    except BadHostError as exc:
        return f"bad_url: {exc}"
    except BlockedAddressError as exc:
        return f"{exc}; refused unless [polling] allow_private_networks = true"
    return None


def _jsonl_problems(config: Config) -> list[Problem]:
    path = config.outputs.jsonl
    reason = jsonl_problem(path) if path is not None else None
    return [Problem(f"{config.path}: outputs.jsonl", reason)] if reason else []


def jsonl_problem(path: Path) -> str | None:
    """Why alerts could not be appended to this file, or None. Directories are never created."""
    if path.is_dir():
        return f"{path} is a directory, not a file"
    if not path.parent.is_dir():
        return f"directory {path.parent} does not exist"
    target = path if path.exists() else path.parent
    if not os.access(target, os.W_OK):
        return f"{target} is not writable"
    return None
