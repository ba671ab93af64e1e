"""Placing orders with the customer's money safe whatever the panel does.

The sequence: validate the request against the service; in one transaction write the order
(status "placing", unique idempotency key) and take the price from the wallet; then send the
``add`` once. The panel's answer decides the rest:

- an order ID: stored, status "pending" (status sync takes over);
- a refusal (any ``PanelError`` except ``OrderOutcomeUnknown``): status "failed" and the
  price refunded in one transaction;
- ``OrderOutcomeUnknown`` (a timeout, a 5xx after sending...): status "review", the money
  stays held and the order is never re-sent; an admin resolves it.

A second call with the same idempotency key finds the first order (the UNIQUE constraint
makes that hold under races too) and sends nothing. A call that names the price the customer
was shown charges exactly that price or nothing: when the catalog (a re-sync, a markup
change) now prices the order differently, it ends ``PRICE_CHANGED`` before anything is
written, and the customer confirms the new price.

Every order held for review is announced to the admins through the outbox, in the same
transaction that holds it; so are orders a previous process left "placing" (it died while
the ``add`` was in flight), which ``hold_interrupted_placements`` sends to review at start.

An admin settles a held order with ``resolve_review``; the customer's notice about the
decision is queued in the outbox in the same transaction as the decision itself.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import sqlite3
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from bot.panels.base import PanelClient
from bot.panels.errors import (
    InvalidRequest,
    OrderOutcomeUnknown,
    PanelError,
    PanelUnavailable,
    RateLimited,
)
from bot.panels.models import (
    OrderRequest,
    OrderStatus,
    OrderType,
)
from bot.services import notifications, wallet
from bot.services.catalog import get_item, quote
from bot.services.common import Page, page_window
from bot.services.notifications import Notice, NoticeKind
from storage import orders as order_rows
from storage import users as user_rows
from storage.db import Database, time_text
from storage.orders import OrderRecord, OrderState

log = logging.getLogger(__name__)

PLACING = OrderState.PLACING
REVIEW = OrderState.REVIEW
FAILED = OrderState.FAILED
# An order still "placing" this long after it was written was interrupted (a crash or a
# shutdown mid-request): its outcome is unknown, so it goes to review like a timeout.
STALE_PLACING_AFTER = timedelta(minutes=10)


class PlacementKind(StrEnum):
    """How a ``place_order`` call ended."""

    PLACED = "placed"
    REFUSED = "refused"
    HELD = "held"
    DUPLICATE = "duplicate"
    NO_FUNDS = "no_funds"
    INVALID = "invalid"
    UNAVAILABLE = "unavailable"
    PRICE_CHANGED = "price_changed"


class Refusal(StrEnum):
    """Why a panel did not take an order, as far as the customer is concerned."""

    UNREACHABLE = "unreachable"  # never reached: connection, 5xx, rate limit
    SUPPLIER = "supplier"  # our side of the supply: the panel's key or balance
    ORDER = "order"  # the order itself: link, quantity, service


def refusal_of(error: PanelError) -> Refusal:
    """Classify a panel's refusal of an ``add`` for the customer's notice."""
    if isinstance(error, PanelUnavailable | RateLimited):
        return Refusal.UNREACHABLE
    if isinstance(error, InvalidRequest):
        return Refusal.ORDER
    return Refusal.SUPPLIER


def delivered_of(quantity: int, remains: int | None) -> int | None:
    """Units delivered so far, or None when the panel has not said what remains."""
    if remains is None or quantity <= 0:
        return None
    return quantity - min(max(remains, 0), quantity)


@dataclass(frozen=True, slots=True)
class AdminAlerts:
    """Who hears about an order held for review or refused on the supply side
    (``ORDER_HELD_ADMIN`` and ``ORDER_REFUSED_ADMIN`` notices)."""

    admin_ids: Collection[int]


@dataclass(frozen=True, slots=True)
class PlacementResult:
    """The outcome of ``place_order``, the order when one exists, and the balance after."""

    kind: PlacementKind
    order: OrderRecord | None
    message: str
    balance: Decimal
    # What the order costs now (set when the price was worked out).
    price: Decimal | None = None
    # Set for REFUSED: whose side the refusal came from (the message is the panel's words).
    refusal: Refusal | None = None


class ReviewError(ValueError):
    """The order does not exist or is not waiting for an admin's decision, or the decision
    cannot be taken as given; the message says which, in plain words."""


class PanelOrderIdTaken(ReviewError):
    """The typed panel order ID already belongs to another of our orders on that panel."""

    def __init__(self, panel: str, panel_order_id: str, holder: int) -> None:
        super().__init__(
            f"panel order ID {panel_order_id} already belongs to another order "
            f"(#{holder}) on {panel}"
        )
        self.panel = panel
        self.panel_order_id = panel_order_id
        self.holder = holder


async def place_order(
    db: Database,
    panels: Mapping[str, PanelClient],
    *,
    user_id: int,
    chat_id: int,
    item_id: int,
    request: OrderRequest,
    idempotency_key: str,
    charge_wallet: bool = True,
    shown_price: Decimal | None = None,
    alerts: AdminAlerts | None = None,
) -> PlacementResult:
    """Charge the wallet, send the order to its panel once, and record how that ended.

    ``shown_price`` is the price the customer confirmed: when the order would now cost
    anything else, nothing is written or charged and the result is ``PRICE_CHANGED`` with
    the new price in ``price``. ``alerts`` tells the admins when the order is held.
    """
    existing = await order_rows.get_by_idempotency_key(db, idempotency_key)
    if existing is not None:
        return await _duplicate(db, existing, user_id)

    async def result(
        kind: PlacementKind, message: str, order_id: int | None = None
    ) -> PlacementResult:
        order = None if order_id is None else await get_order(db, order_id)
        return PlacementResult(kind, order, message, await wallet.get_balance(db, user_id))

    item = await get_item(db, item_id)
    client = None if item is None else panels.get(item.panel)
    if item is None or client is None:
        return await result(PlacementKind.UNAVAILABLE, "this service is no longer available")
    if await user_rows.get(db, user_id) is None:
        return await result(PlacementKind.INVALID, "the customer has not started the bot")
    if request.service_id != item.service.service_id:
        return await result(
            PlacementKind.INVALID,
            f"the request is for service {request.service_id}, not {item.service.service_id}",
        )
    try:
        request.validate(item.service)
    except InvalidRequest as e:
        return await result(PlacementKind.INVALID, e.message)
    if request.type is OrderType.SUBSCRIPTIONS and request.posts is None:
        # Without ``posts`` the panel bills every future post; the price covers only those
        # counted, so a subscription is never sold without a limit.
        return await result(PlacementKind.INVALID, "a subscription needs a number of posts")

    price_quote = quote(item, request)
    if shown_price is not None and price_quote.price != shown_price:
        log.info(
            "order by user %d for item %d not placed: shown %s, now %s",
            user_id,
            item_id,
            shown_price,
            price_quote.price,
        )
        return PlacementResult(
            PlacementKind.PRICE_CHANGED,
            None,
            f"the price changed from {shown_price} to {price_quote.price}",
            await wallet.get_balance(db, user_id),
            price_quote.price,
        )
    charged = charge_wallet and price_quote.price > 0
    try:
        async with db.transaction():
            order_id = await order_rows.insert(
                db,
                user_id=user_id,
                chat_id=chat_id,
                panel=item.panel,
                item_id=item.item_id,
                service_id=item.service.service_id,
                service_name=item.service.name,
                order_type=request.type.value,
                link=request.link,
                quantity=price_quote.quantity,
                fields=json.dumps(request.to_form(), ensure_ascii=False),
                price=price_quote.price,
                cost=price_quote.cost,
                charged=charged,
                status=PLACING,
                idempotency_key=idempotency_key,
            )
            if charged:
                await wallet.withdraw(
                    db,
                    user_id,
                    price_quote.price,
                    kind="order",
                    reason=f"order #{order_id}",
                    order_id=order_id,
                )
    except wallet.InsufficientBalance as e:
        return PlacementResult(
            PlacementKind.NO_FUNDS,
            None,
            f"the balance {e.balance} does not cover the price {e.needed}",
            e.balance,
            price_quote.price,
        )
    except sqlite3.IntegrityError:
        # Another call with this key won the race for the UNIQUE index.
        existing = await order_rows.get_by_idempotency_key(db, idempotency_key)
        if existing is None:
            raise
        return await _duplicate(db, existing, user_id)

    try:
        panel_order_id = await client.add_order(request)
    except OrderOutcomeUnknown as e:
        log.warning("order %d held for review: %s", order_id, e)
        await hold_for_review(db, order_id, e.message, alerts)
        return await result(PlacementKind.HELD, e.message, order_id)
    except PanelError as e:
        log.info("order %d refused by %s: %s", order_id, item.panel, e.message)
        refusal = refusal_of(e)
        async with db.transaction():
            await order_rows.set_status(db, order_id, FAILED, error=e.message)
            if charged:
                await wallet.refund(
                    db,
                    user_id,
                    price_quote.price,
                    reason=f"order #{order_id} not placed",
                    order_id=order_id,
                )
            if refusal is not Refusal.ORDER and alerts is not None:
                await _queue_refused_alert(db, order_id, item.panel, refusal, e.message, alerts)
        refused = await result(PlacementKind.REFUSED, e.message, order_id)
        return dataclasses.replace(refused, refusal=refusal)
    except Exception as e:
        # A bug in a panel client says nothing about whether the add reached the panel.
        log.exception("order %d held for review after an unexpected error", order_id)
        message = f"unexpected error while placing: {type(e).__name__}"
        await hold_for_review(db, order_id, message, alerts)
        return await result(PlacementKind.HELD, message, order_id)
    except BaseException:
        # Cancelled mid-request (shutdown): the add may have reached the panel.
        await asyncio.shield(hold_for_review(db, order_id, INTERRUPTED, alerts))
        raise

    try:
        await order_rows.set_status(
            db, order_id, OrderStatus.PENDING.value, panel_order_id=panel_order_id
        )
    except Exception:
        # The panel has the order; ours stays "placing" and reaches review when stale.
        log.exception(
            "%s placed order %d as %s but saving that failed", item.panel, order_id, panel_order_id
        )
        raise
    return await result(PlacementKind.PLACED, "", order_id)


INTERRUPTED = "interrupted while placing: the bot stopped before the panel answered"


async def hold_for_review(
    db: Database,
    order_id: int,
    reason: str,
    alerts: AdminAlerts | None,
    *,
    notify_customer: bool = False,
) -> OrderRecord | None:
    """Hold an order for an admin's review with ``reason``, and queue the admins' alert (and
    with ``notify_customer`` the customer's notice, unless they are an admin: the admins'
    alert says it all) in the same transaction."""
    async with db.transaction():
        await order_rows.set_status(db, order_id, REVIEW, error=reason)
        order = await get_order(db, order_id)
        if order is not None and alerts is not None:
            await _queue_held_alert(db, order, alerts)
        admins = () if alerts is None else alerts.admin_ids
        if order is not None and notify_customer and order.user_id not in admins:
            await notifications.queue_notice(
                db,
                Notice(
                    order.chat_id,
                    NoticeKind.ORDER_HELD,
                    {"order": order},
                    f"order:{order_id}:held:{time_text(order.updated_at)}",
                ),
            )
    return order


async def _queue_held_alert(db: Database, order: OrderRecord, alerts: AdminAlerts) -> None:
    for admin_id in sorted(alerts.admin_ids):
        await notifications.queue_notice(
            db,
            Notice(
                admin_id,
                NoticeKind.ORDER_HELD_ADMIN,
                {"order": order},
                f"admin:{admin_id}:order:{order.order_id}:held:{time_text(order.updated_at)}",
            ),
        )


async def _queue_refused_alert(
    db: Database, order_id: int, panel: str, refusal: Refusal, words: str, alerts: AdminAlerts
) -> None:
    """Queue the panel's full words for the admins when the supply side failed an order."""
    order = await get_order(db, order_id)
    data = {"order": order, "panel": panel, "refusal": refusal, "words": words}
    for admin_id in sorted(alerts.admin_ids):
        await notifications.queue_notice(
            db,
            Notice(
                admin_id,
                NoticeKind.ORDER_REFUSED_ADMIN,
                data,
                f"admin:{admin_id}:order:{order_id}:refused",
            ),
        )


