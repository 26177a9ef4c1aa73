"""Hot reload: an edited config.toml or rules/ file is applied between ticks if it is valid, and
refused (the running configuration kept, the admins told why) if it is not.

A part of App (bot/app.py), apart because it is one concern: it reads and sets the App's runtime,
store, pipeline, sinks and telegram, and queues notices that App.tick sends (announce).
"""

from __future__ import annotations

import logging
from html import escape
from pathlib import Path

from bot.errors import ConfigError
from bot.runtime import Runtime, load_runtime
from bot.textsafe import html_to_plain

log = logging.getLogger(__name__)


class HotReload:
    """Needs of App: runtime, store, pipeline, sinks, telegram, clock, refresh_routes, _sinks."""

    _fingerprint: tuple  # of the files the running runtime was read from
    _notices: list[tuple[int | None, str]]  # (chat, or None: the admin chat; HTML text) to send

    def reload_if_changed(self) -> bool:
        """Hot reload: swap in the edited config and rules if they are valid, else keep running."""
        if fingerprint(self.runtime) == self._fingerprint:
            return False
        ok, message = self.reload_now()
        if not ok:  # nobody asked for this reload: the admin chat hears why it was refused
            self._notices.append((None, f"⚠️ An edit of config.toml or rules/ was not applied (the running "
                                        f"configuration is kept):\n{escape(message)}"))
        return ok

    async def announce(self) -> None:
        """Send the notices reloads left: refused edits to the admin chat, removed topics to their chats."""
        notices, self._notices = self._notices, []
        for chat, text in notices:
            if self.telegram is None:
                log.warning("notice for %s not sent (no Telegram): %s", chat or "the admin chat", html_to_plain(text))
            elif chat is None:
                await self.telegram.notify_admin(text)
            else:
                await self.telegram.tell(chat, text)

    def reload_now(self) -> tuple[bool, str]:
        """Re-read config and rules (the /reload command, or an edited file); what happened."""
        self._fingerprint = fingerprint(self.runtime)
        try:
            new = load_runtime(self.runtime.config.path)
        except ConfigError as exc:
            log.error("config not reloaded, keeping the running one:\n%s", exc)
            return False, str(exc)
        self._apply(new)
        message = f"{new.config.path}: {len(new.config.feeds)} feeds, {len(new.topics)} topics"
        log.info("reloaded %s", message)
        return True, message

    def _apply(self, new: Runtime) -> None:
        old = self.runtime.config
        for section in ("bot", "polling", "stories"):
            if getattr(old, section) != getattr(new.config, section):
                log.warning("[%s] changed: restart wirewatch to apply it", section)
        if (old.telegram.token, old.telegram.api_base_url) != (new.config.telegram.token, new.config.telegram.api_base_url):
            log.warning("[telegram] token or api_base_url changed: restart wirewatch to apply it")
        self.store.sync_config_feeds(((f.url, f.name, f.interval) for f in new.config.feeds), self.clock())
        before = {r.chat_id: r.topics for r in self.runtime.routes if r.target and r.target.startswith("tg:")}
        gone = {tid: topic.name for tid, topic in self.runtime.topics.items() if tid not in new.topics}
        self.runtime = self.pipeline.runtime = new
        self.sinks = self._sinks()
        self.refresh_routes()
        self._tell_removed(before, gone)

    def _tell_removed(self, routes: dict[int | None, frozenset[str] | None], gone: dict[str, str]) -> None:
        """Chats that got a topic whose rule file was deleted are told they no longer get it."""
        for chat, topics in routes.items():
            lost = [name for tid, name in gone.items() if topics is None or tid in topics]
            if chat is not None and lost:
                tr = self._chat_tr(chat)
                text = tr.n_("Topic {topics} was removed by the admins (its rule file is gone): this chat no "
                             "longer gets its alerts. See /topics.",
                             "Topics {topics} were removed by the admins (their rule files are gone): this chat no "
                             "longer gets their alerts. See /topics.", len(lost))
                self._notices.append((chat, text.format(topics=escape(tr._(", ").join(lost)))))

    def _chat_tr(self, chat_id: int):
        """The chat's language for a notice nobody asked for: its /settings lang or Telegram's."""
        from bot.i18n import pick, translation
        from bot.store.chats import get_chat

        row = get_chat(self.store, chat_id)
        return translation(pick(row.language, row.tg_language) if row else None)


def fingerprint(runtime: Runtime) -> tuple:
    """mtime and size of config.toml and every rule file: cheap to compare each tick."""
    paths = [runtime.config.path, *sorted(Path(runtime.config.bot.rules_dir).glob("*.toml"))]
    out = []
    for p in paths:
        try:
            st = p.stat()
            out.append((str(p), st.st_mtime_ns, st.st_size))
        except OSError:
            out.append((str(p), None, None))
    return tuple(out)
