"""One function per CLI command. Each returns an exit code; WirewatchError is mapped by cli.main.

The commands over Item JSONL (match, replay, eval, train) live in bot.itemcmds and are
re-exported here: cli.main looks every handler up on this module as cmd_<command>.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from bot.errors import ConfigError, WirewatchError
from bot.itemcmds import cmd_eval, cmd_match, cmd_replay, cmd_train
from bot.process import (
    EXIT_HELD,
    EXIT_INPUT,
    EXIT_OK,
    config_path,
    install_stop_signals,
    now_utc,
    setup_logging,
)
from bot.runtime import Runtime, load_runtime

__all__ = ["cmd_check", "cmd_demo", "cmd_eval", "cmd_feeds", "cmd_fetch", "cmd_match", "cmd_replay", "cmd_run",
           "cmd_train", "now_utc", "report", "role_problem", "summary"]


def cmd_check(args: argparse.Namespace) -> int:
    """Validate config and rules; print a summary, or every problem and exit 1."""
    from bot.preflight import run_problems
    from bot.tg.overview import stored_feed_problems

    path = config_path(args)
    try:
        rt = load_runtime(path)
        # what `run` would meet: literal private URLs (in config.toml or stored), unwritable outputs
        problems = run_problems(rt.config) + stored_feed_problems(rt)
    except ConfigError as exc:  # what did validate is checked too: every problem in one run
        problems = exc.problems + (run_problems(exc.partial) if exc.partial is not None else [])
    if problems:
        # each line names its file; the header must not pin them all on config.toml
        print(f"{len(problems)} problem(s):", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_INPUT
    text, readable = report(rt)
    print(text)
    return EXIT_OK if readable else EXIT_INPUT


def summary(rt: Runtime) -> str:
    """What `check` prints: the feeds, topics, chats and outputs a config amounts to."""
    return report(rt)[0]


def report(rt: Runtime) -> tuple[str, bool]:
    """The summary, and False when the store reported the database unreadable."""
    cfg = rt.config
    lines = [f"{cfg.path}: ok", f"database: {_redact(cfg.bot.database_url)}", f"feeds ({len(cfg.feeds)}):"]
    lines += [f"  {f.name or '(named by its <title>)'}  {f.url}" + ("  [full text]" if f.full_text else "") for f in cfg.feeds]
    if cfg.polling.full_text:
        lines.append("  feeds added by /addfeed: full text ([polling] full_text = true)")
    lines.append(f"topics ({len(rt.topics)}) from {cfg.bot.rules_dir}:")
    lines += [f"  {t.id}  {t.name}" + (f"  [classifier: {rt.matcher.status(t.id)}]" if t.classifier else "") for t in rt.topics.values()]
    lines.append(f"chats ({len(cfg.chats)}):")
    lines += [f"  {c.id} {c.name}: {', '.join(c.topics)} ({c.mode})" for c in cfg.chats]
    outputs = [name for name, on in (("console", cfg.outputs.console), (f"jsonl {cfg.outputs.jsonl}", cfg.outputs.jsonl)) if on]
    lines.append(f"outputs: {', '.join(outputs) or 'none'}; telegram: {'on' if cfg.telegram.token else 'off (no token)'}")
    from bot.tg.overview import stored_report

    stored, readable = stored_report(rt)  # feeds and chats changed by chat commands, if a database exists
    return "\n".join(lines + stored), readable


def _redact(url: str) -> str:
    """Hide a password in a database URL."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def cmd_run(args: argparse.Namespace) -> int:
    """Run the bot until stopped, or one cycle of every feed with --once."""
    rt = load_runtime(config_path(args))
    role = getattr(args, "role", "all")
    if problem := role_problem(rt, role, args.once):
        raise WirewatchError(problem)
    setup_logging(rt.config.bot.log_level)
    return asyncio.run(_run(rt, once=args.once, role=role))


def role_problem(rt: Runtime, role: str, once: bool) -> str | None:
    """Why this role cannot run with this config (None: it can)."""
    if role == "all":
        return None
    if rt.config.bot.database_url.startswith("sqlite"):
        return (f"--role {role} needs PostgreSQL: on SQLite (bot.database_url) wirewatch runs as one process, "
                "--role all (see README, Running on several machines)")
    if once:
        return "--once is one whole cycle in one process: use it with --role all"
    import importlib.util

    if role == "poller" and importlib.util.find_spec("procrastinate") is None:
        return "--role poller needs procrastinate, the pollers' job engine: pip install 'wirewatch[postgres]'"
    return None


async def _run(rt: Runtime, *, once: bool, role: str = "all") -> int:
    from bot.app import App

    if role == "poller":
        from bot.scale.poller import Poller

        app = Poller(rt)
    else:  # one instance per database; --once refuses too, it never waits; a second core stands by
        app = App(rt, exclusive=True, role=role)
    stop = asyncio.Event()
    if role == "core":  # a standby waits in start() for the lock: a stop signal ends the wait quietly
        install_stop_signals(stop)
        if not await _started_unless_stopped(app, stop):
            return EXIT_OK
    else:
        await app.start()
    try:
        if once:
            return await _once(app)
        install_stop_signals(stop)
        await app.run_forever(stop)
        return EXIT_OK
    finally:
        await app.stop(exiting=True)