async def hold_interrupted_placements(
    db: Database, alerts: AdminAlerts | None, *, notify_customer: bool = False
) -> list[OrderRecord]:
    """Send to review every order a previous process left "placing", telling the admins
    and, with ``notify_customer``, the customer (who saw no answer to their Confirm).

    Call it at start, before this process places anything: the process that sent those
    ``add`` requests is gone, so whether the panel has them is unknown.
    """
    held: list[OrderRecord] = []
    for placing in await order_rows.with_status(db, [PLACING]):
        order = await hold_for_review(
            db, placing.order_id, INTERRUPTED, alerts, notify_customer=notify_customer
        )
        if order is not None:
            log.warning(
                "order %d was left placing by a previous run: held for review", order.order_id
            )
            held.append(order)
    return held


async def _duplicate(db: Database, order: OrderRecord, user_id: int) -> PlacementResult:
    # An idempotency key is never shared between customers; if it is, show nothing.
    shown = order if order.user_id == user_id else None
    return PlacementResult(
        PlacementKind.DUPLICATE,
        shown,
        "this order was already submitted",
        await wallet.get_balance(db, user_id),
    )


async def get_order(db: Database, order_id: int) -> OrderRecord | None:
    """The order with this local number, or None."""
    return await order_rows.get(db, order_id)


