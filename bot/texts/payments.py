"""What top-ups say to customers and admins (HTML; user text escaped).

Callback answers and pre-checkout refusals are plain text (Telegram shows them as is).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from html import escape
from typing import TYPE_CHECKING

from bot.texts import money

if TYPE_CHECKING:
    from storage.payments import Payment

REFERENCE_SHOWN = 300
NOTE_SHOWN = 200

# --------------------------------------------------------------------------- buttons

BTN_TOP_UP = "💳 Top up"
BTN_BACK_TO_ORDER = "🧾 Back to my order"
BTN_OTHER_AMOUNT = "✏ Other amount"
BTN_CANCEL = "✖ Cancel"
BTN_STARS = "⭐ Telegram Stars"
BTN_CRYPTO = "🪙 Crypto (Crypto Pay)"
BTN_MANUAL = "🧾 Bank transfer / receipt"
BTN_PAY_CRYPTO = "🪙 Pay"
BTN_CHECK_PAYMENT = "🔄 I have paid"
BTN_APPROVE = "✅ Approve"
BTN_REJECT = "❌ Reject"
BTN_BACK = "⬅ Back"

# Reasons an admin picks from when rejecting a receipt (code → what the customer reads).
REJECT_REASONS: dict[str, str] = {
    "notfound": "the payment was not found on our side",
    "amount": "the amount does not match the receipt",
    "unreadable": "the receipt could not be read",
}


def top_up_amount_button(amount: Decimal, currency: str, *, missing: bool) -> str:
    """The button for one amount (the order's missing amount is marked)."""
    label = money(amount, currency)
    return f"{label} (what is missing)" if missing else label


def stars_button(stars: int) -> str:
    """The Stars method with its price."""
    return f"{BTN_STARS} · {stars:,} ⭐"


# --------------------------------------------------------------------------- support

HOW_TO_ADD = "Tap <b>Top up</b> to add money."
HELP_TOP_UP = (
    "To add money, tap <b>Top up</b> under /balance (or send /topup). /paysupport helps with "
    "a payment, /terms shows the terms."
)


def support_line(contact: str) -> str:
    """Where to ask for help, when the owner gave a contact."""
    if not contact.strip():
        return ""
    return f"🆘 Help with payments: {escape(contact.strip())}"


def support_suffix(contact: str) -> str:
    """The support line as a paragraph to append (empty without a contact)."""
    line = support_line(contact)
    return f"\n\n{line}" if line else ""


def with_support(text: str, contact: str) -> str:
    """Add the support line to a text when there is one."""
    line = support_line(contact)
    return f"{text}\n\n{line}" if line else text


# --------------------------------------------------------------------------- the picker


def choose_amount(
    minimum: Decimal, maximum: Decimal, currency: str, missing: Decimal | None
) -> str:
    """Ask how much to top up."""
    lines = ["💳 <b>Top up your balance</b>"]
    if missing is not None:
        lines.append(f"Your order needs {money(missing, currency)} more.")
    lines.append(
        f"How much would you like to add? From {money(minimum, currency)} "
        f"to {money(maximum, currency)}."
    )
    return "\n".join(lines)


def type_amount(minimum: Decimal, maximum: Decimal, currency: str) -> str:
    """Ask for a typed amount."""
    return (
        f"✏ Send the amount in {escape(currency)}, from {money(minimum, currency)} to "
        f"{money(maximum, currency)} (for example <code>15</code> or <code>7.50</code>)."
    )


def bad_amount(text: str) -> str:
    """Refuse a typed amount that is not a number."""
    shown = text if len(text) <= 40 else text[:39] + "…"
    return (
        f"⚠ “{escape(shown)}” is not an amount: send a number with at most two decimals, "
        "like <code>15</code> or <code>7.50</code>."
    )


def amount_out_of_range(amount: Decimal, minimum: Decimal, maximum: Decimal, currency: str) -> str:
    """Refuse a typed amount outside the limits."""
    return (
        f"⚠ {money(amount, currency)} is outside the limits: send an amount from "
        f"{money(minimum, currency)} to {money(maximum, currency)}."
    )


def choose_method(amount: Decimal, currency: str) -> str:
    """Ask how to pay."""
    return f"💳 Top up <b>{money(amount, currency)}</b>. How would you like to pay?"


NO_METHOD = "Top-ups are not available right now. Please contact the shop's administrator."
METHOD_OFF = "This way to pay is not available any more. Please choose another one."
TOPUP_CANCELLED = "Top-up cancelled. Nothing was charged."
TOPUP_EXPIRED = (
    "The top-up was left unfinished for a while, so it was closed. Nothing was charged."
)
SEND_AMOUNT_TEXT = "Please send the amount as a number, or /cancel."


# --------------------------------------------------------------------------- Stars


def stars_title(amount: Decimal, currency: str) -> str:
    """The invoice title (plain text, at most 32 characters)."""
    return f"Top-up {amount.quantize(Decimal('0.01'))} {currency}"[:32]


def stars_description(amount: Decimal, currency: str, stars: int) -> str:
    """The invoice description (plain text, at most 255 characters)."""
    return (
        f"Adds {amount.quantize(Decimal('0.01'))} {currency} to your balance in this shop "
        f"for {stars} Stars. Use it to pay for orders."
    )[:255]


STARS_LABEL = "Balance top-up"


def stars_invoice_sent(amount: Decimal, currency: str, stars: int, ttl_minutes: int) -> str:
    """Explain the invoice just sent."""
    return (
        f"⭐ Pay <b>{stars:,} Stars</b> with the invoice below to add "
        f"<b>{money(amount, currency)}</b> to your balance. It can be paid for "
        f"{ttl_minutes} minutes."
    )


def stars_too_much(largest: Decimal, currency: str) -> str:
    """Refuse an amount over Telegram's Stars limit for one invoice."""
    return (
        "⚠ That amount is more Stars than Telegram allows in one payment: top up at most "
        f"{money(largest, currency)} at a time."
    )


PRE_CHECKOUT_UNKNOWN = "This invoice is not from this shop's top-ups. Nothing was charged."
PRE_CHECKOUT_NOT_YOURS = "This invoice belongs to another customer. Nothing was charged."
PRE_CHECKOUT_STALE = (
    "This invoice has expired or was already paid. Please start a new top-up. Nothing was charged."
)
PRE_CHECKOUT_PRICE = "The price of this invoice changed. Please start a new top-up."
PRE_CHECKOUT_BUSY = "Sorry, we could not check this payment right now. Please try again."


def credited(payment: Payment, balance: Decimal, currency: str) -> str:
    """Tell the customer their payment reached the balance."""
    return (
        f"✅ Payment received: <b>{money(payment.amount, currency)}</b> added to your balance "
        f"(payment #{payment.payment_id}).\n👛 Your balance: <b>{money(balance, currency)}</b>"
    )


def duplicate(payment: Payment, balance: Decimal, currency: str) -> str:
    """The same payment notice came again: nothing more was added."""
    return (
        f"This payment (#{payment.payment_id}) was already added to your balance.\n"
        f"👛 Your balance: <b>{money(balance, currency)}</b>"
    )


def unmatched(payment: Payment) -> str:
    """Stars arrived that match no open top-up: an admin will settle them."""
    return (
        f"⚠ We received your payment of {payment.stars:,} Stars (payment "
        f"#{payment.payment_id}), but it does not match an open top-up. The shop's "
        "administrator has been told and will add it to your balance or refund it."
    )


PAYSUPPORT = (
    "🆘 <b>Payment support</b>\n\n"
    "Problems with a top-up? Tell us the payment number (shown when it was received, and "
    "under /balance) and what went wrong; we answer every request. Telegram support cannot "
    "help with purchases made in this bot."
)


def terms(currency: str, custom: str) -> str:
    """The shop's terms for payments."""
    if custom.strip():
        return f"📄 <b>Terms</b>\n\n{escape(custom.strip())}"
    return (
        "📄 <b>Terms</b>\n\n"
        f"• Top-ups add money to your balance in this shop, in {escape(currency)}, and are "
        "used only to pay for orders placed here.\n"
        "• A top-up paid in Telegram Stars can be refunded by the shop while its money has "
        "not been spent; ask through /paysupport.\n"
        "• An order that fails or is canceled is refunded to your balance automatically; a "
        "partial order is refunded for what was not delivered.\n"
        "• Delivery times and results depend on the service you choose; its card says what "
        "to expect.\n"
        "• For any problem with a payment, use /paysupport."
    )


# --------------------------------------------------------------------------- Crypto Pay


def crypto_invoice(amount: Decimal, currency: str, assets: Sequence[str], ttl_minutes: int) -> str:
    """Explain the Crypto Pay invoice just created."""
    accepted = ", ".join(escape(a) for a in assets)
    return (
        f"🪙 Pay <b>{money(amount, currency)}</b> in crypto ({accepted}) through Crypto Pay "
        f"with the button below. The invoice can be paid for {ttl_minutes} minutes; the "
        "money reaches your balance a moment after you pay."
    )


CRYPTO_UNAVAILABLE = (
    "😔 Crypto payments are not available right now. Please try again later or choose "
    "another way to pay. Nothing was charged."
)
CRYPTO_CHECK_FAILED = "We could not check the payment right now. Please try again in a minute."


def crypto_description(amount: Decimal, currency: str) -> str:
    """The invoice description Crypto Pay shows the payer."""
    return f"Balance top-up: {amount.quantize(Decimal('0.01'))} {currency}"


CRYPTO_NOT_PAID_YET = "Not paid yet. If you have just paid, give it a minute."
CRYPTO_EXPIRED = "This invoice has expired. Please start a new top-up."
CHECK_DONE = "✅ Received: the money is on your balance."
NO_ORDER_WAITING = "That order is no longer waiting. Start a new one from the menu: /menu"


# --------------------------------------------------------------------------- manual receipts


def manual_instructions(amount: Decimal, currency: str, instructions: str) -> str:
    """Show the owner's payment details and ask for the receipt."""
    return (
        f"🧾 <b>Top up {money(amount, currency)} by transfer</b>\n\n"
        f"{escape(instructions.strip())}\n\n"
        "When you have paid, send a <b>photo of the receipt</b> or the <b>transaction "
        "reference</b> here. An administrator checks it and adds the money to your balance."
    )


RECEIPT_NEEDS_PROOF = (
    "Please send a photo of the receipt or the transaction reference as text, or /cancel."
)


def receipt_received(payment: Payment, currency: str) -> str:
    """Confirm the receipt is waiting for an admin."""
    return (
        f"📨 Thank you! Your receipt for <b>{money(payment.amount, currency)}</b> "
        f"(payment #{payment.payment_id}) was sent to the shop's administrator. You will be "
        "told here as soon as it is checked."
    )


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def receipt_card(payment: Payment, who: str, currency: str) -> str:
    """The admins' card about a receipt (fits a photo caption: under 1024 characters)."""
    lines = [
        f"🧾 <b>Receipt #{payment.payment_id}</b> from {who}",
        f"Amount claimed: <b>{money(payment.amount, currency)}</b>",
    ]
    if payment.reference:
        lines.append(f"Reference: {escape(_cut(payment.reference, REFERENCE_SHOWN))}")
    lines.append(
        f"Other amount: <code>/approve {payment.payment_id} 12.50</code> · "
        f"own reason: <code>/reject {payment.payment_id} reason</code>"
    )
    return "\n".join(lines)


def receipt_decided(payment: Payment, who: str, currency: str, admin: str) -> str:
    """A receipt card after the decision (shown on every admin's card)."""
    head = f"🧾 <b>Receipt #{payment.payment_id}</b> from {who}"
    if payment.state.value in ("credited", "refunded"):
        return (
            f"{head}\n✅ Approved by {admin}: <b>{money(payment.amount, currency)}</b> credited."
        )
    reason = escape(_cut(payment.note or "", NOTE_SHOWN))
    return f"{head}\n❌ Rejected by {admin}: {reason}"


CHOOSE_REJECT_REASON = "Why is it rejected? The customer is told the reason."


def already_decided(payment: Payment) -> str:
    """Answer a late decision (plain text)."""
    if payment.state.value == "rejected":
        return f"Payment #{payment.payment_id} was already rejected."
    return f"Payment #{payment.payment_id} was already approved ({payment.state.value})."


def you_were_rejected(payment: Payment, currency: str) -> str:
    """Tell the customer their receipt was rejected, and why."""
    return (
        f"❌ Your receipt for {money(payment.amount, currency)} (payment "
        f"#{payment.payment_id}) was not accepted: {escape(_cut(payment.note or '', NOTE_SHOWN))}."
        "\nNothing was added to your balance. If you think this is a mistake, use /paysupport."
    )


APPROVE_USAGE = (
    "Usage: <code>/approve &lt;payment number&gt; [amount]</code> (the amount if it differs "
    "from the claim)"
)
REJECT_USAGE = "Usage: <code>/reject &lt;payment number&gt; &lt;reason&gt;</code>"
REFUND_USAGE = "Usage: <code>/refund &lt;payment number&gt;</code> (Telegram Stars payments)"


def approved_reply(payment: Payment, balance: Decimal, currency: str) -> str:
    """Confirm an approval to the deciding admin."""
    return (
        f"✅ Payment #{payment.payment_id} approved: {money(payment.amount, currency)} "
        f"credited. Their balance is now {money(balance, currency)}."
    )


def rejected_reply(payment: Payment) -> str:
    """Confirm a rejection to the deciding admin."""
    return f"❌ Payment #{payment.payment_id} rejected; the customer was told."


# --------------------------------------------------------------------------- notices


def _method(payment: Payment) -> str:
    if payment.provider.value == "stars":
        return f"{payment.stars:,} Stars"
    if payment.provider.value == "cryptopay":
        if payment.paid_asset and payment.paid_amount is not None:
            return f"Crypto Pay, {payment.paid_amount.normalize():f} {escape(payment.paid_asset)}"
        return "Crypto Pay"
    return "receipt"


def you_were_credited(payment: Payment, balance: Decimal, currency: str) -> str:
    """Tell the customer (through the outbox) their payment reached the balance."""
    return credited(payment, balance, currency)


def admin_credited(payment: Payment, who: str, balance: Decimal, currency: str) -> str:
    """Tell the admins a payment was credited."""
    extra = f" ({escape(payment.note)})" if payment.note else ""
    return (
        f"💰 Payment #{payment.payment_id}: <b>{money(payment.amount, currency)}</b> from "
        f"{who} by {_method(payment)}{extra}. Their balance: {money(balance, currency)}."
    )


def admin_unmatched_stars(payment: Payment, who: str) -> str:
    """Tell the admins Stars arrived that match no open top-up."""
    return (
        f"⚠ Payment #{payment.payment_id}: {payment.stars:,} Stars from {who} match no open "
        "top-up, so nothing was credited. Credit them with /credit or give the Stars back "
        f"with <code>/refund {payment.payment_id}</code>."
    )


def admin_crypto_mismatch(payment: Payment, invoice_id: int) -> str:
    """A paid Crypto Pay invoice does not match its payment: an admin settles it."""
    return (
        f"⚠ Crypto Pay invoice {invoice_id} was paid but does not match payment "
        f"#{payment.payment_id} (amount, currency or payload differ), so nothing was "
        "credited. Check it in Crypto Pay and credit the customer with /credit if right."
    )


def no_such_payment(payment_id: int) -> str:
    """There is no such payment."""
    return f"There is no payment #{payment_id}."


REFUND_ONLY_STARS = "Only Telegram Stars payments can be refunded from the bot."


def already_refunded(payment_id: int) -> str:
    """The payment was refunded before."""
    return f"Payment #{payment_id} was already refunded."


def not_refundable(payment: Payment) -> str:
    """The payment is in no state to refund."""
    return f"Payment #{payment.payment_id} is {payment.state.value}: there is nothing to refund."


def refund_spent(payment: Payment, balance: Decimal) -> str:
    """Refuse to refund money the customer already spent."""
    return (
        f"Payment #{payment.payment_id} added {payment.amount} but the customer's balance is "
        f"only {balance}: the money was spent, so it cannot be refunded."
    )


def refunded_reply(payment: Payment, balance: Decimal, currency: str) -> str:
    """Confirm a refund to the admin."""
    if payment.credited_at is None:
        return (
            f"↩ Payment #{payment.payment_id} refunded: {payment.stars:,} Stars returned "
            "(it was never credited, so the balance is unchanged)."
        )
    return (
        f"↩ Payment #{payment.payment_id} refunded: {payment.stars:,} Stars returned and "
        f"{money(payment.amount, currency)} taken back. Their balance is now "
        f"{money(balance, currency)}."
    )


def refund_failed(payment_id: int, error: str) -> str:
    """Telegram refused the refund."""
    return (
        f"❌ Telegram refused to refund payment #{payment_id}: {escape(error)}. Nothing changed."
    )


def you_were_refunded(payment: Payment, balance: Decimal, currency: str) -> str:
    """Tell the customer their Stars came back."""
    if payment.credited_at is None:
        return f"↩ Your payment #{payment.payment_id} of {payment.stars:,} Stars was refunded."
    return (
        f"↩ Your payment #{payment.payment_id} of {payment.stars:,} Stars was refunded, and "
        f"{money(payment.amount, currency)} was taken from your balance.\n"
        f"👛 Your balance: {money(balance, currency)}"
    )


def admin_refunded(payment: Payment, who: str, admin_id: int, currency: str) -> str:
    """Tell the other admins a payment was refunded."""
    return (
        f"↩ Payment #{payment.payment_id} ({money(payment.amount, currency)}, {who}) was "
        f"refunded by admin <code>{admin_id}</code>."
    )


def diff_missing(stars: int, user_id: int | None) -> str:
    """Telegram lists a payment we never recorded."""
    who = f"user <code>{user_id}</code>" if user_id is not None else "an unknown user"
    return f"Telegram lists {stars:,} Stars from {who} that we never recorded."


def diff_amount(payment: Payment, stars: int) -> str:
    """The amounts disagree."""
    return (
        f"payment #{payment.payment_id}: we recorded {payment.stars:,} Stars, Telegram lists "
        f"{stars:,}."
    )


def diff_refund(payment: Payment) -> str:
    """Telegram refunded a payment we still count."""
    return (
        f"payment #{payment.payment_id} was refunded on Telegram but is {payment.state.value} "
        "here (its credit was not taken back)."
    )


def diff_unknown(payment: Payment) -> str:
    """We recorded a payment Telegram does not list."""
    return f"payment #{payment.payment_id} ({payment.stars:,} Stars) is not in Telegram's list."


def difference_detail(
    kind: str, payment: Payment | None, stars: int | None, user_id: int | None
) -> str:
    """Say what one Stars reconciliation difference is (``kind`` as ``Difference.kind``)."""
    if payment is None:
        return diff_missing(stars or 0, user_id)
    if kind == "amount":
        return diff_amount(payment, stars or 0)
    if kind == "refund":
        return diff_refund(payment)
    return diff_unknown(payment)


def refund_refused(
    reason: str, payment_id: int, payment: Payment | None, balance: Decimal | None
) -> str:
    """Say why a payment cannot be refunded (``reason`` a ``payments.RefundRefusal``)."""
    if payment is None:
        return no_such_payment(payment_id)
    if reason == "only_stars":
        return REFUND_ONLY_STARS
    if reason == "already_refunded":
        return already_refunded(payment_id)
    if reason == "spent" and balance is not None:
        return refund_spent(payment, balance)
    return not_refundable(payment)


def decision_refused(payment_id: int, payment: Payment | None) -> str:
    """Answer a decision on a receipt that does not exist or was already decided."""
    return no_such_payment(payment_id) if payment is None else already_decided(payment)


def admin_difference(detail: str, charge_id: str) -> str:
    """Alert the admins about one reconciliation difference."""
    return f"⚠ <b>Stars reconciliation</b>: {detail}\nCharge ID: <code>{escape(charge_id)}</code>"


# --------------------------------------------------------------------------- /user


_STATE_LABELS = {
    "created": "open",
    "paid": "paid, not credited",
    "credited": "credited",
    "rejected": "rejected",
    "expired": "expired",
    "refunded": "refunded",
}


def payment_line(payment: Payment, currency: str) -> str:
    """One payment in an admin's /user report."""
    when = payment.created_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"#{payment.payment_id} · {money(payment.amount, currency)} · {_method(payment)} · "
        f"{_STATE_LABELS.get(payment.state.value, payment.state.value)} · {when}"
    )


def payments_block(payments: Sequence[Payment], currency: str) -> str:
    """The payments part of /user."""
    lines = ["<b>Latest payments</b>"]
    if not payments:
        lines.append("None yet.")
    lines += [payment_line(p, currency) for p in payments]
    return "\n".join(lines)


def moment(when: datetime) -> str:
    """A time for admins."""
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
