"""Customers' top-ups: a payment row per payment, credited to the wallet exactly once.

A payment moves created → paid → credited (or created → expired / rejected; expired → paid
when an invoice is paid late; credited → refunded when an admin refunds Stars). The database
enforces the moves (a trigger) and the one credit per payment (a unique ledger index), and
every credit happens in one transaction with the state change and the admins' notice in the
outbox, so a repeated notice, a restart, a double tap or two workers seeing the same payment
credit nothing more.

Providers: Telegram Stars (an XTR invoice per payment; the payload names the payment),
Crypto Pay (an invoice in fiat; polled and, when configured, pushed by webhook) and manual
receipts an admin approves or rejects.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_DOWN, Decimal
from enum import StrEnum
from typing import Any

from bot.payments.cryptopay import CryptoInvoice, CryptoPayClient, CryptoPayError, InvoiceStatus
from bot.services import notifications, users
from bot.services.notifications import Notice, NoticeKind
from storage import ledger
from storage import payments as payment_rows
from storage.db import Database, time_text
from storage.payments import Origin, Payment, Provider, State

log = logging.getLogger(__name__)

CENT = Decimal("0.01")
XTR = "XTR"
# Telegram's limit for one Stars invoice.
STARS_MAX_PER_INVOICE = 10_000
PAYMENT_KIND = "payment"
REVERSAL_KIND = "payment_refund"


async def get_payment(db: Database, payment_id: int) -> Payment | None:
    """One payment, or None."""
    return await payment_rows.get(db, payment_id)


async def payment_by_provider_id(
    db: Database, provider: Provider, provider_payment_id: str
) -> Payment | None:
    """The payment with this provider ID, or None."""
    return await payment_rows.by_provider_id(db, provider.value, provider_payment_id)


async def user_payments(db: Database, user_id: int, limit: int = 5) -> list[Payment]:
    """A customer's latest payments, newest first."""
    return await payment_rows.for_user(db, user_id, limit)


def new_payload() -> str:
    """A payload no one can guess (it names one payment)."""
    return "tp-" + secrets.token_urlsafe(12)


def stars_for(amount: Decimal, stars_per_unit: Decimal) -> int:
    """The whole Stars that buy ``amount`` (rounded up: the shop never sells below its rate)."""
    return max(1, int((amount * stars_per_unit).to_integral_value(rounding=ROUND_CEILING)))


def _expiry(ttl: float) -> str:
    return time_text(datetime.now(UTC) + timedelta(seconds=ttl))


async def _who(db: Database, user_id: int) -> dict[str, Any]:
    """Who a payment notice is about, for the admins to read (``bot.notices`` names them)."""
    user = await users.get_user(db, user_id)
    if user is None:
        return {"user_id": user_id}
    return {"user_id": user_id, "first_name": user.first_name, "username": user.username}


_PROVIDER_NAMES = {"stars": "Telegram Stars", "cryptopay": "Crypto Pay", "manual": "receipt"}


def _ledger_reason(provider: str, payment_id: int) -> str:
    """The ledger entry's reason for a credited payment."""
    return f"{_PROVIDER_NAMES.get(provider, provider)} payment #{payment_id}"


def _reversal_reason(payment_id: int) -> str:
    """The ledger entry's reason for a refunded payment."""
    return f"payment #{payment_id} refunded"


def _corrected_note(claimed: Decimal, currency: str) -> str:
    """Record the amount the customer claimed when an admin credits another."""
    return f"claimed {claimed} {currency}"


def _is_past(moment: datetime | None) -> bool:
    return moment is not None and moment <= datetime.now(UTC)


# --------------------------------------------------------------------------- crediting


@dataclass(frozen=True, slots=True)
class Credit:
    """A payment that was just credited, and the balance it left."""

    payment: Payment
    balance: Decimal


