"""Order tracking: status sync with the panels, refunds that follow status, refills, cancels.

Sync asks each panel only about orders that can still change, 100 IDs per request and a few
requests at once, every panel on its own (a panel that fails is backed off and never holds
up another). What changed is written in one transaction per answer: the order, an event in
its history, the refund the new status calls for, and the message that tells the customer.
A refund is made at most once per order whatever happens (the ledger's unique index on
refunds), so a status seen twice or a restart mid-sync cannot pay twice.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from enum import StrEnum

from bot.panels.base import PanelClient
from bot.panels.errors import PanelError
from bot.panels.models import OrderStatus, OrderStatusInfo, OrderType, RequestStatus, chunked
from bot.services import notifications
from bot.services.catalog import CatalogItem, get_item
from bot.services.notifications import Notice, NoticeKind
from bot.services.ordering import (
    OrderRecord,
    delivered_of,
    get_order,
    order_from_row,
    total_units,
)
from storage import events as event_rows
from storage import outbox as outbox_rows
from storage import requests as request_rows
from storage import tracking as tracking_rows
from storage.db import Database, parse_money, parse_time, time_text

log = logging.getLogger(__name__)

CENT = Decimal("0.01")
BATCH_SIZE = 100
REVIEW = "review"
# Statuses whose orders may still change at the panel. "review" and our own "failed" are
# an admin's business, never the sync's.
ACTIVE_STATUSES = (
    OrderStatus.PENDING.value,
    OrderStatus.IN_PROGRESS.value,
    OrderStatus.PROCESSING.value,
    OrderStatus.UNKNOWN.value,
)
# Answers that say nothing we can act on: an unreadable status, or a panel's "Fail", which
# panels follow with Canceled or Refunded (storing it would read as our own "failed", an
# order refused and refunded). The order keeps its status and is asked about again.
NO_NEWS = frozenset({OrderStatus.UNKNOWN, OrderStatus.FAILED})
FINAL_STATUSES = frozenset(s.value for s in OrderStatus if s.is_final)
FULL_REFUND = frozenset({OrderStatus.CANCELED.value, OrderStatus.REFUNDED.value})
# Progress is announced when it crosses a quarter of the order.
PROGRESS_STEPS = 4
# What the customer hears about; "processing" and "in progress" are the same news to them.
_NEWS_STAGE = {
    OrderStatus.IN_PROGRESS.value: "active",
    OrderStatus.PROCESSING.value: "active",
    OrderStatus.COMPLETED.value: "completed",
    OrderStatus.PARTIAL.value: "partial",
    OrderStatus.CANCELED.value: "canceled",
    OrderStatus.REFUNDED.value: "refunded",
}
BACKOFF_START = 30.0
BACKOFF_CAP = 15 * 60.0

# Refill and cancel requests.
SENDING = "sending"
ACCEPTED = "accepted"
REJECTED = RequestStatus.REJECTED.value
POLLED_REQUEST_STATUSES = (
    RequestStatus.PENDING.value,
    RequestStatus.IN_PROGRESS.value,
    RequestStatus.UNKNOWN.value,
)
# A request being sent, or taken by a panel that cannot report on it, counts as open this long:
# a double tap (or a second tap soon after) returns it instead of asking the panel again.
RECENT_REQUEST = timedelta(minutes=30)


# --------------------------------------------------------------------------- contract types


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


@dataclass(frozen=True, slots=True)
class PanelSyncReport:
    """How one panel's status sync went: requests sent, orders checked and changed."""

    panel: str
    requests: int
    checked: int
    changed: int
    skipped: bool
    error: str | None


@dataclass(frozen=True, slots=True)
class OrderActions:
    """Which buttons an order card may offer."""

    can_refill: bool
    can_cancel: bool


@dataclass(frozen=True, slots=True)
class ServiceRequest:
    """A refill or a cancel asked of the panel, and where it stands."""

    request_id: int
    order_id: int
    kind: str
    panel_request_id: str | None
    status: str
    error: str | None
    created_at: datetime
    updated_at: datetime


