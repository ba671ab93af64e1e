"""Topping up with Telegram Stars, through the chat: invoice, pre-checkout, payment, refunds,
reconciliation, and the way back to an order that needed the money."""

from __future__ import annotations

import asyncio
from decimal import ROUND_CEILING, Decimal
from typing import Any

from bot import order_form, texts
from bot.callbacks import Action, encode
from bot.panels.models import OrderType
from bot.payment_jobs import STARS_RECONCILE_JOB
from bot.services import ordering, payments, wallet
from bot.services.catalog import CatalogItem
from bot.texts import ordering as order_texts
from bot.texts import payments as pay_texts
from tests.fakes.bot_api import StarTransaction
from tests.fakes.chat_orders import item_for
from tests.fakes.payment_fixtures import SUPPORT, delivered, ledger_agrees, outbox_texts
from tests.fakes.telegram_fixtures import ADMIN_ID, BotEnv, FakeUser, Msg

STARS_FOR_10 = 770  # 10 USD at the default 77 Stars per USD
LINK = "https://example.com/post/42"
CENT = Decimal("0.01")


async def item_of_type(env: BotEnv, order_type: OrderType) -> CatalogItem:
    """A service of this type without drip-feed (fewer questions)."""
    service = env.sandbox.find_service(order_type, dripfeed=False)
    return await item_for(env, service.service_id)


def expected_price(item: CatalogItem, units: int) -> Decimal:
    return max((item.price_rate * units / 1000).quantize(CENT, rounding=ROUND_CEILING), CENT)


def add_requests(env: BotEnv) -> list[Any]:
    return [r for r in env.sandbox.requests if r.action == "add"]


async def ready_summary(env: BotEnv, user: FakeUser, item: CatalogItem) -> Msg:
    """Search the service, open its card, Order, and answer up to the summary."""
    await user.send(f"/search {item.item_id}")
    await user.tap(encode(Action.SERVICE, item.item_id))
    await user.tap(order_texts.BTN_ORDER)
    await user.send(LINK)
    await user.send(str(item.service.min))
    if order_form.asks_dripfeed(item.service):
        await user.tap("No")
    summary = user.last()
    assert "Check your order" in summary.text, summary.text
    user.answers()
    return summary


async def customer(env: BotEnv, name: str = "Ann", user_id: int | None = None) -> FakeUser:
    user = env.user(user_id, first_name=name, username=name.lower())
    await user.send("/start")
    user.replies()
    return user


def said(user: FakeUser, needle: str) -> str:
    """The latest reply with ``needle`` (the outbox may slip a notice in between)."""
    found = [m.text for m in user.replies() if needle in m.text]
    assert found, f"no reply with {needle!r}"
    return found[-1]


async def open_stars_invoice(user: FakeUser, amount_label: str = "10.00 USD") -> None:
    """Balance → Top up → an amount → Telegram Stars."""
    await user.send("/balance")
    await user.tap(pay_texts.BTN_TOP_UP)
    await user.tap(amount_label)
    await user.tap(pay_texts.stars_button(STARS_FOR_10))


