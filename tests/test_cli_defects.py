"""Issue 13's command-line and config defects: validate before printing, messages that keep their
quotes, `check` finding what `run` would, its exit code, a closed pipe, log levels in any case,
feeds named by their <title>, text cleaning that keeps comparisons, `demo --jsonl` into nowhere."""

from __future__ import annotations

import io
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from bot.app import App
from bot.cli import main
from bot.config import load_config, parse_config
from bot.ingest.fetch import Fetcher
from bot.ingest.htmltext import html_to_text
from bot.models import FeedForUpdate
from bot.runtime import load_runtime
from tests.tg_harness import COUNCIL, rss

REPO = Path(__file__).resolve().parents[1]
ANBAR = 'name = "Anbar"\ndescription = "Anbar province"\nquery = "anbar OR ramadi OR fallujah"\n'


def test_match_input_validates_every_line_before_printing(write_config, tmp_path, capsys):
    path = write_config("", rules={"anbar": ANBAR})
    items = tmp_path / "items.jsonl"
    items.write_text('{"id": "1", "title": "Ramadi"}\n{"id": "2", "title": "Fallujah"}\n{"id": "3"}\n{"title": "no id"}\n')
    assert main(["match", "-c", str(path), "--input", str(items)]) == 1
    out, err = capsys.readouterr()
    assert out == "" and "items.jsonl:4: missing required key 'id'" in err


def test_config_messages_keep_their_quotes(write_config, capsys):
    path = write_config('[polling]\ninterval = "30 seconds"\n', rules={"anbar": ANBAR})
    assert main(["check", "-c", str(path)]) == 1
    assert "polling.interval: '30 seconds' is not a duration" in capsys.readouterr().err


def test_log_level_in_any_case(write_config):
    path = write_config('[bot]\nlog_level = "debug"\n', rules={"anbar": ANBAR})
    assert load_config(path).bot.log_level == "DEBUG"
    assert main(["check", "-c", str(path)]) == 0


def test_check_finds_what_run_would(write_config, tmp_path, capsys):
    path = write_config('[outputs]\njsonl = "missing/alerts.jsonl"\n[[feeds]]\nurl = "http://127.0.0.1:8080/rss"\n'
                        '[[feeds]]\nurl = "http://[::1]/feed"\n[[feeds]]\nurl = "https://example.org/rss"\n',
                        rules={"anbar": ANBAR})
    assert main(["check", "-c", str(path)]) == 1
    err = capsys.readouterr().err
    assert "3 problem(s)" in err and "feeds[0].url: 127.0.0.1 is not a public address (loopback)" in err
    assert "feeds[1].url" in err and "allow_private_networks" in err and "feeds[2]" not in err
    assert f"outputs.jsonl: directory {tmp_path / 'missing'} does not exist" in err
    assert not (tmp_path / "missing").exists()


MALFORMED = ["http://[::1", "http://a b.com/", "http://x.com:99999/", "http://%00/", "http://1.2.3.4.5/",
             "http://exa\\mple.com/", "https:///nohost"]


