"""Chat helpers: walk a customer through the order conversation up to its summary."""

from __future__ import annotations

from bot.callbacks import Action, encode
from bot.panels.models import OrderType
from bot.texts import ordering as texts
from tests.fakes.chat_orders import item_for
from tests.fakes.telegram_fixtures import BotEnv, FakeUser, Msg

LINK = "https://example.com/post/7"


async def open_service_card(env: BotEnv, user: FakeUser) -> int:
    """Open the sandbox's first Default service's card; return its minimum quantity."""
    service = env.sandbox.find_service(OrderType.DEFAULT)
    item = await item_for(env, service.service_id)
    await user.send(f"/search {item.item_id}")
    await user.tap(encode(Action.SERVICE, item.item_id))
    return item.service.min


async def ready_summary(env: BotEnv, user: FakeUser) -> Msg:
    """Order the smallest quantity of that service up to the summary and return it; the
    replies and button answers so far count as read."""
    quantity = await open_service_card(env, user)
    await user.tap(texts.BTN_ORDER)
    await user.send(LINK)
    await user.send(str(quantity))
    if user.last().data_for("No") is not None:  # the drip-feed question
        await user.tap("No")
    summary = user.last()
    assert summary.data_for(texts.BTN_CONFIRM) is not None, summary.text
    user.replies()
    user.answers()
    return summary
