"""Placing orders against the sandbox panel: the customer's money is right in every outcome."""

from __future__ import annotations

import asyncio
import socket
import sqlite3
from decimal import Decimal

import pytest

from bot.panels.base import PanelConfig
from bot.panels.models import OrderRequest, OrderType
from bot.panels.registry import make_client
from bot.services import catalog, ordering, status_sync, users, wallet
from bot.services.catalog import CatalogItem
from bot.services.ordering import PlacementKind
from storage import outbox as outbox_rows
from storage.db import Database
from tests.fakes.outbox import queued_texts
from tests.fakes.storage_fixtures import Shop

CUSTOMER = 5001
ADMIN = 9001


@pytest.fixture
async def item(shop: Shop) -> CatalogItem:
    """A Default-type service of the synced sandbox catalog."""
    await users.register_user(
        shop.db, user_id=CUSTOMER, chat_id=CUSTOMER, username="buyer", first_name="Buyer"
    )
    await users.register_user(
        shop.db, user_id=ADMIN, chat_id=ADMIN, username="boss", first_name="Boss"
    )
    for platform, _ in await catalog.list_platforms(shop.db):
        categories = await catalog.list_categories(shop.db, platform, 0, 1000)
        for category in categories.items:
            services = await catalog.list_services(shop.db, category.category_id, 0, 1000)
            for found in services.items:
                if found.service.type is OrderType.DEFAULT and found.service.rate > 0:
                    return found
    raise AssertionError("the sandbox catalog has no Default service")


def _request(item: CatalogItem, quantity: int | None = None) -> OrderRequest:
    return OrderRequest(
        item.service.service_id,
        link="https://instagram.com/p/abc",
        quantity=quantity or item.service.min,
    )


def _adds(shop: Shop) -> list[object]:
    return [r for r in shop.sandbox.requests if r[1] == "add"]


async def _place(
    shop: Shop,
    item: CatalogItem,
    key: str = "k1",
    *,
    request: OrderRequest | None = None,
    charge_wallet: bool = True,
) -> ordering.PlacementResult:
    return await ordering.place_order(
        shop.db,
        shop.panels,
        user_id=CUSTOMER,
        chat_id=CUSTOMER,
        item_id=item.item_id,
        request=request or _request(item),
        idempotency_key=key,
        charge_wallet=charge_wallet,
    )


async def _fund(db: Database, amount: str = "100") -> None:
    await wallet.credit(db, CUSTOMER, Decimal(amount), reason="top-up", admin_id=ADMIN)


async def _entries(db: Database) -> list[tuple[str, Decimal]]:
    return [(e.kind, e.amount) for e in reversed(await wallet.recent_entries(db, CUSTOMER, 50))]


async def test_placed_order_is_charged_once_and_keeps_the_panel_id(
    shop: Shop, item: CatalogItem
) -> None:
    await _fund(shop.db)
    price = catalog.quote(item, _request(item)).price
    result = await _place(shop, item)
    assert result.kind is PlacementKind.PLACED
    order = result.order
    assert order is not None
    assert order.status == "pending"
    assert order.panel_order_id is not None
    assert order.panel_order_id in {str(k) for k in shop.sandbox.orders}
    assert order.price == price and order.charged
    assert order.fields == {
        "link": "https://instagram.com/p/abc",
        "quantity": str(item.service.min),
    }
    assert result.balance == Decimal(100) - price
    assert await _entries(shop.db) == [("credit", Decimal(100)), ("order", -price)]
    assert len(_adds(shop)) == 1
    assert await ordering.get_order(shop.db, order.order_id) == order
    assert (await ordering.list_user_orders(shop.db, CUSTOMER, 0)).items == [order]


async def test_refused_order_is_refunded_with_the_panels_words(
    shop: Shop, item: CatalogItem
) -> None:
    await _fund(shop.db)
    shop.sandbox.faults.add("error", action="add", message="Link is not valid for this service")
    result = await _place(shop, item)
    assert result.kind is PlacementKind.REFUSED
    assert result.message == "Link is not valid for this service"
    assert result.order is not None and result.order.status == "failed"
    assert result.balance == Decimal(100)
    price = result.order.price
    assert await _entries(shop.db) == [
        ("credit", Decimal(100)),
        ("order", -price),
        ("refund", price),
    ]
    assert len(shop.sandbox.orders) == 0


