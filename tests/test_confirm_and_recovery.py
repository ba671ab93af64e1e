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
import time
from decimal import ROUND_DOWN, Decimal

from bot import texts as common_texts
from bot.callbacks import Action, encode
from bot.config import PanelSettings
from bot.panels.models import OrderRequest, OrderType
from bot.services import catalog, ordering, wallet
from bot.texts import ordering as texts
from bot.texts import orders as order_texts
from tests.fakes.chat_orders import (
    customer,
    delivered_to,
    drawn_card,
    item_for,
    left_placing,
    place,
    place_request,
    refresh,
    summary_for,
)
from tests.fakes.telegram_fixtures import BotEnv, FakeUser

FUNDS = Decimal(500)


def add_requests(env: BotEnv) -> list[object]:
    return [r for r in env.sandbox.requests if r.action == "add"]


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
    result = await place_request(
        env,
        user,
        item,
        OrderRequest(
            str(service.service_id),
            OrderType.SUBSCRIPTIONS,
            username="star",
            min=service.min,
            max=service.min,
            delay=0,
        ),
    )
    assert result.kind is ordering.PlacementKind.INVALID
    assert "number of posts" in result.message
    assert add_requests(env) == []
    assert await wallet.get_balance(env.db, user.user_id) == FUNDS


# --------------------------------------------------------------------------- partial refunds


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
    order_id = await left_placing(env, user, Decimal("1.25"))
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
    assert user.answers()[-1] == common_texts.ADMIN_ONLY_BUTTON


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
    env.settings = env.settings.copy_with(panels=[real])
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


# --------------------------------------------------------------------------- found in review
# ---- partials


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
    assert texts.CHOOSE_FIELD in user.last().text
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


async def test_the_customer_of_an_order_interrupted_by_a_crash_is_told_it_is_held(
    bot_env: BotEnv,
) -> None:
    env = bot_env
    user = await customer(env, funds=FUNDS)
    # The customer saw only "Placing…" on their Confirm.
    order_id = await left_placing(env, user, Decimal("1.25"))
    await env.restart()
    text = (await delivered_to(env, user.chat_id, f"#{order_id}")).text
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
    assert texts.USE_BUTTONS_SUMMARY in user.last().text  # said in the summary itself
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
    alert = (await delivered_to(env, env.admin().chat_id, "is now Refunded")).text
    assert f"#{order.order_id}" in alert and "/credit" in alert
    notice = (await delivered_to(env, user.chat_id, f"Order #{order.order_id} was refunded")).text
    assert "the shop will settle" in notice
