"""Queries for customers' payments (top-ups) and the admins' receipt cards.

State changes go through ``move``, which only changes a row still in one of the states it
expects; the schema's trigger refuses any move the state machine does not allow.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from storage.db import Database, money_text, now_text, parse_money, parse_time

_COLUMNS = (
    "payment_id, user_id, chat_id, provider, provider_payment_id, payload, amount,"
    " provider_amount, provider_unit, rate, state, origin, repeat_of, pay_url, paid_asset,"
    " paid_amount, reference, photo_file_id, note, decided_by, expires_at, created_at,"
    " updated_at, paid_at, credited_at"
)


class Provider(StrEnum):
    """Where the money comes from."""

    STARS = "stars"
    CRYPTOPAY = "cryptopay"
    MANUAL = "manual"


class State(StrEnum):
    """Where a payment stands."""

    CREATED = "created"
    PAID = "paid"
    CREDITED = "credited"
    REJECTED = "rejected"
    EXPIRED = "expired"
    REFUNDED = "refunded"


class Origin(StrEnum):
    """Where the customer started the top-up: after paying, an order summary is offered again."""

    BALANCE = "balance"
    ORDER = "order"


@dataclass(frozen=True, slots=True)
class Payment:
    """One payment as we keep it."""

    payment_id: int
    user_id: int
    chat_id: int
    provider: Provider
    provider_payment_id: str | None
    payload: str | None
    amount: Decimal
    provider_amount: Decimal
    provider_unit: str
    rate: Decimal
    state: State
    origin: Origin
    repeat_of: int | None
    pay_url: str | None
    paid_asset: str | None
    paid_amount: Decimal | None
    reference: str | None
    photo_file_id: str | None
    note: str | None
    decided_by: int | None
    expires_at: datetime | None
    created_at: datetime
    paid_at: datetime | None
    credited_at: datetime | None

    @property
    def stars(self) -> int:
        """The Stars an XTR payment costs."""
        return int(self.provider_amount)


def payment_from_row(row: sqlite3.Row) -> Payment:
    """Build a ``Payment`` from a row read with ``_COLUMNS``."""

    def moment(name: str) -> datetime | None:
        value = row[name]
        return None if value is None else parse_time(str(value))

    return Payment(
        payment_id=int(row["payment_id"]),
        user_id=int(row["user_id"]),
        chat_id=int(row["chat_id"]),
        provider=Provider(row["provider"]),
        provider_payment_id=row["provider_payment_id"],
        payload=row["payload"],
        amount=Decimal(row["amount"]),
        provider_amount=Decimal(row["provider_amount"]),
        provider_unit=str(row["provider_unit"]),
        rate=Decimal(row["rate"]),
        state=State(row["state"]),
        origin=Origin(row["origin"]),
        repeat_of=row["repeat_of"],
        pay_url=row["pay_url"],
        paid_asset=row["paid_asset"],
        paid_amount=parse_money(row["paid_amount"]),
        reference=row["reference"],
        photo_file_id=row["photo_file_id"],
        note=row["note"],
        decided_by=row["decided_by"],
        expires_at=moment("expires_at"),
        created_at=parse_time(str(row["created_at"])),
        paid_at=moment("paid_at"),
        credited_at=moment("credited_at"),
    )


async def insert(
    db: Database,
    *,
    user_id: int,
    chat_id: int,
    provider: str,
    amount: Decimal,
    provider_amount: Decimal,
    provider_unit: str,
    rate: Decimal,
    state: str = "created",
    payload: str | None = None,
    provider_payment_id: str | None = None,
    origin: str = "balance",
    repeat_of: int | None = None,
    reference: str | None = None,
    photo_file_id: str | None = None,
    expires_at: str | None = None,
) -> int:
    """Write a new payment and return its ID."""
    now = now_text()
    paid_at = now if state == "paid" else None
    async with (
        db.transaction(),
        db.conn.execute(
            "INSERT INTO payments (user_id, chat_id, provider, provider_payment_id, payload,"
            " amount, provider_amount, provider_unit, rate, state, origin, repeat_of,"
            " reference, photo_file_id, expires_at, created_at, updated_at, paid_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                user_id,
                chat_id,
                provider,
                provider_payment_id,
                payload,
                money_text(amount),
                money_text(provider_amount),
                provider_unit,
                money_text(rate),
                state,
                origin,
                repeat_of,
                reference,
                photo_file_id,
                expires_at,
                now,
                now,
                paid_at,
            ),
        ) as cursor,
    ):
        payment_id = cursor.lastrowid
    if payment_id is None:  # pragma: no cover - sqlite always reports the new row
        raise RuntimeError("the payment row was not written")
    return payment_id


async def _one(db: Database, where: str, params: Sequence[object]) -> Payment | None:
    row = await db.fetch_one(f"SELECT {_COLUMNS} FROM payments WHERE {where}", params)
    return None if row is None else payment_from_row(row)


async def get(db: Database, payment_id: int) -> Payment | None:
    """One payment, or None."""
    return await _one(db, "payment_id = ?", (payment_id,))


async def by_payload(db: Database, payload: str) -> Payment | None:
    """The payment an invoice payload names, or None."""
    return await _one(db, "payload = ?", (payload,))


async def by_provider_id(db: Database, provider: str, provider_payment_id: str) -> Payment | None:
    """The payment with this provider ID, or None."""
    return await _one(
        db, "provider = ? AND provider_payment_id = ?", (provider, provider_payment_id)
    )


async def move(
    db: Database,
    payment_id: int,
    from_states: Sequence[str],
    to_state: str,
    **fields: Any,
) -> bool:
    """Move a payment to ``to_state`` (setting ``fields`` too) if it is in one of
    ``from_states``; False when it was not."""
    now = now_text()
    values: dict[str, Any] = {"state": to_state, "updated_at": now, **fields}
    if to_state == "paid":
        values.setdefault("paid_at", now)
    if to_state == "credited":
        values.setdefault("credited_at", now)
    assignments = ", ".join(f"{name} = ?" for name in values)
    marks = ", ".join("?" for _ in from_states)
    async with (
        db.transaction(),
        db.conn.execute(
            f"UPDATE payments SET {assignments} WHERE payment_id = ? AND state IN ({marks})",
            (*values.values(), payment_id, *from_states),
        ) as cursor,
    ):
        return cursor.rowcount > 0


async def for_user(db: Database, user_id: int, limit: int) -> list[Payment]:
    """The user's latest payments, newest first."""
    rows = await db.fetch_all(
        f"SELECT {_COLUMNS} FROM payments WHERE user_id = ? ORDER BY payment_id DESC LIMIT ?",
        (user_id, limit),
    )
    return [payment_from_row(row) for row in rows]