async def _credit_in_transaction(
    db: Database,
    payment: Payment,
    *,
    currency: str,
    admin_chat_ids: Sequence[int],
    notify_customer: bool,
    amount: Decimal | None = None,
    admin_id: int | None = None,
) -> Credit | None:
    """Credit a paid payment (inside the caller's transaction); None when it was not paid."""
    fields: dict[str, Any] = {}
    if amount is not None and amount != payment.amount:
        fields["amount"] = str(amount)
        fields["note"] = _corrected_note(payment.amount, currency)
    if admin_id is not None:
        fields["decided_by"] = admin_id
    moved = await payment_rows.move(
        db, payment.payment_id, [State.PAID.value], State.CREDITED.value, **fields
    )
    if not moved:
        return None
    credited = amount if amount is not None else payment.amount
    row = await ledger.append(
        db,
        user_id=payment.user_id,
        amount=credited,
        kind=PAYMENT_KIND,
        reason=_ledger_reason(payment.provider.value, payment.payment_id),
        admin_id=admin_id,
        payment_id=payment.payment_id,
    )
    balance = row.balance_after
    fresh = await get_payment(db, payment.payment_id)
    assert fresh is not None
    for chat_id in admin_chat_ids:
        await notifications.queue_notice(
            db,
            Notice(
                chat_id,
                NoticeKind.PAYMENT_CREDITED_ADMIN,
                {
                    "payment": fresh,
                    "customer": await _who(db, payment.user_id),
                    "balance": balance,
                },
                f"payment-credited:{payment.payment_id}:{chat_id}",
            ),
        )
    if notify_customer:
        await notifications.queue_notice(
            db,
            Notice(
                payment.chat_id,
                NoticeKind.PAYMENT_CREDITED,
                {"payment": fresh, "balance": balance},
                f"payment-credited:{payment.payment_id}:customer",
            ),
        )
    log.info(
        "payment %d (%s) credited %s to user %d",
        payment.payment_id,
        payment.provider,
        credited,
        payment.user_id,
    )
    return Credit(fresh, balance)


async def credit_paid(
    db: Database,
    payment_id: int,
    *,
    currency: str,
    admin_chat_ids: Sequence[int],
    notify_customer: bool,
) -> Credit | None:
    """Credit a payment that is paid and not yet credited; None when there is nothing to do."""
    async with db.transaction():
        payment = await get_payment(db, payment_id)
        if payment is None or payment.state is not State.PAID:
            return None
        return await _credit_in_transaction(
            db,
            payment,
            currency=currency,
            admin_chat_ids=admin_chat_ids,
            notify_customer=notify_customer,
        )


# --------------------------------------------------------------------------- Telegram Stars


async def create_stars_payment(
    db: Database,
    *,
    user_id: int,
    chat_id: int,
    amount: Decimal,
    stars_per_unit: Decimal,
    origin: Origin,
    ttl: float,
) -> Payment:
    """Open a Stars top-up of ``amount``: the invoice to send carries its payload."""
    stars = stars_for(amount, stars_per_unit)
    if stars > STARS_MAX_PER_INVOICE:
        raise ValueError(f"{stars} Stars is over Telegram's limit for one invoice")
    payment_id = await payment_rows.insert(
        db,
        user_id=user_id,
        chat_id=chat_id,
        provider=Provider.STARS.value,
        amount=amount,
        provider_amount=Decimal(stars),
        provider_unit=XTR,
        rate=stars_per_unit,
        payload=new_payload(),
        origin=origin.value,
        expires_at=_expiry(ttl),
    )
    payment = await get_payment(db, payment_id)
    assert payment is not None
    return payment


class PreCheckoutRefusal(StrEnum):
    """Why a pre-checkout query is refused."""

    UNKNOWN = "unknown"
    NOT_YOURS = "not_yours"
    STALE = "stale"
    PRICE = "price"


async def check_pre_checkout(
    db: Database, *, user_id: int, payload: str, currency: str, total_amount: int
) -> PreCheckoutRefusal | None:
    """None when the payload is an open Stars top-up of this user at this price."""
    payment = await payment_rows.by_payload(db, payload)
    if payment is None:
        return PreCheckoutRefusal.UNKNOWN
    if payment.provider is not Provider.STARS:
        return PreCheckoutRefusal.UNKNOWN
    if payment.user_id != user_id:
        return PreCheckoutRefusal.NOT_YOURS
    if payment.state is not State.CREATED:
        return PreCheckoutRefusal.STALE
    if _is_past(payment.expires_at):
        await payment_rows.move(db, payment.payment_id, [State.CREATED.value], State.EXPIRED.value)
        return PreCheckoutRefusal.STALE
    if currency != XTR or total_amount != payment.stars:
        return PreCheckoutRefusal.PRICE
    return None


