"""Tracking test helpers: a shop selling the sandbox's services with a funded customer.

Shared by the status sync, refund, outbox and refill/cancel tests (a pytest plugin).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from decimal import Decimal

import pytest

from bot.panels.base import PanelClient, PanelConfig
from bot.panels.models import OrderRequest, OrderType
from bot.panels.registry import make_client
from bot.panels.sandbox import CatalogService, SandboxPanel
from bot.services import catalog, ordering, status_sync, users, wallet
from bot.services.ordering import OrderRecord, PlacementKind
from storage.db import Database
from tests.fakes.outbox import queued_texts

CUSTOMER = 1001
ADMIN_CHAT = 42
MARKUP = Decimal(25)


@dataclass
class Tracking:
    """A shop selling the sandbox's services, with a funded customer, ready to track orders."""

    db: Database
    sandbox: SandboxPanel
    panels: dict[str, PanelClient] = field(default_factory=dict)
    _keys: int = 0

    async def connect(
        self, name: str, dialect: str, *, time_limit: float = 3.0, url: str | None = None
    ) -> PanelClient:
        """Add a panel client for the sandbox in ``dialect`` and sync its catalog."""
        config = self.sandbox.config_for(dialect, name=name, timeout=time_limit)
        if url is not None:
            config = PanelConfig(name, dialect, url, config.key, timeout=time_limit, retries=0)
        client = make_client(config)
        self.panels[name] = client
        if url is None:
            reports = await catalog.sync_catalogs(self.db, {name: client}, lambda _: MARKUP)
            assert reports[0].ok, reports
        return client

    async def item_id(self, panel: str, service: CatalogService) -> int:
        row = await self.db.fetch_one(
            "SELECT item_id FROM services WHERE panel = ? AND service_id = ?",
            (panel, str(service.service_id)),
        )
        assert row is not None, f"service {service.service_id} is not in {panel}'s catalog"
        return int(row[0])

    async def place(
        self,
        *,
        panel: str = "sandbox",
        quantity: int = 1000,
        refill: bool | None = None,
        cancel: bool | None = None,
        charge: bool = True,
        user_id: int = CUSTOMER,
        link: str = "https://instagram.com/p/abc",
    ) -> OrderRecord:
        """Place one Default order through ``place_order`` and the panel's HTTP API."""
        dialect = self.panels[panel].dialect
        service = self.sandbox.find_service(
            OrderType.DEFAULT, refill=refill, cancel=cancel, dialect=dialect
        )
        item_id = await self.item_id(panel, service)
        item = await catalog.get_item(self.db, item_id)
        assert item is not None
        quantity = min(max(quantity, item.service.min), item.service.max)
        self._keys += 1
        result = await ordering.place_order(
            self.db,
            self.panels,
            user_id=user_id,
            chat_id=user_id,
            item_id=item_id,
            request=OrderRequest(item.service.service_id, link=link, quantity=quantity),
            idempotency_key=f"test-{self._keys}",
            charge_wallet=charge,
        )
        assert result.kind is PlacementKind.PLACED, result
        assert result.order is not None
        return result.order

    def panel_id(self, order: OrderRecord) -> str:
        assert order.panel_order_id is not None
        return order.panel_order_id

    def set_status(self, order: OrderRecord, status: str, remains: int | None = None) -> None:
        self.sandbox.set_status(self.panel_id(order), status, remains)

    async def sync(self, **kwargs: object) -> list[status_sync.PanelSyncReport]:
        return await status_sync.sync_statuses(self.db, self.panels, **kwargs)  # type: ignore[arg-type]

    async def order(self, order_id: int) -> OrderRecord:
        found = await ordering.get_order(self.db, order_id)
        assert found is not None
        return found

    async def messages(self, chat_id: int = CUSTOMER) -> list[str]:
        """Texts queued for a chat, oldest first."""
        return await queued_texts(self.db, chat_id)

    def status_requests(self) -> list[object]:
        return [r for r in self.sandbox.requests if r.action.lower() in ("status", "gettaskstat")]


@pytest.fixture
async def tracking_shop(db: Database, sandbox: SandboxPanel) -> AsyncIterator[Tracking]:
    """The sandbox sold as panel "sandbox" (v2) to customer 1001 with 10,000 USD."""
    shop = Tracking(db, sandbox)
    try:
        await shop.connect("sandbox", "v2")
        await users.register_user(
            db, user_id=CUSTOMER, chat_id=CUSTOMER, username="ann", first_name="Ann"
        )
        await wallet.credit(db, CUSTOMER, Decimal(10_000), reason="top-up", admin_id=1)
        yield shop
    finally:
        for client in shop.panels.values():
            await client.close()
