"""smmsend.com: API v2 with drip-feed flags, typed cancels and cancel status.

Its docs show only the many-ID forms of status, refill, refill status and cancel, so single
calls use them too. A cancel answers per order with a ``type`` (order, dripfeed,
subscription) and a cancel ID whose status is asked with ``action=cancel&cancels=...``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.panels.models import (
    CancelStatusInfo,
    Capabilities,
    OrderStatusInfo,
    OrderType,
    RefillResult,
    RefillStatusInfo,
    Service,
)
from bot.panels.v2 import V2Client, cancel_status_from_entry, index_answer, service_from_payload

# The order types smmsend's add documents.
SMMSEND_ORDER_TYPES = frozenset(
    {
        OrderType.DEFAULT,
        OrderType.CUSTOM_COMMENTS,
        OrderType.SUBSCRIPTIONS,
        OrderType.CUSTOM_COMMENTS_PACKAGE,
        OrderType.POLL,
    }
)


class SmmSendClient(V2Client):
    """smmsend.com's API v2 variant."""

    dialect = "smmsend"
    capabilities = Capabilities(cancel_status=True, order_types=SMMSEND_ORDER_TYPES)

    def _service(self, item: Any) -> Service | None:
        # smmsend says which services take drip-feed; silence means no.
        return service_from_payload(item, dripfeed_default=False)

    async def order_status(self, order_id: str) -> OrderStatusInfo:
        """Status of one order, asked with the many-order form."""
        order_id = str(order_id).strip()
        return (await self.order_statuses([order_id]))[order_id]

    async def refill(self, order_id: str) -> RefillResult:
        """Ask for a refill of one order with the many-order form."""
        order_id = str(order_id).strip()
        return (await self.refills([order_id]))[order_id]

    async def refill_status(self, refill_id: str) -> RefillStatusInfo:
        """Status of one refill, asked with the many-refill form."""
        refill_id = str(refill_id).strip()
        return (await self.refill_statuses([refill_id]))[refill_id]

    async def cancel_statuses(self, cancel_ids: Sequence[str]) -> dict[str, CancelStatusInfo]:
        """Status of many cancel requests, 100 per request."""

        async def chunk_call(chunk: list[str]) -> dict[str, CancelStatusInfo]:
            payload = await self._read("cancel", {"cancels": ",".join(chunk)})
            self._raise_for_error(payload)
            entries = index_answer(payload, "cancel")
            return {i: cancel_status_from_entry(i, entries.get(i)) for i in chunk}

        return await self._per_chunk(cancel_ids, chunk_call)
