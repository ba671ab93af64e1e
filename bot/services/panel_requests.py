"""Refill and cancel requests: what an order card may offer, asking the panel once whatever
the taps, and following the requests the panel can report on."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from bot.panels.base import PanelClient
from bot.panels.errors import PanelError
from bot.panels.models import OrderStatus, RequestStatus
from bot.services import notifications
from bot.services.catalog import CatalogItem, get_item
from bot.services.notifications import Notice, NoticeKind
from bot.services.ordering import get_order
from bot.services.status_sync import ACTIVE_STATUSES
from storage import requests as request_rows
from storage.db import Database, time_text
from storage.orders import OrderRecord
from storage.requests import RequestKind, RequestState, ServiceRequest

log = logging.getLogger(__name__)

SENDING = RequestState.SENDING
ACCEPTED = RequestState.ACCEPTED
REJECTED = RequestState.REJECTED
REFILL = RequestKind.REFILL
CANCEL = RequestKind.CANCEL
POLLED_REQUEST_STATUSES = (
    RequestStatus.PENDING.value,
    RequestStatus.IN_PROGRESS.value,
    RequestStatus.UNKNOWN.value,
)
# A request being sent, or taken by a panel that cannot report on it, counts as open this long:
# a double tap (or a second tap soon after) returns it instead of asking the panel again.
RECENT_REQUEST = timedelta(minutes=30)


@dataclass(frozen=True, slots=True)
class OrderActions:
    """Which buttons an order card may offer."""

    can_refill: bool
    can_cancel: bool


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


async def request_refill(
    db: Database, panels: Mapping[str, PanelClient], *, order_id: int, user_id: int
) -> ServiceRequest:
    """Ask the panel to refill the customer's order (once, whatever the taps)."""
    return await _request_action(db, panels, REFILL, order_id=order_id, user_id=user_id)


async def request_cancel(
    db: Database, panels: Mapping[str, PanelClient], *, order_id: int, user_id: int
) -> ServiceRequest:
    """Ask the panel to cancel the customer's order (once, whatever the taps)."""
    return await _request_action(db, panels, CANCEL, order_id=order_id, user_id=user_id)


async def _request_action(
    db: Database,
    panels: Mapping[str, PanelClient],
    kind: RequestKind,
    *,
    order_id: int,
    user_id: int,
) -> ServiceRequest:
    order = await get_order(db, order_id)
    if order is None or order.user_id != user_id:
        raise ActionRefused(kind, Refusal.NO_SUCH_ORDER, order_id)
    client = panels.get(order.panel)
    actions = available_actions(order, await get_item(db, order.item_id), client)
    allowed = actions.can_refill if kind is REFILL else actions.can_cancel
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
            return existing
        if client is None or order.panel_order_id is None or not allowed:
            raise _refusal(kind, order, client)
        request_id = await request_rows.insert(
            db, kind, order_id=order_id, panel=order.panel, status=SENDING
        )
    status, panel_request_id, error = await _send_request(client, kind, order.panel_order_id)
    await request_rows.update(
        db, request_id, status=status, panel_request_id=panel_request_id, error=error
    )
    log.info("%s of order %d: %s %s", kind, order_id, status, error or "")
    request = await request_rows.get(db, request_id)
    if request is None:  # pragma: no cover - requests are never deleted
        raise LookupError(f"the {kind} request {request_id} vanished")
    if status == REJECTED:
        raise ActionRefused(kind, Refusal.PANEL_REFUSED, order_id, panel_words=error)
    return request


def _refusal(kind: RequestKind, order: OrderRecord, client: PanelClient | None) -> ActionRefused:
    """Why the order card's refill or cancel cannot be done now."""

    def refused(reason: Refusal) -> ActionRefused:
        return ActionRefused(kind, reason, order.order_id, status=order.status)

    if client is None:
        return refused(Refusal.SERVICE_GONE)
    if kind is REFILL:
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
    client: PanelClient, kind: RequestKind, panel_order_id: str
) -> tuple[str, str | None, str | None]:
    """Send one refill or cancel; return (status, the panel's request ID, its words)."""
    capabilities = client.capabilities
    try:
        if kind is REFILL:
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
    return await request_rows.for_order(db, order_id)


async def sync_requests(db: Database, panels: Mapping[str, PanelClient]) -> int:
    """Ask panels that can tell about open refills and cancels; return how many changed."""

    async def one(name: str, client: PanelClient) -> int:
        changed = 0
        for kind in (REFILL, CANCEL):
            try:
                changed += await _sync_request_kind(db, name, client, kind)
            except PanelError as e:
                log.warning("%s status sync on panel %s failed: %s", kind, name, e)
        return changed

    counts = await asyncio.gather(*(one(name, client) for name, client in panels.items()))
    return sum(counts)


async def _sync_request_kind(
    db: Database, name: str, client: PanelClient, kind: RequestKind
) -> int:
    capabilities = client.capabilities
    if not (capabilities.refill_status if kind is REFILL else capabilities.cancel_status):
        return 0
    requests = await request_rows.with_status_on_panel(db, kind, name, POLLED_REQUEST_STATUSES)
    if not requests:
        return 0
    by_panel_id = {str(r.panel_request_id): r for r in requests}
    infos: dict[str, tuple[RequestStatus, str | None]] = {}
    if kind is REFILL:
        for refill_id, refill in (await client.refill_statuses(list(by_panel_id))).items():
            infos[refill_id] = (refill.status, refill.error)
    else:
        for cancel_id, cancel in (await client.cancel_statuses(list(by_panel_id))).items():
            infos[cancel_id] = (cancel.status, cancel.error)
    changed = 0
    for panel_id, (status, error) in infos.items():
        request = by_panel_id.get(panel_id)
        if request is None or error is not None or status is RequestStatus.UNKNOWN:
            continue
        if status.value == request.status:
            continue
        order = await get_order(db, request.order_id)
        async with db.transaction():
            await request_rows.update(db, request.request_id, status=status.value)
            # A completed cancel shows as the order's own Canceled notice (with its refund):
            # one cancel, one message.
            done_cancel = kind is CANCEL and status is RequestStatus.COMPLETED
            if order is not None and status.is_final and not done_cancel:
                await notifications.queue_notice(
                    db,
                    Notice(
                        order.chat_id,
                        NoticeKind.REQUEST_UPDATE,
                        {"kind": kind, "order_id": order.order_id, "status": status.value},
                        f"{kind}:{request.request_id}:{status.value}",
                    ),
                )
        changed += 1
    return changed