async def test_panel_that_is_down_refunds_at_once(shop: Shop, item: CatalogItem) -> None:
    await _fund(shop.db)
    with socket.socket() as spare:
        spare.bind(("127.0.0.1", 0))
        closed_port = spare.getsockname()[1]
    down = make_client(
        PanelConfig("sandbox", "v2", f"http://127.0.0.1:{closed_port}/api/v2", "k", timeout=2)
    )
    try:
        result = await ordering.place_order(
            shop.db,
            {"sandbox": down},
            user_id=CUSTOMER,
            chat_id=CUSTOMER,
            item_id=item.item_id,
            request=_request(item),
            idempotency_key="k1",
        )
    finally:
        await down.close()
    assert result.kind is PlacementKind.REFUSED
    assert "connect" in result.message
    assert result.balance == Decimal(100)
    assert result.order is not None and result.order.status == "failed"


async def test_dropped_connection_holds_the_money(shop: Shop, item: CatalogItem) -> None:
    await _fund(shop.db)
    shop.sandbox.faults.add("refuse_connection", action="add")
    result = await _place(shop, item)
    assert result.kind is PlacementKind.HELD
    assert result.order is not None
    assert result.balance == Decimal(100) - result.order.price


async def test_unknown_outcome_holds_the_money_for_review(shop: Shop, item: CatalogItem) -> None:
    await _fund(shop.db)
    shop.sandbox.faults.add("error_after_create", action="add")
    result = await _place(shop, item)
    assert result.kind is PlacementKind.HELD
    assert result.order is not None and result.order.status == "review"
    assert result.order.panel_order_id is None
    assert result.balance == Decimal(100) - result.order.price
    assert len(_adds(shop)) == 1
    assert len(shop.sandbox.orders) == 1
    assert await ordering.orders_for_review(shop.db) == [result.order]

    again = await _place(shop, item)
    assert again.kind is PlacementKind.DUPLICATE
    assert len(_adds(shop)) == 1


async def test_review_resolved_with_the_panels_order_id(shop: Shop, item: CatalogItem) -> None:
    await _fund(shop.db)
    shop.sandbox.faults.add("error_after_create", action="add")
    held = await _place(shop, item)
    assert held.order is not None
    panel_id = str(next(iter(shop.sandbox.orders)))
    resolved = await ordering.resolve_review(
        shop.db, held.order.order_id, panel_order_id=panel_id, admin_id=ADMIN
    )
    assert resolved.status == "pending"
    assert resolved.panel_order_id == panel_id
    assert await wallet.get_balance(shop.db, CUSTOMER) == Decimal(100) - resolved.price
    assert await ordering.orders_for_review(shop.db) == []
    with pytest.raises(ordering.ReviewError):
        await ordering.resolve_review(
            shop.db, held.order.order_id, panel_order_id=None, admin_id=ADMIN
        )


async def test_review_resolved_as_not_placed_refunds(shop: Shop, item: CatalogItem) -> None:
    await _fund(shop.db)
    shop.sandbox.faults.add("error_after_create", action="add")
    held = await _place(shop, item)
    assert held.order is not None
    resolved = await ordering.resolve_review(
        shop.db, held.order.order_id, panel_order_id=None, admin_id=ADMIN
    )
    assert resolved.status == "failed"
    assert await wallet.get_balance(shop.db, CUSTOMER) == Decimal(100)
    refund = (await wallet.recent_entries(shop.db, CUSTOMER, 1))[0]
    assert (refund.kind, refund.order_id, refund.admin_id) == ("refund", resolved.order_id, ADMIN)
    with pytest.raises(ordering.ReviewError):
        await ordering.resolve_review(
            shop.db, resolved.order_id, panel_order_id=None, admin_id=ADMIN
        )
    assert await wallet.get_balance(shop.db, CUSTOMER) == Decimal(100)


async def test_same_key_twice_places_one_order(shop: Shop, item: CatalogItem) -> None:
    await _fund(shop.db)
    first = await _place(shop, item, key="tap-1")
    second = await _place(shop, item, key="tap-1")
    assert (first.kind, second.kind) == (PlacementKind.PLACED, PlacementKind.DUPLICATE)
    assert second.order is not None and first.order is not None
    assert second.order.order_id == first.order.order_id
    assert len(_adds(shop)) == 1
    assert second.balance == first.balance


async def test_same_key_concurrently_places_one_order(shop: Shop, item: CatalogItem) -> None:
    await _fund(shop.db)
    results = await asyncio.gather(*(_place(shop, item, key="double-tap") for _ in range(3)))
    kinds = sorted(r.kind.value for r in results)
    assert kinds == ["duplicate", "duplicate", "placed"]
    assert len(_adds(shop)) == 1
    price = catalog.quote(item, _request(item)).price
    assert await wallet.get_balance(shop.db, CUSTOMER) == Decimal(100) - price


