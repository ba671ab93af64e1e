"""The SQLite connection: WAL, foreign keys, numbered migrations and transactions.

One ``Database`` holds one aiosqlite connection for the whole application. Every write goes
inside ``async with db.transaction():`` (BEGIN IMMEDIATE … COMMIT, or ROLLBACK when the block
raises); reads go through ``db.fetch_all``/``db.fetch_one``, which wait while another task's
transaction is open so they never see its uncommitted rows (the connection is shared).
Transactions from different tasks take turns; one opened inside another in the same task
becomes a savepoint, so query functions can open their own and still be composed.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import aiosqlite

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5000
_MIGRATION_NAME = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    """One numbered schema change shipped in ``storage/migrations``."""

    version: int
    name: str
    sql: str


def bundled_migrations() -> list[Migration]:
    """Read the migrations shipped with the package, in version order."""
    folder: Traversable
    try:
        folder = resources.files("storage").joinpath("migrations")
    except (NotADirectoryError, TypeError):
        # A stale editable install can map ``storage`` as a namespace package, which
        # importlib.resources cannot read; the files sit beside this module either way.
        folder = Path(__file__).with_name("migrations")
    found: list[Migration] = []
    for entry in folder.iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match is None:
            continue
        found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(versions) != len(set(versions)):
        raise RuntimeError(f"two migrations share a version number: {versions}")
    return found


def now_text() -> str:
    """The current UTC time as stored in the database."""
    return time_text(datetime.now(UTC))


def time_text(moment: datetime) -> str:
    """Format an aware datetime the one way the database stores times (sortable as text)."""
    if moment.tzinfo is None:
        raise ValueError("naive datetimes are not stored: give a timezone-aware UTC time")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


def parse_time(text: str) -> datetime:
    """Read a stored time back as an aware UTC datetime."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def money_text(amount: Decimal) -> str:
    """Store money as the Decimal's own text, refusing anything that is not a finite Decimal."""
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise TypeError(f"money must be a finite Decimal, not {amount!r}")
    return str(amount)


def parse_money(text: str | None) -> Decimal | None:
    """Read stored money back as a Decimal (None stays None)."""
    return None if text is None else Decimal(text)


class Database:
    """An open database; ``conn`` is the aiosqlite connection."""

    def __init__(self, conn: aiosqlite.Connection, path: str) -> None:
        self.conn = conn
        self.path = path
        self._lock = asyncio.Lock()
        self._owner: asyncio.Task[object] | None = None
        self._depth = 0

    def __repr__(self) -> str:
        return f"Database({self.path!r})"

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """Run the block in one transaction: commit when it ends, roll back when it raises."""
        task = asyncio.current_task()
        if self._owner is not None and self._owner is task:
            async with self._savepoint():
                yield
            return
        async with self._lock:
            self._owner = task
            try:
                await self.conn.execute("BEGIN IMMEDIATE")
                try:
                    yield
                except BaseException:
                    await self._rollback()
                    raise
                try:
                    await self.conn.execute("COMMIT")
                except BaseException:
                    await self._rollback()
                    raise
            finally:
                self._owner = None

    @asynccontextmanager
    async def _savepoint(self) -> AsyncIterator[None]:
        self._depth += 1
        name = f"nested_{self._depth}"
        try:
            await self.conn.execute(f"SAVEPOINT {name}")
            try:
                yield
            except BaseException:
                await self.conn.execute(f"ROLLBACK TO {name}")
                await self.conn.execute(f"RELEASE {name}")
                raise
            await self.conn.execute(f"RELEASE {name}")
        finally:
            self._depth -= 1

    async def fetch_all(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        """Run a read and return its rows, never seeing another task's uncommitted writes."""
        if self._owner is None or self._owner is asyncio.current_task():
            # Nothing is pending from another task; the query is queued before any BEGIN.
            return list(await self.conn.execute_fetchall(sql, params))
        async with self._lock:
            return list(await self.conn.execute_fetchall(sql, params))

    async def fetch_one(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Row | None:
        """Run a read and return its first row, or None."""
        rows = await self.fetch_all(sql, params)
        return rows[0] if rows else None

    async def _rollback(self) -> None:
        if self.conn.in_transaction:
            await self.conn.execute("ROLLBACK")

    async def schema_version(self) -> int:
        """The highest migration applied (0 for an empty database)."""
        row = await self.fetch_one("SELECT MAX(version) FROM schema_migrations")
        value = None if row is None else row[0]
        return int(value) if value is not None else 0

    async def applied_migrations(self) -> list[tuple[int, str]]:
        """Every migration applied, as (version, name), oldest first."""
        rows = await self.fetch_all("SELECT version, name FROM schema_migrations ORDER BY version")
        return [(int(row[0]), str(row[1])) for row in rows]

    async def close(self) -> None:
        """Close the connection (checkpointing the WAL)."""
        await self.conn.close()


async def open_database(
    path: str | Path, *, migrations: list[Migration] | None = None
) -> Database:
    """Open (creating it if needed) the database at ``path`` and bring its schema up to date."""
    location = str(path)
    if location != ":memory:" and not location.startswith("file:"):
        Path(location).parent.mkdir(parents=True, exist_ok=True)
    # isolation_level=None: we issue BEGIN/COMMIT ourselves, sqlite3 adds none of its own.
    conn = await aiosqlite.connect(location, isolation_level=None)
    try:
        conn.row_factory = aiosqlite.Row
        await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        await conn.execute("PRAGMA foreign_keys = ON")
        await conn.execute("PRAGMA journal_mode = WAL")
        await conn.execute("PRAGMA synchronous = NORMAL")
        db = Database(conn, location)
        await _migrate(db, bundled_migrations() if migrations is None else migrations)
    except BaseException:
        await conn.close()
        raise
    return db


async def _migrate(db: Database, migrations: list[Migration]) -> None:
    conn = db.conn
    await conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    applied = {version for version, _ in await db.applied_migrations()}
    for migration in migrations:
        if migration.version in applied:
            continue
        if not re.fullmatch(r"[a-z0-9_]+", migration.name):
            raise ValueError(f"migration name {migration.name!r} must be lowercase words")
        log.info("applying migration %03d_%s", migration.version, migration.name)
        # One script so the schema change and its record commit together or not at all.
        script = (
            "BEGIN IMMEDIATE;\n"
            f"{migration.sql}\n;\n"
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES "
            f"({migration.version:d}, '{migration.name}', '{now_text()}');\n"
            "COMMIT;\n"
        )
        try:
            await conn.executescript(script)
        except BaseException:
            await db._rollback()
            raise
