"""One function per CLI command. Each returns an exit code; WirewatchError is mapped by cli.main."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import UTC, datetime

from bot.errors import ConfigError, WirewatchError
from bot.process import EXIT_INPUT, EXIT_OK, config_path, install_stop_signals, setup_logging
from bot.runtime import Runtime, load_runtime


def cmd_check(args: argparse.Namespace) -> int:
    """Validate config and rules; print a summary, or every problem and exit 1."""
    from bot.preflight import run_problems

    path = config_path(args)
    try:
        rt = load_runtime(path)
        problems = run_problems(rt.config)  # what `run` would meet: literal private URLs, unwritable outputs
    except ConfigError as exc:
        problems = exc.problems
    if problems:
        print(f"{path}: {len(problems)} problem(s)", file=sys.stderr)
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
            report = await app.cycle(every_feed=True)
            app.check_token()
            await app.prune_old()  # after delivery: retention for installs that only run --once from cron
            failed = report.count("error")
            print(f"polled {len(report.outcomes)} feeds: {sum(o.new_items for o in report.outcomes)} new items, "
                  f"{sum(o.alerts for o in report.outcomes)} alerts, {failed} failed", file=sys.stderr)
            return EXIT_OK
        install_stop_signals(stop)
        await app.run_forever(stop)
        return EXIT_OK
    finally:
        await app.stop(exiting=True)


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


def cmd_match(args: argparse.Namespace) -> int:
    """Which topics match a text (human output) or JSONL items (JSONL output)."""
    from bot.items_jsonl import item_from_text

    rt = load_runtime(config_path(args), telegram=False)
    if args.text is not None:
        found = rt.matcher.match(item_from_text(args.text))
        for m in found:
            print(f"{m.topic}\t{m.score:.2f}\t{' '.join(m.why)}")
        if not found:
            print("no topic matches", file=sys.stderr)
        return EXIT_OK
    for record in _read_all(args.input):  # every line validated before anything is printed
        found = rt.matcher.match(record.item)
        line = {"id": record.id, "topics": [{"topic": m.topic, "score": round(m.score, 4), "why": list(m.why)} for m in found]}
        print(json.dumps(line, ensure_ascii=False))
    return EXIT_OK


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


def now_utc() -> datetime:
    return datetime.now(UTC)


def cmd_replay(args: argparse.Namespace) -> int:
    """Items in published order through match + clustering; one decision line per item."""
    from bot.replay import replay_lines
    from bot.stories.cluster import StoryClusterer

    rt = load_runtime(config_path(args), telegram=False)
    records = _read_all(args.input)  # every line validated before anything is written
    lines = replay_lines(records, rt.matcher, StoryClusterer(rt.config.stories))
    _write_lines(lines, args.output)
    return EXIT_OK


def cmd_eval(args: argparse.Namespace) -> int:
    """Score clustering against gold stories in the input (or topics against gold labels)."""
    from bot.errors import InputError
    from bot.stories.evaluate import eval_clusters, eval_orders

    if args.what == "topics":
        return _eval_topics(args)
    rt = load_runtime(config_path(args), telegram=False)
    records = _read_all(args.input)
    missing = next((r for r in records if r.story is None), None)
    if missing:
        raise InputError(f"{args.input}: item {missing.id} has no 'story' (gold story id) to score against")
    items, gold = [r.item for r in records], [r.story for r in records]
    if args.orders < 0:
        raise InputError(f"--orders must be 1 or more, not {args.orders}")
    if args.orders or args.retime:
        print(eval_orders(items, gold, rt.config.stories, args.orders or 1, args.seed, args.retime).format_text())
    else:
        print(eval_clusters(items, gold, rt.config.stories).format_text())
    return EXIT_OK


def _eval_topics(args: argparse.Namespace) -> int:
    """Per topic P/R/F1 of rules, classifier and their combination, at one or several N."""
    from bot.errors import InputError
    from bot.match.evaluate import CURVE, eval_topics, format_report
    from bot.match.training import topic_for_label

    rt = load_runtime(config_path(args), telegram=False)
    records = _read_all(args.input)
    topics = list(rt.topics.values())
    unknown = {n for r in records for n in r.labels if topic_for_label(n, topics) is None}
    if len(unknown) == len({n for r in records for n in r.labels}):
        raise InputError(f"{args.input}: no label names a topic of {rt.config.bot.rules_dir} "
                         f"(labels: {', '.join(sorted(unknown)[:8]) or 'none'})")
    sizes = [n for n in CURVE if n < len(records)] if args.curve else [args.train_size]
    if not sizes or sizes[0] < 1 or sizes[0] >= len(records):
        raise InputError(f"--train-size must be from 1 to {len(records) - 1} for {len(records)} items")
    results = [row for n in sizes for row in eval_topics(records, topics, n, args.seed)]
    print(format_report(results, sorted(unknown)))
    return EXIT_OK


def cmd_train(args: argparse.Namespace) -> int:
    """Store the labelled items of --input as labels, then retrain every topic classifier."""
    from bot.match.labels import add_file_labels
    from bot.match.retrain import Retrainer
    from bot.match.training import records_to_labels
    from bot.store.db import Store

    rt = load_runtime(config_path(args), telegram=False)
    records = _read_all(args.input)  # every line validated before anything is stored
    topics = list(rt.topics.values())
    rows, unknown = records_to_labels(records, topics)
    if unknown:
        print(f"labels with no rule file, ignored: {', '.join(sorted(unknown))}", file=sys.stderr)
    if not any(t.classifier for t in topics):
        print("no topic has a [classifier] section: nothing to train", file=sys.stderr)
        return EXIT_OK
    store = Store.open(rt.config.bot.database_url)
    try:
        added, changed = add_file_labels(store, rows, now_utc())
        print(f"{args.input}: {len(records)} items, {added} labels added, {changed} changed")
        retrainer = Retrainer(store, rt.config.bot.data_dir, rt.config.classifier, now_utc)
        result = retrainer.run([t for t in topics if t.classifier], rt.matcher.models)
    finally:
        store.close()
    for topic in topics:
        if topic.classifier:
            print(f"  {topic.id}: {result.notes.get(topic.id, '-')}")
    return EXIT_OK


def _read_all(path: str) -> list:
    from bot.items_jsonl import read_items

    return list(read_items(path))


def _write_lines(lines, output: str | None) -> None:
    """JSON lines to stdout, or to a file replaced whole (never half-written)."""
    from pathlib import Path

    if output is None:
        for line in lines:
            print(json.dumps(line, ensure_ascii=False))
        return
    target = Path(output)
    tmp = target.with_name(f".{target.name}.tmp")
    with tmp.open("w", encoding="utf-8") as f:
        for line in lines:
            f.write(json.dumps(line, ensure_ascii=False) + "\n")
    tmp.replace(target)


def cmd_feeds(args: argparse.Namespace) -> int:
    """`feeds export`: OPML of every polled feed on stdout. `feeds import FILE [--dry-run]`."""
    from bot.config import load_config

    config = load_config(config_path(args))
    if args.action == "import":
        return _import_feeds(config, args.file, args.dry_run)
    from bot.feedlist import export_opml

    store = _existing_store(config)
    try:
        sys.stdout.buffer.write(export_opml(config, store.feeds(active_only=True) if store else [], now_utc()))
        sys.stdout.flush()
    finally:
        if store is not None:
            store.close()
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
