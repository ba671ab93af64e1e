"""The customer's wallet: an append-only ledger whose last entry holds the balance.

Every change of money is a new entry (credit, debit, order, refund) written in the same
transaction as the change it pays for; nothing is ever updated or deleted.
"""

from __future__ import annotations

from decimal import Decimal

from storage import ledger
from storage.db import Database
from storage.ledger import LedgerEntry


class InsufficientBalance(Exception):
    """The wallet holds less than the amount asked for."""

    def __init__(self, balance: Decimal, needed: Decimal) -> None:
        super().__init__(f"the balance {balance} does not cover {needed}")
        self.balance = balance
        self.needed = needed


def _positive(amount: Decimal) -> Decimal:
    if not isinstance(amount, Decimal) or not amount.is_finite() or amount <= 0:
        raise ValueError(f"the amount must be a positive Decimal, not {amount!r}")
    return amount


async def get_balance(db: Database, user_id: int) -> Decimal:
    """The user's current balance (0 for a user with no entries)."""
    return await ledger.balance(db, user_id)


async def credit(
    db: Database, user_id: int, amount: Decimal, *, reason: str, admin_id: int | None = None
) -> LedgerEntry:
    """Add money to the wallet; ``amount`` must be positive."""
    return await ledger.append(
        db,
        user_id=user_id,
        amount=_positive(amount),
        kind="credit",
        reason=reason,
        admin_id=admin_id,
    )


async def debit(
    db: Database, user_id: int, amount: Decimal, *, reason: str, admin_id: int | None = None
) -> LedgerEntry:
    """Take money from the wallet; raises ``InsufficientBalance`` rather than go below 0."""
    return await withdraw(db, user_id, amount, kind="debit", reason=reason, admin_id=admin_id)


async def withdraw(
    db: Database,
    user_id: int,
    amount: Decimal,
    *,
    kind: str,
    reason: str,
    order_id: int | None = None,
    admin_id: int | None = None,
) -> LedgerEntry:
    """Append a negative entry of ``kind`` if the balance covers it (checked in the same
    transaction, so two concurrent debits cannot both pass)."""
    _positive(amount)
    async with db.transaction():
        balance = await ledger.balance(db, user_id)
        if balance < amount:
            raise InsufficientBalance(balance, amount)
        return await ledger.append(
            db,
            user_id=user_id,
            amount=-amount,
            kind=kind,
            reason=reason,
            order_id=order_id,
            admin_id=admin_id,
        )


async def refund(
    db: Database,
    user_id: int,
    amount: Decimal,
    *,
    reason: str,
    order_id: int,
    admin_id: int | None = None,
) -> LedgerEntry:
    """Refund money for an order (kind "refund"); ``amount`` must be positive."""
    return await ledger.append(
        db,
        user_id=user_id,
        amount=_positive(amount),
        kind="refund",
        reason=reason,
        order_id=order_id,
        admin_id=admin_id,
    )


async def recent_entries(db: Database, user_id: int, limit: int = 5) -> list[LedgerEntry]:
    """The user's latest ledger entries, newest first."""
    return await ledger.recent(db, user_id, limit)