async def test_a_stars_top_up_is_credited_once_and_the_admins_are_told(pay_env: BotEnv) -> None:
    env = pay_env
    ann = await customer(env)
    await ann.send("/balance")
    balance_screen = ann.last()
    assert "No payments yet. Tap Top up to add money." in balance_screen.text
    assert f"Help with payments: {SUPPORT}" in balance_screen.text
    assert balance_screen.button_texts == [pay_texts.BTN_TOP_UP, texts.BUTTON_MENU]

    await ann.tap(pay_texts.BTN_TOP_UP)
    picker = ann.last()
    assert "How much would you like to add? From 1.00 USD to 500.00 USD." in picker.text
    assert picker.button_texts == [
        "5.00 USD", "10.00 USD", "25.00 USD", "50.00 USD",
        pay_texts.BTN_OTHER_AMOUNT, pay_texts.BTN_CANCEL,
    ]  # fmt: skip
    await ann.tap("10.00 USD")
    methods = ann.last()
    assert "Top up 10.00 USD. How would you like to pay?" in methods.text
    assert methods.button_texts == [
        pay_texts.stars_button(STARS_FOR_10),
        pay_texts.BTN_MANUAL,
        pay_texts.BTN_CANCEL,
    ]
    await ann.tap(pay_texts.stars_button(STARS_FOR_10))
    invoice = ann.latest_invoice()
    assert invoice.currency == "XTR"
    assert invoice.total_amount == STARS_FOR_10
    assert invoice.title == "Top-up 10.00 USD"
    assert "Pay 770 Stars with the invoice below to add 10.00 USD" in ann.replies()[-2].text

    charge = await ann.pay_invoice(invoice)
    [reply] = [m for m in ann.replies() if "Payment received" in m.text]
    assert "10.00 USD added to your balance (payment #1)" in reply.text
    assert "Your balance: 10.00 USD" in reply.text
    assert reply.button_texts == [], "a top-up from Balance has no order to go back to"
    assert await wallet.get_balance(env.db, ann.user_id) == Decimal(10)
    [payment] = await payments.user_payments(env.db, ann.user_id)
    assert payment.provider_payment_id == charge
    assert payment.state is payments.State.CREDITED
    assert payment.rate == Decimal(77)
    await ledger_agrees(env)

    admin = env.admin()
    notice = await delivered(env, admin, "Payment #1")
    assert "10.00 USD from Ann @ann" in notice and "770 Stars" in notice

    await ann.send("/balance")
    assert "+10.00 USD · Top-up: Telegram Stars payment #1" in ann.replies()[-1].text


async def test_the_same_successful_payment_twice_credits_once(pay_env: BotEnv) -> None:
    env = pay_env
    ann = await customer(env)
    await open_stars_invoice(ann)
    invoice = ann.latest_invoice()
    charge = await ann.pay_invoice(invoice)
    ann.replies()

    await ann.complete_payment(
        invoice.payload, invoice.total_amount, charge_id=charge, record=False
    )

    [again] = ann.replies()
    assert "This payment (#1) was already added to your balance." in again.text
    assert await wallet.get_balance(env.db, ann.user_id) == Decimal(10)
    assert len(await payments.user_payments(env.db, ann.user_id)) == 1
    await ledger_agrees(env)


async def test_an_old_invoice_paid_again_is_two_payments_each_credited_once(
    pay_env: BotEnv,
) -> None:
    env = pay_env
    ann = await customer(env)
    await open_stars_invoice(ann)
    invoice = ann.latest_invoice()
    # Paid from two devices: both pre-checkouts come while the invoice is still open.
    first = await ann.pre_checkout(invoice.payload, invoice.total_amount)
    second = await ann.pre_checkout(invoice.payload, invoice.total_amount)
    assert first["ok"] is True and second["ok"] is True

    charge_a = await ann.complete_payment(invoice.payload, invoice.total_amount)
    charge_b = await ann.complete_payment(invoice.payload, invoice.total_amount)
    await ann.complete_payment(invoice.payload, invoice.total_amount, charge_id=charge_b)

    assert charge_a != charge_b
    assert await wallet.get_balance(env.db, ann.user_id) == Decimal(20)
    newer, older = await payments.user_payments(env.db, ann.user_id)
    assert (older.provider_payment_id, newer.provider_payment_id) == (charge_a, charge_b)
    assert newer.repeat_of == older.payment_id
    assert newer.amount == older.amount and newer.rate == older.rate
    await ledger_agrees(env)

    # Once paid, the invoice is no longer open.
    refused = await ann.pre_checkout(invoice.payload, invoice.total_amount)
    assert refused["ok"] is False
    assert refused["error_message"] == pay_texts.PRE_CHECKOUT_STALE


