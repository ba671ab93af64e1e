"""Edge cases of issue 7 found in review, each through the chat (fake Bot API, sandbox)."""

from __future__ import annotations

from decimal import Decimal

from bot.callbacks import Action, encode
from bot.texts import orders as order_texts
from tests.fakes.chat_orders import customer, drawn_card, place
from tests.fakes.telegram_fixtures import BotEnv, FakeUser

FUNDS = Decimal(500)


async def refresh(user: FakeUser, order_id: int) -> None:
    await user.send("/orders")
    await user.tap(encode(Action.ORDER_CARD, order_id))
    await user.tap(order_texts.BTN_REFRESH)


# --------------------------------------------------------------------------- partials


async def test_a_partial_without_a_count_does_not_show_the_older_count(bot_env: BotEnv) -> None:
    env = bot_env
    user = await customer(env, funds=FUNDS)
    order = await place(env, user)
    assert order.panel_order_id is not None
    stale = order.quantity - order.quantity // 4
    env.sandbox.set_status(order.panel_order_id, "In progress", remains=stale)
    await refresh(user, order.order_id)
    assert f"Remains: {stale:,}" in drawn_card(user).text
    env.sandbox.set_status(order.panel_order_id, "Partial", remains_unknown=True)
    await refresh(user, order.order_id)
    card = drawn_card(user).text
    assert "Partially completed" in card
    # The count from before the Partial may predate deliveries made since.
    assert f"Remains: {stale:,}" not in card


async def wallet_balance(env: BotEnv, user: FakeUser) -> Decimal:
    from bot.services import wallet

    return await wallet.get_balance(env.db, user.user_id)
