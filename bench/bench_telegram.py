"""Alerts delivered per second through the rate limiter, against the loopback Bot API server.

python-telegram-bot runs unmodified against tests/botapi.py with wirewatch's real limits
(30 msg/s overall, 1 msg/s per chat, 20/min per group). Also counts what a 429 storm loses
(it must be 0: every row sent exactly once, in order per chat).

    python bench/bench_telegram.py [--chats 60] [--alerts 5] [--storm 30] [--group]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.tg.limits import Limits  # noqa: E402
from tests.botapi import BotApiServer, too_many  # noqa: E402
from tests.feedserver import FeedServer  # noqa: E402
from tests.tg_harness import Clock, many, outbox, rss, start_app, write_config  # noqa: E402


async def scenario(chats: list[int], alerts: int, *, storm: int = 0) -> dict:
    """Queue `alerts` alerts for each chat, deliver them all; time, rate and losses."""
    with tempfile.TemporaryDirectory() as tmp:
        api, feeds = await BotApiServer().start(), await FeedServer().start()
        try:
            feeds.set("/wire.xml", rss("Wire", many(alerts)))
            tables = "".join(f'[[chats]]\nid = {c}\ntopics = ["anbar"]\n' for c in chats)
            path = write_config(Path(tmp), api, {feeds.url("/wire.xml"): "Wire"}, chats=tables)
            clock = Clock()
            app = await start_app(path, clock, Limits(max_retries=3))
            try:
                await app.pipeline.poll(app.store.feeds())  # queue only; delivery is timed below
                if storm:
                    api.fail("sendMessage", too_many(retry_after=1), times=storm)
                started = time.perf_counter()
                for _ in range(20):
                    await app.deliver()
                    if all(s == "sent" for c in chats for _, s, _ in outbox(app, f"tg:{c}")):
                        break
                    clock.advance(seconds=5)  # past any retry time the outbox set
                seconds = time.perf_counter() - started
                return _tally(app, api, chats, alerts, seconds)
            finally:
                await app.stop()
        finally:
            await feeds.stop()
            await api.stop()


def _tally(app, api: BotApiServer, chats: list[int], alerts: int, seconds: float) -> dict:
    expected = len(chats) * alerts
    lost = dupes = disorder = 0
    for chat in chats:
        rows = [title for title, _, _ in outbox(app, f"tg:{chat}")]
        got = [m.text.split("\n")[1] for m in api.messages(chat)]
        counts = Counter(got)
        lost += sum(1 for r in rows if counts[r] == 0)
        dupes += sum(n - 1 for n in counts.values() if n > 1)
        disorder += got != rows
    return {"alerts": expected, "seconds": seconds, "rate": expected / seconds, "lost": lost,
            "duplicates": dupes, "chats_out_of_order": disorder}


async def main(args: argparse.Namespace) -> None:
    logging.basicConfig(level=logging.ERROR)
    runs = [
        (f"{args.chats} private chats x {args.alerts}", [1000 + i for i in range(args.chats)], args.alerts, 0),
        (f"1 private chat x {args.alerts}", [1000], args.alerts, 0),
        (f"429 storm ({args.storm} x retry_after=1), 10 chats x {args.alerts}", [1000 + i for i in range(10)],
         args.alerts, args.storm),
    ]
    if args.group:
        runs.append(("1 group x 8 (20/min)", [-1001], 8, 0))
    print(f"{'scenario':<52} {'alerts':>6} {'seconds':>8} {'alerts/s':>9} {'lost':>5} {'dupes':>6} {'order':>6}")
    for name, chats, alerts, storm in runs:
        r = await scenario(chats, alerts, storm=storm)
        print(f"{name:<52} {r['alerts']:>6} {r['seconds']:>8.2f} {r['rate']:>9.1f} {r['lost']:>5} "
              f"{r['duplicates']:>6} {'ok' if not r['chats_out_of_order'] else 'BAD':>6}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=60)
    parser.add_argument("--alerts", type=int, default=5, help="alerts per chat (at most 8)")
    parser.add_argument("--storm", type=int, default=30, help="429 answers injected in the storm scenario")
    parser.add_argument("--group", action="store_true", help="also time one group at 20 messages/minute")
    asyncio.run(main(parser.parse_args()))