async def _once(app) -> int:
    """run --once: one cycle of every feed and all its deliveries; EXIT_HELD when a full disk held
    work, so that cron (or whoever runs it) hears of it rather than reading "0 new" as a quiet hour."""
    from bot.failures import is_disk_full
    from bot.store.health import sqlite_file

    try:
        report = await app.cycle(every_feed=True)
    except Exception as exc:
        if not is_disk_full(exc):
            raise
        app.pipeline.disk.hold("delivery")  # a send could not be recorded: the row stays queued
        report = None
    app.check_token()
    if report is not None:
        await app.prune_old()  # after delivery: retention for installs that only run --once from cron
        outcomes = report.outcomes
        print(f"polled {len(outcomes)} feeds: {sum(o.new_items for o in outcomes)} new items, "
              f"{sum(o.alerts for o in outcomes)} alerts, {report.count('error')} failed"
              + (f", {held} held" if (held := report.count("held")) else ""), file=sys.stderr)
    if app.pipeline.disk.until is None:
        return EXIT_OK
    url = app.runtime.config.bot.database_url
    what = "polling" if report is not None else "delivery"
    print(f"wirewatch run: {what} held because the disk is full (database {sqlite_file(url) or _redact(url)}): "
          "nothing stored or queued is lost, the next run polls the feeds held; free space, then run again",
          file=sys.stderr)
    return EXIT_HELD


async def _started_unless_stopped(app, stop: asyncio.Event) -> bool:
    """app.start(), unless stop is set first (then False: the process ends, which frees what the
    start had taken)."""
    starting, stopping = asyncio.ensure_future(app.start()), asyncio.ensure_future(stop.wait())
    await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    if starting.done():
        starting.result()  # a failed start raises here
        return True
    starting.cancel()
    await asyncio.gather(starting, return_exceptions=True)
    return False


def cmd_demo(args: argparse.Namespace) -> int:
    """Serve the bundled sample feeds on loopback, run one cycle, print the alerts."""
    from bot.demo.run import run_demo

    setup_logging("WARNING")
    return asyncio.run(run_demo(jsonl=args.jsonl))


def cmd_fetch(args: argparse.Namespace) -> int:
    """One feed's items as Item JSONL, as the pipeline would store them."""
    from bot.config import load_config, parse_config
    from bot.fetchcmd import fetch_lines

    path = config_path(args)
    config = load_config(path) if args.config or path.exists() else parse_config({}, path)
    listed = next((f for f in config.feeds if f.url == args.source), None)
    if args.limit is not None and args.limit < 0:
        print("wirewatch fetch: --limit must be 0 or more", file=sys.stderr)
        return EXIT_INPUT
    full_text = listed.full_text if listed else config.polling.full_text
    for line in fetch_lines(args.source, config.polling, now_utc, name=listed.name if listed else "",
                            limit=args.limit, full_text=full_text):
        print(line)
    return EXIT_OK


def cmd_feeds(args: argparse.Namespace) -> int:
    """`feeds export`: OPML of every polled feed on stdout. `feeds import FILE [--dry-run]`.
    `feeds remove URL|ID`: a feed added by command stops being polled."""
    from bot.config import load_config

    config = load_config(config_path(args))
    if args.action == "import":
        return _import_feeds(config, args.file, args.dry_run)
    if args.action == "remove":
        return _remove_feed(config, args.feed)
    from bot.feedlist import export_opml

    store = _existing_store(config)
    try:
        sys.stdout.buffer.write(export_opml(config, store.feeds(active_only=True) if store else [], now_utc()))
        sys.stdout.flush()
    finally:
        if store is not None:
            store.close()
    return EXIT_OK


def _remove_feed(config, key: str) -> int:
    from bot.errors import InputError
    from bot.feedlist import remove_feed

    store = _existing_store(config)
    if store is None:
        raise InputError(f"no database at {config.bot.database_url} yet: no feed to remove")
    try:
        feed = remove_feed(store, config, key)
    finally:
        store.close()
    print(f"removed feed #{feed.id} {feed.name}  {feed.url} (its stored items stay)")
    return EXIT_OK


def _existing_store(config):
    """The database if it exists (export must not create one), else None."""
    from pathlib import Path

    from bot.store.db import Store

    url = config.bot.database_url
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return None
    return Store.open(url)


def _import_feeds(config, file: str, dry_run: bool) -> int:
    from pathlib import Path

    from bot.errors import InputError
    from bot.feedlist import apply_import, plan_import
    from bot.ingest.opml import read_opml
    from bot.store.db import Store

    try:
        data = Path(file).read_bytes()
    except OSError as exc:
        raise InputError(f"{file}: cannot read: {exc.strerror}") from None
    opml = read_opml(data, where=file)  # the whole file is checked before anything is stored
    store = _existing_store(config) if dry_run else Store.open(config.bot.database_url)
    try:
        plan = plan_import(opml, config, store.feeds(active_only=False) if store else [])
        if not dry_run:
            apply_import(store, plan, now_utc())
    finally:
        if store is not None:
            store.close()
    print("\n".join(plan.lines(applied=not dry_run)))
    if dry_run:
        print("dry run: nothing changed", file=sys.stderr)
    return EXIT_OK
