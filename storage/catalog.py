"""Queries for the panels' catalogs: categories and services."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from storage.db import Database


@dataclass(frozen=True, slots=True)
class CategoryRow:
    """A category as one sync writes it."""

    name: str
    platform: str
    position: int


@dataclass(frozen=True, slots=True)
class ServiceRow:
    """A service as one sync writes it (money already as Decimal text)."""

    service_id: str
    category: str
    name: str
    type_name: str
    order_type: str | None
    rate: str
    price_rate: str
    min_quantity: int
    max_quantity: int
    refill: bool
    cancel: bool
    dripfeed: bool
    description: str
    raw: str
    dripfeed_flagged: bool
    platform: str
    search_text: str
    position: int
    available: bool


@dataclass(frozen=True, slots=True)
class StoredService:
    """A catalog service as stored: the panel's data, our number, platform and price rate."""

    item_id: int
    panel: str
    service_id: str
    category_id: int
    name: str
    type_name: str
    order_type: str | None
    rate: Decimal
    price_rate: Decimal
    min_quantity: int
    max_quantity: int
    refill: bool
    cancel: bool
    dripfeed: bool
    dripfeed_flagged: bool
    description: str
    platform: str
    available: bool
    category: str


@dataclass(frozen=True, slots=True)
class StoredCategory:
    """A category on sale with the number of its services on sale."""

    category_id: int
    platform: str
    name: str
    service_count: int


# The one list of the columns a service is read with, in ``StoredService``'s order.
_ITEM_COLUMNS = (
    "s.item_id, s.panel, s.service_id, s.category_id, s.name, s.type_name, s.order_type,"
    " s.rate, s.price_rate, s.min_quantity, s.max_quantity, s.refill, s.cancel, s.dripfeed,"
    " s.dripfeed_flagged, s.description, s.platform, s.available, c.name AS category"
)


def _service(row: sqlite3.Row) -> StoredService:
    """Build a ``StoredService`` from a row read with ``_ITEM_COLUMNS`` (by position)."""
    (
        item_id,
        panel,
        service_id,
        category_id,
        name,
        type_name,
        order_type,
        rate,
        price_rate,
        min_quantity,
        max_quantity,
        refill,
        cancel,
        dripfeed,
        dripfeed_flagged,
        description,
        platform,
        available,
        category,
    ) = row
    return StoredService(
        item_id=int(item_id),
        panel=str(panel),
        service_id=str(service_id),
        category_id=int(category_id),
        name=str(name),
        type_name=str(type_name),
        order_type=None if order_type is None else str(order_type),
        rate=Decimal(rate),
        price_rate=Decimal(price_rate),
        min_quantity=int(min_quantity),
        max_quantity=int(max_quantity),
        refill=bool(refill),
        cancel=bool(cancel),
        dripfeed=bool(dripfeed),
        dripfeed_flagged=bool(dripfeed_flagged),
        description=str(description),
        platform=str(platform),
        available=bool(available),
        category=str(category),
    )


def _category(row: sqlite3.Row) -> StoredCategory:
    """Build a ``StoredCategory`` from a row read with ``_CATEGORY_SELECT`` (by position)."""
    category_id, platform, name, service_count = row
    return StoredCategory(int(category_id), str(platform), str(name), int(service_count))


_ITEMS_FROM = "FROM services s JOIN categories c ON c.category_id = s.category_id"
_ITEM_ORDER = "ORDER BY s.panel, c.position, s.position, s.item_id"


async def replace_panel_catalog(
    db: Database,
    panel: str,
    categories: Sequence[CategoryRow],
    services: Sequence[ServiceRow],
    synced_at: str,
) -> None:
    """Write one panel's fresh catalog; what it no longer lists becomes unavailable."""
    conn = db.conn
    async with db.transaction():
        await conn.executemany(
            "INSERT INTO categories (panel, name, platform, position, available, synced_at)"
            " VALUES (?, ?, ?, ?, 1, ?)"
            " ON CONFLICT (panel, name) DO UPDATE SET platform = excluded.platform,"
            " position = excluded.position, available = 1, synced_at = excluded.synced_at",
            [(panel, c.name, c.platform, c.position, synced_at) for c in categories],
        )
        rows = await db.fetch_all(
            "SELECT category_id, name FROM categories WHERE panel = ?", (panel,)
        )
        category_ids = {str(row["name"]): int(row["category_id"]) for row in rows}
        await conn.executemany(
            "INSERT INTO services (panel, service_id, category_id, name, type_name, order_type,"
            " rate, price_rate, min_quantity, max_quantity, refill, cancel, dripfeed,"
            " description, raw, platform, search_text, position, available, synced_at,"
            " dripfeed_flagged)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (panel, service_id) DO UPDATE SET"
            " category_id = excluded.category_id, name = excluded.name,"
            " type_name = excluded.type_name, order_type = excluded.order_type,"
            " rate = excluded.rate, price_rate = excluded.price_rate,"
            " min_quantity = excluded.min_quantity, max_quantity = excluded.max_quantity,"
            " refill = excluded.refill, cancel = excluded.cancel,"
            " dripfeed = excluded.dripfeed, description = excluded.description,"
            " raw = excluded.raw, platform = excluded.platform,"
            " search_text = excluded.search_text, position = excluded.position,"
            " available = excluded.available, synced_at = excluded.synced_at,"
            " dripfeed_flagged = excluded.dripfeed_flagged",
            [
                (
                    panel,
                    s.service_id,
                    category_ids[s.category],
                    s.name,
                    s.type_name,
                    s.order_type,
                    s.rate,
                    s.price_rate,
                    s.min_quantity,
                    s.max_quantity,
                    int(s.refill),
                    int(s.cancel),
                    int(s.dripfeed),
                    s.description,
                    s.raw,
                    s.platform,
                    s.search_text,
                    s.position,
                    int(s.available),
                    synced_at,
                    int(s.dripfeed_flagged),
                )
                for s in services
            ],
        )
        await conn.execute(
            "UPDATE services SET available = 0 WHERE panel = ? AND synced_at <> ?",
            (panel, synced_at),
        )
        await conn.execute(
            "UPDATE categories SET available = 0 WHERE panel = ? AND synced_at <> ?",
            (panel, synced_at),
        )