class Refusal(StrEnum):
    """Why a refill or cancel cannot be done."""

    NO_SUCH_ORDER = "no_such_order"
    SERVICE_GONE = "service_gone"
    NOT_OFFERED = "not_offered"
    NOT_YET = "not_yet"  # a refill before the order is completed
    TOO_LATE = "too_late"  # a cancel after the order ended
    PANEL_REFUSED = "panel_refused"


class ActionRefused(Exception):
    """A refill or cancel cannot be done: ``reason``, with the order's ``status`` and the
    panel's own words (``panel_words``) when they explain it."""

    def __init__(
        self,
        kind: str,
        reason: Refusal,
        order_id: int,
        *,
        status: str | None = None,
        panel_words: str | None = None,
    ) -> None:
        super().__init__(f"{kind} of order #{order_id}: {reason.value} {panel_words or ''}")
        self.kind = kind
        self.reason = reason
        self.order_id = order_id
        self.status = status
        self.panel_words = panel_words


class PanelHealth:
    """Back off a panel that keeps failing: 30 s, then doubling up to 15 minutes."""

    def __init__(self, start: float = BACKOFF_START, cap: float = BACKOFF_CAP) -> None:
        self.start = start
        self.cap = cap
        self._failures: dict[str, int] = {}
        self._retry_at: dict[str, float] = {}

    def __repr__(self) -> str:
        return f"PanelHealth(failing={sorted(self._failures)})"

    def should_skip(self, panel: str, now: float) -> bool:
        """True while the panel is backed off."""
        return now < self._retry_at.get(panel, float("-inf"))

    def failed(self, panel: str, now: float) -> None:
        """Count a failure and back the panel off for longer each time, up to the cap."""
        failures = self._failures.get(panel, 0) + 1
        self._failures[panel] = failures
        delay = min(self.start * 2 ** min(failures - 1, 32), self.cap)
        self._retry_at[panel] = now + delay
        log.warning(
            "panel %s failed %d time(s) in a row; next try in %.0fs", panel, failures, delay
        )

    def succeeded(self, panel: str) -> None:
        """Forget the panel's failures."""
        if self._failures.pop(panel, None) is not None:
            log.info("panel %s answers again", panel)
        self._retry_at.pop(panel, None)

    def failures(self, panel: str) -> int:
        """Failures in a row so far."""
        return self._failures.get(panel, 0)


# --------------------------------------------------------------------------- status sync


async def sync_statuses(
    db: Database,
    panels: Mapping[str, PanelClient],
    *,
    concurrency: int = 4,
    health: PanelHealth | None = None,
    admin_chat_ids: Iterable[int] = (),
) -> list[PanelSyncReport]:
    """Ask every panel about its orders that can still change and apply what changed."""
    admins = tuple(admin_chat_ids)
    started = time.monotonic()

    async def one(name: str, client: PanelClient) -> PanelSyncReport:
        if health is not None and health.should_skip(name, started):
            return PanelSyncReport(name, 0, 0, 0, True, "backed off after failures")
        try:
            report = await _sync_panel(db, name, client, max(1, concurrency), admins)
        except Exception as e:
            # A bug or a database error on one panel must not stop the others.
            log.exception("status sync of panel %s failed", name)
            report = PanelSyncReport(name, 0, 0, 0, False, f"{type(e).__name__}: {e}")
        if health is not None:
            if report.error is None:
                health.succeeded(name)
            else:
                health.failed(name, time.monotonic())
        return report

    reports = await asyncio.gather(*(one(name, client) for name, client in panels.items()))
    return list(reports)


