"""Storage fixtures: a fresh migrated database per test, and a shop synced from the sandbox."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from storage.db import Database, open_database

if TYPE_CHECKING:
    from bot.panels.base import PanelClient
    from bot.panels.sandbox import SandboxPanel

SANDBOX_KEY = "sandbox-key"
SHOP_MARKUP = Decimal(25)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    """A fresh database file in the test's temporary folder."""
    database = await open_database(tmp_path / "data" / "bot.sqlite3")
    try:
        yield database
    finally:
        await database.close()


@asynccontextmanager
async def serve_panel(sandbox: SandboxPanel, name: str = "sandbox") -> AsyncIterator[PanelClient]:
    """Serve ``sandbox`` on loopback and yield a v2 client for it (no retries, short timeout)."""
    from bot.panels.base import PanelConfig
    from bot.panels.registry import make_client

    async with sandbox.serve("127.0.0.1", 0):
        config = PanelConfig(
            name, "v2", sandbox.url_for("v2"), SANDBOX_KEY, timeout=2, retries=0, backoff=0.01
        )
        client = make_client(config)
        try:
            yield client
        finally:
            await client.close()


@dataclass
class Shop:
    """A database whose catalog was synced from a served sandbox panel."""

    db: Database
    sandbox: SandboxPanel
    client: PanelClient

    @property
    def panels(self) -> dict[str, PanelClient]:
        return {self.client.name: self.client}


@pytest.fixture
async def shop(db: Database) -> AsyncIterator[Shop]:
    """A sandbox panel (120 services) served on loopback, its catalog synced at 25% markup."""
    from bot.panels.sandbox import SandboxPanel
    from bot.services.catalog import sync_catalogs

    sandbox = SandboxPanel(key=SANDBOX_KEY, catalog_size=120, balance=Decimal(1000), seed=7)
    async with serve_panel(sandbox) as client:
        reports = await sync_catalogs(db, {client.name: client}, lambda _: SHOP_MARKUP)
        assert reports[0].ok, reports
        yield Shop(db, sandbox, client)
