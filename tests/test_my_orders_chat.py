"""My orders in the chat: the list, an order's card, Refresh, Refill and Cancel.

Every test drives the real bot through the fake Telegram Bot API and the sandbox panel (v2
dialect); orders are placed with the ordering service, as the order conversation does.
"""

from __future__ import annotations

from typing import Any

from bot import texts as common_texts
from bot.callbacks import Action, encode
from bot.services import panel_requests, status_sync
from bot.services.ordering import OrderRecord
from bot.texts import orders as texts
from tests.fakes.chat_orders import LINK, customer, delivered_to, drawn_card, place
from tests.fakes.telegram_fixtures import BotEnv, FakeUser, Msg

# --------------------------------------------------------------------------- helpers


def panel_calls(env: BotEnv, action: str) -> list[Any]:
    return [r for r in env.sandbox.requests if r.action == action]


async def delivered(user: FakeUser, words: str) -> Msg:
    """Wait (up to 5 s) for the outbox to deliver a message with ``words`` to the user."""
    return await delivered_to(user.env, user.chat_id, words)


async def open_card(user: FakeUser, order: OrderRecord) -> Msg:
    await user.send("/orders")
    await user.tap(encode(Action.ORDER_CARD, order.order_id))
    return drawn_card(user)


# --------------------------------------------------------------------------- the list


async def test_my_orders_lists_twelve_orders_eight_per_page(bot_env: BotEnv) -> None:
    user = await customer(bot_env)
    placed = [await place(bot_env, user) for _ in range(12)]
    ids = [o.order_id for o in placed]

    await user.send("/start")
    await user.tap(common_texts.BUTTON_MY_ORDERS)
    first = user.last()
    assert "My orders" in first.text and "(12)" in first.text
    order_buttons = [d for row in first.buttons for _, d in row if d and d.startswith("oc:")]
    assert order_buttons == [encode(Action.ORDER_CARD, i) for i in reversed(ids[4:])]
    assert "1/2" in first.button_texts and texts.BTN_PREVIOUS not in first.button_texts

    await user.tap(texts.BTN_NEXT)
    second = user.last()
    assert second.message_id == first.message_id  # the list is edited in place
    order_buttons = [d for row in second.buttons for _, d in row if d and d.startswith("oc:")]
    assert order_buttons == [encode(Action.ORDER_CARD, i) for i in reversed(ids[:4])]
    assert "2/2" in second.button_texts and texts.BTN_NEXT not in second.button_texts
    assert f"#{ids[0]}" in second.text and f"#{ids[4]}" not in second.text


async def test_a_customer_without_orders_is_offered_a_new_order(bot_env: BotEnv) -> None:
    user = await customer(bot_env)
    await user.send("/orders")
    reply = user.last()
    assert "no orders yet" in reply.text
    assert texts.BTN_NEW_ORDER in reply.button_texts


async def test_each_customer_sees_only_their_own_orders(bot_env: BotEnv) -> None:
    ann = await customer(bot_env, "Ann")
    bob = await customer(bot_env, "Bob")
    ann_order = await place(bot_env, ann)
    bob_order = await place(bot_env, bob)
    await bob.send("/orders")
    shown = bob.last()
    assert f"#{bob_order.order_id}" in shown.text
    assert f"#{ann_order.order_id}" not in shown.text
    assert "(1)" in shown.text


# --------------------------------------------------------------------------- the card