async def platforms(db: Database) -> list[tuple[str, int]]:
    """Each platform with available services, and how many."""
    rows = await db.fetch_all(
        "SELECT platform, COUNT(*) FROM services WHERE available = 1 GROUP BY platform"
    )
    return [(str(row[0]), int(row[1])) for row in rows]


_CATEGORY_SELECT = (
    "SELECT c.category_id, c.platform, c.name, COUNT(s.item_id) AS service_count"
    " FROM categories c JOIN services s ON s.category_id = c.category_id AND s.available = 1"
    " WHERE c.available = 1"
)


async def count_categories(db: Database, platform: str) -> int:
    """How many categories of a platform have available services."""
    rows = await db.fetch_all(
        "SELECT COUNT(DISTINCT c.category_id) FROM categories c"
        " JOIN services s ON s.category_id = c.category_id AND s.available = 1"
        " WHERE c.available = 1 AND c.platform = ?",
        (platform,),
    )
    return int(next(iter(rows))[0])


async def categories(db: Database, platform: str, offset: int, limit: int) -> list[StoredCategory]:
    """One page of a platform's categories, in the panels' own order."""
    rows = await db.fetch_all(
        f"{_CATEGORY_SELECT} AND c.platform = ? GROUP BY c.category_id"
        " ORDER BY c.panel, c.position, c.category_id LIMIT ? OFFSET ?",
        (platform, limit, offset),
    )
    return [_category(row) for row in rows]


async def category(db: Database, category_id: int) -> StoredCategory | None:
    """One available category with its count of available services, or None."""
    rows = await db.fetch_all(
        f"{_CATEGORY_SELECT} AND c.category_id = ? GROUP BY c.category_id", (category_id,)
    )
    return next((_category(row) for row in rows), None)


async def count_services(db: Database, category_id: int) -> int:
    """How many available services a category holds."""
    rows = await db.fetch_all(
        "SELECT COUNT(*) FROM services WHERE category_id = ? AND available = 1", (category_id,)
    )
    return int(next(iter(rows))[0])


async def services(db: Database, category_id: int, offset: int, limit: int) -> list[StoredService]:
    """One page of a category's available services, in the panel's own order."""
    rows = await db.fetch_all(
        f"SELECT {_ITEM_COLUMNS} {_ITEMS_FROM}"
        f" WHERE s.category_id = ? AND s.available = 1 {_ITEM_ORDER} LIMIT ? OFFSET ?",
        (category_id, limit, offset),
    )
    return [_service(row) for row in rows]


def _search_filter(words: Sequence[str], number: str | None) -> tuple[str, list[object]]:
    if number is not None:
        # Our item numbers fit in 64 bits; a longer number can only be a panel's ID.
        item_id = int(number) if len(number) <= 18 else -1
        return "(s.service_id = ? OR s.item_id = ?)", [number, item_id]
    # instr() rather than LIKE: the words are matched literally, "%" and "_" included.
    clauses = " AND ".join("instr(s.search_text, ?) > 0" for _ in words)
    return f"({clauses})", list(words)


async def count_search(db: Database, words: Sequence[str], number: str | None) -> int:
    """How many available services match every word (or the number)."""
    where, params = _search_filter(words, number)
    rows = await db.fetch_all(
        f"SELECT COUNT(*) FROM services s WHERE s.available = 1 AND {where}", params
    )
    return int(next(iter(rows))[0])


async def search(
    db: Database, words: Sequence[str], number: str | None, offset: int, limit: int
) -> list[StoredService]:
    """One page of available services matching every word (or the number)."""
    where, params = _search_filter(words, number)
    rows = await db.fetch_all(
        f"SELECT {_ITEM_COLUMNS} {_ITEMS_FROM} WHERE s.available = 1 AND {where}"
        f" {_ITEM_ORDER} LIMIT ? OFFSET ?",
        [*params, limit, offset],
    )
    return [_service(row) for row in rows]


async def item(db: Database, item_id: int) -> StoredService | None:
    """One catalog service (available or not), or None."""
    rows = await db.fetch_all(
        f"SELECT {_ITEM_COLUMNS} {_ITEMS_FROM} WHERE s.item_id = ?", (item_id,)
    )
    return next((_service(row) for row in rows), None)


async def panel_service_count(db: Database, panel: str) -> int:
    """How many available services a panel has in the catalog."""
    rows = await db.fetch_all(
        "SELECT COUNT(*) FROM services WHERE panel = ? AND available = 1", (panel,)
    )
    return int(next(iter(rows))[0])


async def retire_other_panels(db: Database, keep: Sequence[str]) -> int:
    """Take every service of a panel not in ``keep`` off sale; return how many left.

    The rows stay (old orders point at them), so a panel configured again comes back on
    sale with its next sync.
    """
    other = f"panel NOT IN ({', '.join('?' for _ in keep)})" if keep else "1"
    async with db.transaction():
        cursor = await db.conn.execute(
            f"UPDATE services SET available = 0 WHERE available = 1 AND {other}", tuple(keep)
        )
        await db.conn.execute(
            f"UPDATE categories SET available = 0 WHERE available = 1 AND {other}", tuple(keep)
        )
    return max(cursor.rowcount, 0)
