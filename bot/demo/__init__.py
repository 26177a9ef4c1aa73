"""Bundled sample feeds for `wirewatch demo` (invented outlets and events, written for wirewatch).

Dates in the files are placeholders so the items are always recent when served:
`{{AGO_RFC822:<minutes>}}` (RSS pubDate) and `{{AGO_ISO:<minutes>}}` (Atom, RDF dc:date, JSON Feed)
stand for `now` minus that many minutes.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

# (file in this package, display name, content type to serve it with)
DEMO_FEEDS: list[tuple[str, str, str]] = [
    ("euphrates-wire.xml", "Euphrates Wire", "application/rss+xml"),
    ("baghdad-ledger.xml", "Baghdad Ledger", "application/atom+xml"),
    ("levant-monitor.xml", "Levant Monitor", "application/rdf+xml"),
    ("desert-dispatch.json", "Desert Dispatch", "application/feed+json"),
]

_PLACEHOLDER = re.compile(r"\{\{AGO_(RFC822|ISO):(\d+)\}\}")


def _format(style: str, moment: datetime) -> str:
    if style == "RFC822":
        return format_datetime(moment, usegmt=True)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def render_demo_feed(text: str, now: datetime) -> str:
    """The feed text with every date placeholder replaced by `now` minus its minutes, in UTC."""
    now = now.astimezone(UTC) if now.tzinfo else now.replace(tzinfo=UTC)
    now = now.replace(microsecond=0)

    def substitute(match: re.Match[str]) -> str:
        return _format(match.group(1), now - timedelta(minutes=int(match.group(2))))

    return _PLACEHOLDER.sub(substitute, text)
