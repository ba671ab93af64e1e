"""Refund policy: what an order's status gives back to the customer, paid once ever.

Canceled and Refunded give the whole price back; a Partial gives back the undelivered share
of the price, counted against every run and line and rounded down, and only from a count the
panel gave with that very status. The ledger's unique index on refunds pays each order once
whatever happens.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from decimal import ROUND_DOWN, Decimal

from bot.panels.models import OrderStatus
from storage import tracking as tracking_rows
from storage.db import Database
from storage.orders import OrderRecord

log = logging.getLogger(__name__)

CENT = Decimal("0.01")
FULL_REFUND = frozenset({OrderStatus.CANCELED.value, OrderStatus.REFUNDED.value})


def refund_due(order: OrderRecord) -> Decimal:
    """What the customer gets back for an order in its current status (0 when nothing)."""
    if not order.charged or order.price <= 0:
        return Decimal(0)
    if order.status in FULL_REFUND:
        return order.price
    total = order.total_units
    if order.status == OrderStatus.PARTIAL.value and order.remains and total:
        # Counted against every run and every line: a per-run count would over-refund.
        remains = min(order.remains, total)
        return (order.price * remains / total).quantize(CENT, rounding=ROUND_DOWN)
    return Decimal(0)


def refund_reason(order: OrderRecord) -> str:
    """The ledger's reason for an order's refund."""
    return {
        OrderStatus.CANCELED.value: f"order #{order.order_id} canceled",
        OrderStatus.REFUNDED.value: f"order #{order.order_id} refunded",
    }.get(order.status, f"order #{order.order_id} partially completed")


async def refunds_due(
    db: Database, orders: Sequence[OrderRecord]
) -> list[tuple[tracking_rows.NewRefund, Decimal]]:
    """The refunds these orders' statuses call for, each at most once ever, with the balance
    each leaves (inside the caller's transaction, which writes them)."""
    if not orders:
        return []
    refunds = [
        tracking_rows.NewRefund(o.user_id, o.order_id, refund_due(o), refund_reason(o))
        for o in orders
    ]
    # One read for the whole answer; an order refunded before is left out.
    balances = await tracking_rows.refund_balances(db, refunds)
    paid = []
    for refund in refunds:
        balance = balances.get(refund.order_id)
        if balance is None:
            log.info("order %d was already refunded; not refunding again", refund.order_id)
            continue
        log.info(
            "refunded %s to user %d for order %d", refund.amount, refund.user_id, refund.order_id
        )
        paid.append((refund, balance))
    return paid
