"""`wirewatch demo`: the whole pipeline with no token and no network.

Serves the bundled sample feeds from a loopback HTTP server, writes a throwaway config that
points at them and at the example rules, runs one cycle and prints the alerts.
"""

from __future__ import annotations

import sys
import tempfile
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

from aiohttp import web

from bot.demo import DEMO_FEEDS, render_demo_feed
from bot.runtime import load_runtime


def example_rules_dir() -> Path:
    """The shipped rules/: next to the package in a checkout, else packaged as bot.example_rules."""
    checkout = Path(__file__).resolve().parents[2] / "rules"
    if (checkout / "anbar.toml").is_file():  # a source checkout or editable install
        return checkout
    return Path(str(resources.files("bot.example_rules")))


async def serve_demo_feeds(now: datetime) -> tuple[web.AppRunner, str]:
    """Start a loopback server with every demo feed rendered at `now`; return it and its base URL."""
    app = web.Application()
    for filename, _name, content_type in DEMO_FEEDS:
        body = render_demo_feed((resources.files("bot.demo") / filename).read_text(encoding="utf-8"), now)

        async def handler(_request: web.Request, body: str = body, content_type: str = content_type) -> web.Response:
            return web.Response(text=body, content_type=content_type)

        app.router.add_get(f"/{filename}", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}"


def demo_config(base_url: str, data_dir: Path, jsonl: str | None) -> str:
    feeds = "\n".join(
        f'[[feeds]]\nurl = "{base_url}/{filename}"\nname = "{name}"\n' for filename, name, _ in DEMO_FEEDS
    )
    jsonl_line = f'jsonl = "{Path(jsonl).resolve().as_posix()}"' if jsonl else 'jsonl = ""'
    return f"""
[bot]
data_dir = "{data_dir.as_posix()}"
rules_dir = "{example_rules_dir().as_posix()}"

[polling]
allow_private_networks = true   # the demo feeds are on loopback
timeout = "10s"

[outputs]
console = true
{jsonl_line}

{feeds}
"""


async def run_demo(jsonl: str | None = None, stdout=None) -> int:
    """Run one demo cycle and print its alerts; return the exit code."""
    from bot.app import App
    from bot.errors import InputError
    from bot.preflight import jsonl_problem

    out = stdout or sys.stdout
    if jsonl and (reason := jsonl_problem(Path(jsonl).resolve())):
        raise InputError(f"--jsonl {jsonl}: {reason}")
    now = datetime.now(UTC)
    runner, base_url = await serve_demo_feeds(now)
    try:
        with tempfile.TemporaryDirectory(prefix="wirewatch-demo-") as tmp:
            path = Path(tmp) / "config.toml"
            path.write_text(demo_config(base_url, Path(tmp) / "data", jsonl), encoding="utf-8")
            app = App(load_runtime(path, telegram=False), stdout=out)
            print(f"wirewatch demo: {len(DEMO_FEEDS)} sample feeds on {base_url}, rules from {example_rules_dir()}\n", file=out)
            await app.start()
            try:
                report = await app.cycle(every_feed=True)
            finally:
                await app.stop()
    finally:
        await runner.cleanup()
    alerts = sum(o.alerts for o in report.outcomes)
    items = sum(o.new_items for o in report.outcomes)
    print(f"{len(report.outcomes)} feeds, {items} items, {alerts} alerts "
          f"(items older than the 24 h backfill are stored without alerting)", file=out)
    return 0