async def expire_stale_stars(db: Database) -> int:
    """Close Stars top-ups whose invoice time ran out; return how many."""
    now = datetime.now(UTC)
    closed = 0
    for payment in await payment_rows.in_states(db, Provider.STARS.value, [State.CREATED.value]):
        if payment.expires_at is not None and payment.expires_at <= now:
            moved = await payment_rows.move(
                db, payment.payment_id, [State.CREATED.value], State.EXPIRED.value
            )
            closed += int(moved)
    return closed


class StarsOutcome(StrEnum):
    """What a ``successful_payment`` did."""

    CREDITED = "credited"
    DUPLICATE = "duplicate"
    UNMATCHED = "unmatched"


@dataclass(frozen=True, slots=True)
class StarsResult:
    """The outcome, the payment it concerns, and the customer's balance now."""

    outcome: StarsOutcome
    payment: Payment
    balance: Decimal


async def record_stars_payment(
    db: Database,
    *,
    user_id: int,
    chat_id: int,
    payload: str,
    charge_id: str,
    total_amount: int,
    currency: str,
    admin_chat_ids: Sequence[int],
) -> StarsResult:
    """Record a Stars ``successful_payment`` by its charge ID and credit it once.

    The same charge seen again credits nothing. A charge for an invoice already paid (an
    old invoice paid again) is a payment of its own, credited once too. Stars that match no
    open top-up of this user at this price are recorded as paid, not credited, and the
    admins are told to credit or refund them.
    """
    async with db.transaction():
        seen = await payment_by_provider_id(db, Provider.STARS, charge_id)
        if seen is not None:
            balance = await ledger.balance(db, seen.user_id)
            return StarsResult(StarsOutcome.DUPLICATE, seen, balance)
        invoice = await payment_rows.by_payload(db, payload)
        matches = (
            invoice is not None
            and invoice.provider is Provider.STARS
            and invoice.user_id == user_id
            and invoice.stars == total_amount
        )
        if invoice is not None and matches and invoice.state in (State.CREATED, State.EXPIRED):
            await payment_rows.move(
                db,
                invoice.payment_id,
                [State.CREATED.value, State.EXPIRED.value],
                State.PAID.value,
                provider_payment_id=charge_id,
            )
            payment_id = invoice.payment_id
        elif invoice is not None and matches:
            payment_id = await payment_rows.insert(
                db,
                user_id=user_id,
                chat_id=chat_id,
                provider=Provider.STARS.value,
                provider_payment_id=charge_id,
                amount=invoice.amount,
                provider_amount=invoice.provider_amount,
                provider_unit=XTR,
                rate=invoice.rate,
                state=State.PAID.value,
                origin=invoice.origin.value,
                repeat_of=invoice.payment_id,
            )
        else:
            rate = invoice.rate if invoice is not None else Decimal(1)
            payment_id = await payment_rows.insert(
                db,
                user_id=user_id,
                chat_id=chat_id,
                provider=Provider.STARS.value,
                provider_payment_id=charge_id,
                amount=(Decimal(total_amount) / rate).quantize(CENT, rounding=ROUND_DOWN),
                provider_amount=Decimal(total_amount),
                provider_unit=XTR,
                rate=rate,
                state=State.PAID.value,
                repeat_of=None if invoice is None else invoice.payment_id,
                reference=payload[:128],
            )
            paid = await get_payment(db, payment_id)
            assert paid is not None
            for admin_chat in admin_chat_ids:
                await notifications.queue_notice(
                    db,
                    Notice(
                        admin_chat,
                        NoticeKind.STARS_UNMATCHED_ADMIN,
                        {"payment": paid, "customer": await _who(db, user_id)},
                        f"stars-unmatched:{charge_id}:{admin_chat}",
                    ),
                )
            log.warning("Stars charge %s matches no open top-up (payload %r)", charge_id, payload)
            return StarsResult(StarsOutcome.UNMATCHED, paid, await ledger.balance(db, user_id))
        paid = await get_payment(db, payment_id)
        assert paid is not None
        credit = await _credit_in_transaction(
            db,
            paid,
            currency=currency,
            admin_chat_ids=admin_chat_ids,
            notify_customer=False,
        )
        assert credit is not None
        return StarsResult(StarsOutcome.CREDITED, credit.payment, credit.balance)


