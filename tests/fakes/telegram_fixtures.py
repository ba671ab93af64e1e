"""The chat harness: the real application polling a fake Bot API, driven by fake users.

``bot_env`` starts the fake Telegram server and the real application (handlers, persistence,
database, panels) pointed at it and at the sandbox panel, then lets a test talk to the bot as
users do::

    user = bot_env.user()
    await user.send("/start")
    assert "Welcome" in user.last().text
    await user.tap("Balance")

``user.replies()`` lists every message the bot sent *and every edit* since the last call
(an order form edits one message, so each step is an ``editMessageText``); ``user.last()`` is
the latest bot message still in the chat, as it looks now; ``user.chat_view()`` is the whole
chat as the user sees it (deleted messages gone).

``send``/``tap`` return once the bot has handled the update and gone quiet: the update went
through every handler group (a marker handler in the last group records it), no request to
the fake server is in flight and none arrived for ``QUIET_SECONDS``. A bot that never gets
there fails the test loudly after ``SETTLE_TIMEOUT`` seconds. Work the bot does on its own
(jobs, the outbox sender) is awaited with ``env.wait_until(condition)``.

The application handles different users' updates at once, as in production: a test that
needs an update still running while others arrive queues it with ``user.post(text)`` or
``user.press(button)`` (they return the update ID without waiting) and later waits for it
with ``env.settle(update_id)``; ``env.handled`` holds the IDs of the updates handled so far.

Also: ``user.tap_data(payload)`` presses a button with any payload (forged ones included),
``env.admin()`` is the administrator ``ADMIN_ID``, ``env.api.block(chat_id)`` and
``env.api.flood(count, retry_after)`` make Telegram refuse, ``env.restart()`` restarts.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest_asyncio
from pydantic import SecretStr
from telegram import Update
from telegram.ext import Application, TypeHandler

from bot.config import SANDBOX_PANEL_NAME, PanelSettings, Settings
from tests.fakes.bot_api import BOT_USER, Call, FakeBotApi, Invoice

# PTB 22 warns on every RetryAfter it builds unless opted in to timedelta periods, and
# warnings are errors in this suite: opt in, so flood control can be tested at all.
os.environ.setdefault("PTB_TIMEDELTA", "1")

ADMIN_ID = 42
QUIET_SECONDS = 0.05
SETTLE_TIMEOUT = 10.0
POLL_TIMEOUT = 1  # seconds a getUpdates long-poll waits (the fake wakes it on new updates)
_MARKER_GROUP = 1_000_000  # after every group the bot uses
_DRAW_METHODS = frozenset(
    {
        "sendMessage",
        "editMessageText",
        "editMessageReplyMarkup",
        "sendPhoto",
        "editMessageCaption",
        "sendInvoice",
    }
)


@dataclass(frozen=True, slots=True)
class Msg:
    """A message as the user sees it: visible text, raw HTML and inline buttons."""

    method: str
    message_id: int
    text: str
    html: str
    buttons: list[list[tuple[str, str | None]]]

    @property
    def button_texts(self) -> list[str]:
        return [text for row in self.buttons for text, _ in row]

    def data_for(self, text: str) -> str | None:
        """The callback data of the button with this text (None when there is none)."""
        for row in self.buttons:
            for button_text, data in row:
                if button_text == text:
                    return data
        return None


def _msg(method: str, message: dict[str, Any]) -> Msg:
    markup = message.get("reply_markup") or {}
    buttons = [
        [(str(b.get("text", "")), b.get("callback_data")) for b in row]
        for row in markup.get("inline_keyboard", [])
    ]
    return Msg(
        method=method,
        message_id=int(message["message_id"]),
        text=str(message.get("text", message.get("caption", ""))),
        html=str(message.get("html", message.get("text", ""))),
        buttons=buttons,
    )


class FakeUser:
    """One Telegram user chatting privately with the bot."""

    def __init__(
        self,
        env: BotEnv,
        user_id: int,
        first_name: str,
        username: str | None,
        language_code: str = "en",
    ) -> None:
        self.env = env
        self.user_id = user_id
        self.first_name = first_name
        self.username = username
        self.language_code = language_code
        self._seen_calls = len(env.api.calls)
        self._seen_answers: set[str] = set()
        self._my_queries: list[str] = []
        env.api.chat(user_id, first_name, username)

    @property
    def chat_id(self) -> int:
        return self.user_id

    def as_dict(self) -> dict[str, Any]:
        user: dict[str, Any] = {
            "id": self.user_id,
            "is_bot": False,
            "first_name": self.first_name,
            "language_code": self.language_code,
        }
        if self.username:
            user["username"] = self.username
        return user

    async def send(self, text: str, *, sent_ago: float = 0) -> None:
        """Send a text message and wait until the bot has handled it (``sent_ago``: it
        reaches the bot that many seconds after it was sent)."""
        await self.env.settle(self.post(text, sent_ago=sent_ago))

    def post(self, text: str, *, sent_ago: float = 0) -> int:
        """Send a text message without waiting for the bot; return its update ID."""
        return self.env.api.queue_message(self.as_dict(), text, sent_ago=sent_ago)

    def press(self, button: str, message: Msg | None = None) -> int:
        """Press a button (by text or callback data) without waiting; return the update ID."""
        candidates = [message] if message is not None else self._bot_messages()[::-1]
        for candidate in candidates:
            for row in candidate.buttons:
                for text, data in row:
                    if button in (text, data) and data is not None:
                        return self.press_data(data, candidate)
        visible = [m.button_texts for m in candidates if m.buttons][:3]
        raise AssertionError(f"no button {button!r} in the chat; latest buttons: {visible}")

    async def tap(self, button: str, message: Msg | None = None) -> None:
        """Press the button with this text or callback data on the latest message having it."""
        await self.env.settle(self.press(button, message))

    def press_data(self, data: str, message: Msg | None = None) -> int:
        """Press a button carrying exactly ``data`` without waiting; return the update ID."""
        target = message or self.last()
        stored = self.env.api.chat(self.chat_id).messages.get(target.message_id)
        if stored is None:
            raise AssertionError(f"message {target.message_id} is not in the chat")
        public = {k: v for k, v in stored.items() if k != "html"}
        self._my_queries.append(self.env.api.queue_callback(self.as_dict(), public, data))
        return self.env.api.last_update_id

    async def tap_data(self, data: str, message: Msg | None = None) -> None:
        """Press a button carrying exactly ``data`` (possibly one the bot never made)."""
        await self.env.settle(self.press_data(data, message))

    async def send_photo(self, file_id: str, caption: str = "") -> None:
        """Send a photo (with an optional caption) and wait until the bot has handled it."""
        update_id = self.env.api.queue_photo(self.as_dict(), file_id, caption)
        await self.env.settle(update_id)

    async def pre_checkout(
        self, payload: str, total_amount: int, currency: str = "XTR"
    ) -> dict[str, Any]:
        """Tap Pay on an invoice: Telegram asks the bot; return the bot's answer."""
        query_id = self.env.api.queue_pre_checkout(self.as_dict(), payload, total_amount, currency)
        await self.env.settle(self.env.api.last_update_id)
        answer = self.env.api.pre_checkout_answers.get(query_id)
        assert answer is not None, "the bot did not answer the pre-checkout query"
        return answer

    async def complete_payment(
        self, payload: str, total_amount: int, *, charge_id: str | None = None, record: bool = True
    ) -> str:
        """Telegram's successful_payment for this payload; return its charge ID."""
        update_id, charge = self.env.api.queue_successful_payment(
            self.as_dict(), payload, total_amount, charge_id=charge_id, record=record
        )
        await self.env.settle(update_id)
        return charge

    async def pay_invoice(self, invoice: Invoice | None = None) -> str:
        """Pay an invoice the bot sent (the latest by default) as Telegram does: the
        pre-checkout query must be accepted, then the payment arrives. Return the charge ID."""
        invoice = invoice or self.latest_invoice()
        answer = await self.pre_checkout(invoice.payload, invoice.total_amount)
        assert answer["ok"] is True, answer
        return await self.complete_payment(invoice.payload, invoice.total_amount)

    def latest_invoice(self) -> Invoice:
        """The latest invoice the bot sent this user."""
        mine = [i for i in self.env.api.invoices if i.chat_id == self.chat_id]
        assert mine, "the bot sent this user no invoice"
        return mine[-1]

    def replies(self) -> list[Msg]:
        """Messages and edits the bot sent this user since the last call."""
        calls = self.env.api.calls[self._seen_calls :]
        self._seen_calls += len(calls)
        return [
            _msg(c.method, {"html": c.params.get("text", c.result.get("text")), **c.result})
            for c in calls
            if c.ok and c.method in _DRAW_METHODS and c.chat_id == self.chat_id
        ]

    def last(self) -> Msg:
        """The latest bot message in the chat, as it looks now (edits included)."""
        messages = self._bot_messages()
        if not messages:
            raise AssertionError(f"the bot has sent nothing to user {self.user_id}")
        return messages[-1]

    def chat_view(self) -> list[tuple[str, str]]:
        """The chat as the user sees it now, oldest first: ("bot" or "user", visible text).

        Deleted messages are gone from it; edited ones show their latest text."""
        chat = self.env.api.chat(self.chat_id)
        return [
            ("bot" if m.get("from") == BOT_USER else "user", str(m.get("text", "")))
            for _, m in sorted(chat.messages.items())
        ]

    def answers(self) -> list[str]:
        """Texts of answerCallbackQuery for this user's taps since the last call."""
        answered = self.env.api.answered_queries
        texts = []
        for query_id in self._my_queries:
            if query_id in answered and query_id not in self._seen_answers:
                self._seen_answers.add(query_id)
                texts.append(str(answered[query_id].get("text") or ""))
        return texts

    def unanswered_taps(self) -> list[str]:
        """IDs of this user's button presses the bot never answered."""
        return [q for q in self._my_queries if q in self.env.api.open_queries]

    def _bot_messages(self) -> list[Msg]:
        chat = self.env.api.chat(self.chat_id)
        return [
            _msg("sendMessage", m)
            for _, m in sorted(chat.messages.items())
            if m.get("from") == BOT_USER
        ]


