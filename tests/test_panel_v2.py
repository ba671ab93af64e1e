"""The API v2 client (smmtimes, smm.plus) against the sandbox panel over loopback HTTP."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from typing import Any

import pytest

from bot.panels.base import PanelConfig
from bot.panels.errors import (
    AuthError,
    InsufficientFunds,
    InvalidRequest,
    OrderOutcomeUnknown,
    PanelError,
    PanelUnavailable,
    RateLimited,
)
from bot.panels.models import (
    CancelKind,
    OrderRequest,
    OrderStatus,
    OrderType,
    RequestStatus,
    Service,
)
from bot.panels.sandbox import SandboxPanel
from bot.panels.v2 import LEFT_OUT, V2Client
from tests.fakes.panel_fixtures import (
    LINK,
    ScriptedPanel,
    charged,
    find,
    free_port,
    request_for,
    scripted_config,
)


@pytest.fixture
async def client(sandbox: SandboxPanel) -> AsyncIterator[V2Client]:
    c = V2Client(sandbox.config_for("v2", timeout=2.0, retries=2))
    yield c
    await c.close()


@pytest.fixture
async def catalog(client: V2Client) -> list[Service]:
    return await client.services()


async def place(client: V2Client, catalog: list[Service], **flags: bool) -> str:
    service = find(catalog, OrderType.DEFAULT, **flags)
    return await client.add_order(request_for(service))


def adds(sandbox: SandboxPanel) -> int:
    return sum(1 for r in sandbox.requests if r.action == "add")


# ---------------------------------------------------------------------- a scripted panel


async def test_catalog_lists_every_service_with_exact_prices(
    sandbox: SandboxPanel, catalog: list[Service]
) -> None:
    assert len(catalog) == len(sandbox.catalog)
    for service in catalog:
        source = sandbox.service(service.service_id)
        assert service.rate == source.rate
        assert isinstance(service.rate, Decimal)
        assert (service.min, service.max) == (source.min, source.max)
        assert (service.refill, service.cancel) == (source.refill, source.cancel)
        assert service.type is source.type
        assert service.category == source.category
    assert {s.type for s in catalog} == set(OrderType)


# ---------------------------------------------------------------------- placing orders


@pytest.mark.parametrize("order_type", list(OrderType))
async def test_every_order_type_is_placed_and_charged_its_price(
    sandbox: SandboxPanel, client: V2Client, catalog: list[Service], order_type: OrderType
) -> None:
    service = find(catalog, order_type)
    request = request_for(service)
    before = sandbox.balance
    order_id = await client.add_order(request)
    order = sandbox.orders[order_id]
    assert order.service_id == service.service_id
    assert before - sandbox.balance == charged(service, request)
    sent = sandbox.requests[-1].params
    for name, value in request.to_form().items():
        assert sent[name] == value
    assert "key" not in sent


async def test_drip_feed_order_is_charged_for_every_run(
    sandbox: SandboxPanel, client: V2Client, catalog: list[Service]
) -> None:
    service = next(
        s
        for s in catalog
        if s.type is OrderType.DEFAULT and sandbox.service(s.service_id).dripfeed
    )
    request = request_for(service, runs=3, interval=15)
    before = sandbox.balance
    order_id = await client.add_order(request)
    assert sandbox.orders[order_id].runs == 3
    assert before - sandbox.balance == charged(service, request)
    assert charged(service, request) == charged(service, request_for(service)) * 3


async def test_add_refuses_an_incomplete_order_before_sending(
    sandbox: SandboxPanel, client: V2Client
) -> None:
    with pytest.raises(InvalidRequest, match="quantity"):
        await client.add_order(OrderRequest("6", link=LINK))
    assert adds(sandbox) == 0


# ---------------------------------------------------------------------- statuses


async def test_single_status_follows_the_order_to_completion(
    sandbox: SandboxPanel, client: V2Client, catalog: list[Service]
) -> None:
    order_id = await place(client, catalog)
    first = await client.order_status(order_id)
    assert first.status is OrderStatus.PENDING
    assert sandbox.requests[-1].params == {"order": order_id}
    sandbox.advance(100_000)
    final = await client.order_status(order_id)
    assert final.status is OrderStatus.COMPLETED
    assert final.remains == 0
    assert final.charge == sandbox.orders[order_id].charge
    assert final.currency == "USD"


async def test_partial_order_reports_what_remains(
    sandbox: SandboxPanel, client: V2Client, catalog: list[Service]
) -> None:
    order_id = await place(client, catalog)
    sandbox.set_status(order_id, "Partial", remains=40)
    info = await client.order_status(order_id)
    assert info.status is OrderStatus.PARTIAL
    assert info.status.is_final
    assert info.remains == 40


async def test_forgotten_order_reads_as_not_found(
    sandbox: SandboxPanel, client: V2Client, catalog: list[Service]
) -> None:
    order_id = await place(client, catalog)
    sandbox.forget_order(order_id)
    single = await client.order_status(order_id)
    many = await client.order_statuses([order_id])
    assert single.not_found and many[order_id].not_found
    assert not single.status.is_final


async def test_250_statuses_take_3_requests_with_per_id_errors(
    sandbox: SandboxPanel, client: V2Client, catalog: list[Service]
) -> None:
    real = [await place(client, catalog) for _ in range(3)]
    asked = [*real, *(str(900_000 + i) for i in range(247))]
    sandbox.requests.clear()
    statuses = await client.order_statuses(asked)
    assert list(statuses) == asked
    sizes = [len(r.params["orders"].split(",")) for r in sandbox.requests]
    assert sizes == [100, 100, 50]
    assert all(statuses[i].status is OrderStatus.PENDING for i in real)
    unknown = [statuses[i] for i in asked[3:]]
    assert all(s.not_found and s.status is OrderStatus.UNKNOWN for s in unknown)


async def test_sloppy_status_answers_are_read(
    scripted: tuple[ScriptedPanel, str],
) -> None:
    panel, url = scripted
    panel.answer(
        "status",
        {
            "1": {
                "charge": 0.27819,
                "start_count": 3572,
                "status": "  in PROGRESS ",
                "remains": "",
            },
            "2": {"charge": "1.5", "status": "COMPLETED", "remains": 0, "currency": "usd"},
            "3": {"status": "partial", "remains": "  157 "},
            "4": {"error": "Incorrect order ID"},
        },
    )
    client = V2Client(scripted_config(url))
    try:
        statuses = await client.order_statuses(["1", "2", "3", "4", "5"])
    finally:
        await client.close()
    assert statuses["1"].status is OrderStatus.IN_PROGRESS
    assert statuses["1"].charge == Decimal("0.27819")
    assert statuses["1"].start_count == 3572
    assert statuses["1"].remains is None
    assert statuses["2"].status is OrderStatus.COMPLETED
    assert statuses["3"].status is OrderStatus.PARTIAL and statuses["3"].remains == 157
    assert statuses["4"].not_found
    # The panel left 5 out: an error for it, but never "not found" (that would refund it).
    assert statuses["5"].error == LEFT_OUT and not statuses["5"].not_found


async def test_a_status_list_of_objects_is_read_too(scripted: tuple[ScriptedPanel, str]) -> None:
    panel, url = scripted
    panel.answer("status", [{"order": 7, "status": "Canceled", "remains": "100"}])
    client = V2Client(scripted_config(url))
    try:
        statuses = await client.order_statuses(["7", "8"])
    finally:
        await client.close()
    assert statuses["7"].status is OrderStatus.CANCELED
    assert statuses["8"].error == LEFT_OUT


# ---------------------------------------------------------------------- refills


async def test_refill_a_completed_order_and_follow_it(
    sandbox: SandboxPanel, client: V2Client, catalog: list[Service]
) -> None:
    order_id = await place(client, catalog, refill=True)
    sandbox.set_status(order_id, "Completed")
    result = await client.refill(order_id)
    assert result.accepted and result.refill_id in sandbox.books.refills
    assert sandbox.requests[-1].params == {"order": order_id}
    assert (await client.refill_status(result.refill_id)).status is RequestStatus.PENDING
    sandbox.advance(100_000)
    done = await client.refill_status(result.refill_id)
    assert done.status is RequestStatus.COMPLETED
    missing = await client.refill_status("999999")
    assert missing.error == "Refill not found"


async def test_many_refills_answer_per_order(
    sandbox: SandboxPanel, client: V2Client, catalog: list[Service]
) -> None:
    done = [await place(client, catalog, refill=True) for _ in range(2)]
    for order_id in done:
        sandbox.set_status(order_id, "Completed")
    running = await place(client, catalog, refill=True)
    results = await client.refills([*done, running, "424242"])
    assert all(results[i].accepted for i in done)
    assert results[running].error == "Order is not completed yet"
    assert results["424242"].error == "Incorrect order ID"
    refill_ids = [results[i].refill_id or "" for i in done]
    statuses = await client.refill_statuses([*refill_ids, "777777"])
    assert all(statuses[r].status is RequestStatus.PENDING for r in refill_ids)
    assert statuses["777777"].error == "Refill not found"
    assert sandbox.requests[-1].params == {"refills": ",".join([*refill_ids, "777777"])}


# ---------------------------------------------------------------------- cancels


async def test_cancel_refunds_the_order(
    sandbox: SandboxPanel, client: V2Client, catalog: list[Service]
) -> None:
    order_id = await place(client, catalog, cancel=True)
    charge = sandbox.orders[order_id].charge
    before = sandbox.balance
    result = await client.cancel(order_id)
    assert result.accepted and result.cancel_id is not None
    assert result.kind is CancelKind.ORDER
    assert sandbox.requests[-1].params == {"orders": order_id}
    assert sandbox.balance - before == charge
    assert (await client.order_status(order_id)).status is OrderStatus.CANCELED


async def test_cancels_answer_per_order(
    sandbox: SandboxPanel, client: V2Client, catalog: list[Service]
) -> None:
    can = await place(client, catalog, cancel=True)
    cannot = await place(client, catalog, cancel=False)
    results = await client.cancels([can, cannot, "555555"])
    assert results[can].accepted
    assert results[cannot].error == "Cancel is disabled for this service"
    assert results["555555"].error == "Incorrect order ID"


async def test_250_cancels_take_3_requests(sandbox: SandboxPanel, client: V2Client) -> None:
    asked = [str(800_000 + i) for i in range(250)]
    results = await client.cancels(asked)
    assert set(results) == set(asked)
    assert [r.action for r in sandbox.requests] == ["cancel"] * 3
    assert all(r.error == "Incorrect order ID" for r in results.values())


async def test_cancel_chunk_that_fails_fails_only_its_orders(
    sandbox: SandboxPanel, client: V2Client
) -> None:
    sandbox.faults.add("http500", action="cancel")
    asked = [str(800_000 + i) for i in range(150)]
    results = await client.cancels(asked)
    assert all("HTTP 500" in (results[i].error or "") for i in asked[:100])
    assert all(results[i].error == "Incorrect order ID" for i in asked[100:])
    assert len(sandbox.requests) == 2  # a write is never retried


# ---------------------------------------------------------------------- balance


async def test_balance_is_exact(sandbox: SandboxPanel, client: V2Client) -> None:
    sandbox.balance = Decimal("123.45678")
    balance = await client.balance()
    assert balance.amount == Decimal("123.45678")
    assert balance.currency == "USD"


# ---------------------------------------------------------------------- panel errors


async def test_bad_key_is_an_auth_error_everywhere(sandbox: SandboxPanel) -> None:
    config = PanelConfig("times", "v2", sandbox.url_for("v2"), "sk-WRONG-1", retries=2)
    client = V2Client(config)
    try:
        calls: list[Callable[[], Awaitable[object]]] = [
            client.services,
            lambda: client.add_order(OrderRequest("6", link=LINK, quantity=100)),
            lambda: client.order_status("1001"),
            lambda: client.order_statuses(["1001", "1002"]),
            lambda: client.refill("1001"),
            lambda: client.refills(["1001"]),
            lambda: client.refill_status("501"),
            lambda: client.cancels(["1001"]),
            client.balance,
        ]
        for call in calls:
            with pytest.raises(AuthError, match="Invalid API key"):
                await call()
    finally:
        await client.close()
    assert len(sandbox.requests) == len(calls)  # an auth error is not retried


async def test_not_enough_funds_places_nothing(
    sandbox: SandboxPanel, client: V2Client, catalog: list[Service]
) -> None:
    sandbox.balance = Decimal("0.00010")
    with pytest.raises(InsufficientFunds, match="Not enough funds"):
        await place(client, catalog)
    assert not sandbox.orders
    assert sandbox.balance == Decimal("0.00010")


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"service_id": "99999"}, "Incorrect service ID"),
        ({"link": "not a link"}, "Incorrect link"),
        ({"quantity": 1}, "Quantity less than minimal"),
        ({"quantity": 10**9}, "Quantity more than maximal"),
    ],
)
async def test_refused_orders_are_invalid_requests(
    sandbox: SandboxPanel,
    client: V2Client,
    catalog: list[Service],
    change: dict[str, Any],
    words: str,
) -> None:
    request = request_for(find(catalog, OrderType.DEFAULT))
    for name, value in change.items():
        setattr(request, name, value)
    with pytest.raises(InvalidRequest, match=words):
        await client.add_order(request)
    assert not sandbox.orders


async def test_rate_limit_on_add_is_not_retried_and_places_nothing(
    sandbox: SandboxPanel, client: V2Client, catalog: list[Service]
) -> None:
    sandbox.faults.add("rate_limit", action="add")
    with pytest.raises(RateLimited) as caught:
        await place(client, catalog)
    assert caught.value.retry_after == 1
    assert adds(sandbox) == 1
    assert not sandbox.orders


async def test_rate_limit_worded_in_json_is_classified(
    sandbox: SandboxPanel, client: V2Client, catalog: list[Service]
) -> None:
    sandbox.faults.add("error", action="add", message="Too many requests, slow down")
    with pytest.raises(RateLimited):
        await place(client, catalog)
    assert not sandbox.orders


async def test_rate_limited_read_waits_and_retries(
    sandbox: SandboxPanel, client: V2Client
) -> None:
    sandbox.faults.add("rate_limit", action="balance")
    balance = await client.balance()
    assert balance.amount == sandbox.balance
    assert [r.fault for r in sandbox.requests] == ["rate_limit", None]


# ---------------------------------------------------------------------- transport faults


@pytest.mark.parametrize("fault", ["http500", "html", "invalid_json", "refuse_connection"])
async def test_add_whose_answer_is_lost_is_outcome_unknown_and_not_retried(
    sandbox: SandboxPanel, client: V2Client, catalog: list[Service], fault: str
) -> None:
    sandbox.faults.add(fault, action="add")
    with pytest.raises(OrderOutcomeUnknown):
        await place(client, catalog)
    assert adds(sandbox) == 1


async def test_add_that_hangs_is_outcome_unknown(
    sandbox: SandboxPanel, catalog: list[Service]
) -> None:
    client = V2Client(sandbox.config_for("v2", timeout=0.2))
    sandbox.faults.add("hang", action="add")
    try:
        with pytest.raises(OrderOutcomeUnknown, match="in time"):
            await place(client, catalog)
    finally:
        await client.close()
    assert adds(sandbox) == 1


async def test_add_created_then_failed_is_outcome_unknown_with_one_order(
    sandbox: SandboxPanel, client: V2Client, catalog: list[Service]
) -> None:
    sandbox.faults.add("error_after_create")
    before = sandbox.balance
    with pytest.raises(OrderOutcomeUnknown) as caught:
        await place(client, catalog)
    assert isinstance(caught.value.__cause__, PanelUnavailable)
    assert adds(sandbox) == 1
    assert len(sandbox.orders) == 1
    assert sandbox.balance < before


async def test_add_to_a_closed_port_is_certainly_not_placed() -> None:
    config = PanelConfig("down", "v2", f"http://127.0.0.1:{free_port()}/api/v2", "k")
    client = V2Client(config)
    try:
        with pytest.raises(PanelUnavailable) as caught:
            await client.add_order(OrderRequest("6", link=LINK, quantity=100))
    finally:
        await client.close()
    assert not isinstance(caught.value, OrderOutcomeUnknown)


async def test_add_answered_without_order_id_is_outcome_unknown(
    scripted: tuple[ScriptedPanel, str],
) -> None:
    panel, url = scripted
    panel.answer("add", {"status": "ok"})
    client = V2Client(scripted_config(url))
    try:
        with pytest.raises(OrderOutcomeUnknown, match="no order ID"):
            await client.add_order(OrderRequest("6", link=LINK, quantity=100))
    finally:
        await client.close()
    assert len(panel.forms) == 1


async def test_add_answer_with_sloppy_json_still_gives_the_order(
    scripted: tuple[ScriptedPanel, str],
) -> None:
    panel, url = scripted
    panel.answer("add", b'{\n\t"order": 23501,\n}')
    client = V2Client(scripted_config(url))
    try:
        assert await client.add_order(OrderRequest("6", link=LINK, quantity=100)) == "23501"
    finally:
        await client.close()


@pytest.mark.parametrize("fault", ["http500", "html", "invalid_json", "refuse_connection"])
async def test_reads_retry_past_a_fault(
    sandbox: SandboxPanel, client: V2Client, catalog: list[Service], fault: str
) -> None:
    order_id = await place(client, catalog)
    sandbox.requests.clear()
    sandbox.faults.add(fault, action="status")
    assert (await client.order_statuses([order_id]))[order_id].status is OrderStatus.PENDING
    sandbox.faults.add(fault, action="services")
    assert len(await client.services()) == len(catalog)
    assert [r.fault for r in sandbox.requests] == [fault, None, fault, None]


async def test_reads_give_up_after_their_retries(sandbox: SandboxPanel) -> None:
    client = V2Client(sandbox.config_for("v2", timeout=0.2, retries=1))
    sandbox.faults.add("http500", count=1, action="balance")
    sandbox.faults.add("hang", count=1, action="balance")
    try:
        with pytest.raises(PanelUnavailable, match="in time"):
            await client.balance()
    finally:
        await client.close()
    assert len(sandbox.requests) == 2


# ---------------------------------------------------------------------- secrets and headers


async def test_api_key_never_reaches_errors_reprs_or_logs(
    sandbox: SandboxPanel, catalog: list[Service], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = V2Client(sandbox.config_for("v2", timeout=0.2, retries=1))
    errors: list[PanelError] = []
    for fault in ("http500", "html", "invalid_json", "hang", "rate_limit", "error_after_create"):
        sandbox.faults.add(fault, count=3)
        # A rate-limited read waits the panel's Retry-After; one slow read is enough.
        calls: list[Callable[[], Awaitable[object]]] = [lambda: place(client, catalog)]
        if fault != "rate_limit":
            calls.append(client.balance)
        for call in calls:
            try:
                await call()
            except PanelError as e:
                errors.append(e)
        sandbox.faults.clear()
    await client.close()
    assert len(errors) >= 9
    texts = [str(e) for e in errors] + [repr(e) for e in errors]
    texts += [repr(client), repr(client.config), repr(client.transport), caplog.text]
    assert not [t for t in texts if sandbox.key in t]
    assert "retrying" in caplog.text  # the logs were captured, and still hold no key


async def test_a_panel_echoing_the_key_is_scrubbed(scripted: tuple[ScriptedPanel, str]) -> None:
    panel, url = scripted
    panel.answer("balance", lambda form: {"error": f"API key {form['key']} is disabled"})
    client = V2Client(scripted_config(url))
    try:
        with pytest.raises(AuthError) as caught:
            await client.balance()
    finally:
        await client.close()
    assert "sk-SECRET-42" not in str(caught.value)
    assert "is disabled" in str(caught.value)


async def test_user_agent_is_the_configured_one(scripted: tuple[ScriptedPanel, str]) -> None:
    panel, url = scripted
    panel.answer("balance", {"balance": "1.00000", "currency": "USD"})
    client = V2Client(scripted_config(url, user_agent="MyResellerBot/2.0 (+https://t.me/me)"))
    try:
        await client.balance()
    finally:
        await client.close()
    assert panel.headers[0]["User-Agent"] == "MyResellerBot/2.0 (+https://t.me/me)"
    assert panel.forms == [{"key": "sk-SECRET-42", "action": "balance"}]


async def test_a_slow_panel_within_the_timeout_is_waited_for(
    sandbox: SandboxPanel, client: V2Client, catalog: list[Service]
) -> None:
    sandbox.faults.add("latency", action="add", seconds=0.05)
    order_id = await place(client, catalog)
    assert order_id in sandbox.orders
    assert [r.fault for r in sandbox.requests if r.action == "add"] == ["latency"]
