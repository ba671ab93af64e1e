"""What top-ups say to customers and admins (HTML; user text escaped).

Callback answers and pre-checkout refusals are plain text (Telegram shows them as is).
Every string is English and translated when the screen is built (``bot.i18n``); constants
are marked with ``N_`` and shown as ``_(CONSTANT)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from html import escape
from typing import TYPE_CHECKING

from bot import i18n
from bot.i18n import N_, _
from bot.texts import moment
from bot.texts.amounts import money

if TYPE_CHECKING:
    from storage.payments import Payment

REFERENCE_SHOWN = 300
NOTE_SHOWN = 200

# --------------------------------------------------------------------------- buttons

BTN_TOP_UP = N_("💳 Top up")
BTN_BACK_TO_ORDER = N_("🧾 Back to my order")
BTN_OTHER_AMOUNT = N_("✏ Other amount")
BTN_CANCEL = N_("✖ Cancel")
BTN_STARS = N_("⭐ Telegram Stars")
BTN_CRYPTO = N_("🪙 Crypto (Crypto Pay)")
BTN_MANUAL = N_("🧾 Bank transfer / receipt")
BTN_PAY_CRYPTO = N_("🪙 Pay")
BTN_CHECK_PAYMENT = N_("🔄 I have paid")
BTN_APPROVE = N_("✅ Approve")
BTN_REJECT = N_("❌ Reject")
BTN_BACK = N_("⬅ Back")

# Reasons an admin picks from when rejecting a receipt (code → what the customer reads).
# The English reason is stored as the payment's note and translated when it is shown.
REJECT_REASONS: dict[str, str] = {
    "notfound": N_("the payment was not found on our side"),
    "amount": N_("the amount does not match the receipt"),
    "unreadable": N_("the receipt could not be read"),
}


def reject_reason(note: str | None) -> str:
    """A rejection reason in the reader's language (an admin's own words stay as typed)."""
    if not note:
        return ""
    return _(note) if note in REJECT_REASONS.values() else note


def top_up_amount_button(amount: Decimal, currency: str, *, missing: bool) -> str:
    """The button for one amount (the order's missing amount is marked)."""
    label = money(amount, currency)
    return _("{amount} (what is missing)").format(amount=label) if missing else label


def stars_button(stars: int) -> str:
    """The Stars method with its price."""
    return f"{_(BTN_STARS)} · {i18n.number(stars)} ⭐"


# --------------------------------------------------------------------------- support

HOW_TO_ADD = N_("Tap <b>Top up</b> to add money.")
HELP_TOP_UP = N_(
    "To add money, tap <b>Top up</b> under /balance (or send /topup). /paysupport helps with "
    "a payment, /terms shows the terms."
)


def support_line(contact: str) -> str:
    """Where to ask for help, when the owner gave a contact."""
    if not contact.strip():
        return ""
    return _("🆘 Help with payments: {contact}").format(contact=escape(contact.strip()))


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
    lines = [_("💳 <b>Top up your balance</b>")]
    if missing is not None:
        lines.append(_("Your order needs {amount} more.").format(amount=money(missing, currency)))
    lines.append(
        _("How much would you like to add? From {minimum} to {maximum}.").format(
            minimum=money(minimum, currency), maximum=money(maximum, currency)
        )
    )
    return "\n".join(lines)


def type_amount(minimum: Decimal, maximum: Decimal, currency: str) -> str:
    """Ask for a typed amount."""
    return _(
        "✏ Send the amount in {currency}, from {minimum} to {maximum} "
        "(for example <code>15</code> or <code>7.50</code>)."
    ).format(
        currency=escape(currency),
        minimum=money(minimum, currency),
        maximum=money(maximum, currency),
    )


def bad_amount(text: str) -> str:
    """Refuse a typed amount that is not a number."""
    shown = text if len(text) <= 40 else text[:39] + "…"
    return _(
        "⚠ “{typed}” is not an amount: send a number with at most two decimals, "
        "like <code>15</code> or <code>7.50</code>."
    ).format(typed=escape(shown))


def amount_out_of_range(amount: Decimal, minimum: Decimal, maximum: Decimal, currency: str) -> str:
    """Refuse a typed amount outside the limits."""
    return _(
        "⚠ {amount} is outside the limits: send an amount from {minimum} to {maximum}."
    ).format(
        amount=money(amount, currency),
        minimum=money(minimum, currency),
        maximum=money(maximum, currency),
    )


def choose_method(amount: Decimal, currency: str) -> str:
    """Ask how to pay."""
    return _("💳 Top up <b>{amount}</b>. How would you like to pay?").format(
        amount=money(amount, currency)
    )


NO_METHOD = N_("Top-ups are not available right now. Please contact the shop's administrator.")
METHOD_OFF = N_("This way to pay is not available any more. Please choose another one.")
TOPUP_CANCELLED = N_("Top-up cancelled. Nothing was charged.")
TOPUP_EXPIRED = N_(
    "The top-up was left unfinished for a while, so it was closed. Nothing was charged."
)
SEND_AMOUNT_TEXT = N_("Please send the amount as a number, or /cancel.")


# --------------------------------------------------------------------------- Stars


def _plain_amount(amount: Decimal) -> str:
    """An amount for an invoice: two decimals, no grouping (Telegram shows it as is)."""
    return i18n.number(amount.quantize(Decimal("0.01")), "0.00")


def stars_title(amount: Decimal, currency: str) -> str:
    """The invoice title (plain text, at most 32 characters)."""
    return _("Top-up {amount} {currency}").format(amount=_plain_amount(amount), currency=currency)[
        :32
    ]


def stars_description(amount: Decimal, currency: str, stars: int) -> str:
    """The invoice description (plain text, at most 255 characters)."""
    return _(
        "Adds {amount} {currency} to your balance in this shop for {stars} Stars. "
        "Use it to pay for orders."
    ).format(amount=_plain_amount(amount), currency=currency, stars=stars)[:255]


STARS_LABEL = N_("Balance top-up")


def stars_invoice_sent(amount: Decimal, currency: str, stars: int, ttl_minutes: int) -> str:
    """Explain the invoice just sent."""
    return _(
        "⭐ Pay <b>{stars} Stars</b> with the invoice below to add <b>{amount}</b> to your "
        "balance. It can be paid for {minutes} minutes."
    ).format(stars=i18n.number(stars), amount=money(amount, currency), minutes=ttl_minutes)


def stars_too_much(largest: Decimal, currency: str) -> str:
    """Refuse an amount over Telegram's Stars limit for one invoice."""
    return _(
        "⚠ That amount is more Stars than Telegram allows in one payment: top up at most "
        "{amount} at a time."
    ).format(amount=money(largest, currency))


PRE_CHECKOUT_UNKNOWN = N_("This invoice is not from this shop's top-ups. Nothing was charged.")
PRE_CHECKOUT_NOT_YOURS = N_("This invoice belongs to another customer. Nothing was charged.")
PRE_CHECKOUT_STALE = N_(
    "This invoice has expired or was already paid. Please start a new top-up. Nothing was charged."
)
PRE_CHECKOUT_PRICE = N_("The price of this invoice changed. Please start a new top-up.")
PRE_CHECKOUT_BUSY = N_("Sorry, we could not check this payment right now. Please try again.")


def credited(payment: Payment, balance: Decimal, currency: str) -> str:
    """Tell the customer their payment reached the balance."""
    return _(
        "✅ Payment received: <b>{amount}</b> added to your balance (payment #{payment_id})."
        "\n👛 Your balance: <b>{balance}</b>"
    ).format(
        amount=money(payment.amount, currency),
        payment_id=payment.payment_id,
        balance=money(balance, currency),
    )


def duplicate(payment: Payment, balance: Decimal, currency: str) -> str:
    """The same payment notice came again: nothing more was added."""
    return _(
        "This payment (#{payment_id}) was already added to your balance.\n"
        "👛 Your balance: <b>{balance}</b>"
    ).format(payment_id=payment.payment_id, balance=money(balance, currency))


def unmatched(payment: Payment) -> str:
    """Stars arrived that match no open top-up: an admin will settle them."""
    return _(
        "⚠ We received your payment of {stars} Stars (payment #{payment_id}), but it does "
        "not match an open top-up. The shop's administrator has been told and will add it "
        "to your balance or refund it."
    ).format(stars=i18n.number(payment.stars), payment_id=payment.payment_id)


PAYSUPPORT = N_(
    "🆘 <b>Payment support</b>\n\n"
    "Problems with a top-up? Tell us the payment number (shown when it was received, and "
    "under /balance) and what went wrong; we answer every request. Telegram support cannot "
    "help with purchases made in this bot."
)


def terms(currency: str, custom: str) -> str:
    """The shop's terms for payments."""
    if custom.strip():
        return _("📄 <b>Terms</b>") + f"\n\n{escape(custom.strip())}"
    return _(
        "📄 <b>Terms</b>\n\n"
        "• Top-ups add money to your balance in this shop, in {currency}, and are "
        "used only to pay for orders placed here.\n"
        "• A top-up paid in Telegram Stars can be refunded by the shop while its money has "
        "not been spent; ask through /paysupport.\n"
        "• An order that fails or is canceled is refunded to your balance automatically; a "
        "partial order is refunded for what was not delivered.\n"
        "• Delivery times and results depend on the service you choose; its card says what "
        "to expect.\n"
        "• For any problem with a payment, use /paysupport."
    ).format(currency=escape(currency))


# --------------------------------------------------------------------------- Crypto Pay


def crypto_invoice(amount: Decimal, currency: str, assets: Sequence[str], ttl_minutes: int) -> str:
    """Explain the Crypto Pay invoice just created."""
    return _(
        "🪙 Pay <b>{amount}</b> in crypto ({assets}) through Crypto Pay with the button "
        "below. The invoice can be paid for {minutes} minutes; the money reaches your "
        "balance a moment after you pay."
    ).format(
        amount=money(amount, currency),
        assets=", ".join(escape(a) for a in assets),
        minutes=ttl_minutes,
    )


CRYPTO_UNAVAILABLE = N_(
    "😔 Crypto payments are not available right now. Please try again later or choose "
    "another way to pay. Nothing was charged."
)
CRYPTO_CHECK_FAILED = N_("We could not check the payment right now. Please try again in a minute.")


def crypto_description(amount: Decimal, currency: str) -> str:
    """The invoice description Crypto Pay shows the payer."""
    return _("Balance top-up: {amount} {currency}").format(
        amount=_plain_amount(amount), currency=currency
    )


CRYPTO_NOT_PAID_YET = N_("Not paid yet. If you have just paid, give it a minute.")
CRYPTO_EXPIRED = N_("This invoice has expired. Please start a new top-up.")
CHECK_DONE = N_("✅ Received: the money is on your balance.")
NO_ORDER_WAITING = N_("That order is no longer waiting. Start a new one from the menu: /menu")


# --------------------------------------------------------------------------- manual receipts


def manual_instructions(amount: Decimal, currency: str, instructions: str) -> str:
    """Show the owner's payment details and ask for the receipt."""
    head = _("🧾 <b>Top up {amount} by transfer</b>").format(amount=money(amount, currency))
    ask = _(
        "When you have paid, send a <b>photo of the receipt</b> or the <b>transaction "
        "reference</b> here. An administrator checks it and adds the money to your balance."
    )
    return f"{head}\n\n{escape(instructions.strip())}\n\n{ask}"


RECEIPT_NEEDS_PROOF = N_(
    "Please send a photo of the receipt or the transaction reference as text, or /cancel."
)


def receipt_received(payment: Payment, currency: str) -> str:
    """Confirm the receipt is waiting for an admin."""
    return _(
        "📨 Thank you! Your receipt for <b>{amount}</b> (payment #{payment_id}) was sent to "
        "the shop's administrator. You will be told here as soon as it is checked."
    ).format(amount=money(payment.amount, currency), payment_id=payment.payment_id)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _receipt_head(payment: Payment, who: str) -> str:
    return _("🧾 <b>Receipt #{payment_id}</b> from {who}").format(
        payment_id=payment.payment_id, who=who
    )


def receipt_card(payment: Payment, who: str, currency: str) -> str:
    """The admins' card about a receipt (fits a photo caption: under 1024 characters)."""
    lines = [
        _receipt_head(payment, who),
        _("Amount claimed: <b>{amount}</b>").format(amount=money(payment.amount, currency)),
    ]
    if payment.reference:
        lines.append(
            _("Reference: {reference}").format(
                reference=escape(_cut(payment.reference, REFERENCE_SHOWN))
            )
        )
    lines.append(
        _(
            "Other amount: <code>/approve {payment_id} 12.50</code> · "
            "own reason: <code>/reject {payment_id} reason</code>"
        ).format(payment_id=payment.payment_id)
    )
    return "\n".join(lines)


def receipt_decided(payment: Payment, who: str, currency: str, admin: str) -> str:
    """A receipt card after the decision (shown on every admin's card)."""
    head = _receipt_head(payment, who)
    if payment.state.value in ("credited", "refunded"):
        decision = _("✅ Approved by {admin}: <b>{amount}</b> credited.").format(
            admin=admin, amount=money(payment.amount, currency)
        )
    else:
        reason = escape(_cut(reject_reason(payment.note), NOTE_SHOWN))
        decision = _("❌ Rejected by {admin}: {reason}").format(admin=admin, reason=reason)
    return f"{head}\n{decision}"


CHOOSE_REJECT_REASON = N_("Why is it rejected? The customer is told the reason.")

# How a payment's state reads inside an admin's sentence (English: the state's own name).
_STATE_WORDS = {
    "created": N_("created"),
    "paid": N_("paid"),
    "credited": N_("credited"),
    "rejected": N_("rejected"),
    "expired": N_("expired"),
    "refunded": N_("refunded"),
}


def _state_word(payment: Payment) -> str:
    word = _STATE_WORDS.get(payment.state.value)
    return _(word) if word else payment.state.value


def already_decided(payment: Payment) -> str:
    """Answer a late decision (plain text)."""
    if payment.state.value == "rejected":
        return _("Payment #{payment_id} was already rejected.").format(
            payment_id=payment.payment_id
        )
    return _("Payment #{payment_id} was already approved ({state}).").format(
        payment_id=payment.payment_id, state=_state_word(payment)
    )


def you_were_rejected(payment: Payment, currency: str) -> str:
    """Tell the customer their receipt was rejected, and why."""
    return _(
        "❌ Your receipt for {amount} (payment #{payment_id}) was not accepted: {reason}.\n"
        "Nothing was added to your balance. If you think this is a mistake, use /paysupport."
    ).format(
        amount=money(payment.amount, currency),
        payment_id=payment.payment_id,
        reason=escape(_cut(reject_reason(payment.note), NOTE_SHOWN)),
    )


APPROVE_USAGE = N_(
    "Usage: <code>/approve &lt;payment number&gt; [amount]</code> (the amount if it differs "
    "from the claim)"
)
REJECT_USAGE = N_("Usage: <code>/reject &lt;payment number&gt; &lt;reason&gt;</code>")
REFUND_USAGE = N_("Usage: <code>/refund &lt;payment number&gt;</code> (Telegram Stars payments)")


def approved_reply(payment: Payment, balance: Decimal, currency: str) -> str:
    """Confirm an approval to the deciding admin."""
    return _(
        "✅ Payment #{payment_id} approved: {amount} credited. Their balance is now {balance}."
    ).format(
        payment_id=payment.payment_id,
        amount=money(payment.amount, currency),
        balance=money(balance, currency),
    )


def rejected_reply(payment: Payment) -> str:
    """Confirm a rejection to the deciding admin."""
    return _("❌ Payment #{payment_id} rejected; the customer was told.").format(
        payment_id=payment.payment_id
    )


# --------------------------------------------------------------------------- notices


def _method(payment: Payment) -> str:
    if payment.provider.value == "stars":
        return _("{stars} Stars").format(stars=i18n.number(payment.stars))
    if payment.provider.value == "cryptopay":
        if payment.paid_asset and payment.paid_amount is not None:
            paid = i18n.number(payment.paid_amount.normalize(), "0.##########################")
            return f"Crypto Pay, {paid} {escape(payment.paid_asset)}"
        return "Crypto Pay"
    return _("receipt")


def you_were_credited(payment: Payment, balance: Decimal, currency: str) -> str:
    """Tell the customer (through the outbox) their payment reached the balance."""
    return credited(payment, balance, currency)


def admin_credited(payment: Payment, who: str, balance: Decimal, currency: str) -> str:
    """Tell the admins a payment was credited."""
    text = _(
        "💰 Payment #{payment_id}: <b>{amount}</b> from {who} by {method}{note}. "
        "Their balance: {balance}."
    )
    return text.format(
        payment_id=payment.payment_id,
        amount=money(payment.amount, currency),
        who=who,
        method=_method(payment),
        note=f" ({escape(payment.note)})" if payment.note else "",
        balance=money(balance, currency),
    )


def admin_unmatched_stars(payment: Payment, who: str) -> str:
    """Tell the admins Stars arrived that match no open top-up."""
    return _(
        "⚠ Payment #{payment_id}: {stars} Stars from {who} match no open top-up, so nothing "
        "was credited. Credit them with /credit or give the Stars back with "
        "<code>/refund {payment_id}</code>."
    ).format(payment_id=payment.payment_id, stars=i18n.number(payment.stars), who=who)


def admin_crypto_mismatch(payment: Payment, invoice_id: int) -> str:
    """A paid Crypto Pay invoice does not match its payment: an admin settles it."""
    return _(
        "⚠ Crypto Pay invoice {invoice_id} was paid but does not match payment "
        "#{payment_id} (amount, currency or payload differ), so nothing was credited. "
        "Check it in Crypto Pay and credit the customer with /credit if right."
    ).format(invoice_id=invoice_id, payment_id=payment.payment_id)


def no_such_payment(payment_id: int) -> str:
    """There is no such payment."""
    return _("There is no payment #{payment_id}.").format(payment_id=payment_id)


REFUND_ONLY_STARS = N_("Only Telegram Stars payments can be refunded from the bot.")


def already_refunded(payment_id: int) -> str:
    """The payment was refunded before."""
    return _("Payment #{payment_id} was already refunded.").format(payment_id=payment_id)


def not_refundable(payment: Payment) -> str:
    """The payment is in no state to refund."""
    return _("Payment #{payment_id} is {state}: there is nothing to refund.").format(
        payment_id=payment.payment_id, state=_state_word(payment)
    )


def refund_spent(payment: Payment, balance: Decimal) -> str:
    """Refuse to refund money the customer already spent."""
    return _(
        "Payment #{payment_id} added {amount} but the customer's balance is only "
        "{balance}: the money was spent, so it cannot be refunded."
    ).format(
        payment_id=payment.payment_id,
        amount=i18n.number(payment.amount, "0.00##########"),
        balance=i18n.number(balance, "0.00##########"),
    )


def refunded_reply(payment: Payment, balance: Decimal, currency: str) -> str:
    """Confirm a refund to the admin."""
    stars = i18n.number(payment.stars)
    if payment.credited_at is None:
        return _(
            "↩ Payment #{payment_id} refunded: {stars} Stars returned "
            "(it was never credited, so the balance is unchanged)."
        ).format(payment_id=payment.payment_id, stars=stars)
    return _(
        "↩ Payment #{payment_id} refunded: {stars} Stars returned and {amount} taken back. "
        "Their balance is now {balance}."
    ).format(
        payment_id=payment.payment_id,
        stars=stars,
        amount=money(payment.amount, currency),
        balance=money(balance, currency),
    )


def refund_failed(payment_id: int, error: str) -> str:
    """Telegram refused the refund."""
    return _(
        "❌ Telegram refused to refund payment #{payment_id}: {error}. Nothing changed."
    ).format(payment_id=payment_id, error=escape(error))


def you_were_refunded(payment: Payment, balance: Decimal, currency: str) -> str:
    """Tell the customer their Stars came back."""
    stars = i18n.number(payment.stars)
    if payment.credited_at is None:
        return _("↩ Your payment #{payment_id} of {stars} Stars was refunded.").format(
            payment_id=payment.payment_id, stars=stars
        )
    return _(
        "↩ Your payment #{payment_id} of {stars} Stars was refunded, and {amount} was taken "
        "from your balance.\n👛 Your balance: {balance}"
    ).format(
        payment_id=payment.payment_id,
        stars=stars,
        amount=money(payment.amount, currency),
        balance=money(balance, currency),
    )


def admin_refunded(payment: Payment, who: str, admin_id: int, currency: str) -> str:
    """Tell the other admins a payment was refunded."""
    return _(
        "↩ Payment #{payment_id} ({amount}, {who}) was refunded by admin <code>{admin_id}</code>."
    ).format(
        payment_id=payment.payment_id,
        amount=money(payment.amount, currency),
        who=who,
        admin_id=admin_id,
    )


def diff_missing(stars: int, user_id: int | None) -> str:
    """Telegram lists a payment we never recorded."""
    if user_id is None:
        return _(
            "Telegram lists {stars} Stars from an unknown user that we never recorded."
        ).format(stars=i18n.number(stars))
    return _(
        "Telegram lists {stars} Stars from user <code>{user_id}</code> that we never recorded."
    ).format(stars=i18n.number(stars), user_id=user_id)


def diff_amount(payment: Payment, stars: int) -> str:
    """The amounts disagree."""
    return _(
        "payment #{payment_id}: we recorded {recorded} Stars, Telegram lists {listed}."
    ).format(
        payment_id=payment.payment_id,
        recorded=i18n.number(payment.stars),
        listed=i18n.number(stars),
    )


def diff_refund(payment: Payment) -> str:
    """Telegram refunded a payment we still count."""
    return _(
        "payment #{payment_id} was refunded on Telegram but is {state} here "
        "(its credit was not taken back)."
    ).format(payment_id=payment.payment_id, state=_state_word(payment))


def diff_unknown(payment: Payment) -> str:
    """We recorded a payment Telegram does not list."""
    return _("payment #{payment_id} ({stars} Stars) is not in Telegram's list.").format(
        payment_id=payment.payment_id, stars=i18n.number(payment.stars)
    )


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
    return _(
        "⚠ <b>Stars reconciliation</b>: {detail}\nCharge ID: <code>{charge_id}</code>"
    ).format(detail=detail, charge_id=escape(charge_id))


# --------------------------------------------------------------------------- /user


_STATE_LABELS = {
    "created": N_("open"),
    "paid": N_("paid, not credited"),
    "credited": N_("credited"),
    "rejected": N_("rejected"),
    "expired": N_("expired"),
    "refunded": N_("refunded"),
}


def payment_line(payment: Payment, currency: str) -> str:
    """One payment in an admin's /user report."""
    label = _STATE_LABELS.get(payment.state.value)
    state = _(label) if label else payment.state.value
    return (
        f"#{payment.payment_id} · {money(payment.amount, currency)} · {_method(payment)} · "
        f"{state} · {moment(payment.created_at)}"
    )


def payments_block(payments: Sequence[Payment], currency: str) -> str:
    """The payments part of /user."""
    lines = [_("<b>Latest payments</b>")]
    if not payments:
        lines.append(_("None yet."))
    lines += [payment_line(p, currency) for p in payments]
    return "\n".join(lines)
