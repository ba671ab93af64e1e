"""Edge cases of issue 7 found in review, each through the chat (fake Bot API, sandbox)."""

from __future__ import annotations

from decimal import Decimal

from bot.callbacks import Action, encode
from bot.services import wallet
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


async def test_a_partial_the_shop_settles_is_not_refunded_again_by_a_later_count(
    bot_env: BotEnv,
) -> None:
    env = bot_env
    user = await customer(env, funds=FUNDS)
    order = await place(env, user)
    assert order.panel_order_id is not None
    env.sandbox.set_status(order.panel_order_id, "In progress", remains=order.quantity // 2)
    await refresh(user, order.order_id)
    env.sandbox.set_status(order.panel_order_id, "Partial", remains_unknown=True)
    await refresh(user, order.order_id)
    balance = await wallet_balance(env, user)
    # The admins were told to settle it by hand (/credit); the customer keeps refreshing
    # and the panel now gives a count: paying it too would pay the share twice.
    env.sandbox.set_status(order.panel_order_id, "Partial", remains=order.quantity // 3)
    await refresh(user, order.order_id)
    assert await wallet_balance(env, user) == balance
    env.sandbox.set_status(order.panel_order_id, "Refunded")
    await refresh(user, order.order_id)
    assert await wallet_balance(env, user) == balance


async def wallet_balance(env: BotEnv, user: FakeUser) -> Decimal:
    return await wallet.get_balance(env.db, user.user_id)