class RefundRefusal(StrEnum):
    """Why a payment cannot be refunded."""

    NO_SUCH_PAYMENT = "no_such_payment"
    ONLY_STARS = "only_stars"
    ALREADY_REFUNDED = "already_refunded"
    NOT_REFUNDABLE = "not_refundable"
    SPENT = "spent"


class RefundError(Exception):
    """The payment cannot be refunded: ``reason``, with the payment and the customer's
    balance when they explain it."""

    def __init__(
        self,
        reason: RefundRefusal,
        payment_id: int,
        payment: Payment | None = None,
        balance: Decimal | None = None,
    ) -> None:
        super().__init__(f"payment #{payment_id}: {reason.value}")
        self.reason = reason
        self.payment_id = payment_id
        self.payment = payment
        self.balance = balance


async def check_refundable(db: Database, payment_id: int) -> Payment:
    """The Stars payment to refund, if it is credited and its money is still unspent."""
    payment = await get_payment(db, payment_id)
    if payment is None:
        raise RefundError(RefundRefusal.NO_SUCH_PAYMENT, payment_id)
    if payment.provider is not Provider.STARS:
        raise RefundError(RefundRefusal.ONLY_STARS, payment_id, payment)
    if payment.state is State.REFUNDED:
        raise RefundError(RefundRefusal.ALREADY_REFUNDED, payment_id, payment)
    if payment.state not in (State.CREDITED, State.PAID) or payment.provider_payment_id is None:
        raise RefundError(RefundRefusal.NOT_REFUNDABLE, payment_id, payment)
    if payment.state is State.PAID:
        # Never credited (Stars that matched no top-up): nothing to take back.
        return payment
    balance = await ledger.balance(db, payment.user_id)
    if balance < payment.amount:
        raise RefundError(RefundRefusal.SPENT, payment_id, payment, balance)
    return payment


async def reverse_refunded(
    db: Database,
    payment_id: int,
    *,
    admin_id: int,
    currency: str,
    admin_chat_ids: Sequence[int],
) -> Credit | None:
    """Take a refunded payment's credit back out of the wallet, once (Telegram has already
    returned the Stars, so this may leave a balance spent in the meantime below zero). A
    payment that was never credited is only marked refunded."""
    async with db.transaction():
        payment = await get_payment(db, payment_id)
        if payment is None:
            return None
        moved = await payment_rows.move(
            db,
            payment_id,
            [State.CREDITED.value, State.PAID.value],
            State.REFUNDED.value,
            decided_by=admin_id,
        )
        if not moved:
            return None
        if payment.state is State.CREDITED:
            row = await ledger.append(
                db,
                user_id=payment.user_id,
                amount=-payment.amount,
                kind=REVERSAL_KIND,
                reason=_reversal_reason(payment_id),
                admin_id=admin_id,
                payment_id=payment_id,
            )
            balance = row.balance_after
        else:
            balance = await ledger.balance(db, payment.user_id)
        fresh = await get_payment(db, payment_id)
        assert fresh is not None
        await notifications.queue_notice(
            db,
            Notice(
                payment.chat_id,
                NoticeKind.PAYMENT_REFUNDED,
                {"payment": fresh, "balance": balance},
                f"payment-refunded:{payment_id}:customer",
            ),
        )
        for chat_id in admin_chat_ids:
            if chat_id == admin_id:
                continue
            await notifications.queue_notice(
                db,
                Notice(
                    chat_id,
                    NoticeKind.PAYMENT_REFUNDED_ADMIN,
                    {
                        "payment": fresh,
                        "customer": await _who(db, payment.user_id),
                        "admin_id": admin_id,
                    },
                    f"payment-refunded:{payment_id}:{chat_id}",
                ),
            )
        return Credit(fresh, balance)


@dataclass(frozen=True, slots=True)
class StarTransaction:
    """One line of Telegram's Stars statement: a payment in, or a refund out."""

    charge_id: str
    user_id: int | None
    stars: int
    incoming: bool
    date: datetime


@dataclass(frozen=True, slots=True)
class Difference:
    """Something Telegram's Stars statement and our payments disagree on."""

    kind: str  # missing, amount, refund or unknown
    charge_id: str
    payment: Payment | None = None
    stars: int | None = None  # what Telegram lists
    user_id: int | None = None  # who Telegram says paid


