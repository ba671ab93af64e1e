"""Edge cases of issue 7 found in review, each through the chat (fake Bot API, sandbox)."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from decimal import Decimal

from bot.callbacks import Action, encode
from bot.panels.models import OrderType
from bot.services import ordering, wallet
from bot.texts import ordering as texts
from bot.texts import orders as order_texts
from storage import orders as order_rows
from tests.fakes.chat_orders import customer, drawn_card, item_for, place
from tests.fakes.telegram_fixtures import BotEnv, FakeUser, Msg

FUNDS = Decimal(500)
LINK = "https://example.com/post/42"


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


# --------------------------------------------------------------------------- expired drafts


async def summary_for(env: BotEnv, user: FakeUser) -> Msg:
    """Walk a Default order of a service without drip-feed up to its summary."""
    service = env.sandbox.find_service(OrderType.DEFAULT, dripfeed=False)
    item = await item_for(env, service.service_id)
    await user.send(f"/search {item.item_id}")
    await user.tap(encode(Action.SERVICE, item.item_id))
    await user.tap(texts.BTN_ORDER)
    await user.send(LINK)
    await user.send(str(item.service.min))
    if "Drip-feed?" in user.last().text:
        await user.tap("No")
    summary = user.last()
    assert "Check your order" in summary.text, summary.text
    return summary


async def send_location(env: BotEnv, user: FakeUser) -> None:
    """Send something that is not text (a location)."""
    chat = env.api.chat(user.chat_id)
    message = {
        "message_id": chat.take_message_id(),
        "from": user.as_dict(),
        "chat": chat.as_dict(),
        "date": int(time.time()),
        "location": {"latitude": 52.5, "longitude": 13.4},
    }
    chat.messages[message["message_id"]] = message
    await env.settle(env.api.queue_update({"message": message}))


async def short_timeout(env: BotEnv) -> None:
    env.settings = env.settings.model_copy(update={"conversation_timeout": 1.0})
    await env.restart()


async def test_text_typed_at_a_summary_that_expired_while_down_ends_the_draft(
    bot_env: BotEnv,
) -> None:
    env = bot_env
    await short_timeout(env)
    user = await customer(env, funds=FUNDS)
    await summary_for(env, user)
    await env.restart(pause=1.1)
    user.replies()
    await user.send("followers")
    assert [m.text for m in user.replies()] == [texts.DRAFT_EXPIRED]
    # The conversation is over: typed text is a search again.
    await user.send("followers")
    assert texts.USE_BUTTONS_SUMMARY not in user.last().text
    assert texts.DRAFT_EXPIRED not in user.last().text


async def test_text_typed_at_an_expired_change_menu_ends_the_draft(bot_env: BotEnv) -> None:
    env = bot_env
    await short_timeout(env)
    user = await customer(env, funds=FUNDS)
    summary = await summary_for(env, user)
    await user.tap(texts.BTN_CHANGE, summary)
    assert user.last().text == texts.CHOOSE_FIELD
    await env.restart(pause=1.1)
    user.replies()
    await user.send("followers")
    assert [m.text for m in user.replies()] == [texts.DRAFT_EXPIRED]


async def test_a_photo_sent_to_an_expired_question_ends_the_draft(bot_env: BotEnv) -> None:
    env = bot_env
    await short_timeout(env)
    user = await customer(env, funds=FUNDS)
    service = env.sandbox.find_service(OrderType.DEFAULT, dripfeed=False)
    item = await item_for(env, service.service_id)
    await user.send(f"/search {item.item_id}")
    await user.tap(encode(Action.SERVICE, item.item_id))
    await user.tap(texts.BTN_ORDER)
    await env.restart(pause=1.1)
    user.replies()
    await send_location(env, user)
    assert [m.text for m in user.replies()] == [texts.DRAFT_EXPIRED]


# --------------------------------------------------------------------------- interrupted


async def delivered_to(env: BotEnv, chat_id: int, words: str) -> str:
    """Wait for the outbox to deliver a message containing ``words`` to a chat."""
    chat = env.api.chat(chat_id)
    async with asyncio.timeout(5):
        while True:
            for _, message in sorted(chat.messages.items()):
                if words in str(message.get("text", "")):
                    return str(message["text"])
            await asyncio.sleep(0.02)


async def test_the_customer_of_an_order_interrupted_by_a_crash_is_told_it_is_held(
    bot_env: BotEnv,
) -> None:
    env = bot_env
    user = await customer(env, funds=FUNDS)
    service = env.sandbox.find_service(OrderType.DEFAULT)
    item = await item_for(env, service.service_id)
    price = Decimal("1.25")
    # What a crash mid-``add`` leaves: the order written and charged, still "placing"; the
    # customer saw only "Placing…" on their Confirm.
    async with env.db.transaction():
        order_id = await order_rows.insert(
            env.db,
            user_id=user.user_id,
            chat_id=user.chat_id,
            panel=item.panel,
            item_id=item.item_id,
            service_id=service.service_id,
            service_name=item.service.name,
            order_type=OrderType.DEFAULT.value,
            link=LINK,
            quantity=item.service.min,
            fields=json.dumps({"link": LINK, "quantity": str(item.service.min)}),
            price=price,
            cost=price,
            charged=True,
            status=ordering.PLACING,
            idempotency_key=uuid.uuid4().hex,
        )
        await wallet.withdraw(
            env.db, user.user_id, price, kind="order", reason="crash", order_id=order_id
        )
    await env.restart()
    text = await delivered_to(env, user.chat_id, f"#{order_id}")
    assert "under review" in text and "1.25 USD stays held" in text


# --------------------------------------------------------------------------- deadlines


async def test_a_summary_answered_no_funds_stays_alive_for_a_top_up(bot_env: BotEnv) -> None:
    env = bot_env
    env.settings = env.settings.model_copy(update={"conversation_timeout": 1.5})
    await env.restart()
    user = env.user()
    await user.send("/start")
    assert await wallet_balance(env, user) == 0
    summary = await summary_for(env, user)
    await asyncio.sleep(0.9)
    await user.tap(texts.BTN_CONFIRM, summary)
    assert "Not enough balance" in user.last().text
    # "Top up, then tap Confirm again": the customer does, within the timeout of that tap
    # (PTB's own timeout counts from it) but past the one of the summary.
    await wallet.credit(env.db, user.user_id, FUNDS, reason="top-up")
    await asyncio.sleep(0.9)
    await user.tap(texts.BTN_CONFIRM, summary)
    assert "placed" in user.last().text, user.last().text


async def test_text_typed_at_a_summary_keeps_it_alive_as_ptb_does(bot_env: BotEnv) -> None:
    env = bot_env
    env.settings = env.settings.model_copy(update={"conversation_timeout": 1.5})
    await env.restart()
    user = await customer(env, funds=FUNDS)
    summary = await summary_for(env, user)
    await asyncio.sleep(0.9)
    await user.send("is this the right link?")
    assert user.last().text == texts.USE_BUTTONS_SUMMARY
    await asyncio.sleep(0.9)
    await user.tap(texts.BTN_CONFIRM, summary)
    assert "placed" in user.last().text, user.last().text


async def test_admins_hear_when_a_partial_they_settle_moves_on_at_the_panel(
    bot_env: BotEnv,
) -> None:
    env = bot_env
    user = await customer(env, funds=FUNDS)
    order = await place(env, user)
    assert order.panel_order_id is not None
    env.sandbox.set_status(order.panel_order_id, "Partial", remains_unknown=True)
    await refresh(user, order.order_id)
    await delivered_to(env, env.admin().chat_id, "ended partial")
    # Nothing is paid automatically any more, so the admins must hear that the panel now
    # says the whole order was refunded: what they settle is no longer the undelivered part.
    env.sandbox.set_status(order.panel_order_id, "Refunded")
    await refresh(user, order.order_id)
    alert = await delivered_to(env, env.admin().chat_id, "is now Refunded")
    assert f"#{order.order_id}" in alert and "/credit" in alert
    notice = await delivered_to(env, user.chat_id, f"Order #{order.order_id} was refunded")
    assert "the shop will settle" in notice
