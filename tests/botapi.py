"""A loopback Telegram Bot API server for tests and benchmarks: aiohttp on 127.0.0.1.

It speaks the Bot API's JSON over HTTP (POST /bot<token>/<method>, form or JSON parameters), so
python-telegram-bot runs unmodified with base_url pointed at it. A test acts as users in private
chats and groups by injecting updates (commands, button presses) and reads what the bot sent.

    api = BotApiServer(); await api.start()
    api.group(-100, "Desk", admins=[7]); await api.command(-100, 8, "/subscribe anbar")
    reply = await api.wait_for(lambda m: m.chat_id == -100)
    api.fail("sendMessage", too_many(retry_after=1), times=3)     # fault injection

Faults: 429 with parameters.retry_after, 403 (blocked), 400 "message is not modified", 400
"message to edit not found", group migration (migrate_to_chat_id); block() and migrate() make a
chat answer so from then on. Every sent message must be valid Telegram HTML and under 4096
characters of text, or the call fails as Telegram would.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import pytest_asyncio
from aiohttp import web

TOKEN = "123456:TEST-token"
BOT_ID = 123456
_STRINGS = {"text", "parse_mode", "callback_query_id", "url", "caption", "language_code", "description"}
_MARKUP = re.compile(r'</?[a-z-]+(\s+[a-z-]+="[^"<>]*")*\s*>|&(lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);')
_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre", "tg-spoiler",
         "span", "blockquote", "tg-emoji"}


@dataclass(frozen=True)
class ApiError:
    status: int
    description: str
    parameters: dict | None = None


def too_many(retry_after: int = 1) -> ApiError:
    return ApiError(429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after})


BLOCKED = ApiError(403, "Forbidden: bot was blocked by the user")
NOT_MODIFIED = ApiError(400, "Bad Request: message is not modified: specified new message content and "
                             "reply markup are exactly the same as a current content and reply markup of the message")
EDIT_NOT_FOUND = ApiError(400, "Bad Request: message to edit not found")


@dataclass
class Fault:
    error: ApiError
    times: int
    chat_id: int | None = None


@dataclass
class Sent:
    """A message the bot sent, as it stands now (edits update it; `edits` counts them)."""

    chat_id: int
    message_id: int
    html: str
    text: str
    reply_markup: dict | None
    thread_id: int | None
    params: dict
    edits: int = 0
    deleted: bool = False
    document: tuple[str, bytes] | None = None  # (file name, content) of a sent file
    reply_to: int | None = None  # message id this one replies to (reply_parameters)

    @property
    def buttons(self) -> list[str]:
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [b["text"] for row in rows for b in row]

    def callback(self, label_start: str) -> str:
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return next(b["callback_data"] for row in rows for b in row if b["text"].startswith(label_start))


class _Html(HTMLParser):
    """Telegram's HTML parse mode, strictly enough to catch unescaped feed text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text, self.stack = [], []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag not in _TAGS:
            raise ValueError(f"Unsupported start tag \"{tag}\"")
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            raise ValueError(f"Unmatched end tag \"{tag}\"")

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def html_to_text(html: str) -> str:
    """The text Telegram would show; ValueError where Telegram would refuse the HTML."""
    stray = _MARKUP.sub("", html)
    if any(ch in stray for ch in "<>&"):
        raise ValueError(f"unescaped character near {stray[max(0, stray.find('<') - 10):][:30]!r}")
    parser = _Html()
    parser.feed(html)
    parser.close()
    if parser.stack:
        raise ValueError(f"Unclosed tag \"{parser.stack[-1]}\"")
    return "".join(parser.text)


@dataclass
class Chat:
    id: int
    type: str
    title: str | None = None
    members: dict[int, str] = field(default_factory=dict)  # user id -> status
    username: str | None = None  # public channels and groups: @username
    can_post: dict[int, bool] = field(default_factory=dict)  # channel administrators without the right to post

    def to_json(self) -> dict:
        out: dict[str, Any] = {"id": self.id, "type": self.type}
        if self.type == "private":
            out["first_name"] = f"User{self.id}"
        else:
            out["title"] = self.title or f"Group {self.id}"
        if self.username:
            out["username"] = self.username
        return out


