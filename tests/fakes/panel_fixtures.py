"""Panel test helpers: valid orders for any service, and a scripted loopback panel.

Shared by the panel client tests of every dialect (a pytest plugin listed in conftest).
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from aiohttp import web

from bot.panels.base import PanelConfig
from bot.panels.models import OrderRequest, OrderType, Service, order_price

LINK = "https://instagram.com/p/Cx1yZ"
FIVE_PLACES = Decimal("0.00001")


def charged(service: Service, request: OrderRequest) -> Decimal:
    """What the panel takes for an order, rounded the way v2 panels keep money."""
    return order_price(service, request).quantize(FIVE_PLACES, rounding=ROUND_HALF_UP)


def request_for(service: Service, **extra: Any) -> OrderRequest:
    """A valid order for ``service``: the smallest it sells, every required field filled."""
    assert service.type is not None
    low = service.min
    lines = [f"line {i}" for i in range(low)]
    names = [f"user{i}" for i in range(low)]
    fields: dict[OrderType, dict[str, Any]] = {
        OrderType.DEFAULT: {"link": LINK, "quantity": low},
        OrderType.PACKAGE: {"link": LINK},
        OrderType.SEO: {"link": LINK, "quantity": low, "keywords": ["smm panel", "cheap likes"]},
        OrderType.CUSTOM_COMMENTS: {"link": LINK, "comments": lines},
        OrderType.MENTIONS: {"link": LINK, "quantity": low, "usernames": ["alice", "bob"]},
        OrderType.MENTIONS_WITH_HASHTAGS: {
            "link": LINK,
            "quantity": low,
            "usernames": ["alice", "bob"],
            "hashtags": ["#summer", "#sale"],
        },
        OrderType.MENTIONS_CUSTOM_LIST: {"link": LINK, "usernames": names},
        OrderType.MENTIONS_USER_FOLLOWERS: {"link": LINK, "quantity": low, "username": "nasa"},
        OrderType.MENTIONS_MEDIA_LIKERS: {
            "link": LINK,
            "quantity": low,
            "media": "https://instagram.com/p/Likers1",
        },
        OrderType.SUBSCRIPTIONS: {
            "username": "nasa",
            "min": low,
            "max": low * 2,
            "delay": 30,
            "posts": 3,
            "old_posts": 1,
            "expiry": date(2031, 12, 31),
        },
        OrderType.WEB_TRAFFIC: {
            "link": "https://example.com/landing",
            "quantity": low,
            "country": "US",
            "device": 5,
            "type_of_traffic": 1,
            "google_keyword": "best shoes",
        },
        OrderType.CUSTOM_COMMENTS_PACKAGE: {"link": LINK, "comments": ["Nice!", "Great shot"]},
        OrderType.COMMENT_LIKES: {"link": LINK, "quantity": low, "username": "commenter"},
        OrderType.POLL: {"link": "https://t.me/channel/12", "quantity": low, "answer_number": 2},
        OrderType.COMMENT_REPLIES: {"link": LINK, "username": "commenter", "comments": lines},
        OrderType.INVITES_FROM_GROUPS: {
            "link": "https://t.me/mygroup",
            "quantity": low,
            "groups": ["https://t.me/a", "https://t.me/b"],
        },
    }
    request = OrderRequest(service.service_id, service.type, **{**fields[service.type], **extra})
    request.validate(service)
    return request


def find(catalog: list[Service], order_type: OrderType, **flags: bool) -> Service:
    for service in catalog:
        if service.type is order_type and all(getattr(service, k) == v for k, v in flags.items()):
            return service
    raise LookupError(f"no {order_type} service with {flags}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


class ScriptedPanel:
    """A tiny HTTP panel answering each action with a canned body; it records what it got."""

    def __init__(self) -> None:
        self.answers: dict[str, Callable[[dict[str, str]], Any]] = {}
        self.forms: list[dict[str, str]] = []
        self.headers: list[dict[str, str]] = []
        self.in_flight = 0
        self.most_in_flight = 0
        self.delay = 0.0

    def answer(self, action: str, body: Any) -> None:
        """Answer ``action`` with ``body`` (JSON-encoded unless bytes, or a callable)."""
        self.answers[action] = body if callable(body) else (lambda _form: body)

    async def _handle(self, request: web.Request) -> web.Response:
        form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
        self.forms.append(form)
        self.headers.append(dict(request.headers))
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
            body = self.answers[form.get("action", "")](form)
        finally:
            self.in_flight -= 1
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        return web.Response(body=raw, content_type="application/json")

    @asynccontextmanager
    async def serve(self) -> AsyncIterator[str]:
        app = web.Application()
        app.router.add_post("/api/v2", self._handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        try:
            yield f"http://127.0.0.1:{runner.addresses[0][1]}/api/v2"
        finally:
            await runner.cleanup()


@pytest.fixture
async def scripted() -> AsyncIterator[tuple[ScriptedPanel, str]]:
    panel = ScriptedPanel()
    async with panel.serve() as url:
        yield panel, url


def scripted_config(url: str, dialect: str = "v2", **kw: Any) -> PanelConfig:
    defaults: dict[str, Any] = {"retries": 0, "backoff": 0.01, "timeout": 2.0}
    return PanelConfig(
        name="scripted", dialect=dialect, url=url, key="sk-SECRET-42", **{**defaults, **kw}
    )


# ---------------------------------------------------------------------- catalog
