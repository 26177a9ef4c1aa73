"""Admin /export (the feed list as an OPML file) and /import (as a reply to an OPML file, or as
the file's caption). Import adds feeds as /addfeed stores them; see bot/feedlist.py.
"""

from __future__ import annotations

from html import escape
from io import BytesIO

from telegram import Document, Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.errors import InputError
from bot.feedlist import apply_import, export_opml, plan_import
from bot.ingest.opml import MAX_BYTES, read_opml
from bot.tg import explain
from bot.tg.handlers_admin import admin_only
from bot.tg.host import host_of, reply

USAGE = ("Send an OPML file and reply to it with /import (or put /import in its caption). "
         "/import dry-run shows what would change.")


@admin_only
async def export(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    host = host_of(context)
    stored = host.store.feeds(active_only=True)
    data = export_opml(host.runtime.config, stored, host.clock())
    await update.effective_message.reply_document(
        BytesIO(data), filename="wirewatch-feeds.opml", do_quote=False,
        caption=f"{data.count(b'<outline ')} feeds (OPML). Import elsewhere, or here with /import.")


@admin_only
async def import_feeds(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    host, message = host_of(context), update.effective_message
    document = _document(update)
    if document is None:
        await reply(update, USAGE)
        return
    if (document.file_size or 0) > MAX_BYTES:
        await reply(update, f"Not imported: {escape(document.file_name or 'the file')} is larger than "
                            f"{MAX_BYTES // 1024 // 1024} MB.")
        return
    try:
        data = bytes(await (await document.get_file()).download_as_bytearray())
        opml = read_opml(data, where=document.file_name or "the file")
    except InputError as exc:
        await reply(update, f"Not imported: {escape(str(exc))}")
        return
    except TelegramError as exc:
        await reply(update, f"Not imported: the file could not be downloaded ({escape(str(exc))}).")
        return
    dry = _dry_run(message.text or message.caption or "")
    plan = plan_import(opml, host.runtime.config, host.store.feeds(active_only=False))
    if not dry:
        apply_import(host.store, plan, host.clock())
    lines = plan.lines(applied=not dry) + (["dry run: nothing changed"] if dry else [])
    await reply(update, explain.clip_html(escape("\n".join(lines))))


def _document(update: Update) -> Document | None:
    """The OPML file: the message's own (caption /import) or the one it replies to."""
    message = update.effective_message
    if message is None:
        return None
    if message.document is not None:
        return message.document
    target = message.reply_to_message
    return target.document if target is not None else None


def _dry_run(text: str) -> bool:
    return any(word.lower() in ("dry-run", "--dry-run", "dry") for word in text.split()[1:])
