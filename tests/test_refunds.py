"""Refunds follow the panel's status: full for Canceled/Refunded, the undelivered share for
Partial, exactly once whatever is seen twice, raced, or replayed after a restart."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal

from bot.panels.models import OrderType
from bot.services import refunds, status_sync, wallet
from bot.services.ordering import OrderRecord
from storage import ledger
from storage.db import open_database
from tests.fakes.tracking_fixtures import CUSTOMER, Tracking

START = Decimal(10_000)


async def _refunds(shop: Tracking, order: OrderRecord) -> list[Decimal]:
    return [
        entry.amount
        for entry in await ledger.for_order(shop.db, order.order_id)
        if entry.kind == "refund"
    ]


async def test_canceled_order_is_refunded_in_full_once(tracking_shop: Tracking) -> None:
    shop = tracking_shop
    order = await shop.place()
    assert await wallet.get_balance(shop.db, CUSTOMER) == START - order.price
    shop.set_status(order, "Canceled")

    await shop.sync()
    await shop.sync()
    await status_sync.refresh_order(shop.db, shop.panels, order.order_id)

    assert await _refunds(shop, order) == [order.price]
    assert await wallet.get_balance(shop.db, CUSTOMER) == START
    (told,) = await shop.messages()
    assert f"{order.price:,} USD was refunded to your balance (now {START:,.2f} USD)" in told


async def test_partial_refunds_the_undelivered_share_rounded_down(
    tracking_shop: Tracking,
) -> None:
    shop = tracking_shop
    order = await shop.place(quantity=1000)
    remains = order.quantity // 3 + 1  # a share that does not fall on a whole cent
    shop.set_status(order, "Partial", remains=remains)

    await shop.sync()
    await shop.sync()

    exact = order.price * remains / order.quantity
    expected = Decimal(int(exact * 100)) / 100  # cut, never rounded up
    assert expected <= exact < expected + Decimal("0.01")
    assert await _refunds(shop, order) == [expected]
    assert await wallet.get_balance(shop.db, CUSTOMER) == START - order.price + expected
    (told,) = await shop.messages()
    assert "was partially completed" in told
    assert f"remains {remains:,}" in told
    assert f"{expected:,} USD was refunded" in told
    stored = await shop.order(order.order_id)
    assert (stored.status, stored.remains) == ("partial", remains)


async def test_two_syncs_racing_refund_once(tracking_shop: Tracking) -> None:
    shop = tracking_shop
    order = await shop.place()
    shop.set_status(order, "Canceled")

    await asyncio.gather(
        shop.sync(),
        shop.sync(),
        status_sync.refresh_order(shop.db, shop.panels, order.order_id),
    )

    assert await _refunds(shop, order) == [order.price]
    assert len(await shop.messages()) == 1


async def test_a_restart_never_refunds_twice(tracking_shop: Tracking) -> None:
    shop = tracking_shop
    order = await shop.place()
    shop.set_status(order, "Refunded")
    await shop.sync()
    path = shop.db.path
    await shop.db.close()

    # The bot starts again on the same file and sees the same status again.
    reopened = await open_database(path)
    try:
        shop.db = reopened
        await shop.sync()
        await status_sync.refresh_order(reopened, shop.panels, order.order_id)
        assert await _refunds(shop, order) == [order.price]
        assert await wallet.get_balance(reopened, CUSTOMER) == START
        assert len(await shop.messages()) == 1
    finally:
        await reopened.close()


async def test_an_order_refunded_in_part_is_never_refunded_again(
    tracking_shop: Tracking,
) -> None:
    shop = tracking_shop
    order = await shop.place(quantity=1000)
    shop.set_status(order, "Partial", remains=order.quantity // 2)
    await shop.sync()
    (partial,) = await _refunds(shop, order)

    # Later the panel calls the whole order refunded: the ledger takes one refund per order.
    shop.set_status(order, "Refunded")
    refreshed = await status_sync.refresh_order(shop.db, shop.panels, order.order_id)

    assert refreshed.status == "refunded"
    assert await _refunds(shop, order) == [partial]
    assert await wallet.get_balance(shop.db, CUSTOMER) == START - order.price + partial
    last = (await shop.messages())[-1]
    assert "was refunded\n" in last and "was refunded to your balance" not in last


async def test_uncharged_admin_order_gets_no_refund(tracking_shop: Tracking) -> None:
    shop = tracking_shop
    order = await shop.place(charge=False)
    assert not order.charged
    shop.set_status(order, "Canceled")

    await shop.sync()

    assert await _refunds(shop, order) == []
    assert await wallet.get_balance(shop.db, CUSTOMER) == START
    (told,) = await shop.messages()
    assert "Nothing was charged for this order" in told


def test_refund_due_follows_the_status() -> None:
    base = {
        "order_id": 1,
        "user_id": 1,
        "chat_id": 1,
        "panel": "p",
        "panel_order_id": "9",
        "item_id": 1,
        "service_id": "1",
        "service_name": "Followers",
        "order_type": OrderType.DEFAULT,
        "link": None,
        "quantity": 3,
        "fields": {},
        "price": Decimal("1.00"),
        "cost": Decimal("0.50"),
        "charged": True,
        "start_count": None,
        "created_at": datetime.now(UTC),
        "updated_at": datetime.now(UTC),
    }

    def due(status: str, remains: int | None = None, **changes: object) -> Decimal:
        return refunds.refund_due(
            OrderRecord(**{**base, "status": status, "remains": remains, **changes})  # type: ignore[arg-type]
        )

    assert due("canceled") == Decimal("1.00")
    assert due("refunded") == Decimal("1.00")
    assert due("partial", 1) == Decimal("0.33")  # 0.333… cut to the cent
    assert due("partial", 2) == Decimal("0.66")  # 0.666… cut, not rounded up
    assert due("partial", 9) == Decimal("1.00")  # a panel's remains above quantity is capped
    assert due("completed", 0) == Decimal(0)
    assert due("in_progress", 2) == Decimal(0)
    assert due("canceled", charged=False) == Decimal(0)