async def _sync_panel(
    db: Database,
    name: str,
    client: PanelClient,
    concurrency: int,
    admins: tuple[int, ...],
) -> PanelSyncReport:
    active = await tracking_rows.active_orders(db, name, ACTIVE_STATUSES)
    by_panel_id = {order.panel_order_id: order for order in active}
    size = max(1, min(BATCH_SIZE, client.capabilities.max_ids_per_request))
    batches = chunked(by_panel_id, size)
    requests_before = client.requests_made
    gate = asyncio.Semaphore(concurrency)
    failure: PanelError | None = None
    checked = changed = 0

    # Answers waiting to be written. One task at a time writes them, taking together those
    # that arrived while the previous transaction ran (up to ``concurrency``): when the
    # database keeps up, one transaction per answer; when it falls behind, fewer, larger
    # ones instead of a queue of transactions each paying its own round trips and commit.
    answers: list[tuple[list[str], Mapping[str, OrderStatusInfo]]] = []
    writing = False

    async def write_answers() -> None:
        nonlocal writing, checked, changed
        writing = True
        try:
            while answers:
                taken = answers[:concurrency]
                del answers[:concurrency]
                asked = [by_panel_id[i] for batch, _ in taken for i in batch]
                infos: dict[str, OrderStatusInfo] = {}
                for _, answer in taken:
                    infos.update(answer)
                # Not "changed += await ...": that would read the total before the await.
                applied = await _apply_answers(db, name, asked, infos, admins)
                changed += applied
                checked += len(asked)
        finally:
            writing = False

    async def run(batch: list[str]) -> None:
        nonlocal failure
        async with gate:
            # Once the panel failed, the batches still queued are not sent this cycle.
            if failure is not None:
                return
            try:
                infos = await client.order_statuses(batch)
            except PanelError as e:
                failure = failure or e
                return
        answers.append((batch, infos))
        if not writing:
            await write_answers()

    async with asyncio.TaskGroup() as group:
        for batch in batches:
            group.create_task(run(batch))
    requests = client.requests_made - requests_before
    if failure is not None:
        log.warning("status sync of panel %s stopped: %s", name, failure)
    else:
        log.debug("panel %s: %d orders checked, %d changed", name, checked, changed)
    error = None if failure is None else failure.message
    return PanelSyncReport(name, requests, checked, changed, False, error)


async def refresh_order(
    db: Database,
    panels: Mapping[str, PanelClient],
    order_id: int,
    *,
    admin_chat_ids: Iterable[int] = (),
) -> OrderRecord:
    """Ask the panel about one order now (the Refresh button) and apply what changed.

    An order without a panel ID (still placing, refused, or on a panel that is gone) comes
    back as it is. Raises ``LookupError`` for an unknown order and ``PanelError`` when the
    panel cannot answer.
    """
    row = await tracking_rows.order_row(db, order_id)
    if row is None:
        raise LookupError(f"there is no order #{order_id}")
    client = panels.get(str(row["panel"]))
    panel_order_id = row["panel_order_id"]
    if client is None or panel_order_id is None:
        return order_from_row(row)
    known = tracking_rows.ActiveOrder(
        order_id=order_id,
        panel_order_id=str(panel_order_id),
        status=str(row["status"]),
        remains=row["remains"],
        start_count=row["start_count"],
        charge=row["charge"],
    )
    info = await client.order_status(known.panel_order_id)
    await _apply_answers(
        db, client.name, [known], {known.panel_order_id: info}, tuple(admin_chat_ids)
    )
    order = await get_order(db, order_id)
    if order is None:  # pragma: no cover - orders are never deleted
        raise LookupError(f"there is no order #{order_id}")
    return order


def _differs(known: tracking_rows.ActiveOrder, info: OrderStatusInfo) -> bool:
    """True when the panel's answer says something new about the order."""
    if info.not_found:
        return known.status != REVIEW
    if info.error or info.status in NO_NEWS:
        return False
    return (
        info.status.value != known.status
        or (info.remains is not None and info.remains != known.remains)
        or (info.start_count is not None and info.start_count != known.start_count)
        or (info.charge is not None and info.charge != parse_money(known.charge))
    )


@dataclass(slots=True)
class _Change:
    """One order's change, worked out before anything is written."""

    update: tracking_rows.OrderUpdate
    event: event_rows.NewEvent
    after: OrderRecord
    news: bool  # the customer hears about it (unless a refund makes it news anyway)
    refund: Decimal
    messages: list[outbox_rows.NewMessage]
    # A partial whose undelivered share cannot be counted: the shop settles it by hand.
    unsettled: bool = False


