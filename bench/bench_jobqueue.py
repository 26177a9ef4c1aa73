"""The pollers' job engine, measured before choosing: the cost of one job through each queue.

N no-op jobs shaped like the pollers' (args: a list of hosts and one of feed ids) are deferred in
one batch, then run by one worker in this process at concurrency 20 until the queue is empty;
wall seconds and this process's CPU (deferring + running) per job. procrastinate on the
PostgreSQL server given (default $WIREWATCH_TEST_POSTGRES); arq on a redis-server started here
when the `arq` package and the `redis-server` binary are present (Celery and Dramatiq also need
Redis or RabbitMQ: a broker wirewatch does not otherwise run; arq stands for that family).

    python bench/bench_jobqueue.py --jobs 2000
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_cycle import write_result  # noqa: E402


def args_of(i: int) -> dict:
    return {"hosts": [f"h{i}.example"], "feed_ids": list(range(i * 50, i * 50 + 50))}


async def procrastinate_run(url: str, jobs: int) -> dict:
    import procrastinate

    from bot.scale.engine import conninfo, ensure_schema

    ensure_schema(url)
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=conninfo(url), min_size=1, max_size=4))
    done = 0

    @app.task(name="noop", queue="bench")
    async def noop(hosts: list[str], feed_ids: list[int]) -> None:
        nonlocal done
        done += 1

    async with app.open_async():
        wall, cpu = time.monotonic(), time.process_time()
        await noop.batch_defer_async(*(args_of(i) for i in range(jobs)))
        deferred = time.monotonic() - wall
        await app.run_worker_async(queues=["bench"], concurrency=20, wait=False, install_signal_handlers=False,
                                   delete_jobs="successful")
        return result("procrastinate", jobs, done, wall, cpu, deferred)


async def arq_run(jobs: int) -> dict | None:
    try:
        from arq import create_pool
        from arq.connections import RedisSettings
        from arq.worker import Worker, func
    except ImportError:
        return None
    server = shutil.which("redis-server")
    if not server:
        return None
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with tempfile.TemporaryDirectory() as tmp:
        redis = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", tmp],
                                 stdout=subprocess.DEVNULL)
        try:
            await asyncio.sleep(0.5)
            settings = RedisSettings(port=port)
            done = 0

            async def noop(ctx, hosts, feed_ids) -> None:
                nonlocal done
                done += 1

            pool = await create_pool(settings)
            wall, cpu = time.monotonic(), time.process_time()
            for i in range(jobs):  # arq has no batch enqueue: one round trip per job
                await pool.enqueue_job("noop", **args_of(i))
            deferred = time.monotonic() - wall
            worker = Worker(functions=[func(noop, name="noop")], redis_settings=settings, burst=True, max_jobs=20, handle_signals=False,
                            poll_delay=0.05)
            await worker.async_run()
            await worker.close()
            await pool.aclose()
            return result("arq (redis)", jobs, done, wall, cpu, deferred)
        finally:
            redis.terminate()
            redis.wait(10)


def result(engine: str, jobs: int, done: int, wall: float, cpu: float, deferred: float) -> dict:
    wall, cpu = time.monotonic() - wall, time.process_time() - cpu
    return {"engine": engine, "jobs": jobs, "done": done, "defer_seconds": deferred, "seconds": wall,
            "jobs_per_second": jobs / wall, "cpu_ms_per_job": 1000 * cpu / jobs}


@contextlib.contextmanager
def schema(base: str):
    name = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{name}"'))
    try:
        sep = "&" if "?" in base else "?"
        yield f"{base}{sep}options={quote(f'-csearch_path={name}')}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
        admin.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=2000)
    ap.add_argument("--database-url", default=os.environ.get("WIREWATCH_TEST_POSTGRES", ""))
    args = ap.parse_args()
    if not args.database_url:
        sys.exit("needs PostgreSQL: --database-url or $WIREWATCH_TEST_POSTGRES (bash .ci/postgres DIR starts one)")
    rows = []
    with schema(args.database_url) as url:
        rows.append(asyncio.run(procrastinate_run(url, args.jobs)))
    found = asyncio.run(arq_run(args.jobs))
    rows += [found] if found else []
    print(f"{'engine':15} {'jobs':>6} {'defer s':>8} {'total s':>8} {'jobs/s':>8} {'CPU ms/job':>11}   load {os.getloadavg()[0]:.1f}")
    for r in rows:
        print(f"{r['engine']:15} {r['done']:6} {r['defer_seconds']:8.2f} {r['seconds']:8.2f} {r['jobs_per_second']:8.0f} "
              f"{r['cpu_ms_per_job']:11.2f}")
    if not found:
        print("arq: not measured (needs `pip install arq` and a redis-server binary)")
    write_result("jobqueue", args, {"rows": rows})


if __name__ == "__main__":
    main()
