"""Scenario 1b: whole-process CPU per poll cycle, `wirewatch run --once` against reader.

What a user runs from cron: every cycle is a new process, so start-up (interpreter, imports,
opening and checking the database, syncing config.toml, restoring the story window) and shutdown
count. Both clients poll the same loopback farm (bench/farm.py, its own process); each cycle of
each client is one child process, and its CPU (user + system, all threads) comes from the OS
(os.wait4). The clients alternate within a run on farms with the same seed; the ratio is taken
within the run. wirewatch's bytecode is compiled first, as pip compiles it on install.

Phases: a cold first cycle, steady cycles with --share of the feeds changed, an idle cycle. Two
windows: `fresh` (the stored items are inside the 48 h story window, so every start restores
it) and `old` (a story window of one second: the stored items are older, nothing to restore).

    python bench/bench_process.py --feeds 2000 --steady 3 --windows fresh old
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_cycle import machine, write_result  # noqa: E402

WINDOWS = {"fresh": "48h", "old": "1s"}
READER_ONCE = """
import json, sys
from reader import make_reader
db, urls = sys.argv[1], sys.argv[2]
reader = make_reader(db)
if urls != "-":
    for url in json.loads(open(urls).read()):
        reader.add_feed(url, exist_ok=True)
new = sum(v.new for _, v in reader.update_feeds_iter(scheduled=False, workers=20)
          if v is not None and not isinstance(v, Exception))
reader.close()
print(new)
"""


def _child_cpu(cmd: list[str], cwd: Path) -> dict:
    """Run cmd to its end; its CPU seconds (user + system) from the kernel, and its wall time."""
    started = time.perf_counter()
    env = os.environ | {"PYTHONPATH": str(ROOT)}  # the tree this script is in, not the installed one
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    out, err = proc.stdout.read().decode(), proc.stderr.read().decode()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[:4]} exited {proc.returncode}: {err[-2000:]}")
    return {"cpu": usage.ru_utime + usage.ru_stime, "wall": wall, "rss_mb": usage.ru_maxrss / 1024,
            "out": out.strip()[-200:]}


class WirewatchOnce:
    def __init__(self, workdir: Path, urls: list[str], window: str):
        from bench.workload import write_config

        self.workdir = workdir
        self.config = write_config(workdir, urls)
        with self.config.open("a", encoding="utf-8") as f:
            f.write(f'[stories]\nwindow = "{window}"\n')

    def cycle(self) -> dict:
        return _child_cpu([sys.executable, "-m", "bot", "run", "--once", "--config", str(self.config)],
                          self.workdir)


class ReaderOnce:
    def __init__(self, workdir: Path, urls: list[str], window: str):
        self.workdir, self.db = workdir, str(workdir / "reader.sqlite")
        self.urls = workdir / "urls.json"
        self.urls.write_text(json.dumps(urls))
        self.first = True

    def cycle(self) -> dict:
        urls, self.first = (str(self.urls) if self.first else "-"), False  # adding feeds: the first run's cost
        return _child_cpu([sys.executable, "-c", READER_ONCE, self.db, urls], self.workdir)


CLIENTS = {"wirewatch": WirewatchOnce, "reader": ReaderOnce}


def one_run(kind: str, window: str, args: argparse.Namespace) -> dict:
    from bench.farm import FarmProcess, FarmSpec

    with tempfile.TemporaryDirectory(prefix=f"wwproc-{kind}-") as tmp, \
            FarmProcess(FarmSpec(feeds=args.feeds, seed=args.seed)) as farm:
        client = CLIENTS[kind](Path(tmp), farm.urls, WINDOWS[window])
        out = {"cold": client.cycle(), "steady": []}
        for _ in range(args.steady):
            farm.advance(args.share)
            out["steady"].append(client.cycle())
        farm.advance(0.0)
        out["idle"] = client.cycle()
    return out


def _phase(run: dict, name: str) -> float:
    value = run[name]
    return statistics.median(c["cpu"] for c in value) if isinstance(value, list) else value["cpu"]


def report(feeds: int, window: str, runs: dict[str, dict]) -> list[str]:
    rows = []
    for phase in ("cold", "steady", "idle"):
        ww, rd = _phase(runs["wirewatch"], phase), _phase(runs["reader"], phase)
        rows.append(f"| {feeds:,} | {window} | {phase} | {ww:.2f} | {rd:.2f} | {rd / ww:.1f}x |")
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--feeds", type=int, default=2000)
    ap.add_argument("--steady", type=int, default=3)
    ap.add_argument("--share", type=float, default=0.1)
    ap.add_argument("--windows", nargs="+", default=["fresh", "old"], choices=list(WINDOWS))
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    compileall.compile_dir(ROOT / "bot", quiet=1)  # as pip does on install: users' runs read bytecode
    result, rows = {"machine": machine(), "windows": {}}, []
    for window in args.windows:
        runs = {kind: one_run(kind, window, args) for kind in ("wirewatch", "reader")}
        result["windows"][window] = runs
        rows += report(args.feeds, window, runs)
        print("\n".join(rows[-3:]), flush=True)
    print("| feeds | window | cycle | wirewatch CPU s | reader CPU s | reader / wirewatch |")
    print("| --- | --- | --- | --- | --- | --- |")
    print("\n".join(rows))
    write_result("process", args, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