async def test_pre_checkout_refuses_another_users_stale_or_changed_invoice(
    pay_env: BotEnv,
) -> None:
    env = pay_env
    ann = await customer(env, "Ann")
    bob = await customer(env, "Bob")
    await open_stars_invoice(ann)
    invoice = ann.latest_invoice()

    answer = await bob.pre_checkout(invoice.payload, invoice.total_amount)
    assert (answer["ok"], answer["error_message"]) == (False, pay_texts.PRE_CHECKOUT_NOT_YOURS)
    assert answer["seconds"] < 10

    answer = await ann.pre_checkout(invoice.payload, invoice.total_amount - 1)
    assert (answer["ok"], answer["error_message"]) == (False, pay_texts.PRE_CHECKOUT_PRICE)

    answer = await ann.pre_checkout("tp-made-up-payload", invoice.total_amount)
    assert (answer["ok"], answer["error_message"]) == (False, pay_texts.PRE_CHECKOUT_UNKNOWN)

    # An invoice past its time is refused and closed.
    await env.db.conn.execute(
        "UPDATE payments SET expires_at = '2000-01-01T00:00:00.000000+00:00'"
    )
    answer = await ann.pre_checkout(invoice.payload, invoice.total_amount)
    assert (answer["ok"], answer["error_message"]) == (False, pay_texts.PRE_CHECKOUT_STALE)
    [payment] = await payments.user_payments(env.db, ann.user_id)
    assert payment.state is payments.State.EXPIRED
    assert await wallet.get_balance(env.db, ann.user_id) == Decimal(0)
    assert await wallet.get_balance(env.db, bob.user_id) == Decimal(0)
    await ledger_agrees(env)


async def test_an_expired_invoice_paid_anyway_is_still_credited_once(pay_env: BotEnv) -> None:
    env = pay_env
    ann = await customer(env)
    await open_stars_invoice(ann)
    invoice = ann.latest_invoice()
    assert (await ann.pre_checkout(invoice.payload, invoice.total_amount))["ok"] is True
    await env.db.conn.execute(
        "UPDATE payments SET state = 'expired', expires_at = '2000-01-01T00:00:00.000000+00:00'"
    )
    # Telegram took the Stars after an accepted pre-checkout: the money must arrive.
    await ann.complete_payment(invoice.payload, invoice.total_amount)
    assert await wallet.get_balance(env.db, ann.user_id) == Decimal(10)
    await ledger_agrees(env)


async def test_stars_that_match_no_top_up_are_kept_for_an_admin(pay_env: BotEnv) -> None:
    env = pay_env
    ann = await customer(env)
    await ann.complete_payment("tp-never-issued", 500)

    reply = ann.replies()[-1].text
    assert "does not match an open top-up" in reply and SUPPORT in reply
    assert await wallet.get_balance(env.db, ann.user_id) == Decimal(0)
    [payment] = await payments.user_payments(env.db, ann.user_id)
    assert payment.state is payments.State.PAID
    admin = env.admin()
    alert = await delivered(env, admin, "match no open top-up")
    assert "/refund 1" in alert
    await ledger_agrees(env)

    await admin.send("/refund 1")
    assert "the balance is unchanged" in said(admin, "refunded")
    assert [t.amount for t in env.api.star_transactions if not t.incoming] == [500]
    [refunded] = await payments.user_payments(env.db, ann.user_id)
    assert refunded.state is payments.State.REFUNDED
    assert await wallet.get_balance(env.db, ann.user_id) == Decimal(0)
    await ledger_agrees(env)


async def test_an_admin_refunds_unspent_stars_once(pay_env: BotEnv) -> None:
    env = pay_env
    ann = await customer(env)
    admin = env.admin()
    await open_stars_invoice(ann)
    charge = await ann.pay_invoice()

    await admin.send("/refund 1")
    reply = said(admin, "refunded")
    assert "Payment #1 refunded: 770 Stars returned and 10.00 USD taken back." in reply
    assert "Their balance is now 0.00 USD." in reply
    refunds = [t for t in env.api.star_transactions if not t.incoming]
    assert [(t.charge_id, t.amount) for t in refunds] == [(charge, STARS_FOR_10)]
    assert await wallet.get_balance(env.db, ann.user_id) == Decimal(0)
    await delivered(env, ann, "was refunded")
    await ledger_agrees(env)

    await admin.send("/refund 1")
    assert said(admin, "refunded") == "Payment #1 was already refunded."
    assert len([t for t in env.api.star_transactions if not t.incoming]) == 1


async def test_a_refund_telegram_already_made_is_taken_as_done(pay_env: BotEnv) -> None:
    env = pay_env
    ann = await customer(env)
    admin = env.admin()
    await open_stars_invoice(ann)
    charge = await ann.pay_invoice()
    # Refunded earlier (from another tool), so Telegram answers CHARGE_ALREADY_REFUNDED.
    env.api.star_transactions.append(
        StarTransaction(charge, ann.as_dict(), STARS_FOR_10, 0, incoming=False)
    )

    await admin.send("/refund 1")

    assert "Payment #1 refunded" in said(admin, "refunded")
    [call] = env.calls("refundStarPayment")
    assert call.description == "Bad Request: CHARGE_ALREADY_REFUNDED"
    assert await wallet.get_balance(env.db, ann.user_id) == Decimal(0)
    await ledger_agrees(env)


