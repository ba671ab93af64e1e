"""The database: migrations, transactions, the append-only ledger, PTB state."""

from __future__ import annotations

import asyncio
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest

from bot.services import users, wallet
from storage import ptb_state
from storage import requests as request_rows
from storage.db import Database, Migration, bundled_migrations, open_database


async def test_fresh_database_has_every_migration_recorded_once(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "folder" / "bot.sqlite3"
    db = await open_database(path)
    try:
        applied = await db.applied_migrations()
        assert applied == [(m.version, m.name) for m in bundled_migrations()]
        assert applied[0] == (1, "initial")
        mode = await db.conn.execute_fetchall("PRAGMA journal_mode")
        assert next(iter(mode))[0] == "wal"
        keys = await db.conn.execute_fetchall("PRAGMA foreign_keys")
        assert next(iter(keys))[0] == 1
    finally:
        await db.close()
    assert path.exists()


async def test_reopening_keeps_data_and_applies_nothing_twice(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    db = await open_database(path)
    await users.register_user(db, user_id=1, chat_id=1, username="ann", first_name="Ann")
    await wallet.credit(db, 1, Decimal("5.00"), reason="top-up")
    await db.close()

    db = await open_database(path)
    try:
        assert await db.applied_migrations() == [(m.version, m.name) for m in bundled_migrations()]
        assert await wallet.get_balance(db, 1) == Decimal("5.00")
    finally:
        await db.close()


async def test_a_new_migration_applies_once_in_order(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    latest = bundled_migrations()[-1].version
    extra = Migration(
        latest + 1, "notes", "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);"
    )
    migrations = [*bundled_migrations(), extra]
    for _ in range(2):
        db = await open_database(path, migrations=migrations)
        try:
            assert await db.schema_version() == latest + 1
            await db.conn.execute("INSERT INTO notes (body) VALUES ('x')")
            rows = await db.conn.execute_fetchall("SELECT COUNT(*) FROM notes")
        finally:
            await db.close()
    assert next(iter(rows))[0] == 2


async def test_a_broken_migration_leaves_no_trace(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    latest = bundled_migrations()[-1].version
    broken = Migration(
        latest + 1, "broken", "CREATE TABLE half (id INTEGER); SELECT * FROM nowhere;"
    )
    with pytest.raises(sqlite3.OperationalError):
        await open_database(path, migrations=[*bundled_migrations(), broken])
    db = await open_database(path)
    try:
        assert await db.schema_version() == latest
        tables = await db.conn.execute_fetchall(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'half'"
        )
        assert list(tables) == []
    finally:
        await db.close()


async def test_memory_database_opens(tmp_path: Path) -> None:
    db = await open_database(":memory:")
    try:
        assert await db.schema_version() == bundled_migrations()[-1].version
    finally:
        await db.close()


async def test_ledger_refuses_update_and_delete(db: Database) -> None:
    await users.register_user(db, user_id=7, chat_id=7, username=None, first_name="Bo")
    entry = await wallet.credit(db, 7, Decimal("10"), reason="top-up")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        await db.conn.execute(
            "UPDATE ledger SET amount = '1000' WHERE entry_id = ?", (entry.entry_id,)
        )
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        await db.conn.execute("DELETE FROM ledger WHERE entry_id = ?", (entry.entry_id,))
    assert await wallet.get_balance(db, 7) == Decimal("10")


async def test_failed_transaction_rolls_back_everything(db: Database) -> None:
    await users.register_user(db, user_id=7, chat_id=7, username=None, first_name="Bo")
    with pytest.raises(RuntimeError):
        async with db.transaction():
            await wallet.credit(db, 7, Decimal("3"), reason="first")
            await wallet.credit(db, 7, Decimal("4"), reason="second")
            raise RuntimeError("boom")
    assert await wallet.get_balance(db, 7) == 0
    assert await wallet.recent_entries(db, 7) == []


async def test_inner_failure_rolls_back_only_the_inner_block(db: Database) -> None:
    await users.register_user(db, user_id=7, chat_id=7, username=None, first_name="Bo")
    async with db.transaction():
        await wallet.credit(db, 7, Decimal("3"), reason="kept")
        with pytest.raises(wallet.InsufficientBalance):
            await wallet.debit(db, 7, Decimal("5"), reason="too much")
        await wallet.credit(db, 7, Decimal("1"), reason="also kept")
    assert await wallet.get_balance(db, 7) == Decimal("4")
    assert [e.reason for e in await wallet.recent_entries(db, 7)] == ["also kept", "kept"]


async def test_concurrent_transactions_take_turns(db: Database) -> None:
    await users.register_user(db, user_id=7, chat_id=7, username=None, first_name="Bo")
    await asyncio.gather(
        *(wallet.credit(db, 7, Decimal("0.10"), reason=f"tip {i}") for i in range(50))
    )
    assert await wallet.get_balance(db, 7) == Decimal("5.00")


async def test_ptb_state_saves_replaces_and_deletes(db: Database) -> None:
    await ptb_state.save(db, "conversations", "order", '{"[1, 1]": 3}')
    await ptb_state.save(db, "user_data", "1", '{"lang": "en"}')
    await ptb_state.save(db, "conversations", "order", '{"[1, 1]": 4}')
    assert await ptb_state.load_all(db, "conversations") == {"order": '{"[1, 1]": 4}'}
    await ptb_state.delete(db, "conversations", "order")
    await ptb_state.delete(db, "conversations", "missing")
    assert await ptb_state.load_all(db, "conversations") == {}
    assert await ptb_state.load_all(db, "user_data") == {"1": '{"lang": "en"}'}


async def test_users_register_refresh_find_and_block(db: Database) -> None:
    user, created = await users.register_user(
        db, user_id=42, chat_id=42, username="@Alice_Shop", first_name="Alice"
    )
    assert created
    assert user.username == "Alice_Shop"
    assert user.created_at.tzinfo is not None
    again, created = await users.register_user(
        db, user_id=42, chat_id=4242, username="alice_new", first_name="Alice"
    )
    assert not created
    assert again.chat_id == 4242
    assert again.created_at == user.created_at

    assert await users.find_user(db, "42") == again
    assert await users.find_user(db, "@ALICE_NEW") == again
    assert await users.find_user(db, "alice_new") == again
    assert await users.find_user(db, "@Alice_Shop") is None
    assert await users.find_user(db, "999") is None

    await users.set_blocked(db, 42, True)
    blocked = await users.get_user(db, 42)
    assert blocked is not None and blocked.is_blocked
    await users.set_blocked(db, 42, False)
    unblocked = await users.get_user(db, 42)
    assert unblocked is not None and not unblocked.is_blocked
    with pytest.raises(LookupError):
        await users.set_blocked(db, 404, True)


async def test_reads_never_see_another_tasks_uncommitted_rows(db: Database) -> None:
    written = asyncio.Event()
    decide = asyncio.Event()

    async def change_of_mind() -> None:
        async with db.transaction():
            await ptb_state.save(db, "bot_data", "draft", "{}")
            written.set()
            await decide.wait()
            raise RuntimeError("rolled back")

    writer = asyncio.create_task(change_of_mind())
    await written.wait()
    reader = asyncio.create_task(ptb_state.load_all(db, "bot_data"))
    await asyncio.sleep(0.01)
    assert not reader.done()
    decide.set()
    assert await reader == {}
    with pytest.raises(RuntimeError):
        await writer


async def test_refills_and_cancels_move_into_one_table_keeping_their_dedupe_keys(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.sqlite3"
    old = await open_database(path, migrations=[m for m in bundled_migrations() if m.version < 6])
    now = "2024-01-01T00:00:00.000000+00:00"
    try:
        # Only the requests matter here, not the catalog an order would point at.
        await old.conn.execute("PRAGMA foreign_keys = OFF")
        await old.conn.execute(
            "INSERT INTO users (user_id, chat_id, first_name, created_at, updated_at)"
            " VALUES (1, 1, 'A', ?, ?)",
            (now, now),
        )
        await old.conn.execute(
            "INSERT INTO orders (order_id, user_id, chat_id, panel, item_id, service_id,"
            " service_name, order_type, quantity, fields, price, cost, charged, status,"
            " idempotency_key, created_at, updated_at) VALUES (1, 1, 1, 'p', 1, '1', 'S',"
            " 'Default', 100, '{}', '1', '1', 1, 'completed', 'k', ?, ?)",
            (now, now),
        )
        for table, count in (("refills", 2), ("cancels", 3)):
            for _ in range(count):
                await old.conn.execute(
                    f"INSERT INTO {table} (order_id, panel, panel_request_id, status,"
                    " created_at, updated_at) VALUES (1, 'p', '9', 'completed', ?, ?)",
                    (now, now),
                )
        await old.conn.commit()
    finally:
        await old.close()

    db = await open_database(path)
    try:
        rows = await db.fetch_all("SELECT id, kind FROM panel_requests ORDER BY id")
        # Refills keep their IDs; cancels move above every ID either table used, so a
        # "cancel:<id>:<status>" key already queued never names another cancel.
        assert [(int(r[0]), str(r[1])) for r in rows] == [
            (1, "refill"),
            (2, "refill"),
            (4, "cancel"),
            (5, "cancel"),
            (6, "cancel"),
        ]
        requests = await request_rows.for_order(db, 1)
        assert [r.kind for r in requests] == ["cancel"] * 3 + ["refill"] * 2
    finally:
        await db.close()
