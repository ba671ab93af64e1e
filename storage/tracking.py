"""Queries for status sync: which orders can still change, and writing what the panel said."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from storage import events as event_rows
from storage import outbox as outbox_rows
from storage.db import Database, money_text, now_text

# Every column an OrderRecord is built from, plus what sync compares and flags.
ORDER_COLUMNS = (
    "order_id, user_id, chat_id, panel, panel_order_id, item_id, service_id, service_name,"
    " order_type, link, quantity, fields, price, cost, charged, status, remains, start_count,"
    " charge, currency, error, not_found, created_at, updated_at, checked_at"
)
# SQLite's default limit on ``?`` in one statement is 999 on old builds; stay well below.
_IN_CHUNK = 500


@dataclass(frozen=True, slots=True)
class ActiveOrder:
    """What sync needs to know about an order before asking the panel: little, for speed."""

    order_id: int
    panel_order_id: str
    status: str
    remains: int | None
    start_count: int | None
    charge: str | None


@dataclass(frozen=True, slots=True)
class OrderUpdate:
    """New values for an order after the panel answered."""

    order_id: int
    status: str
    remains: int | None
    start_count: int | None
    charge: Decimal | None
    currency: str | None
    not_found: bool
    error: str | None


@dataclass(frozen=True, slots=True)
class NewRefund:
    """A refund to write for an order (``amount`` positive)."""

    user_id: int
    order_id: int
    amount: Decimal
    reason: str


async def active_orders(db: Database, panel: str, statuses: Sequence[str]) -> list[ActiveOrder]:
    """A panel's orders in ``statuses`` that carry the panel's order ID, oldest first."""
    marks = ", ".join("?" for _ in statuses)
    rows = await db.fetch_all(
        "SELECT order_id, panel_order_id, status, remains, start_count, charge FROM orders"
        f" WHERE panel = ? AND status IN ({marks}) AND panel_order_id IS NOT NULL"
        " ORDER BY order_id",
        [panel, *statuses],
    )
    return [
        ActiveOrder(
            order_id=int(row[0]),
            panel_order_id=str(row[1]),
            status=str(row[2]),
            remains=None if row[3] is None else int(row[3]),
            start_count=None if row[4] is None else int(row[4]),
            charge=None if row[5] is None else str(row[5]),
        )
        for row in rows
    ]


async def orders_by_id(db: Database, order_ids: Sequence[int]) -> dict[int, sqlite3.Row]:
    """Full rows of these orders, by order ID (missing IDs are left out)."""
    found: dict[int, sqlite3.Row] = {}
    for start in range(0, len(order_ids), _IN_CHUNK):
        chunk = list(order_ids[start : start + _IN_CHUNK])
        marks = ", ".join("?" for _ in chunk)
        rows = await db.fetch_all(
            f"SELECT {ORDER_COLUMNS} FROM orders WHERE order_id IN ({marks})", chunk
        )
        found.update({int(row["order_id"]): row for row in rows})
    return found


async def order_row(db: Database, order_id: int) -> sqlite3.Row | None:
    """One order's full row, or None."""
    return await db.fetch_one(
        f"SELECT {ORDER_COLUMNS} FROM orders WHERE order_id = ?", (order_id,)
    )


async def mark_checked(db: Database, order_ids: Sequence[int]) -> None:
    """Note that the panel was asked about these orders just now."""
    now = now_text()
    async with db.transaction():
        for start in range(0, len(order_ids), _IN_CHUNK):
            chunk = list(order_ids[start : start + _IN_CHUNK])
            marks = ", ".join("?" for _ in chunk)
            await db.conn.execute(
                f"UPDATE orders SET checked_at = ? WHERE order_id IN ({marks})", [now, *chunk]
            )


_UPDATE = (
    "UPDATE orders SET status = ?, remains = COALESCE(?, remains),"
    " start_count = COALESCE(?, start_count), charge = COALESCE(?, charge),"
    " currency = COALESCE(?, currency), not_found = ?, error = COALESCE(?, error),"
    " updated_at = ?, checked_at = ? WHERE order_id = ?"
)


def _update_params(updates: Iterable[OrderUpdate], now: str) -> list[tuple[object, ...]]:
    return [
        (
            u.status,
            u.remains,
            u.start_count,
            None if u.charge is None else money_text(u.charge),
            u.currency,
            int(u.not_found),
            u.error,
            now,
            now,
            u.order_id,
        )
        for u in updates
    ]


async def apply_updates(db: Database, updates: Iterable[OrderUpdate]) -> None:
    """Write new statuses and numbers; a None number keeps the one stored."""
    rows = _update_params(updates, now_text())
    if rows:
        async with db.transaction():
            await db.conn.executemany(_UPDATE, rows)


async def record_answers(
    db: Database,
    checked: Sequence[int],
    updates: Sequence[OrderUpdate],
    events: Sequence[event_rows.NewEvent],
    messages: Sequence[outbox_rows.NewMessage],
) -> None:
    """Write one panel answer in one go: when each order was checked, what changed, the
    history, and the messages (a message whose dedupe key was queued before is skipped)."""
    now = now_text()
    async with db.transaction():
        for start in range(0, len(checked), _IN_CHUNK):
            chunk = list(checked[start : start + _IN_CHUNK])
            marks = ", ".join("?" for _ in chunk)
            await db.conn.execute(
                f"UPDATE orders SET checked_at = ? WHERE order_id IN ({marks})", [now, *chunk]
            )
        if updates:
            await db.conn.executemany(_UPDATE, _update_params(updates, now))
        if events:
            await db.conn.executemany(
                event_rows.INSERT, [event_rows.insert_params(e, now) for e in events]
            )
        if messages:
            await db.conn.executemany(
                outbox_rows.INSERT, [outbox_rows.insert_params(m, now) for m in messages]
            )


async def append_refunds(db: Database, refunds: Sequence[NewRefund]) -> dict[int, Decimal]:
    """Write refund ledger entries, each user's balance carried from entry to entry in this
    transaction; return {order ID: balance after}.

    Raises ``sqlite3.IntegrityError`` (writing none of them) when any order was refunded
    before: the ledger takes one refund per order.
    """
    if not refunds:
        return {}
    now = now_text()
    async with db.transaction():
        balances: dict[int, Decimal] = {}
        user_ids = sorted({r.user_id for r in refunds})
        for start in range(0, len(user_ids), _IN_CHUNK):
            chunk = user_ids[start : start + _IN_CHUNK]
            marks = ", ".join("?" for _ in chunk)
            rows = await db.fetch_all(
                "SELECT user_id, balance_after FROM ledger WHERE entry_id IN ("
                f" SELECT MAX(entry_id) FROM ledger WHERE user_id IN ({marks}) GROUP BY user_id)",
                chunk,
            )
            balances.update({int(row[0]): Decimal(row[1]) for row in rows})
        entries = []
        after: dict[int, Decimal] = {}
        for refund in refunds:
            balance = balances.get(refund.user_id, Decimal(0)) + refund.amount
            balances[refund.user_id] = after[refund.order_id] = balance
            entries.append(
                (
                    refund.user_id,
                    money_text(refund.amount),
                    money_text(balance),
                    refund.reason,
                    refund.order_id,
                    now,
                )
            )
        await db.conn.executemany(
            "INSERT INTO ledger (user_id, amount, balance_after, kind, reason, order_id,"
            " admin_id, created_at) VALUES (?, ?, ?, 'refund', ?, ?, NULL, ?)",
            entries,
        )
    return after