async def test_card_shows_the_order_and_refresh_shows_the_new_status(bot_env: BotEnv) -> None:
    user = await customer(bot_env)
    order = await place(bot_env, user)
    card = await open_card(user, order)
    assert f"Order #{order.order_id}" in card.text
    assert order.service_name in card.text
    assert LINK in card.text and "&lt;def&gt;" in card.html  # escaped, shown as typed
    assert f"Quantity: {order.quantity:,}" in card.text
    assert f"Price: {order.price:,.2f} USD" in card.text
    assert "Pending" in card.text
    assert texts.BTN_REFRESH in card.button_texts

    assert order.panel_order_id is not None
    delivered = order.quantity * 3 // 5
    bot_env.sandbox.set_status(
        order.panel_order_id, "In progress", remains=order.quantity - delivered
    )
    await user.tap(texts.BTN_REFRESH)
    card = drawn_card(user)
    assert "Status: 🚀 In progress" in card.text
    assert f"Remains: {order.quantity - delivered:,}" in card.text
    assert "Start count:" in card.text
    assert "▰▰▰▰▰▰▱▱▱▱ 60%" in card.text
    history = card.text.split("History", 1)[1]
    assert history.index("Pending") < history.index("In progress")
    assert len(panel_calls(bot_env, "status")) >= 1

    bot_env.sandbox.set_status(order.panel_order_id, "Completed")
    await user.tap(texts.BTN_REFRESH)
    card = drawn_card(user)
    assert "Status: ✅ Completed" in card.text
    assert "100%" in card.text and "Remains: 0" in card.text


async def test_a_panel_that_cannot_be_reached_leaves_the_last_known_status(
    bot_env: BotEnv,
) -> None:
    user = await customer(bot_env)
    order = await place(bot_env, user)
    await open_card(user, order)
    bot_env.sandbox.faults.add("http500", count=10, action="status")
    await user.tap(texts.BTN_REFRESH)
    card = drawn_card(user)
    assert "could not be reached" in card.text
    assert "Pending" in card.text


async def test_a_status_notice_opens_the_card_below_it(bot_env: BotEnv) -> None:
    user = await customer(bot_env)
    order = await place(bot_env, user)
    assert order.panel_order_id is not None
    bot_env.sandbox.set_status(order.panel_order_id, "Completed")
    await open_card(user, order)
    await user.tap(texts.BTN_REFRESH)
    notice = await delivered(user, f"Order #{order.order_id} is completed")

    await user.tap(encode(Action.ORDER_CARD, order.order_id), notice)
    card = drawn_card(user)
    assert card.method == "sendMessage" and card.message_id > notice.message_id
    assert "Status: ✅ Completed" in card.text
    assert bot_env.api.chat(user.chat_id).messages[notice.message_id]["text"] == notice.text


# --------------------------------------------------------------------------- refill


async def test_refill_is_offered_only_for_a_completed_refill_order_and_sent_once(
    bot_env: BotEnv,
) -> None:
    user = await customer(bot_env)
    order = await place(bot_env, user, refill=True)
    assert order.panel_order_id is not None
    card = await open_card(user, order)
    assert texts.BTN_REFILL not in card.button_texts  # still pending

    bot_env.sandbox.set_status(order.panel_order_id, "Completed")
    await user.tap(texts.BTN_REFRESH)
    card = drawn_card(user)
    assert texts.BTN_REFILL in card.button_texts

    # A double tap: both presses queued before the bot handles either.
    api = bot_env.api
    stored = api.chat(user.chat_id).messages[card.message_id]
    public = {k: v for k, v in stored.items() if k != "html"}
    data = encode(Action.REFILL, order.order_id)
    api.queue_callback(user.as_dict(), public, data)
    api.queue_callback(user.as_dict(), public, data)
    await bot_env.settle(api.last_update_id)

    assert len(panel_calls(bot_env, "refill")) == 1
    card = drawn_card(user)
    assert "Refill requested" in card.text
    assert "♻ Refill · " in card.text  # the request is listed with its status
    assert texts.BTN_REFILL not in card.button_texts
    requests = await panel_requests.order_requests(bot_env.db, order.order_id)
    assert [r.kind for r in requests] == ["refill"]


