"""Top-ups in the chat: the amount picker, the method choice, Telegram Stars invoices and
their pre-checkout and successful payments, Crypto Pay invoices, manual receipts with the
admins' Approve / Reject cards, Stars refunds, /paysupport and /terms.

The top-up is a small conversation (named "topup") registered before the order
conversation, so a customer can top up from an order summary and come back to it: the
summary keeps working, and the payment's notice offers it again.
"""

from __future__ import annotations

import logging
import re
from decimal import ROUND_DOWN, Decimal
from typing import Any

from telegram import CallbackQuery, LabeledPrice, Update
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    PreCheckoutQueryHandler,
    TypeHandler,
    filters,
)

from bot import input_rules as rules
from bot import texts as common_texts
from bot.callbacks import Action, Callback, ForgedCallback, pattern
from bot.config import Settings
from bot.context import Context
from bot.handlers.common import (
    admin_command,
    admin_tap,
    button_press,
    customer_name,
    drop_buttons,
    remember_user,
    send,
    sender,
    show,
    tapped,
)
from bot.i18n import _
from bot.keyboards import payments as keyboards
from bot.payments.cryptopay import CryptoPayError
from bot.services import payments, users
from bot.services.payments import PreCheckoutRefusal, StarsOutcome
from bot.texts import payments as texts
from storage.payments import Origin, Payment, Provider, State

log = logging.getLogger(__name__)

TYPING_AMOUNT, TYPING_RECEIPT = "typing_amount", "typing_receipt"
END = ConversationHandler.END
PENDING_KEY = "topup_pending"
# Stop waiting for typed input after a while, so later words are not taken for an amount.
TOPUP_TIMEOUT = 15 * 60
_PAYMENT_NUMBER = re.compile(r"[0-9]{1,12}")
REFERENCE_KEPT = 1000


def _user_data(context: Context) -> dict[Any, Any]:
    if context.user_data is None:
        raise RuntimeError("top-up without user_data")
    return context.user_data


def _origin(callback: Callback) -> Origin:
    return Origin.ORDER if callback.int_arg(0) == 1 else Origin.BALANCE


def _origin_flag(origin: Origin) -> int:
    return 1 if origin is Origin.ORDER else 0


def _from_cents(value: int) -> Decimal:
    return (Decimal(value) / 100).quantize(payments.CENT)


def parse_amount(text: str) -> Decimal | None:
    """Read a typed amount of money (the shop's one rule for amounts), or None."""
    try:
        return rules.amount(text.replace(" ", ""))
    except rules.InputError:
        return None


def _payment_number(text: str) -> int | None:
    """Read a payment's number as admins type it (ASCII digits only), or None."""
    return int(text) if _PAYMENT_NUMBER.fullmatch(text) else None


def _in_range(settings: Settings, amount: Decimal) -> bool:
    return settings.topup.min <= amount <= settings.topup.max


def enabled_methods(context: Context, amount: Decimal) -> list[tuple[str, str]]:
    """The ways to pay this amount, as (method, button label)."""
    settings = context.bot_data.settings
    found: list[tuple[str, str]] = []
    if settings.stars.enabled:
        stars = payments.stars_for(amount, settings.stars.per_unit)
        if stars <= payments.STARS_MAX_PER_INVOICE:
            found.append((keyboards.METHOD_STARS, texts.stars_button(stars)))
    if context.bot_data.crypto_pay is not None:
        found.append((keyboards.METHOD_CRYPTO, _(texts.BTN_CRYPTO)))
    if settings.topup.manual_enabled:
        found.append((keyboards.METHOD_MANUAL, _(texts.BTN_MANUAL)))
    return found


def any_method(settings: Settings, crypto_on: bool) -> bool:
    """True when customers can top up at all."""
    return settings.stars.enabled or crypto_on or settings.topup.manual_enabled


def top_up_offered(context: Context) -> bool:
    """True when the Top up button should be shown."""
    return any_method(context.bot_data.settings, context.bot_data.crypto_pay is not None)


