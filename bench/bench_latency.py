"""Scenario 3: alert latency, from an item appearing on the farm to the Bot API receiving sendMessage.

`wirewatch run` (the real scheduler, in its own process) polls a loopback farm (bench/farm.py) at a
given interval and delivers through python-telegram-bot to the loopback Bot API server of
tests/botapi.py, here in the bench process, which timestamps every sendMessage. 50 group chats
follow 1-4 of 20 topics each. The farm's first items are older than the backfill window, so the
first cycle alerts nothing; then every --every seconds a share of the feeds gains items, and each
(item, chat) alert's latency is the time from the farm publishing the item to sendMessage.

With --sink jsonl there is no Telegram: latency runs to the alert line in the JSONL file (read
every 50 ms, so times are up to 50 ms late).

    python bench/bench_latency.py --feeds 1000 --interval 60 --rounds 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_cycle import write_result  # noqa: E402
from bench.farm import FarmProcess, FarmSpec  # noqa: E402
from bench.workload import CHATS, write_config  # noqa: E402

SERIAL = re.compile(r"/story-(\d+)")


class Deliveries:
    """Where alerts arrive: (receive time, chat, serial of the item linked)."""

    def __init__(self) -> None:
        self.seen: list[tuple[float, int | None, int]] = []

    def record(self, chat: int | None, text: str) -> None:
        found = SERIAL.search(text)
        if found:
            self.seen.append((time.time(), chat, int(found.group(1))))


def timed_bot_api(deliveries: Deliveries):
    """tests/botapi.py's server, timestamping each sendMessage."""
    from tests.botapi import BotApiServer

    class Timed(BotApiServer):
        def _m_sendMessage(self, params: dict) -> dict:
            deliveries.record(int(params["chat_id"]), str(params.get("text", "")))
            return super()._m_sendMessage(params)

    return Timed()


async def tail_jsonl(path: Path, deliveries: Deliveries, stop: asyncio.Event) -> None:
    """Read alert lines as they are written (every 50 ms)."""
    offset = 0
    while not stop.is_set():
        if path.exists():
            with path.open(encoding="utf-8") as f:
                f.seek(offset)
                for line in f:
                    alert = json.loads(line)
                    if alert.get("type", "alert") == "alert":
                        deliveries.record(None, str(alert.get("url") or ""))
                offset = f.tell()
        await asyncio.sleep(0.05)


def start_bot(workdir: Path, config: Path) -> subprocess.Popen:
    log = (workdir / "wirewatch.log").open("w")
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "bot", "run", "-c", str(config)], cwd=workdir, env=env,
                            stdout=log, stderr=subprocess.STDOUT)


async def wait_quiet(farm: FarmProcess, feeds: int, settle: float) -> None:
    """Until the first cycle fetched every feed, then `settle` seconds more."""
    total = 0
    while total < feeds:
        await asyncio.sleep(1)
        total += sum(farm.stats(reset=True).values())
    await asyncio.sleep(settle)


async def measure(args: argparse.Namespace, workdir: Path) -> dict:
    deliveries, stop = Deliveries(), asyncio.Event()
    api = tail = None
    spec = FarmSpec(feeds=args.feeds, seed=args.seed, backdate=30, slow=0.0, failing=0.0)
    with FarmProcess(spec) as farm:
        polling = {"interval": f"{args.interval}s", "min_interval": f"{min(args.interval, 120)}s"}
        if args.sink == "telegram":
            from tests.botapi import TOKEN

            api = await timed_bot_api(deliveries).start()
            for i in range(CHATS):
                api.group(-1001000000000 - i, f"Desk {i}", admins=[7])
            config = write_config(workdir, farm.urls, telegram=(TOKEN, api.base_url), polling=polling)
        else:
            config = write_config(workdir, farm.urls, polling=polling)
            tail = asyncio.create_task(tail_jsonl(workdir / "alerts.jsonl", deliveries, stop))
        bot = start_bot(workdir, config)
        try:
            await wait_quiet(farm, args.feeds, settle=args.interval / 2)
            deliveries.seen.clear()  # anything from the first cycle is not an appearance we timed
            appeared: dict[int, tuple[float, int, int]] = {}  # serial -> (time, feed, version)
            for _ in range(args.rounds):
                changed = await asyncio.to_thread(farm.advance, args.share, True)
                appeared |= {int(SERIAL.search(n["url"]).group(1)): (n["at"], n["feed"], n["version"])
                             for n in changed["new"]}
                await asyncio.sleep(args.every)
            await asyncio.sleep(args.interval * 1.2 + 15)  # the last items' polls and deliveries
            served = {(f, v): t for f, v, t in farm.served()}
        finally:
            bot.terminate()
            bot.wait(timeout=30)
            stop.set()
            if tail is not None:
                await tail
            if api is not None:
                await api.stop()
    return summarize(appeared, served, deliveries.seen, args)


