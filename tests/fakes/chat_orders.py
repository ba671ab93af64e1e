"""Chat-test helpers: put an order on a customer's account without walking the conversation."""

from __future__ import annotations

import asyncio
import json
import uuid
from decimal import Decimal

from bot.callbacks import Action, encode
from bot.panels.models import OrderRequest, OrderType
from bot.services import catalog, ordering, wallet
from bot.services.catalog import CatalogItem
from bot.services.ordering import OrderRecord, PlacementKind
from bot.texts import ordering as order_form_texts
from bot.texts import orders as order_texts
from storage import orders as order_rows
from tests.fakes.telegram_fixtures import BotEnv, FakeUser, Msg

LINK = "https://instagram.com/p/abc<def>"
# What a customer types as the link in the order form.
FORM_LINK = "https://example.com/post/42"
CARD_TITLE = "📦 Order #"


async def customer(env: BotEnv, name: str = "Ann", funds: Decimal = Decimal(500)) -> FakeUser:
    user = env.user(first_name=name, username=name.lower())
    await user.send("/start")
    await wallet.credit(env.db, user.user_id, funds, reason="test top-up")
    user.replies()
    return user


def drawn_card(user: FakeUser) -> Msg:
    """The order card as the bot last drew it since the previous look.

    Not ``user.last()``: the outbox may deliver a status notice into the chat at any moment.
    """
    cards = [m for m in user.replies() if CARD_TITLE in m.text]
    assert cards, "the bot did not draw an order card"
    return cards[-1]


async def item_for(env: BotEnv, service_id: int | str) -> CatalogItem:
    """The catalog item selling this sandbox service."""
    page = await catalog.search_services(env.db, str(service_id), 0, 50)
    for item in page.items:
        if item.service.service_id == str(service_id):
            return item
    raise AssertionError(f"service {service_id} is not on sale")


async def place_request(
    env: BotEnv,
    user: FakeUser,
    item: CatalogItem,
    request: OrderRequest,
    *,
    key: str | None = None,
) -> ordering.PlacementResult:
    """Place ``request`` for ``item`` on the customer's account, straight through the service."""
    return await ordering.place_order(
        env.db,
        env.app.bot_data.panels,
        user_id=user.user_id,
        chat_id=user.chat_id,
        item_id=item.item_id,
        request=request,
        idempotency_key=key or uuid.uuid4().hex,
    )


async def place(
    env: BotEnv,
    user: FakeUser,
    *,
    refill: bool | None = None,
    cancel: bool | None = None,
    lost: bool = False,
) -> OrderRecord:
    """Place a Default order of the sandbox's first service with these flags.

    ``lost``: the panel creates the order but its answer is lost, so it is held for review.
    """
    service = env.sandbox.find_service(OrderType.DEFAULT, refill=refill, cancel=cancel)
    item = await item_for(env, service.service_id)
    if lost:
        env.sandbox.faults.add("error_after_create")
    result = await place_request(
        env,
        user,
        item,
        OrderRequest(
            service_id=item.service.service_id,
            type=OrderType.DEFAULT,
            link=LINK,
            quantity=max(item.service.min, 100),
        ),
    )
    expected = PlacementKind.HELD if lost else PlacementKind.PLACED
    assert result.kind is expected, result.message
    assert result.order is not None
    return result.order


async def summary_for(env: BotEnv, user: FakeUser, quantity: int | None = None) -> Msg:
    """Walk a Default order of a service without drip-feed up to its summary (v2 panels mark
    no service as drip-feed, so the form never asks)."""
    service = env.sandbox.find_service(OrderType.DEFAULT, dripfeed=False)
    item = await item_for(env, service.service_id)
    await user.send(f"/search {item.item_id}")
    await user.tap(encode(Action.SERVICE, item.item_id))
    await user.tap(order_form_texts.BTN_ORDER)
    await user.send(FORM_LINK)
    await user.send(str(quantity or item.service.min))
    summary = user.last()
    assert "Check your order" in summary.text, summary.text
    return summary


async def refresh(user: FakeUser, order_id: int) -> None:
    """Open an order's card from My orders and tap Refresh."""
    await user.send("/orders")
    await user.tap(encode(Action.ORDER_CARD, order_id))
    await user.tap(order_texts.BTN_REFRESH)


async def delivered_to(env: BotEnv, chat_id: int, words: str) -> Msg:
    """Wait (up to 5 s) for the outbox to deliver a message containing ``words`` to a chat."""
    chat = env.api.chat(chat_id)
    async with asyncio.timeout(5):
        while True:
            for message_id, message in sorted(chat.messages.items()):
                if words in str(message.get("text", "")):
                    markup = message.get("reply_markup") or {}
                    buttons = [
                        [(b["text"], b.get("callback_data")) for b in row]
                        for row in markup.get("inline_keyboard", [])
                    ]
                    text = str(message["text"])
                    return Msg("sendMessage", message_id, text, text, buttons)
            await asyncio.sleep(0.02)


async def left_placing(env: BotEnv, user: FakeUser, price: Decimal) -> int:
    """Write what a crash mid-``add`` leaves: an order charged and still "placing"."""
    service = env.sandbox.find_service(OrderType.DEFAULT)
    item = await item_for(env, service.service_id)
    async with env.db.transaction():
        order_id = await order_rows.insert(
            env.db,
            user_id=user.user_id,
            chat_id=user.chat_id,
            panel=item.panel,
            item_id=item.item_id,
            service_id=str(service.service_id),
            service_name=item.service.name,
            order_type=OrderType.DEFAULT.value,
            link=FORM_LINK,
            quantity=item.service.min,
            fields=json.dumps({"link": FORM_LINK, "quantity": str(item.service.min)}),
            price=price,
            cost=price,
            charged=True,
            status=ordering.PLACING,
            idempotency_key=uuid.uuid4().hex,
        )
        await wallet.withdraw(
            env.db, user.user_id, price, kind="order", reason="crash", order_id=order_id
        )
    return order_id
