"""Queries for status sync: which orders can still change, and writing what the panel said."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from storage import events as event_rows
from storage import ledger
from storage import outbox as outbox_rows
from storage.db import Database, money_text, now_text
from storage.orders import ORDER_COLUMNS, OrderRecord, order_from_row

# SQLite's default limit on ``?`` in one statement is 999 on old builds; stay well below.
_IN_CHUNK = 500
# Active orders converted between two turns of the event loop.
_ACTIVE_SLICE = 5000


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
    # Forget the stored remains (a final status answered without a count of its own).
    clear_remains: bool = False


@dataclass(frozen=True, slots=True)
class NewRefund:
    """A refund to write for an order (``amount`` positive)."""

    user_id: int
    order_id: int
    amount: Decimal
    reason: str


async def active_orders(db: Database, panel: str, statuses: Sequence[str]) -> list[ActiveOrder]:
    """A panel's orders in ``statuses`` that carry the panel's order ID, oldest first.

    Converted a slice at a time, so that a panel with a hundred thousand orders does not
    hold up the event loop (and the other panels' requests) meanwhile.
    """
    marks = ", ".join("?" for _ in statuses)
    rows = await db.fetch_all(
        "SELECT order_id, panel_order_id, status, remains, start_count, charge FROM orders"
        f" WHERE panel = ? AND status IN ({marks}) AND panel_order_id IS NOT NULL"
        " ORDER BY order_id",
        [panel, *statuses],
    )
    found: list[ActiveOrder] = []
    for start in range(0, len(rows), _ACTIVE_SLICE):
        if start:
            await asyncio.sleep(0)
        found += [
            ActiveOrder(
                order_id=int(row[0]),
                panel_order_id=str(row[1]),
                status=str(row[2]),
                remains=None if row[3] is None else int(row[3]),
                start_count=None if row[4] is None else int(row[4]),
                charge=None if row[5] is None else str(row[5]),
            )
            for row in rows[start : start + _ACTIVE_SLICE]
        ]
    return found


async def orders_by_id(db: Database, order_ids: Sequence[int]) -> dict[int, OrderRecord]:
    """These orders, by order ID (missing IDs are left out)."""
    found: dict[int, OrderRecord] = {}
    for start in range(0, len(order_ids), _IN_CHUNK):
        chunk = list(order_ids[start : start + _IN_CHUNK])
        marks = ", ".join("?" for _ in chunk)
        rows = await db.fetch_all(
            f"SELECT {ORDER_COLUMNS} FROM orders WHERE order_id IN ({marks})", chunk
        )
        for row in rows:
            order = order_from_row(row)
            found[order.order_id] = order
    return found


_UPDATE = (
    "UPDATE orders SET status = ?,"
    " remains = CASE WHEN ? THEN NULL ELSE COALESCE(?, remains) END,"
    " start_count = COALESCE(?, start_count), charge = COALESCE(?, charge),"
    " currency = COALESCE(?, currency), not_found = ?, error = COALESCE(?, error),"
    " updated_at = ?, checked_at = ? WHERE order_id = ?"
)


def _update_params(updates: Iterable[OrderUpdate], now: str) -> list[tuple[object, ...]]:
    return [
        (
            u.status,
            int(u.clear_remains),
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


def _require_transaction(db: Database) -> None:
    """The write functions below compose into their caller's transaction (no savepoint of
    their own: one round trip to the database thread fewer each way)."""
    if not db.conn.in_transaction:
        raise RuntimeError("call this inside `async with db.transaction():`")


async def record_answers(
    db: Database,
    checked: Sequence[int],
    updates: Sequence[OrderUpdate],
    events: Sequence[event_rows.NewEvent],
    messages: Sequence[outbox_rows.NewMessage],
    refunds: Sequence[tuple[NewRefund, Decimal]] = (),
) -> None:
    """Write one panel answer in one go: when each order was checked, what changed, the
    history, the messages (a message whose dedupe key was queued before is skipped) and the
    refunds, each with the balance it leaves (see ``refund_balances``).

    Runs inside the caller's transaction. The statements are queued to the database thread
    together and run there one after the other: one round trip through the event loop for
    the whole answer instead of one per statement (each waits its turn behind whatever the
    loop is busy with, and the transaction holds up every other writer meanwhile).
    """
    _require_transaction(db)
    now = now_text()
    conn = db.conn
    statements: list[Awaitable[object]] = []
    for start in range(0, len(checked), _IN_CHUNK):
        chunk = list(checked[start : start + _IN_CHUNK])
        marks = ", ".join("?" for _ in chunk)
        statements.append(
            conn.execute(
                f"UPDATE orders SET checked_at = ? WHERE order_id IN ({marks})", [now, *chunk]
            )
        )
    if updates:
        statements.append(conn.executemany(_UPDATE, _update_params(updates, now)))
    if events:
        statements.append(
            conn.executemany(event_rows.INSERT, [event_rows.insert_params(e, now) for e in events])
        )
    if messages:
        statements.append(
            conn.executemany(
                outbox_rows.INSERT, [outbox_rows.insert_params(m, now) for m in messages]
            )
        )
    if refunds:
        statements.append(
            conn.executemany(
                ledger.INSERT,
                [
                    ledger.insert_params(
                        ledger.NewEntry(
                            r.user_id, r.amount, ledger.REFUND, r.reason, order_id=r.order_id
                        ),
                        balance,
                        now,
                    )
                    for r, balance in refunds
                ],
            )
        )
    # Every statement finishes before a failure is raised, so the caller's rollback comes
    # after all of them.
    for outcome in await asyncio.gather(*statements, return_exceptions=True):
        if isinstance(outcome, BaseException):
            raise outcome


async def refund_balances(db: Database, refunds: Sequence[NewRefund]) -> dict[int, Decimal]:
    """The balance each refund leaves, each user's carried from refund to refund in order:
    {order ID: balance after}, for ``record_answers`` to write in the same transaction.

    An order refunded before is left out (the ledger takes one refund per order; its unique
    index refuses a second one whatever happens). Runs inside the caller's transaction, so
    what it reads cannot change before the refunds are written.
    """
    _require_transaction(db)
    if not refunds:
        return {}
    balances: dict[int, Decimal] = {}
    refunded: set[int] = set()
    user_ids = sorted({r.user_id for r in refunds})
    order_ids = sorted({r.order_id for r in refunds})
    for start in range(0, max(len(user_ids), len(order_ids)), _IN_CHUNK // 2):
        users = user_ids[start : start + _IN_CHUNK // 2]
        orders = order_ids[start : start + _IN_CHUNK // 2]
        # Both questions in one query: each user's latest balance, and which orders were
        # refunded before.
        rows = await db.fetch_all(
            "SELECT user_id, balance_after, NULL FROM ledger WHERE entry_id IN ("
            " SELECT MAX(entry_id) FROM ledger"
            f" WHERE user_id IN ({', '.join('?' for _ in users)}) GROUP BY user_id)"
            " UNION ALL SELECT NULL, NULL, order_id FROM ledger"
            f" WHERE kind = 'refund' AND order_id IN ({', '.join('?' for _ in orders)})",
            [*users, *orders],
        )
        for user_id, balance, order_id in rows:
            if order_id is None:
                balances[int(user_id)] = Decimal(balance)
            else:
                refunded.add(int(order_id))
    after: dict[int, Decimal] = {}
    for refund in refunds:
        if refund.order_id in refunded:
            continue
        refunded.add(refund.order_id)
        balance = balances.get(refund.user_id, Decimal(0)) + refund.amount
        balances[refund.user_id] = after[refund.order_id] = balance
    return after
