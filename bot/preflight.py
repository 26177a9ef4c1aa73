"""What `wirewatch check` finds beyond a valid config: what `run` would otherwise meet only while
running. Feed URLs that are literal loopback, private or link-local addresses (refused at every
fetch unless [polling] allow_private_networks), and an [outputs] jsonl file that cannot be written.
No network: names that need resolving are judged when fetched. url_problem judges stored feeds
too (bot.tg.overview), with the fetcher's own function (netguard.feed_target).
"""

from __future__ import annotations

import os
from pathlib import Path

from bot.config import Config, ConfigDraft
from bot.errors import Problem
from bot.ingest.netguard import BadHostError, BlockedAddressError, feed_target


def run_problems(config: Config | ConfigDraft) -> list[Problem]:
    """Problems `run` would hit with this config; of a draft (a config with errors), those its
    valid values show, so `check` lists them with the config errors instead of after a fix."""
    if isinstance(config, ConfigDraft):
        allow = config.sections["polling"]["allow_private_networks"]
        urls, jsonl = config.feed_urls(), config.jsonl()
    else:
        allow, jsonl = config.polling.allow_private_networks, config.outputs.jsonl
        urls = [f.url for f in config.feeds]
    reason = jsonl_problem(jsonl) if jsonl is not None else None
    return (_feed_problems(config.path, urls, allow)
            + ([Problem(f"{config.path}: outputs.jsonl", reason)] if reason else []))


def _feed_problems(path: Path, urls: list[str | None], allow: bool | None) -> list[Problem]:
    if allow is None:  # the flag itself is wrong (reported): whether an address is allowed is unknown
        return []
    return [Problem(f"{path}: feeds[{i}].url", reason)
            for i, url in enumerate(urls) if url is not None and (reason := url_problem(url, allow))]


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
