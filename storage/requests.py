"""Queries for refill and cancel requests (the ``refills`` and ``cancels`` tables).

Both tables have the same columns; ``kind`` ("refill" or "cancel") picks the table.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from storage.db import Database, now_text

_TABLES = {"refill": "refills", "cancel": "cancels"}
_COLUMNS = "id, order_id, panel, panel_request_id, status, error, created_at, updated_at"


def _table(kind: str) -> str:
    try:
        return _TABLES[kind]
    except KeyError:
        raise ValueError(f"a request is a refill or a cancel, not {kind!r}") from None


async def insert(
    db: Database,
    kind: str,
    *,
    order_id: int,
    panel: str,
    status: str,
    panel_request_id: str | None = None,
    error: str | None = None,
) -> int:
    """Record a new request and return its ID."""
    now = now_text()
    async with (
        db.transaction(),
        db.conn.execute(
            f"INSERT INTO {_table(kind)} (order_id, panel, panel_request_id, status, error,"
            " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (order_id, panel, panel_request_id, status, error, now, now),
        ) as cursor,
    ):
        request_id = cursor.lastrowid
    if request_id is None:  # pragma: no cover - sqlite always reports the new rowid
        raise RuntimeError("the request row has no id")
    return request_id


async def update(
    db: Database,
    kind: str,
    request_id: int,
    *,
    status: str,
    panel_request_id: str | None = None,
    error: str | None = None,
) -> None:
    """Change a request's status; None leaves the panel's ID and the error as they were."""
    async with db.transaction():
        await db.conn.execute(
            f"UPDATE {_table(kind)} SET status = ?,"
            " panel_request_id = COALESCE(?, panel_request_id), error = COALESCE(?, error),"
            " updated_at = ? WHERE id = ?",
            (status, panel_request_id, error, now_text(), request_id),
        )


async def get(db: Database, kind: str, request_id: int) -> sqlite3.Row | None:
    """One request, or None."""
    return await db.fetch_one(f"SELECT {_COLUMNS} FROM {_table(kind)} WHERE id = ?", (request_id,))


async def for_order(db: Database, kind: str, order_id: int) -> list[sqlite3.Row]:
    """An order's requests of one kind, oldest first."""
    return await db.fetch_all(
        f"SELECT {_COLUMNS} FROM {_table(kind)} WHERE order_id = ? ORDER BY id", (order_id,)
    )


async def latest_with_status(
    db: Database, kind: str, order_id: int, statuses: Sequence[str], *, since: str | None = None
) -> sqlite3.Row | None:
    """The order's newest request of ``kind`` in one of ``statuses`` (created after
    ``since`` when given), or None."""
    marks = ", ".join("?" for _ in statuses)
    params: list[object] = [order_id, *statuses]
    where = f"order_id = ? AND status IN ({marks})"
    if since is not None:
        where += " AND created_at >= ?"
        params.append(since)
    return await db.fetch_one(
        f"SELECT {_COLUMNS} FROM {_table(kind)} WHERE {where} ORDER BY id DESC LIMIT 1", params
    )


async def with_status_on_panel(
    db: Database, kind: str, panel: str, statuses: Sequence[str]
) -> list[sqlite3.Row]:
    """A panel's requests of ``kind`` that carry the panel's ID and are in ``statuses``."""
    marks = ", ".join("?" for _ in statuses)
    return await db.fetch_all(
        f"SELECT {_COLUMNS} FROM {_table(kind)} WHERE panel = ? AND status IN ({marks})"
        " AND panel_request_id IS NOT NULL ORDER BY id",
        [panel, *statuses],
    )


async def orders_with_cancel(db: Database, order_ids: Sequence[int], excluding: str) -> set[int]:
    """Which of these orders have a cancel request not in status ``excluding``."""
    if not order_ids:
        return set()
    marks = ", ".join("?" * len(order_ids))
    rows = await db.fetch_all(
        f"SELECT DISTINCT order_id FROM cancels WHERE order_id IN ({marks}) AND status != ?",
        (*order_ids, excluding),
    )
    return {int(row["order_id"]) for row in rows}