# --------------------------------------------------------------------------- the picker


async def top_up_button(update: Update, context: Context) -> str | int | None:
    """Offer amounts to top up (the order's missing amount first when there is one)."""
    query, callback = tapped(update)
    await query.answer()
    origin = _origin(callback)
    missing = _from_cents(callback.int_arg(1)) if callback.int_arg(1) > 0 else None
    text, markup = _picker(context, origin, missing)
    if origin is Origin.ORDER:
        # The summary stays as it is: its Confirm is what the customer comes back to.
        await send(update, text, markup)
    else:
        await show(update, context, text, markup)
    return END


async def top_up_command(update: Update, context: Context) -> str | int:
    """Offer amounts to top up (/topup)."""
    await remember_user(update, context)
    text, markup = _picker(context, Origin.BALANCE, None)
    await send(update, text, markup)
    return END


def _picker(context: Context, origin: Origin, missing: Decimal | None) -> tuple[str, Any]:
    settings = context.bot_data.settings
    currency = settings.currency
    if not top_up_offered(context):
        return texts.with_support(_(texts.NO_METHOD), settings.support_contact), None
    amounts: list[tuple[Decimal, str]] = []
    if missing is not None:
        suggested = min(max(missing, settings.topup.min), settings.topup.max)
        amounts.append((suggested, texts.top_up_amount_button(suggested, currency, missing=True)))
    for preset in settings.topup.presets:
        if all(preset != a for a, _label in amounts):
            amounts.append((preset, texts.top_up_amount_button(preset, currency, missing=False)))
    text = texts.choose_amount(settings.topup.min, settings.topup.max, currency, missing)
    return text, keyboards.amounts_keyboard(_origin_flag(origin), amounts)


async def amount_button(update: Update, context: Context) -> str | int | None:
    """Take a picked amount and ask how to pay."""
    query, callback = tapped(update)
    amount = _from_cents(callback.int_arg(1))
    settings = context.bot_data.settings
    if not _in_range(settings, amount):
        raise ForgedCallback(f"top-up amount {amount} out of range")
    await query.answer()
    text, markup = _method_choice(context, _origin(callback), amount)
    await show(update, context, text, markup)
    return END


def _method_choice(context: Context, origin: Origin, amount: Decimal) -> tuple[str, Any]:
    settings = context.bot_data.settings
    methods = enabled_methods(context, amount)
    if not methods:
        if settings.stars.enabled:
            # Only Stars are on, and Telegram caps what one Stars invoice may ask.
            largest = (Decimal(payments.STARS_MAX_PER_INVOICE) / settings.stars.per_unit).quantize(
                payments.CENT, rounding=ROUND_DOWN
            )
            text = texts.stars_too_much(largest, settings.currency)
            return text, keyboards.amounts_keyboard(_origin_flag(origin), [])
        return texts.with_support(_(texts.NO_METHOD), settings.support_contact), None
    text = texts.choose_method(amount, settings.currency)
    return text, keyboards.methods_keyboard(_origin_flag(origin), amount, methods)


async def other_amount_button(update: Update, context: Context) -> str | int | None:
    """Ask for a typed amount."""
    query, callback = tapped(update)
    await query.answer()
    settings = context.bot_data.settings
    _user_data(context)[PENDING_KEY] = {"origin": _origin(callback).value}
    await show(
        update,
        context,
        texts.type_amount(settings.topup.min, settings.topup.max, settings.currency),
        keyboards.cancel_keyboard(),
    )
    return TYPING_AMOUNT


async def typed_amount(update: Update, context: Context) -> str | int:
    """Take a typed amount, or ask again with the reason."""
    message = update.effective_message
    if message is None:
        return TYPING_AMOUNT
    settings = context.bot_data.settings
    text = message.text or ""
    amount = parse_amount(text)
    if amount is None:
        await send(update, texts.bad_amount(text), keyboards.cancel_keyboard())
        return TYPING_AMOUNT
    if not _in_range(settings, amount):
        await send(
            update,
            texts.amount_out_of_range(
                amount, settings.topup.min, settings.topup.max, settings.currency
            ),
            keyboards.cancel_keyboard(),
        )
        return TYPING_AMOUNT
    pending = _user_data(context).pop(PENDING_KEY, None) or {}
    origin = Origin(pending.get("origin", Origin.BALANCE.value))
    reply, markup = _method_choice(context, origin, amount)
    await send(update, reply, markup)
    return END


