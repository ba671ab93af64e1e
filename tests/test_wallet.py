"""The wallet: credits, debits, the balance and the history a customer sees."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from bot.services import users, wallet
from storage.db import Database


@pytest.fixture
async def customer(db: Database) -> int:
    user, _ = await users.register_user(
        db, user_id=1001, chat_id=1001, username="buyer", first_name="Buyer"
    )
    return user.user_id


async def test_new_customer_has_zero_balance(db: Database, customer: int) -> None:
    assert await wallet.get_balance(db, customer) == Decimal(0)
    assert await wallet.recent_entries(db, customer) == []


async def test_credit_then_debit_keeps_exact_cents(db: Database, customer: int) -> None:
    for _ in range(10):
        await wallet.credit(db, customer, Decimal("0.10"), reason="top-up", admin_id=1)
    entry = await wallet.debit(db, customer, Decimal("0.30"), reason="correction", admin_id=1)
    assert entry.amount == Decimal("-0.30")
    assert entry.kind == "debit"
    assert entry.admin_id == 1
    assert entry.balance_after == Decimal("0.70")
    assert isinstance(entry.balance_after, Decimal)
    assert entry.created_at.tzinfo is not None
    assert await wallet.get_balance(db, customer) == Decimal("0.70")


async def test_debit_beyond_balance_is_refused_and_changes_nothing(
    db: Database, customer: int
) -> None:
    await wallet.credit(db, customer, Decimal("5.00"), reason="top-up")
    with pytest.raises(wallet.InsufficientBalance) as refused:
        await wallet.debit(db, customer, Decimal("5.01"), reason="too much")
    assert refused.value.balance == Decimal("5.00")
    assert refused.value.needed == Decimal("5.01")
    assert await wallet.get_balance(db, customer) == Decimal("5.00")
    assert len(await wallet.recent_entries(db, customer)) == 1


@pytest.mark.parametrize("amount", [Decimal(0), Decimal("-1"), Decimal("NaN"), Decimal("Inf")])
async def test_credit_and_debit_need_a_positive_amount(
    db: Database, customer: int, amount: Decimal
) -> None:
    with pytest.raises(ValueError):
        await wallet.credit(db, customer, amount, reason="bad")
    with pytest.raises(ValueError):
        await wallet.debit(db, customer, amount, reason="bad")
    assert await wallet.recent_entries(db, customer) == []


async def test_concurrent_debits_never_overdraw(db: Database, customer: int) -> None:
    await wallet.credit(db, customer, Decimal("1.00"), reason="top-up")
    results = await asyncio.gather(
        *(wallet.debit(db, customer, Decimal("0.30"), reason="x") for _ in range(5)),
        return_exceptions=True,
    )
    taken = [r for r in results if isinstance(r, wallet.LedgerEntry)]
    refused = [r for r in results if isinstance(r, wallet.InsufficientBalance)]
    assert (len(taken), len(refused)) == (3, 2)
    assert await wallet.get_balance(db, customer) == Decimal("0.10")


async def test_recent_entries_newest_first_with_limit(db: Database, customer: int) -> None:
    for cents in range(1, 8):
        await wallet.credit(db, customer, Decimal(cents) / 100, reason=f"top-up {cents}")
    recent = await wallet.recent_entries(db, customer, limit=3)
    assert [e.reason for e in recent] == ["top-up 7", "top-up 6", "top-up 5"]
    assert recent[0].balance_after == Decimal("0.28")
    assert [e.entry_id for e in recent] == sorted((e.entry_id for e in recent), reverse=True)


async def test_balances_are_per_customer(db: Database, customer: int) -> None:
    await users.register_user(db, user_id=2002, chat_id=2002, username=None, first_name="Two")
    await wallet.credit(db, customer, Decimal("3"), reason="a")
    await wallet.credit(db, 2002, Decimal("8"), reason="b")
    assert await wallet.get_balance(db, customer) == Decimal("3")
    assert await wallet.get_balance(db, 2002) == Decimal("8")