async def test_no_funds_sends_nothing(shop: Shop, item: CatalogItem) -> None:
    await _fund(shop.db, "0.01")
    result = await _place(shop, item, request=_request(item, item.service.max))
    assert result.kind is PlacementKind.NO_FUNDS
    assert result.order is None
    assert result.balance == Decimal("0.01")
    assert _adds(shop) == []
    assert (await ordering.list_user_orders(shop.db, CUSTOMER, 0)).total == 0


async def test_invalid_request_sends_nothing(shop: Shop, item: CatalogItem) -> None:
    await _fund(shop.db)
    result = await _place(shop, item, request=_request(item, item.service.max + 1))
    assert result.kind is PlacementKind.INVALID
    assert "range" in result.message
    assert result.balance == Decimal(100)
    assert _adds(shop) == []
    bad_link = _request(item)
    bad_link.link = "instagram"
    assert (await _place(shop, item, key="k2", request=bad_link)).kind is PlacementKind.INVALID
    assert (await ordering.list_user_orders(shop.db, CUSTOMER, 0)).total == 0


async def test_unknown_item_is_unavailable(shop: Shop, item: CatalogItem) -> None:
    await _fund(shop.db)
    result = await ordering.place_order(
        shop.db,
        shop.panels,
        user_id=CUSTOMER,
        chat_id=CUSTOMER,
        item_id=987654,
        request=_request(item),
        idempotency_key="k",
    )
    assert result.kind is PlacementKind.UNAVAILABLE
    assert _adds(shop) == []


async def test_admin_order_is_not_charged(shop: Shop, item: CatalogItem) -> None:
    result = await _place(shop, item, charge_wallet=False)
    assert result.kind is PlacementKind.PLACED
    assert result.order is not None and not result.order.charged
    assert result.balance == 0
    assert await wallet.recent_entries(shop.db, CUSTOMER) == []
    assert len(_adds(shop)) == 1


async def test_orders_list_newest_first_by_pages(shop: Shop, item: CatalogItem) -> None:
    await _fund(shop.db)
    placed = [await _place(shop, item, key=f"k{i}") for i in range(5)]
    ids = [r.order.order_id for r in placed if r.order is not None]
    first = await ordering.list_user_orders(shop.db, CUSTOMER, 0, page_size=2)
    last = await ordering.list_user_orders(shop.db, CUSTOMER, 2, page_size=2)
    assert (first.total, first.pages) == (5, 3)
    assert [o.order_id for o in first.items] == ids[::-1][:2]
    assert [o.order_id for o in last.items] == [ids[0]]


async def test_cancelled_while_placing_holds_for_review(shop: Shop, item: CatalogItem) -> None:
    await _fund(shop.db)
    shop.sandbox.faults.add("hang", action="add")
    placing = asyncio.create_task(_place(shop, item))
    for _ in range(200):
        if _adds(shop):
            break
        await asyncio.sleep(0.005)
    assert len(_adds(shop)) == 1
    placing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await placing
    [held] = await ordering.orders_for_review(shop.db)
    assert held.status == "review"
    assert await wallet.get_balance(shop.db, CUSTOMER) == Decimal(100) - held.price


async def _held(shop: Shop, item: CatalogItem, key: str) -> tuple[ordering.OrderRecord, str]:
    """Place an order whose answer is lost; return it and the ID the panel gave it."""
    known = set(shop.sandbox.orders)
    shop.sandbox.faults.add("error_after_create", action="add")
    held = await _place(shop, item, key)
    assert held.kind is PlacementKind.HELD and held.order is not None
    (panel_id,) = set(shop.sandbox.orders) - known
    return held.order, str(panel_id)


async def test_a_held_order_keeps_why_it_is_held(shop: Shop, item: CatalogItem) -> None:
    await _fund(shop.db)
    order, panel_id = await _held(shop, item, "k1")
    assert order.error is not None and "may have been placed" in order.error
    assert order.not_found is False
    assert await ordering.orders_for_review(shop.db) == [order]

    resolved = await ordering.resolve_review(
        shop.db, order.order_id, panel_order_id=panel_id, admin_id=ADMIN
    )
    # Once the panel's order ID is known, the reason for holding it is gone.
    assert (resolved.status, resolved.error, resolved.not_found) == ("pending", None, False)


