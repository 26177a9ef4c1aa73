"""The validated settings: frozen dataclasses, one per config.toml section (built by loader.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path


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


def feed_host(url: str) -> str:
    """What a feed is called until its <title> is known."""
    return re.sub(r"^https?://(www\.)?", "", url).split("/")[0]