class BotApiServer:
    def __init__(self, token: str = TOKEN, username: str = "wirewatch_test_bot"):
        self.token, self.username = token, username
        self.port = 0
        self.chats: dict[int, Chat] = {}
        self.sent: list[Sent] = []  # every message the bot sent, in order
        self.calls: list[tuple[str, dict]] = []  # every method call, in order
        self.answers: dict[str, dict] = {}  # callback query id -> answerCallbackQuery params
        self.commands: dict[str, list[dict]] = {}  # scope -> setMyCommands list
        self.blocked: set[int] = set()
        self.migrated: dict[int, int] = {}
        self.faults: dict[str, deque[Fault]] = defaultdict(deque)
        self._updates: list[dict] = []
        self._update_ids = itertools.count(1)
        self._message_ids: dict[int, itertools.count] = defaultdict(lambda: itertools.count(1))
        self._callback_ids = itertools.count(1)
        self.files: dict[str, tuple[str, bytes]] = {}  # file id -> (file name, content)
        self.languages: dict[int, str] = {}  # user id -> language_code sent with their updates
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None

    # ---- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> BotApiServer:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    # ---- the world: chats, users, faults -------------------------------------------------------

    def private(self, user_id: int) -> Chat:
        return self.chats.setdefault(user_id, Chat(user_id, "private", members={user_id: "member"}))

    def group(self, chat_id: int, title: str = "", *, admins: list[int] = (), members: list[int] = (),
              kind: str = "supergroup") -> Chat:
        chat = self.chats.setdefault(chat_id, Chat(chat_id, kind, title))
        chat.members.update({u: "member" for u in members} | {u: "administrator" for u in admins})
        return chat

    def channel(self, chat_id: int, username: str, title: str = "", *, admins: list[int] = (),
                members: list[int] = (), bot_admin: bool = True, bot_can_post: bool = True) -> Chat:
        """A channel @username; the bot is one of its administrators unless bot_admin=False."""
        chat = self.chats.setdefault(chat_id, Chat(chat_id, "channel", title or username, username=username))
        chat.members.update({u: "member" for u in members} | {u: "administrator" for u in admins})
        chat.members[BOT_ID] = "administrator" if bot_admin else "left"
        chat.can_post[BOT_ID] = bot_can_post
        return chat

    def fail(self, method: str, error: ApiError, *, times: int = 1, chat_id: int | None = None) -> None:
        """The next `times` calls of method (to chat_id, if given) fail with error."""
        self.faults[method].append(Fault(error, times, chat_id))

    def block(self, chat_id: int) -> None:
        """The user blocked the bot: every send to the chat is 403 from now on."""
        self.blocked.add(chat_id)

    def migrate(self, chat_id: int, new_id: int) -> None:
        """The group became a supergroup: sends to the old id answer with migrate_to_chat_id."""
        old = self.chats.get(chat_id) or self.group(chat_id)
        self.migrated[chat_id] = new_id
        self.chats[new_id] = Chat(new_id, "supergroup", old.title, dict(old.members))

    # ---- acting as users -----------------------------------------------------------------------

    def _user(self, user_id: int) -> dict:
        out = {"id": user_id, "is_bot": False, "first_name": f"User{user_id}", "username": f"user{user_id}"}
        if user_id in self.languages:
            out["language_code"] = self.languages[user_id]
        return out

    def _chat(self, chat_id: int) -> Chat:
        return self.chats.get(chat_id) or (self.private(chat_id) if chat_id > 0 else self.group(chat_id))

    async def _push(self, update: dict) -> dict:
        async with self._changed:
            update["update_id"] = next(self._update_ids)
            self._updates.append(update)
            self._changed.notify_all()
        return update

    async def command(self, chat_id: int, user_id: int, text: str, *, reply_to: Sent | dict | None = None,
                      thread_id: int | None = None) -> dict:
        """A user sends a message starting with a /command in a chat."""
        chat = self._chat(chat_id)
        chat.members.setdefault(user_id, "member")
        word = text.split()[0] if text.startswith("/") else ""
        message: dict[str, Any] = {
            "message_id": next(self._message_ids[chat_id]), "date": int(time.time()), "chat": chat.to_json(),
            "from": self._user(user_id), "text": text,
        }
        if word:
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(word)}]
        if reply_to is not None:
            message["reply_to_message"] = reply_to if isinstance(reply_to, dict) else self._message_json(reply_to)
        if thread_id is not None:
            message |= {"message_thread_id": thread_id, "is_topic_message": True}
        return await self._push({"message": message})

    async def document(self, chat_id: int, user_id: int, name: str, content: bytes, caption: str = "") -> dict:
        """A user sends a file; returns the message (pass it as reply_to= to answer it)."""
        chat = self._chat(chat_id)
        file_id = f"doc{len(self.files) + 1}"
        self.files[file_id] = (name, content)
        message: dict[str, Any] = {
            "message_id": next(self._message_ids[chat_id]), "date": int(time.time()), "chat": chat.to_json(),
            "from": self._user(user_id), "document": {"file_id": file_id, "file_unique_id": f"u{file_id}",
                                                      "file_name": name, "file_size": len(content)},
        }
        if caption:
            message["caption"] = caption
            if caption.startswith("/"):
                message["caption_entities"] = [{"type": "bot_command", "offset": 0, "length": len(caption.split()[0])}]
        return (await self._push({"message": message}))["message"]

    async def channel_post(self, chat_id: int, text: str) -> dict:
        """A post in a channel (no sender user), e.g. a command typed there by an administrator."""
        chat = self._chat(chat_id)
        post: dict[str, Any] = {"message_id": next(self._message_ids[chat_id]), "date": int(time.time()),
                                "chat": chat.to_json(), "sender_chat": chat.to_json(), "text": text}
        if text.startswith("/"):
            post["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        return await self._push({"channel_post": post})

    async def service(self, chat_id: int, **fields: Any) -> dict:
        """A service message in a chat (e.g. migrate_to_chat_id=...)."""
        chat = self._chat(chat_id)
        message = {"message_id": next(self._message_ids[chat_id]), "date": int(time.time()),
                   "chat": chat.to_json(), "from": self._user(1), **fields}
        return await self._push({"message": message})

    async def press(self, user_id: int, sent: Sent, data: str) -> str:
        """A user presses an inline button under a bot message; returns the callback query id."""
        query_id = str(next(self._callback_ids))
        await self._push({"callback_query": {
            "id": query_id, "from": self._user(user_id), "chat_instance": f"ci{sent.chat_id}",
            "data": data, "message": self._message_json(sent),
        }})
        return query_id

    # ---- reading what the bot did --------------------------------------------------------------

    def messages(self, chat_id: int | None = None) -> list[Sent]:
        return [m for m in self.sent if (chat_id is None or m.chat_id == chat_id) and not m.deleted]

    def queued(self) -> list[dict]:
        """Updates not yet confirmed by a getUpdates offset."""
        return list(self._updates)

    def count(self, method: str) -> int:
        return sum(1 for name, _ in self.calls if name == method)

    async def wait_for(self, check: Callable[[], Any], timeout: float = 10.0) -> Any:
        """Wait until check() returns something truthy (re-checked after every call the bot makes)."""
        async def until() -> Any:
            async with self._changed:
                while not (found := check()):
                    await self._changed.wait()
                return found

        return await asyncio.wait_for(until(), timeout)

    async def reply(self, chat_id: int, after: int = 0, timeout: float = 10.0) -> Sent:
        """The first message the bot sends to chat_id beyond the first `after` ones there."""
        return await self.wait_for(lambda: (m := self.messages(chat_id))[after:] and m[after], timeout)

    # ---- serving -------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        method = request.match_info["method"]
        params = await self._params(request)
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)
        async with self._changed:
            self.calls.append((method, params))
            self._changed.notify_all()
        try:
            result = await handler(params) if method == "getUpdates" else self._guarded(method, handler, params)
        except ApiErrorRaised as exc:
            body = {"ok": False, "error_code": exc.error.status, "description": exc.error.description}
            if exc.error.parameters:
                body["parameters"] = exc.error.parameters
            return web.json_response(body, status=exc.error.status)
        finally:
            async with self._changed:
                self._changed.notify_all()
        return web.json_response({"ok": True, "result": result})

    @staticmethod
    async def _params(request: web.Request) -> dict:
        if request.content_type == "application/json":
            return await request.json()
        form = await request.post()
        out = {}
        for key, value in form.items():
            if key in _STRINGS or not isinstance(value, str):
                out[key] = value
                continue
            try:
                out[key] = json.loads(value)
            except ValueError:
                out[key] = value
        return out

    def _guarded(self, method: str, handler: Callable[[dict], Any], params: dict) -> Any:
        chat_id = params.get("chat_id")
        queue = self.faults.get(method)
        for fault in list(queue or ()):
            if fault.chat_id is None or fault.chat_id == chat_id:
                fault.times -= 1
                if fault.times <= 0:
                    queue.remove(fault)
                raise ApiErrorRaised(fault.error)
        if method.startswith(("send", "edit")) and chat_id is not None:
            if chat_id in self.migrated:
                raise ApiErrorRaised(ApiError(400, "Bad Request: group chat was upgraded to a supergroup chat",
                                              {"migrate_to_chat_id": self.migrated[chat_id]}))
            if chat_id in self.blocked:
                raise ApiErrorRaised(BLOCKED)
        return handler(params)

    def _message_json(self, m: Sent) -> dict:
        out: dict[str, Any] = {"message_id": m.message_id, "date": int(time.time()), "chat": self._chat(m.chat_id).to_json(),
                               "from": self._me(), "text": m.text}
        if m.reply_markup:
            out["reply_markup"] = m.reply_markup
        earlier = next((e for e in self.sent if e.chat_id == m.chat_id and e.message_id == m.reply_to), None)
        if earlier is not None and m.reply_to is not None:
            out["reply_to_message"] = self._message_json(earlier)
        if m.thread_id is not None:
            out |= {"message_thread_id": m.thread_id, "is_topic_message": True}
        return out

    def _me(self) -> dict:
        return {"id": BOT_ID, "is_bot": True, "first_name": "wirewatch", "username": self.username}

    def _find(self, params: dict, what: str) -> Sent:
        for m in self.sent:
            if m.chat_id == params.get("chat_id") and m.message_id == params.get("message_id") and not m.deleted:
                return m
        raise ApiErrorRaised(ApiError(400, f"Bad Request: message to {what} not found"))

    # ---- methods -------------------------------------------------------------------------------

    def _m_getMe(self, params: dict) -> dict:
        return self._me() | {"can_join_groups": True, "can_read_all_group_messages": False,
                             "supports_inline_queries": False}

    def _m_deleteWebhook(self, params: dict) -> bool:
        return True

    def _m_getWebhookInfo(self, params: dict) -> dict:
        return {"url": "", "has_custom_certificate": False, "pending_update_count": len(self._updates)}

    async def _m_getUpdates(self, params: dict) -> list[dict]:
        offset, limit = params.get("offset") or 0, params.get("limit") or 100
        timeout = float(params.get("timeout") or 0)
        async with self._changed:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]  # < offset: confirmed
            if not self._updates and timeout > 0:
                with contextlib.suppress(TimeoutError):  # long polling: an empty answer after `timeout`
                    await asyncio.wait_for(self._changed.wait_for(lambda: self._updates), timeout)
            return self._updates[:limit]

    def _m_sendMessage(self, params: dict) -> dict:
        text = str(params.get("text", ""))
        plain = self._check_text(text, params.get("parse_mode"))
        chat_id = params["chat_id"]
        reply_to = self._replied(chat_id, params.get("reply_parameters"))
        sent = Sent(chat_id, next(self._message_ids[chat_id]), text, plain, params.get("reply_markup"),
                    params.get("message_thread_id"), params, reply_to=reply_to)
        self.sent.append(sent)
        return self._message_json(sent)

    def _replied(self, chat_id: int, reply: dict | None) -> int | None:
        """The message a reply goes to; a missing one is refused unless allow_sending_without_reply."""
        if not reply:
            return None
        target = reply["message_id"]
        if any(m.chat_id == chat_id and m.message_id == target and not m.deleted for m in self.sent):
            return target
        if reply.get("allow_sending_without_reply"):
            return None
        raise ApiErrorRaised(ApiError(400, "Bad Request: message to be replied not found"))

    def _check_text(self, text: str, parse_mode: str | None) -> str:
        if not text.strip():
            raise ApiErrorRaised(ApiError(400, "Bad Request: message text is empty"))
        try:
            plain = html_to_text(text) if parse_mode == "HTML" else text
        except ValueError as exc:
            raise ApiErrorRaised(ApiError(400, f"Bad Request: can't parse entities: {exc}")) from None
        if len(plain) > 4096:
            raise ApiErrorRaised(ApiError(400, "Bad Request: message is too long"))
        return plain

    def _m_editMessageText(self, params: dict) -> dict:
        m = self._find(params, "edit")
        text = str(params.get("text", ""))
        plain = self._check_text(text, params.get("parse_mode"))
        markup = params.get("reply_markup")
        if text == m.html and markup == m.reply_markup:
            raise ApiErrorRaised(NOT_MODIFIED)
        m.html, m.text, m.reply_markup, m.edits = text, plain, markup, m.edits + 1
        return self._message_json(m) | {"edit_date": int(time.time())}

    def _m_editMessageReplyMarkup(self, params: dict) -> dict:
        m = self._find(params, "edit")
        markup = params.get("reply_markup")
        if markup == m.reply_markup:
            raise ApiErrorRaised(NOT_MODIFIED)
        m.reply_markup, m.edits = markup, m.edits + 1
        return self._message_json(m) | {"edit_date": int(time.time())}

    def _m_deleteMessage(self, params: dict) -> bool:
        self._find(params, "delete").deleted = True
        return True

    def _m_answerCallbackQuery(self, params: dict) -> bool:
        self.answers[str(params["callback_query_id"])] = params
        return True

    def _m_setMyCommands(self, params: dict) -> bool:
        scope = params.get("scope") or {"type": "default"}
        language = f"|{params['language_code']}" if params.get("language_code") else ""  # "" = any language
        self.commands[json.dumps(scope, sort_keys=True) + language] = params["commands"]
        return True

    def _lookup(self, key: Any) -> Chat:
        """A chat by id or by @username, as Telegram accepts either; 400 when there is none."""
        if isinstance(key, str) and key.startswith("@"):
            found = next((c for c in self.chats.values() if c.username and f"@{c.username}".lower() == key.lower()), None)
        else:
            found = self.chats.get(int(key))
        if found is None:
            raise ApiErrorRaised(ApiError(400, "Bad Request: chat not found"))
        return found

    def _m_getChat(self, params: dict) -> dict:
        chat = self._lookup(params["chat_id"])
        return chat.to_json() | {"accent_color_id": 0, "max_reaction_count": 11, "accepted_gift_types": {
            "unlimited_gifts": False, "limited_gifts": False, "unique_gifts": False, "premium_subscription": False,
            "gifts_from_channels": False}}

    def _m_getChatMember(self, params: dict) -> dict:
        chat, user_id = self._lookup(params["chat_id"]), int(params["user_id"])
        if chat.type == "channel" and chat.members.get(BOT_ID) != "administrator":
            raise ApiErrorRaised(ApiError(400, "Bad Request: member list is inaccessible"))
        status = chat.members.get(user_id, "left")
        user = self._me() if user_id == BOT_ID else self._user(user_id)
        out = _member(user, status)
        if chat.type == "channel" and status == "administrator":
            out |= {"can_post_messages": chat.can_post.get(user_id, True), "can_edit_messages": True}
        return out

    def _m_sendDocument(self, params: dict) -> dict:
        chat_id = params["chat_id"]
        upload = params["document"]
        content, name = upload.file.read(), upload.filename
        caption = str(params.get("caption") or "")
        sent = Sent(chat_id, next(self._message_ids[chat_id]), caption, self._check_caption(caption, params),
                    params.get("reply_markup"), params.get("message_thread_id"), params, document=(name, content))
        self.sent.append(sent)
        file_id = f"sent{len(self.files) + 1}"
        self.files[file_id] = (name, content)
        return self._message_json(sent) | {"document": {"file_id": file_id, "file_unique_id": f"u{file_id}",
                                                         "file_name": name, "file_size": len(content)}}

    def _check_caption(self, caption: str, params: dict) -> str:
        return self._check_text(caption, params.get("parse_mode")) if caption.strip() else ""

    def _m_getFile(self, params: dict) -> dict:
        file_id = str(params["file_id"])
        if file_id not in self.files:
            raise ApiErrorRaised(ApiError(400, "Bad Request: invalid file_id"))
        name, content = self.files[file_id]
        return {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_size": len(content),
                "file_path": f"documents/{file_id}/{name}"}

    async def _download(self, request: web.Request) -> web.Response:
        file_id = request.match_info["path"].split("/")[1] if "/" in request.match_info["path"] else ""
        if request.match_info["token"] != self.token or file_id not in self.files:
            return web.Response(status=404)
        return web.Response(body=self.files[file_id][1])

    def _m_getChatAdministrators(self, params: dict) -> list[dict]:
        chat = self._chat(params["chat_id"])
        return [_member(self._user(u), s) for u, s in chat.members.items() if s in ("administrator", "creator")]


class ApiErrorRaised(Exception):
    def __init__(self, error: ApiError):
        super().__init__(error.description)
        self.error = error


def _member(user: dict, status: str) -> dict:
    out: dict[str, Any] = {"user": user, "status": status}
    if status == "creator":
        out["is_anonymous"] = False
    if status == "administrator":
        rights = ("can_manage_chat", "can_delete_messages", "can_manage_video_chats", "can_restrict_members",
                  "can_promote_members", "can_change_info", "can_invite_users", "can_post_stories",
                  "can_edit_stories", "can_delete_stories")
        out |= {"can_be_edited": False, "is_anonymous": False} | dict.fromkeys(rights, True)
    return out


@pytest_asyncio.fixture
async def bot_api() -> AsyncIterator[BotApiServer]:
    """A started BotApiServer on 127.0.0.1, stopped after the test."""
    server = await BotApiServer().start()
    try:
        yield server
    finally:
        await server.stop()
