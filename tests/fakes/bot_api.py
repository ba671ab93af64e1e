"""A fake Telegram Bot API server on loopback, answering like Telegram does.

The bot under test talks to it over real HTTP (``TELEGRAM_API_BASE_URL``), so every request
goes through python-telegram-bot's own request layer. Tests queue updates (a user's message,
a button press), read what the bot sent (``FakeBotApi.sent``, the chats' messages) and can make
Telegram misbehave: a user who blocked the bot (403), flood control (429 for the next calls),
or Telegram's real sending limits (more than 1 message/s to one chat or 30/s overall → 429).

Like Telegram, it refuses HTML it could not parse (unknown or unclosed tags, a bare ``<`` or
``&``), texts over 4096 characters and button payloads over 64 bytes, so a handler that forgets
``html.escape`` fails here as it would in production. Lengths are counted as Telegram counts
them: the visible text after entity parsing, in UTF-16 code units (an emoji counts twice).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from aiohttp import web

MAX_TEXT_LENGTH = 4096
MAX_CALLBACK_BYTES = 64
DEFAULT_TOKEN = "123456:TEST-token"
BOT_USER = {
    "id": 123456,
    "is_bot": True,
    "first_name": "Reseller Test Bot",
    "username": "reseller_test_bot",
    "can_join_groups": False,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
# Methods that send a message: the ones Telegram's limits (1/s per chat, 30/s overall) count.
SENDING_METHODS = frozenset({"sendMessage", "sendPhoto", "sendInvoice"})
# Form values python-telegram-bot sends as plain strings (everything else is JSON-encoded).
_TEXT_PARAMS = frozenset(
    {
        "text", "caption", "callback_query_id", "parse_mode", "url", "language_code", "action",
        "title", "description", "payload", "currency", "provider_token", "photo",
        "pre_checkout_query_id", "error_message", "telegram_payment_charge_id",
    }
)  # fmt: skip
MAX_CAPTION_LENGTH = 1024
MAX_DELETE_AGE = 48 * 3600  # seconds: older messages can no longer be deleted
# Telegram's limits for a Stars invoice.
MAX_INVOICE_TITLE = 32
MAX_INVOICE_DESCRIPTION = 255
MAX_INVOICE_PAYLOAD_BYTES = 128
MAX_STARS_PER_INVOICE = 10_000
_ALLOWED_TAGS = frozenset(
    {
        "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre",
        "tg-spoiler", "span", "blockquote", "tg-emoji",
    }
)  # fmt: skip
_TAG = re.compile(r"</?[a-zA-Z][a-zA-Z0-9-]*(\s[^<>]*)?>")
_BARE_AMPERSAND = re.compile(r"&(?!(?:lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);)")


class TelegramError(Exception):
    """An error answer: the HTTP code, Telegram's description and optional parameters."""

    def __init__(self, code: int, description: str, parameters: dict[str, Any] | None = None):
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def utf16_length(text: str) -> int:
    """The length Telegram checks: UTF-16 code units (astral characters count twice)."""
    return len(text.encode("utf-16-le")) // 2


def _bad_request(detail: str) -> TelegramError:
    return TelegramError(400, f"Bad Request: {detail}")


