"""README's command tables and the bot agree: every command registered with python-telegram-bot is
documented, every documented command is registered, and the command menu offers each of them."""

from __future__ import annotations

import re
from pathlib import Path

from telegram.ext import Application, CommandHandler

from bot.tg.application import register
from bot.tg.handlers_user import ADMIN_COMMANDS, USER_COMMANDS
from tests.botapi import TOKEN

README = Path(__file__).resolve().parents[1] / "README.md"


def registered() -> set[str]:
    application = Application.builder().token(TOKEN).build()
    register(application)
    handlers = [h for group in application.handlers.values() for h in group]
    return {c for h in handlers if isinstance(h, CommandHandler) for c in h.commands}


def documented() -> set[str]:
    """Commands named in the first column of the tables under README's "### Commands"."""
    text = README.read_text(encoding="utf-8")
    section = text.split("### Commands", 1)[1].split("\n### ", 1)[0]
    first_cells = [line.split("|")[1] for line in section.splitlines() if line.startswith("| `/")]
    return {name for cell in first_cells for name in re.findall(r"`/([a-z_]+)", cell)}


def test_every_registered_command_is_documented_and_every_documented_one_registered():
    commands = registered()
    assert commands, "no command handlers registered"
    assert commands - documented() == set(), "registered but missing from README's command tables"
    assert documented() - commands == set(), "in README's command tables but not registered"


def test_the_command_menu_offers_every_command():
    menu = {name for name, _ in USER_COMMANDS + ADMIN_COMMANDS}
    assert menu == registered()