async def reconcile_stars(
    db: Database,
    transactions: Iterable[StarTransaction],
    *,
    complete: bool,
    admin_chat_ids: Sequence[int],
) -> list[Difference]:
    """Compare Telegram's Stars statement with our Stars payments and alert the admins once
    per difference. ``complete``: the statement holds every transaction ever made (else
    only payments from its first date on are checked for being missing from it)."""
    incoming: dict[str, StarTransaction] = {}
    outgoing: dict[str, StarTransaction] = {}
    earliest: datetime | None = None
    for tx in transactions:
        (incoming if tx.incoming else outgoing)[tx.charge_id] = tx
        earliest = tx.date if earliest is None or tx.date < earliest else earliest
    ours = await payment_rows.in_states(
        db,
        Provider.STARS.value,
        [State.PAID.value, State.CREDITED.value, State.REFUNDED.value],
    )
    by_charge = {p.provider_payment_id: p for p in ours if p.provider_payment_id}
    found: list[Difference] = []
    for charge_id, tx in incoming.items():
        payment = by_charge.get(charge_id)
        if payment is None:
            found.append(Difference("missing", charge_id, stars=tx.stars, user_id=tx.user_id))
        elif payment.stars != tx.stars:
            found.append(Difference("amount", charge_id, payment, stars=tx.stars))
    for charge_id in outgoing:
        payment = by_charge.get(charge_id)
        if payment is not None and payment.state is not State.REFUNDED:
            found.append(Difference("refund", charge_id, payment))
    for payment in ours:
        known_id = payment.provider_payment_id
        if known_id is None or known_id in incoming:
            continue
        paid_at = payment.paid_at or payment.created_at
        if complete or (earliest is not None and paid_at >= earliest):
            found.append(Difference("unknown", known_id, payment))
    for difference in found:
        for chat_id in admin_chat_ids:
            await notifications.queue_notice(
                db,
                Notice(
                    chat_id,
                    NoticeKind.STARS_DIFFERENCE_ADMIN,
                    {
                        "kind": difference.kind,
                        "charge_id": difference.charge_id,
                        "payment": difference.payment,
                        "stars": difference.stars,
                        "user_id": difference.user_id,
                    },
                    f"stars-diff:{difference.kind}:{difference.charge_id}:{chat_id}",
                ),
            )
    if found:
        log.warning("Stars reconciliation found %d difference(s)", len(found))
    return found


# --------------------------------------------------------------------------- Crypto Pay

# An expired invoice is still watched this long: a payment that lands late is credited.
LATE_PAYMENT_WINDOW = timedelta(hours=24)


async def create_crypto_payment(
    db: Database,
    client: CryptoPayClient,
    *,
    user_id: int,
    chat_id: int,
    amount: Decimal,
    currency: str,
    assets: Sequence[str],
    origin: Origin,
    ttl: float,
    description: str,
) -> Payment:
    """Open a Crypto Pay top-up: our payment row first (its payload goes into the invoice),
    then the invoice in ``currency``. Raises ``CryptoPayError`` when no invoice was made
    (the payment then ends expired, never payable)."""
    payload = new_payload()
    payment_id = await payment_rows.insert(
        db,
        user_id=user_id,
        chat_id=chat_id,
        provider=Provider.CRYPTOPAY.value,
        amount=amount,
        provider_amount=amount,
        provider_unit=currency,
        rate=Decimal(1),
        payload=payload,
        origin=origin.value,
        expires_at=_expiry(ttl),
    )
    try:
        invoice = await client.create_invoice(
            amount=amount,
            fiat=currency,
            accepted_assets=assets,
            payload=payload,
            description=description,
            expires_in=int(ttl),
        )
    except CryptoPayError as e:
        await payment_rows.move(
            db, payment_id, [State.CREATED.value], State.EXPIRED.value, note=str(e)[:200]
        )
        raise
    fields: dict[str, Any] = {
        "provider_payment_id": str(invoice.invoice_id),
        "pay_url": invoice.pay_url,
    }
    if invoice.expiration_date is not None:
        fields["expires_at"] = time_text(invoice.expiration_date)
    await payment_rows.move(db, payment_id, [State.CREATED.value], State.CREATED.value, **fields)
    payment = await get_payment(db, payment_id)
    assert payment is not None
    return payment