class _TelegramHTML(HTMLParser):
    """Check HTML the way Telegram does and keep the plain text it would display."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.open_tags: list[str] = []
        self.error: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _ALLOWED_TAGS and self.error is None:
            self.error = f'can\'t parse entities: Unsupported start tag "{tag}"'
        self.open_tags.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open_tags or self.open_tags[-1] != tag:
            if self.error is None:
                self.error = f'can\'t parse entities: Unexpected end tag "{tag}"'
            return
        self.open_tags.pop()

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def strip_html(text: str) -> str:
    """Return the text a user sees for an HTML-formatted message (no validation)."""
    parser = _TelegramHTML()
    parser.feed(text)
    parser.close()
    return "".join(parser.parts)


def parse_html(text: str) -> str:
    """Validate Telegram-HTML and return its visible text, or raise a 400 like Telegram."""
    outside_tags = _TAG.sub("", text)
    if "<" in outside_tags:
        raise _bad_request('can\'t parse entities: unescaped "<" in the text')
    if _BARE_AMPERSAND.search(outside_tags):
        raise _bad_request('can\'t parse entities: unescaped "&" in the text')
    parser = _TelegramHTML()
    parser.feed(text)
    parser.close()
    if parser.error:
        raise _bad_request(parser.error)
    if parser.open_tags:
        raise _bad_request(f"can't parse entities: Can't find end tag \"{parser.open_tags[-1]}\"")
    return "".join(parser.parts)


@dataclass(slots=True)
class Call:
    """One request the bot made: method, decoded parameters, when, and how it was answered."""

    method: str
    params: dict[str, Any]
    time: float
    ok: bool = True
    error_code: int | None = None
    description: str | None = None
    result: Any = None

    @property
    def chat_id(self) -> int | None:
        chat_id = self.params.get("chat_id")
        return chat_id if isinstance(chat_id, int) else None


@dataclass(slots=True)
class Chat:
    """A private chat: every message in it by ID, and the ID counter Telegram keeps per chat."""

    chat_id: int
    first_name: str = "User"
    username: str | None = None
    messages: dict[int, dict[str, Any]] = field(default_factory=dict)
    next_message_id: int = 1

    def as_dict(self) -> dict[str, Any]:
        chat: dict[str, Any] = {"id": self.chat_id, "type": "private"}
        chat["first_name"] = self.first_name
        if self.username:
            chat["username"] = self.username
        return chat

    def take_message_id(self) -> int:
        message_id = self.next_message_id
        self.next_message_id += 1
        return message_id


@dataclass(slots=True)
class Invoice:
    """An invoice the bot sent: where it is, and what paying it sends back."""

    chat_id: int
    message_id: int
    payload: str
    currency: str
    total_amount: int
    title: str


@dataclass(slots=True)
class StarTransaction:
    """A line of the bot's Stars statement (a payment in, or a refund out)."""

    charge_id: str
    user: dict[str, Any]
    amount: int
    date: int
    incoming: bool
    payload: str = ""

    def as_dict(self) -> dict[str, Any]:
        partner: dict[str, Any] = {"type": "user", "user": self.user}
        if self.incoming:
            partner.update(transaction_type="invoice_payment", invoice_payload=self.payload)
        side = "source" if self.incoming else "receiver"
        return {"id": self.charge_id, "amount": self.amount, "date": self.date, side: partner}


@dataclass(slots=True)
class _FloodRule:
    remaining: int
    retry_after: float
    methods: frozenset[str] | None


