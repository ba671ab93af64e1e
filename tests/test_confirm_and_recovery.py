"""What Confirm charges, what a restart leaves behind, and what admins hear about held orders.

Every test drives the real bot through the fake Telegram Bot API and the sandbox panel:
- the price a customer confirms is the price charged, or nothing is;
- a Partial without a count in its own answer is settled by the shop, never refunded from an
  older count;
- a restart neither revives an expired summary nor hides an order that was mid-placement;
- admins hear about every held order at once;
- only the configured panels' services are on sale.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from decimal import ROUND_DOWN, Decimal

from bot.callbacks import Action, encode
from bot.config import PanelSettings
from bot.panels.models import OrderRequest, OrderType
from bot.services import catalog, ordering, wallet
from bot.texts import ordering as texts
from bot.texts import orders as order_texts
from storage import orders as order_rows
from tests.fakes.chat_orders import customer, drawn_card, item_for, place
from tests.fakes.telegram_fixtures import BotEnv, FakeUser, Msg

LINK = "https://example.com/post/42"
FUNDS = Decimal(500)


def add_requests(env: BotEnv) -> list[object]:
    return [r for r in env.sandbox.requests if r.action == "add"]


async def summary_for(env: BotEnv, user: FakeUser, quantity: int | None = None) -> Msg:
    """Walk a Default order of a service without drip-feed up to its summary."""
    service = env.sandbox.find_service(OrderType.DEFAULT, dripfeed=False)
    item = await item_for(env, service.service_id)
    await user.send(f"/search {item.item_id}")
    await user.tap(encode(Action.SERVICE, item.item_id))
    await user.tap(texts.BTN_ORDER)
    await user.send(LINK)
    await user.send(str(quantity or item.service.min))
    if "Drip-feed?" in user.last().text:  # v2 panels flag no drip-feed: it is offered
        await user.tap("No")
    summary = user.last()
    assert "Check your order" in summary.text, summary.text
    return summary


async def delivered_to(env: BotEnv, chat_id: int, words: str) -> Msg:
    """Wait for the outbox to deliver a message containing ``words`` to a chat."""
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


# --------------------------------------------------------------------------- the shown price


async def test_a_price_change_before_confirm_charges_nothing_and_shows_the_new_price(
    bot_env: BotEnv,
) -> None:
    env = bot_env
    user = await customer(env, funds=FUNDS)
    summary = await summary_for(env, user, quantity=1000)
    service = env.sandbox.find_service(OrderType.DEFAULT, dripfeed=False)
    old_item = await item_for(env, service.service_id)
    old_price = (old_item.price_rate * 1000 / 1000).quantize(Decimal("0.01"))
    assert f"Total: {old_price} USD" in summary.text

    # The panel doubles its rate and the catalog is re-synced while the summary is open.
    env.sandbox.set_rate(service.service_id, service.rate * 2)
    admin = env.admin()
    await admin.send("/sync")
    new_item = await item_for(env, service.service_id)
    new_price = (new_item.price_rate * 1000 / 1000).quantize(Decimal("0.01"))
    assert new_price != old_price

    await user.tap(texts.BTN_CONFIRM, summary)
    fresh = user.last()
    assert f"changed from {old_price} USD to {new_price} USD" in fresh.text
    assert "Nothing was charged" in fresh.text
    assert f"Total: {new_price} USD" in fresh.text
    assert texts.BTN_CONFIRM in fresh.button_texts
    assert add_requests(env) == []
    assert await wallet.get_balance(env.db, user.user_id) == FUNDS

    # The old summary's Confirm no longer works; the fresh one charges exactly its price.
    await user.tap_data(summary.data_for(texts.BTN_CONFIRM) or "", summary)
    assert user.answers()[-1] == texts.SUMMARY_STALE
    assert add_requests(env) == []
    await user.tap(texts.BTN_CONFIRM, fresh)
    assert "placed" in user.last().text
    assert await wallet.get_balance(env.db, user.user_id) == FUNDS - new_price
    assert len(add_requests(env)) == 1


async def test_a_subscription_without_a_post_limit_is_never_placed(bot_env: BotEnv) -> None:
    env = bot_env
    user = await customer(env, funds=FUNDS)
    service = env.sandbox.find_service(OrderType.SUBSCRIPTIONS)
    item = await item_for(env, service.service_id)
    result = await ordering.place_order(
        env.db,
        env.app.bot_data.panels,
        user_id=user.user_id,
        chat_id=user.chat_id,
        item_id=item.item_id,
        request=OrderRequest(
            str(service.service_id),
            OrderType.SUBSCRIPTIONS,
            username="star",
            min=service.min,
            max=service.min,
            delay=0,
        ),
        idempotency_key=uuid.uuid4().hex,
    )
    assert result.kind is ordering.PlacementKind.INVALID
    assert "number of posts" in result.message
    assert add_requests(env) == []
    assert await wallet.get_balance(env.db, user.user_id) == FUNDS


# --------------------------------------------------------------------------- partial refunds


async def refresh(user: FakeUser, order_id: int) -> None:
    await user.send("/orders")
    await user.tap(encode(Action.ORDER_CARD, order_id))
    await user.tap(order_texts.BTN_REFRESH)


async def test_a_partial_with_unknown_remains_is_settled_by_the_shop_not_refunded(
    bot_env: BotEnv,
) -> None:
    env = bot_env
    user = await customer(env, funds=FUNDS)
    order = await place(env, user)
    assert order.panel_order_id is not None
    balance = await wallet.get_balance(env.db, user.user_id)
    quarter = order.quantity // 4
    env.sandbox.set_status(order.panel_order_id, "In progress", remains=order.quantity - quarter)
    await refresh(user, order.order_id)
    # Then Partial with "remains": "Unknown": the true remains may be far lower by now.
    env.sandbox.set_status(order.panel_order_id, "Partial", remains_unknown=True)
    await refresh(user, order.order_id)

    notice = await delivered_to(env, user.chat_id, "partially completed")
    assert "the shop will settle your money" in notice.text
    assert "refunded" not in notice.text
    alert = await delivered_to(env, env.admin().chat_id, "ended partial")
    assert f"#{order.order_id}" in alert.text and "/credit" in alert.text
    assert await wallet.get_balance(env.db, user.user_id) == balance
    assert "Partially completed" in drawn_card(user).text


async def test_a_partial_refund_that_rounds_to_nothing_is_not_called_uncountable(
    bot_env: BotEnv,
) -> None:
    env = bot_env
    user = await customer(env, funds=FUNDS)
    order = await place(env, user)
    assert order.panel_order_id is not None
    # One unit undelivered of a cheap order: its share is below a cent.
    share = (order.price / order.quantity).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
    assert share == 0
    balance = await wallet.get_balance(env.db, user.user_id)
    env.sandbox.set_status(order.panel_order_id, "Partial", remains=1)
    await refresh(user, order.order_id)
    notice = await delivered_to(env, user.chat_id, "partially completed")
    assert "less than 0.01 USD" in notice.text
    assert "settle" not in notice.text
    assert await wallet.get_balance(env.db, user.user_id) == balance
    admin_texts = [str(c.params.get("text")) for c in env.calls("sendMessage")]
    assert not any("cannot be counted" in text for text in admin_texts)


# --------------------------------------------------------------------------- restarts


async def test_a_summary_that_expired_while_the_bot_was_down_places_nothing(
    bot_env: BotEnv,
) -> None:
    env = bot_env
    env.settings = env.settings.model_copy(update={"conversation_timeout": 1.0})
    await env.restart()
    user = await customer(env, funds=FUNDS)
    summary = await summary_for(env, user)
    # Down for longer than the timeout: the in-memory timeout job dies with the process.
    await env.restart(pause=1.1)
    await user.tap(texts.BTN_CONFIRM, summary)
    assert texts.DRAFT_EXPIRED in user.answers()
    assert user.last().text == texts.DRAFT_EXPIRED
    assert add_requests(env) == []
    assert await wallet.get_balance(env.db, user.user_id) == FUNDS
    # The conversation is over: typed text is a search again, not an answer.
    await user.send("followers")
    assert "Check your order" not in user.last().text


async def test_an_order_left_placing_by_a_crash_goes_to_review_at_start(bot_env: BotEnv) -> None:
    env = bot_env
    user = await customer(env, funds=FUNDS)
    service = env.sandbox.find_service(OrderType.DEFAULT)
    item = await item_for(env, service.service_id)
    price = Decimal("1.25")
    # What a crash mid-``add`` leaves: the order written and charged, still "placing".
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

    order = await ordering.get_order(env.db, order_id)
    assert order is not None and order.status == ordering.REVIEW
    admin = env.admin()
    alert = await delivered_to(env, admin.chat_id, f"Order #{order_id} is held for review")
    assert "interrupted while placing" in alert.text
    await admin.tap(order_texts.BTN_OPEN_REVIEW, alert)
    card = admin.last()
    assert f"Order #{order_id}" in card.text
    assert card.button_texts == [order_texts.BTN_MARK_PLACED, order_texts.BTN_MARK_FAILED]
    await admin.send("/review")
    assert any(f"Order #{order_id}" in m.text for m in admin.replies())


# --------------------------------------------------------------------------- held orders


async def test_admins_hear_about_a_held_order_at_once(bot_env: BotEnv) -> None:
    env = bot_env
    user = await customer(env, funds=FUNDS)
    summary = await summary_for(env, user)
    env.sandbox.faults.add("error_after_create", action="add")
    await user.tap(texts.BTN_CONFIRM, summary)
    assert "under review" in user.last().text
    [order] = (await ordering.list_user_orders(env.db, user.user_id, 0)).items
    admin = env.admin()
    alert = await delivered_to(env, admin.chat_id, f"Order #{order.order_id} is held for review")
    assert "Why:" in alert.text
    assert alert.button_texts == [order_texts.BTN_OPEN_REVIEW]
    await admin.tap(order_texts.BTN_OPEN_REVIEW, alert)
    assert f"Order #{order.order_id}" in admin.last().text
    # Customers cannot open review cards, even with the admin's button data.
    await user.tap_data(encode(Action.REVIEW_CARD, order.order_id), user.last())
    assert user.answers()[-1] == order_texts.ADMIN_ONLY_ALERT


async def test_an_admins_own_held_order_says_to_review_it(bot_env: BotEnv) -> None:
    env = bot_env
    admin = env.admin()
    await admin.send("/start")
    summary = await summary_for(env, admin)
    env.sandbox.faults.add("error_after_create", action="add")
    admin.replies()
    await admin.tap(texts.BTN_CONFIRM, summary)
    # The outbox may deliver the admins' alert meanwhile: read the reply to the tap itself.
    [reply] = [m for m in admin.replies() if "could not be confirmed" in m.text]
    assert "/review" in reply.text
    assert "an admin will check" not in reply.text.lower()


# --------------------------------------------------------------------------- configured panels


async def test_switching_to_a_configured_panel_takes_sandbox_services_off_sale(
    bot_env: BotEnv,
) -> None:
    env = bot_env
    user = await customer(env, funds=FUNDS)
    order = await place(env, user)
    old_item = await item_for(env, env.sandbox.find_service(OrderType.DEFAULT).service_id)
    real = PanelSettings(
        name="times", dialect="v2", url=env.sandbox.url_for("v2"), key=env.sandbox.key
    )
    env.settings = env.settings.model_copy(update={"panels": [real]})
    await env.restart()

    platforms = await catalog.list_platforms(env.db)
    assert platforms, "the configured panel's catalog is on sale"
    sold = await catalog.search_services(env.db, old_item.service.service_id, 0, 50)
    assert sold.items and {item.panel for item in sold.items} == {"times"}
    assert await catalog.get_item(env.db, old_item.item_id) is None
    # An old service card's Order button says the service is gone; nothing is sent.
    await user.tap_data(encode(Action.ORDER, old_item.item_id), user.last())
    assert user.last().text == texts.SERVICE_GONE
    # The order placed on the old panel stays readable.
    await user.send("/orders")
    await user.tap(encode(Action.ORDER_CARD, order.order_id))
    assert f"Order #{order.order_id}" in drawn_card(user).text