def _build(settings: Settings) -> Application[Any, Any, Any, Any, Any, Any]:
    # Imported on use so a half-written handler module breaks only the chat tests.
    from bot.app import build_application

    return build_application(settings)


class BotEnv:
    """The running bot, its fake Telegram, its sandbox panel and its database."""

    def __init__(self, api: FakeBotApi, settings: Settings, sandbox: Any) -> None:
        self.api = api
        self.settings = settings
        self.sandbox = sandbox
        self.app: Application[Any, Any, Any, Any, Any, Any] = _build(settings)
        # IDs of the updates that went through every handler group (kept across restarts).
        self.handled: set[int] = set()
        self._user_ids = itertools.count(1001)

    @property
    def db(self) -> Any:
        return self.app.bot_data.db

    def user(
        self,
        user_id: int | None = None,
        first_name: str = "Ann",
        username: str | None = "ann",
        *,
        language_code: str = "en",
    ) -> FakeUser:
        """A user of the bot (IDs from 1001 up unless given) whose Telegram speaks
        ``language_code``."""
        return FakeUser(self, user_id or next(self._user_ids), first_name, username, language_code)

    def admin(self, first_name: str = "Boss", username: str | None = "boss") -> FakeUser:
        """The administrator (``ADMIN_ID``)."""
        return FakeUser(self, ADMIN_ID, first_name, username)

    async def start(self) -> None:
        """Start the application like ``run_polling`` does, resources included."""
        from bot.app import open_resources, wait_for_initial_sync

        app = self.app
        await app.initialize()
        await open_resources(app)
        await wait_for_initial_sync(app)
        if self.sandbox is None:  # sandbox mode: the bot started its own
            self.sandbox = app.bot_data.sandbox
        app.add_handler(TypeHandler(Update, self._mark_processed), group=_MARKER_GROUP)
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=POLL_TIMEOUT)
        await app.start()

    async def stop(self) -> None:
        """Stop polling and the application, closing its resources."""
        from bot.app import close_resources

        app = self.app
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await close_resources(app)
        await app.shutdown()

    async def restart(self, pause: float = 0) -> None:
        """Stop the bot and start a new application on the same database and persistence,
        ``pause`` seconds later (time the bot is down)."""
        await self.stop()
        if pause:
            await asyncio.sleep(pause)
        self.app = _build(self.settings)
        await self.start()

    async def _mark_processed(self, update: object, context: object) -> None:
        if isinstance(update, Update):
            self.handled.add(update.update_id)

    async def settle(self, update_id: int, limit: float = SETTLE_TIMEOUT) -> None:
        """Wait until the bot handled ``update_id`` (0: any) and then went quiet."""
        api = self.api
        deadline = time.monotonic() + limit
        while True:
            now = time.monotonic()
            if (
                (update_id == 0 or update_id in self.handled)
                and api.in_flight == 0
                and now - api.last_activity >= QUIET_SECONDS
            ):
                return
            if now > deadline:
                recent = [(c.method, c.params.get("text")) for c in api.sent[-5:]]
                raise AssertionError(
                    f"the bot did not settle within {limit}s after update {update_id}"
                    f" (latest handled {max(self.handled, default=0)},"
                    f" {api.in_flight} requests in flight);"
                    f" its last requests: {recent}"
                )
            await asyncio.sleep(0.005)

    async def wait_until(
        self, condition: Callable[[], bool], limit: float = SETTLE_TIMEOUT, what: str = ""
    ) -> None:
        """Wait for background work (jobs, the outbox) to make ``condition()`` true, then
        until the bot is quiet again."""
        deadline = time.monotonic() + limit
        while not condition():
            if time.monotonic() > deadline:
                recent = [(c.method, c.params.get("text")) for c in self.api.sent[-5:]]
                raise AssertionError(
                    f"{what or 'the condition'} did not come true within {limit}s;"
                    f" the bot's last requests: {recent}"
                )
            await asyncio.sleep(0.005)
        await self.settle(0, limit)

    def calls(self, method: str) -> list[Call]:
        """Recorded calls of one Bot API method."""
        return self.api.calls_to(method)