def summarize(appeared: dict[int, tuple[float, int, int]], served: dict[tuple[int, int], float],
              seen: list[tuple[float, int | None, int]], args: argparse.Namespace) -> dict:
    """Latency per (item, chat) alert, split at the moment the farm first sent the changed feed:
    the wait for the poll, then wirewatch's own part (fetch, process, deliver)."""
    pairs = []
    for at, _chat, serial in seen:
        if serial in appeared:
            t0, feed, version = appeared[serial]
            fetched = next((served[(feed, v)] for v in range(version, version + 50) if (feed, v) in served), None)
            pairs.append((at - t0, None if fetched is None else at - fetched, serial))
    total = sorted(p[0] for p in pairs)
    own = sorted(p[1] for p in pairs if p[1] is not None)
    first = sorted(min(p[0] for p in pairs if p[2] == serial) for serial in {p[2] for p in pairs})
    return {
        "sink": args.sink, "feeds": args.feeds, "interval": args.interval, "chats": CHATS, "topics": 20,
        "items_appeared": len(appeared), "items_alerted": len(first), "alerts": len(total),
        "p50": _pct(total, 50), "p95": _pct(total, 95), "max": round(total[-1], 2) if total else None,
        "first_p50": _pct(first, 50), "first_p95": _pct(first, 95),
        "own_p50": _pct(own, 50), "own_p95": _pct(own, 95), "own_max": round(own[-1], 2) if own else None,
    }


def _pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    return round(statistics.quantiles(values, n=100, method="inclusive")[p - 1] if len(values) > 1 else values[0], 2)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--feeds", type=int, default=1000)
    ap.add_argument("--interval", type=float, default=60, help="poll interval of every feed, seconds")
    ap.add_argument("--rounds", type=int, default=10, help="times the farm publishes new items")
    ap.add_argument("--every", type=float, default=20, help="seconds between those times")
    ap.add_argument("--share", type=float, default=0.02, help="share of feeds gaining items each time")
    ap.add_argument("--sink", choices=["telegram", "jsonl"], default="telegram")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="wwbench-latency-") as tmp:
        result = asyncio.run(measure(args, Path(tmp)))
    target = args.interval + 2
    print(f"alert latency ({args.sink}), {args.feeds} feeds polled every {args.interval:g}s, {CHATS} chats, 20 topics")
    print(f"  {result['items_appeared']} items appeared, {result['items_alerted']} alerted, {result['alerts']} (item, chat) alerts")
    print(f"  appear -> sendMessage, per alert:  p50 {result['p50']} s  p95 {result['p95']} s  max {result['max']} s"
          f"   (target p95 < {target:g} s)")
    print(f"  appear -> sendMessage, per item:   p50 {result['first_p50']} s  p95 {result['first_p95']} s")
    print(f"  fetched -> sendMessage (wirewatch's part): p50 {result['own_p50']} s  p95 {result['own_p95']} s"
          f"  max {result['own_max']} s")
    write_result("latency", args, {"result": result})
    return 0


if __name__ == "__main__":
    sys.exit(main())
