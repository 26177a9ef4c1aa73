"""The python-telegram-bot Application, built and run inside wirewatch's own event loop.

Every handler is registered here, in one place. PTB's run_polling() would own the loop, so the
service calls initialize / start / updater.start_polling itself (and post_init, which only
run_polling calls) and reverses them on stop. Alerts are delivered by TelegramDelivery: after each
poll cycle, or continuously in the background while `wirewatch run` runs.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from html import escape
from typing import Any

from telegram import BotCommand, BotCommandScopeChat, Update
from telegram.constants import ChatMemberStatus, ParseMode
from telegram.error import InvalidToken, TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.request import HTTPXRequest

from bot.errors import WirewatchError
from bot.i18n import DEFAULT, LANGUAGES, N_, translation
from bot.store import chats as db
from bot.textsafe import html_to_plain
from bot.tg import handlers_admin as admin
from bot.tg import handlers_mute as muting
from bot.tg import handlers_opml as opml
from bot.tg import handlers_user as user
from bot.tg.delivery import TelegramDelivery
from bot.tg.explain import feed_notices
from bot.tg.handlers_feedback import on_button
from bot.tg.host import HOST_KEY, Host, chat_prefs, chat_topics, chat_tr, host_of, topic_names
from bot.tg.limits import ChatRateLimiter, Limits
from bot.tg.sink import TelegramSink

log = logging.getLogger(__name__)
UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY, Update.MY_CHAT_MEMBER]
# PTB's own InvalidToken text quotes the token, so these messages are built without it.
TOKEN_REFUSED = ("telegram: the bot token was refused by the Bot API (401 Unauthorized or 404); "
                 "check [telegram] token (BotFather: /token shows the current one)")
TOKEN_REVOKED = ("telegram: the Bot API stopped accepting the bot token while running (revoked or "
                 "replaced with BotFather?); stopping. Queued alerts stay queued: set the new token in "
                 "[telegram] token and start wirewatch again")


class WatchedRequest(HTTPXRequest):
    """PTB's HTTP client, reporting a refused token (401/404 -> InvalidToken) on any call:
    getUpdates, sendMessage, editMessageText... PTB's polling loop only logs it and stops, and
    delivery would retry forever, so the service stops the process instead."""

    def __init__(self, on_refused: Callable[[], None], **kwargs: Any):
        super().__init__(**kwargs)
        self._on_refused = on_refused

    async def post(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return await super().post(*args, **kwargs)
        except InvalidToken:
            self._on_refused()
            raise


def api_urls(base: str) -> tuple[str, str]:
    """[telegram] api_base_url -> (base_url, base_file_url) for PTB, which appends the token.

    Accepts "http://host:8081", "http://host:8081/bot" or a URL with a {token} placeholder.
    """
    if "{token}" in base:
        return base, base.replace("/bot{token}", "/file/bot{token}")
    root = base.rstrip("/").removesuffix("/bot")
    return f"{root}/bot", f"{root}/file/bot"


def register(application: Application) -> None:
    """Every command, button and chat-event handler."""
    only_new = filters.UpdateType.MESSAGE
    commands = {
        "start": user.start, "help": user.help_command, "topics": user.topics, "subscribe": user.subscribe,
        "unsubscribe": user.unsubscribe, "mute": muting.mute, "unmute": muting.unmute, "settings": user.settings,
        "why": user.why, "test": user.test, "feeds": admin.feeds, "addfeed": admin.addfeed,
        "removefeed": admin.removefeed, "status": admin.status, "reload": admin.reload,
        "export": opml.export, "import": opml.import_feeds,
    }
    for name, callback in commands.items():
        application.add_handler(CommandHandler(name, callback, filters=only_new))
    # A file sent with "/import" as its caption (CommandHandler reads message text only).
    caption = filters.Document.ALL & filters.CaptionRegex(r"^/import(@\w+)?(\s|$)") & only_new
    application.add_handler(MessageHandler(caption, opml.import_feeds))
    application.add_handler(CallbackQueryHandler(admin.addfeed_choice, pattern=r"^af:"))
    application.add_handler(CallbackQueryHandler(on_button))
    application.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, on_migrate))
    application.add_handler(ChatMemberHandler(on_membership, ChatMemberHandler.MY_CHAT_MEMBER))
    application.add_error_handler(on_error)


async def post_init(application: Application) -> None:
    """Register the command menu: user commands for all (in each shipped language: Telegram shows
    users the menu of their language_code), plus admin commands for admins."""
    admin_ids = host_of_app(application).runtime.config.telegram.admins
    for language in LANGUAGES:
        tr, code = translation(language), None if language == DEFAULT else language
        everyone = [BotCommand(name, tr._(text)) for name, text in user.USER_COMMANDS]
        await application.bot.set_my_commands(everyone, language_code=code)
        admins = everyone + [BotCommand(name, tr._(text)) for name, text in user.ADMIN_COMMANDS]
        for admin_id in admin_ids:
            try:
                await application.bot.set_my_commands(admins, scope=BotCommandScopeChat(admin_id), language_code=code)
            except TelegramError as exc:  # an admin who never opened a chat with the bot
                log.info("admin command menu not set for %s: %s", admin_id, exc)


async def post_shutdown(application: Application) -> None:
    log.info("telegram bot @%s stopped", application.bot.username)


def host_of_app(application: Application) -> Host:
    return application.bot_data[HOST_KEY]


async def on_migrate(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A group became a supergroup: move what is stored under the old id."""
    message, host = update.effective_message, host_of(context)
    old, new = (message.chat.id, message.migrate_to_chat_id) if message.migrate_to_chat_id else \
        (message.migrate_from_chat_id, message.chat.id)
    known = db.get_chat(host.store, old)
    if known is not None and known.moved_to == new:
        return
    db.migrate_chat(host.store, old, new, host.clock())
    host.refresh_routes()
    log.info("chat %s migrated to %s", old, new)


