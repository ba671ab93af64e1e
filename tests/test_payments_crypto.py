"""Topping up with Crypto Pay through the chat: an invoice paid, expired, paid late, found
by polling or by a signed webhook (a forged one refused), and Crypto Pay being down."""

from __future__ import annotations

from decimal import Decimal

from bot.payment_jobs import CRYPTO_POLL_JOB
from bot.services import payments, wallet
from bot.texts import payments as pay_texts
from tests.fakes.crypto_pay import FakeCryptoPay
from tests.fakes.payment_fixtures import SUPPORT, delivered, ledger_agrees, outbox_texts
from tests.fakes.telegram_fixtures import ADMIN_ID, BotEnv, FakeUser

STARS_FOR_10 = 770


async def customer(env: BotEnv) -> FakeUser:
    user = env.user()
    await user.send("/start")
    user.replies()
    return user


async def open_crypto_invoice(env: BotEnv, user: FakeUser) -> payments.Payment:
    await user.send("/topup")
    await user.tap("10.00 USD")
    await user.tap(pay_texts.BTN_CRYPTO)
    user.answers()
    [payment] = await payments.user_payments(env.db, user.user_id)
    return payment


def webhook_url(env: BotEnv) -> str:
    jobs = env.app.bot_data.payment_jobs
    assert jobs is not None and jobs.webhook_url is not None
    return str(jobs.webhook_url)


async def poll(env: BotEnv) -> None:
    [job] = env.app.job_queue.get_jobs_by_name(CRYPTO_POLL_JOB)
    await job.run(env.app)


async def test_a_crypto_invoice_paid_is_credited_once(
    crypto_env: BotEnv, crypto_pay: FakeCryptoPay
) -> None:
    env = crypto_env
    ann = await customer(env)
    await ann.send("/topup")
    await ann.tap("10.00 USD")
    assert ann.last().button_texts == [
        pay_texts.stars_button(STARS_FOR_10),
        pay_texts.BTN_CRYPTO,
        pay_texts.BTN_CANCEL,
    ]
    await ann.tap(pay_texts.BTN_CRYPTO)
    shown = ann.last()
    assert "Pay 10.00 USD in crypto (USDT, TON) through Crypto Pay" in shown.text
    assert shown.button_texts == [pay_texts.BTN_PAY_CRYPTO, pay_texts.BTN_CHECK_PAYMENT]
    [payment] = await payments.user_payments(env.db, ann.user_id)
    assert payment.provider is payments.Provider.CRYPTOPAY
    invoice = crypto_pay.invoices[int(payment.provider_payment_id or 0)]
    assert (invoice.amount, invoice.fiat, invoice.accepted_assets) == (
        Decimal(10),
        "USD",
        ["USDT", "TON"],
    )
    assert invoice.payload == payment.payload
    ann.answers()
    stored = env.api.chat(ann.chat_id).messages[shown.message_id]
    assert stored["reply_markup"]["inline_keyboard"][0][0]["url"] == payment.pay_url

    await ann.tap(pay_texts.BTN_CHECK_PAYMENT)
    assert ann.answers() == [pay_texts.CRYPTO_NOT_PAID_YET]

    crypto_pay.pay(invoice.invoice_id, asset="TON")
    await poll(env)
    await poll(env)

    assert await wallet.get_balance(env.db, ann.user_id) == Decimal(10)
    notice = await delivered(env, ann, "Payment received")
    assert "10.00 USD added to your balance (payment #1)" in notice
    admin_notice = await delivered(env, env.admin(), "Payment #1")
    assert "Crypto Pay, 1.90476191 TON" in admin_notice
    await ann.tap(pay_texts.BTN_CHECK_PAYMENT, shown)
    assert ann.answers() == [pay_texts.CHECK_DONE]
    [paid] = await payments.user_payments(env.db, ann.user_id)
    assert (paid.state, paid.paid_asset) == (payments.State.CREDITED, "TON")
    await ledger_agrees(env)


async def test_an_invoice_paid_and_checked_by_the_customer(
    crypto_env: BotEnv, crypto_pay: FakeCryptoPay
) -> None:
    env = crypto_env
    ann = await customer(env)
    payment = await open_crypto_invoice(env, ann)
    crypto_pay.pay(int(payment.provider_payment_id or 0))

    await ann.tap(pay_texts.BTN_CHECK_PAYMENT)

    assert ann.answers() == [pay_texts.CHECK_DONE]
    assert await wallet.get_balance(env.db, ann.user_id) == Decimal(10)
    await ledger_agrees(env)


