"""Queries for ``order_events``: every status or progress change an order went through."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from storage.db import Database, money_text, parse_money, parse_time

_COLUMNS = "event_id, order_id, old_status, new_status, remains, start_count, charge, created_at"


@dataclass(frozen=True, slots=True)
class NewEvent:
    """One change to record."""

    order_id: int
    old_status: str | None
    new_status: str
    remains: int | None
    start_count: int | None
    charge: Decimal | None


@dataclass(frozen=True, slots=True)
class OrderEvent:
    """One change in an order's history."""

    event_id: int
    order_id: int
    old_status: str | None
    new_status: str
    remains: int | None
    start_count: int | None
    charge: Decimal | None
    created_at: datetime


INSERT = (
    "INSERT INTO order_events (order_id, old_status, new_status, remains, start_count, charge,"
    " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
)


def insert_params(event: NewEvent, now: str) -> tuple[object, ...]:
    """The parameters of ``INSERT`` for one event."""
    charge = None if event.charge is None else money_text(event.charge)
    return (
        event.order_id,
        event.old_status,
        event.new_status,
        event.remains,
        event.start_count,
        charge,
        now,
    )


async def for_order(db: Database, order_id: int) -> list[OrderEvent]:
    """An order's changes, oldest first."""
    rows = await db.fetch_all(
        f"SELECT {_COLUMNS} FROM order_events WHERE order_id = ? ORDER BY event_id",
        (order_id,),
    )
    return [
        OrderEvent(
            event_id=int(event_id),
            order_id=int(order),
            old_status=None if old is None else str(old),
            new_status=str(new),
            remains=None if remains is None else int(remains),
            start_count=None if start_count is None else int(start_count),
            charge=parse_money(charge),
            created_at=parse_time(str(created_at)),
        )
        for event_id, order, old, new, remains, start_count, charge, created_at in rows
    ]
