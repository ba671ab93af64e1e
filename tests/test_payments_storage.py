"""What the database itself enforces about payments: the state machine and one credit (and
one reversal) per payment, whatever code path tries otherwise."""

from __future__ import annotations

import asyncio
import sqlite3
from decimal import Decimal

import pytest

from bot.services import payments
from storage import ledger
from storage import payments as payment_rows
from storage.db import Database
from storage.users import upsert


async def a_payment(db: Database) -> int:
    await upsert(db, user_id=7, chat_id=7, username="ann", first_name="Ann")
    return await payment_rows.insert(
        db,
        user_id=7,
        chat_id=7,
        provider="stars",
        amount=Decimal(10),
        provider_amount=Decimal(770),
        provider_unit="XTR",
        rate=Decimal(77),
        payload="tp-test",
    )


async def test_only_the_allowed_state_moves_happen(db: Database) -> None:
    payment_id = await a_payment(db)
    with pytest.raises(sqlite3.IntegrityError, match="not allowed"):
        await payment_rows.move(db, payment_id, ["created"], "credited")
    with pytest.raises(sqlite3.IntegrityError, match="not allowed"):
        await payment_rows.move(db, payment_id, ["created"], "refunded")
    assert await payment_rows.move(db, payment_id, ["created"], "paid")
    assert not await payment_rows.move(db, payment_id, ["created"], "paid"), "already moved"
    assert await payment_rows.move(db, payment_id, ["paid"], "credited")
    with pytest.raises(sqlite3.IntegrityError, match="not allowed"):
        await payment_rows.move(db, payment_id, ["credited"], "created")
    with pytest.raises(sqlite3.IntegrityError):
        await db.conn.execute("UPDATE payments SET state = 'bogus'")


async def test_a_payment_is_credited_and_reversed_at_most_once(db: Database) -> None:
    payment_id = await a_payment(db)
    await ledger.append(
        db, user_id=7, amount=Decimal(10), kind="payment", reason="x", payment_id=payment_id
    )
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        await ledger.append(
            db, user_id=7, amount=Decimal(10), kind="payment", reason="x", payment_id=payment_id
        )
    await ledger.append(
        db,
        user_id=7,
        amount=Decimal(-10),
        kind="payment_refund",
        reason="x",
        payment_id=payment_id,
    )
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        await ledger.append(
            db,
            user_id=7,
            amount=Decimal(-10),
            kind="payment_refund",
            reason="x",
            payment_id=payment_id,
        )
    assert await ledger.balance(db, 7) == Decimal(0)


async def test_one_provider_id_is_one_payment(db: Database) -> None:
    first = await a_payment(db)
    await payment_rows.move(db, first, ["created"], "paid", provider_payment_id="charge-1")
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        await payment_rows.insert(
            db,
            user_id=7,
            chat_id=7,
            provider="stars",
            provider_payment_id="charge-1",
            amount=Decimal(10),
            provider_amount=Decimal(770),
            provider_unit="XTR",
            rate=Decimal(77),
            state="paid",
        )


async def test_a_concurrent_second_credit_of_the_same_payment_adds_nothing(db: Database) -> None:
    payment_id = await a_payment(db)
    await payment_rows.move(db, payment_id, ["created"], "paid", provider_payment_id="c-1")
    results = await asyncio.gather(
        *[
            payments.credit_paid(
                db, payment_id, currency="USD", admin_chat_ids=[42], notify_customer=True
            )
            for _ in range(5)
        ]
    )
    assert len([r for r in results if r is not None]) == 1
    assert await ledger.balance(db, 7) == Decimal(10)
    assert await payments.ledger_matches_payments(db)


def test_stars_for_rounds_up_to_whole_stars() -> None:
    assert payments.stars_for(Decimal("10"), Decimal(77)) == 770
    assert payments.stars_for(Decimal("0.01"), Decimal(77)) == 1
    assert payments.stars_for(Decimal("1.29"), Decimal("77")) == 100
    assert payments.stars_for(Decimal("1.30"), Decimal("77")) == 101
