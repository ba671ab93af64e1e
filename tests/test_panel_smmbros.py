"""The smmbros.in client against the sandbox: ``url`` links, one-order refills and cancels."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from bot.panels.base import PanelConfig
from bot.panels.errors import (
    AuthError,
    InsufficientFunds,
    InvalidRequest,
    OrderOutcomeUnknown,
    UnsupportedAction,
)
from bot.panels.models import OrderRequest, OrderStatus, OrderType, Service
from bot.panels.sandbox import SandboxPanel
from bot.panels.smmbros import SmmBrosClient
from tests.fakes.panel_fixtures import (
    LINK,
    ScriptedPanel,
    charged,
    find,
    request_for,
    scripted_config,
)
from tests.fakes.sandbox_fixtures import SANDBOX_KEY


@pytest.fixture(params=[False, True], ids=["clean-json", "sloppy-json"])
async def bros(request: pytest.FixtureRequest) -> AsyncIterator[SandboxPanel]:
    """A sandbox whose smmbros answers are clean JSON, or the slips its API page shows."""
    panel = SandboxPanel(
        key=SANDBOX_KEY, catalog_size=60, balance=Decimal(1000), seed=7, sloppy_json=request.param
    )
    async with panel.serve("127.0.0.1", 0):
        yield panel


@pytest.fixture
async def client(bros: SandboxPanel) -> AsyncIterator[SmmBrosClient]:
    c = SmmBrosClient(bros.config_for("smmbros", timeout=2.0, retries=2))
    yield c
    await c.close()


@pytest.fixture
async def catalog(client: SmmBrosClient) -> list[Service]:
    return await client.services()


async def place(
    client: SmmBrosClient, bros: SandboxPanel, catalog: list[Service], **flags: bool
) -> str:
    """Order the first Default service whose refill/cancel flags (unseen by smmbros) match."""
    wanted = str(bros.find_service(OrderType.DEFAULT, dialect="smmbros", **flags).service_id)
    service = next(s for s in catalog if s.service_id == wanted)
    return await client.add_order(request_for(service))


async def test_catalog_has_no_flags_so_every_service_may_try(
    bros: SandboxPanel, catalog: list[Service]
) -> None:
    assert catalog
    assert {s.type for s in catalog} <= SmmBrosClient.capabilities.order_types
    assert all(s.refill and s.cancel for s in catalog)
    assert not SmmBrosClient.capabilities.per_service_flags
    for service in catalog:
        assert service.rate == bros.service(service.service_id).rate


@pytest.mark.parametrize(
    "order_type",
    [
        OrderType.DEFAULT,
        OrderType.PACKAGE,
        OrderType.CUSTOM_COMMENTS,
        OrderType.CUSTOM_COMMENTS_PACKAGE,
    ],
)
async def test_orders_send_the_link_as_url(
    bros: SandboxPanel, client: SmmBrosClient, catalog: list[Service], order_type: OrderType
) -> None:
    service = find(catalog, order_type)
    request = request_for(service)
    before = bros.balance
    order_id = await client.add_order(request)
    sent = bros.requests[-1].params
    assert sent["url"] == LINK and "link" not in sent
    assert bros.orders[order_id].link == LINK
    assert before - bros.balance == charged(service, request)


async def test_drip_feed_order(
    bros: SandboxPanel, client: SmmBrosClient, catalog: list[Service]
) -> None:
    service = next(
        s for s in catalog if s.type is OrderType.DEFAULT and bros.service(s.service_id).dripfeed
    )
    order_id = await client.add_order(request_for(service, runs=4, interval=30))
    assert bros.orders[order_id].runs == 4


async def test_undocumented_order_type_is_refused_before_sending(
    bros: SandboxPanel, client: SmmBrosClient
) -> None:
    poll = OrderRequest("66", OrderType.POLL, link=LINK, quantity=100, answer_number=1)
    with pytest.raises(InvalidRequest, match="Poll"):
        await client.add_order(poll)
    assert not bros.requests


async def test_panel_refusals_are_classified(
    bros: SandboxPanel, client: SmmBrosClient, catalog: list[Service]
) -> None:
    with pytest.raises(InvalidRequest, match="Incorrect service ID"):
        await client.add_order(OrderRequest("99999", link=LINK, quantity=100))
    bros.balance = Decimal(0)
    with pytest.raises(InsufficientFunds):
        await place(client, bros, catalog)
    assert not bros.orders


async def test_add_that_failed_after_creating_is_outcome_unknown(
    bros: SandboxPanel, client: SmmBrosClient, catalog: list[Service]
) -> None:
    bros.faults.add("error_after_create")
    with pytest.raises(OrderOutcomeUnknown):
        await place(client, bros, catalog)
    assert len(bros.orders) == 1
    assert sum(1 for r in bros.requests if r.action == "add") == 1


async def test_statuses_single_and_250_in_3_requests(
    bros: SandboxPanel, client: SmmBrosClient, catalog: list[Service]
) -> None:
    order_id = await place(client, bros, catalog)
    bros.set_status(order_id, "Partial", remains=12)
    single = await client.order_status(order_id)
    assert (single.status, single.remains) == (OrderStatus.PARTIAL, 12)
    assert bros.requests[-1].params == {"order": order_id}
    asked = [order_id, *(str(700_000 + i) for i in range(249))]
    bros.requests.clear()
    statuses = await client.order_statuses(asked)
    assert len(bros.requests) == 3
    assert statuses[order_id].status is OrderStatus.PARTIAL
    assert all(statuses[i].not_found for i in asked[1:])


async def test_refill_is_accepted_with_the_panels_words(
    bros: SandboxPanel, client: SmmBrosClient, catalog: list[Service]
) -> None:
    order_id = await place(client, bros, catalog, refill=True)
    bros.set_status(order_id, "Completed")
    result = await client.refill(order_id)
    assert result.accepted
    assert result.refill_id is None
    assert "added for refill" in (result.message or "")
    assert bros.requests[-1].params == {"order": order_id}
    assert bros.orders[order_id].refill_ids


async def test_many_refills_are_one_request_per_order(
    bros: SandboxPanel, client: SmmBrosClient, catalog: list[Service]
) -> None:
    done = await place(client, bros, catalog, refill=True)
    bros.set_status(done, "Completed")
    running = await place(client, bros, catalog, refill=True)
    bros.requests.clear()
    results = await client.refills([done, running, "31337", done])
    assert list(results) == [done, running, "31337"]
    assert results[done].accepted
    assert results[running].error == "Order is not completed yet"
    assert results["31337"].error == "Incorrect order ID"
    assert sorted(r.params["order"] for r in bros.requests) == sorted([done, running, "31337"])


async def test_refill_status_is_not_offered(bros: SandboxPanel, client: SmmBrosClient) -> None:
    assert not SmmBrosClient.capabilities.refill_status
    with pytest.raises(UnsupportedAction):
        await client.refill_status("1")
    with pytest.raises(UnsupportedAction):
        await client.refill_statuses(["1", "2"])
    with pytest.raises(UnsupportedAction):
        await client.cancel_statuses(["1"])
    assert not bros.requests


async def test_cancel_refunds_and_answers_per_order(
    bros: SandboxPanel, client: SmmBrosClient, catalog: list[Service]
) -> None:
    can = await place(client, bros, catalog, cancel=True)
    cannot = await place(client, bros, catalog, cancel=False)
    charge = bros.orders[can].charge
    before = bros.balance
    results = await client.cancels([can, cannot])
    assert results[can].accepted and results[can].cancel_id is None
    assert "cancellation" in (results[can].message or "")
    assert results[cannot].error == "Cancel is disabled for this service"
    assert bros.balance - before == charge
    single = await client.cancel(can)
    assert single.error == "Cancellation request was sent earlier"


async def test_balance_is_a_number(bros: SandboxPanel, client: SmmBrosClient) -> None:
    bros.balance = Decimal("987.65")
    balance = await client.balance()
    assert balance.amount == Decimal("987.65")
    assert balance.currency == "USD"


async def test_bad_key_stops_a_batch_of_refills(bros: SandboxPanel) -> None:
    config = PanelConfig("bros", "smmbros", bros.url_for("smmbros"), "sk-WRONG-2")
    client = SmmBrosClient(config)
    try:
        with pytest.raises(AuthError) as caught:
            await client.refills(["1", "2", "3"])
    finally:
        await client.close()
    assert "sk-WRONG-2" not in str(caught.value)


async def test_refills_run_a_few_at_a_time() -> None:
    panel = ScriptedPanel()
    panel.delay = 0.02
    panel.answer("refill", {"status": "Success", "message": "ok"})
    async with panel.serve() as url:
        client = SmmBrosClient(scripted_config(url, dialect="smmbros"))
        try:
            results = await client.refills([str(i) for i in range(12)])
        finally:
            await client.close()
    assert all(r.accepted for r in results.values())
    assert len(panel.forms) == 12
    assert 1 < panel.most_in_flight <= SmmBrosClient.concurrency


async def test_refill_answer_not_saying_success_is_a_refusal() -> None:
    panel = ScriptedPanel()
    panel.answer("refill", b'{"status": Failed, "message": "Refill is not available"}')
    async with panel.serve() as url:
        client = SmmBrosClient(scripted_config(url, dialect="smmbros"))
        try:
            result = await client.refill("5")
        finally:
            await client.close()
    assert not result.accepted
    assert result.error == "Refill is not available"