async def test_spent_stars_are_not_refunded(pay_env: BotEnv) -> None:
    env = pay_env
    ann = await customer(env)
    admin = env.admin()
    await open_stars_invoice(ann)
    await ann.pay_invoice()
    await wallet.debit(env.db, ann.user_id, Decimal(4), reason="spent")

    await admin.send("/refund 1")

    assert "the money was spent, so it cannot be refunded" in said(admin, "refund")
    assert env.calls("refundStarPayment") == []
    assert await wallet.get_balance(env.db, ann.user_id) == Decimal(6)
    await ledger_agrees(env)

    await ann.send("/refund 1")
    assert ann.replies()[-1].text == texts.ADMIN_ONLY


async def run_reconciliation(env: BotEnv) -> None:
    [job] = env.app.job_queue.get_jobs_by_name(STARS_RECONCILE_JOB)
    await job.run(env.app)


async def test_reconciliation_alerts_admins_once_per_difference(pay_env: BotEnv) -> None:
    env = pay_env
    ann = await customer(env)
    await open_stars_invoice(ann)
    await ann.pay_invoice()

    await run_reconciliation(env)
    alerts = [t for t in await outbox_texts(env, ADMIN_ID) if "reconciliation" in t]
    assert alerts == [], "our payments agree with Telegram's statement"

    env.api.star_transactions.append(
        StarTransaction("stxStranger", ann.as_dict(), 250, 0, incoming=True, payload="x")
    )
    await run_reconciliation(env)
    await run_reconciliation(env)

    alerts = [t for t in await outbox_texts(env, ADMIN_ID) if "reconciliation" in t]
    assert len(alerts) == 1, "each difference is told once"
    assert "Telegram lists 250 Stars from user" in alerts[0] and "stxStranger" in alerts[0]


async def test_the_reconciliation_closes_invoices_past_their_time(pay_env: BotEnv) -> None:
    env = pay_env
    ann = await customer(env)
    await open_stars_invoice(ann)
    await open_stars_invoice(ann)
    await env.db.conn.execute(
        "UPDATE payments SET expires_at = '2000-01-01T00:00:00.000000+00:00' WHERE payment_id = 1"
    )
    await run_reconciliation(env)
    newer, older = await payments.user_payments(env.db, ann.user_id)
    assert (older.state, newer.state) == (payments.State.EXPIRED, payments.State.CREATED)


# --------------------------------------------------------------------------- back to the order


async def test_not_enough_balance_top_up_pay_confirm_places_the_order_once(
    pay_env: BotEnv,
) -> None:
    env = pay_env
    item = await item_of_type(env, OrderType.DEFAULT)
    price = expected_price(item, item.service.min)
    ann = await customer(env)
    summary = await ready_summary(env, ann, item)
    assert f"You need {price:,} USD more" in summary.text
    assert SUPPORT in summary.text
    assert summary.button_texts[0] == pay_texts.BTN_TOP_UP

    await ann.tap(order_texts.BTN_CONFIRM, summary)
    refusal = ann.last()  # the summary itself, saying so
    assert refusal.message_id == summary.message_id
    assert "Not enough balance" in refusal.text and SUPPORT in refusal.text
    assert refusal.button_texts[0] == pay_texts.BTN_TOP_UP

    await ann.tap(pay_texts.BTN_TOP_UP, refusal)
    picker = ann.last()
    missing = max(price, Decimal(1))
    assert picker.button_texts[0] == f"{missing:,.2f} USD (what is missing)"
    await ann.tap(picker.button_texts[0])
    stars = payments.stars_for(missing, Decimal(77))
    await ann.tap(pay_texts.stars_button(stars))
    await ann.pay_invoice()
    credited = [m for m in ann.replies() if "Payment received" in m.text][-1]
    assert credited.button_texts == [pay_texts.BTN_BACK_TO_ORDER]

    await ann.tap(pay_texts.BTN_BACK_TO_ORDER, credited)
    again = ann.last()
    assert "Check your order" in again.text
    # The summary moved below the payment messages: one form message in the chat.
    assert sum("Check your order" in text for _, text in ann.chat_view()) == 1
    assert "You need" not in again.text
    assert pay_texts.BTN_TOP_UP not in again.button_texts
    await ann.tap(order_texts.BTN_CONFIRM, again)
    assert "placed" in ann.last().text
    await ann.tap(order_texts.BTN_CONFIRM, again)
    await ann.tap_data(summary.data_for(order_texts.BTN_CONFIRM) or "", again)

    ann.answers()
    await ann.tap(pay_texts.BTN_BACK_TO_ORDER, credited)
    assert ann.answers() == [pay_texts.NO_ORDER_WAITING]

    assert len(add_requests(env)) == 1
    assert (await ordering.list_user_orders(env.db, ann.user_id, 0)).total == 1
    assert await wallet.get_balance(env.db, ann.user_id) == missing - price
    await ledger_agrees(env)


