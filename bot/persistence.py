"""PTB persistence over SQLite: conversation states and ``user_data`` survive restarts.

Only two things are stored, both in the ``ptb_state`` table as JSON: the state of every
persistent conversation, and each user's ``user_data`` (which holds the in-progress order
draft, so drafts must be plain JSON-serialisable dicts with string keys). ``chat_data``,
``bot_data`` and callback data are not persisted: ``bot_data`` holds live resources (the
database, panel clients) that are rebuilt at start.

The persistence opens its own connection to the database file, lazily on first use, and
closes it in ``flush``. It cannot borrow the application's ``Database``: PTB loads
persistence in ``Application.initialize()``, which runs *before* ``post_init`` opens the
application's resources. Two connections to one SQLite file in WAL mode are safe; this one
only ever touches ``ptb_state``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any

from telegram.ext import BasePersistence, PersistenceInput

from bot.context import BotData
from storage import ptb_state
from storage.db import Database, open_database

log = logging.getLogger(__name__)

USER_DATA = "user_data"
# The shapes PTB's BasePersistence uses (it does not export these names publicly).
ConversationKey = tuple[int | str, ...]
ConversationDict = dict[ConversationKey, object]
CDCData = tuple[list[tuple[str, float, dict[str, Any]]], dict[str, str]]
UPDATE_INTERVAL = 5.0


def _conversation_kind(name: str) -> str:
    return f"conversation:{name}"


def _dump(data: object, what: str) -> str:
    try:
        return json.dumps(data, sort_keys=True, separators=(",", ":"))
    except (TypeError, ValueError) as e:
        raise TypeError(f"{what} must be JSON-serialisable to be persisted: {e}") from e


class SQLitePersistence(BasePersistence[dict[Any, Any], dict[Any, Any], BotData]):
    """Persist conversations and ``user_data`` as JSON rows in ``ptb_state``."""

    def __init__(self, database_path: Path | str, update_interval: float = UPDATE_INTERVAL):
        super().__init__(
            store_data=PersistenceInput(
                bot_data=False, chat_data=False, user_data=True, callback_data=False
            ),
            update_interval=update_interval,
        )
        self.database_path = database_path
        self._db: Database | None = None
        self._opening = asyncio.Lock()
        # What was last written per (kind, key), so unchanged data is not rewritten.
        self._written: dict[tuple[str, str], str] = {}

    async def _database(self) -> Database:
        async with self._opening:
            if self._db is None:
                self._db = await open_database(self.database_path)
            return self._db

    async def _save(self, kind: str, key: str, text: str) -> None:
        if self._written.get((kind, key)) == text:
            return
        await ptb_state.save(await self._database(), kind, key, text)
        self._written[(kind, key)] = text

    async def _delete(self, kind: str, key: str) -> None:
        await ptb_state.delete(await self._database(), kind, key)
        self._written.pop((kind, key), None)

    async def get_user_data(self) -> dict[int, dict[Any, Any]]:
        """Load every user's stored ``user_data``."""
        rows = await ptb_state.load_all(await self._database(), USER_DATA)
        loaded: dict[int, dict[Any, Any]] = {}
        for key, text in rows.items():
            try:
                data = json.loads(text)
            except ValueError:
                log.warning("dropping unreadable user_data of user %s", key)
                continue
            if isinstance(data, dict):
                loaded[int(key)] = data
                self._written[(USER_DATA, key)] = text
        return loaded

    async def get_chat_data(self) -> dict[int, dict[Any, Any]]:
        """Chat data is not persisted."""
        return {}

    async def get_bot_data(self) -> BotData:
        """Bot data is not persisted (it holds live resources)."""
        return BotData()

    async def get_callback_data(self) -> CDCData | None:
        """Callback data is not persisted (payloads are self-describing)."""
        return None

    async def get_conversations(self, name: str) -> ConversationDict:
        """Load the stored states of the conversation called ``name``."""
        kind = _conversation_kind(name)
        rows = await ptb_state.load_all(await self._database(), kind)
        conversations: ConversationDict = {}
        for key, text in rows.items():
            try:
                conversations[tuple(json.loads(key))] = json.loads(text)
            except (ValueError, TypeError):
                log.warning("dropping unreadable state of conversation %s %s", name, key)
                continue
            self._written[(kind, key)] = text
        return conversations

    async def update_conversation(
        self, name: str, key: ConversationKey, new_state: object | None
    ) -> None:
        """Store one conversation's new state (None ends it)."""
        kind = _conversation_kind(name)
        row_key = _dump(list(key), "a conversation key")
        if new_state is None:
            await self._delete(kind, row_key)
        else:
            await self._save(kind, row_key, _dump(new_state, f"the state of {name}"))

    async def update_user_data(self, user_id: int, data: dict[Any, Any]) -> None:
        """Store one user's ``user_data`` (an empty dict removes the row)."""
        key = str(user_id)
        if not data:
            if (USER_DATA, key) in self._written:
                await self._delete(USER_DATA, key)
            return
        await self._save(USER_DATA, key, _dump(data, f"user_data of user {user_id}"))

    async def update_chat_data(self, chat_id: int, data: dict[Any, Any]) -> None:
        """Chat data is not persisted."""

    async def update_bot_data(self, data: BotData) -> None:
        """Bot data is not persisted."""

    async def update_callback_data(self, data: CDCData) -> None:
        """Callback data is not persisted."""

    async def drop_chat_data(self, chat_id: int) -> None:
        """Chat data is not persisted."""

    async def drop_user_data(self, user_id: int) -> None:
        """Forget one user's stored ``user_data``."""
        await self._delete(USER_DATA, str(user_id))

    async def refresh_user_data(self, user_id: int, user_data: dict[Any, Any]) -> None:
        """Nothing to refresh: the running application holds the latest ``user_data``."""

    async def refresh_chat_data(self, chat_id: int, chat_data: dict[Any, Any]) -> None:
        """Chat data is not persisted."""

    async def refresh_bot_data(self, bot_data: BotData) -> None:
        """Bot data is not persisted."""

    async def flush(self) -> None:
        """Close the connection; PTB has already written the latest data when it calls this."""
        async with self._opening:
            if self._db is not None:
                await self._db.close()
                self._db = None
