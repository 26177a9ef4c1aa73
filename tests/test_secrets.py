"""The bot token never reaches any output: the real `wirewatch run` (a subprocess, DEBUG logging)
against the loopback Bot API in each failure scenario, with every byte it wrote (stdout, stderr,
every file it left) searched for the token. A token revoked mid-run stops the process, exit 1."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from bot.redact import REDACTED, Redactor, install, secret_forms
from bot.store import schema
from bot.tg.application import TOKEN_REFUSED, TOKEN_REVOKED
from tests.botapi import TOKEN, ApiError, BotApiServer, bot_api  # noqa: F401  (fixture)
from tests.tg_harness import ADMIN, COUNCIL, rss, write_config

pytest_plugins = ["tests.feedserver"]
REPO = Path(__file__).resolve().parents[1]
SECRET = TOKEN.partition(":")[2]  # "TEST-token": the half that must never show (the id is public)
CHAT = f'[[chats]]\nid = {ADMIN}\nname = "Admin"\ntopics = ["anbar"]\n'


def debug_config(tmp_path: Path, api: BotApiServer, feeds: dict[str, str], **kwargs) -> Path:
    path = write_config(tmp_path, api, feeds, extra='jsonl = "alerts.jsonl"', **kwargs)
    text = path.read_text(encoding="utf-8").replace("[bot]\n", '[bot]\nlog_level = "DEBUG"\n', 1)
    path.write_text(text.replace("console = false", "console = true"), encoding="utf-8")
    return path


async def start(path: Path, *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", "-c", str(path), *args, cwd=REPO,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)


async def finish(proc: asyncio.subprocess.Process, tmp_path: Path, secret: str = SECRET) -> tuple[int, str]:
    """Wait for the process; assert the secret is in none of its outputs; (exit code, stderr)."""
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    outputs = {"stdout": out, "stderr": err}
    for file in tmp_path.rglob("*"):
        if file.is_file() and file.name != "config.toml":
            outputs[str(file.relative_to(tmp_path))] = file.read_bytes()
    for name, data in outputs.items():
        for form in secret_forms(secret):
            assert form.encode() not in data, f"{form!r} in {name}"
    assert b"Traceback" not in out
    return proc.returncode, err.decode()


async def polling(api: BotApiServer) -> None:
    await api.wait_for(lambda: api.count("getUpdates") >= 1, timeout=30)


async def test_refused_token_at_start_up(bot_api, tmp_path):  # noqa: F811
    path = debug_config(tmp_path, bot_api, {})
    path.write_text(path.read_text().replace(TOKEN, "123456:WRONG-secret-value"))
    code, err = await finish(await start(path, "--once"), tmp_path, "123456:WRONG-secret-value")
    assert code == 1 and TOKEN_REFUSED in err and "Traceback" not in err


async def test_debug_run_delivers_without_showing_the_token(bot_api, feed_server, tmp_path):  # noqa: F811
    feed_server.set("/wire.xml", rss("Wire", [COUNCIL]))
    path = debug_config(tmp_path, bot_api, {feed_server.url("/wire.xml"): "Wire"}, chats=CHAT)
    code, err = await finish(await start(path, "--once"), tmp_path)
    assert code == 0, err
    assert "Set Bot API URL" in err and REDACTED in err  # PTB's DEBUG line was there, redacted
    assert [m.text.splitlines()[1] for m in bot_api.messages(ADMIN)] == [COUNCIL[1]]


async def test_token_revoked_mid_run_getupdates(bot_api, tmp_path):  # noqa: F811
    proc = await start(debug_config(tmp_path, bot_api, {}))
    await polling(bot_api)
    bot_api.token = "123456:REPLACED-token"  # BotFather /revoke: every call is 401 from now on
    await bot_api.command(ADMIN, ADMIN, "/help")  # ends the long poll in flight
    code, err = await finish(proc, tmp_path)
    assert code == 1 and TOKEN_REVOKED in err


async def test_token_revoked_mid_run_sendmessage_keeps_the_alert(bot_api, feed_server, tmp_path):  # noqa: F811
    feed_server.set("/wire.xml", rss("Wire", [COUNCIL]))
    bot_api.fail("sendMessage", ApiError(401, "Unauthorized"), times=100, chat_id=ADMIN)
    proc = await start(debug_config(tmp_path, bot_api, {feed_server.url("/wire.xml"): "Wire"}, chats=CHAT))
    code, err = await finish(proc, tmp_path)
    assert code == 1 and TOKEN_REVOKED in err
    engine = create_engine(f"sqlite:///{tmp_path / 'data' / 'wirewatch.db'}")
    with engine.connect() as conn:
        rows = conn.execute(select(schema.outbox.c.target, schema.outbox.c.status)).all()
    assert ("tg:7", "pending") in rows  # nothing lost: sent at the next start, with the new token


async def test_bot_api_unreachable_at_start_up(tmp_path):
    api = BotApiServer()  # never started: its port 0 is refused
    path = debug_config(tmp_path, api, {})
    path.write_text(path.read_text().replace("http://127.0.0.1:0/bot", "http://127.0.0.1:9/bot"))
    code, err = await finish(await start(path, "--once"), tmp_path)
    assert code == 1 and "cannot reach the Bot API at http://127.0.0.1:9/bot" in err


async def test_network_errors_mid_run(bot_api, tmp_path):  # noqa: F811
    proc = await start(debug_config(tmp_path, bot_api, {}))
    await polling(bot_api)
    await bot_api.stop()  # the Bot API goes away: PTB logs network errors and keeps retrying
    await asyncio.sleep(3)  # not an assertion on time: lets a few retries fail and be logged
    proc.send_signal(signal.SIGTERM)
    code, err = await finish(proc, tmp_path)
    assert code == 0 and "NetworkError" in err  # transient: the process stayed up until told to stop


# ---- the filter itself -------------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    f"Set Bot API URL: http://127.0.0.1/bot{TOKEN}",
    f"POST http://127.0.0.1/bot{TOKEN.replace(':', '%3A')}/getMe",
    f"secret half alone: {SECRET}",
])
def test_redactor_covers_every_form(text: str) -> None:
    assert SECRET not in Redactor([TOKEN]).redact(text).replace("%3A", ":")


def test_filter_redacts_messages_args_and_tracebacks_on_every_handler(caplog) -> None:
    undo = install(Redactor([TOKEN]))
    try:
        with caplog.at_level(logging.DEBUG):
            logging.getLogger("telegram.ext.Updater").debug("url %s", f"/bot{TOKEN}/getUpdates")
            try:
                raise RuntimeError(f"The token `{TOKEN}` was rejected by the server.")
            except RuntimeError:
                logging.getLogger("httpx").exception("failed")
    finally:
        undo()
    shown = caplog.text + "".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert SECRET not in shown and shown.count(REDACTED) >= 2
    logging.getLogger("apscheduler").warning("after undo %s", SECRET)
    assert SECRET in caplog.records[-1].getMessage()  # removed with the App: no global left behind
