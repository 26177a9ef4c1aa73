"""Shared set-up for the Telegram end-to-end tests: config, feeds, a settable clock, the App.

The App runs python-telegram-bot unmodified against tests/botapi.py (base_url on loopback) and
polls feeds from tests/feedserver.py; the database is real SQLite in tmp_path.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape
from pathlib import Path

from bot.app import App
from bot.runtime import load_runtime
from bot.tg.limits import Limits
from tests.botapi import TOKEN, BotApiServer

ANBAR = 'name = "Anbar"\ndescription = "Anbar province"\nquery = "anbar OR ramadi OR fallujah OR qaim"\n'
DRONES = 'name = "Drone strikes"\ndescription = "Strikes by drones"\nquery = "drone* NEAR/3 strike*"\n'
# No pacing, so tests are quick; 429 retries stay on. bench/bench_telegram.py measures real limits.
FAST = Limits(overall_per_second=0, group_per_minute=0, chat_per_second=0, max_retries=3)
ADMIN, USER, OTHER = 7, 8, 9


class Clock:
    """A clock a test moves by hand."""

    def __init__(self, now: datetime | None = None):
        self.now = now or datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


def rss(title: str, items: list[tuple[str, str, str, float]], now: datetime | None = None) -> str:
    """An RSS 2.0 feed; items are (guid, title, description, hours ago). Text is XML-escaped."""
    now = now or datetime.now(UTC)
    entries = "".join(
        f"<item><guid isPermaLink='false'>{guid}</guid><title>{escape(t)}</title>"
        f"<link>https://news.example/{guid}?utm_source=rss</link><description>{escape(d)}</description>"
        f"<pubDate>{format_datetime(now - timedelta(hours=h))}</pubDate></item>"
        for guid, t, d, h in items
    )
    return (f"<?xml version='1.0'?><rss version='2.0'><channel><title>{escape(title)}</title>"
            f"<link>https://news.example/</link>{entries}</channel></rss>")


STRIKE = ("w1", "Drone strike kills ISIS commander Abu Khalid al-Rawi near al-Qaim",
          "A US drone strike killed Abu Khalid al-Rawi and two aides near al-Qaim in Anbar on Tuesday.", 1)
STRIKE_B = ("l1", "Abu Khalid al-Rawi, senior ISIS figure, killed in US drone strike in Anbar's al-Qaim",
            "Abu Khalid al-Rawi was killed with two aides when a US drone struck near al-Qaim on Tuesday, officials said.", 0.5)
COUNCIL = ("w2", "Ramadi council approves budget for new bridge", "The Ramadi council voted 14-3 for the bridge.", 2)


def write_config(tmp_path: Path, api: BotApiServer, feeds: dict[str, str], *, chats: str = "",
                 admins: tuple[int, ...] = (ADMIN,), admin_chat: int = 0, extra: str = "",
                 private_ok: bool = True, failing_after: int = 3) -> Path:
    """config.toml with a token for the loopback Bot API, the two test topics and these feeds."""
    rules = tmp_path / "rules"
    rules.mkdir(exist_ok=True)
    (rules / "anbar.toml").write_text(ANBAR, encoding="utf-8")
    (rules / "drone-strikes.toml").write_text(DRONES, encoding="utf-8")
    tables = "".join(f'[[feeds]]\nurl = "{url}"\nname = "{name}"\n' for url, name in feeds.items())
    path = tmp_path / "config.toml"
    path.write_text(f"""
[bot]
data_dir = "data"
[telegram]
token = "{TOKEN}"
api_base_url = "{api.base_url}"
admins = {list(admins)}
admin_chat = {admin_chat}
failing_after = {failing_after}
[polling]
allow_private_networks = {str(private_ok).lower()}
timeout = "5s"
[outputs]
console = false
{extra}
{tables}
{chats}""", encoding="utf-8")
    return path


async def start_app(path: Path, clock: Clock | None = None, limits: Limits = FAST, **options) -> App:
    app = App(load_runtime(path), clock=clock or Clock(), telegram_limits=limits, telegram_poll_timeout=0.5, **options)
    await app.start()
    return app


async def ask(api: BotApiServer, chat_id: int, user_id: int, text: str, **kwargs) -> str:
    """Send a command as a user and wait for the bot's next message in that chat; its text."""
    before = len(api.messages(chat_id))
    await api.command(chat_id, user_id, text, **kwargs)
    return (await api.reply(chat_id, after=before)).text


# Distinct Anbar stories (no two cluster together), for tests that need many alerts.
HEADLINES = [
    "Ramadi council approves budget for new bridge",
    "Fallujah hospital opens cancer ward with German aid",
    "Anbar farmers protest water shortage along Euphrates canal",
    "Qaim border crossing reopens for Syrian truck traffic",
    "Ramadi university hosts robotics championship final",
    "Anbar governor announces census of displaced families",
    "Fallujah bakery prices double after flour tax",
    "Qaim phosphate plant resumes exports to Jordan",
]


def many(n: int) -> list[tuple[str, str, str, float]]:
    """n feed items, one story each, newest last in the feed order given."""
    return [(f"m{i}", HEADLINES[i], f"Report number {i} from the province.", 0.1 + i / 100) for i in range(n)]


def outbox(app, target: str) -> list[tuple[str, str, str | None]]:
    """(title, status, message_ref) of a target's rows, in outbox order."""
    from sqlalchemy import select

    from bot.store import schema as t

    query = select(t.outbox.c.payload, t.outbox.c.status, t.outbox.c.message_ref).where(
        t.outbox.c.target == target).order_by(t.outbox.c.id)
    with app.store.engine.connect() as conn:
        return [(r.payload["title"], r.status, r.message_ref) for r in conn.execute(query)]