async def apply_crypto_invoice(
    db: Database, invoice: CryptoInvoice, *, currency: str, admin_chat_ids: Sequence[int]
) -> Credit | None:
    """Bring our payment up to date with its invoice: paid (even late) → credited once and
    the customer told; expired → expired. Returns the credit when this call made it."""
    async with db.transaction():
        payment = await payment_by_provider_id(db, Provider.CRYPTOPAY, str(invoice.invoice_id))
        if payment is None:
            log.warning("Crypto Pay invoice %d is not one of our payments", invoice.invoice_id)
            return None
        if invoice.status is InvoiceStatus.EXPIRED:
            await payment_rows.move(
                db, payment.payment_id, [State.CREATED.value], State.EXPIRED.value
            )
            return None
        if invoice.status is not InvoiceStatus.PAID:
            return None
        if (
            invoice.payload != payment.payload
            or invoice.amount != payment.amount
            or (invoice.fiat is not None and invoice.fiat != currency)
        ):
            log.error(
                "Crypto Pay invoice %d does not match payment %d: %s %s, payload %r",
                invoice.invoice_id,
                payment.payment_id,
                invoice.amount,
                invoice.fiat,
                invoice.payload,
            )
            for chat_id in admin_chat_ids:
                await notifications.queue_notice(
                    db,
                    Notice(
                        chat_id,
                        NoticeKind.CRYPTO_MISMATCH_ADMIN,
                        {"payment": payment, "invoice_id": invoice.invoice_id},
                        f"crypto-mismatch:{invoice.invoice_id}:{chat_id}",
                    ),
                )
            return None
        await payment_rows.move(
            db,
            payment.payment_id,
            [State.CREATED.value, State.EXPIRED.value],
            State.PAID.value,
            paid_asset=invoice.paid_asset,
            paid_amount=None if invoice.paid_amount is None else str(invoice.paid_amount),
        )
        paid = await get_payment(db, payment.payment_id)
        assert paid is not None
        return await _credit_in_transaction(
            db,
            paid,
            currency=currency,
            admin_chat_ids=admin_chat_ids,
            notify_customer=True,
        )


async def sync_crypto_invoices(
    db: Database, client: CryptoPayClient, *, currency: str, admin_chat_ids: Sequence[int]
) -> int:
    """Ask Crypto Pay about every open invoice (and recently expired ones, for late
    payments), batched; apply what changed. Return how many payments were credited."""
    cutoff = datetime.now(UTC) - LATE_PAYMENT_WINDOW
    watched = await payment_rows.in_states(
        db,
        Provider.CRYPTOPAY.value,
        [State.CREATED.value, State.EXPIRED.value, State.PAID.value],
    )
    ids = [
        int(p.provider_payment_id)
        for p in watched
        if p.provider_payment_id is not None
        and (p.state is not State.EXPIRED or (p.expires_at or p.created_at) >= cutoff)
    ]
    if not ids:
        return 0
    credited = 0
    for invoice in await client.get_invoices(ids):
        if await apply_crypto_invoice(
            db, invoice, currency=currency, admin_chat_ids=admin_chat_ids
        ):
            credited += 1
    # A payment marked paid whose credit did not land (a crash in between) is credited now.
    for payment in watched:
        if payment.state is State.PAID and await credit_paid(
            db,
            payment.payment_id,
            currency=currency,
            admin_chat_ids=admin_chat_ids,
            notify_customer=True,
        ):
            credited += 1
    return credited


# --------------------------------------------------------------------------- manual receipts


async def create_receipt(
    db: Database,
    *,
    user_id: int,
    chat_id: int,
    amount: Decimal,
    currency: str,
    origin: Origin,
    reference: str | None,
    photo_file_id: str | None,
) -> Payment:
    """Record a customer's receipt for an admin to approve or reject."""
    async with db.transaction():
        payment_id = await payment_rows.insert(
            db,
            user_id=user_id,
            chat_id=chat_id,
            provider=Provider.MANUAL.value,
            amount=amount,
            provider_amount=amount,
            provider_unit=currency,
            rate=Decimal(1),
            origin=origin.value,
            reference=reference,
            photo_file_id=photo_file_id,
        )
        # The provider's ID of a receipt is our own, so every payment has one.
        await payment_rows.move(
            db,
            payment_id,
            [State.CREATED.value],
            State.CREATED.value,
            provider_payment_id=f"manual-{payment_id}",
        )
    payment = await get_payment(db, payment_id)
    assert payment is not None
    return payment