class FakeBotApi:
    """The fake server. Use ``async with FakeBotApi() as api:``; ``api.base_url`` is its root."""

    def __init__(self, token: str = DEFAULT_TOKEN, *, enforce_limits: bool = False) -> None:
        self.token = token
        self.enforce_limits = enforce_limits
        self.calls: list[Call] = []
        self.chats: dict[int, Chat] = {}
        self.commands: dict[str, list[dict[str, Any]]] = {}
        self.blocked: set[int] = set()
        self.answered_queries: dict[str, dict[str, Any]] = {}
        self.open_queries: set[str] = set()
        self.in_flight = 0
        self.last_activity = time.monotonic()
        self.delivered_update_id = 0
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._last_update_id = 0
        self._query_ids = itertools.count(1)
        self._new_updates = asyncio.Event()
        self._floods: list[_FloodRule] = []
        self._sent_per_chat: dict[int, deque[float]] = {}
        self._sent_overall: deque[float] = deque()
        self._closing = False
        self.invoices: list[Invoice] = []
        self.pre_checkout_answers: dict[str, dict[str, Any]] = {}
        self.open_pre_checkouts: dict[str, float] = {}
        self.star_transactions: list[StarTransaction] = []
        self._charge_ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    # ------------------------------------------------------------------ lifecycle

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Start listening and return the base URL to use as TELEGRAM_API_BASE_URL."""
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, shutdown_timeout=0.5, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound_port = self._runner.addresses[0][1]
        self.base_url = f"http://{host}:{bound_port}"
        return self.base_url

    async def stop(self) -> None:
        """Stop the server, releasing any long-poll still waiting."""
        self._closing = True
        self._new_updates.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeBotApi:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ test controls

    @property
    def sent(self) -> list[Call]:
        """Every recorded call except the polling itself (getUpdates)."""
        return [c for c in self.calls if c.method != "getUpdates"]

    def calls_to(self, method: str) -> list[Call]:
        """Recorded calls of one method, in order."""
        return [c for c in self.calls if c.method == method]

    def block(self, chat_id: int) -> None:
        """Answer every request for this chat with 403 as if the user blocked the bot."""
        self.blocked.add(chat_id)

    def unblock(self, chat_id: int) -> None:
        """Let this chat receive messages again."""
        self.blocked.discard(chat_id)

    def flood(
        self, count: int, retry_after: float = 1, *, methods: Iterable[str] | None = None
    ) -> None:
        """Answer the next ``count`` calls (of ``methods``, default any but getUpdates) with 429.

        Telegram sends a whole number of seconds; a fraction is accepted to keep tests fast.
        """
        self._floods.append(
            _FloodRule(count, retry_after, frozenset(methods) if methods is not None else None)
        )

    def chat(self, chat_id: int, first_name: str = "User", username: str | None = None) -> Chat:
        """The chat with this user, created on first use."""
        chat = self.chats.get(chat_id)
        if chat is None:
            chat = self.chats[chat_id] = Chat(chat_id, first_name, username)
        return chat

    def user_deletes(self, chat_id: int, message_id: int) -> None:
        """The user deletes a message for both sides, as a private chat allows."""
        del self.chat(chat_id).messages[message_id]

    def queue_update(self, update: dict[str, Any]) -> int:
        """Queue an update (without ``update_id``) for getUpdates and return its ID."""
        update_id = self._last_update_id = next(self._update_ids)
        self._updates.append({"update_id": update_id, **update})
        self._new_updates.set()
        return update_id

    def queue_message(self, user: dict[str, Any], text: str, *, sent_ago: float = 0) -> int:
        """Queue a text message from ``user`` in their private chat; return the update ID.

        ``sent_ago``: seconds since the user sent it (an update delivered late)."""
        chat = self.chat(user["id"], user.get("first_name", "User"), user.get("username"))
        message: dict[str, Any] = {
            "message_id": chat.take_message_id(),
            "from": user,
            "chat": chat.as_dict(),
            "date": int(time.time() - sent_ago),
            "text": text,
        }
        command = re.match(r"/[A-Za-z0-9_]+(@[A-Za-z0-9_]+)?", text)
        if command:
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": len(command.group(0))}
            ]
        chat.messages[message["message_id"]] = message
        return self.queue_update({"message": message})

    def queue_callback(self, user: dict[str, Any], message: dict[str, Any], data: str) -> str:
        """Queue a button press on ``message``; return the callback query ID."""
        query_id = f"q{next(self._query_ids)}"
        self.open_queries.add(query_id)
        self.queue_update(
            {
                "callback_query": {
                    "id": query_id,
                    "from": user,
                    "message": message,
                    "chat_instance": f"ci{message['chat']['id']}",
                    "data": data,
                }
            }
        )
        return query_id

    def invoice_at(self, chat_id: int, message_id: int) -> Invoice:
        """The invoice shown in this message."""
        for invoice in self.invoices:
            if (invoice.chat_id, invoice.message_id) == (chat_id, message_id):
                return invoice
        raise AssertionError(f"message {message_id} in chat {chat_id} is not an invoice")

    def queue_pre_checkout(
        self, user: dict[str, Any], payload: str, total_amount: int, currency: str = "XTR"
    ) -> str:
        """Queue the pre-checkout query Telegram sends when the user taps Pay; return its ID."""
        query_id = f"pcq{next(self._query_ids)}"
        self.open_pre_checkouts[query_id] = time.monotonic()
        self.queue_update(
            {
                "pre_checkout_query": {
                    "id": query_id,
                    "from": user,
                    "currency": currency,
                    "total_amount": total_amount,
                    "invoice_payload": payload,
                }
            }
        )
        return query_id

    def queue_successful_payment(
        self,
        user: dict[str, Any],
        payload: str,
        total_amount: int,
        *,
        charge_id: str | None = None,
        currency: str = "XTR",
        record: bool = True,
    ) -> tuple[int, str]:
        """Queue the service message of a completed payment; return (update ID, charge ID).

        ``record`` adds it to the Stars statement (a repeated delivery of the same payment
        passes False)."""
        charge_id = charge_id or f"stxCharge{next(self._charge_ids):06d}"
        chat = self.chat(user["id"], user.get("first_name", "User"), user.get("username"))
        if record:
            self.star_transactions.append(
                StarTransaction(charge_id, user, total_amount, int(time.time()), True, payload)
            )
        message: dict[str, Any] = {
            "message_id": chat.take_message_id(),
            "from": user,
            "chat": chat.as_dict(),
            "date": int(time.time()),
            "successful_payment": {
                "currency": currency,
                "total_amount": total_amount,
                "invoice_payload": payload,
                "telegram_payment_charge_id": charge_id,
                "provider_payment_charge_id": "",
            },
        }
        chat.messages[message["message_id"]] = message
        return self.queue_update({"message": message}), charge_id

    def queue_photo(self, user: dict[str, Any], file_id: str, caption: str = "") -> int:
        """Queue a photo from ``user`` in their private chat; return the update ID."""
        chat = self.chat(user["id"], user.get("first_name", "User"), user.get("username"))
        message: dict[str, Any] = {
            "message_id": chat.take_message_id(),
            "from": user,
            "chat": chat.as_dict(),
            "date": int(time.time()),
            "photo": [
                {"file_id": file_id + "-small", "file_unique_id": file_id + "s", "width": 90,
                 "height": 90},
                {"file_id": file_id, "file_unique_id": file_id + "l", "width": 800,
                 "height": 800},
            ],
        }  # fmt: skip
        if caption:
            message["caption"] = caption
        chat.messages[message["message_id"]] = message
        return self.queue_update({"message": message})

    @property
    def last_update_id(self) -> int:
        """The ID of the latest update queued."""
        return self._last_update_id

    # ------------------------------------------------------------------ HTTP

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        params = await self._read_params(request)
        call = Call(method, params, time.monotonic())
        self.calls.append(call)
        polling = method == "getUpdates"
        if not polling:
            self.in_flight += 1
        try:
            result = await self._dispatch(method, params)
        except TelegramError as e:
            call.ok, call.error_code, call.description = False, e.code, e.description
            return web.json_response(e.payload(), status=e.code)
        finally:
            if not polling:
                self.in_flight -= 1
                self.last_activity = time.monotonic()
        call.result = result
        return web.json_response({"ok": True, "result": result})

    async def _read_params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            body = await request.json()
            params.update(body if isinstance(body, dict) else {})
            return params
        if request.can_read_body:
            form = await request.post()
            for key, value in form.items():
                params[key] = value if isinstance(value, str) else str(value)
        for key, value in list(params.items()):
            if isinstance(value, str) and key not in _TEXT_PARAMS:
                try:
                    params[key] = json.loads(value)
                except ValueError:
                    params[key] = value
        return params

    async def _dispatch(self, method: str, params: dict[str, Any]) -> Any:
        if method != "getUpdates":
            self._check_flood(method, params)
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            raise TelegramError(404, "Not Found: method not found")
        return await handler(params)

    def _check_flood(self, method: str, params: dict[str, Any]) -> None:
        for rule in self._floods:
            if rule.remaining > 0 and (rule.methods is None or method in rule.methods):
                rule.remaining -= 1
                self._floods = [r for r in self._floods if r.remaining > 0]
                raise _too_many(rule.retry_after)
        chat_id = params.get("chat_id")
        if not self.enforce_limits or method not in SENDING_METHODS or chat_id is None:
            return
        now = time.monotonic()
        overall = self._sent_overall
        per_chat = self._sent_per_chat.setdefault(int(chat_id), deque())
        for window in (overall, per_chat):
            while window and now - window[0] >= 1.0:
                window.popleft()
        if per_chat or len(overall) >= 30:
            raise _too_many(1)
        per_chat.append(now)
        overall.append(now)

    def _message_chat(self, params: dict[str, Any]) -> Chat:
        chat_id = params.get("chat_id")
        if not isinstance(chat_id, int):
            raise _bad_request("chat not found")
        if chat_id in self.blocked:
            raise TelegramError(403, "Forbidden: bot was blocked by the user")
        return self.chat(chat_id)

    def _checked_text(self, params: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise _bad_request("message text is empty")
        visible = parse_html(text) if params.get("parse_mode") == "HTML" else text
        if utf16_length(visible) > MAX_TEXT_LENGTH:
            raise _bad_request("message is too long")
        return visible, []

    def _checked_markup(self, params: dict[str, Any]) -> dict[str, Any] | None:
        markup = params.get("reply_markup")
        if not isinstance(markup, dict) or "inline_keyboard" not in markup:
            return None
        for row in markup["inline_keyboard"]:
            for button in row:
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_BYTES:
                    raise _bad_request("BUTTON_DATA_INVALID")
                if not button.get("text"):
                    raise _bad_request("can't parse inline keyboard button: text is empty")
        return markup

    # ------------------------------------------------------------------ methods

    async def _m_getMe(self, params: dict[str, Any]) -> Any:
        return BOT_USER

    async def _m_logOut(self, params: dict[str, Any]) -> Any:
        return True

    async def _m_close(self, params: dict[str, Any]) -> Any:
        return True

    async def _m_deleteWebhook(self, params: dict[str, Any]) -> Any:
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _m_getWebhookInfo(self, params: dict[str, Any]) -> Any:
        return {"url": "", "has_custom_certificate": False, "pending_update_count": 0}

    async def _m_getUpdates(self, params: dict[str, Any]) -> Any:
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        timeout = float(params.get("timeout") or 0)
        if offset:
            # Telegram forgets every update below the offset: they count as confirmed.
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        deadline = time.monotonic() + timeout
        while not self._updates and not self._closing:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            self._new_updates.clear()
            try:
                await asyncio.wait_for(self._new_updates.wait(), left)
            except TimeoutError:
                break
        batch = self._updates[:limit]
        if batch:
            self.delivered_update_id = max(self.delivered_update_id, batch[-1]["update_id"])
        return batch

    async def _m_sendMessage(self, params: dict[str, Any]) -> Any:
        chat = self._message_chat(params)
        visible, _ = self._checked_text(params)
        markup = self._checked_markup(params)
        message: dict[str, Any] = {
            "message_id": chat.take_message_id(),
            "from": BOT_USER,
            "chat": chat.as_dict(),
            "date": int(time.time()),
            "text": visible,
            "html": params["text"],
        }
        if markup is not None:
            message["reply_markup"] = markup
        chat.messages[message["message_id"]] = message
        return _public(message)

    def _find_message(self, chat: Chat, params: dict[str, Any]) -> dict[str, Any]:
        message = chat.messages.get(params.get("message_id"))  # type: ignore[arg-type]
        if message is None or message["from"] != BOT_USER:
            raise _bad_request("message to edit not found")
        return message

    async def _m_editMessageText(self, params: dict[str, Any]) -> Any:
        chat = self._message_chat(params)
        message = self._find_message(chat, params)
        visible, _ = self._checked_text(params)
        markup = self._checked_markup(params)
        if message["html"] == params["text"] and message.get("reply_markup") == markup:
            raise _bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        message.update(text=visible, html=params["text"], edit_date=int(time.time()))
        message.pop("reply_markup", None)
        if markup is not None:
            message["reply_markup"] = markup
        return _public(message)

    async def _m_editMessageReplyMarkup(self, params: dict[str, Any]) -> Any:
        chat = self._message_chat(params)
        message = self._find_message(chat, params)
        markup = self._checked_markup(params)
        if message.get("reply_markup") == markup:
            raise _bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        message.pop("reply_markup", None)
        if markup is not None:
            message["reply_markup"] = markup
        message["edit_date"] = int(time.time())
        return _public(message)

    async def _m_deleteMessage(self, params: dict[str, Any]) -> Any:
        # Telegram's rules for a private chat: the bot deletes its own messages and the
        # user's, but only those sent less than 48 hours ago.
        chat = self._message_chat(params)
        message = chat.messages.get(params.get("message_id"))  # type: ignore[arg-type]
        if message is None:
            raise _bad_request("message to delete not found")
        if time.time() - int(message.get("date", 0)) >= MAX_DELETE_AGE:
            raise _bad_request("message can't be deleted for everyone")
        del chat.messages[message["message_id"]]
        return True

    async def _m_answerCallbackQuery(self, params: dict[str, Any]) -> Any:
        query_id = str(params.get("callback_query_id"))
        if query_id not in self.open_queries:
            raise _bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        text = params.get("text")
        if text is not None and utf16_length(str(text)) > 200:
            raise _bad_request("MESSAGE_TOO_LONG")
        self.open_queries.discard(query_id)
        self.answered_queries[query_id] = params
        return True

    async def _m_sendPhoto(self, params: dict[str, Any]) -> Any:
        chat = self._message_chat(params)
        caption = params.get("caption") or ""
        visible = parse_html(caption) if params.get("parse_mode") == "HTML" else caption
        if len(visible) > MAX_CAPTION_LENGTH:
            raise _bad_request("message caption is too long")
        markup = self._checked_markup(params)
        if not params.get("photo"):
            raise _bad_request("there is no photo in the request")
        message: dict[str, Any] = {
            "message_id": chat.take_message_id(),
            "from": BOT_USER,
            "chat": chat.as_dict(),
            "date": int(time.time()),
            "photo": [{"file_id": str(params["photo"]), "file_unique_id": "u", "width": 800,
                       "height": 800}],
            "caption": visible,
            "html": caption,
        }  # fmt: skip
        if markup is not None:
            message["reply_markup"] = markup
        chat.messages[message["message_id"]] = message
        return _public(message)

    async def _m_editMessageCaption(self, params: dict[str, Any]) -> Any:
        chat = self._message_chat(params)
        message = self._find_message(chat, params)
        if "photo" not in message:
            raise _bad_request("there is no caption in the message to edit")
        caption = params.get("caption") or ""
        visible = parse_html(caption) if params.get("parse_mode") == "HTML" else caption
        if len(visible) > MAX_CAPTION_LENGTH:
            raise _bad_request("message caption is too long")
        markup = self._checked_markup(params)
        message.update(caption=visible, html=caption, edit_date=int(time.time()))
        message.pop("reply_markup", None)
        if markup is not None:
            message["reply_markup"] = markup
        return _public(message)

    async def _m_sendInvoice(self, params: dict[str, Any]) -> Any:
        chat = self._message_chat(params)
        title, description = params.get("title"), params.get("description")
        payload, currency = params.get("payload"), params.get("currency")
        prices = params.get("prices")
        if not isinstance(title, str) or not 1 <= len(title) <= MAX_INVOICE_TITLE:
            raise _bad_request("INVOICE_TITLE_INVALID")
        if (
            not isinstance(description, str)
            or not 1 <= len(description) <= MAX_INVOICE_DESCRIPTION
        ):
            raise _bad_request("INVOICE_DESCRIPTION_INVALID")
        if (
            not isinstance(payload, str)
            or not 1 <= len(payload.encode()) <= MAX_INVOICE_PAYLOAD_BYTES
        ):
            raise _bad_request("INVOICE_PAYLOAD_INVALID")
        if currency != "XTR":
            raise _bad_request("CURRENCY_INVALID: this fake sells in Telegram Stars only")
        if params.get("provider_token"):
            raise _bad_request("PROVIDER_TOKEN_INVALID: Stars invoices take no provider token")
        if not isinstance(prices, list) or len(prices) != 1:
            raise _bad_request("Stars invoices must have exactly one price")
        amount = prices[0].get("amount")
        if not isinstance(amount, int) or not 1 <= amount <= MAX_STARS_PER_INVOICE:
            raise _bad_request("STARS_INVOICE_AMOUNT_INVALID")
        markup = self._checked_markup(params)
        message: dict[str, Any] = {
            "message_id": chat.take_message_id(),
            "from": BOT_USER,
            "chat": chat.as_dict(),
            "date": int(time.time()),
            "invoice": {
                "title": title,
                "description": description,
                "start_parameter": "",
                "currency": currency,
                "total_amount": amount,
            },
            "text": f"{title}\n{description}\n{amount} ⭐",
            "html": "",
        }
        if markup is not None:
            message["reply_markup"] = markup
        chat.messages[message["message_id"]] = message
        self.invoices.append(
            Invoice(chat.chat_id, message["message_id"], payload, currency, amount, title)
        )
        return _public({k: v for k, v in message.items() if k != "text"})

    async def _m_answerPreCheckoutQuery(self, params: dict[str, Any]) -> Any:
        query_id = str(params.get("pre_checkout_query_id"))
        asked = self.open_pre_checkouts.pop(query_id, None)
        if asked is None or time.monotonic() - asked > 10:
            raise _bad_request("QUERY_ID_INVALID")
        ok = params.get("ok")
        if not isinstance(ok, bool):
            raise _bad_request("ok must be a boolean")
        if not ok and not params.get("error_message"):
            raise _bad_request("ERROR_MESSAGE_EMPTY: a refusal needs an error message")
        self.pre_checkout_answers[query_id] = {**params, "seconds": time.monotonic() - asked}
        return True

    async def _m_refundStarPayment(self, params: dict[str, Any]) -> Any:
        charge_id = params.get("telegram_payment_charge_id")
        user_id = params.get("user_id")
        paid = [
            t for t in self.star_transactions
            if t.incoming and t.charge_id == charge_id and t.user["id"] == user_id
        ]  # fmt: skip
        if not paid:
            raise _bad_request("CHARGE_NOT_FOUND")
        if any(not t.incoming and t.charge_id == charge_id for t in self.star_transactions):
            raise _bad_request("CHARGE_ALREADY_REFUNDED")
        original = paid[0]
        self.star_transactions.append(
            StarTransaction(charge_id, original.user, original.amount, int(time.time()), False)
        )
        return True

    async def _m_getStarTransactions(self, params: dict[str, Any]) -> Any:
        offset = int(params.get("offset") or 0)
        limit = min(int(params.get("limit") or 100), 100)
        page = self.star_transactions[offset : offset + limit]
        return {"transactions": [t.as_dict() for t in page]}

    async def _m_sendChatAction(self, params: dict[str, Any]) -> Any:
        self._message_chat(params)
        return True

    async def _m_setMyCommands(self, params: dict[str, Any]) -> Any:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise _bad_request("commands must be a list of at most 100 commands")
        for command in commands:
            name = command.get("command", "")
            if not re.fullmatch(r"[a-z0-9_]{1,32}", name):
                raise _bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(command.get("description", "")) <= 256:
                raise _bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands[_scope_key(params)] = commands
        return True

    async def _m_getMyCommands(self, params: dict[str, Any]) -> Any:
        return self.commands.get(_scope_key(params), [])

    async def _m_deleteMyCommands(self, params: dict[str, Any]) -> Any:
        self.commands.pop(_scope_key(params), None)
        return True


def _too_many(retry_after: float) -> TelegramError:
    wait = int(retry_after) if float(retry_after).is_integer() else retry_after
    return TelegramError(429, f"Too Many Requests: retry after {wait}", {"retry_after": wait})


def _scope_key(params: dict[str, Any]) -> str:
    scope = params.get("scope") or {"type": "default"}
    key = scope.get("type", "default")
    if "chat_id" in scope:
        key += f":{scope['chat_id']}"
    if params.get("language_code"):
        key += f":{params['language_code']}"
    return str(key)


def _public(message: dict[str, Any]) -> dict[str, Any]:
    """The message as Telegram returns it (without our stored raw HTML)."""
    return {k: v for k, v in message.items() if k != "html"}
