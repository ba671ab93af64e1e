"""The typed bot-wide state handlers reach through ``context.bot_data``."""

from __future__ import annotations

import asyncio
import weakref
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any, Protocol

from telegram.ext import CallbackContext, ExtBot

from bot.services.panel_health import PanelHealth

if TYPE_CHECKING:
    from bot.builtin_sandbox import BuiltInSandbox
    from bot.config import Settings
    from bot.jobs import CatalogSync, OutboxSender, RepeatingJob
    from bot.panels.base import PanelClient
    from bot.panels.sandbox import SandboxPanel
    from bot.payment_jobs import PaymentJobs
    from bot.payments.cryptopay import CryptoPayClient
    from storage.db import Database


class Component(Protocol):
    """Something that runs for the application's lifetime: started in ``post_init``, stopped
    in ``post_shutdown`` (in reverse order)."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class BotData:
    """Long-lived state: settings, the database, the panels and what the components opened."""

    def __init__(self) -> None:
        self._settings: Settings | None = None
        self._db: Database | None = None
        self.panels: dict[str, PanelClient] = {}
        # Each panel's status-sync backoff, which /panels shows too.
        self.panel_health = PanelHealth()
        # One catalog sync at a time: the repeating job, the one at start and /sync.
        self.catalog_sync_lock = asyncio.Lock()
        # One lock per order while a Refill or Cancel tap is handled (gone when unused).
        self.order_action_locks: weakref.WeakValueDictionary[int, asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )
        # Set by their components while they run.
        self.sandbox: SandboxPanel | None = None
        self.crypto_pay: CryptoPayClient | None = None
        # The components, set in ``post_init``; closing the stack stops them in reverse.
        self.exit_stack: AsyncExitStack | None = None
        self.builtin_sandbox: BuiltInSandbox | None = None
        self.catalog_sync: CatalogSync | None = None
        self.status_sync: RepeatingJob | None = None
        self.outbox_sender: OutboxSender | None = None
        self.payment_jobs: PaymentJobs | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            raise RuntimeError("settings are not loaded yet")
        return self._settings

    @settings.setter
    def settings(self, value: Settings) -> None:
        self._settings = value

    @property
    def db(self) -> Database:
        if self._db is None:
            raise RuntimeError("the database is not open yet")
        return self._db

    @db.setter
    def db(self, value: Database | None) -> None:
        self._db = value

    def is_admin(self, user_id: int | None) -> bool:
        return user_id is not None and user_id in self.settings.admin_ids


Context = CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]
