"""Queries for ``order_events``: every status or progress change an order went through."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from decimal import Decimal

from storage.db import Database, money_text

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


async def for_order(db: Database, order_id: int) -> list[sqlite3.Row]:
    """An order's changes, oldest first."""
    return await db.fetch_all(
        f"SELECT {_COLUMNS} FROM order_events WHERE order_id = ? ORDER BY event_id",
        (order_id,),
    )
