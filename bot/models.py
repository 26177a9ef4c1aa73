"""The nouns passed between pipeline stages, named by stage.

FeedForUpdate -> FetchResult -> ParsedFeed(RawEntry...) -> Item -> Match -> StoryDecision -> Alert
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


@dataclass(frozen=True)
class FeedForUpdate:
    """What the fetcher needs to know about a stored feed."""

    id: int
    url: str
    name: str
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    error_count: int = 0
    first_fetch: bool = True


class FetchStatus(StrEnum):
    NEW = "new"  # a body that differs from the last one
    UNCHANGED = "unchanged"  # 200 with the same body hash: nothing to parse
    NOT_MODIFIED = "not_modified"  # 304
    ERROR = "error"


@dataclass(frozen=True)
class FetchResult:
    """One HTTP round trip. A failure is a value (status ERROR + error), not an exception."""

    status: FetchStatus
    body: bytes = b""
    body_hash: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    http_status: int | None = None
    final_url: str | None = None  # set when a permanent redirect should update the stored URL
    max_age: float | None = None  # seconds, from Cache-Control
    retry_after: float | None = None  # seconds, from Retry-After
    error: str | None = None  # "kind: message"
    elapsed: float = 0.0


@dataclass(frozen=True)
class RawEntry:
    """One entry as the parser saw it: text may still hold HTML, dates may be missing."""

    guid: str | None
    link: str | None
    title: str
    summary: str  # HTML or text
    published: datetime | None  # UTC
    author: str | None = None
    content: str = ""  # the full article (content:encoded, Atom content, JSON content_html), HTML or text


@dataclass(frozen=True)
class ParsedFeed:
    title: str
    link: str | None
    entries: tuple[RawEntry, ...]
    ttl_minutes: int | None = None
    warning: str | None = None  # set when the parser flagged the feed malformed but it yielded entries


@dataclass(frozen=True)
class Item:
    """A normalized news item: plain text, canonical URL, UTC dates, a stable key."""

    key: str  # guid:..., url:..., or hash:...
    title: str
    summary: str
    url: str | None
    source: str
    published: datetime  # UTC; first-seen time when the feed gave none
    guid: str | None = None
    feed_id: int | None = None
    content_hash: str = ""
    id: int | None = None  # store row id, once stored
    body: str = ""  # the article text (plain, bounded); "" when the feed gave only a teaser

    @property
    def text(self) -> str:
        return f"{self.title}\n{self.summary}"


@dataclass(frozen=True)
class Match:
    """Why an item belongs to a topic: the score and the evidence (terms that hit, model terms)."""

    topic: str
    score: float
    why: tuple[str, ...] = ()


class StoryAction(StrEnum):
    NEW = "new"
    JOIN = "join"  # confident: the item is another report of that story
    RELATED = "related"  # plausible, not confident: a new story of its own, shown beside `related`


@dataclass(frozen=True)
class StoryDecision:
    """Which story an item belongs to, and why it joined that story."""

    story_id: str
    action: StoryAction
    score: float = 0.0
    why: tuple[str, ...] = ()
    related: str | None = None  # with RELATED: the earlier story this one may be the same as
    # Stories found to be this one when the item grew one of them (a late fold: both had alerted,
    # so nothing is hidden); their items now belong to story_id. The why says on what evidence.
    folded: tuple[str, ...] = ()


class AlertKind(StrEnum):
    ALERT = "alert"  # first item of a story for this target
    UPDATE = "update"  # another source joined a story already alerted


@dataclass(frozen=True)
class Alert:
    """What a sink delivers: the composed story alert for one target (a chat, the console, a file)."""

    kind: AlertKind
    story_id: str
    item_key: str
    title: str
    summary: str
    url: str | None
    source: str
    published: datetime
    topics: tuple[str, ...]
    chats: tuple[int, ...] = ()
    also: tuple[str, ...] = ()  # other sources of the story, for updates
    why: dict[str, tuple[str, ...]] = field(default_factory=dict)
    related: str | None = None  # the earlier story this new one may be the same as (RELATED)
    related_title: str = ""  # that story's headline
    also_links: dict[str, str] = field(default_factory=dict)  # other source -> its article's URL, for updates
