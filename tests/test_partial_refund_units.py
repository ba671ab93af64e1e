"""Partial refunds count what the panel counts: every run of a drip-feed, every package line."""

from __future__ import annotations

from decimal import Decimal

from bot.panels.models import OrderRequest, OrderType
from bot.services import catalog, ordering, wallet
from bot.services.ordering import OrderRecord, PlacementKind
from tests.fakes.tracking_fixtures import ADMIN_CHAT, CUSTOMER, Tracking


async def place(shop: Tracking, request_fields: dict[str, object], **flags: bool) -> OrderRecord:
    order_type = request_fields.pop("type", OrderType.DEFAULT)
    assert isinstance(order_type, OrderType)
    service = shop.sandbox.find_service(order_type, **flags)
    item_id = await shop.item_id("sandbox", service)
    item = await catalog.get_item(shop.db, item_id)
    assert item is not None
    request = OrderRequest(item.service.service_id, order_type, **request_fields)  # type: ignore[arg-type]
    result = await ordering.place_order(
        shop.db,
        shop.panels,
        user_id=CUSTOMER,
        chat_id=CUSTOMER,
        item_id=item_id,
        request=request,
        idempotency_key=f"units-{order_type}-{len(shop.sandbox.orders)}",
    )
    assert result.kind is PlacementKind.PLACED, result
    assert result.order is not None
    return result.order


async def test_a_partial_drip_feed_refunds_the_share_of_all_its_runs(
    tracking_shop: Tracking,
) -> None:
    service = tracking_shop.sandbox.find_service(OrderType.DEFAULT, dripfeed=True)
    per_run = service.min
    order = await place(
        tracking_shop,
        {"link": "https://instagram.com/p/drip", "quantity": per_run, "runs": 4, "interval": 10},
        dripfeed=True,
    )
    before = await wallet.get_balance(tracking_shop.db, CUSTOMER)
    # The panel delivered three runs of four: a quarter of all units remains.
    tracking_shop.set_status(order, "Partial", remains=per_run)
    await tracking_shop.sync(admin_chat_ids=[ADMIN_CHAT])
    refunded = await wallet.get_balance(tracking_shop.db, CUSTOMER) - before
    assert refunded == (order.price / 4).quantize(Decimal("0.01"), rounding="ROUND_DOWN")
    assert refunded < order.price
    assert await tracking_shop.messages(ADMIN_CHAT) == []  # settled: nothing for admins


async def test_a_partial_package_is_never_refunded_whole_by_arithmetic(
    tracking_shop: Tracking,
) -> None:
    order = await place(
        tracking_shop,
        {
            "type": OrderType.CUSTOM_COMMENTS_PACKAGE,
            "link": "https://instagram.com/p/pack",
            "comments": ["one", "two", "three", "four"],
        },
    )
    before = await wallet.get_balance(tracking_shop.db, CUSTOMER)
    # A package's remains may count lines or the one package: no share can be trusted, so
    # nothing is refunded automatically (an admin settles it with /credit).
    tracking_shop.set_status(order, "Partial", remains=1)
    await tracking_shop.sync(admin_chat_ids=[ADMIN_CHAT])
    await tracking_shop.sync(admin_chat_ids=[ADMIN_CHAT])  # seen twice, told once
    assert await wallet.get_balance(tracking_shop.db, CUSTOMER) == before
    [alert] = await tracking_shop.messages(ADMIN_CHAT)
    assert f"#{order.order_id}" in alert and "/credit" in alert
    assert (await tracking_shop.order(order.order_id)).status == "partial"
    told = await tracking_shop.messages()
    assert any("partially completed" in text and "refunded" not in text for text in told)
