"""Scale-out: one poller against two over the loopback farm, on PostgreSQL; the core's CPU per new item.

Real processes (`wirewatch run --role poller|core`), the farm of farm.py in its own process, a
fresh schema on the PostgreSQL server given (default $WIREWATCH_TEST_POSTGRES; `.ci/postgres DIR`
starts one). Feeds have a long interval, so a cycle happens only when the bench makes every feed
due at once (next_check_at = now); it ends when every feed was checked again and the core's
hand-over is empty. The cold cycle (every feed's first fetch: parsed, every item handed over and
stored, silently: the farm's items are backdated past the backfill) runs with two pollers; then
steady cycles (--change of the feeds gain 1-3 items, the rest answer 304) alternate one poller
and two. CPU is each process's with its children (psutil), read before and after a cycle; the
feeds a poller fetched come from its own /metrics (wirewatch_fetches_total).

    python bench/bench_scaleout.py --feeds 20000 --rounds 2
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import psutil
from sqlalchemy import create_engine, func, select, text, update

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_cycle import write_result  # noqa: E402
from bench.farm import FarmProcess, FarmSpec  # noqa: E402
from bench.workload import write_config  # noqa: E402
from bot.store import schema as t  # noqa: E402


def cpu(proc: psutil.Process) -> float:
    """User + system seconds of a process and its children (the parse workers)."""
    total = 0.0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            times = p.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            continue
    return total


def fetched(port: int) -> int:
    """Feeds this poller fetched since it started, from its /metrics."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        lines = r.read().decode().splitlines()
    return int(sum(float(line.split()[-1]) for line in lines if line.startswith("wirewatch_fetches_total{")))


class Cluster:
    """The core and the pollers as processes, one config each (they differ only in metrics.listen)."""

    def __init__(self, workdir: Path, urls: list[str], url: str):
        self.workdir, self.urls, self.url = workdir, urls, url
        self.procs: dict[str, tuple[subprocess.Popen, psutil.Process, int]] = {}

    def start(self, name: str, role: str, port: int) -> None:
        home = self.workdir / name
        home.mkdir(exist_ok=True)
        path = write_config(home, self.urls, database_url=self.url, polling={
            "interval": "24h", "max_interval": "24h", "tick": "1s", "timeout": "20s"})
        path.write_text(path.read_text() + f'[metrics]\nlisten = "127.0.0.1:{port}"\n')
        text_ = path.read_text().replace(f'data_dir = "{home / "data"}"', f'data_dir = "{self.workdir / "data"}"')
        path.write_text(text_)
        log = open(home / "stderr.log", "wb")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen([sys.executable, "-m", "bot", "run", "--role", role, "-c", str(path)], cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=log)
        self.procs[name] = (proc, psutil.Process(proc.pid), port)
        for _ in range(600):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
                return
            except OSError:
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} exited {proc.returncode}: see {home / 'stderr.log'}") from None
                time.sleep(0.2)
        raise RuntimeError(f"{name} did not start")

    def stop(self, name: str) -> None:
        proc, _, _ = self.procs.pop(name)
        proc.terminate()
        proc.wait(60)

    def cpu(self) -> dict[str, float]:
        return {name: cpu(p) for name, (_, p, _) in self.procs.items()}

    def fetched(self) -> dict[str, int]:
        return {name: fetched(port) for name, (_, _, port) in self.procs.items() if name.startswith("poller")}


def cycle(cluster: Cluster, engine, feeds: int) -> dict:
    """Every feed due now; wait until all were checked and the hand-over is empty."""
    with engine.begin() as conn:
        items_before = conn.execute(select(func.count()).select_from(t.items)).scalar()
        start = datetime.now(UTC)
    cpu0, fetched0, wall0 = cluster.cpu(), cluster.fetched(), time.monotonic()
    with engine.begin() as conn:
        conn.execute(update(t.feeds).values(next_check_at=t.feeds.c.created_at))  # long past: due
    polled_at = None
    while True:
        time.sleep(0.5)
        with engine.connect() as conn:
            left = conn.execute(select(func.count()).select_from(t.feeds).where(
                (t.feeds.c.last_checked_at.is_(None)) | (t.feeds.c.last_checked_at < start))).scalar()
            waiting = conn.execute(select(func.count()).select_from(t.handover).where(t.handover.c.status == "pending")).scalar()
        if not left and polled_at is None:
            polled_at = time.monotonic()
        if not left and not waiting:
            break
    wall, cpu1, fetched1 = time.monotonic() - wall0, cluster.cpu(), cluster.fetched()
    with engine.connect() as conn:
        new_items = conn.execute(select(func.count()).select_from(t.items)).scalar() - items_before
    used = {n: cpu1[n] - cpu0.get(n, 0.0) for n in cpu1}
    got = {n: fetched1[n] - fetched0.get(n, 0) for n in fetched1}
    return {"feeds": feeds, "poll_seconds": polled_at - wall0, "seconds": wall, "new_items": new_items,
            "feeds_per_second": feeds / (polled_at - wall0), "fetched": got,
            "poller_cpu_ms_per_feed": {n: 1000 * used[n] / got[n] for n in got if got[n]},
            "poller_cpu_seconds": {n: used[n] for n in got},
            "core_cpu_seconds": used["core"],
            "core_cpu_ms_per_item": 1000 * used["core"] / new_items if new_items else None}


