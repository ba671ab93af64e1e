"""Manual receipts through the chat: the customer sends proof, the first admin's decision
wins, every admin sees it and the customer is told; plus the amount picker's typed input."""

from __future__ import annotations

from decimal import Decimal

from bot import texts
from bot.callbacks import Action, encode
from bot.services import payments, wallet
from bot.texts import payments as pay_texts
from tests.fakes.payment_fixtures import (
    INSTRUCTIONS,
    SECOND_ADMIN_ID,
    SUPPORT,
    delivered,
    ledger_agrees,
)
from tests.fakes.telegram_fixtures import ADMIN_ID, BotEnv, FakeUser


async def customer(env: BotEnv, name: str = "Ann") -> FakeUser:
    user = env.user(first_name=name, username=name.lower())
    await user.send("/start")
    user.replies()
    return user


async def choose_manual(user: FakeUser, amount_label: str = "25.00 USD") -> None:
    await user.send("/topup")
    await user.tap(amount_label)
    await user.tap(pay_texts.BTN_MANUAL)


def card_of(admin: FakeUser) -> tuple[str, list[str]]:
    latest = [m for m in admin._bot_messages() if "Receipt #" in m.text][-1]
    return latest.text, latest.button_texts


async def test_a_receipt_approved_by_one_admin_while_another_taps_reject(
    pay_env: BotEnv,
) -> None:
    env = pay_env
    ann = await customer(env)
    boss = env.admin()
    zed = env.user(SECOND_ADMIN_ID, "Zed", "zed")

    await choose_manual(ann)
    shown = ann.last()
    assert "Top up 25.00 USD by transfer" in shown.text
    assert INSTRUCTIONS in shown.text, "the owner's text is shown as written"
    assert "&lt;1111&gt; &amp;" in shown.html
    assert SUPPORT in shown.text

    await ann.send_photo("receipt-photo-1", caption="paid from <my> card")
    thanks = ann.last().text
    assert "Your receipt for 25.00 USD (payment #1) was sent" in thanks
    for admin in (boss, zed):
        [card] = [c for c in env.calls("sendPhoto") if c.params["chat_id"] == admin.chat_id]
        assert card.params["photo"] == "receipt-photo-1"
        text, buttons = card_of(admin)
        assert "Receipt #1 from Ann @ann" in text
        assert "Amount claimed: 25.00 USD" in text
        assert "Reference: paid from <my> card" in text
        assert buttons == [pay_texts.BTN_APPROVE, pay_texts.BTN_REJECT]
    assert await wallet.get_balance(env.db, ann.user_id) == Decimal(0)

    # Zed's card still shows its buttons when Boss approves; Zed taps Reject on it.
    zed_card = [m for m in zed._bot_messages() if "Receipt #" in m.text][-1]
    reject = zed_card.data_for(pay_texts.BTN_REJECT)
    assert reject is not None
    await boss.tap(pay_texts.BTN_APPROVE)
    await zed.tap_data(reject, zed_card)

    assert zed.answers() == ["Payment #1 was already approved (credited)."]
    for admin in (boss, zed):
        text, buttons = card_of(admin)
        assert f"Approved by Boss @boss ({ADMIN_ID})" in text and "25.00 USD credited" in text
        assert buttons == []
    assert any("Payment #1 approved" in m.text for m in boss.replies())
    assert await wallet.get_balance(env.db, ann.user_id) == Decimal(25)
    notice = await delivered(env, ann, "Payment received")
    assert "25.00 USD added to your balance (payment #1)" in notice
    await delivered(env, zed, "Payment #1: 25.00 USD from Ann")
    [payment] = await payments.user_payments(env.db, ann.user_id)
    assert (payment.state, payment.decided_by) == (payments.State.CREDITED, ADMIN_ID)
    await ledger_agrees(env)

    # A late Approve changes nothing.
    await zed.tap_data(f"pa:{payment.payment_id}", zed_card)
    assert zed.answers() == ["Payment #1 was already approved (credited)."]
    assert await wallet.get_balance(env.db, ann.user_id) == Decimal(25)


async def test_a_receipt_rejected_with_a_reason_tells_the_customer(pay_env: BotEnv) -> None:
    env = pay_env
    ann = await customer(env)
    boss = env.admin()
    zed = env.user(SECOND_ADMIN_ID, "Zed", "zed")
    await choose_manual(ann, "10.00 USD")
    await ann.send("TX-998877")

    text, _ = card_of(boss)
    assert "Reference: TX-998877" in text
    await boss.tap(pay_texts.BTN_REJECT)
    reasons = card_of(boss)[1]
    assert reasons == [*[r.capitalize() for r in pay_texts.REJECT_REASONS.values()], "⬅ Back"]
    await boss.tap("⬅ Back")
    assert card_of(boss)[1] == [pay_texts.BTN_APPROVE, pay_texts.BTN_REJECT]
    await boss.tap(pay_texts.BTN_REJECT)
    await boss.tap("The amount does not match the receipt")

    for admin in (boss, zed):
        assert (
            f"Rejected by Boss @boss ({ADMIN_ID}): the amount does not match the receipt"
            in card_of(admin)[0]
        )
    notice = await delivered(env, ann, "was not accepted")
    assert "the amount does not match the receipt" in notice
    assert "/paysupport" in notice
    assert await wallet.get_balance(env.db, ann.user_id) == Decimal(0)
    await ledger_agrees(env)

    await zed.send("/approve 1")
    assert zed.replies()[-1].text == "Payment #1 was already rejected."
    assert await wallet.get_balance(env.db, ann.user_id) == Decimal(0)


