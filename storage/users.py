"""Queries for the ``users`` table; every user read comes back as a ``User``."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from storage.db import Database, now_text, parse_time

_COLUMNS = "user_id, chat_id, username, first_name, is_blocked, created_at, language"


@dataclass(frozen=True, slots=True)
class User:
    """A customer of the shop, as Telegram last introduced them."""

    user_id: int
    chat_id: int
    username: str | None
    first_name: str
    is_blocked: bool
    created_at: datetime
    # The language they read (an IETF code); None: not chosen (English).
    language: str | None = None


def user_from_row(row: sqlite3.Row) -> User:
    """Build a ``User`` from a row read with ``_COLUMNS``."""
    user_id, chat_id, username, first_name, is_blocked, created_at, language = row
    return User(
        user_id=int(user_id),
        chat_id=int(chat_id),
        username=None if username is None else str(username),
        first_name=str(first_name),
        is_blocked=bool(is_blocked),
        created_at=parse_time(str(created_at)),
        language=None if language is None else str(language),
    )


async def get(db: Database, user_id: int) -> User | None:
    """One user, or None."""
    row = await db.fetch_one(f"SELECT {_COLUMNS} FROM users WHERE user_id = ?", (user_id,))
    return None if row is None else user_from_row(row)


async def get_by_username(db: Database, username: str) -> User | None:
    """The user with this @username (any case), or None."""
    row = await db.fetch_one(
        f"SELECT {_COLUMNS} FROM users WHERE username = ? COLLATE NOCASE"
        " ORDER BY updated_at DESC LIMIT 1",
        (username,),
    )
    return None if row is None else user_from_row(row)


async def upsert(
    db: Database,
    *,
    user_id: int,
    chat_id: int,
    username: str | None,
    first_name: str,
    language: str | None = None,
) -> tuple[User, bool]:
    """Insert the user or refresh their chat and names; say whether the row is new.

    ``language`` (Telegram's, resolved) is kept only while the user has none stored: a
    language once chosen stays until they choose another.
    """
    known = await get(db, user_id)
    fresh = (chat_id, username, first_name)
    if (
        known is not None
        and (known.chat_id, known.username, known.first_name) == fresh
        and (known.language is not None or language is None)
    ):
        # Nearly every update comes from a known user whose names did not change: one read
        # instead of a write transaction (five round trips to the database thread).
        return known, False
    now = now_text()
    async with db.transaction():
        created = await get(db, user_id) is None
        await db.conn.execute(
            "INSERT INTO users"
            " (user_id, chat_id, username, first_name, created_at, updated_at, language)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (user_id) DO UPDATE SET chat_id = excluded.chat_id,"
            " username = excluded.username, first_name = excluded.first_name,"
            " updated_at = excluded.updated_at,"
            " language = COALESCE(users.language, excluded.language)",
            (user_id, chat_id, username, first_name, now, now, language),
        )
        user = await get(db, user_id)
    if user is None:  # pragma: no cover - the row was written just above
        raise RuntimeError(f"user {user_id} vanished after being saved")
    return user, created


async def set_blocked(db: Database, user_id: int, blocked: bool) -> bool:
    """Block or unblock a user; False when there is no such user."""
    async with (
        db.transaction(),
        db.conn.execute(
            "UPDATE users SET is_blocked = ?, updated_at = ? WHERE user_id = ?",
            (int(blocked), now_text(), user_id),
        ) as cursor,
    ):
        return cursor.rowcount > 0


async def languages_for_chats(db: Database, chat_ids: Iterable[int]) -> dict[int, str]:
    """The language each chat's user chose, by chat ID (chats without one are left out)."""
    wanted = sorted(set(chat_ids))
    if not wanted:
        return {}
    found: dict[int, str] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        rows = await db.fetch_all(
            "SELECT chat_id, language FROM users WHERE language IS NOT NULL"
            f" AND chat_id IN ({', '.join('?' for _ in chunk)})",
            chunk,
        )
        found.update({int(row[0]): str(row[1]) for row in rows})
    return found


async def set_language(db: Database, user_id: int, language: str | None) -> bool:
    """Remember the language a user reads; False when there is no such user."""
    async with (
        db.transaction(),
        db.conn.execute(
            "UPDATE users SET language = ? WHERE user_id = ?", (language, user_id)
        ) as cursor,
    ):
        return cursor.rowcount > 0