@pytest.mark.parametrize("allow", [True, False])
@pytest.mark.parametrize("url", MALFORMED)
async def test_check_reports_a_malformed_url_as_fetch_refuses_it(write_config, capsys, url, allow):
    settings = replace(parse_config({}, Path("config.toml")).polling, allow_private_networks=allow)
    async with Fetcher(settings) as fetcher:  # never connects: the URL is refused first
        fetched = await fetcher.fetch(FeedForUpdate(id=1, url=url, name="x"))
    assert (fetched.error or "").startswith("bad_url: ")
    path = write_config(f"[polling]\nallow_private_networks = {str(allow).lower()}\n[[feeds]]\nurl = '{url}'\n",
                        rules={"anbar": ANBAR})
    assert main(["check", "-c", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"  {path}: feeds[0].url: {fetched.error}" in err.splitlines()
    assert "allow_private_networks" not in err  # the flag would not make it fetchable


OPML = ('<?xml version="1.0"?><opml version="2.0"><head><title>x</title></head><body>'
        '<outline type="rss" text="Local" xmlUrl="http://127.0.0.1/feed"/></body></opml>')
LOOPBACK = "127.0.0.1 is not a public address (loopback); refused unless [polling] allow_private_networks = true"
CHECK_CASES = [  # (config.toml, rule files, OPML imported first, lines check must print, text it must not)
    ('[polling]\ninterval = "x"\n[[chats]]\nid = 1\ntopics = ["isis-leadershp"]\n', {"anbar": ANBAR}, False,
     ["{config}: polling.interval: 'x' is not a duration (use e.g. \"90s\", \"15m\", \"2h\", \"1d\")",
      "{config}: chats[0].topics: unknown topic 'isis-leadershp' (known: anbar)"], None),
    ('[outputs]\njsonl = "missing/a.jsonl"\n[[feeds]]\nurl = "https:///nohost"\n'
     '[[feeds]]\nurl = "http://127.0.0.1/feed"\n', {"anbar": ANBAR}, False,
     ["{config}: feeds[0].url: bad_url: https:///nohost: no host", "{config}: feeds[1].url: " + LOOPBACK,
      "{config}: outputs.jsonl: directory {tmp}/missing does not exist"], None),
    ("", {"anbar": ANBAR}, True, ["database: feed #1 (imported): " + LOOPBACK], None),
    ("", {"anbar": ANBAR, "broken": 'name = "B"\nquery = "(anbar"\n'}, False,
     ["1 problem(s):"], "config.toml:"),
    (None, {}, False, ["1 problem(s):", "  {config}: file not found (pass -c FILE or set WIREWATCH_CONFIG)"],
     "rules directory"),
]


@pytest.mark.parametrize(("text", "rules", "imported", "lines", "absent"), CHECK_CASES)
def test_check_reports_every_problem_in_one_run(write_config, tmp_path, capsys, text, rules, imported, lines, absent):
    path = write_config(text or "", rules=rules)
    if text is None:
        path = tmp_path / "nonexistent.toml"
    if imported:
        (tmp_path / "subs.opml").write_text(OPML, encoding="utf-8")
        assert main(["feeds", "import", str(tmp_path / "subs.opml"), "-c", str(path)]) == 0
    capsys.readouterr()
    assert main(["check", "-c", str(path)]) == 1
    err = capsys.readouterr().err
    found = err.splitlines()
    for line in lines:
        line = line.format(config=path, tmp=tmp_path)
        assert line in found or f"  {line}" in found, err
    assert absent is None or absent not in err, err


def test_check_exits_1_when_the_database_is_unreadable(write_config, tmp_path, capsys):
    path = write_config('[bot]\ndatabase_url = "sqlite:///' + (tmp_path / "db").as_posix() + '"\n', rules={"anbar": ANBAR})
    (tmp_path / "db").mkdir()  # a directory where the database file should be: SQLite cannot open it
    code = main(["check", "-c", str(path)])
    err = capsys.readouterr().err
    assert "cannot be used: a directory, not a file" in err and code == 1


def test_check_into_a_closed_pipe_is_quiet(write_config):
    path = write_config("", rules={"anbar": ANBAR})
    proc = subprocess.Popen([sys.executable, "-m", "bot", "check", "-c", str(path)], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # `| head -0`: the reader is gone before anything is written
    err = proc.stderr.read().decode()
    assert proc.wait() == 0 and "Traceback" not in err and "BrokenPipe" not in err, err


async def test_a_config_feed_without_a_name_is_named_by_its_title(write_config, feed_server, tmp_path):
    feed_server.set("/wire.xml", rss("Euphrates Wire", [COUNCIL]))
    path = write_config(f'[polling]\nallow_private_networks = true\n[[feeds]]\nurl = "{feed_server.url("/wire.xml")}"\n',
                        rules={"anbar": ANBAR})
    out = io.StringIO()
    app = App(load_runtime(path), stdout=out)
    await app.start()
    try:
        assert app.store.feeds()[0].name.startswith("127.0.0.1:")  # its host, until it is fetched
        await app.cycle(every_feed=True)
        assert app.store.feeds()[0].name == "Euphrates Wire"
        assert "Euphrates Wire" in out.getvalue()  # the alert's source
        app.reload_now()
        assert app.store.feeds()[0].name == "Euphrates Wire"  # a reload keeps it
    finally:
        await app.stop()


def test_text_cleaning_keeps_comparisons():
    assert html_to_text("x<y and a>b") == "x<y and a>b"
    assert html_to_text("<p>Ramadi <b>bridge</b> <o:p>reopens</o:p></p>") == "Ramadi bridge reopens"


def test_demo_jsonl_into_a_missing_directory_is_refused(tmp_path, capsys):
    target = tmp_path / "nonexistent" / "dir" / "x.jsonl"
    assert main(["demo", "--jsonl", str(target)]) == 1
    assert f"directory {target.parent} does not exist" in capsys.readouterr().err
    assert not (tmp_path / "nonexistent").exists()
