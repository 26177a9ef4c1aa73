"""Scenario 1: CPU and wall seconds per poll cycle of all N feeds, wirewatch vs lemon24/reader.

Both clients poll the same loopback farm (bench/farm.py, in its own process): a cold first cycle
(every body new), steady cycles where a share of the feeds gained items, and an idle cycle where
nothing changed. Each client runs in a process of its own and reports whole-process CPU
(time.process_time, all threads) and wall time per cycle; startup (interpreter, imports, opening
the database) is reported apart. wirewatch runs the `run --once` path: load_runtime, App.start,
App.cycle(every_feed=True); reader runs update_feeds_iter(scheduled=False, workers=W). The two
clients alternate within each run on fresh farms with the same seed, so each sees the same feeds
and the same changes, and the ratio is taken within a run.

    python bench/bench_cycle.py --feeds 1000 5000 --runs 3
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
PHASES = ("cold", "steady", "idle")


def _usage() -> dict:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"cpu": time.process_time(), "wall": time.perf_counter(), "rss_mb": round(rss, 1)}


def _emit(record: dict) -> None:
    print(json.dumps(record), flush=True)


# ---- clients (each in its own process; commands on stdin, one JSON line per answer) -----------


def client_wirewatch(args: argparse.Namespace) -> None:
    """The `wirewatch run --once` path, one cycle per `cycle` command."""
    import asyncio

    sys.path.insert(0, str(ROOT))
    from bot.alerts.outbox import drain
    from bot.app import App
    from bot.process import setup_logging
    from bot.runtime import load_runtime

    loop = asyncio.new_event_loop()
    rt = load_runtime(Path(args.config))
    setup_logging(rt.config.bot.log_level)
    app = App(rt)
    loop.run_until_complete(app.start())
    _emit({"ready": _usage()})
    for _ in iter(sys.stdin.readline, "quit\n"):
        before = _usage()
        report = loop.run_until_complete(app.cycle(every_feed=True))
        while loop.run_until_complete(drain(app.store, app.sinks, app.clock)):
            pass  # a cycle drains 500 outbox rows; the rest of what it queued is its cost too
        after = _usage()
        statuses = {s: report.count(s) for s in ("new", "unchanged", "not_modified", "error")}
        _emit({"cpu": after["cpu"] - before["cpu"], "wall": after["wall"] - before["wall"], "rss_mb": after["rss_mb"],
               "new_items": sum(o.new_items for o in report.outcomes), "feeds": statuses})
    loop.run_until_complete(app.stop())


def client_reader(args: argparse.Namespace) -> None:
    """lemon24/reader: update_feeds_iter(scheduled=False) over the same feeds."""
    import logging

    from reader import make_reader

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    reader = make_reader(str(Path(args.workdir) / "reader.sqlite"))
    for url in json.loads(Path(args.urls).read_text()):
        reader.add_feed(url)
    _emit({"ready": _usage()})
    for _ in iter(sys.stdin.readline, "quit\n"):
        before, new, kinds = _usage(), 0, {"new": 0, "not_modified": 0, "error": 0}
        for _url, value in reader.update_feeds_iter(scheduled=False, workers=args.workers):
            if isinstance(value, Exception):
                kinds["error"] += 1
            elif value is None:
                kinds["not_modified"] += 1
            else:
                kinds["new"] += 1
                new += value.new
        after = _usage()
        _emit({"cpu": after["cpu"] - before["cpu"], "wall": after["wall"] - before["wall"], "rss_mb": after["rss_mb"],
               "new_items": new, "feeds": kinds})
    reader.close()


# ---- orchestration ------------------------------------------------------------------------------


class Client:
    """A client process driven over stdin/stdout."""

    def __init__(self, kind: str, workdir: Path, urls: list[str], workers: int, profile: Path | None = None):
        from bench.workload import write_config

        urls_file = workdir / "urls.json"
        urls_file.write_text(json.dumps(urls))
        config = write_config(workdir, urls)
        cmd = [sys.executable, str(Path(__file__).resolve()), "--client", kind, "--workdir", str(workdir),
               "--urls", str(urls_file), "--config", str(config), "--workers", str(workers)]
        if profile:  # py-spy samples every thread, including parse threads cProfile would miss
            out = profile / f"{kind}-{len(urls)}-{time.strftime('%H%M%S')}.txt"
            cmd = ["py-spy", "record", "--format", "raw", "--rate", "50", "--output", str(out), "--", *cmd]
        self.log = (workdir / f"{kind}.log").open("w")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log, text=True,
                                     cwd=workdir)
        self.ready = self._read()["ready"]

    def _read(self) -> dict:
        line = self.proc.stdout.readline()
        while line and not line.startswith("{"):  # py-spy's own messages
            line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"client died; see {self.log.name}")
        return json.loads(line)

    def cycle(self) -> dict:
        self.proc.stdin.write("cycle\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self) -> None:
        self.proc.stdin.write("quit\n")
        self.proc.stdin.flush()
        self.proc.wait(timeout=120)
        self.log.close()


def one_run(kind: str, feeds: int, args: argparse.Namespace, seed: int) -> dict:
    """A fresh farm and a fresh client: cold, steady x S, idle."""
    from bench.farm import FarmProcess, FarmSpec

    with tempfile.TemporaryDirectory(prefix=f"wwbench-{kind}-") as tmp, FarmProcess(FarmSpec(feeds=feeds, seed=seed)) as farm:
        client = Client(kind, Path(tmp), farm.urls, args.workers, args.profile)
        out = {"startup": client.ready, "cold": client.cycle(), "steady": [], "farm": []}
        farm.stats(reset=True)
        for _ in range(args.steady):
            changed = farm.advance(args.share)
            out["steady"].append(client.cycle() | {"farm_items": changed["items"]})
        out["farm"].append(farm.stats(reset=True))
        farm.advance(0.0)
        out["idle"] = client.cycle()
        client.close()
        out["disk_mb"] = round(sum(f.stat().st_size for f in Path(tmp).rglob("*") if f.is_file()) / 1e6, 1)
    return out


def summarize(runs: list[dict[str, dict]]) -> dict:
    """Medians per client and phase, and reader/wirewatch ratios taken within each run."""
    def phase(run: dict, name: str, key: str) -> float:
        value = run[name]
        return statistics.median(c[key] for c in value) if isinstance(value, list) else value[key]

    out: dict = {}
    for kind in runs[0]:
        out[kind] = {f"{p}_{k}": statistics.median(phase(r[kind], p, k) for r in runs) for p in PHASES for k in ("cpu", "wall")}
        out[kind]["startup_cpu"] = statistics.median(r[kind]["startup"]["cpu"] for r in runs)
        out[kind]["rss_mb"] = max(r[kind]["idle"]["rss_mb"] for r in runs)
    if {"wirewatch", "reader"} <= set(runs[0]):
        out["ratio"] = {f"{p}_{k}": statistics.median(phase(r["reader"], p, k) / phase(r["wirewatch"], p, k) for r in runs)
                        for p in PHASES for k in ("cpu", "wall")}
    return out


def table(feeds: int, summary: dict) -> str:
    kinds = [k for k in ("wirewatch", "reader") if k in summary]
    head = f"N={feeds:,}  " + " | ".join(f"{k:>10}" for k in kinds) + (" |  ratio" if "ratio" in summary else "")
    rows = [head, "-" * len(head)]
    for p in PHASES:
        for k in ("cpu", "wall"):
            cells = " | ".join(f"{summary[c][f'{p}_{k}']:>9.2f}s" for c in kinds)
            ratio = f" | {summary['ratio'][f'{p}_{k}']:>5.1f}x" if "ratio" in summary else ""
            rows.append(f"{p + ' ' + k:<{len(f'N={feeds:,}  ')}}" + cells + ratio)
    rows.append(f"{'startup cpu':<{len(f'N={feeds:,}  ')}}" + " | ".join(f"{summary[c]['startup_cpu']:>9.2f}s" for c in kinds))
    rows.append(f"{'max rss':<{len(f'N={feeds:,}  ')}}" + " | ".join(f"{summary[c]['rss_mb']:>8.0f}MB" for c in kinds))
    if "wirewatch" in summary:
        per = summary["wirewatch"]["idle_cpu"] / feeds * 1000
        rows.append(f"wirewatch idle cycle: {per:.3f} ms CPU per unchanged feed (budget 0.5 ms)")
    return "\n".join(rows)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--feeds", type=int, nargs="+", default=[1000, 5000])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--steady", type=int, default=3, help="steady cycles per run")
    ap.add_argument("--share", type=float, default=0.1, help="share of feeds changed per steady cycle")
    ap.add_argument("--clients", nargs="+", default=["wirewatch", "reader"], choices=["wirewatch", "reader"])
    ap.add_argument("--workers", type=int, default=20, help="reader's update threads (wirewatch: concurrency 20)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--profile", type=Path, help="record each client with py-spy into this folder")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    report: dict = {"sizes": {}}
    for feeds in args.feeds:
        runs = []
        for r in range(args.runs):
            order = args.clients if r % 2 == 0 else args.clients[::-1]
            runs.append({kind: one_run(kind, feeds, args, args.seed) for kind in order})
            print(f"  N={feeds} run {r + 1}: " + ", ".join(
                f"{k} cold {v['cold']['cpu']:.1f}s steady {statistics.median(c['cpu'] for c in v['steady']):.2f}s "
                f"idle {v['idle']['cpu']:.2f}s" for k, v in runs[-1].items()), flush=True)
        summary = summarize(runs)
        report["sizes"][str(feeds)] = {"summary": summary, "runs": runs}
        print(table(feeds, summary), flush=True)
    write_result("cycle", args, report)
    return 0


def client_main() -> int:
    """Entry point of a client process (started by Client)."""
    ap = argparse.ArgumentParser()
    for name in ("--client", "--workdir", "--urls", "--config"):
        ap.add_argument(name)
    ap.add_argument("--workers", type=int, default=20)
    args = ap.parse_args()
    (client_wirewatch if args.client == "wirewatch" else client_reader)(args)
    return 0


def write_result(name: str, args: argparse.Namespace, result: dict) -> None:
    """bench/results/<name>-<time>.json: the date, the machine, the arguments and the result."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    head = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine(), "args": vars(args)}
    path.write_text(json.dumps(head | result, indent=1, default=str))
    print(f"wrote {path.relative_to(ROOT)}")


def machine() -> dict:
    return {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
            "cpu": _cpu_model(), "load": os.getloadavg()}


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


if __name__ == "__main__":
    sys.exit(client_main() if "--client" in sys.argv else main())
