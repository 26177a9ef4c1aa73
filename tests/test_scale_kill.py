"""Scale-out under kill -9 (issue 16): a poller dying mid-fetch and the core holder dying
mid-delivery lose nothing; the standby core takes over; at most the in-flight message per chat
is sent twice. Real processes, a real PostgreSQL server, the loopback Bot API."""

from __future__ import annotations

import os
import signal
from collections import Counter

import pytest

from bot.scale.locks import holder
from tests.botapi import bot_api  # noqa: F401  (fixture)
from tests.scalefarm import Farm, alert_titles, farm_config, stop_all, until, wirewatch

POSTGRES = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # skips without a server
SLOW = frozenset(range(0, 40, 4))  # one feed in four answers after DELAY seconds: fetches stay in flight
DELAY = 2.0


@POSTGRES
async def test_a_poller_killed_mid_fetch_loses_nothing_and_its_feeds_are_fetched_again(tmp_path, database_url):
    farm = await Farm(feeds=40, per_host=4, slow=SLOW, delay=DELAY).start()
    path = farm_config(tmp_path, farm, database_url, interval=3.0)
    core, first = await wirewatch(path, "--role", "core"), await wirewatch(path, "--role", "poller")
    procs = [core, first]
    try:
        await until(lambda: farm.titles() <= set(alert_titles(tmp_path)), "the first round alerted")
        farm.publish()
        # the only poller is waiting on slow feeds: killed mid-fetch, mid-cycle
        await until(lambda: any(farm.server(k).in_flight[f"/f{k}.xml"] for k in SLOW), "a slow fetch in flight")
        fetched_before = sum(len(farm.fetches(k)) for k in range(farm.feeds))
        os.kill(first.pid, signal.SIGKILL)
        procs.append(await wirewatch(path, "--role", "poller"))  # what a supervisor does: start another
        await until(lambda: farm.titles() <= set(alert_titles(tmp_path)), "the second round alerted", timeout=120)
        farm.publish()
        await until(lambda: farm.titles() <= set(alert_titles(tmp_path)), "the third round alerted")
    finally:
        logs = await stop_all(*procs)
        await farm.stop()
    titles = alert_titles(tmp_path)
    assert set(titles) == farm.titles() and len(titles) == len(set(titles)) == 3 * 40, logs[core.pid]
    assert sum(len(farm.fetches(k)) for k in range(farm.feeds)) > fetched_before
    assert first.returncode == -signal.SIGKILL
    assert "left by a poller that stopped" in logs[procs[2].pid]  # its job was failed, its host freed


def chats(ids: list[int]) -> str:
    return "".join(f'[[chats]]\nid = {i}\nname = "Chat {i}"\ntopics = ["anbar"]\n' for i in ids)


@POSTGRES
async def test_the_core_killed_mid_delivery_is_replaced_by_the_standby_and_nothing_is_lost(
        tmp_path, database_url, bot_api):  # noqa: F811
    ids = [1001, 1002, 1003]
    for chat in ids:
        bot_api.private(chat)
    farm = await Farm(feeds=10, per_host=5).start()
    telegram = f'[telegram]\ntoken = "{bot_api.token}"\napi_base_url = "{bot_api.base_url}"\n'
    path = farm_config(tmp_path, farm, database_url, interval=30.0, extra=telegram + chats(ids))
    holder_core = await wirewatch(path, "--role", "core")
    procs = [holder_core]
    try:
        await until(lambda: holder(database_url, "run:").get("pid") == str(holder_core.pid), "the first core's lock")
        standby = await wirewatch(path, "--role", "core")
        procs += [standby, await wirewatch(path, "--role", "poller")]
        # Telegram's 1 message/s per chat paces delivery: kill the holder while it is sending
        await until(lambda: all(len(bot_api.messages(c)) >= 3 for c in ids), "three alerts in every chat")
        os.kill(holder_core.pid, signal.SIGKILL)
        wanted = farm.titles()
        await until(lambda: all(wanted <= sent_titles(bot_api, c, wanted) for c in ids), "every alert in every chat",
                    timeout=120)
        assert holder(database_url, "run:").get("pid") == str(standby.pid)
    finally:
        logs = await stop_all(*procs)
        await farm.stop()
    for chat in ids:
        counts = Counter(t for m in bot_api.messages(chat) for t in wanted if t in m.text)
        assert set(counts) == wanted and sum(n - 1 for n in counts.values()) <= 1, counts  # the in-flight one, at most
    assert "standby: took over the core lock" in logs[standby.pid]
    assert standby.returncode == 0 and "Traceback" not in logs[standby.pid], logs[standby.pid]


def sent_titles(api, chat: int, wanted: set[str]) -> set[str]:
    return {t for m in api.messages(chat) for t in wanted if t in m.text}