async def on_membership(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The bot was added to, removed from or blocked in a chat."""
    change, host = update.my_chat_member, host_of(context)
    status = change.new_chat_member.status
    if status in (ChatMemberStatus.LEFT, ChatMemberStatus.BANNED):
        db.deactivate_chat(host.store, change.chat.id, f"bot {status} the chat", host.clock())
    elif status in (ChatMemberStatus.MEMBER, ChatMemberStatus.ADMINISTRATOR):
        db.register_chat(host.store, change.chat.id, change.chat.title, change.chat.type, host.clock())
    host.refresh_routes()


SORRY = N_("Sorry, something went wrong; the admins were told.")


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """No failure leaves a user without an answer: log it once, answer, tell the admin chat."""
    error = context.error
    what = _describe(update)
    log.error("telegram handler failed for %s", what, exc_info=(type(error), error, error.__traceback__))
    if not isinstance(update, Update):
        return
    try:
        sorry = _sorry(context, update)
        if update.callback_query is not None:
            await update.callback_query.answer(sorry)
        elif update.effective_message is not None:
            await update.effective_message.reply_text(sorry, do_quote=False)
        chat = host_of(context).runtime.config.telegram.admin_chat
        if chat:
            text = f"⚠️ A command failed: {escape(what)}\n<code>{escape(type(error).__name__)}: {escape(str(error)[:500])}</code>"
            await context.bot.send_message(chat, text, parse_mode=ParseMode.HTML)
    except TelegramError as exc:  # the answer itself failed: the log line above has the cause
        log.warning("could not report the failure: %s", exc)


def _sorry(context: ContextTypes.DEFAULT_TYPE, update: Update) -> str:
    """SORRY in the chat's language; in English if even that fails (the failure may be the database)."""
    try:
        return chat_tr(host_of(context), update)._(SORRY)
    except Exception:  # noqa: BLE001  (an error handler must not fail)
        return SORRY


def _describe(update: object) -> str:
    """The update in a few words for the log and the admin chat: who, where, what."""
    if not isinstance(update, Update):
        return repr(update)[:200]
    chat = update.effective_chat.id if update.effective_chat else "?"
    user = update.effective_user.id if update.effective_user else "?"
    if update.callback_query is not None:
        return f"button {update.callback_query.data!r} in chat {chat} by user {user}"
    text = update.effective_message.text if update.effective_message else None
    return f"{(text or 'update')[:200]!r} in chat {chat} by user {user}"


def build_application(host: Host, limits: Limits, on_refused: Callable[[], None]) -> Application:
    cfg = host.runtime.config.telegram
    builder = (Application.builder().token(cfg.token).rate_limiter(ChatRateLimiter(limits))
               .job_queue(None).post_init(post_init).post_shutdown(post_shutdown)
               # PTB's defaults (pool of 256 for calls, 1 for getUpdates), watched for a refused token
               .request(WatchedRequest(on_refused, connection_pool_size=256))
               .get_updates_request(WatchedRequest(on_refused, connection_pool_size=1)))
    if cfg.api_base_url:
        base_url, file_url = api_urls(cfg.api_base_url)
        builder = builder.base_url(base_url).base_file_url(file_url)
    application = builder.build()
    application.bot_data[HOST_KEY] = host
    register(application)
    return application


class TelegramService:
    """The bot (polling for updates) and alert delivery, for one running App."""

    def __init__(self, host: Host, application: Application, refused: asyncio.Event):
        self.host, self.application = host, application
        self.refused = refused  # set when the Bot API refuses the token on any call
        cfg = host.runtime.config.telegram
        self.sink = TelegramSink(application.bot, names=topic_names(host), link_previews=cfg.link_previews)
        self.delivery = TelegramDelivery(
            host.store, self.sink, prefs_for=lambda chat: chat_prefs(host, chat),
            wants_for=lambda chat: chat_topics(host, chat), notify=self.notify_admin,
            routes_changed=host.refresh_routes, clock=host.clock,
            on_error=getattr(host, "count_telegram_error", lambda kind: None),
        )
        self._wake = asyncio.Event()
        self._background = False

    @classmethod
    async def start(cls, host: Host, *, limits: Limits | None = None, poll_timeout: float = 10.0) -> TelegramService:
        refused = asyncio.Event()
        application = build_application(host, limits or Limits(), refused.set)
        try:
            await application.initialize()  # getMe: fails fast on a wrong token or API URL
        except InvalidToken:
            raise WirewatchError(TOKEN_REFUSED) from None
        except TelegramError as exc:
            where = host.runtime.config.telegram.api_base_url or "api.telegram.org"
            reason = exc.message.replace(host.runtime.config.telegram.token or "", "<redacted>")
            raise WirewatchError(f"telegram: cannot reach the Bot API at {where}: {reason}") from None
        service = cls(host, application, refused)
        try:
            await post_init(application)
            await application.start()
            await application.updater.start_polling(timeout=poll_timeout, allowed_updates=UPDATES)
        except BaseException:
            await service.stop()
            raise
        log.info("telegram bot @%s polling for updates", application.bot.username)
        return service

    async def stop(self) -> None:
        app = self.application
        if app.updater is not None and app.updater.running:
            try:
                await app.updater.stop()  # re-raises what ended its polling loop (a refused token)
            except TelegramError as exc:
                log.warning("telegram polling had stopped: %s", exc.message)
        if app.running:
            await app.stop()
        await app.shutdown()
        await post_shutdown(app)

    async def deliver(self) -> int:
        """Deliver queued Telegram rows now, or wake the background loop if it runs."""
        if self._background:
            self._wake.set()
            return 0
        self.sink.names = topic_names(self.host)
        return await self.delivery.deliver()

    async def run_delivery(self, stop: asyncio.Event, idle: float = 1.0) -> None:
        """Deliver continuously until stop: woken after each cycle, else every `idle` seconds
        (retries, quiet hours ending and digest times need no other trigger)."""
        self._background = True
        try:
            while not stop.is_set():
                self._wake.clear()
                self.sink.names = topic_names(self.host)
                try:
                    await self.delivery.deliver()
                except Exception:  # logged in full; the next pass retries
                    log.exception("telegram delivery pass failed")
                waits = [asyncio.ensure_future(e.wait()) for e in (self._wake, stop)]
                await asyncio.wait(waits, timeout=idle, return_when=asyncio.FIRST_COMPLETED)
                for w in waits:
                    w.cancel()
        finally:
            self._background = False

    async def after_cycle(self, outcomes) -> None:
        """Tell the admin chat about feeds that started failing or recovered."""
        for text in feed_notices(outcomes, self.host.runtime.config.telegram.failing_after):
            await self.notify_admin(text)

    async def tell(self, chat_id: int, text: str) -> None:
        """Best effort: a notice (HTML) to one chat; a failure is logged."""
        try:
            await self.application.bot.send_message(chat_id, text, parse_mode=ParseMode.HTML)
        except TelegramError as exc:
            log.warning("notice to chat %s not sent: %s", chat_id, exc)

    async def notify_admin(self, text: str) -> None:
        """Best effort: a notice to the admin chat (always logged)."""
        log.warning("admin notice: %s", html_to_plain(text))
        chat = self.host.runtime.config.telegram.admin_chat
        if not chat:
            return
        try:
            await self.application.bot.send_message(chat, text, parse_mode=ParseMode.HTML)
        except TelegramError as exc:
            log.error("admin chat %s not reachable: %s", chat, exc)
