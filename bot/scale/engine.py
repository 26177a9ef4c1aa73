"""The job engine of the pollers: procrastinate (PostgreSQL-native, asyncio; see docs/scale-out.md).

Four tasks, in the queue `wirewatch`:
- `dispatch`, periodic (every polling.tick; deferred once per tick across all pollers, as the
  engine's periodic jobs are unique per timestamp, and run one at a time by its `lock`): due feeds
  grouped by host, hosts packed into `poll` jobs of about BATCH feeds. A host goes whole into one
  job, and never into a new job while a job holding it waits or runs: one poller at a time fetches
  a host, so the per-host limit of [polling] holds across pollers.
- `poll(hosts, feed_ids)`: the job's feeds that are still due are claimed (leased: bot.store.handover),
  fetched, parsed and handed over. A job costs the engine ~3 ms of CPU (bench/bench_jobqueue.py),
  six times a 304's; one job per ~50 feeds makes that noise.
- `recover`, periodic: the jobs of pollers that stopped sending heartbeats (killed, cut off) are
  failed, which frees their hosts; their feeds were leased, and are due again one interval after
  they were claimed.
- `cleanup`, hourly: finished jobs older than an hour are deleted (the jobs hold no state).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import procrastinate
from procrastinate.jobs import Status
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.store.lock import setup_transaction

log = logging.getLogger(__name__)
QUEUE = "wirewatch"
POLL = "wirewatch.poll"
BATCH = 50  # feeds per poll job (a host with more goes whole into one job) ...


def batch_size(concurrency: int) -> int:
    """... or three times what the fetcher runs at once when that is less: jobs enough to share."""
    return max(1, min(BATCH, 3 * concurrency))


def conninfo(database_url: str) -> str:
    """libpq's form of the SQLAlchemy URL (postgresql+psycopg://... -> postgresql://...)."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


def every(seconds: float) -> str:
    """A cron (seconds last, as croniter reads six fields) firing about every `seconds`."""
    step = max(1, min(59, round(seconds)))
    return f"* * * * * */{step}"


def ensure_schema(database_url: str) -> None:
    """The engine's tables, created once (under wirewatch's setup lock: two pollers start at once)."""
    engine = create_engine(database_url)
    try:
        with setup_transaction(engine) as conn:
            if conn.execute(text("SELECT to_regclass('procrastinate_jobs')")).scalar() is None:
                from procrastinate.schema import SchemaManager

                conn.exec_driver_sql(SchemaManager.get_schema().replace("%", "%%"))
    finally:
        engine.dispose()


def build_engine(database_url: str, *, tick: float, dispatch: Callable[[], Awaitable[int]],
                 poll: Callable[[list[int]], Awaitable[None]], recover_after: float) -> procrastinate.App:
    """The procrastinate app whose tasks call the poller's dispatch and poll."""
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(
        conninfo=conninfo(database_url), min_size=1, max_size=4))

    @app.periodic(cron=every(tick), periodic_id="dispatch")
    @app.task(name="wirewatch.dispatch", queue=QUEUE, lock="wirewatch.dispatch")
    async def dispatch_task(timestamp: int) -> None:
        await dispatch()

    @app.task(name=POLL, queue=QUEUE)
    async def poll_task(hosts: list[str], feed_ids: list[int]) -> None:  # hosts: what dispatch reads back
        await poll(feed_ids)

    @app.periodic(cron=every(max(1.0, recover_after / 3)), periodic_id="recover")
    @app.task(name="wirewatch.recover", queue=QUEUE)  # no lock: one left by a dead poller would block it
    async def recover_task(timestamp: int) -> None:
        await recover(app, recover_after)

    @app.periodic(cron="0 * * * *", periodic_id="cleanup")
    @app.task(name="wirewatch.cleanup", queue=QUEUE, lock="wirewatch.cleanup")
    async def cleanup_task(timestamp: int) -> None:
        """Finished jobs older than an hour: the table stays small (the schedule is in feeds)."""
        await app.job_manager.delete_old_jobs(nb_hours=1, queue=QUEUE, include_failed=True)

    return app


async def recover(app: procrastinate.App, after: float) -> int:
    """Fail the running jobs of workers silent for `after` seconds; how many."""
    stalled = list(await app.job_manager.get_stalled_jobs(queue=QUEUE, seconds_since_heartbeat=after))
    for job in stalled:
        log.warning("poller job %s (%s) was left by a poller that stopped; its feeds come due again", job.id,
                    job.task_name)
        try:
            await app.job_manager.finish_job(job, status=Status.FAILED, delete_job=False)
        except Exception as exc:  # noqa: BLE001 - another poller's recover finished it first
            log.info("job %s not failed here: %s", job.id, exc)
    return len(stalled)


async def busy_hosts(app: procrastinate.App) -> set[str]:
    """Hosts in a poll job that waits or runs."""
    rows = await app.connector.execute_query_all_async(
        "SELECT args FROM procrastinate_jobs WHERE task_name = %(task)s AND status IN ('todo', 'doing')", task=POLL)
    return {h for r in rows for h in r["args"].get("hosts", ())}


def pack(due: dict[str, list[int]], busy: set[str], size: int = BATCH) -> list[dict]:
    """Hosts not busy, packed whole into jobs of about `size` feeds (in the order given: oldest due first)."""
    jobs, hosts, ids = [], [], []
    for host, feeds in due.items():
        if host in busy:
            continue
        hosts.append(host)
        ids += feeds
        if len(ids) >= size:
            jobs.append({"hosts": hosts, "feed_ids": ids})
            hosts, ids = [], []
    if ids:
        jobs.append({"hosts": hosts, "feed_ids": ids})
    return jobs


async def defer_hosts(app: procrastinate.App, due: dict[str, list[int]], size: int = BATCH) -> int:
    """Poll jobs for the due feeds of hosts not busy; how many jobs."""
    jobs = pack(due, await busy_hosts(app), size)
    if jobs:
        await app.tasks[POLL].batch_defer_async(*jobs)
    return len(jobs)
