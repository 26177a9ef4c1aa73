"""The fast parser path must give exactly what feedparser gives, or step aside (None)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from bot.ingest.fastparse import parse_fast
from bot.ingest.parse import parse_feed
from tests.corpora import corpus, needs

FEEDS = corpus("feeds")
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
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:media="http://search.yahoo.com/mrss/"
      xmlns:h="http://www.w3.org/1999/xhtml"><title type="html">Atom &lt;b&gt;wire&lt;/b&gt;</title>
<id>urn:feed:1</id><updated>2024-05-01T10:00:00Z</updated><link rel="self" href="/feed.atom"/>
{items}</feed>"""


def rss(*items: str) -> bytes:
    return RSS.replace("{items}", "".join(f"<item>{i}</item>" for i in items)).encode()


def atom(*entries: str) -> bytes:
    return ATOM.replace("{items}", "".join(f"<entry>{e}</entry>" for e in entries)).encode()


def channel(head: str, *items: str) -> bytes:
    """RSS with head among the channel's own elements, before the items."""
    return RSS.replace("<ttl>15</ttl>", head).replace("{items}", "".join(f"<item>{i}</item>" for i in items)).encode()


def rooted(root_attrs: str, *items: str) -> bytes:
    """RSS with attributes (such as xml:base) on the rss element."""
    return rss(*items).replace(b'<rss version="2.0"', b'<rss version="2.0" ' + root_attrs.encode(), 1)


def atom_based(base: str, *entries: str) -> bytes:
    return atom(*entries).replace(b"<feed ", f'<feed xml:base="{base}" '.encode(), 1)