async def in_states(
    db: Database, provider: str, states: Iterable[str], limit: int = 10_000
) -> list[Payment]:
    """A provider's payments in these states, oldest first."""
    wanted = list(states)
    marks = ", ".join("?" for _ in wanted)
    rows = await db.fetch_all(
        f"SELECT {_COLUMNS} FROM payments WHERE provider = ? AND state IN ({marks})"
        " ORDER BY payment_id LIMIT ?",
        (provider, *wanted, limit),
    )
    return [payment_from_row(row) for row in rows]


async def add_card(db: Database, payment_id: int, chat_id: int, message_id: int) -> None:
    """Remember an admin's card about a payment."""
    async with db.transaction():
        await db.conn.execute(
            "INSERT OR REPLACE INTO payment_cards (payment_id, chat_id, message_id)"
            " VALUES (?, ?, ?)",
            (payment_id, chat_id, message_id),
        )


async def cards(db: Database, payment_id: int) -> list[tuple[int, int]]:
    """Every admin card about a payment, as (chat ID, message ID)."""
    rows = await db.fetch_all(
        "SELECT chat_id, message_id FROM payment_cards WHERE payment_id = ? ORDER BY chat_id",
        (payment_id,),
    )
    return [(int(row[0]), int(row[1])) for row in rows]


async def ledger_for_payments(db: Database) -> list[sqlite3.Row]:
    """Every ledger entry that belongs to a payment (for checks and reconciliation)."""
    return await db.fetch_all(
        "SELECT payment_id, kind, amount FROM ledger WHERE payment_id IS NOT NULL"
        " ORDER BY entry_id"
    )