async def test_an_expired_invoice_ends_expired_and_a_late_payment_is_credited_once(
    crypto_env: BotEnv, crypto_pay: FakeCryptoPay
) -> None:
    env = crypto_env
    ann = await customer(env)
    payment = await open_crypto_invoice(env, ann)
    invoice_id = int(payment.provider_payment_id or 0)

    crypto_pay.expire(invoice_id)
    await poll(env)
    [expired] = await payments.user_payments(env.db, ann.user_id)
    assert expired.state is payments.State.EXPIRED
    await ann.tap(pay_texts.BTN_CHECK_PAYMENT)
    assert ann.answers() == [pay_texts.CRYPTO_EXPIRED]
    assert await wallet.get_balance(env.db, ann.user_id) == Decimal(0)
    await ledger_agrees(env)

    crypto_pay.pay(invoice_id, asset="USDT")  # paid after all, late
    await poll(env)
    url = webhook_url(env)
    assert await crypto_pay.deliver_webhook(url, invoice_id) == 200
    await poll(env)

    assert await wallet.get_balance(env.db, ann.user_id) == Decimal(10)
    [late] = await payments.user_payments(env.db, ann.user_id)
    assert late.state is payments.State.CREDITED
    await delivered(env, ann, "Payment received")
    await ledger_agrees(env)


async def test_the_webhook_credits_a_paid_invoice_and_refuses_a_forged_one(
    crypto_env: BotEnv, crypto_pay: FakeCryptoPay
) -> None:
    env = crypto_env
    ann = await customer(env)
    payment = await open_crypto_invoice(env, ann)
    invoice_id = int(payment.provider_payment_id or 0)
    url = webhook_url(env)
    crypto_pay.pay(invoice_id)

    assert await crypto_pay.deliver_webhook(url, invoice_id, forged=True) == 401
    assert await wallet.get_balance(env.db, ann.user_id) == Decimal(0)
    [unpaid] = await payments.user_payments(env.db, ann.user_id)
    assert unpaid.state is payments.State.CREATED

    assert await crypto_pay.deliver_webhook(url, invoice_id) == 200
    assert await crypto_pay.deliver_webhook(url, invoice_id) == 200
    assert await wallet.get_balance(env.db, ann.user_id) == Decimal(10)
    await delivered(env, ann, "Payment received")
    credited = [t for t in await outbox_texts(env, ADMIN_ID) if "Payment #1" in t]
    assert len(credited) == 1
    await ledger_agrees(env)


async def test_crypto_pay_down_tells_the_customer_without_details(
    crypto_env: BotEnv, crypto_pay: FakeCryptoPay
) -> None:
    env = crypto_env
    ann = await customer(env)
    crypto_pay.fail_next(1)
    await ann.send("/topup")
    await ann.tap("10.00 USD")
    await ann.tap(pay_texts.BTN_CRYPTO)

    shown = ann.last().text
    assert pay_texts.CRYPTO_UNAVAILABLE in shown and SUPPORT in shown
    assert "500" not in shown and "http" not in shown.lower()
    [payment] = await payments.user_payments(env.db, ann.user_id)
    assert payment.state is payments.State.EXPIRED
    await poll(env)
    assert await wallet.get_balance(env.db, ann.user_id) == Decimal(0)
    await ledger_agrees(env)


async def test_with_only_a_token_stars_are_the_one_way_to_pay(bot_env: BotEnv) -> None:
    ann = await customer(bot_env)
    await ann.send("/topup")
    await ann.tap("10.00 USD")
    assert ann.last().button_texts == [pay_texts.stars_button(STARS_FOR_10), pay_texts.BTN_CANCEL]
    await ann.send("/help")
    assert "Top up" in ann.replies()[-1].text

    # Over Telegram's 10,000 Stars a payment (129.87 USD at 77 Stars per USD).
    await ann.send("/topup")
    await ann.tap(pay_texts.BTN_OTHER_AMOUNT)
    await ann.send("200")
    refused = ann.last()
    assert "top up at most 129.87 USD at a time" in refused.text
    assert refused.button_texts == [pay_texts.BTN_OTHER_AMOUNT, pay_texts.BTN_CANCEL]


async def test_a_paid_invoice_that_does_not_match_its_payment_goes_to_the_admins(
    crypto_env: BotEnv, crypto_pay: FakeCryptoPay
) -> None:
    env = crypto_env
    ann = await customer(env)
    payment = await open_crypto_invoice(env, ann)
    invoice_id = int(payment.provider_payment_id or 0)
    crypto_pay.invoices[invoice_id].amount = Decimal(1)  # changed on Crypto Pay's side
    crypto_pay.pay(invoice_id)

    await poll(env)

    assert await wallet.get_balance(env.db, ann.user_id) == Decimal(0)
    alert = await delivered(env, env.admin(), "does not match payment #1")
    assert f"invoice {invoice_id}" in alert
    await ledger_agrees(env)
