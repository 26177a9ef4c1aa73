"""The feed list as OPML, for `wirewatch feeds export|import` and the /export and /import commands,
and the removal of a feed added by command (`wirewatch feeds remove`, /removefeed).

Import adds feeds as /addfeed stores them (in the database, listed by `check`, removable with
/removefeed), with origin "import": they are not fetched now, so their first fetch is their
baseline (what they hold then never alerts, as /addfeed promises); a feed listed in config.toml is left to config.toml, which
wins for feeds. The plan is computed first and shown whole, so --dry-run and a real import say
the same thing, and a real import changes nothing when the file is bad.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.config import Config
from bot.errors import InputError
from bot.i18n import N_, Tr, translation
from bot.ingest.opml import OpmlFeed, OpmlList, write_opml
from bot.store.db import IMPORTED, FeedRow, Store

ADD, READD, SAME, CONFIG = N_("add"), N_("re-add"), N_("already added"), N_("in config.toml")


@dataclass(frozen=True)
class Step:
    action: str  # ADD | READD | SAME | CONFIG
    feed: OpmlFeed


@dataclass(frozen=True)
class ImportPlan:
    steps: tuple[Step, ...]
    skipped: tuple[str, ...]

    @property
    def changes(self) -> list[Step]:
        return [s for s in self.steps if s.action in (ADD, READD)]

    def lines(self, applied: bool, tr: Tr | None = None) -> list[str]:
        """A count, then what would change (or changed), one line per feed."""
        _ = (tr or translation("en"))._
        summary = _("{n} feed(s) added, {kept} already present, {skipped} skipped") if applied else \
            _("{n} feed(s) would be added, {kept} already present, {skipped} skipped")
        kept = len(self.steps) - len(self.changes)
        out = [summary.format(n=len(self.changes), kept=kept, skipped=len(self.skipped))]
        out += [f"{_(s.action)}: {s.feed.title}  {s.feed.url}" for s in self.steps]
        return out + [_("skipped: {reason}").format(reason=reason) for reason in self.skipped]


def plan_import(opml: OpmlList, config: Config, stored: Sequence[FeedRow]) -> ImportPlan:
    """Pure: what importing these feeds would do, given config.toml and the stored feeds."""
    in_config = {f.url for f in config.feeds}
    by_url = {f.url: f for f in stored}
    steps = []
    for feed in opml.feeds:
        row = by_url.get(feed.url)
        if feed.url in in_config or (row is not None and row.origin == "config" and row.active):
            steps.append(Step(CONFIG, feed))
        elif row is not None and row.active:
            steps.append(Step(SAME, feed))
        else:
            steps.append(Step(READD if row is not None else ADD, feed))
    return ImportPlan(tuple(steps), opml.skipped)


def apply_import(store: Store, plan: ImportPlan, now: datetime) -> int:
    """Store the plan's new feeds (due for polling now); how many."""
    for step in plan.changes:
        store.add_feed(step.feed.url, step.feed.title[:200], IMPORTED, now)
    return len(plan.changes)


def export_feeds(config: Config, stored: Sequence[FeedRow]) -> list[tuple[str, str]]:
    """(url, name) of every feed polled: config.toml's, then those added by command."""
    feeds = [(f.url, f.name) for f in config.feeds]
    listed = {url for url, _ in feeds}
    feeds += [(f.url, f.name) for f in stored if f.active and f.origin != "config" and f.url not in listed]
    return feeds


def export_opml(config: Config, stored: Sequence[FeedRow], now: datetime) -> bytes:
    return write_opml(export_feeds(config, stored), "wirewatch feeds", now)


def find_active(stored: Sequence[FeedRow], key: str) -> FeedRow | None:
    """The active feed with this id or URL (as /feeds and `check` list them)."""
    return next((f for f in stored if f.active and key in (str(f.id), f.url)), None)


def remove_feed(store: Store, config: Config, key: str) -> FeedRow:
    """Stop polling a feed added by /addfeed or an import; its stored items and alerts stay.
    A feed of config.toml is config.toml's to remove (it wins for its feeds)."""
    feed = find_active(store.feeds(active_only=True), key)
    if (feed is not None and feed.origin == "config") or any(key == f.url for f in config.feeds):
        raise InputError(f"{key} is listed in config.toml, which wins for its feeds: remove it there")
    if feed is None:
        raise InputError(f"no active feed {key!r} (`wirewatch check` lists them with their ids)")
    store.set_feed_active(feed.id, False)
    return feed