async def list_user_orders(
    db: Database, user_id: int, page: int, page_size: int = 8
) -> Page[OrderRecord]:
    """One page of a customer's orders, newest first."""
    total = await order_rows.count_for_user(db, user_id)
    page, pages, offset = page_window(total, page, page_size)
    rows = await order_rows.for_user(db, user_id, offset, page_size)
    return Page(rows, page, pages, total)


def _stale_placing_cutoff() -> str:
    return time_text(datetime.now(UTC) - STALE_PLACING_AFTER)


async def orders_for_review(db: Database) -> list[OrderRecord]:
    """Orders whose outcome is unknown: held for review, or interrupted while placing."""
    held = await order_rows.with_status(db, [REVIEW])
    stale = await order_rows.with_status(db, [PLACING], updated_before=_stale_placing_cutoff())
    return sorted([*held, *stale], key=lambda order: order.order_id)


async def resolve_review(
    db: Database,
    order_id: int,
    *,
    panel_order_id: str | None,
    admin_id: int,
    notify_customer: bool = False,
) -> OrderRecord:
    """Settle an order held for review: the panel's order ID makes it pending (no longer
    "not found", its error cleared), None fails it and refunds the customer.

    With ``notify_customer`` the customer's notice (with their balance after the decision)
    is queued in the same transaction as the decision, so both land or neither does.
    Raises ``ReviewError`` for an order not under review, and ``PanelOrderIdTaken`` (a
    ``ReviewError``) when another order of the same panel already has that panel order ID.
    """
    panel_order_id = (panel_order_id or "").strip() or None
    async with db.transaction():
        held = await order_rows.get(db, order_id)
        if held is None:
            raise ReviewError(f"there is no order #{order_id}")
        status = held.status
        stale_placing = status == PLACING and time_text(held.updated_at) < _stale_placing_cutoff()
        if status != REVIEW and not stale_placing:
            raise ReviewError(f"order #{order_id} is {status}, not waiting for review")
        if panel_order_id is not None:
            panel = held.panel
            # Checked inside the transaction, so no other write can slip in between.
            holder = await order_rows.holder_of_panel_order_id(db, panel, panel_order_id)
            if holder is not None and holder != order_id:
                raise PanelOrderIdTaken(panel, panel_order_id, holder)
            await order_rows.set_status(
                db,
                order_id,
                OrderStatus.PENDING.value,
                panel_order_id=panel_order_id,
                not_found=False,
                clear_error=True,
            )
        else:
            await order_rows.set_status(db, order_id, FAILED, error="not placed (admin review)")
            if held.charged:
                await wallet.refund(
                    db,
                    held.user_id,
                    held.price,
                    reason=f"order #{order_id} was not placed",
                    order_id=order_id,
                    admin_id=admin_id,
                )
        order = await get_order(db, order_id)
        if order is None:  # pragma: no cover - the row was read above
            raise ReviewError(f"there is no order #{order_id}")
        if notify_customer:
            placed = panel_order_id is not None
            await notifications.queue_notice(
                db,
                Notice(
                    order.chat_id,
                    NoticeKind.REVIEW_PLACED if placed else NoticeKind.REVIEW_FAILED,
                    {"order": order, "balance": await wallet.get_balance(db, order.user_id)},
                    # One notice per decision: an order can come back to review later.
                    f"review:{order_id}:{order.status}:{time_text(order.updated_at)}",
                ),
            )
    log.info(
        "admin %d resolved order %d: %s",
        admin_id,
        order_id,
        f"panel order {panel_order_id}" if panel_order_id else "failed and refunded",
    )
    return order