async def test_a_payment_arriving_mid_order_is_credited_and_the_order_goes_on(
    pay_env: BotEnv,
) -> None:
    env = pay_env
    item = await item_of_type(env, OrderType.DEFAULT)
    ann = await customer(env)
    await open_stars_invoice(ann)
    invoice = ann.latest_invoice()
    await ann.send(f"/search {item.item_id}")
    await ann.tap(encode(Action.SERVICE, item.item_id))
    await ann.tap(order_texts.BTN_ORDER)
    assert "link" in ann.last().text.lower()

    await ann.pay_invoice(invoice)

    assert await wallet.get_balance(env.db, ann.user_id) == Decimal(10)
    assert "Payment received" in ann.last().text
    await ann.send(LINK)
    assert "How many" in ann.last().text, "the order conversation carries on"


async def test_paysupport_and_terms_answer(pay_env: BotEnv) -> None:
    ann = await customer(pay_env)
    await ann.send("/paysupport")
    reply = ann.replies()[-1].text
    assert "Payment support" in reply and SUPPORT in reply
    await ann.send("/terms")
    assert "Terms" in ann.replies()[-1].text
    await ann.send("/help")
    assert SUPPORT in ann.replies()[-1].text


async def pre_checkout_during_a_hanging_confirm(
    env: BotEnv, payer: FakeUser, confirmer: FakeUser, *, hang: float, limit: float
) -> dict[str, Any]:
    """``confirmer`` taps Confirm on a panel whose add hangs for ``hang`` seconds; meanwhile
    ``payer``'s Stars pre-checkout arrives. Return Telegram's record of its answer."""
    item = await item_of_type(env, OrderType.DEFAULT)
    await wallet.credit(env.db, confirmer.user_id, Decimal(1000), reason="test")
    await open_stars_invoice(payer)
    invoice = payer.latest_invoice()
    summary = await ready_summary(env, confirmer, item)
    env.sandbox.faults.add("hang", action="add", seconds=hang)
    confirm = summary.data_for(order_texts.BTN_CONFIRM)
    assert confirm is not None
    tap = asyncio.create_task(confirmer.tap_data(confirm, summary))
    await asyncio.sleep(0.3)
    query_id = env.api.queue_pre_checkout(payer.as_dict(), invoice.payload, invoice.total_amount)
    await env.wait_until(lambda: query_id in env.api.pre_checkout_answers, limit=limit)
    answer: dict[str, Any] = env.api.pre_checkout_answers[query_id]
    await tap
    return answer


async def test_pre_checkout_is_answered_while_another_customers_panel_call_hangs(
    pay_env: BotEnv,
) -> None:
    bob = await customer(pay_env, "Bob")
    ann = await customer(pay_env, "Ann")
    answer = await pre_checkout_during_a_hanging_confirm(pay_env, ann, bob, hang=8, limit=3)
    assert answer["ok"] is True
    assert answer["seconds"] < 2


async def test_pre_checkout_is_answered_while_the_same_customers_panel_call_hangs(
    pay_env: BotEnv,
) -> None:
    ann = await customer(pay_env, "Ann")
    # Her own Confirm is still waiting on the panel; Telegram waits 10 s for this answer.
    answer = await pre_checkout_during_a_hanging_confirm(pay_env, ann, ann, hang=3, limit=2)
    assert answer["ok"] is True
    assert answer["seconds"] < 1
