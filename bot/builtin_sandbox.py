"""The sandbox panel the bot sells when no panel is configured, started and stopped with it."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.config import SANDBOX_PANEL_NAME
from bot.panels.base import PanelConfig

if TYPE_CHECKING:
    from bot.context import BotData
    from bot.panels.sandbox import SandboxPanel

log = logging.getLogger(__name__)

SANDBOX_KEY = "sandbox-key"


class BuiltInSandbox:
    """Serve the in-process sandbox panel from ``start`` to ``stop`` (``bot_data.sandbox``)."""

    def __init__(self, bot_data: BotData) -> None:
        self.bot_data = bot_data
        self._sandbox: SandboxPanel | None = None

    async def start(self) -> None:
        # Imported here: a bot with real panels never loads the sandbox server.
        from bot.panels.sandbox import SandboxPanel

        settings = self.bot_data.settings
        sandbox = SandboxPanel(
            key=SANDBOX_KEY,
            catalog_size=settings.sandbox.catalog_size,
            balance=settings.sandbox.starting_balance,
            speed=settings.sandbox.speed,
        )
        await sandbox.start(settings.sandbox.host, settings.sandbox.port)
        self._sandbox = self.bot_data.sandbox = sandbox
        log.info("no panel configured: selling the built-in sandbox at %s", sandbox.url_for("v2"))

    def panel_config(self) -> PanelConfig:
        """How the bot reaches the running sandbox, as one of its panels."""
        if self._sandbox is None:
            raise RuntimeError("the sandbox is not running")
        settings = self.bot_data.settings
        return PanelConfig(
            name=SANDBOX_PANEL_NAME,
            dialect="v2",
            url=self._sandbox.url_for("v2"),
            key=SANDBOX_KEY,
            timeout=settings.panels.timeout,
            user_agent=settings.panels.user_agent,
        )

    async def stop(self) -> None:
        sandbox, self._sandbox = self._sandbox, None
        self.bot_data.sandbox = None
        if sandbox is not None:
            await sandbox.stop()
