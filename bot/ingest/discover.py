"""Feed discovery: the feeds an HTML page announces. Pure: (html, page URL) -> alternates.

A site's home page names its feeds with `<link rel="alternate" type="application/rss+xml"
href="/feed.xml" title="...">` (RSS autodiscovery, Atom RFC 4287 §7, JSON Feed). Links resolve
against the page URL, or the page's `<base href>` when it has one. Only http(s) URLs are
returned; whether an address may be fetched is the fetcher's business (its SSRF guard runs when
the chosen feed is fetched), so this module never touches the network.

    discover(b"<link rel=alternate type=application/rss+xml href=/rss>", "https://x.example/")
    -> [Alternate("https://x.example/rss", "", "rss")]
"""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

FEED_TYPES = {
    "application/rss+xml": "rss",
    "application/atom+xml": "atom",
    "application/feed+json": "json",
    "application/rdf+xml": "rss",  # RSS 1.0
    "application/x-rss+xml": "rss",
    "application/x-atom+xml": "atom",
}
MAX_ALTERNATES = 20  # a page listing more is a directory, not a site: the first 20 are offered


@dataclass(frozen=True)
class Alternate:
    url: str
    title: str
    kind: str  # rss | atom | json


class _Links(HTMLParser):
    """Collects <base href> and feed <link>s; tolerant of any HTML, as browsers are."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.base: str | None = None
        self.links: list[tuple[str, str, str]] = []  # (href, title, kind)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: (v or "").strip() for k, v in attrs}
        if tag == "base" and self.base is None and values.get("href"):
            self.base = values["href"]
        elif tag == "link" and "alternate" in values.get("rel", "").lower().split():
            kind = FEED_TYPES.get(values.get("type", "").lower().split(";")[0].strip())
            if kind and values.get("href"):
                self.links.append((values["href"], " ".join(values.get("title", "").split()), kind))

    handle_startendtag = handle_starttag


def discover(page: bytes | str, page_url: str) -> list[Alternate]:
    """The page's announced feeds, in page order, each URL once; [] when it announces none."""
    text = page.decode("utf-8", errors="replace") if isinstance(page, bytes) else page
    parser = _Links()
    parser.feed(text)
    parser.close()
    base = urljoin(page_url, parser.base) if parser.base else page_url
    found: dict[str, Alternate] = {}
    for href, title, kind in parser.links:
        url = urljoin(base, href)
        if urlsplit(url).scheme in ("http", "https") and url not in found:
            found[url] = Alternate(url, title, kind)
    return list(found.values())[:MAX_ALTERNATES]


def looks_like_html(body: bytes) -> bool:
    """Whether a body that did not parse as a feed is a web page worth searching for links."""
    head = body[:2048].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<head" in head or b"<link" in head
