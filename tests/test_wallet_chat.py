"""The Balance screen: what a customer sees of their money."""

from __future__ import annotations

from decimal import Decimal

from bot import texts
from bot.services import wallet
from bot.texts import payments as payment_texts
from tests.fakes.telegram_fixtures import ADMIN_ID, BotEnv


async def test_a_new_customer_sees_a_zero_balance_and_how_to_top_up(bot_env: BotEnv) -> None:
    ann = bot_env.user()
    await ann.send("/start")
    menu = ann.last()

    await ann.tap(texts.BUTTON_BALANCE)
    assert ann.answers() == [""]
    shown = ann.last()
    assert shown.message_id == menu.message_id, "the menu turns into the balance screen"
    assert "Your balance: 0.00 USD" in shown.text
    assert "No payments yet. Tap Top up to add money." in shown.text
    assert shown.button_texts == [payment_texts.BTN_TOP_UP, texts.BUTTON_MENU]

    await ann.tap(texts.BUTTON_MENU)
    assert texts.BUTTON_BALANCE in ann.last().button_texts


async def test_the_balance_lists_the_latest_entries_newest_first(bot_env: BotEnv) -> None:
    ann = bot_env.user()
    await ann.send("/start")
    db = bot_env.db
    for number in range(1, 6):
        await wallet.credit(db, ann.user_id, Decimal(number), reason=f"top-up {number}")
    await wallet.credit(
        db, ann.user_id, Decimal("20.5"), reason="bank <transfer> & co", admin_id=ADMIN_ID
    )
    await wallet.debit(db, ann.user_id, Decimal("3.25"), reason="chargeback")
    ann.replies()

    await ann.send("/balance")
    [reply] = ann.replies()
    assert reply.method == "sendMessage"
    assert "Your balance: 32.25 USD" in reply.text
    lines = reply.text.splitlines()
    entries = [line for line in lines if line.startswith(("+", "−"))]
    assert entries == [
        "−3.25 USD · Deduction: chargeback",
        "+20.50 USD · Top-up: bank <transfer> & co",
        "+5.00 USD · Top-up: top-up 5",
        "+4.00 USD · Top-up: top-up 4",
        "+3.00 USD · Top-up: top-up 3",
    ]
    assert "top-up 2" not in reply.text, "only the five latest entries are listed"
    assert "UTC" in reply.text


async def test_balances_are_per_customer(bot_env: BotEnv) -> None:
    ann = bot_env.user(1001, "Ann", "ann")
    bob = bot_env.user(1002, "Bob", "bob")
    await ann.send("/start")
    await bob.send("/start")
    await wallet.credit(bot_env.db, ann.user_id, Decimal("7"), reason="gift")

    await bob.send("/balance")
    assert "Your balance: 0.00 USD" in bob.replies()[-1].text
    await ann.send("/balance")
    assert "Your balance: 7.00 USD" in ann.replies()[-1].text