def fresh_schema(base: str) -> tuple[str, str]:
    name = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{name}"'))
    admin.dispose()
    sep = "&" if "?" in base else "?"
    return name, f"{base}{sep}options={quote(f'-csearch_path={name}')}"


def show(label: str, r: dict) -> None:
    per = ", ".join(f"{n} {r['fetched'][n]} feeds {ms:.2f} ms/feed" for n, ms in sorted(r["poller_cpu_ms_per_feed"].items()))
    core = f"{r['core_cpu_ms_per_item']:.2f} ms/item" if r["core_cpu_ms_per_item"] else "-"
    print(f"{label:14} {r['feeds_per_second']:8.0f} feeds/s  poll {r['poll_seconds']:6.1f}s  "
          f"new items {r['new_items']:6}  core {r['core_cpu_seconds']:6.1f}s CPU ({core})  | {per}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--feeds", type=int, default=20000)
    ap.add_argument("--rounds", type=int, default=2, help="steady cycles per setup (1 poller, 2 pollers)")
    ap.add_argument("--change", type=float, default=0.02, help="share of the feeds that change per steady cycle")
    ap.add_argument("--items", type=int, default=5, help="items in a generated feed")
    ap.add_argument("--database-url", default=os.environ.get("WIREWATCH_TEST_POSTGRES", ""))
    args = ap.parse_args()
    if not args.database_url:
        sys.exit("needs PostgreSQL: --database-url or $WIREWATCH_TEST_POSTGRES (bash .ci/postgres DIR starts one)")
    schema, url = fresh_schema(args.database_url)
    spec = FarmSpec(feeds=args.feeds, items=args.items, real=0.0, backdate=30.0)  # a silent cold cycle
    results: dict[str, list[dict]] = {"cold": [], "1 poller": [], "2 pollers": []}
    with tempfile.TemporaryDirectory() as tmp, FarmProcess(spec) as farm:
        cluster = Cluster(Path(tmp), farm.urls, url)
        engine = create_engine(url)
        cluster.start("core", "core", 19201)
        cluster.start("poller1", "poller", 19202)
        cluster.start("poller2", "poller", 19203)
        try:
            results["cold"].append(r := cycle(cluster, engine, args.feeds))
            show("cold, 2", r)
            for _ in range(args.rounds):
                for setup in ("1 poller", "2 pollers"):
                    if setup == "1 poller":
                        cluster.stop("poller2")
                    else:
                        cluster.start("poller2", "poller", 19203)
                    farm.advance(args.change)
                    results[setup].append(r := cycle(cluster, engine, args.feeds))
                    show(f"steady, {setup[0]}", r)
        finally:
            for name in list(cluster.procs):
                cluster.stop(name)
            engine.dispose()
            admin = create_engine(args.database_url)
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()
    summary = {k: {"feeds_per_second": statistics.median(r["feeds_per_second"] for r in v),
                   "poller_cpu_ms_per_feed": statistics.median(
                       ms for r in v for ms in r["poller_cpu_ms_per_feed"].values()),
                   "core_cpu_ms_per_item": statistics.median(
                       [r["core_cpu_ms_per_item"] for r in v if r["core_cpu_ms_per_item"]] or [0.0])}
               for k, v in results.items() if v}
    print(f"\nmedians, load {os.getloadavg()[0]:.1f}:")
    for k, s in summary.items():
        print(f"  {k:10} {s['feeds_per_second']:8.0f} feeds/s  {s['poller_cpu_ms_per_feed']:.2f} ms CPU/feed/poller  "
              f"core {s['core_cpu_ms_per_item']:.2f} ms CPU/new item")
    write_result("scaleout", args, {"runs": results, "summary": summary})


if __name__ == "__main__":
    main()
