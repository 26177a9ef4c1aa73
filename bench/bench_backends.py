"""A first cycle of ~4,000 new items on SQLite and on PostgreSQL: client CPU, server CPU and wall.

One loopback farm (bench/farm.py, its own process) of `--feeds` feeds with `--items` items each;
each backend gets a fresh database and runs the `run --once` path (App.start, App.cycle over
every feed, which delivers everything it queued). The backends alternate run by run. Client CPU
is time.process_time of this process for the cycle; server CPU is what the PostgreSQL server's
processes used (from /proc: the postmaster and its reaped children), 0 for SQLite.

    url=$(bash .ci/postgres /tmp/ww-pg)   # a throwaway server
    python bench/bench_backends.py --postgres "$url" --feeds 160 --items 25 --runs 2
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TICKS = os.sysconf("SC_CLK_TCK")


def server_cpu(pid: int | None) -> float:
    """CPU seconds of a PostgreSQL postmaster, its reaped children and its live ones."""
    if pid is None:
        return 0.0
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ppid, utime, stime, cutime, cstime = int(fields[1]), *map(int, fields[11:15])
        if int(entry.name) == pid:
            total += utime + stime + cutime + cstime
        elif ppid == pid:
            total += utime + stime
    return total / TICKS


def postmaster_pid(url: str) -> int | None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:  # the backend's parent, read while the backend lives
        backend = conn.execute(text("select pg_backend_pid()")).scalar()
        parent = int((Path("/proc") / str(backend) / "stat").read_text().rsplit(")", 1)[1].split()[1])
    engine.dispose()
    return parent


def fresh_postgres(url: str) -> str:
    """A new empty schema on the server, so each run starts from nothing."""
    from sqlalchemy import create_engine, text

    schema = f"bench_{uuid.uuid4().hex[:12]}"
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    return f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"


async def first_cycle(config: Path) -> dict:
    from bot.app import App
    from bot.runtime import load_runtime

    app = App(load_runtime(config))
    await app.start()
    cpu, wall = time.process_time(), time.perf_counter()
    report = await app.cycle(every_feed=True)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    counts = app.store.counts(app.clock())
    await app.stop()
    return {"cpu": cpu, "wall": wall, "new_items": sum(o.new_items for o in report.outcomes),
            "pending_after": counts["pending"]}


def one(kind: str, urls: list[str], pg_url: str, pg_pid: int | None) -> dict:
    from bench.workload import write_config

    with tempfile.TemporaryDirectory(prefix=f"wwbench-{kind}-") as tmp:
        url = fresh_postgres(pg_url) if kind == "postgresql" else ""
        config = write_config(Path(tmp), urls, database_url=url)
        before = server_cpu(pg_pid if kind == "postgresql" else None)
        out = asyncio.run(first_cycle(config))
        out["server_cpu"] = server_cpu(pg_pid if kind == "postgresql" else None) - before
        return out


def main() -> int:
    from bench.farm import FarmProcess, FarmSpec

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--postgres", required=True, help="postgresql+psycopg:// URL of a server to use")
    ap.add_argument("--feeds", type=int, default=160)
    ap.add_argument("--items", type=int, default=25)
    ap.add_argument("--runs", type=int, default=2)
    args = ap.parse_args()
    pid = postmaster_pid(args.postgres)
    results: dict[str, list[dict]] = {"sqlite": [], "postgresql": []}
    spec = FarmSpec(feeds=args.feeds, items=args.items, real=0.0, failing=0.0, slow=0.0)
    with FarmProcess(spec) as farm:
        for run in range(args.runs):
            for kind in (("sqlite", "postgresql") if run % 2 == 0 else ("postgresql", "sqlite")):
                results[kind].append(one(kind, farm.urls, args.postgres, pid))
                print(kind, json.dumps(results[kind][-1]), flush=True)
    for kind, runs in results.items():
        med = {k: statistics.median(r[k] for r in runs) for k in ("cpu", "server_cpu", "wall")}
        print(f"{kind:10s} items {runs[0]['new_items']:5d}  client CPU {med['cpu']:.2f}s  server CPU"
              f" {med['server_cpu']:.2f}s  wall {med['wall']:.2f}s  (median of {len(runs)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
