"""Status sync: ask the panels about orders that can still change and apply what changed.

Sync asks each panel only about orders that can still change, 100 IDs per request and a few
requests at once, every panel on its own (a panel that fails is backed off, see
``panel_health``, and never holds up another). What changed is written in one transaction
per answer: the order, an event in its history, the refund the new status calls for (see
``refunds``), and the notice that tells the customer. A status seen twice or a restart
mid-sync cannot pay twice: the ledger takes one refund per order.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from bot.panels.base import PanelClient
from bot.panels.errors import PanelError
from bot.panels.models import OrderStatus, OrderStatusInfo, chunked
from bot.services import notifications
from bot.services.notifications import Notice, NoticeKind
from bot.services.ordering import delivered_of, get_order
from bot.services.panel_health import PanelHealth
from bot.services.refunds import FULL_REFUND, refund_due, refunds_due
from storage import events as event_rows
from storage import orders as order_rows
from storage import outbox as outbox_rows
from storage import requests as request_rows
from storage import tracking as tracking_rows
from storage.db import Database, parse_money, time_text
from storage.events import OrderEvent
from storage.orders import OrderRecord, OrderState

log = logging.getLogger(__name__)

BATCH_SIZE = 100
REVIEW = OrderState.REVIEW
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
# A cancel the panel refused: the order's Canceled notice is then not worded as the
# customer's own.
_REFUSED_REQUEST = "rejected"


@dataclass(frozen=True, slots=True)
class PanelSyncReport:
    """How one panel's status sync went: requests sent, orders checked and changed."""

    panel: str
    requests: int
    checked: int
    changed: int
    skipped: bool
    error: str | None


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
    order = await order_rows.get(db, order_id)
    if order is None:
        raise LookupError(f"there is no order #{order_id}")
    client = panels.get(order.panel)
    if client is None or order.panel_order_id is None:
        return order
    known = tracking_rows.ActiveOrder(
        order_id=order_id,
        panel_order_id=order.panel_order_id,
        status=order.status,
        remains=order.remains,
        start_count=order.start_count,
        charge=None if order.charge is None else str(order.charge),
    )
    info = await client.order_status(known.panel_order_id)
    await _apply_answers(
        db, client.name, [known], {known.panel_order_id: info}, tuple(admin_chat_ids)
    )
    refreshed = await get_order(db, order_id)
    if refreshed is None:  # pragma: no cover - orders are never deleted
        raise LookupError(f"there is no order #{order_id}")
    return refreshed


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
            before = rows.get(known.order_id)
            if before is None or before.panel_order_id != known.panel_order_id:
                continue
            change = _change_for(before, info, admins)
            if change is not None:
                changes.append(change)
        refunds = await refunds_due(db, [c.after for c in changes if c.refund > 0])
        paid = {refund.order_id: (refund.amount, balance) for refund, balance in refunds}
        asked_to_cancel = await request_rows.orders_with_cancel(
            db,
            [c.after.order_id for c in changes if c.after.status == OrderStatus.CANCELED.value],
            excluding=_REFUSED_REQUEST,
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
    before: OrderRecord, info: OrderStatusInfo, admins: tuple[int, ...]
) -> _Change | None:
    """Work out one order's change from the panel's answer; None when nothing changed.

    Pure: nothing is written or logged, so a change worked out and then dropped leaves no
    trace.
    """
    if info.not_found:
        return _lost(before, info, admins)
    if info.error or info.status in NO_NEWS:
        return None
    order_id = before.order_id
    old_status = before.status
    old_remains = before.remains
    old_start_count = before.start_count
    # A drip-feed's remains count down from all its runs, a package's from its lines.
    total = before.total_units or 0
    status = info.status.value
    remains = None if info.remains is None else max(info.remains, 0)
    # A partial the shop was left to settle (it came without a count) stays the shop's: a
    # count or a refund the panel reports later is not paid as well, or the customer could
    # get the same share twice.
    settled_by_shop = old_status == OrderStatus.PARTIAL.value and (
        old_remains is None or not total
    )
    if settled_by_shop:
        remains = None
    start_count = info.start_count
    if (
        status == old_status
        and remains in (None, old_remains)
        and start_count in (None, old_start_count)
        and info.charge in (None, before.charge)
        and not before.not_found
    ):
        return None
    if remains is not None and total:
        remains = min(remains, total)
    partial = status == OrderStatus.PARTIAL.value
    # A partial is refunded only from the count the panel gave with that very status: an
    # earlier "remains" may predate deliveries made since.
    countable = not settled_by_shop and (not partial or (remains is not None and total > 0))
    if partial and remains is None:
        after_remains = None
    else:
        after_remains = old_remains if remains is None else remains
    after = dataclasses.replace(
        before,
        status=OrderState(status),
        remains=after_remains,
        start_count=old_start_count if start_count is None else start_count,
        not_found=False,
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
        news=_is_news(before, after),
        refund=refund,
        messages=messages,
        unsettled=unsettled,
    )


def _lost(before: OrderRecord, info: OrderStatusInfo, admins: tuple[int, ...]) -> _Change | None:
    """The change for an order its panel no longer knows: held for an admin's review."""
    checked = time_text(before.updated_at)
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
                f"order:{order_id}:not_found:{checked}",
            )
        )
    ]
    warnings += [
        notifications.new_row(
            Notice(
                admin,
                NoticeKind.ORDER_NOT_FOUND_ADMIN,
                {"order": before, "panel_words": panel_words},
                f"admin:{admin}:order:{order_id}:not_found:{checked}",
            )
        )
        for admin in admins
    ]
    return _Change(
        update=tracking_rows.OrderUpdate(
            order_id, REVIEW, None, None, None, None, True, panel_words
        ),
        event=event_rows.NewEvent(order_id, before.status, REVIEW, None, None, None),
        after=dataclasses.replace(before, status=REVIEW),
        news=False,
        refund=Decimal(0),
        messages=warnings,
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


def _is_news(before: OrderRecord, after: OrderRecord) -> bool:
    """True when the customer has something new to hear: the order's news key moved on."""
    key = _news_key(after)
    return key is not None and key != _news_key(before)


def _progress_step(quantity: int, remains: int | None) -> int:
    """Which quarter of the order has been delivered (0 to PROGRESS_STEPS - 1)."""
    delivered = delivered_of(quantity, remains)
    if delivered is None or quantity <= 0:
        return 0
    return min(delivered * PROGRESS_STEPS // quantity, PROGRESS_STEPS - 1)


async def order_history(db: Database, order_id: int) -> list[OrderEvent]:
    """Every change the order went through, oldest first."""
    return await event_rows.for_order(db, order_id)