async def _apply_answers(
    db: Database,
    panel: str,
    asked: Sequence[tracking_rows.ActiveOrder],
    infos: Mapping[str, OrderStatusInfo],
    admins: tuple[int, ...],
) -> int:
    """Write what one panel answer changed, in one transaction; return how many changed.

    The order, its event, its refund and its message land together or not at all.
    """
    candidates: list[tuple[tracking_rows.ActiveOrder, OrderStatusInfo]] = []
    for known in asked:
        info = infos.get(known.panel_order_id)
        if info is None:
            continue
        if info.error and not info.not_found:
            log.info(
                "panel %s said about order %d (%s): %s",
                panel,
                known.order_id,
                known.panel_order_id,
                info.error,
            )
        if _differs(known, info):
            candidates.append((known, info))
    checked = [known.order_id for known in asked]
    async with db.transaction():
        if not candidates:
            await tracking_rows.record_answers(db, checked, [], [], [])
            return 0
        # Read again inside the transaction: a Refresh tap may have applied it meanwhile.
        rows = await tracking_rows.orders_by_id(db, [known.order_id for known, _ in candidates])
        changes: list[_Change] = []
        for n, (known, info) in enumerate(candidates, 1):
            if n % BATCH_SIZE == 0:
                await asyncio.sleep(0)  # a few answers at once: let other panels' requests on
            row = rows.get(known.order_id)
            if row is None or row["panel_order_id"] != known.panel_order_id:
                continue
            change = _change_for(row, info, admins)
            if change is not None:
                changes.append(change)
        refunds = await _refunds_due(db, [c.after for c in changes if c.refund > 0])
        paid = {refund.order_id: (refund.amount, balance) for refund, balance in refunds}
        asked_to_cancel = await request_rows.orders_with_cancel(
            db,
            [c.after.order_id for c in changes if c.after.status == OrderStatus.CANCELED.value],
            excluding=REJECTED,
        )
        news: list[outbox_rows.NewMessage] = []
        for change in changes:
            news.extend(change.messages)
            refund, balance = paid.get(change.after.order_id, (None, None))
            if change.news or refund is not None:
                after = change.after
                news.append(
                    notifications.new_row(
                        Notice(
                            after.chat_id,
                            NoticeKind.ORDER_STATUS,
                            {
                                "order": after,
                                "refund": refund,
                                "balance": balance,
                                "settled_by_shop": change.unsettled,
                                "canceled_by_customer": after.order_id in asked_to_cancel,
                            },
                            _news_key(after),
                        )
                    )
                )
        changed = {c.update.order_id for c in changes}
        await tracking_rows.record_answers(
            db,
            # A changed order's update notes the check itself.
            [order_id for order_id in checked if order_id not in changed],
            [c.update for c in changes],
            [c.event for c in changes],
            news,
            refunds,
        )
    for change in changes:
        if change.update.not_found or change.after.status == OrderStatus.PARTIAL.value:
            _log_change(change)
    return len(changes)


def _log_change(change: _Change) -> None:
    after = change.after
    if change.update.not_found:
        log.warning(
            "panel %s no longer knows order %d (%s): %s",
            after.panel,
            after.order_id,
            after.panel_order_id,
            change.update.error,
        )
    elif after.status == OrderStatus.PARTIAL.value and after.remains is None and after.charged:
        log.warning("order %d ended partial without remains: no refund made", after.order_id)


