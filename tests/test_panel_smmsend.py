"""The smmsend.com client against the sandbox: drip-feed flags, typed cancels, cancel status."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from bot.panels.base import PanelConfig
from bot.panels.errors import AuthError, InvalidRequest, OrderOutcomeUnknown, PanelUnavailable
from bot.panels.models import (
    CancelKind,
    OrderRequest,
    OrderStatus,
    OrderType,
    RequestStatus,
    Service,
)
from bot.panels.sandbox import SandboxPanel
from bot.panels.smmsend import SmmSendClient
from tests.fakes.panel_fixtures import LINK, charged, find, request_for


@pytest.fixture
async def client(sandbox: SandboxPanel) -> AsyncIterator[SmmSendClient]:
    c = SmmSendClient(sandbox.config_for("smmsend", timeout=2.0, retries=2))
    yield c
    await c.close()


@pytest.fixture
async def catalog(client: SmmSendClient) -> list[Service]:
    return await client.services()


async def place(client: SmmSendClient, catalog: list[Service], **flags: bool) -> str:
    return await client.add_order(request_for(find(catalog, OrderType.DEFAULT, **flags)))


async def test_catalog_carries_drip_feed_refill_and_cancel_flags(
    sandbox: SandboxPanel, catalog: list[Service]
) -> None:
    assert {s.type for s in catalog} == SmmSendClient.capabilities.order_types
    for service in catalog:
        source = sandbox.service(service.service_id)
        assert (service.dripfeed, service.refill, service.cancel) == (
            source.dripfeed,
            source.refill,
            source.cancel,
        )
        assert service.rate == source.rate
    assert any(s.dripfeed for s in catalog) and not all(s.dripfeed for s in catalog)


@pytest.mark.parametrize("order_type", sorted(SmmSendClient.capabilities.order_types))
async def test_documented_order_types_are_placed(
    sandbox: SandboxPanel, client: SmmSendClient, catalog: list[Service], order_type: OrderType
) -> None:
    service = find(catalog, order_type)
    request = request_for(service)
    before = sandbox.balance
    order_id = await client.add_order(request)
    assert sandbox.orders[order_id].service_id == service.service_id
    assert before - sandbox.balance == charged(service, request)


async def test_drip_feed_only_where_the_catalog_offers_it(
    sandbox: SandboxPanel, client: SmmSendClient, catalog: list[Service]
) -> None:
    drip = find(catalog, OrderType.DEFAULT, dripfeed=True)
    order_id = await client.add_order(request_for(drip, runs=2, interval=60))
    assert sandbox.orders[order_id].runs == 2
    plain = find(catalog, OrderType.DEFAULT, dripfeed=False)
    with pytest.raises(InvalidRequest, match="drip-feed"):
        request_for(plain, runs=2, interval=60)  # the caller's check, from the flag


async def test_unsent_add_is_safe_and_a_lost_answer_is_not(
    sandbox: SandboxPanel, client: SmmSendClient, catalog: list[Service]
) -> None:
    with pytest.raises(InvalidRequest, match="Web Traffic"):
        await client.add_order(
            OrderRequest(
                "98",
                OrderType.WEB_TRAFFIC,
                link=LINK,
                quantity=100,
                country="US",
                device=1,
                type_of_traffic=3,
            )
        )
    assert [r.action for r in sandbox.requests] == ["services"]
    sandbox.faults.add("html", action="add", status=200)
    with pytest.raises(OrderOutcomeUnknown, match="web page"):
        await place(client, catalog)


async def test_single_status_uses_the_many_order_form(
    sandbox: SandboxPanel, client: SmmSendClient, catalog: list[Service]
) -> None:
    order_id = await place(client, catalog)
    info = await client.order_status(order_id)
    assert info.status is OrderStatus.PENDING
    assert sandbox.requests[-1].params == {"orders": order_id}
    sandbox.advance(100_000)
    statuses = await client.order_statuses([order_id, "123"])
    assert statuses[order_id].status.is_final
    assert statuses["123"].not_found


async def test_refills_and_their_statuses_including_the_type_slip(
    sandbox: SandboxPanel, client: SmmSendClient, catalog: list[Service]
) -> None:
    orders = [await place(client, catalog, refill=True) for _ in range(4)]
    for order_id in orders:
        sandbox.set_status(order_id, "Completed")
    single = await client.refill(orders[0])
    assert single.accepted
    assert sandbox.requests[-1].params == {"orders": orders[0]}
    many = await client.refills(orders[1:])
    refill_ids = [single.refill_id or ""] + [many[i].refill_id or "" for i in orders[1:]]
    assert all(refill_ids)
    sandbox.advance(100_000)
    statuses = await client.refill_statuses(refill_ids)
    # One in three items says "type" instead of "status"; all must still be read.
    assert all(
        s.status in (RequestStatus.COMPLETED, RequestStatus.REJECTED) for s in statuses.values()
    )
    one = await client.refill_status(refill_ids[1])
    assert one.status is statuses[refill_ids[1]].status
    assert sandbox.requests[-1].params == {"refills": refill_ids[1]}


async def test_cancels_say_what_they_cancel_and_their_status_is_asked(
    sandbox: SandboxPanel, client: SmmSendClient, catalog: list[Service]
) -> None:
    plain = await place(client, catalog, cancel=True, dripfeed=False)
    drip_service = find(catalog, OrderType.DEFAULT, cancel=True, dripfeed=True)
    drip = await client.add_order(request_for(drip_service, runs=3, interval=10))
    before = sandbox.balance
    refund = sandbox.orders[plain].charge + sandbox.orders[drip].charge
    results = await client.cancels([plain, drip, "999"])
    assert results[plain].kind is CancelKind.ORDER
    assert results[drip].kind is CancelKind.DRIPFEED
    assert results["999"].error == "Incorrect order ID"
    assert sandbox.balance - before == refund
    cancel_ids = [results[plain].cancel_id or "", results[drip].cancel_id or ""]
    statuses = await client.cancel_statuses([*cancel_ids, "31337"])
    assert sandbox.requests[-1].action == "cancel"
    assert sandbox.requests[-1].params == {"cancels": ",".join([*cancel_ids, "31337"])}
    assert all(statuses[c].status is not RequestStatus.UNKNOWN for c in cancel_ids)
    assert statuses["31337"].error == "Cancel not found"


async def test_subscription_cancel_is_marked_as_one(
    sandbox: SandboxPanel, client: SmmSendClient, catalog: list[Service]
) -> None:
    service = find(catalog, OrderType.SUBSCRIPTIONS)
    order_id = await client.add_order(request_for(service))
    result = await client.cancel(order_id)
    assert result.kind is CancelKind.SUBSCRIPTION


async def test_250_cancel_statuses_take_3_requests(
    sandbox: SandboxPanel, client: SmmSendClient
) -> None:
    asked = [str(40_000 + i) for i in range(250)]
    statuses = await client.cancel_statuses(asked)
    assert list(statuses) == asked
    assert [len(r.params["cancels"].split(",")) for r in sandbox.requests] == [100, 100, 50]


async def test_cancel_status_retries_a_fault_but_not_forever(sandbox: SandboxPanel) -> None:
    client = SmmSendClient(sandbox.config_for("smmsend", retries=1))
    try:
        sandbox.faults.add("invalid_json", action="cancel")
        assert (await client.cancel_statuses(["1"]))["1"].error == "Cancel not found"
        sandbox.faults.add("http500", count=2, action="cancel")
        with pytest.raises(PanelUnavailable, match="HTTP 500"):
            await client.cancel_statuses(["1"])
    finally:
        await client.close()
    assert len(sandbox.requests) == 4


async def test_balance_and_bad_key(sandbox: SandboxPanel, client: SmmSendClient) -> None:
    sandbox.balance = Decimal("100.84292")
    assert (await client.balance()).amount == Decimal("100.84292")
    wrong = SmmSendClient(PanelConfig("send", "smmsend", sandbox.url_for("smmsend"), "nope-9"))
    try:
        with pytest.raises(AuthError):
            await wrong.cancel_statuses(["1"])
    finally:
        await wrong.close()
