"""Chat-test helpers: put an order on a customer's account without walking the conversation."""

from __future__ import annotations

import uuid
from decimal import Decimal

from bot.panels.models import OrderRequest, OrderType
from bot.services import catalog, ordering, wallet
from bot.services.catalog import CatalogItem
from bot.services.ordering import OrderRecord, PlacementKind
from tests.fakes.telegram_fixtures import BotEnv, FakeUser, Msg

LINK = "https://instagram.com/p/abc<def>"
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
    result = await ordering.place_order(
        env.db,
        env.app.bot_data.panels,
        user_id=user.user_id,
        chat_id=user.chat_id,
        item_id=item.item_id,
        request=OrderRequest(
            service_id=item.service.service_id,
            type=OrderType.DEFAULT,
            link=LINK,
            quantity=max(item.service.min, 100),
        ),
        idempotency_key=uuid.uuid4().hex,
    )
    expected = PlacementKind.HELD if lost else PlacementKind.PLACED
    assert result.kind is expected, result.message
    assert result.order is not None
    return result.order
