"""The typed bot-wide state handlers reach through ``context.bot_data``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from telegram.ext import CallbackContext, ExtBot

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.panels.base import PanelClient
    from storage.db import Database


class BotData:
    """Long-lived resources, opened in ``post_init`` and closed in ``post_shutdown``."""

    def __init__(self) -> None:
        self._settings: Settings | None = None
        self._db: Database | None = None
        self.panels: dict[str, PanelClient] = {}
        # Anything else with the application's lifetime (e.g. the in-process sandbox).
        self.resources: dict[str, Any] = {}

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