def _change_for(
    row: sqlite3.Row, info: OrderStatusInfo, admins: tuple[int, ...]
) -> _Change | None:
    """Work out one order's change from the panel's answer; None when nothing changed.

    Pure: nothing is written or logged, so a change worked out and then dropped leaves no
    trace.
    """
    if info.not_found:
        return _lost(row, info, admins)
    if info.error or info.status in NO_NEWS:
        return None
    order_id = int(row["order_id"])
    quantity = int(row["quantity"])
    old_status = str(row["status"])
    old_remains = None if row["remains"] is None else int(row["remains"])
    old_start_count = None if row["start_count"] is None else int(row["start_count"])
    status = info.status.value
    remains = None if info.remains is None else max(info.remains, 0)
    # A partial the shop was left to settle (it came without a count) stays the shop's: a
    # count or a refund the panel reports later is not paid as well, or the customer could
    # get the same share twice.
    settled_by_shop = old_status == OrderStatus.PARTIAL.value and (
        old_remains is None
        or not total_units(OrderType(row["order_type"]), quantity, json.loads(row["fields"]))
    )
    if settled_by_shop:
        remains = None
    start_count = info.start_count
    if (
        status == old_status
        and remains in (None, old_remains)
        and start_count in (None, old_start_count)
        and info.charge in (None, parse_money(row["charge"]))
        and not row["not_found"]
    ):
        return None
    # A drip-feed's remains count down from all its runs, a package's from its lines.
    total = total_units(OrderType(row["order_type"]), quantity, json.loads(row["fields"])) or 0
    if remains is not None and total:
        remains = min(remains, total)
    partial = status == OrderStatus.PARTIAL.value
    # A partial is refunded only from the count the panel gave with that very status: an
    # earlier "remains" may predate deliveries made since.
    countable = not settled_by_shop and (not partial or (remains is not None and total > 0))
    after = _record(
        row,
        status,
        None if partial and remains is None else (old_remains if remains is None else remains),
        old_start_count if start_count is None else start_count,
    )
    refund = refund_due(after) if countable else Decimal(0)
    unsettled = not countable and after.charged and (partial or status in FULL_REFUND)
    messages: list[outbox_rows.NewMessage] = []
    if settled_by_shop and old_status != status and after.charged:
        # Nothing follows automatically, so what the admins settle may have changed.
        messages = [
            notifications.new_row(
                Notice(
                    admin,
                    NoticeKind.SETTLED_PARTIAL_MOVED_ADMIN,
                    {"order": after},
                    f"admin:{admin}:order:{order_id}:settled:{status}",
                )
            )
            for admin in admins
        ]
    elif unsettled and old_status != status:
        # No share can be counted (a package, a subscription, no remains): admins settle it.
        messages = [
            notifications.new_row(
                Notice(
                    admin,
                    NoticeKind.PARTIAL_UNSETTLED_ADMIN,
                    {"order": after},
                    f"admin:{admin}:order:{order_id}:partial",
                )
            )
            for admin in admins
        ]
    return _Change(
        update=tracking_rows.OrderUpdate(
            order_id,
            status,
            remains,
            start_count,
            info.charge,
            info.currency,
            False,
            None,
            clear_remains=partial and remains is None,
        ),
        event=event_rows.NewEvent(
            order_id, old_status, status, after.remains, after.start_count, info.charge
        ),
        after=after,
        news=_is_news(total, old_status, old_remains, status, after.remains),
        refund=refund,
        messages=messages,
        unsettled=unsettled,
    )


def _lost(row: sqlite3.Row, info: OrderStatusInfo, admins: tuple[int, ...]) -> _Change | None:
    """The change for an order its panel no longer knows: held for an admin's review."""
    before = order_from_row(row)
    if before.status == REVIEW:
        return None
    order_id = before.order_id
    panel_words = info.error or "Incorrect order ID"
    warnings = [
        notifications.new_row(
            Notice(
                before.chat_id,
                NoticeKind.ORDER_NOT_FOUND,
                {"order": before},
                f"order:{order_id}:not_found:{row['updated_at']}",
            )
        )
    ]
    warnings += [
        notifications.new_row(
            Notice(
                admin,
                NoticeKind.ORDER_NOT_FOUND_ADMIN,
                {"order": before, "panel_words": panel_words},
                f"admin:{admin}:order:{order_id}:not_found:{row['updated_at']}",
            )
        )
        for admin in admins
    ]
    return _Change(
        update=tracking_rows.OrderUpdate(
            order_id, REVIEW, None, None, None, None, True, panel_words
        ),
        event=event_rows.NewEvent(order_id, before.status, REVIEW, None, None, None),
        after=_moved_on(before, REVIEW, before.remains, before.start_count),
        news=False,
        refund=Decimal(0),
        messages=warnings,
    )


