"""Fixtures: a running sandbox panel (``sandbox``) for any test that talks to a panel."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from bot.panels.sandbox import SandboxPanel

SANDBOX_KEY = "test-key"


@pytest.fixture
async def sandbox() -> AsyncIterator[SandboxPanel]:
    """Serve a 60-service sandbox panel with 1000 USD; ``sandbox.url_for(dialect)`` gives URLs.

    ``sandbox.config_for(dialect)`` builds a ``PanelConfig`` for a client; ``sandbox.key`` is
    "test-key". The server stops (and releases any hanging request) after the test.
    """
    panel = SandboxPanel(key=SANDBOX_KEY, catalog_size=60, balance=Decimal(1000), seed=7)
    async with panel.serve("127.0.0.1", 0):
        yield panel