def make_settings(
    api_url: str, token: str, database_path: Path, sandbox: Any, **overrides: Any
) -> Settings:
    """Settings for a bot talking to the fake Telegram and to the sandbox as panel "sandbox".

    The sandbox is configured as an ordinary v2 panel (bypassing the check that reserves its
    name for the built-in one) so the bot uses the test's own sandbox, under the same name.
    With ``sandbox=None`` no panel is configured and the bot starts its built-in sandbox.
    """
    settings = Settings(
        telegram_bot_token=SecretStr(token),
        telegram_api_base_url=api_url,
        database_path=database_path,
        admin_ids=frozenset({ADMIN_ID}),
        panel_timeout=5,
        _env_file=None,  # type: ignore[call-arg]
        **overrides,
    )
    if sandbox is None:
        return settings
    panel = PanelSettings(
        name=SANDBOX_PANEL_NAME, dialect="v2", url=sandbox.url_for("v2"), key=sandbox.key
    )
    return settings.copy_with(panels=[panel])


@pytest_asyncio.fixture
async def fake_bot_api() -> AsyncIterator[FakeBotApi]:
    """A fake Telegram Bot API server on loopback."""
    async with FakeBotApi() as api:
        yield api


@pytest_asyncio.fixture
async def bot_env(fake_bot_api: FakeBotApi, sandbox: Any, tmp_path: Path) -> AsyncIterator[BotEnv]:
    """The real bot, polling the fake Telegram, selling the sandbox panel's services."""
    settings = make_settings(
        fake_bot_api.base_url, fake_bot_api.token, tmp_path / "bot.sqlite3", sandbox
    )
    env = BotEnv(fake_bot_api, settings, sandbox)
    try:
        await env.start()
        yield env
    finally:
        await env.stop()
