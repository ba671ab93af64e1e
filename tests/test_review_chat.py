"""The admin's review of held orders in the chat: /review, Mark placed, Mark failed (refund).

An order is held when the panel may have received it but the answer was lost: the sandbox
creates the order and then answers 502 (``error_after_create``).
"""

from __future__ import annotations

from decimal import Decimal

from bot import texts as common_texts
from bot.callbacks import Action, encode
from bot.services import ordering, wallet
from bot.services.ordering import OrderRecord
from bot.texts import orders as texts
from storage import orders as order_rows
from tests.fakes.chat_orders import customer, drawn_card, place
from tests.fakes.outbox import queued_texts
from tests.fakes.telegram_fixtures import BotEnv, FakeUser

FUNDS = Decimal(500)


async def held_order(env: BotEnv, user: FakeUser) -> tuple[OrderRecord, str]:
    """Place an order whose answer is lost; return it and the ID the panel gave it."""
    known = set(env.sandbox.orders)
    order = await place(env, user, lost=True)
    (panel_id,) = set(env.sandbox.orders) - known
    return order, panel_id


async def admin_alerted(env: BotEnv, order: OrderRecord) -> None:
    """Wait until the outbox delivered the admins' "panel lost this order" alert, so that it
    cannot land between a command and the reply the test reads next."""
    await env.wait_until(
        lambda: any(
            "unknown to" in str(c.params.get("text"))
            and f"#{order.order_id}" in str(c.params.get("text"))
            for c in env.calls("sendMessage")
        ),
        what="the admins' alert",
    )


async def told(env: BotEnv, user: FakeUser) -> list[str]:
    """Every message queued in the outbox for this user (sent or not yet)."""
    return await queued_texts(env.db, user.chat_id, currency=env.settings.currency)


async def status_of(env: BotEnv, order_id: int) -> str:
    order = await ordering.get_order(env.db, order_id)
    assert order is not None
    return order.status


async def test_admin_marks_a_held_order_placed_with_the_panels_id(bot_env: BotEnv) -> None:
    ann = await customer(bot_env, "Ann", FUNDS)
    order, panel_id = await held_order(bot_env, ann)
    assert await wallet.get_balance(bot_env.db, ann.user_id) == FUNDS - order.price

    admin = bot_env.admin()
    await admin.send("/review")
    title, card = admin.replies()
    assert "1 order needs a decision" in title.text
    assert f"Order #{order.order_id}" in card.text and "Ann @ann" in card.text
    assert card.button_texts == [texts.BTN_MARK_PLACED, texts.BTN_MARK_FAILED]

    await admin.tap(texts.BTN_MARK_PLACED)
    assert f"order #{order.order_id}" in admin.last().text
    await admin.send("12 34")  # not an ID: asked again, nothing changes
    assert admin.last().html == texts.BAD_PANEL_ID
    assert await status_of(bot_env, order.order_id) == ordering.REVIEW

    await admin.send(panel_id)
    assert "marked placed" in admin.last().text
    placed = await ordering.get_order(bot_env.db, order.order_id)
    assert placed is not None
    assert placed.status == "pending" and placed.panel_order_id == panel_id
    # The money stays charged: the panel has the order.
    assert await wallet.get_balance(bot_env.db, ann.user_id) == FUNDS - order.price
    notices = await told(bot_env, ann)
    assert len(notices) == 1 and f"#{order.order_id}" in notices[0]
    assert "confirmed" in notices[0]

    await admin.send("/review")
    assert "No order is waiting for review" in admin.last().text

    # What the admin types afterwards is no longer taken for a panel ID.
    await admin.send("999")
    assert (await ordering.get_order(bot_env.db, order.order_id)) == placed


async def test_admin_marks_a_held_order_failed_and_the_customer_is_refunded(
    bot_env: BotEnv,
) -> None:
    ann = await customer(bot_env, "Ann", FUNDS)
    order, _panel_id = await held_order(bot_env, ann)
    admin = bot_env.admin()
    await admin.send("/review")
    card = admin.last()

    await admin.tap(texts.BTN_MARK_FAILED)
    reply = admin.last()
    assert f"Order #{order.order_id} marked failed" in reply.text
    assert f"{order.price:.2f} USD was refunded" in reply.text
    assert await status_of(bot_env, order.order_id) == ordering.FAILED
    assert await wallet.get_balance(bot_env.db, ann.user_id) == FUNDS
    notices = await told(bot_env, ann)
    assert len(notices) == 1
    assert "could not be" in notices[0] and f"{FUNDS:.2f} USD" in notices[0]

    # The card lost its buttons; pressing an old one again refunds nothing more.
    stored = bot_env.api.chat(admin.chat_id).messages[card.message_id]
    assert not (stored.get("reply_markup") or {}).get("inline_keyboard")
    await admin.tap(texts.BTN_MARK_FAILED, card)
    assert admin.answers()[-1] == texts.not_under_review_alert(order.order_id)
    assert await wallet.get_balance(bot_env.db, ann.user_id) == FUNDS
    assert len(await told(bot_env, ann)) == 1


