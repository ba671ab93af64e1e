"""Customers: registration on first contact, lookup by ID or @username, blocking."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from bot.input_rules import InputError, user_ref
from storage import users as user_rows
from storage.db import Database, parse_time


@dataclass(frozen=True, slots=True)
class User:
    """A customer of the shop, as Telegram last introduced them."""

    user_id: int
    chat_id: int
    username: str | None
    first_name: str
    is_blocked: bool
    created_at: datetime


def _user(row: sqlite3.Row) -> User:
    return User(
        user_id=int(row["user_id"]),
        chat_id=int(row["chat_id"]),
        username=None if row["username"] is None else str(row["username"]),
        first_name=str(row["first_name"]),
        is_blocked=bool(row["is_blocked"]),
        created_at=parse_time(row["created_at"]),
    )


async def register_user(
    db: Database, *, user_id: int, chat_id: int, username: str | None, first_name: str
) -> tuple[User, bool]:
    """Save the user (or refresh their chat and names); say whether they are new."""
    username = (username or "").strip().lstrip("@") or None
    row, created = await user_rows.upsert(
        db, user_id=user_id, chat_id=chat_id, username=username, first_name=first_name
    )
    return _user(row), created


async def get_user(db: Database, user_id: int) -> User | None:
    """The user with this Telegram ID, or None."""
    row = await user_rows.get(db, user_id)
    return None if row is None else _user(row)


async def find_user(db: Database, ref: int | str) -> User | None:
    """Find a user by Telegram ID or username ("name", "@name" or a t.me link)."""
    if isinstance(ref, int):
        return await get_user(db, ref)
    try:
        found = user_ref(ref)
    except InputError:
        return None
    if isinstance(found, int):
        return await get_user(db, found)
    row = await user_rows.get_by_username(db, found)
    return None if row is None else _user(row)


async def set_blocked(db: Database, user_id: int, blocked: bool) -> None:
    """Block or unblock a user; raises ``LookupError`` when there is no such user."""
    if not await user_rows.set_blocked(db, user_id, blocked):
        raise LookupError(f"there is no user {user_id}")
