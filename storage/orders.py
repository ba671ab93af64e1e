"""Queries for orders and their status history."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from decimal import Decimal

from storage.db import Database, money_text, now_text

_COLUMNS = (
    "order_id, user_id, chat_id, panel, panel_order_id, item_id, service_id, service_name,"
    " order_type, link, quantity, fields, price, cost, charged, status, remains, start_count,"
    " charge, currency, error, not_found, idempotency_key, created_at, updated_at, checked_at"
)


async def insert(
    db: Database,
    *,
    user_id: int,
    chat_id: int,
    panel: str,
    item_id: int,
    service_id: str,
    service_name: str,
    order_type: str,
    link: str | None,
    quantity: int,
    fields: str,
    price: Decimal,
    cost: Decimal,
    charged: bool,
    status: str,
    idempotency_key: str,
) -> int:
    """Add an order and return its local number.

    Raises ``sqlite3.IntegrityError`` when the idempotency key was used before.
    """
    now = now_text()
    async with db.transaction():
        async with db.conn.execute(
            "INSERT INTO orders (user_id, chat_id, panel, item_id, service_id, service_name,"
            " order_type, link, quantity, fields, price, cost, charged, status,"
            " idempotency_key, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                user_id,
                chat_id,
                panel,
                item_id,
                service_id,
                service_name,
                order_type,
                link,
                quantity,
                fields,
                money_text(price),
                money_text(cost),
                int(charged),
                status,
                idempotency_key,
                now,
                now,
            ),
        ) as cursor:
            order_id = cursor.lastrowid
        if order_id is None:  # pragma: no cover - sqlite always reports the new rowid
            raise RuntimeError("the order row has no id")
        await _add_event(db, order_id, None, status, None, None, None)
    return order_id


async def get(db: Database, order_id: int) -> sqlite3.Row | None:
    """One order's row, or None."""
    rows = await db.fetch_all(f"SELECT {_COLUMNS} FROM orders WHERE order_id = ?", (order_id,))
    return next(iter(rows), None)


async def get_by_idempotency_key(db: Database, key: str) -> sqlite3.Row | None:
    """The order placed with this idempotency key, or None."""
    rows = await db.fetch_all(f"SELECT {_COLUMNS} FROM orders WHERE idempotency_key = ?", (key,))
    return next(iter(rows), None)


async def holder_of_panel_order_id(db: Database, panel: str, panel_order_id: str) -> int | None:
    """The local number of the order that has this panel's order ID, or None."""
    row = await db.fetch_one(
        "SELECT order_id FROM orders WHERE panel = ? AND panel_order_id = ?",
        (panel, panel_order_id),
    )
    return None if row is None else int(row[0])


async def set_status(
    db: Database,
    order_id: int,
    status: str,
    *,
    panel_order_id: str | None = None,
    error: str | None = None,
    remains: int | None = None,
    start_count: int | None = None,
    charge: Decimal | None = None,
    currency: str | None = None,
    not_found: bool | None = None,
    clear_error: bool = False,
) -> None:
    """Move an order to ``status`` and record the change; None leaves a field as it was.

    ``clear_error`` empties the stored error (``error`` is then ignored).
    """
    now = now_text()
    async with db.transaction():
        before = await get(db, order_id)
        if before is None:
            raise LookupError(f"there is no order {order_id}")
        await db.conn.execute(
            "UPDATE orders SET status = ?, panel_order_id = COALESCE(?, panel_order_id),"
            " error = CASE WHEN ? THEN NULL ELSE COALESCE(?, error) END,"
            " not_found = COALESCE(?, not_found), remains = COALESCE(?, remains),"
            " start_count = COALESCE(?, start_count), charge = COALESCE(?, charge),"
            " currency = COALESCE(?, currency), updated_at = ? WHERE order_id = ?",
            (
                status,
                panel_order_id,
                int(clear_error),
                error,
                None if not_found is None else int(not_found),
                remains,
                start_count,
                None if charge is None else money_text(charge),
                currency,
                now,
                order_id,
            ),
        )
        await _add_event(db, order_id, str(before["status"]), status, remains, start_count, charge)


async def _add_event(
    db: Database,
    order_id: int,
    old_status: str | None,
    new_status: str,
    remains: int | None,
    start_count: int | None,
    charge: Decimal | None,
) -> None:
    await db.conn.execute(
        "INSERT INTO order_events (order_id, old_status, new_status, remains, start_count,"
        " charge, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            order_id,
            old_status,
            new_status,
            remains,
            start_count,
            None if charge is None else money_text(charge),
            now_text(),
        ),
    )


async def count_for_user(db: Database, user_id: int) -> int:
    """How many orders a user has."""
    rows = await db.fetch_all("SELECT COUNT(*) FROM orders WHERE user_id = ?", (user_id,))
    return int(next(iter(rows))[0])


async def for_user(db: Database, user_id: int, offset: int, limit: int) -> list[sqlite3.Row]:
    """One page of a user's orders, newest first."""
    rows = await db.fetch_all(
        f"SELECT {_COLUMNS} FROM orders WHERE user_id = ? ORDER BY order_id DESC LIMIT ? OFFSET ?",
        (user_id, limit, offset),
    )
    return list(rows)


async def with_status(
    db: Database, statuses: Sequence[str], *, updated_before: str | None = None
) -> list[sqlite3.Row]:
    """Orders in any of ``statuses`` (optionally last changed before a time), oldest first."""
    marks = ", ".join("?" for _ in statuses)
    params: list[object] = list(statuses)
    where = f"status IN ({marks})"
    if updated_before is not None:
        where += " AND updated_at < ?"
        params.append(updated_before)
    rows = await db.fetch_all(
        f"SELECT {_COLUMNS} FROM orders WHERE {where} ORDER BY order_id", params
    )
    return list(rows)
