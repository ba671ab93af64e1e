"""Queries for refill and cancel requests: one ``panel_requests`` table with a ``kind``.

Every request read comes back as a ``ServiceRequest``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from storage.db import Database, now_text, parse_time

_COLUMNS = "id, order_id, kind, panel_request_id, status, error, created_at, updated_at"


class RequestKind(StrEnum):
    """What a request asks of the panel."""

    REFILL = "refill"
    CANCEL = "cancel"


class RequestState(StrEnum):
    """Where a request stands: ours while it is sent, then the panel's word."""

    SENDING = "sending"
    # Taken by a panel that gives no ID or no way to ask about it later.
    ACCEPTED = "accepted"
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    REJECTED = "rejected"
    CANCELED = "canceled"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class ServiceRequest:
    """A refill or a cancel asked of the panel, and where it stands."""

    request_id: int
    order_id: int
    kind: RequestKind
    panel_request_id: str | None
    status: str
    error: str | None
    created_at: datetime
    updated_at: datetime


def request_from_row(row: sqlite3.Row) -> ServiceRequest:
    """Build a ``ServiceRequest`` from a row read with ``_COLUMNS``."""
    request_id, order_id, kind, panel_request_id, status, error, created, updated = row
    return ServiceRequest(
        request_id=int(request_id),
        order_id=int(order_id),
        kind=RequestKind(kind),
        panel_request_id=None if panel_request_id is None else str(panel_request_id),
        status=str(status),
        error=None if error is None else str(error),
        created_at=parse_time(str(created)),
        updated_at=parse_time(str(updated)),
    )


async def insert(
    db: Database,
    kind: RequestKind,
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
            "INSERT INTO panel_requests (kind, order_id, panel, panel_request_id, status, error,"
            " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (kind.value, order_id, panel, panel_request_id, status, error, now, now),
        ) as cursor,
    ):
        request_id = cursor.lastrowid
    if request_id is None:  # pragma: no cover - sqlite always reports the new rowid
        raise RuntimeError("the request row has no id")
    return request_id


async def update(
    db: Database,
    request_id: int,
    *,
    status: str,
    panel_request_id: str | None = None,
    error: str | None = None,
) -> None:
    """Change a request's status; None leaves the panel's ID and the error as they were."""
    async with db.transaction():
        await db.conn.execute(
            "UPDATE panel_requests SET status = ?,"
            " panel_request_id = COALESCE(?, panel_request_id), error = COALESCE(?, error),"
            " updated_at = ? WHERE id = ?",
            (status, panel_request_id, error, now_text(), request_id),
        )


async def get(db: Database, request_id: int) -> ServiceRequest | None:
    """One request, or None."""
    row = await db.fetch_one(f"SELECT {_COLUMNS} FROM panel_requests WHERE id = ?", (request_id,))
    return None if row is None else request_from_row(row)


async def for_order(db: Database, order_id: int) -> list[ServiceRequest]:
    """An order's requests of every kind, oldest first."""
    rows = await db.fetch_all(
        f"SELECT {_COLUMNS} FROM panel_requests WHERE order_id = ? ORDER BY created_at, kind, id",
        (order_id,),
    )
    return [request_from_row(row) for row in rows]


async def latest_with_status(
    db: Database,
    kind: RequestKind,
    order_id: int,
    statuses: Sequence[str],
    *,
    since: str | None = None,
) -> ServiceRequest | None:
    """The order's newest request of ``kind`` in one of ``statuses`` (created after
    ``since`` when given), or None."""
    marks = ", ".join("?" for _ in statuses)
    params: list[object] = [order_id, kind.value, *statuses]
    where = f"order_id = ? AND kind = ? AND status IN ({marks})"
    if since is not None:
        where += " AND created_at >= ?"
        params.append(since)
    row = await db.fetch_one(
        f"SELECT {_COLUMNS} FROM panel_requests WHERE {where} ORDER BY id DESC LIMIT 1", params
    )
    return None if row is None else request_from_row(row)


async def with_status_on_panel(
    db: Database, kind: RequestKind, panel: str, statuses: Sequence[str]
) -> list[ServiceRequest]:
    """A panel's requests of ``kind`` that carry the panel's ID and are in ``statuses``."""
    marks = ", ".join("?" for _ in statuses)
    rows = await db.fetch_all(
        f"SELECT {_COLUMNS} FROM panel_requests WHERE panel = ? AND kind = ?"
        f" AND status IN ({marks}) AND panel_request_id IS NOT NULL ORDER BY id",
        [panel, kind.value, *statuses],
    )
    return [request_from_row(row) for row in rows]


async def orders_with_cancel(db: Database, order_ids: Sequence[int], excluding: str) -> set[int]:
    """Which of these orders have a cancel request not in status ``excluding``."""
    if not order_ids:
        return set()
    marks = ", ".join("?" * len(order_ids))
    rows = await db.fetch_all(
        "SELECT DISTINCT order_id FROM panel_requests"
        f" WHERE kind = 'cancel' AND order_id IN ({marks}) AND status != ?",
        (*order_ids, excluding),
    )
    return {int(row[0]) for row in rows}
