"""A loopback farm for the scale-out tests: feeds spread over many 127.x hosts (one FeedServer per
host, so the per-host job lock spreads work over pollers), each item unique and on topic.

    farm = await Farm(feeds=200).start()
    farm.publish()        # every feed gains one new item (a new round)
    farm.fetches(k)       # when feed k was fetched (monotonic times of its answers)
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import sys
import time
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

from tests.feedserver import FeedServer

REPO = Path(__file__).resolve().parents[1]
ANBAR = 'name = "Anbar"\ndescription = "Anbar province"\nquery = "anbar OR ramadi OR fallujah OR qaim"\n'


class Farm:
    def __init__(self, feeds: int = 200, per_host: int = 5, seed: int = 16, slow: frozenset[int] = frozenset(),
                 delay: float = 0.0):
        self.feeds, self.per_host = feeds, per_host
        self.rng = random.Random(seed)
        self.slow, self.delay = slow, delay  # these feeds answer after `delay` seconds
        self.servers: list[FeedServer] = []
        self.items: dict[int, list[tuple[str, str, datetime]]] = {k: [] for k in range(feeds)}
        self.round = 0

    async def start(self) -> Farm:
        hosts = (self.feeds + self.per_host - 1) // self.per_host
        for h in range(hosts):
            self.servers.append(await FeedServer(host=f"127.3.{h // 250}.{h % 250 + 1}").start())
        self.publish()
        return self

    async def stop(self) -> None:
        for server in self.servers:
            await server.stop()

    def server(self, k: int) -> FeedServer:
        return self.servers[k // self.per_host]

    def url(self, k: int) -> str:
        return self.server(k).url(f"/f{k}.xml")

    def publish(self) -> None:
        """A new round: one new item in every feed (unique words: its own story, one alert)."""
        self.round += 1
        now = datetime.now(UTC)
        for k in range(self.feeds):
            words = " ".join(f"w{self.rng.getrandbits(40):x}" for _ in range(6))
            self.items[k].append((f"f{k}r{self.round}", f"Ramadi {words}", now))
            self.server(k).set(f"/f{k}.xml", self._rss(k), delay=self.delay if k in self.slow else 0.0)

    def titles(self) -> set[str]:
        return {title for items in self.items.values() for _, title, _ in items}

    def fetches(self, k: int) -> list[float]:
        return [h.at for h in self.server(k).hits.get(f"/f{k}.xml", ())]

    def in_flight(self) -> int:
        return sum(sum(s.in_flight.values()) for s in self.servers)

    def _rss(self, k: int) -> str:
        entries = "".join(
            f"<item><guid isPermaLink='false'>{guid}</guid><title>{title}</title>"
            f"<link>https://news.example/{guid}</link><description>{title} in Anbar.</description>"
            f"<pubDate>{format_datetime(when)}</pubDate></item>" for guid, title, when in self.items[k][-10:])
        return (f"<?xml version='1.0'?><rss version='2.0'><channel><title>Feed {k}</title>"
                f"<link>https://news.example/</link>{entries}</channel></rss>")


def farm_config(tmp_path, farm: Farm, database_url: str, *, interval: float, extra: str = "") -> str:
    """config.toml for the farm: every feed at `interval`, no jitter, alerts to alerts.jsonl."""
    rules = tmp_path / "rules"
    rules.mkdir(exist_ok=True)
    (rules / "anbar.toml").write_text(ANBAR, encoding="utf-8")
    feeds = "".join(f'[[feeds]]\nurl = "{farm.url(k)}"\nname = "Feed {k}"\n' for k in range(farm.feeds))
    path = tmp_path / "config.toml"
    path.write_text(f"""
[bot]
data_dir = "data"
database_url = "{database_url}"
[polling]
allow_private_networks = true
timeout = "10s"
interval = "{interval}s"
min_interval = "1s"
jitter = 0
tick = "1s"
concurrency = 4  # poll jobs of 12 feeds: jobs enough for both pollers to get some each cycle
[outputs]
console = false
jsonl = "alerts.jsonl"
{extra}
{feeds}""", encoding="utf-8")
    return str(path)


async def wirewatch(config: str, *args: str) -> asyncio.subprocess.Process:
    """`python -m bot run -c config args...` as a real process (its stderr kept for the report)."""
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", "-c", config, *args, cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)


async def until(check, what: str, timeout: float = 90.0, every: float = 0.2):
    """Wait for check() to be true (a wait, not a timed assertion: the timeout only ends a hung test)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := check():
            return found
        await asyncio.sleep(every)
    raise AssertionError(f"gave up waiting for {what}")


async def stop_all(*procs: asyncio.subprocess.Process) -> dict[int, str]:
    """SIGTERM each still running, then their stderr by pid."""
    out = {}
    for p in procs:
        if p.returncode is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            _, err = await asyncio.wait_for(p.communicate(), 60)
        except TimeoutError:
            p.kill()
            _, err = await p.communicate()
        out[p.pid] = (err or b"").decode(errors="replace")
    return out


def alert_titles(tmp_path) -> list[str]:
    """Titles alerted so far; the core may be appending a line as this reads: that one waits."""
    path = tmp_path / "alerts.jsonl"
    data = path.read_bytes() if path.exists() else b""
    lines = data[: data.rfind(b"\n") + 1].decode("utf-8").splitlines()
    return [a["title"] for a in map(json.loads, lines) if a["type"] == "alert"]