async def test_a_panel_id_already_used_by_another_order_is_refused(bot_env: BotEnv) -> None:
    ann = await customer(bot_env, "Ann", FUNDS)
    first, first_panel_id = await held_order(bot_env, ann)
    second, _ = await held_order(bot_env, ann)
    admin = bot_env.admin()
    await ordering.resolve_review(
        bot_env.db, first.order_id, panel_order_id=first_panel_id, admin_id=admin.user_id
    )
    await admin.send("/review")
    await admin.tap(encode(Action.REVIEW, second.order_id))
    await admin.send(first_panel_id)
    refused = admin.last().text
    assert "already belongs to another order" in refused and f"#{first.order_id}" in refused
    assert await status_of(bot_env, second.order_id) == ordering.REVIEW
    await admin.send("/cancel")
    assert admin.last().text == texts.REVIEW_STOPPED
    assert await status_of(bot_env, second.order_id) == ordering.REVIEW


async def test_a_customer_cannot_review(bot_env: BotEnv) -> None:
    ann = await customer(bot_env, "Ann", FUNDS)
    order, panel_id = await held_order(bot_env, ann)
    await ann.send("/review")
    assert ann.last().text == common_texts.ADMIN_ONLY
    assert f"#{order.order_id}" not in ann.last().text

    await ann.tap_data(encode(Action.REVIEW_FAILED, order.order_id))
    await ann.tap_data(encode(Action.REVIEW, order.order_id))
    assert ann.answers() == [common_texts.ADMIN_ONLY_BUTTON, common_texts.ADMIN_ONLY_BUTTON]
    await ann.send(panel_id)  # not taken as a panel ID
    assert await status_of(bot_env, order.order_id) == ordering.REVIEW
    assert await wallet.get_balance(bot_env.db, ann.user_id) == FUNDS - order.price


async def test_an_order_the_panel_no_longer_knows_comes_to_review(bot_env: BotEnv) -> None:
    ann = await customer(bot_env, "Ann", FUNDS)
    order = await place(bot_env, ann)
    assert order.panel_order_id is not None
    bot_env.sandbox.forget_order(order.panel_order_id)
    await ann.send("/orders")
    await ann.tap(encode(Action.ORDER_CARD, order.order_id))
    await ann.tap(texts.BTN_REFRESH)
    assert "Under review" in drawn_card(ann).text

    admin = bot_env.admin()
    await admin_alerted(bot_env, order)
    await admin.send("/review")
    card = admin.last()
    assert f"Order #{order.order_id}" in card.text
    assert f"no longer knows its order ID {order.panel_order_id}" in card.text
    assert "The panel said: Incorrect order ID" in card.text
    await admin.tap(texts.BTN_MARK_FAILED)
    assert await status_of(bot_env, order.order_id) == ordering.FAILED
    assert await wallet.get_balance(bot_env.db, ann.user_id) == FUNDS
    assert any("could not be placed" in text for text in await told(bot_env, ann))


async def test_the_review_card_quotes_why_the_order_is_held(bot_env: BotEnv) -> None:
    ann = await customer(bot_env, "Ann", FUNDS)
    order, _ = await held_order(bot_env, ann)
    admin = bot_env.admin()
    await admin.send("/review")
    card = admin.last()
    assert order.error is not None
    assert f"Why: {order.error}" in card.text
    # Held with an ID only because the panel lost it; this one never got one.
    assert "no longer knows" not in card.text

    # Whatever the words, they are quoted, not obeyed as HTML.
    await order_rows.set_status(bot_env.db, order.order_id, ordering.REVIEW, error="<b>x</b> & y")
    await admin.send("/review")
    assert "Why: <i>&lt;b&gt;x&lt;/b&gt; &amp; y</i>" in admin.last().html


async def test_an_order_the_panel_lost_is_marked_placed_under_its_own_id(
    bot_env: BotEnv,
) -> None:
    ann = await customer(bot_env, "Ann", FUNDS)
    order = await place(bot_env, ann)
    assert order.panel_order_id is not None
    bot_env.sandbox.forget_order(order.panel_order_id)
    await ann.send("/orders")
    await ann.tap(encode(Action.ORDER_CARD, order.order_id))
    await ann.tap(texts.BTN_REFRESH)
    lost = await ordering.get_order(bot_env.db, order.order_id)
    assert lost is not None and lost.not_found and lost.status == ordering.REVIEW

    admin = bot_env.admin()
    await admin_alerted(bot_env, order)
    [alert] = [
        c for c in bot_env.calls("sendMessage") if "unknown to" in str(c.params.get("text"))
    ]
    [[button]] = alert.params["reply_markup"]["inline_keyboard"]
    assert button["text"] == texts.BTN_OPEN_REVIEW
    assert button["callback_data"] == encode(Action.REVIEW_CARD, order.order_id)
    await admin.send("/review")
    await admin.tap(texts.BTN_MARK_PLACED)
    await admin.send(order.panel_order_id)
    assert "marked placed" in admin.last().text
    placed = await ordering.get_order(bot_env.db, order.order_id)
    assert placed is not None
    assert (placed.status, placed.panel_order_id) == ("pending", order.panel_order_id)
    assert (placed.not_found, placed.error) == (False, None)
    assert any("confirmed" in text for text in await told(bot_env, ann))
