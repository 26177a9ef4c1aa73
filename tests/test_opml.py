"""OPML in and out: the pure reader and writer, and `wirewatch feeds export|import` on real files."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from bot.errors import InputError
from bot.ingest.opml import read_opml, write_opml
from bot.runtime import load_runtime
from bot.store.db import Store

GOOD = b"""<?xml version="1.0" encoding="utf-8"?>
<opml version="2.0"><head><title>Analyst list</title></head><body>
  <outline text="Iraq">
    <outline text="Euphrates Wire" type="rss" xmlUrl="https://wire.example/rss.xml"/>
    <outline text="Ledger &amp; Co" XMLURL="https://ledger.example/atom"/>
  </outline>
  <outline title="&#1575;&#1604;&#1571;&#1582;&#1576;&#1575;&#1585;" xmlUrl="https://arabic.example/feed"/>
  <outline text="duplicate" xmlUrl="https://wire.example/rss.xml"/>
  <outline text="Script" xmlUrl="javascript:alert(1)"/>
  <outline text="a folder with no feeds"/>
</body></opml>"""

BOMB = b"""<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>
<opml version="2.0"><head><title>&b;</title></head><body/></opml>"""
XXE = b"""<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<opml version="2.0"><head><title>&x;</title></head><body/></opml>"""


@pytest.mark.parametrize(("url", "reason"), [
    ("http://1.2.3.4.5/feed", "host '1.2.3.4.5' ends in a number but is not an IPv4 address"),
    ("http:///feed", "no host"),
    ("ftp://files.example/feed", "only http and https URLs can be fetched"),
    ("http://[::1/feed", "Invalid IPv6 URL"),
])
def test_import_skips_a_url_the_fetcher_would_refuse_with_its_reason(url, reason):
    data = f'<opml version="2.0"><head/><body><outline text="x" xmlUrl="{url}"/></body></opml>'.encode()
    got = read_opml(data)
    assert got.feeds == () and len(got.skipped) == 1 and reason in got.skipped[0]
    assert got.skipped[0].count(url) == 1  # named once


def test_reads_feeds_with_categories_names_and_unusable_urls():
    got = read_opml(GOOD)
    assert got.title == "Analyst list"
    assert [(f.url, f.title, f.categories) for f in got.feeds] == [
        ("https://wire.example/rss.xml", "Euphrates Wire", ("Iraq",)),
        ("https://ledger.example/atom", "Ledger & Co", ("Iraq",)),
        ("https://arabic.example/feed", "الأخبار", ()),
    ]
    assert got.skipped == ("javascript:alert(1): only http and https URLs can be fetched",)


@pytest.mark.parametrize("data, reason", [
    (b"<opml><body><outline text='x'", "not well-formed XML at line 1, column 13: unclosed token"),
    (b"", "not well-formed XML at line 1"),
    (b"<rss version='2.0'><channel/></rss>", "not OPML (the root element is <rss>"),
    (b"<opml version='2.0'><head/></opml>", "expected <opml> with a <body>"),
    (BOMB, "refused: the file declares XML entities"),
    (XXE, "refused: the file declares XML entities"),
    (b"\xff\xfe<\x00o", "not well-formed XML"),
])
def test_invalid_files_are_rejected_with_the_reason(data, reason):
    with pytest.raises(InputError) as exc:
        read_opml(data, where="list.opml")
    assert str(exc.value).startswith("list.opml: ") and reason in str(exc.value)


def test_written_opml_escapes_names_and_reads_back():
    from datetime import UTC, datetime

    feeds = [("https://a.example/rss?x=1&y=2", 'A "quoted" <b>name</b> & co'), ("https://b.example/f", "باء")]
    data = write_opml(feeds, "wirewatch feeds", datetime(2026, 1, 2, tzinfo=UTC))
    assert data.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    assert [(f.url, f.title) for f in read_opml(data).feeds] == feeds


def config(tmp_path: Path, feeds: str = "") -> Path:
    rules = tmp_path / "rules"
    rules.mkdir(exist_ok=True)
    (rules / "anbar.toml").write_text('name = "Anbar"\ndescription = "x"\nquery = "anbar"\n', encoding="utf-8")
    path = tmp_path / "config.toml"
    path.write_text(f'[bot]\ndata_dir = "data"\n[outputs]\nconsole = false\n{feeds}', encoding="utf-8")
    return path


CONFIG_FEED = '[[feeds]]\nurl = "https://wire.example/rss.xml"\nname = "Wire (config)"\n'


def test_import_dry_run_then_import_then_export(tmp_path, capsys):
    path, opml = config(tmp_path, CONFIG_FEED), tmp_path / "list.opml"
    opml.write_bytes(GOOD)
    assert main(["feeds", "import", str(opml), "-c", str(path), "--dry-run"]) == 0
    out = capsys.readouterr()
    assert out.out.splitlines()[0] == "2 feed(s) would be added, 1 already present, 1 skipped"
    assert "in config.toml: Euphrates Wire  https://wire.example/rss.xml" in out.out
    assert "add: Ledger & Co  https://ledger.example/atom" in out.out and "nothing changed" in out.err
    assert not (tmp_path / "data").exists()  # a dry run creates no database

    assert main(["feeds", "import", str(opml), "-c", str(path)]) == 0
    assert capsys.readouterr().out.startswith("2 feed(s) added, 1 already present")
    rt = load_runtime(path, telegram=False)
    store = Store.open(rt.config.bot.database_url)
    try:
        assert [(f.url, f.origin) for f in store.feeds()] == [
            ("https://ledger.example/atom", "import"), ("https://arabic.example/feed", "import")]
    finally:
        store.close()
    assert main(["check", "-c", str(path)]) == 0
    assert "#2 الأخبار  https://arabic.example/feed" in capsys.readouterr().out

    assert main(["feeds", "import", str(opml), "-c", str(path)]) == 0  # again: nothing new
    assert capsys.readouterr().out.startswith("0 feed(s) added, 3 already present")

    assert main(["feeds", "export", "-c", str(path)]) == 0
    exported = read_opml(capsys.readouterr().out.encode())
    assert [(f.url, f.title) for f in exported.feeds] == [
        ("https://wire.example/rss.xml", "Wire (config)"), ("https://ledger.example/atom", "Ledger & Co"),
        ("https://arabic.example/feed", "الأخبار")]


def test_feeds_remove_stops_an_imported_feed_and_leaves_config_feeds_to_config(tmp_path, capsys):
    path, opml = config(tmp_path, CONFIG_FEED), tmp_path / "list.opml"
    assert main(["feeds", "remove", "2", "-c", str(path)]) == 1  # no database yet
    assert "no feed to remove" in capsys.readouterr().err
    opml.write_bytes(GOOD)
    assert main(["feeds", "import", str(opml), "-c", str(path)]) == 0
    capsys.readouterr()
    assert main(["feeds", "remove", "https://ledger.example/atom", "-c", str(path)]) == 0
    assert "removed feed #1 Ledger & Co" in capsys.readouterr().out
    assert main(["feeds", "remove", "https://ledger.example/atom", "-c", str(path)]) == 1  # gone already
    assert "no active feed 'https://ledger.example/atom'" in capsys.readouterr().err
    assert main(["feeds", "remove", "https://wire.example/rss.xml", "-c", str(path)]) == 1
    assert "is listed in config.toml, which wins for its feeds: remove it there" in capsys.readouterr().err
    assert main(["feeds", "remove", "2", "-c", str(path)]) == 0  # by id, as check lists it
    assert "removed feed #2" in capsys.readouterr().out
    assert main(["feeds", "export", "-c", str(path)]) == 0
    assert [f.url for f in read_opml(capsys.readouterr().out.encode()).feeds] == ["https://wire.example/rss.xml"]


def test_export_without_a_database_lists_config_feeds_and_creates_nothing(tmp_path, capsys):
    path = config(tmp_path, CONFIG_FEED)
    assert main(["feeds", "export", "-c", str(path)]) == 0
    assert [f.url for f in read_opml(capsys.readouterr().out.encode()).feeds] == ["https://wire.example/rss.xml"]
    assert not (tmp_path / "data").exists()


def test_import_of_a_bad_file_exits_1_naming_it_and_stores_nothing(tmp_path, capsys):
    path, opml = config(tmp_path), tmp_path / "bad.opml"
    opml.write_bytes(BOMB)
    assert main(["feeds", "import", str(opml), "-c", str(path)]) == 1
    assert f"wirewatch feeds: {opml}: refused" in capsys.readouterr().err
    assert not (tmp_path / "data").exists()
    assert main(["feeds", "import", str(tmp_path / "missing.opml"), "-c", str(path)]) == 1
    assert "missing.opml: cannot read: No such file or directory" in capsys.readouterr().err
