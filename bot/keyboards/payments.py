"""Keyboards of the top-up flow and the admins' receipt cards (payloads via the codec)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import Action
from bot.i18n import _
from bot.keyboards import back_to_menu_button, button
from bot.texts import payments as texts

METHOD_STARS = "stars"
METHOD_CRYPTO = "crypto"
METHOD_MANUAL = "manual"
ASK_REASON = "ask"
BACK = "back"


def cents(amount: Decimal) -> int:
    """An amount as whole cents, the way buttons carry it."""
    return int((amount * 100).to_integral_value())


def top_up_button(origin: int, missing: Decimal | None = None) -> InlineKeyboardButton:
    """The Top up button (from an order summary, with the missing amount offered first)."""
    return button(
        _(texts.BTN_TOP_UP), Action.TOPUP, origin, 0 if missing is None else cents(missing)
    )


def balance_keyboard() -> InlineKeyboardMarkup:
    """Top up and the way back to the menu, under the balance."""
    return InlineKeyboardMarkup([[top_up_button(0)], [back_to_menu_button()]])


def amounts_keyboard(origin: int, amounts: Sequence[tuple[Decimal, str]]) -> InlineKeyboardMarkup:
    """One button per amount (two a row), then Other amount and Cancel."""
    buttons = [button(label, Action.TOPUP_AMOUNT, origin, cents(a)) for a, label in amounts]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.append(
        [
            button(_(texts.BTN_OTHER_AMOUNT), Action.TOPUP_OTHER, origin),
            button(_(texts.BTN_CANCEL), Action.TOPUP_CANCEL),
        ]
    )
    return InlineKeyboardMarkup(rows)


def cancel_keyboard() -> InlineKeyboardMarkup:
    """Only Cancel (while the customer types)."""
    return InlineKeyboardMarkup([[button(_(texts.BTN_CANCEL), Action.TOPUP_CANCEL)]])


def methods_keyboard(
    origin: int, amount: Decimal, methods: Sequence[tuple[str, str]]
) -> InlineKeyboardMarkup:
    """One button per enabled method (method, label), then Cancel."""
    rows = [
        [button(label, Action.TOPUP_METHOD, origin, cents(amount), method)]
        for method, label in methods
    ]
    rows.append([button(_(texts.BTN_CANCEL), Action.TOPUP_CANCEL)])
    return InlineKeyboardMarkup(rows)


def crypto_keyboard(pay_url: str, payment_id: int) -> InlineKeyboardMarkup:
    """Pay (opens Crypto Pay) and I have paid (checks now)."""
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(_(texts.BTN_PAY_CRYPTO), url=pay_url)],
            [button(_(texts.BTN_CHECK_PAYMENT), Action.PAY_CHECK, payment_id)],
        ]
    )


def receipt_card_keyboard(payment_id: int) -> InlineKeyboardMarkup:
    """Approve / Reject on an admin's receipt card."""
    return InlineKeyboardMarkup(
        [
            [
                button(_(texts.BTN_APPROVE), Action.PAY_APPROVE, payment_id),
                button(_(texts.BTN_REJECT), Action.PAY_REJECT, payment_id, ASK_REASON),
            ]
        ]
    )


def reject_reasons_keyboard(payment_id: int) -> InlineKeyboardMarkup:
    """The reasons to reject with, and Back to Approve / Reject."""
    rows = [
        [button(_(reason).capitalize(), Action.PAY_REJECT, payment_id, code)]
        for code, reason in texts.REJECT_REASONS.items()
    ]
    rows.append([button(_(texts.BTN_BACK), Action.PAY_REJECT, payment_id, BACK)])
    return InlineKeyboardMarkup(rows)


def back_to_order_keyboard() -> InlineKeyboardMarkup:
    """The way back to the order summary waiting for this top-up."""
    return InlineKeyboardMarkup([[button(_(texts.BTN_BACK_TO_ORDER), Action.ORDER_RESUME)]])
