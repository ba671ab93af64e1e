"""Queries for the append-only money ledger.

Each entry stores its signed amount and the user's balance after it, both as Decimal text;
the balance is read from the last entry, never summed in SQL (SUM over text goes through
floating point).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from storage.db import Database, money_text, now_text, parse_time

_COLUMNS = (
    "entry_id, user_id, amount, balance_after, kind, reason, order_id, admin_id, created_at,"
    " payment_id"
)
ZERO = Decimal(0)
REFUND = "refund"
# The one statement that writes the ledger (``append`` for one entry, status sync's refunds
# for many at once).
INSERT = (
    "INSERT INTO ledger (user_id, amount, balance_after, kind, reason, order_id, admin_id,"
    " created_at, payment_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One movement of money: signed ``amount`` and the balance it left."""

    entry_id: int
    user_id: int
    amount: Decimal
    balance_after: Decimal
    kind: str
    reason: str
    order_id: int | None
    admin_id: int | None
    created_at: datetime
    payment_id: int | None = None


def entry_from_row(row: sqlite3.Row) -> LedgerEntry:
    """Build a ``LedgerEntry`` from a row read with ``_COLUMNS``."""
    entry_id, user_id, amount, after, kind, reason, order_id, admin_id, created, payment = row
    return LedgerEntry(
        entry_id=int(entry_id),
        user_id=int(user_id),
        amount=Decimal(amount),
        balance_after=Decimal(after),
        kind=str(kind),
        reason=str(reason),
        order_id=None if order_id is None else int(order_id),
        admin_id=None if admin_id is None else int(admin_id),
        created_at=parse_time(str(created)),
        payment_id=None if payment is None else int(payment),
    )


@dataclass(frozen=True, slots=True)
class NewEntry:
    """A ledger entry to write: a signed amount, its kind and why."""

    user_id: int
    amount: Decimal
    kind: str
    reason: str
    order_id: int | None = None
    admin_id: int | None = None
    payment_id: int | None = None


def insert_params(entry: NewEntry, balance_after: Decimal, now: str) -> tuple[object, ...]:
    """The parameters of ``INSERT`` for one entry leaving ``balance_after``."""
    e = entry
    return (
        e.user_id,
        money_text(e.amount),
        money_text(balance_after),
        e.kind,
        e.reason,
        e.order_id,
        e.admin_id,
        now,
        e.payment_id,
    )


async def balance(db: Database, user_id: int) -> Decimal:
    """The user's balance: what their last entry left (0 before the first)."""
    rows = await db.fetch_all(
        "SELECT balance_after FROM ledger WHERE user_id = ? ORDER BY entry_id DESC LIMIT 1",
        (user_id,),
    )
    row = next(iter(rows), None)
    return ZERO if row is None else Decimal(row[0])


async def append(
    db: Database,
    *,
    user_id: int,
    amount: Decimal,
    kind: str,
    reason: str,
    order_id: int | None = None,
    admin_id: int | None = None,
    payment_id: int | None = None,
) -> LedgerEntry:
    """Add one entry, computing the balance after it inside the same transaction."""
    async with db.transaction():
        after = await balance(db, user_id) + amount
        entry = NewEntry(user_id, amount, kind, reason, order_id, admin_id, payment_id)
        async with db.conn.execute(INSERT, insert_params(entry, after, now_text())) as cursor:
            entry_id = cursor.lastrowid
        row = await db.fetch_one(f"SELECT {_COLUMNS} FROM ledger WHERE entry_id = ?", (entry_id,))
    if row is None:  # pragma: no cover - the entry was written just above
        raise RuntimeError(f"ledger entry {entry_id} vanished")
    return entry_from_row(row)


async def recent(db: Database, user_id: int, limit: int) -> list[LedgerEntry]:
    """The user's latest entries, newest first."""
    rows = await db.fetch_all(
        f"SELECT {_COLUMNS} FROM ledger WHERE user_id = ? ORDER BY entry_id DESC LIMIT ?",
        (user_id, limit),
    )
    return [entry_from_row(row) for row in rows]


async def for_order(db: Database, order_id: int) -> list[LedgerEntry]:
    """Every entry that mentions an order, oldest first."""
    rows = await db.fetch_all(
        f"SELECT {_COLUMNS} FROM ledger WHERE order_id = ? ORDER BY entry_id", (order_id,)
    )
    return [entry_from_row(row) for row in rows]
