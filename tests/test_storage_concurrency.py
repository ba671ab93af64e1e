"""The shared SQLite connection under updates handled at once: reads, turns and savepoints."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from bot.services import users, wallet
from storage.db import Database


async def test_a_savepoint_rolls_back_alone_while_other_tasks_read_and_write(
    db: Database,
) -> None:
    for user_id in (1, 2):
        await users.register_user(
            db, user_id=user_id, chat_id=user_id, username=None, first_name="A"
        )
    inside = asyncio.Event()
    go_on = asyncio.Event()

    async def customer_one() -> None:
        async with db.transaction():
            await wallet.credit(db, 1, Decimal(5), reason="kept")
            with pytest.raises(wallet.InsufficientBalance):
                await wallet.debit(db, 1, Decimal(50), reason="too much")  # a savepoint
            inside.set()
            await go_on.wait()
            async with db.transaction():  # another savepoint, after the other tasks queued
                await wallet.credit(db, 1, Decimal(1), reason="also kept")

    one = asyncio.create_task(customer_one())
    await inside.wait()
    # While the first task's transaction is open, another task reads and writes.
    seen = asyncio.create_task(wallet.get_balance(db, 1))
    other = asyncio.create_task(wallet.credit(db, 2, Decimal(3), reason="other customer"))
    await asyncio.sleep(0.01)
    assert not seen.done() and not other.done()  # they wait their turn
    go_on.set()
    await asyncio.gather(one, other)
    assert await seen == Decimal(6)  # only ever the committed balance
    assert await wallet.get_balance(db, 1) == Decimal(6)
    assert await wallet.get_balance(db, 2) == Decimal(3)
    assert [e.reason for e in await wallet.recent_entries(db, 1)] == ["also kept", "kept"]


async def test_many_tasks_moving_one_balance_at_once_lose_nothing(db: Database) -> None:
    await users.register_user(db, user_id=7, chat_id=7, username=None, first_name="Bo")
    await wallet.credit(db, 7, Decimal(100), reason="start")

    async def spend(n: int) -> None:
        if n % 3 == 0:
            await wallet.credit(db, 7, Decimal("0.50"), reason=f"tip {n}")
        else:
            await wallet.debit(db, 7, Decimal("0.25"), reason=f"fee {n}")
        assert await wallet.get_balance(db, 7) >= 0

    await asyncio.gather(*(spend(n) for n in range(90)))
    # 30 tips of 0.50 and 60 fees of 0.25: the books balance, entry by entry.
    assert await wallet.get_balance(db, 7) == Decimal(100)
    entries = await wallet.recent_entries(db, 7, limit=200)
    assert len(entries) == 91