async def test_no_refill_button_for_a_service_without_refill(bot_env: BotEnv) -> None:
    user = await customer(bot_env)
    order = await place(bot_env, user, refill=False)
    assert order.panel_order_id is not None
    bot_env.sandbox.set_status(order.panel_order_id, "Completed")
    await open_card(user, order)
    await user.tap(texts.BTN_REFRESH)
    card = drawn_card(user)
    assert "Completed" in card.text
    assert texts.BTN_REFILL not in card.button_texts

    # A forged Refill press for it is refused and nothing reaches the panel.
    await user.tap_data(encode(Action.REFILL, order.order_id))
    assert user.answers()[-1] == texts.REFILL_NOT_ALLOWED_ALERT
    assert panel_calls(bot_env, "refill") == []


# --------------------------------------------------------------------------- cancel


async def test_cancel_is_offered_for_a_pending_cancel_order_and_works(bot_env: BotEnv) -> None:
    user = await customer(bot_env)
    order = await place(bot_env, user, cancel=True)
    card = await open_card(user, order)
    assert texts.BTN_CANCEL_ORDER in card.button_texts

    await user.tap(texts.BTN_CANCEL_ORDER, card)
    assert len(panel_calls(bot_env, "cancel")) == 1
    card = drawn_card(user)
    assert "Cancellation requested" in card.text
    assert texts.BTN_CANCEL_ORDER not in card.button_texts


async def test_no_cancel_button_for_a_service_without_cancel(bot_env: BotEnv) -> None:
    user = await customer(bot_env)
    order = await place(bot_env, user, cancel=False)
    card = await open_card(user, order)
    assert texts.BTN_CANCEL_ORDER not in card.button_texts


async def test_cancel_of_an_order_that_finished_meanwhile_is_refused(bot_env: BotEnv) -> None:
    user = await customer(bot_env)
    order = await place(bot_env, user, cancel=True)
    assert order.panel_order_id is not None
    stale_card = await open_card(user, order)
    assert texts.BTN_CANCEL_ORDER in stale_card.button_texts

    # The order completes and the bot learns it (as the status sync would).
    bot_env.sandbox.set_status(order.panel_order_id, "Completed")
    await status_sync.refresh_order(bot_env.db, bot_env.app.bot_data.panels, order.order_id)

    await user.tap(texts.BTN_CANCEL_ORDER, stale_card)
    assert user.answers()[-1] == texts.CANCEL_NOT_ALLOWED_ALERT
    assert panel_calls(bot_env, "cancel") == []
    assert texts.BTN_CANCEL_ORDER not in drawn_card(user).button_texts


# --------------------------------------------------------------------------- other people's


async def test_another_customers_order_number_is_refused_everywhere(bot_env: BotEnv) -> None:
    ann = await customer(bot_env, "Ann")
    bob = await customer(bot_env, "Bob")
    order = await place(bot_env, ann, refill=True, cancel=True)
    assert order.panel_order_id is not None
    bot_env.sandbox.set_status(order.panel_order_id, "Completed")
    await bob.send("/orders")
    bob.replies()
    statuses_before = len(panel_calls(bot_env, "status"))

    for action in (Action.ORDER_CARD, Action.REFRESH, Action.REFILL, Action.CANCEL_ORDER):
        await bob.tap_data(encode(action, order.order_id))
        assert bob.answers() == [texts.NOT_YOUR_ORDER_ALERT]
    assert all(order.service_name not in m.text for m in bob.replies())
    assert f"Order #{order.order_id}" not in bob.last().text
    assert panel_calls(bot_env, "refill") == []
    assert panel_calls(bot_env, "cancel") == []
    assert len(panel_calls(bot_env, "status")) == statuses_before
    assert await panel_requests.order_requests(bot_env.db, order.order_id) == []

    # A number nobody has gets the same sentence.
    await bob.tap_data(encode(Action.ORDER_CARD, order.order_id + 1000))
    assert bob.answers() == [texts.NOT_YOUR_ORDER_ALERT]


async def test_a_forged_order_button_is_refused(bot_env: BotEnv) -> None:
    user = await customer(bot_env)
    await user.send("/orders")
    user.replies()
    await user.tap_data("oc:not-a-number")
    assert user.answers() == [common_texts.BUTTON_INVALID]
    assert user.replies() == []
