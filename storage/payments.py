"""Queries for customers' payments (top-ups) and the admins' receipt cards.

State changes go through ``move``, which only changes a row still in one of the states it
expects; the schema's trigger refuses any move the state machine does not allow.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from storage.db import Database, money_text, now_text

_COLUMNS = (
    "payment_id, user_id, chat_id, provider, provider_payment_id, payload, amount,"
    " provider_amount, provider_unit, rate, state, origin, repeat_of, pay_url, paid_asset,"
    " paid_amount, reference, photo_file_id, note, decided_by, expires_at, created_at,"
    " updated_at, paid_at, credited_at"
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


async def get(db: Database, payment_id: int) -> sqlite3.Row | None:
    """One payment, or None."""
    return await db.fetch_one(
        f"SELECT {_COLUMNS} FROM payments WHERE payment_id = ?", (payment_id,)
    )


async def by_payload(db: Database, payload: str) -> sqlite3.Row | None:
    """The payment an invoice payload names, or None."""
    return await db.fetch_one(f"SELECT {_COLUMNS} FROM payments WHERE payload = ?", (payload,))


async def by_provider_id(
    db: Database, provider: str, provider_payment_id: str
) -> sqlite3.Row | None:
    """The payment with this provider ID, or None."""
    return await db.fetch_one(
        f"SELECT {_COLUMNS} FROM payments WHERE provider = ? AND provider_payment_id = ?",
        (provider, provider_payment_id),
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


async def for_user(db: Database, user_id: int, limit: int) -> list[sqlite3.Row]:
    """The user's latest payments, newest first."""
    return await db.fetch_all(
        f"SELECT {_COLUMNS} FROM payments WHERE user_id = ? ORDER BY payment_id DESC LIMIT ?",
        (user_id, limit),
    )


async def in_states(
    db: Database, provider: str, states: Iterable[str], limit: int = 10_000
) -> list[sqlite3.Row]:
    """A provider's payments in these states, oldest first."""
    wanted = list(states)
    marks = ", ".join("?" for _ in wanted)
    return await db.fetch_all(
        f"SELECT {_COLUMNS} FROM payments WHERE provider = ? AND state IN ({marks})"
        " ORDER BY payment_id LIMIT ?",
        (provider, *wanted, limit),
    )


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