XHTML = '<div xmlns="http://www.w3.org/1999/xhtml">{}</div>'


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
    # Base URIs: feedparser joins links and ids onto xml:base (or a plain base attribute).
    "xml:base on the root": rooted('xml:base="https://b.example/news/"', "<link>2024/a</link><guid>2024/a#g</guid>",
                                   '<atom:link href="2024/b"/><title>t</title>'),
    "xml:base on a link and a guid": rss('<link xml:base="https://b.example/a/">../b/c</link>',
                                          '<title>t</title>', '<guid isPermaLink="false" xml:base="https://b.example/">g</guid>'),
    "a base outlives its element": rss('<title xml:base="https://b.example/x/">t</title><link>rel</link>',
                                       "<link>rel2</link><guid>g/3</guid>"),
    "a plain base attribute": rss('<category base="https://c.example/d/">x</category><link>rel</link>'),
    "a base attribute in another namespace": rss('<x:tag xmlns:x="urn:x" x:base="https://x.example/">v</x:tag><link>rel</link>'),
    "an unsafe base is ignored": rooted('xml:base="https://b.example/"',
                                        '<link xml:base="javascript:alert(1)">rel</link>', "<link>rel2</link>"),
    "a relative base": rooted('xml:base="https://b.example/news/"', '<link xml:base="sub/">x</link>'),
    "atom xml:base": atom_based("https://b.example/blog/", '<title>t</title><id>posts/1</id><link href="posts/1.html"/>',
                                '<title>u</title><id>urn:x:2</id><link xml:base="/other/" href="2.html"/>'),
    "atom empty base": atom_based("", '<title>t</title><id>urn:1</id><link href="/p/1"/>'),
    "atom fragment base": atom_based("#frag", '<title>t</title><id>urn:1</id><link href="p/1"/>'),
    # itunes:summary at the channel level: a description after it is filed as content, and the
    # hasContent flag that sets carries into the next item.
    "itunes:summary in the channel": channel("<itunes:summary>show</itunes:summary>",
                                             "<title>t</title><description>d</description><itunes:summary>s</itunes:summary>"),
    "channel itunes:summary, then description": channel(
        "<itunes:summary>show</itunes:summary><description>again</description>",
        "<description>a</description><itunes:summary>b</itunes:summary>",
        "<description>a</description><itunes:summary>b</itunes:summary>"),
    "rss 1.0 channel itunes:summary, then description": (
        b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/" '
        b'xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"><channel rdf:about="https://example.org/">'
        b"<title>c</title><itunes:summary>s</itunes:summary><description>d</description></channel>"
        b'<item rdf:about="https://example.org/1"><description>a</description><itunes:summary>b</itunes:summary></item>'
        b"</rdf:RDF>"),
    # Media RSS: media:title is a title unless one was read no deeper; media:description a summary.
    "media:title after the title": rss("<title>t</title><media:title>m</media:title>"),
    "media:title before the title": rss("<media:title>m</media:title><title>t</title>"),
    "media:title alone": rss('<media:title type="plain">m</media:title><link>https://example.org/m</link>'),
    "media:title after an empty title": rss("<title></title><media:title>m</media:title>"),
    "media:title after a source": rss('<title>t</title><source url="https://s.example/">S</source><media:title>m</media:title>'),
    "media:group": rss('<title>t</title><media:group><media:title>m</media:title><media:content url="https://e/v.mp4">'
                       '<media:description type="html">&lt;b&gt;md&lt;/b&gt;</media:description></media:content></media:group>'),
    "media:description as the summary": rss("<title>t</title><media:description>md</media:description>"),
    "media:description after a description": rss("<description>d</description><media:description>md</media:description>"),
    "media:group in an atom entry": atom('<title>t</title><id>urn:y:1</id><media:group><media:title>m</media:title>'
                                         "<media:description>md</media:description></media:group>"),
    # Atom XHTML, written out as feedparser writes it.
    "atom xhtml": atom('<title>t</title><id>urn:5</id><content type="xhtml">' + XHTML.format("<p>x</p>") + "</content>"),
    "atom xhtml markup": atom('<title>t</title><id>urn:6</id><content type="xhtml" xml:lang="en">' + XHTML.format(
        '<P Class="a">A &amp; B &lt;c&gt;</P><a href="x?a=1&amp;b=&quot;2&quot;" rel="NoFollow">l</a><br/>'
        '<img src="i.png" alt="café"/><span xml:lang="de">s</span>') + "</content>"),
    "atom xhtml without a wrapping div": atom('<title>t</title><id>urn:7</id><content type="xhtml">'
                                              "lead <h:p>x</h:p><h:div>y</h:div></content>"),
    "atom xhtml summary and title": atom('<title type="xhtml"><h:DIV>T <h:b>b</h:b></h:DIV></title><id>urn:8</id>'
                                         '<summary type="xhtml"> <h:div><h:div>s</h:div></h:div> </summary>'),
    # Repeated titles: the first that is not empty wins, unless something clears the mark between.
    "title and dc:title": rss("<title>a</title><dc:title>b</dc:title>"),
    "empty title, then dc:title": rss("<title></title><dc:title>b</dc:title>"),
    "channel title and dc:title": channel("<dc:title>Other</dc:title>", "<title>t</title>"),
    "channel title, an item, dc:title": b'<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
                                        b"<title>First</title><item><title>t</title></item><dc:title>Late</dc:title></channel></rss>",
    # Elements feedparser reads like ones read already, or not at all.
    "rss content element": rss("<title>t</title><description>d</description><content>full</content>"),
    "atom dates and author in rss": rss("<title>t</title><atom:updated>2024-05-06T10:00:00Z</atom:updated>"
                                        "<atom:author><atom:name>N</atom:name><atom:email>n@example.org</atom:email></atom:author>"),
    "repeated rss authors and dates": rss("<author>a@example.org (A)</author><dc:creator>B</dc:creator>"
                                          "<pubDate>Mon, 06 May 2024 10:00:00 GMT</pubDate><pubDate>Tue, 07 May 2024 10:00:00 GMT</pubDate>"),
    "itunes:title and dc:source": rss("<itunes:title>it</itunes:title><title>t</title><dc:source>src</dc:source>"),
    "atom author names are not repaired": atom("<title>t</title><id>urn:9</id><author><name>CafÃ© q</name></author>"),
}