async def test_an_admin_approves_a_corrected_amount_or_rejects_by_command(
    pay_env: BotEnv,
) -> None:
    env = pay_env
    ann = await customer(env)
    boss = env.admin()
    await choose_manual(ann, "50.00 USD")
    await ann.send("ref 1")
    await choose_manual(ann, "5.00 USD")
    await ann.send("ref 2")

    await boss.send("/approve 1 45,50")
    assert "Payment #1 approved: 45.50 USD credited." in boss.replies()[-1].text
    await boss.send("/reject 2 no <such> transfer")
    assert "Payment #2 rejected" in boss.replies()[-1].text
    notice = await delivered(env, ann, "was not accepted")
    assert "no <such> transfer" in notice
    assert await wallet.get_balance(env.db, ann.user_id) == Decimal("45.50")
    second, first = await payments.user_payments(env.db, ann.user_id)
    assert first.amount == Decimal("45.50") and first.note == "claimed 50.00 USD"
    assert second.state is payments.State.REJECTED
    await ledger_agrees(env)

    for command in ("/approve", "/approve x", "/approve 1 -3", "/reject 2"):
        await boss.send(command)
        assert "Usage" in boss.replies()[-1].text
    await boss.send("/approve 99")
    assert boss.replies()[-1].text == "There is no payment #99."
    await ann.send("/approve 2")
    assert ann.replies()[-1].text == texts.ADMIN_ONLY

    await boss.send("/user @ann")
    report = boss.replies()[-1].text
    assert "Latest payments" in report
    assert "#2 · 5.00 USD · receipt · rejected" in report
    assert "#1 · 45.50 USD · receipt · credited" in report


async def test_typed_amounts_are_checked_and_asked_again(pay_env: BotEnv) -> None:
    env = pay_env
    ann = await customer(env)
    await ann.send("/topup")
    await ann.tap(pay_texts.BTN_OTHER_AMOUNT)
    assert "Send the amount in USD, from 1.00 USD to 500.00 USD" in ann.last().text

    await ann.send("lots <of> money")
    assert "is not an amount" in ann.last().text and "&lt;of&gt;" in ann.last().html
    await ann.send("0.5")
    assert "0.50 USD is outside the limits" in ann.last().text
    await ann.send("100000")
    assert "100,000.00 USD is outside the limits" in ann.last().text
    await ann.send("12,5")
    assert "Top up 12.50 USD. How would you like to pay?" in ann.last().text
    # The conversation is over: typed words are a search again.
    await ann.send("instagram")
    assert "How would you like to pay" not in ann.last().text

    await ann.tap(pay_texts.BTN_CANCEL, [m for m in ann._bot_messages() if m.buttons][-2])
    assert await wallet.get_balance(env.db, ann.user_id) == Decimal(0)


async def test_a_receipt_needs_a_photo_or_a_reference(pay_env: BotEnv) -> None:
    env = pay_env
    ann = await customer(env)
    await choose_manual(ann)
    env.api.queue_update(
        {
            "message": {
                "message_id": env.api.chat(ann.chat_id).take_message_id(),
                "from": ann.as_dict(),
                "chat": env.api.chat(ann.chat_id).as_dict(),
                "date": 0,
                "sticker": {
                    "file_id": "st",
                    "file_unique_id": "st",
                    "type": "regular",
                    "width": 1,
                    "height": 1,
                    "is_animated": False,
                    "is_video": False,
                },
            }
        }
    )
    await env.settle(env.api.last_update_id)
    assert ann.last().text == pay_texts.RECEIPT_NEEDS_PROOF
    await ann.send("/cancel")
    assert ann.last().text == pay_texts.TOPUP_CANCELLED
    assert await payments.user_payments(env.db, ann.user_id) == []


async def test_forged_amount_buttons_are_refused(pay_env: BotEnv) -> None:
    ann = await customer(pay_env)
    await ann.send("/topup")
    await ann.tap_data("ta:0:99999999")
    await ann.tap_data("tm:0:1000:stars")
    await ann.tap_data("tm:0:1000:gold")
    assert ann.answers() == [texts.BUTTON_INVALID, "", pay_texts.METHOD_OFF]
    await ann.tap_data("tu:x")
    assert ann.answers() == [texts.BUTTON_INVALID]


async def test_a_receipt_started_before_a_restart_is_taken_after_it(pay_env: BotEnv) -> None:
    env = pay_env
    ann = await customer(env)
    await choose_manual(ann, "5.00 USD")

    await env.restart()
    await ann.send("TX-after-restart")

    assert "Your receipt for 5.00 USD (payment #1) was sent" in ann.last().text
    [payment] = await payments.user_payments(env.db, ann.user_id)
    assert payment.reference == "TX-after-restart"


async def test_a_customer_pressing_a_receipt_cards_buttons_is_refused(pay_env: BotEnv) -> None:
    env = pay_env
    ann = await customer(env)
    await choose_manual(ann)
    await ann.send("TX-42")
    [payment] = await payments.user_payments(env.db, ann.user_id)
    ann.answers()

    for data in (
        encode(Action.PAY_APPROVE, payment.payment_id),
        encode(Action.PAY_REJECT, payment.payment_id, "ask"),
    ):
        await ann.tap_data(data)
    assert ann.answers() == [texts.ADMIN_ONLY_BUTTON, texts.ADMIN_ONLY_BUTTON]
    [still] = await payments.user_payments(env.db, ann.user_id)
    assert still.state is payments.State.CREATED
    assert await wallet.get_balance(env.db, ann.user_id) == Decimal(0)
