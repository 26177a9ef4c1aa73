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
from bot.i18n import N_
from bot.ingest.opml import MAX_BYTES, read_opml
from bot.tg import explain
from bot.tg.handlers_admin import admin_only
from bot.tg.host import chat_tr, host_of, reply

USAGE = N_("Send an OPML file and reply to it with /import (or put /import in its caption). "
         "/import dry-run shows what would change.")


@admin_only
async def export(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    host = host_of(context)
    stored = host.store.feeds(active_only=True)
    data, tr = export_opml(host.runtime.config, stored, host.clock()), chat_tr(host, update)
    n = data.count(b"<outline ")
    caption = tr.n_("{n} feed (OPML). Import elsewhere, or here with /import.",
                    "{n} feeds (OPML). Import elsewhere, or here with /import.", n).format(n=n)
    await update.effective_message.reply_document(BytesIO(data), filename="wirewatch-feeds.opml", do_quote=False,
                                                  caption=caption)


@admin_only
async def import_feeds(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    host, message = host_of(context), update.effective_message
    tr, document = chat_tr(host, update), _document(update)
    if document is None:
        await reply(update, tr._(USAGE))
        return
    if (document.file_size or 0) > MAX_BYTES:
        await reply(update, tr._("Not imported: {file} is larger than {mb} MB.").format(
            file=escape(document.file_name or "the file"), mb=MAX_BYTES // 1024 // 1024))
        return
    try:
        data = bytes(await (await document.get_file()).download_as_bytearray())
        opml = read_opml(data, where=document.file_name or "the file")
    except InputError as exc:
        await reply(update, tr._("Not imported: {reason}").format(reason=escape(str(exc))))
        return
    except TelegramError as exc:
        await reply(update, tr._("Not imported: the file could not be downloaded ({error}).").format(error=escape(str(exc))))
        return
    dry = _dry_run(message.text or message.caption or "")
    plan = plan_import(opml, host.runtime.config, host.store.feeds(active_only=False))
    if not dry:
        apply_import(host.store, plan, host.clock())
    lines = plan.lines(applied=not dry, tr=tr) + ([tr._("dry run: nothing changed")] if dry else [])
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