async def test_an_order_the_panel_lost_is_placed_again_under_its_own_id(
    shop: Shop, item: CatalogItem
) -> None:
    await _fund(shop.db)
    placed = await _place(shop, item)
    assert placed.order is not None and placed.order.panel_order_id is not None
    panel_id = placed.order.panel_order_id
    shop.sandbox.forget_order(panel_id)
    await status_sync.sync_statuses(shop.db, shop.panels)
    [lost] = await ordering.orders_for_review(shop.db)
    assert (lost.status, lost.not_found, lost.error) == ("review", True, "Incorrect order ID")

    # The admin finds it on the panel under the same ID: that ID is this order's own.
    resolved = await ordering.resolve_review(
        shop.db, lost.order_id, panel_order_id=panel_id, admin_id=ADMIN
    )
    assert (resolved.status, resolved.panel_order_id) == ("pending", panel_id)
    assert (resolved.not_found, resolved.error) == (False, None)
    row = await shop.db.fetch_one(
        "SELECT not_found, error FROM orders WHERE order_id = ?", (lost.order_id,)
    )
    assert row is not None and (row["not_found"], row["error"]) == (0, None)


async def test_a_panel_id_of_another_order_is_a_review_error(
    shop: Shop, item: CatalogItem
) -> None:
    await _fund(shop.db)
    first, first_panel_id = await _held(shop, item, "k1")
    second, _ = await _held(shop, item, "k2")
    await ordering.resolve_review(
        shop.db, first.order_id, panel_order_id=first_panel_id, admin_id=ADMIN
    )
    balance = await wallet.get_balance(shop.db, CUSTOMER)

    with pytest.raises(ordering.ReviewError) as refused:
        await ordering.resolve_review(
            shop.db, second.order_id, panel_order_id=f" {first_panel_id} ", admin_id=ADMIN
        )
    assert "already belongs to another order" in str(refused.value)
    assert f"#{first.order_id}" in str(refused.value)
    still = await ordering.get_order(shop.db, second.order_id)
    assert still is not None and (still.status, still.panel_order_id) == ("review", None)
    assert await wallet.get_balance(shop.db, CUSTOMER) == balance


async def test_the_customers_notice_is_queued_with_the_decision(
    shop: Shop, item: CatalogItem
) -> None:
    await _fund(shop.db)
    placed, panel_id = await _held(shop, item, "k1")
    failed, _ = await _held(shop, item, "k2")

    await ordering.resolve_review(
        shop.db, placed.order_id, panel_order_id=panel_id, admin_id=ADMIN, notify_customer=True
    )
    await ordering.resolve_review(
        shop.db, failed.order_id, panel_order_id=None, admin_id=ADMIN, notify_customer=True
    )
    # The notice holds the settled order and the customer's balance after the decision.
    both_held = Decimal(100) - placed.price - failed.price
    after_refund = Decimal(100) - placed.price
    rows = await outbox_rows.for_chat(shop.db, CUSTOMER)
    seen = [
        (m.kind, (m.data or {})["order"]["status"], Decimal((m.data or {})["balance"]))
        for m in rows
    ]
    assert seen == [
        ("review_placed", "pending", both_held),
        ("review_failed", "failed", after_refund),
    ]
    placed_text, failed_text = await queued_texts(shop.db, CUSTOMER)
    assert f"#{placed.order_id}" in placed_text and f"#{failed.order_id}" in failed_text


async def test_no_notice_no_decision(
    shop: Shop, item: CatalogItem, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A decision whose notice cannot be written is not made (and the reverse)."""
    await _fund(shop.db)
    order, _ = await _held(shop, item, "k1")
    balance = await wallet.get_balance(shop.db, CUSTOMER)

    async def broken(*args: object, **kwargs: object) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(outbox_rows, "insert", broken)
    with pytest.raises(sqlite3.OperationalError):
        await ordering.resolve_review(
            shop.db,
            order.order_id,
            panel_order_id=None,
            admin_id=ADMIN,
            notify_customer=True,
        )
    still = await ordering.get_order(shop.db, order.order_id)
    assert still is not None and still.status == "review"
    assert await wallet.get_balance(shop.db, CUSTOMER) == balance
    monkeypatch.undo()

    # A decision nobody is told about queues nothing; the decision is made.
    resolved = await ordering.resolve_review(
        shop.db, order.order_id, panel_order_id=None, admin_id=ADMIN, notify_customer=False
    )
    assert resolved.status == "failed"
    assert await outbox_rows.for_chat(shop.db, CUSTOMER) == []
