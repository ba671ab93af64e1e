"""Queries for orders and their status history; every order read comes back as an
``OrderRecord``, built in one place (``order_from_row``)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from bot.panels.models import OrderType, parse_int
from storage import events
from storage.db import Database, money_text, now_text, parse_time


class OrderState(StrEnum):
    """Where an order stands: ours while it is placed or reviewed, then the panel's word."""

    PLACING = "placing"  # the panel is being asked; the outcome is not known yet
    REVIEW = "review"  # the outcome is unknown (or the panel lost it): an admin decides
    FAILED = "failed"  # not placed, and refunded
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    PROCESSING = "processing"
    COMPLETED = "completed"
    PARTIAL = "partial"
    CANCELED = "canceled"
    REFUNDED = "refunded"
    UNKNOWN = "unknown"


# The one list of the columns an order is read with, in the order ``order_from_row`` reads.
ORDER_FIELDS = (
    "order_id",
    "user_id",
    "chat_id",
    "panel",
    "panel_order_id",
    "item_id",
    "service_id",
    "service_name",
    "order_type",
    "link",
    "quantity",
    "fields",
    "price",
    "cost",
    "charged",
    "status",
    "remains",
    "start_count",
    "created_at",
    "updated_at",
    "error",
    "not_found",
    "charge",
)
ORDER_COLUMNS = ", ".join(ORDER_FIELDS)
_COLUMNS = ORDER_COLUMNS


@dataclass(frozen=True, slots=True)
class OrderRecord:
    """An order as we keep it: what was sent, what it cost, where it stands."""

    order_id: int
    user_id: int
    chat_id: int
    panel: str
    panel_order_id: str | None
    item_id: int
    service_id: str
    service_name: str
    order_type: OrderType
    link: str | None
    quantity: int
    fields: dict[str, str]
    price: Decimal
    cost: Decimal
    charged: bool
    status: OrderState
    remains: int | None
    start_count: int | None
    created_at: datetime
    updated_at: datetime
    # Why the order is held or failed: the panel's words or what went wrong while placing.
    error: str | None = None
    # The panel answered that it does not know the order's ID (it is held for review).
    not_found: bool = False
    # What the panel says it charged us, when it said.
    charge: Decimal | None = None

    @property
    def total_units(self) -> int | None:
        """Units the panel counts ``remains`` against, or None when no count is knowable."""
        return total_units(self.order_type, self.quantity, self.fields)


def total_units(order_type: OrderType, quantity: int, fields: Mapping[str, str]) -> int | None:
    """Units an order's ``remains`` counts down from, or None when no count is knowable.

    A drip-feed delivers ``quantity`` every run. Packages and subscriptions have no total
    that panels agree on (a package's remains may count lines, or the one package), so a
    partial one is never refunded by arithmetic: an admin settles it.
    """
    if order_type in (
        OrderType.PACKAGE,
        OrderType.CUSTOM_COMMENTS_PACKAGE,
        OrderType.SUBSCRIPTIONS,
    ):
        return None
    runs = parse_int(fields.get("runs")) or 1
    return quantity * max(runs, 1) if quantity > 0 else None


def order_from_row(row: sqlite3.Row) -> OrderRecord:
    """Build an ``OrderRecord`` from a row read with ``ORDER_COLUMNS`` (by position: status
    sync builds one for every order that changed)."""
    (
        order_id,
        user_id,
        chat_id,
        panel,
        panel_order_id,
        item_id,
        service_id,
        service_name,
        order_type,
        link,
        quantity,
        fields,
        price,
        cost,
        charged,
        status,
        remains,
        start_count,
        created_at,
        updated_at,
        error,
        not_found,
        charge,
    ) = row
    return OrderRecord(
        int(order_id),
        int(user_id),
        int(chat_id),
        str(panel),
        None if panel_order_id is None else str(panel_order_id),
        int(item_id),
        str(service_id),
        str(service_name),
        OrderType(order_type),
        None if link is None else str(link),
        int(quantity),
        {str(k): str(v) for k, v in json.loads(str(fields)).items()},
        Decimal(str(price)),
        Decimal(str(cost)),
        bool(charged),
        OrderState(status),
        None if remains is None else int(remains),
        None if start_count is None else int(start_count),
        parse_time(str(created_at)),
        parse_time(str(updated_at)),
        None if error is None else str(error),
        bool(not_found),
        None if charge is None else Decimal(str(charge)),
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


async def get(db: Database, order_id: int) -> OrderRecord | None:
    """One order, or None."""
    row = await db.fetch_one(f"SELECT {_COLUMNS} FROM orders WHERE order_id = ?", (order_id,))
    return None if row is None else order_from_row(row)


async def get_by_idempotency_key(db: Database, key: str) -> OrderRecord | None:
    """The order placed with this idempotency key, or None."""
    row = await db.fetch_one(f"SELECT {_COLUMNS} FROM orders WHERE idempotency_key = ?", (key,))
    return None if row is None else order_from_row(row)


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
        await _add_event(db, order_id, before.status, status, remains, start_count, charge)


async def _add_event(
    db: Database,
    order_id: int,
    old_status: str | None,
    new_status: str,
    remains: int | None,
    start_count: int | None,
    charge: Decimal | None,
) -> None:
    event = events.NewEvent(order_id, old_status, new_status, remains, start_count, charge)
    await db.conn.execute(events.INSERT, events.insert_params(event, now_text()))


async def count_for_user(db: Database, user_id: int) -> int:
    """How many orders a user has."""
    rows = await db.fetch_all("SELECT COUNT(*) FROM orders WHERE user_id = ?", (user_id,))
    return int(next(iter(rows))[0])


async def for_user(db: Database, user_id: int, offset: int, limit: int) -> list[OrderRecord]:
    """One page of a user's orders, newest first."""
    rows = await db.fetch_all(
        f"SELECT {_COLUMNS} FROM orders WHERE user_id = ? ORDER BY order_id DESC LIMIT ? OFFSET ?",
        (user_id, limit, offset),
    )
    return [order_from_row(row) for row in rows]


async def with_status(
    db: Database, statuses: Sequence[str], *, updated_before: str | None = None
) -> list[OrderRecord]:
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
    return [order_from_row(row) for row in rows]
