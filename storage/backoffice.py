"""Queries for the owner's back office: per-panel catalog and order figures."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from storage.db import Database


@dataclass(frozen=True, slots=True)
class PanelCatalogFigures:
    """How much of a panel's catalog is on sale and when it was last written."""

    on_sale: int
    listed: int
    synced_at: str | None


@dataclass(frozen=True, slots=True)
class PanelOrderFigures:
    """How many of a panel's orders are still running and how many wait for an admin."""

    active: int
    held: int


async def catalog_figures(db: Database) -> dict[str, PanelCatalogFigures]:
    """Every panel's services on sale, services listed and last sync time, by panel."""
    rows = await db.fetch_all(
        "SELECT panel, SUM(available = 1), COUNT(*), MAX(synced_at) FROM services GROUP BY panel"
    )
    return {
        str(row[0]): PanelCatalogFigures(
            on_sale=int(row[1] or 0),
            listed=int(row[2]),
            synced_at=None if row[3] is None else str(row[3]),
        )
        for row in rows
    }


async def order_figures(
    db: Database,
    *,
    active_statuses: Sequence[str],
    held_status: str,
    stale_status: str,
    stale_before: str,
) -> dict[str, PanelOrderFigures]:
    """Per panel: orders in ``active_statuses``, and orders held for review (in
    ``held_status``, or still in ``stale_status`` since before ``stale_before``)."""
    active_marks = ", ".join("?" for _ in active_statuses)
    wanted = [*active_statuses, held_status, stale_status]
    wanted_marks = ", ".join("?" for _ in wanted)
    rows = await db.fetch_all(
        f"SELECT panel, SUM(status IN ({active_marks})),"
        " SUM(status = ? OR (status = ? AND updated_at < ?))"
        f" FROM orders WHERE status IN ({wanted_marks}) GROUP BY panel",
        [*active_statuses, held_status, stale_status, stale_before, *wanted],
    )
    return {
        str(row[0]): PanelOrderFigures(active=int(row[1] or 0), held=int(row[2] or 0))
        for row in rows
    }


async def costs_since(
    db: Database, since: str, *, except_statuses: Sequence[str]
) -> dict[str, Decimal]:
    """Per panel, the total cost of orders created at or after ``since``, leaving out
    orders in ``except_statuses`` (summed as Decimals here, never as floats in SQL)."""
    where = "created_at >= ?"
    if except_statuses:
        where += f" AND status NOT IN ({', '.join('?' for _ in except_statuses)})"
    rows = await db.fetch_all(
        f"SELECT panel, cost FROM orders WHERE {where}", [since, *except_statuses]
    )
    totals: dict[str, Decimal] = {}
    for row in rows:
        panel = str(row[0])
        totals[panel] = totals.get(panel, Decimal(0)) + Decimal(row[1])
    return totals
