"""smmbros.in: API v2 with ``url`` for the link and one-order refills and cancels.

Its services carry no refill/cancel flags, so every service may try; refill and cancel take
one ``order`` and answer ``{"status": ..., "message": ...}`` (no refill or cancel ID, and
no way to ask a refill's status later). Many-order refills and cancels are sent one order
at a time, a few at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

from bot.panels.errors import AuthError, PanelError
from bot.panels.models import (
    CancelResult,
    Capabilities,
    OrderType,
    RefillResult,
    RefillStatusInfo,
    Service,
)
from bot.panels.v2 import V2Client, service_from_payload

log = logging.getLogger(__name__)

T = TypeVar("T")

# Orders smmbros documents: a link, a quantity, and optionally comments or drip-feed.
SMMBROS_ORDER_TYPES = frozenset(
    {
        OrderType.DEFAULT,
        OrderType.PACKAGE,
        OrderType.CUSTOM_COMMENTS,
        OrderType.CUSTOM_COMMENTS_PACKAGE,
    }
)
_SUCCESS_WORDS = {"success", "successful", "ok", "true", "1", "yes", "done", "added"}


def request_answer(payload: Any) -> tuple[bool, str | None]:
    """Read ``{"status": Success, "message": ...}``: (accepted, the panel's words)."""
    if not isinstance(payload, Mapping):
        return False, f"unreadable answer: {payload!r:.80}"
    message = payload.get("message")
    words = None if message in (None, "") else str(message)
    if payload.get("error") not in (None, ""):
        return False, str(payload["error"])
    status = payload.get("status")
    accepted = status is True or str(status).strip().lower() in _SUCCESS_WORDS
    if accepted:
        return True, words
    return False, words or f"the panel answered status {status!r:.40}"


class SmmBrosClient(V2Client):
    """smmbros.in's API v2 variant."""

    dialect = "smmbros"
    capabilities = Capabilities(
        refill_status=False,
        cancel_status=False,
        per_service_flags=False,
        order_types=SMMBROS_ORDER_TYPES,
    )
    link_field = "url"
    # How many one-order refills or cancels are in flight at once.
    concurrency = 4

    def _service(self, item: Any) -> Service | None:
        # No flags in the catalog: every service may try a refill or cancel.
        return service_from_payload(item, flags_default=True)

    async def _one_order(self, action: str, order_id: str) -> tuple[bool, str | None]:
        """Send one refill or cancel for one order; never retried."""
        try:
            payload = await self._post(action, {"order": order_id})
            self._raise_for_account_error(payload)
        except AuthError:
            raise
        except PanelError as e:
            return False, e.message
        accepted, words = request_answer(payload)
        return accepted, None if words is None else self._scrub(words)

    async def _each_order(
        self, order_ids: Sequence[str], one: Callable[[str], Awaitable[T]]
    ) -> dict[str, T]:
        """Run ``one`` per order with bounded concurrency; an auth error stops them all."""
        ids = self._unique(order_ids)
        gate = asyncio.Semaphore(self.concurrency)

        async def gated(order_id: str) -> T:
            async with gate:
                return await one(order_id)

        outcomes = await asyncio.gather(*(gated(i) for i in ids), return_exceptions=True)
        results: dict[str, T] = {}
        for order_id, outcome in zip(ids, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                raise outcome
            results[order_id] = outcome
        return results

    async def refill(self, order_id: str) -> RefillResult:
        """Ask for a refill of one order; smmbros gives no refill ID."""
        order_id = str(order_id).strip()
        accepted, words = await self._one_order("refill", order_id)
        if accepted:
            return RefillResult(order_id, message=words)
        return RefillResult(order_id, error=words or "refill refused")

    async def refills(self, order_ids: Sequence[str]) -> dict[str, RefillResult]:
        """Ask for refills of many orders, one request per order."""
        return await self._each_order(order_ids, self.refill)

    async def refill_statuses(self, refill_ids: Sequence[str]) -> dict[str, RefillStatusInfo]:
        """Refuse: smmbros cannot tell a refill's status."""
        raise self._unsupported("refill status")

    async def refill_status(self, refill_id: str) -> RefillStatusInfo:
        """Refuse: smmbros cannot tell a refill's status."""
        raise self._unsupported("refill status")

    async def cancel(self, order_id: str) -> CancelResult:
        """Ask to cancel one order; smmbros gives no cancel ID."""
        order_id = str(order_id).strip()
        accepted, words = await self._one_order("cancel", order_id)
        if accepted:
            return CancelResult(order_id, message=words)
        return CancelResult(order_id, error=words or "cancel refused")

    async def cancels(self, order_ids: Sequence[str]) -> dict[str, CancelResult]:
        """Ask to cancel many orders, one request per order."""
        return await self._each_order(order_ids, self.cancel)
