"""The `wirewatch` command line. Thin: parse arguments, call the app, map errors to exit codes.

Exit codes: 0 ok, 1 bad input or config (message on stderr), 2 usage.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime

from bot import __version__
from bot.errors import WirewatchError
from bot.process import EXIT_INPUT, EXIT_OK, EXIT_USAGE


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wirewatch", description="Self-hosted news-alert bot.")
    parser.add_argument("--version", action="version", version=f"wirewatch {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help: str, config: bool = True) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        if config:
            p.add_argument("-c", "--config", metavar="FILE", help="config file (default: $WIREWATCH_CONFIG, then ./config.toml)")
        return p

    run = command("run", "run the bot: poll feeds on schedule and deliver alerts")
    run.add_argument("--once", action="store_true", help="one poll cycle of every feed, deliver, exit")
    run.add_argument("--role", choices=["all", "poller", "core"], default="all",
                     help="all: one process does everything (default); with PostgreSQL, poller: fetch and hand "
                          "new items over (run any number), core: match, stories, delivery, Telegram (one at a "
                          "time; a second one stands by)")
    command("check", "validate config and every rule file; list feeds, topics and chats")
    demo = command("demo", "serve bundled sample feeds on loopback, run one cycle, print alerts", config=False)
    demo.add_argument("--jsonl", metavar="FILE", help="also write the alerts to this JSONL file")
    match = command("match", "show which topics match a text or JSONL items, with score and why")
    source = match.add_mutually_exclusive_group(required=True)
    source.add_argument("text", nargs="?", help="a headline or text to match")
    source.add_argument("--input", metavar="F.jsonl", help="items, one JSON object per line; JSONL out")
    replay = command("replay", "stream items through match and story clustering, one decision per item")
    replay.add_argument("--input", metavar="F.jsonl", required=True)
    replay.add_argument("--output", metavar="O.jsonl", help="write decisions here (default: stdout)")
    replay.add_argument("--now", metavar="TIME", type=_instant,
                        help="decide as one `run` cycle at this ISO 8601 time would: an item older than the "
                             "story window by then is compared by identity only (default: no clock)")
    fetch = command("fetch", "print one feed's items (a URL or a file) as Item JSONL, as the pipeline would store them")
    fetch.add_argument("source", metavar="URL|FILE", help="a feed URL, or a feed file")
    fetch.add_argument("--limit", metavar="N", type=int, help="print at most N items (in feed order)")
    ev = command("eval", "score story clustering (or topic matching) against labelled JSONL")
    ev.add_argument("what", choices=["clusters", "topics"], help="what to evaluate")
    ev.add_argument("--input", metavar="F.jsonl", required=True)
    ev.add_argument("--train-size", metavar="N", type=_count,
                    help="topics: train on N random labelled items, score the rest (default 200)")
    ev.add_argument("--curve", action="store_true", help="topics: learning curve at N = 20, 50, 200, 1000")
    ev.add_argument("--seed", type=int, default=0,
                    help="seed of the random training sample (topics) or of the orders (clusters)")
    ev.add_argument("--orders", metavar="N", type=_count,
                    help="clusters: score N shuffled orders (seeds S..S+N-1), print the mean and the worst")
    ev.add_argument("--retime", action="store_true",
                    help="clusters: interleave the gold stories as news arrives (new times; see README)")
    train = command("train", "store labelled JSONL items as classifier labels and retrain the topic classifiers")
    train.add_argument("--input", metavar="labelled.jsonl", required=True,
                       help="items with `labels`: the topic ids they belong to (a negative for every other topic)")
    feeds = sub.add_parser("feeds", help="the feed list: export as OPML, import from OPML, remove one",
                           description="the feed list: export as OPML, import from OPML, remove one")
    action = feeds.add_subparsers(dest="action", required=True, metavar="ACTION")
    export = action.add_parser("export", help="print every polled feed as OPML")
    imp = action.add_parser("import", help="add the feeds of an OPML file, as /addfeed does")
    imp.add_argument("file", metavar="FILE", help="an OPML file")
    imp.add_argument("--dry-run", action="store_true", help="show what would change; change nothing")
    remove = action.add_parser("remove", help="stop polling a feed added by /addfeed or an import (its items stay)")
    remove.add_argument("feed", metavar="URL|ID", help="the feed's URL or id, as `wirewatch check` lists them")
    for p in (export, imp, remove):
        p.add_argument("-c", "--config", metavar="FILE", help="config file (default: $WIREWATCH_CONFIG, then ./config.toml)")
    return parser


def _count(text: str) -> int:
    """A count given on the command line: a whole number, 1 or more."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


def _instant(text: str) -> datetime:
    """An ISO 8601 time given on the command line (no zone: UTC)."""
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r}") from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# Options of one `eval` kind that the other would ignore: given there, a usage error.
_EVAL_ONLY = {"clusters": (("orders", "--orders"), ("retime", "--retime")),
              "topics": (("train_size", "--train-size"), ("curve", "--curve"))}


def usage_problem(args: argparse.Namespace) -> str | None:
    """What argparse cannot see: an option given to a command kind that does not use it."""
    if args.command != "eval":
        return None
    for kind, options in _EVAL_ONLY.items():
        given = [flag for name, flag in options if getattr(args, name) not in (None, False)]
        if given and args.what != kind:
            return f"{', '.join(given)} {'apply' if len(given) > 1 else 'applies'} to `eval {kind}` only"
    return None


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    problem = usage_problem(args)
    if problem:
        print(f"wirewatch {args.command}: error: {problem}", file=sys.stderr)
        return EXIT_USAGE
    from bot import commands  # after parsing, so --help stays fast

    handler = getattr(commands, f"cmd_{args.command}")
    try:
        return handler(args)
    except WirewatchError as exc:
        print(f"wirewatch {args.command}: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `wirewatch check | head -1`: the reader left early; not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return EXIT_OK
