"""Customers: registration on first contact, lookup by ID or @username, blocking."""

from __future__ import annotations

from bot.input_rules import InputError, user_ref
from storage import users as user_rows
from storage.db import Database
from storage.users import User


async def register_user(
    db: Database,
    *,
    user_id: int,
    chat_id: int,
    username: str | None,
    first_name: str,
    language: str | None = None,
) -> tuple[User, bool]:
    """Save the user (or refresh their chat and names); say whether they are new.

    ``language``: the one their Telegram speaks, stored until they choose one themselves.
    """
    username = (username or "").strip().lstrip("@") or None
    return await user_rows.upsert(
        db,
        user_id=user_id,
        chat_id=chat_id,
        username=username,
        first_name=first_name,
        language=language,
    )


async def choose_language(db: Database, user_id: int, language: str) -> bool:
    """Remember the language a user chose to read; False when there is no such user."""
    return await user_rows.set_language(db, user_id, language)


async def get_user(db: Database, user_id: int) -> User | None:
    """The user with this Telegram ID, or None."""
    return await user_rows.get(db, user_id)


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
    return await user_rows.get_by_username(db, found)


async def set_blocked(db: Database, user_id: int, blocked: bool) -> None:
    """Block or unblock a user; raises ``LookupError`` when there is no such user."""
    if not await user_rows.set_blocked(db, user_id, blocked):
        raise LookupError(f"there is no user {user_id}")
