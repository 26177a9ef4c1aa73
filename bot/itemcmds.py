"""The commands over Item JSONL (match, replay, eval, train): they read labelled or recorded items
from --input. Each returns an exit code; bot.commands re-exports them for cli.main."""

from __future__ import annotations

import argparse
import json
import sys

from bot.process import EXIT_OK, config_path, now_utc
from bot.runtime import load_runtime

DEFAULT_TRAIN = 200  # eval topics: labelled items trained on when --train-size is not given


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

def cmd_replay(args: argparse.Namespace) -> int:
    """Items in published order through match + clustering; one decision line per item."""
    from bot.replay import replay_lines
    from bot.stories.cluster import StoryClusterer

    rt = load_runtime(config_path(args), telegram=False)
    records = _read_all(args.input)  # every line validated before anything is written
    lines = replay_lines(records, rt.matcher, StoryClusterer(rt.config.stories), now=args.now)
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
    if not records:
        raise InputError(f"{args.input}: no items to score")
    items, gold = [r.item for r in records], [r.story for r in records]
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
    sizes = [n for n in CURVE if n < len(records)] if args.curve else [args.train_size or DEFAULT_TRAIN]
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
        print(f"no topic has a [classifier] section: nothing to train, and {args.input}'s labels were not "
              "stored (add [classifier] to a rule file, then train again)", file=sys.stderr)
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