FALLBACK = {
    "doctype": b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x "y">]><rss version="2.0"><channel><item><title>&x;</title></item></channel></rss>',
    "two base attributes": rss('<title>t</title><link xml:base="https://a.example/" base="https://b.example/">x</link>'),
    "media:title in the channel": channel("<media:title>show</media:title>", "<title>t</title>"),
    "description under a channel element after itunes:summary": channel(
        "<itunes:summary>s</itunes:summary><media:group><media:description>d</media:description></media:group>", "<title>t</title>"),
    "an image between two titles": rss("<title>t</title><image><url>https://example.org/i.png</url></image><media:title>m</media:title>"),
    "an image with its own title in an item": rss("<link>https://example.org/1</link><image><title>i</title></image>"),
    "a channel image with another element first": RSS.replace("<image><title>", "<image><foo>z</foo><title>")
                                                     .replace("{items}", "<item><title>t</title></item>").encode(),
    "a textinput with another element first": channel("<textInput><foo>z</foo><title>ti</title></textInput>", "<title>t</title>"),
    "rss 1.0 item before the channel": b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
                                       b'xmlns="http://purl.org/rss/1.0/"><item rdf:about="x"><title>t</title></item>'
                                       b'<channel rdf:about="c"><title>c</title></channel></rdf:RDF>',
    "media prefix bound to Dublin Core": rss("<m:title>m</m:title>").replace(
        b'xmlns:media="http://search.yahoo.com/mrss/"',
        b'xmlns:media="http://purl.org/dc/elements/1.1/" xmlns:m="http://search.yahoo.com/mrss/"'),
    "rss and atom authors": rss("<title>t</title><author>A</author><atom:author><atom:name>B</atom:name></atom:author>"),
    "repeated atom authors": atom("<title>t</title><id>urn:1</id><author><name>A</name></author><author><name>B</name></author>"),
    "xhtml body": atom('<title>t</title><content type="xhtml">' + XHTML.format("<body>b</body>") + "</content>"),
    "xhtml svg": atom('<title>t</title><content type="xhtml">' + XHTML.format("<svg/>") + "</content>"),
    "xhtml in another namespace": atom('<title>t</title><content type="xhtml"><div xmlns="urn:x"><p>x</p></div></content>'),
    "atom that binds the RSS 1.0 namespace first": atom('<title>t</title><content type="xhtml">' + XHTML.format("x") + "</content>")
                                                  .replace(b"<feed ", b'<feed xmlns:r="http://purl.org/rss/1.0/" ', 1),
    "xhtml with an xlink binding": atom('<title>t</title><content type="xhtml">' + XHTML.format(
        '<a xmlns:xl="http://www.w3.org/1999/xlink" href="x">l</a>') + "</content>"),
    "markup in title": rss("<title>a <b>bold</b> move</title>"),
    "shift_jis": '<?xml version="1.0" encoding="shift_jis"?><rss version="2.0"><channel><item><title>ニュース</title></item></channel></rss>'.encode("shift_jis"),
    "utf-16": '<?xml version="1.0" encoding="utf-16"?><rss version="2.0"><channel><item><title>t</title></item></channel></rss>'.encode("utf-16"),
    "atom 0.3": b'<feed version="0.3" xmlns="http://purl.org/atom/ns#"><title>f</title><entry><title>t</title></entry></feed>',
    "atom text of another type": atom('<title>t</title><content type="image/png">aGk=</content>'),
    "no items": rss(),
    "not well-formed": b'<rss version="2.0"><channel><item><title>a &nbsp; b</title></item></channel></rss>',
}


# What feedparser makes of some of those, so that they keep testing what they are named after:
# (case, entry index or None for the feed, field, value).
QUIRKS = [
    ("a base outlives its element", 1, "link", "https://b.example/x/rel2"),
    ("an unsafe base is ignored", 0, "link", "https://b.example/rel"),
    ("atom xml:base", 1, "link", "https://b.example/other/2.html"),
    ("channel itunes:summary, then description", 0, "summary", "b"),
    ("channel itunes:summary, then description", 1, "summary", "a"),
    ("media:title after an empty title", 0, "title", "m"),
    ("media:title after a source", 0, "title", "m"),
    ("media:description after a description", 0, "summary", "d"),
    ("atom xhtml summary and title", 0, "title", "T <b>b</b>"),
    ("atom xhtml summary and title", 0, "summary", "<div>s</div>"),
    ("title and dc:title", 0, "title", "a"),
    ("channel title, an item, dc:title", None, "title", "Late"),
    ("atom author names are not repaired", 0, "author", "Caf\u00c3\u00a9 \u0093q\u0094"),
]


@pytest.mark.parametrize(("name", "index", "field", "value"), QUIRKS)
def test_cases_exercise_feedparser_quirks(name, index, field, value):
    parsed = parse_feed(SAME[name], url=URL, fast=False)
    assert getattr(parsed if index is None else parsed.entries[index], field) == value


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


@needs(FEEDS / "CATALOGUE.tsv")
def test_every_real_feed_file_parses_the_same_either_way():
    fast = 0
    for path in real_feed_files():
        body = path.read_bytes()
        if parse_fast(body) is None:
            continue
        fast += 1
        assert parse_feed(body, url=URL) == parse_feed(body, url=URL, fast=False), path
    assert fast >= 40, f"only {fast} real feed files took the fast path"