class DecisionError(Exception):
    """The receipt was already decided (``payment`` says how) or does not exist (None)."""

    def __init__(self, payment_id: int, payment: Payment | None) -> None:
        state = "missing" if payment is None else payment.state.value
        super().__init__(f"payment #{payment_id} is {state}")
        self.payment_id = payment_id
        self.payment = payment


async def approve_receipt(
    db: Database,
    payment_id: int,
    *,
    admin_id: int,
    amount: Decimal | None,
    currency: str,
    admin_chat_ids: Sequence[int],
) -> Credit:
    """Approve a receipt (optionally for a corrected amount) and credit it; the first
    decision wins: a decided one raises ``DecisionError``."""
    async with db.transaction():
        payment = await get_payment(db, payment_id)
        if payment is None or payment.provider is not Provider.MANUAL:
            raise DecisionError(payment_id, None)
        moved = await payment_rows.move(
            db, payment_id, [State.CREATED.value], State.PAID.value, decided_by=admin_id
        )
        if not moved:
            raise DecisionError(payment_id, payment)
        paid = await get_payment(db, payment_id)
        assert paid is not None
        credit = await _credit_in_transaction(
            db,
            paid,
            currency=currency,
            admin_chat_ids=[c for c in admin_chat_ids if c != admin_id],
            notify_customer=True,
            amount=amount,
            admin_id=admin_id,
        )
        assert credit is not None
        return credit


async def reject_receipt(
    db: Database, payment_id: int, *, admin_id: int, reason: str, currency: str
) -> Payment:
    """Reject a receipt with a reason the customer is told; the first decision wins."""
    async with db.transaction():
        payment = await get_payment(db, payment_id)
        if payment is None or payment.provider is not Provider.MANUAL:
            raise DecisionError(payment_id, None)
        moved = await payment_rows.move(
            db,
            payment_id,
            [State.CREATED.value],
            State.REJECTED.value,
            decided_by=admin_id,
            note=reason,
        )
        if not moved:
            raise DecisionError(payment_id, payment)
        rejected = await get_payment(db, payment_id)
        assert rejected is not None
        await notifications.queue_notice(
            db,
            Notice(
                payment.chat_id,
                NoticeKind.PAYMENT_REJECTED,
                {"payment": rejected},
                f"payment-rejected:{payment_id}:customer",
            ),
        )
        return rejected


async def remember_card(db: Database, payment_id: int, chat_id: int, message_id: int) -> None:
    """Remember an admin's card about a receipt (so the decision can be shown on it)."""
    await payment_rows.add_card(db, payment_id, chat_id, message_id)


async def receipt_cards(db: Database, payment_id: int) -> list[tuple[int, int]]:
    """The admins' cards about a receipt, as (chat ID, message ID)."""
    return await payment_rows.cards(db, payment_id)


# --------------------------------------------------------------------------- checks


async def ledger_matches_payments(db: Database) -> bool:
    """True when each payment's ledger entries are exactly what its state says."""
    entries: dict[int, list[tuple[str, Decimal]]] = {}
    for row in await payment_rows.ledger_for_payments(db):
        entries.setdefault(int(row[0]), []).append((str(row[1]), Decimal(row[2])))
    rows = await db.fetch_all("SELECT payment_id FROM payments")
    for (payment_id,) in rows:
        payment = await get_payment(db, int(payment_id))
        assert payment is not None
        have = entries.pop(payment.payment_id, [])
        if payment.state is State.CREDITED:
            expected = [(PAYMENT_KIND, payment.amount)]
        elif payment.state is State.REFUNDED and payment.credited_at is not None:
            expected = [(PAYMENT_KIND, payment.amount), (REVERSAL_KIND, -payment.amount)]
        else:
            expected = []
        if have != expected:
            log.error("payment %d: ledger %s, expected %s", payment_id, have, expected)
            return False
    return not entries