def _record(
    row: sqlite3.Row, status: str, remains: int | None, start_count: int | None
) -> OrderRecord:
    """``_moved_on(order_from_row(row), ...)`` in a third of the time: the record sync builds
    for every changed order (read by position; ``tracking_rows.ORDER_FIELDS`` is the order)."""
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
        *_,
        created_at,
        updated_at,
        _checked_at,
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
        {str(k): str(v) for k, v in json.loads(fields).items()},
        Decimal(price),
        Decimal(cost),
        bool(charged),
        status,
        remains,
        start_count,
        parse_time(created_at),
        parse_time(updated_at),
    )


def _moved_on(
    order: OrderRecord, status: str, remains: int | None, start_count: int | None
) -> OrderRecord:
    """The order with a new status and numbers (``dataclasses.replace`` is slow at scale)."""
    return OrderRecord(
        order.order_id,
        order.user_id,
        order.chat_id,
        order.panel,
        order.panel_order_id,
        order.item_id,
        order.service_id,
        order.service_name,
        order.order_type,
        order.link,
        order.quantity,
        order.fields,
        order.price,
        order.cost,
        order.charged,
        status,
        remains,
        start_count,
        order.created_at,
        order.updated_at,
    )


def _news_key(order: OrderRecord) -> str | None:
    """What the customer has been told about, as a dedupe key; None: nothing to tell."""
    stage = _NEWS_STAGE.get(order.status)
    if stage is None:
        return None
    if stage != "active":
        return f"order:{order.order_id}:{stage}"
    step = _progress_step(order.total_units or 0, order.remains)
    return f"order:{order.order_id}:{stage}:{step}"


def _is_news(
    quantity: int, old_status: str, old_remains: int | None, status: str, remains: int | None
) -> bool:
    """True when the order's news key moved on (``_news_key`` before and after differ and
    there is something to tell), worked out without writing the keys."""
    stage = _NEWS_STAGE.get(status)
    if stage is None:
        return False
    if stage != _NEWS_STAGE.get(old_status):
        return True
    return stage == "active" and (
        _progress_step(quantity, remains) != _progress_step(quantity, old_remains)
    )


