"""Queries for python-telegram-bot's persistence: opaque text blobs by (kind, key)."""

from __future__ import annotations

from storage.db import Database


async def load_all(db: Database, kind: str) -> dict[str, str]:
    """Every stored blob of one kind, by key."""
    rows = await db.fetch_all("SELECT key, data FROM ptb_state WHERE kind = ?", (kind,))
    return {str(row["key"]): str(row["data"]) for row in rows}


async def save(db: Database, kind: str, key: str, data: str) -> None:
    """Store (or replace) one blob."""
    async with db.transaction():
        await db.conn.execute(
            "INSERT INTO ptb_state (kind, key, data) VALUES (?, ?, ?)"
            " ON CONFLICT (kind, key) DO UPDATE SET data = excluded.data",
            (kind, key, data),
        )


async def delete(db: Database, kind: str, key: str) -> None:
    """Forget one blob (nothing happens when it is not there)."""
    async with db.transaction():
        await db.conn.execute("DELETE FROM ptb_state WHERE kind = ? AND key = ?", (kind, key))
