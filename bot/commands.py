"""One function per CLI command. Each returns an exit code; WirewatchError is mapped by cli.main."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import UTC, datetime

from bot.cli import EXIT_INPUT, EXIT_OK, config_path, install_stop_signals, setup_logging
from bot.errors import ConfigError
from bot.runtime import Runtime, load_runtime


def cmd_check(args: argparse.Namespace) -> int:
    """Validate config and rules; print a summary, or every problem and exit 1."""
    path = config_path(args)
    try:
        rt = load_runtime(path)
    except ConfigError as exc:
        print(f"{path}: {len(exc.problems)} problem(s)", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_INPUT
    print(summary(rt))
    return EXIT_OK


def summary(rt: Runtime) -> str:
    """What `check` prints: the feeds, topics, chats and outputs a config amounts to."""
    cfg = rt.config
    lines = [f"{cfg.path}: ok", f"database: {_redact(cfg.bot.database_url)}", f"feeds ({len(cfg.feeds)}):"]
    lines += [f"  {f.name}  {f.url}" for f in cfg.feeds]
    lines.append(f"topics ({len(rt.topics)}) from {cfg.bot.rules_dir}:")
    lines += [f"  {t.id}  {t.name}" + (f"  [classifier: {t.classifier.mode}]" if t.classifier else "") for t in rt.topics.values()]
    lines.append(f"chats ({len(cfg.chats)}):")
    lines += [f"  {c.id} {c.name}: {', '.join(c.topics)} ({c.mode})" for c in cfg.chats]
    outputs = [name for name, on in (("console", cfg.outputs.console), (f"jsonl {cfg.outputs.jsonl}", cfg.outputs.jsonl)) if on]
    lines.append(f"outputs: {', '.join(outputs) or 'none'}; telegram: {'on' if cfg.telegram.token else 'off (no token)'}")
    from bot.tg.overview import stored_lines

    lines += stored_lines(rt)  # feeds and chats changed by chat commands, if a database exists
    return "\n".join(lines)


def _redact(url: str) -> str:
    """Hide a password in a database URL."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def cmd_run(args: argparse.Namespace) -> int:
    """Run the bot until stopped, or one cycle of every feed with --once."""
    rt = load_runtime(config_path(args))
    setup_logging(rt.config.bot.log_level)
    return asyncio.run(_run(rt, once=args.once))


async def _run(rt: Runtime, *, once: bool) -> int:
    from bot.app import App

    app = App(rt)
    await app.start()
    try:
        if once:
            report = await app.cycle(every_feed=True)
            failed = report.count("error")
            print(f"polled {len(report.outcomes)} feeds: {sum(o.new_items for o in report.outcomes)} new items, "
                  f"{sum(o.alerts for o in report.outcomes)} alerts, {failed} failed", file=sys.stderr)
            return EXIT_OK
        stop = asyncio.Event()
        install_stop_signals(stop)
        await app.run_forever(stop)
        return EXIT_OK
    finally:
        await app.stop()


def cmd_demo(args: argparse.Namespace) -> int:
    """Serve the bundled sample feeds on loopback, run one cycle, print the alerts."""
    from bot.demo.run import run_demo

    setup_logging("WARNING")
    return asyncio.run(run_demo(jsonl=args.jsonl))


def cmd_match(args: argparse.Namespace) -> int:
    """Which topics match a text (human output) or JSONL items (JSONL output)."""
    from bot.items_jsonl import item_from_text, read_items

    rt = load_runtime(config_path(args), telegram=False)
    if args.text is not None:
        found = rt.matcher.match(item_from_text(args.text))
        for m in found:
            print(f"{m.topic}\t{m.score:.2f}\t{' '.join(m.why)}")
        if not found:
            print("no topic matches", file=sys.stderr)
        return EXIT_OK
    for record in read_items(args.input):
        found = rt.matcher.match(record.item)
        line = {"id": record.id, "topics": [{"topic": m.topic, "score": round(m.score, 4), "why": list(m.why)} for m in found]}
        print(json.dumps(line, ensure_ascii=False))
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
    """Score clustering against gold stories in the input."""
    from bot.errors import InputError
    from bot.stories.evaluate import eval_clusters

    rt = load_runtime(config_path(args), telegram=False)
    records = _read_all(args.input)
    missing = next((r for r in records if r.story is None), None)
    if missing:
        raise InputError(f"{args.input}: item {missing.id} has no 'story' (gold story id) to score against")
    report = eval_clusters([r.item for r in records], [r.story for r in records], rt.config.stories)
    print(report.format_text())
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