async def not_an_amount(update: Update, context: Context) -> str:
    """Ask for the amount as text when something else was sent."""
    await send(update, _(texts.SEND_AMOUNT_TEXT))
    return TYPING_AMOUNT


async def cancel_button(update: Update, context: Context) -> int:
    """Drop the top-up from its Cancel button."""
    await button_press(update).answer()
    _user_data(context).pop(PENDING_KEY, None)
    await show(update, context, _(texts.TOPUP_CANCELLED))
    return END


async def cancel_command(update: Update, context: Context) -> int:
    """Drop the top-up with /cancel."""
    _user_data(context).pop(PENDING_KEY, None)
    await send(update, _(texts.TOPUP_CANCELLED))
    return END


async def expired(update: Update, context: Context) -> None:
    """Close an unfinished top-up after a long silence."""
    _user_data(context).pop(PENDING_KEY, None)
    await send(update, _(texts.TOPUP_EXPIRED))


# --------------------------------------------------------------------------- methods


async def method_button(update: Update, context: Context) -> str | int | None:
    """Start paying the amount by the chosen method."""
    query, callback = tapped(update)
    amount = _from_cents(callback.int_arg(1))
    method = callback.args[2]
    settings = context.bot_data.settings
    if not _in_range(settings, amount):
        raise ForgedCallback(f"top-up amount {amount} out of range")
    if method not in {m for m, _label in enabled_methods(context, amount)}:
        await query.answer(texts.METHOD_OFF, show_alert=True)
        return None
    await query.answer()
    user, _new = await remember_user(update, context)
    origin = _origin(callback)
    if method == keyboards.METHOD_STARS:
        await _send_stars_invoice(update, context, user.user_id, amount, origin)
        return END
    if method == keyboards.METHOD_CRYPTO:
        await _send_crypto_invoice(update, context, user.user_id, amount, origin)
        return END
    _user_data(context)[PENDING_KEY] = {"origin": origin.value, "cents": callback.int_arg(1)}
    await show(
        update,
        context,
        texts.with_support(
            texts.manual_instructions(
                amount, settings.currency, settings.topup.manual_instructions
            ),
            settings.support_contact,
        ),
        keyboards.cancel_keyboard(),
    )
    return TYPING_RECEIPT