def _progress_step(quantity: int, remains: int | None) -> int:
    """Which quarter of the order has been delivered (0 to PROGRESS_STEPS - 1)."""
    delivered = delivered_of(quantity, remains)
    if delivered is None or quantity <= 0:
        return 0
    return min(delivered * PROGRESS_STEPS // quantity, PROGRESS_STEPS - 1)


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


def _refund_reason(order: OrderRecord) -> str:
    return {
        OrderStatus.CANCELED.value: f"order #{order.order_id} canceled",
        OrderStatus.REFUNDED.value: f"order #{order.order_id} refunded",
    }.get(order.status, f"order #{order.order_id} partially completed")


async def _refunds_due(
    db: Database, orders: Sequence[OrderRecord]
) -> list[tuple[tracking_rows.NewRefund, Decimal]]:
    """The refunds these orders' statuses call for, each at most once ever, with the balance
    each leaves (inside the caller's transaction, which writes them)."""
    if not orders:
        return []
    refunds = [
        tracking_rows.NewRefund(o.user_id, o.order_id, refund_due(o), _refund_reason(o))
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


async def order_history(db: Database, order_id: int) -> list[OrderEvent]:
    """Every change the order went through, oldest first."""
    return [
        OrderEvent(
            event_id=int(row["event_id"]),
            order_id=int(row["order_id"]),
            old_status=None if row["old_status"] is None else str(row["old_status"]),
            new_status=str(row["new_status"]),
            remains=None if row["remains"] is None else int(row["remains"]),
            start_count=None if row["start_count"] is None else int(row["start_count"]),
            charge=parse_money(row["charge"]),
            created_at=parse_time(row["created_at"]),
        )
        for row in await event_rows.for_order(db, order_id)
    ]


# --------------------------------------------------------------------------- refill, cancel


def available_actions(
    order: OrderRecord, item: CatalogItem | None, panel: PanelClient | None
) -> OrderActions:
    """Say whether the order card may offer Refill and Cancel."""
    if panel is None or order.panel_order_id is None:
        return OrderActions(False, False)
    capabilities = panel.capabilities

    def service_allows(flag: str) -> bool:
        if not capabilities.per_service_flags:
            return True
        return item is not None and bool(getattr(item.service, flag))

    can_refill = (
        capabilities.refill
        and service_allows("refill")
        and order.status in (OrderStatus.COMPLETED.value, OrderStatus.PARTIAL.value)
    )
    can_cancel = (
        capabilities.cancel and service_allows("cancel") and order.status in ACTIVE_STATUSES
    )
    return OrderActions(can_refill, can_cancel)


def _request(kind: str, row: sqlite3.Row) -> ServiceRequest:
    return ServiceRequest(
        request_id=int(row["id"]),
        order_id=int(row["order_id"]),
        kind=kind,
        panel_request_id=None if row["panel_request_id"] is None else str(row["panel_request_id"]),
        status=str(row["status"]),
        error=None if row["error"] is None else str(row["error"]),
        created_at=parse_time(row["created_at"]),
        updated_at=parse_time(row["updated_at"]),
    )


async def request_refill(
    db: Database, panels: Mapping[str, PanelClient], *, order_id: int, user_id: int
) -> ServiceRequest:
    """Ask the panel to refill the customer's order (once, whatever the taps)."""
    return await _request_action(db, panels, "refill", order_id=order_id, user_id=user_id)


async def request_cancel(
    db: Database, panels: Mapping[str, PanelClient], *, order_id: int, user_id: int
) -> ServiceRequest:
    """Ask the panel to cancel the customer's order (once, whatever the taps)."""
    return await _request_action(db, panels, "cancel", order_id=order_id, user_id=user_id)


async def _request_action(
    db: Database, panels: Mapping[str, PanelClient], kind: str, *, order_id: int, user_id: int
) -> ServiceRequest:
    order = await get_order(db, order_id)
    if order is None or order.user_id != user_id:
        raise ActionRefused(kind, Refusal.NO_SUCH_ORDER, order_id)
    client = panels.get(order.panel)
    actions = available_actions(order, await get_item(db, order.item_id), client)
    allowed = actions.can_refill if kind == "refill" else actions.can_cancel
    recent = time_text(datetime.now(UTC) - RECENT_REQUEST)
    # One transaction from the check to the insert, so two taps cannot both send.
    async with db.transaction():
        # Looked up before "allowed": a second tap after a cancel went through finds it here.
        existing = await request_rows.latest_with_status(
            db, kind, order_id, POLLED_REQUEST_STATUSES
        ) or await request_rows.latest_with_status(
            db, kind, order_id, (SENDING, ACCEPTED), since=recent
        )
        if existing is not None:
            return _request(kind, existing)
        if client is None or order.panel_order_id is None or not allowed:
            raise _refusal(kind, order, client)
        request_id = await request_rows.insert(
            db, kind, order_id=order_id, panel=order.panel, status=SENDING
        )
    status, panel_request_id, error = await _send_request(client, kind, order.panel_order_id)
    await request_rows.update(
        db, kind, request_id, status=status, panel_request_id=panel_request_id, error=error
    )
    log.info("%s of order %d: %s %s", kind, order_id, status, error or "")
    row = await request_rows.get(db, kind, request_id)
    if row is None:  # pragma: no cover - requests are never deleted
        raise LookupError(f"the {kind} request {request_id} vanished")
    if status == REJECTED:
        raise ActionRefused(kind, Refusal.PANEL_REFUSED, order_id, panel_words=error)
    return _request(kind, row)


def _refusal(kind: str, order: OrderRecord, client: PanelClient | None) -> ActionRefused:
    """Why the order card's refill or cancel cannot be done now."""

    def refused(reason: Refusal) -> ActionRefused:
        return ActionRefused(kind, reason, order.order_id, status=order.status)

    if client is None:
        return refused(Refusal.SERVICE_GONE)
    if kind == "refill":
        if not client.capabilities.refill:
            return refused(Refusal.NOT_OFFERED)
        if order.status not in (OrderStatus.COMPLETED.value, OrderStatus.PARTIAL.value):
            return refused(Refusal.NOT_YET)
        return refused(Refusal.NOT_OFFERED)
    if not client.capabilities.cancel:
        return refused(Refusal.NOT_OFFERED)
    if order.status not in ACTIVE_STATUSES:
        return refused(Refusal.TOO_LATE)
    return refused(Refusal.NOT_OFFERED)


async def _send_request(
    client: PanelClient, kind: str, panel_order_id: str
) -> tuple[str, str | None, str | None]:
    """Send one refill or cancel; return (status, the panel's request ID, its words)."""
    capabilities = client.capabilities
    try:
        if kind == "refill":
            refill = await client.refill(panel_order_id)
            request_id, error = refill.refill_id, refill.error
            status_call = capabilities.refill_status
        else:
            cancel = await client.cancel(panel_order_id)
            request_id, error = cancel.cancel_id, cancel.error
            status_call = capabilities.cancel_status
    except PanelError as e:
        # Writes are never retried; whether it reached the panel, the customer may try again.
        return REJECTED, None, e.message
    if error is not None:
        return REJECTED, None, error
    if request_id is not None and status_call:
        return RequestStatus.PENDING.value, request_id, None
    # The panel took it but gives no ID or no way to ask later: say only what we know.
    return ACCEPTED, request_id, None


async def order_requests(db: Database, order_id: int) -> list[ServiceRequest]:
    """The order's refill and cancel requests, oldest first."""
    found = [
        _request(kind, row)
        for kind in ("refill", "cancel")
        for row in await request_rows.for_order(db, kind, order_id)
    ]
    return sorted(found, key=lambda r: (r.created_at, r.kind, r.request_id))


async def sync_requests(db: Database, panels: Mapping[str, PanelClient]) -> int:
    """Ask panels that can tell about open refills and cancels; return how many changed."""

    async def one(name: str, client: PanelClient) -> int:
        changed = 0
        for kind in ("refill", "cancel"):
            try:
                changed += await _sync_request_kind(db, name, client, kind)
            except PanelError as e:
                log.warning("%s status sync on panel %s failed: %s", kind, name, e)
        return changed

    counts = await asyncio.gather(*(one(name, client) for name, client in panels.items()))
    return sum(counts)


async def _sync_request_kind(db: Database, name: str, client: PanelClient, kind: str) -> int:
    capabilities = client.capabilities
    if not (capabilities.refill_status if kind == "refill" else capabilities.cancel_status):
        return 0
    rows = await request_rows.with_status_on_panel(db, kind, name, POLLED_REQUEST_STATUSES)
    if not rows:
        return 0
    by_panel_id = {str(row["panel_request_id"]): row for row in rows}
    infos: dict[str, tuple[RequestStatus, str | None]] = {}
    if kind == "refill":
        for refill_id, refill in (await client.refill_statuses(list(by_panel_id))).items():
            infos[refill_id] = (refill.status, refill.error)
    else:
        for cancel_id, cancel in (await client.cancel_statuses(list(by_panel_id))).items():
            infos[cancel_id] = (cancel.status, cancel.error)
    changed = 0
    for panel_id, (status, error) in infos.items():
        row = by_panel_id.get(panel_id)
        if row is None or error is not None or status is RequestStatus.UNKNOWN:
            continue
        if status.value == row["status"]:
            continue
        order = await get_order(db, int(row["order_id"]))
        async with db.transaction():
            await request_rows.update(db, kind, int(row["id"]), status=status.value)
            # A completed cancel shows as the order's own Canceled notice (with its refund):
            # one cancel, one message.
            done_cancel = kind == "cancel" and status is RequestStatus.COMPLETED
            if order is not None and status.is_final and not done_cancel:
                await notifications.queue_notice(
                    db,
                    Notice(
                        order.chat_id,
                        NoticeKind.REQUEST_UPDATE,
                        {"kind": kind, "order_id": order.order_id, "status": status.value},
                        f"{kind}:{row['id']}:{status.value}",
                    ),
                )
        changed += 1
    return changed
