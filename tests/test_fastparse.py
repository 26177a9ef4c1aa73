"""The fast parser path must give exactly what feedparser gives, or step aside (None)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from bot.ingest.fastparse import parse_fast
from bot.ingest.parse import parse_feed

FEEDS = Path(__file__).resolve().parents[2] / "shared" / "data" / "feeds"
URL = "https://example.org/news/feed.xml"

RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"
     xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:atom="http://www.w3.org/2005/Atom"
     xmlns:media="http://search.yahoo.com/mrss/" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd">
<channel><title>Wire &amp; Co</title><link>https://example.org/?a=1&amp;b=2</link><ttl>15</ttl>
<description>d</description><atom:link rel="self" href="https://example.org/feed.xml"/>
<image><title>logo</title><link>https://example.org/</link><url>https://example.org/l.png</url></image>
{items}</channel></rss>"""
ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title type="html">Atom &lt;b&gt;wire&lt;/b&gt;</title>
<id>urn:feed:1</id><updated>2024-05-01T10:00:00Z</updated><link rel="self" href="/feed.atom"/>
{items}</feed>"""


def rss(*items: str) -> bytes:
    return RSS.replace("{items}", "".join(f"<item>{i}</item>" for i in items)).encode()


def atom(*entries: str) -> bytes:
    return ATOM.replace("{items}", "".join(f"<entry>{e}</entry>" for e in entries)).encode()


SAME = {
    "plain item": rss("<title>Strike near Hit</title><link>https://example.org/1</link>"
                      "<guid isPermaLink=\"false\">a-1</guid><pubDate>Mon, 06 May 2024 10:00:00 +0300</pubDate>"
                      "<description>&lt;p&gt;Body&lt;/p&gt;</description><dc:creator>Staff</dc:creator>"),
    "guid as link": rss("<guid>https://example.org/2</guid><title>t</title>"),
    "guid before link": rss("<guid>https://example.org/g</guid><link>https://example.org/l</link>"),
    "query in link": rss("<link>https://example.org/?a=1&amp;amp;b=2&amp;c;=3</link><title>t</title>"),
    "content only": rss("<title>t</title><content:encoded><![CDATA[<p>full</p>]]></content:encoded>"),
    "content then description": rss("<content:encoded>full</content:encoded><description>short</description>"),
    "empty description": rss("<title>t</title><description></description><content:encoded>c</content:encoded>"),
    "dc:date only": rss("<title>t</title><dc:date>2024-05-06T10:00:00.5+02:00</dc:date>"),
    "odd date": rss("<title>t</title><pubDate>6 May 2024 10:00 EST</pubDate>"),
    "mojibake and cp1252": rss("<title>CafÃ© \u0093quoted\u0094</title><link>https://example.org/3</link>"),
    "self and alternate atom links in an item": rss(
        '<title>t</title><atom:link rel="related" href="https://example.org/r"/><link>https://example.org/4</link>'),
    "media content and source": rss('<title>t</title><media:content url="https://example.org/i.jpg"/>'
                                    '<source url="https://other.example/rss">Other</source>'),
    "atom entry": atom('<title>Raid</title><id>urn:1</id><link href="https://example.org/a1"/>'
                       "<published>2024-05-06T10:00:00Z</published><summary type=\"html\">&lt;i&gt;s&lt;/i&gt;</summary>"
                       "<author><name>N</name><email>n@example.org</email></author>"),
    "atom id without link": atom("<title>t</title><id>https://example.org/a2</id><updated>2024-05-06T10:00:00+01:00</updated>"),
    "atom links by type": atom('<title>t</title><id>urn:3</id><link rel="enclosure" type="audio/mpeg" href="https://x/a.mp3"/>'
                               '<link rel="alternate" type="html" href="https://example.org/a3"/>'
                               '<link rel="alternate" type="text/html" href="https://example.org/a3b"/>'),
    "atom content only": atom('<title>t</title><id>urn:4</id><content type="html">&lt;p&gt;c&lt;/p&gt;</content>'),
    "itunes:summary then description": rss("<title>t</title><itunes:summary>s</itunes:summary><description>d</description>"),
    "description then itunes:summary": rss("<title>t</title><description>d</description><itunes:summary>s</itunes:summary>"),
    "content, description, itunes:summary": rss("<content:encoded>c</content:encoded><description>d</description>"
                                               "<itunes:summary>s</itunes:summary>"),
    "windows-1251": '<?xml version="1.0" encoding="windows-1251"?><rss version="2.0"><channel><title>Новости</title>'
                    '<item><title>Заголовок</title><link>https://example.ru/1</link></item></channel></rss>'.encode("cp1251"),
    "rss 1.0": b'<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
               b'xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">'
               b'<channel rdf:about="https://example.org/"><title>c</title><link>https://example.org/</link>'
               b'<items><rdf:Seq><rdf:li rdf:resource="https://example.org/1"/></rdf:Seq></items></channel>'
               b'<item rdf:about="https://example.org/1"><title>t</title><link>https://example.org/1</link>'
               b'<dc:date>2024-05-06T10:00:00Z</dc:date></item></rdf:RDF>',
    "channel alternate atom link": RSS.replace("<ttl>15</ttl>", '<atom:link href="https://example.org/home"/>')
                                      .replace("{items}", "<item><title>t</title></item>").encode(),
}

FALLBACK = {
    "doctype": b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x "y">]><rss version="2.0"><channel><item><title>&x;</title></item></channel></rss>',
    "xml:base": rss('<title>t</title><link xml:base="https://b.example/">x</link>'),
    "media:title": rss("<title>t</title><media:title>other</media:title>"),
    "itunes:summary in the channel": RSS.replace("<ttl>15</ttl>", "<itunes:summary>show</itunes:summary>")
                                        .replace("{items}", "<item><title>t</title></item>").encode(),
    "markup in title": rss("<title>a <b>bold</b> move</title>"),
    "repeated title": rss("<title>a</title><title>b</title>"),
    "shift_jis": '<?xml version="1.0" encoding="shift_jis"?><rss version="2.0"><channel><item><title>ニュース</title></item></channel></rss>'.encode("shift_jis"),
    "utf-16": '<?xml version="1.0" encoding="utf-16"?><rss version="2.0"><channel><item><title>t</title></item></channel></rss>'.encode("utf-16"),
    "plain base attribute": rss('<title>t</title><category base="https://b.example/">x</category>'),
    "atom 0.3": b'<feed version="0.3" xmlns="http://purl.org/atom/ns#"><title>f</title><entry><title>t</title></entry></feed>',
    "atom xhtml": atom('<title>t</title><content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">x</div></content>'),
    "no items": rss(),
    "not well-formed": b'<rss version="2.0"><channel><item><title>a &nbsp; b</title></item></channel></rss>',
}


@pytest.mark.parametrize("name", sorted(SAME))
def test_fast_path_gives_what_feedparser_gives(name):
    body = SAME[name]
    assert parse_fast(body) is not None, "expected the fast path"
    assert parse_feed(body, url=URL) == parse_feed(body, url=URL, fast=False)


@pytest.mark.parametrize("name", sorted(FALLBACK))
def test_unusual_documents_are_left_to_feedparser(name):
    assert parse_fast(FALLBACK[name]) is None


def real_feed_files() -> list[Path]:
    with (FEEDS / "CATALOGUE.tsv").open(encoding="utf-8") as f:
        paths = [FEEDS / row["path"] for row in csv.DictReader(f, delimiter="\t")]
    return [p for p in paths if p.is_file()]


def test_every_real_feed_file_parses_the_same_either_way():
    fast = 0
    for path in real_feed_files():
        body = path.read_bytes()
        if parse_fast(body) is None:
            continue
        fast += 1
        assert parse_feed(body, url=URL) == parse_feed(body, url=URL, fast=False), path
    assert fast >= 40, f"only {fast} real feed files took the fast path"