async def _send_stars_invoice(
    update: Update, context: Context, user_id: int, amount: Decimal, origin: Origin
) -> None:
    """Open a Stars payment and send its XTR invoice."""
    chat = update.effective_chat
    assert chat is not None
    settings = context.bot_data.settings
    payment = await payments.create_stars_payment(
        context.bot_data.db,
        user_id=user_id,
        chat_id=chat.id,
        amount=amount,
        stars_per_unit=settings.stars.per_unit,
        origin=origin,
        ttl=settings.topup.invoice_ttl,
    )
    assert payment.payload is not None
    currency = settings.currency
    await show(
        update,
        context,
        texts.stars_invoice_sent(
            amount, currency, payment.stars, int(settings.topup.invoice_ttl // 60)
        ),
    )
    await context.bot.send_invoice(
        chat.id,
        title=texts.stars_title(amount, currency),
        description=texts.stars_description(amount, currency, payment.stars),
        payload=payment.payload,
        currency=payments.XTR,
        prices=[LabeledPrice(_(texts.STARS_LABEL), payment.stars)],
    )
    log.info("Stars invoice for payment %d sent to user %d", payment.payment_id, user_id)


async def _send_crypto_invoice(
    update: Update, context: Context, user_id: int, amount: Decimal, origin: Origin
) -> None:
    """Open a Crypto Pay invoice and show its Pay button."""
    chat = update.effective_chat
    client = context.bot_data.crypto_pay
    assert chat is not None and client is not None
    settings = context.bot_data.settings
    currency = settings.currency
    try:
        payment = await payments.create_crypto_payment(
            context.bot_data.db,
            client,
            user_id=user_id,
            chat_id=chat.id,
            amount=amount,
            currency=currency,
            assets=settings.crypto_pay.assets,
            origin=origin,
            ttl=settings.topup.invoice_ttl,
            description=texts.crypto_description(amount, currency),
        )
    except CryptoPayError as e:
        # The customer hears it is unavailable; the cause is for the log and the admins.
        log.warning("Crypto Pay invoice for user %d failed: %s", user_id, e)
        await show(
            update,
            context,
            texts.with_support(_(texts.CRYPTO_UNAVAILABLE), settings.support_contact),
        )
        return
    assert payment.pay_url is not None
    await show(
        update,
        context,
        texts.crypto_invoice(
            amount, currency, settings.crypto_pay.assets, int(settings.topup.invoice_ttl // 60)
        ),
        keyboards.crypto_keyboard(payment.pay_url, payment.payment_id),
    )


async def check_payment_button(update: Update, context: Context) -> None:
    """Ask Crypto Pay about this invoice now (the customer says they paid)."""
    query, callback = tapped(update)
    bot_data = context.bot_data
    payment = await payments.get_payment(bot_data.db, callback.int_arg(0))
    client = bot_data.crypto_pay
    if (
        payment is None
        or payment.user_id != query.from_user.id
        or payment.provider is not Provider.CRYPTOPAY
        or payment.provider_payment_id is None
    ):
        raise ForgedCallback("not this presser's Crypto Pay payment")
    if payment.state in (State.CREDITED, State.REFUNDED):
        await query.answer(_(texts.CHECK_DONE), show_alert=True)
        return
    if client is None:
        await query.answer(texts.CRYPTO_NOT_PAID_YET, show_alert=True)
        return
    settings = bot_data.settings
    try:
        invoices = await client.get_invoices([int(payment.provider_payment_id)])
    except CryptoPayError as e:
        log.warning("checking Crypto Pay invoice of payment %d failed: %s", payment.payment_id, e)
        await query.answer(_(texts.CRYPTO_CHECK_FAILED), show_alert=True)
        return
    credit = None
    for invoice in invoices:
        credit = await payments.apply_crypto_invoice(
            bot_data.db,
            invoice,
            currency=settings.currency,
            admin_chat_ids=sorted(settings.admin_ids),
        )
    fresh = await payments.get_payment(bot_data.db, payment.payment_id)
    if credit is not None or (fresh is not None and fresh.state is State.CREDITED):
        await query.answer(texts.CHECK_DONE)
        await drop_buttons(query)
    elif fresh is not None and fresh.state is State.EXPIRED:
        await query.answer(_(texts.CRYPTO_EXPIRED), show_alert=True)
    else:
        await query.answer(_(texts.CRYPTO_NOT_PAID_YET), show_alert=True)


# --------------------------------------------------------------------------- Stars


_REFUSALS = {
    PreCheckoutRefusal.UNKNOWN: texts.PRE_CHECKOUT_UNKNOWN,
    PreCheckoutRefusal.NOT_YOURS: texts.PRE_CHECKOUT_NOT_YOURS,
    PreCheckoutRefusal.STALE: texts.PRE_CHECKOUT_STALE,
    PreCheckoutRefusal.PRICE: texts.PRE_CHECKOUT_PRICE,
}


async def pre_checkout(update: Update, context: Context) -> None:
    """Accept the payment only for an open top-up of this user at this price."""
    query = update.pre_checkout_query
    if query is None:
        return
    try:
        refusal = await payments.check_pre_checkout(
            context.bot_data.db,
            user_id=query.from_user.id,
            payload=query.invoice_payload,
            currency=query.currency,
            total_amount=query.total_amount,
        )
    except Exception:
        # Telegram waits 10 seconds for an answer: a failure must still answer "no".
        log.exception("checking pre-checkout query %s failed", query.id)
        await query.answer(ok=False, error_message=_(texts.PRE_CHECKOUT_BUSY))
        return
    if refusal is None:
        await query.answer(ok=True)
        return
    log.info("refused pre-checkout from user %s: %s", query.from_user.id, refusal)
    await query.answer(ok=False, error_message=_(_REFUSALS[refusal]))


async def successful_payment(update: Update, context: Context) -> None:
    """Credit a Stars payment by its charge ID, once, and tell the customer."""
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None or message.successful_payment is None:
        return
    paid = message.successful_payment
    bot_data = context.bot_data
    settings = bot_data.settings
    await remember_user(update, context)
    result = await payments.record_stars_payment(
        bot_data.db,
        user_id=user.id,
        chat_id=message.chat_id,
        payload=paid.invoice_payload,
        charge_id=paid.telegram_payment_charge_id,
        total_amount=paid.total_amount,
        currency=settings.currency,
        admin_chat_ids=sorted(settings.admin_ids),
    )
    currency = settings.currency
    markup = None
    if result.outcome is StarsOutcome.CREDITED:
        text = texts.credited(result.payment, result.balance, currency)
        if result.payment.origin is Origin.ORDER:
            markup = keyboards.back_to_order_keyboard()
    elif result.outcome is StarsOutcome.DUPLICATE:
        text = texts.duplicate(result.payment, result.balance, currency)
    else:
        text = texts.with_support(texts.unmatched(result.payment), settings.support_contact)
    await message.reply_text(text, reply_markup=markup)


async def paysupport(update: Update, context: Context) -> None:
    """Answer /paysupport as Telegram requires of bots that sell."""
    await send(
        update,
        texts.with_support(_(texts.PAYSUPPORT), context.bot_data.settings.support_contact),
    )


async def terms(update: Update, context: Context) -> None:
    """Answer /terms with the shop's terms for payments."""
    settings = context.bot_data.settings
    await send(update, texts.terms(settings.currency, settings.terms_text))


# --------------------------------------------------------------------------- manual receipts


async def receipt(update: Update, context: Context) -> str | int:
    """Take the receipt (a photo or a reference) and put it before every admin."""
    message = update.effective_message
    if message is None:
        return TYPING_RECEIPT
    pending = _user_data(context).get(PENDING_KEY) or {}
    cents = pending.get("cents")
    settings = context.bot_data.settings
    if not isinstance(cents, int) or not settings.topup.manual_enabled:
        _user_data(context).pop(PENDING_KEY, None)
        await send(update, _(texts.TOPUP_EXPIRED))
        return END
    photo = message.photo[-1].file_id if message.photo else None
    typed = (message.caption if photo else message.text) or ""
    reference = typed.strip()[:REFERENCE_KEPT] or None
    if photo is None and reference is None:
        await send(update, _(texts.RECEIPT_NEEDS_PROOF))
        return TYPING_RECEIPT
    user, _new = await remember_user(update, context)
    db = context.bot_data.db
    payment = await payments.create_receipt(
        db,
        user_id=user.user_id,
        chat_id=message.chat_id,
        amount=_from_cents(cents),
        currency=settings.currency,
        origin=Origin(pending.get("origin", Origin.BALANCE.value)),
        reference=reference,
        photo_file_id=photo,
    )
    _user_data(context).pop(PENDING_KEY, None)
    await send(update, texts.receipt_received(payment, settings.currency))
    await _send_cards(context, payment)
    return END


async def not_a_receipt(update: Update, context: Context) -> str:
    """Ask for a photo or a reference when something else was sent."""
    await send(update, _(texts.RECEIPT_NEEDS_PROOF))
    return TYPING_RECEIPT


async def _send_cards(context: Context, payment: Payment) -> None:
    """Send every admin a card with the receipt and Approve / Reject."""
    settings = context.bot_data.settings
    card = texts.receipt_card(
        payment, await customer_name(context, payment.user_id), settings.currency
    )
    markup = keyboards.receipt_card_keyboard(payment.payment_id)
    for admin_id in sorted(settings.admin_ids):
        try:
            if payment.photo_file_id is not None:
                sent = await context.bot.send_photo(
                    admin_id, payment.photo_file_id, caption=card, reply_markup=markup
                )
            else:
                sent = await context.bot.send_message(admin_id, card, reply_markup=markup)
        except TelegramError as e:
            log.warning(
                "could not send receipt %d to admin %d: %s", payment.payment_id, admin_id, e
            )
            continue
        await payments.remember_card(
            context.bot_data.db, payment.payment_id, admin_id, sent.message_id
        )


async def _show_decision(context: Context, payment: Payment, admin_name: str) -> None:
    """Turn every admin's card about this receipt into the decision."""
    settings = context.bot_data.settings
    text = texts.receipt_decided(
        payment, await customer_name(context, payment.user_id), settings.currency, admin_name
    )
    for chat_id, message_id in await payments.receipt_cards(
        context.bot_data.db, payment.payment_id
    ):
        try:
            if payment.photo_file_id is not None:
                await context.bot.edit_message_caption(
                    chat_id=chat_id, message_id=message_id, caption=text, reply_markup=None
                )
            else:
                await context.bot.edit_message_text(
                    text, chat_id=chat_id, message_id=message_id, reply_markup=None
                )
        except (BadRequest, Forbidden) as e:
            log.info("could not update receipt card in chat %d: %s", chat_id, e)


def _admin_name(update: Update) -> str:
    user = update.effective_user
    if user is None:
        return "an admin"
    return common_texts.customer(user.first_name, user.username, user.id)


async def _decide(
    update: Update,
    context: Context,
    payment_id: int,
    *,
    approve: bool,
    amount: Decimal | None = None,
    reason: str = "",
) -> tuple[bool, str]:
    """Approve or reject a receipt; (done, what to tell the admin)."""
    admin = update.effective_user
    assert admin is not None
    # Known by name, so every card can say who decided.
    await remember_user(update, context)
    bot_data = context.bot_data
    settings = bot_data.settings
    try:
        if approve:
            credit = await payments.approve_receipt(
                bot_data.db,
                payment_id,
                admin_id=admin.id,
                amount=amount,
                currency=settings.currency,
                admin_chat_ids=sorted(settings.admin_ids),
            )
            payment = credit.payment
            reply = texts.approved_reply(payment, credit.balance, settings.currency)
        else:
            payment = await payments.reject_receipt(
                bot_data.db,
                payment_id,
                admin_id=admin.id,
                reason=reason,
                currency=settings.currency,
            )
            reply = texts.rejected_reply(payment)
    except payments.DecisionError as e:
        if e.payment is not None:
            await _show_decision(context, e.payment, await _decider_name(context, e.payment))
        return False, texts.decision_refused(e.payment_id, e.payment)
    log.info("admin %d %s payment %d", admin.id, "approved" if approve else "rejected", payment_id)
    await _show_decision(context, payment, _admin_name(update))
    return True, reply


async def _decider_name(context: Context, payment: Payment) -> str:
    if payment.decided_by is None:
        return "an admin"
    admin = await users.get_user(context.bot_data.db, payment.decided_by)
    if admin is None:
        return f"admin <code>{payment.decided_by}</code>"
    return common_texts.customer(admin.first_name, admin.username, admin.user_id)


async def approve_button(update: Update, context: Context) -> None:
    """Approve a receipt for the amount claimed."""
    tap = await admin_tap(update, context)
    if tap is None:
        return
    query, callback = tap
    done, reply = await _decide(update, context, callback.int_arg(0), approve=True)
    await _answer_decision(update, query, done, reply)


async def reject_button(update: Update, context: Context) -> None:
    """Show the reasons to reject with, or reject with the one tapped."""
    tap = await admin_tap(update, context)
    if tap is None:
        return
    query, callback = tap
    payment_id, code = callback.int_arg(0), callback.args[1]
    if code in (keyboards.ASK_REASON, keyboards.BACK):
        payment = await payments.get_payment(context.bot_data.db, payment_id)
        if payment is None or payment.state is not State.CREATED:
            await query.answer(
                texts.already_decided(payment) if payment else texts.no_such_payment(payment_id),
                show_alert=True,
            )
            if payment is not None:
                await _show_decision(context, payment, await _decider_name(context, payment))
            return
        await query.answer(_(texts.CHOOSE_REJECT_REASON) if code == keyboards.ASK_REASON else None)
        markup = (
            keyboards.reject_reasons_keyboard(payment_id)
            if code == keyboards.ASK_REASON
            else keyboards.receipt_card_keyboard(payment_id)
        )
        try:
            await query.edit_message_reply_markup(reply_markup=markup)
        except BadRequest as e:
            log.debug("could not switch a receipt card's buttons: %s", e.message)
        return
    reason = texts.REJECT_REASONS.get(code)
    if reason is None:
        raise ForgedCallback(f"unknown reason {code!r}")
    done, reply = await _decide(update, context, payment_id, approve=False, reason=reason)
    await _answer_decision(update, query, done, reply)


async def _answer_decision(update: Update, query: CallbackQuery, done: bool, reply: str) -> None:
    """Reply with the decision made from a card, or alert why none was made."""
    if done:
        await query.answer()
        await send(update, reply)
    else:
        await query.answer(reply, show_alert=True)


async def approve_command(update: Update, context: Context) -> None:
    """Approve a receipt, optionally for another amount: /approve <payment> [amount]."""
    message = await admin_command(update, context)
    if message is None:
        return
    args = context.args or []
    payment_id = _payment_number(args[0]) if len(args) in (1, 2) else None
    if payment_id is None:
        await message.reply_text(_(texts.APPROVE_USAGE))
        return
    amount = None
    if len(args) == 2:
        try:
            amount = rules.amount(args[1])
        except rules.InputError as e:
            await message.reply_text(
                common_texts.bad_amount(args[1], e.message) + "\n\n" + _(texts.APPROVE_USAGE)
            )
            return
    _done, reply = await _decide(update, context, payment_id, approve=True, amount=amount)
    await message.reply_text(reply)


async def reject_command(update: Update, context: Context) -> None:
    """Reject a receipt with a reason: /reject <payment> <reason…>."""
    message = await admin_command(update, context)
    if message is None:
        return
    args = context.args or []
    payment_id = _payment_number(args[0]) if len(args) >= 2 else None
    if payment_id is None:
        await message.reply_text(_(texts.REJECT_USAGE))
        return
    try:
        reason = rules.reason(" ".join(args[1:]))[: texts.NOTE_SHOWN]
    except rules.InputError as e:
        await message.reply_text(e.message)
        return
    _done, reply = await _decide(update, context, payment_id, approve=False, reason=reason)
    await message.reply_text(reply)


# --------------------------------------------------------------------------- Stars refunds

CHARGE_ALREADY_REFUNDED = "CHARGE_ALREADY_REFUNDED"


async def refund_command(update: Update, context: Context) -> None:
    """Give a customer's Stars back and take the credit out of their wallet: /refund <payment>."""
    message = await admin_command(update, context)
    if message is None:
        return
    admin = sender(update)
    args = context.args or []
    payment_id = _payment_number(args[0]) if len(args) == 1 else None
    if payment_id is None:
        await message.reply_text(_(texts.REFUND_USAGE))
        return
    bot_data = context.bot_data
    settings = bot_data.settings
    try:
        payment = await payments.check_refundable(bot_data.db, payment_id)
    except payments.RefundError as e:
        await message.reply_text(
            texts.refund_refused(e.reason, e.payment_id, e.payment, e.balance)
        )
        return
    assert payment.provider_payment_id is not None
    try:
        await context.bot.refund_star_payment(payment.user_id, payment.provider_payment_id)
    except BadRequest as e:
        if CHARGE_ALREADY_REFUNDED not in e.message.upper():
            await message.reply_text(texts.refund_failed(payment_id, e.message))
            return
        log.info("payment %d was already refunded on Telegram", payment_id)
    except TelegramError as e:
        await message.reply_text(texts.refund_failed(payment_id, e.message))
        return
    done = await payments.reverse_refunded(
        bot_data.db,
        payment_id,
        admin_id=admin.id,
        currency=settings.currency,
        admin_chat_ids=sorted(settings.admin_ids),
    )
    if done is None:
        await message.reply_text(texts.already_refunded(payment_id))
        return
    log.info("admin %d refunded Stars payment %d", admin.id, payment_id)
    await message.reply_text(texts.refunded_reply(done.payment, done.balance, settings.currency))


async def no_order_waiting(update: Update, context: Context) -> None:
    """Answer Back to my order when no order summary is waiting any more."""
    await button_press(update).answer(texts.NO_ORDER_WAITING, show_alert=True)


def build_payment_handlers() -> list[BaseHandler[Update, Context, Any]]:
    """Stars pre-checkout and successful payments (register before the conversations)."""
    return [
        PreCheckoutQueryHandler(pre_checkout),
        MessageHandler(filters.SUCCESSFUL_PAYMENT, successful_payment),
    ]


def build_conversation(settings: Settings) -> ConversationHandler[Context]:
    """The top-up conversation (persistent, named "topup"); register before the order one."""
    entry_points: list[BaseHandler[Update, Context, Any]] = [
        CallbackQueryHandler(top_up_button, pattern=pattern(Action.TOPUP)),
        CallbackQueryHandler(amount_button, pattern=pattern(Action.TOPUP_AMOUNT)),
        CallbackQueryHandler(other_amount_button, pattern=pattern(Action.TOPUP_OTHER)),
        CallbackQueryHandler(method_button, pattern=pattern(Action.TOPUP_METHOD)),
        CallbackQueryHandler(cancel_button, pattern=pattern(Action.TOPUP_CANCEL)),
        CommandHandler("topup", top_up_command),
    ]
    text = filters.TEXT & ~filters.COMMAND
    states: dict[object, list[BaseHandler[Update, Context, Any]]] = {
        TYPING_AMOUNT: [
            MessageHandler(text, typed_amount),
            MessageHandler(~filters.COMMAND & ~filters.StatusUpdate.ALL, not_an_amount),
        ],
        TYPING_RECEIPT: [
            MessageHandler(filters.PHOTO | text, receipt),
            MessageHandler(~filters.COMMAND & ~filters.StatusUpdate.ALL, not_a_receipt),
        ],
        ConversationHandler.TIMEOUT: [TypeHandler(Update, expired)],
    }
    return ConversationHandler(
        entry_points=entry_points,
        states=states,
        fallbacks=[CommandHandler("cancel", cancel_command)],
        name="topup",
        persistent=True,
        per_message=False,
        allow_reentry=True,
        conversation_timeout=min(settings.conversation_timeout, TOPUP_TIMEOUT),
    )


def build_handlers() -> list[BaseHandler[Update, Context, Any]]:
    """The commands and buttons outside the conversation (admins' included)."""
    return [
        CommandHandler("paysupport", paysupport),
        CommandHandler("terms", terms),
        CommandHandler("approve", approve_command),
        CommandHandler("reject", reject_command),
        CommandHandler("refund", refund_command),
        CallbackQueryHandler(approve_button, pattern=pattern(Action.PAY_APPROVE)),
        CallbackQueryHandler(reject_button, pattern=pattern(Action.PAY_REJECT)),
        CallbackQueryHandler(check_payment_button, pattern=pattern(Action.PAY_CHECK)),
        CallbackQueryHandler(no_order_waiting, pattern=pattern(Action.ORDER_RESUME)),
    ]
