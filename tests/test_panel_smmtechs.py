"""The smmtechs client against the sandbox panel (and a few canned answers) over loopback HTTP."""

from __future__ import annotations

import dataclasses
import logging
import time
import traceback
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from aiohttp import web

from bot.panels.base import PanelConfig
from bot.panels.errors import (
    AuthError,
    InsufficientFunds,
    InvalidRequest,
    OrderOutcomeUnknown,
    PanelError,
    PanelRejected,
    PanelUnavailable,
    RateLimited,
    UnsupportedAction,
)
from bot.panels.models import OrderRequest, OrderStatus, OrderType
from bot.panels.registry import make_client
from bot.panels.sandbox import CatalogService, SandboxPanel
from bot.panels.smmtechs import RequestBudget, SmmTechsClient

SECRET = "tech-secret-key-0123456789"


def assert_key_hidden(error: BaseException, caplog: pytest.LogCaptureFixture, key: str) -> None:
    """Fail when the key shows in the error, its traceback or anything logged."""
    assert key not in str(error)
    assert key not in repr(error)
    assert key not in "".join(traceback.format_exception(error))
    for record in caplog.records:
        if record.name == "aiohttp.access":
            continue  # the panel's own access log, not ours
        assert key not in record.getMessage()
        if record.exc_info:
            assert key not in "".join(traceback.format_exception(*record.exc_info))


# --------------------------------------------------------------------------- canned answers


@dataclass
class CannedPanel:
    """A loopback server answering each method with a fixed body, recording every call."""

    url: str = ""
    answers: dict[str, str] = field(default_factory=dict)
    calls: list[tuple[str, dict[str, str]]] = field(default_factory=list)


@pytest.fixture
async def canned() -> AsyncIterator[CannedPanel]:
    panel = CannedPanel()

    async def method(request: web.Request) -> web.StreamResponse:
        name = request.match_info["method"]
        panel.calls.append((name, dict(request.query)))
        if name == "loop":
            # Always redirect to itself, with the key still in the query string.
            raise web.HTTPFound(str(request.rel_url))
        return web.Response(text=panel.answers.get(name, "{}"), content_type="application/json")

    app = web.Application()
    app.router.add_route("*", "/api/method/{method}", method)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    panel.url = f"http://127.0.0.1:{port}/api/method"
    try:
        yield panel
    finally:
        await runner.cleanup()


def canned_techs_client(url: str) -> SmmTechsClient:
    config = PanelConfig(
        name="techs", dialect="smmtechs", url=url, key=SECRET, timeout=2.0, retries=2, backoff=0.01
    )
    return SmmTechsClient(config)


@pytest.fixture
async def canned_client(canned: CannedPanel) -> AsyncIterator[SmmTechsClient]:
    client = canned_techs_client(canned.url)
    try:
        yield client
    finally:
        await client.close()


async def test_types_from_the_vendors_sloppy_answer(
    canned: CannedPanel, canned_client: SmmTechsClient
) -> None:
    # As the vendor's page shows it: keyed by position, trailing commas, "success": 0.
    canned.answers["getTypes"] = """{"response": {
        "7": {"type": 23, "price": 0.024, "desc": "Subscribe to a channel on Youtube",},
        "13": {"type": "12", "price": "0.015", "desc": "Retweet a post"},
        "20": {"type": 99, "price": 0.5, "desc": "Something new", "min": 10, "max": 500},
        "21": {"price": 0.01, "desc": "no type id"},
    }, "success": 0}"""
    services = {s.service_id: s for s in await canned_client.services()}

    assert set(services) == {"23", "12", "99"}
    youtube = services["23"]
    assert youtube.rate == Decimal("24")  # 0.024 per subscriber is 24 per 1000
    assert isinstance(youtube.rate, Decimal)
    assert youtube.name == "Subscribe to a channel on Youtube"
    assert youtube.category == "YouTube"
    assert youtube.type is OrderType.DEFAULT
    assert (youtube.min, youtube.max) == (1, 100_000)
    assert not (youtube.refill or youtube.cancel or youtube.dripfeed)
    assert services["12"].category == "Twitter"
    assert services["12"].rate == Decimal("15")
    assert (services["99"].min, services["99"].max, services["99"].category) == (10, 500, "Other")
    assert canned.calls == [("getTypes", {"api_key": SECRET})]


async def test_types_error_with_success_zero_is_an_auth_error(
    canned: CannedPanel, canned_client: SmmTechsClient
) -> None:
    canned.answers["getTypes"] = '{"success": 0, "error": "Invalid api_key"}'
    with pytest.raises(AuthError, match="Invalid api_key"):
        await canned_client.services()
    assert len(canned.calls) == 1  # a refused key is not retried


async def test_task_id_from_a_bare_number_is_an_unknown_outcome(
    canned: CannedPanel, canned_client: SmmTechsClient
) -> None:
    # The vendor's page also shows "response": 1; a bare 1 is not a task ID to track.
    canned.answers["newTask"] = '{"success": 1, "response": 1}'
    request = OrderRequest(service_id="23", link="https://youtube.com/c/x", quantity=50)
    with pytest.raises(OrderOutcomeUnknown) as caught:
        await canned_client.add_order(request)
    assert "smmbot-" in str(caught.value)  # the task name to look for in the panel
    assert [name for name, _ in canned.calls] == ["newTask"]


async def test_a_redirect_is_refused_without_following_it_or_showing_the_key(
    canned: CannedPanel, canned_client: SmmTechsClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(PanelUnavailable) as caught:
        await canned_client._read("loop", {"tid": "1"})
    assert_key_hidden(caught.value, caplog, SECRET)
    assert "redirect" in str(caught.value)
    # Followed, the self-redirect would loop 10 times per attempt; refused, each attempt is one.
    assert len(canned.calls) == 1 + canned_client.config.retries


# --------------------------------------------------------------------------- request budget


class Clock:
    """A hand-moved clock for the request budget."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_budget_refuses_past_the_hourly_limit_until_the_hour_passes() -> None:
    clock = Clock()
    budget = RequestBudget(per_hour=3, per_day=100, clock=clock)
    for _ in range(3):
        budget.spend()
        clock.now += 10
    assert budget.remaining == 0
    with pytest.raises(RateLimited) as caught:
        budget.spend(panel="techs")
    assert "hourly limit of 3" in str(caught.value)
    assert caught.value.retry_after == pytest.approx(3600 - 30)
    clock.now += 3600 - 30
    budget.spend()  # the first request has left the window
    assert budget.remaining == 0


def test_budget_refuses_past_the_daily_limit() -> None:
    clock = Clock()
    budget = RequestBudget(per_hour=10, per_day=12, clock=clock)
    for _ in range(12):
        budget.spend()
        clock.now += 1800  # two an hour stays under the hourly limit
    with pytest.raises(RateLimited, match="daily limit of 12") as caught:
        budget.spend()
    assert caught.value.retry_after == pytest.approx(24 * 3600 - 12 * 1800)
    clock.now = 1000 + 24 * 3600  # the first request is a day old
    budget.spend()


def test_budget_rejects_nonsense_limits() -> None:
    with pytest.raises(ValueError):
        RequestBudget(per_hour=0)


# --------------------------------------------------------------------------- the sandbox


def techs_client(
    sandbox: SandboxPanel,
    *,
    key: str | None = None,
    timeout: float = 2.0,
    hourly_limit: int = 1000,
    concurrency: int = 4,
    clock: Clock | None = None,
) -> SmmTechsClient:
    config = sandbox.config_for("smmtechs", name="techs", timeout=timeout, retries=2)
    if key is not None:
        config = dataclasses.replace(config, key=key)
    return SmmTechsClient(
        config,
        hourly_limit=hourly_limit,
        concurrency=concurrency,
        clock=clock or time.monotonic,
    )


@pytest.fixture
async def techs(sandbox: SandboxPanel) -> AsyncIterator[SmmTechsClient]:
    client = techs_client(sandbox)
    try:
        yield client
    finally:
        await client.close()


@pytest.fixture
def task_type(sandbox: SandboxPanel) -> CatalogService:
    return sandbox.find_service(dialect="smmtechs")


def order_for(service: CatalogService, quantity: int | None = None) -> OrderRequest:
    return OrderRequest(
        service_id=str(service.service_id),
        link="https://instagram.com/some.account",
        quantity=quantity if quantity is not None else max(service.min, 1000),
    )


def methods(sandbox: SandboxPanel) -> list[str]:
    return [r.action for r in sandbox.requests]


async def test_services_are_the_panels_task_types_priced_per_thousand(
    sandbox: SandboxPanel, techs: SmmTechsClient
) -> None:
    services = await techs.services()

    assert services
    for service in services:
        sold = sandbox.service(service.service_id)
        assert service.rate == sold.rate  # the panel's per-action price × 1000, exactly
        assert service.name == sold.name
        assert service.max == sold.max  # read from "… | Max 10K | …"
        assert service.type is OrderType.DEFAULT
        assert service.category == sold.platform.replace("Twitter/X", "Twitter")
        assert not (service.refill or service.cancel or service.dripfeed)
    assert methods(sandbox) == ["getTypes"]
    assert "api_key" not in sandbox.requests[0].params


async def test_add_order_creates_one_running_task(
    sandbox: SandboxPanel, techs: SmmTechsClient, task_type: CatalogService
) -> None:
    before = sandbox.balance
    task_id = await techs.add_order(order_for(task_type, 1000))

    order = sandbox.orders[task_id]
    assert order.quantity == 1000
    assert order.link == "https://instagram.com/some.account"
    assert sandbox.balance == before - task_type.rate  # 1000 actions at rate per 1000
    sent = sandbox.requests[-1]
    assert sent.action == "newTask"
    assert sent.params["type"] == str(task_type.service_id)
    assert sent.params["status"] == "1"
    assert sent.params["task_name"].startswith("smmbot-")
    assert len(sent.params["task_name"]) <= 20


async def test_status_follows_the_task_from_pending_to_completed(
    sandbox: SandboxPanel, techs: SmmTechsClient, task_type: CatalogService
) -> None:
    task_id = await techs.add_order(order_for(task_type, 1000))
    order = sandbox.orders[task_id]

    first = await techs.order_status(task_id)
    assert (first.status, first.remains, first.error) == (OrderStatus.PENDING, 1000, None)
    assert first.charge == Decimal(0)

    sandbox.advance(order.start_at - sandbox.clock.now() + (order.finish_at - order.start_at) / 2)
    middle = await techs.order_status(task_id)
    assert middle.status is OrderStatus.IN_PROGRESS
    assert middle.remains is not None and 0 < middle.remains < 1000

    sandbox.advance(order.finish_at)
    done = await techs.order_status(task_id)
    assert (done.status, done.remains) == (OrderStatus.COMPLETED, 0)
    assert done.charge == order.charge
    # The ordered quantity was remembered: no getTasks needed.
    assert methods(sandbox) == ["newTask", "getTaskStat", "getTaskStat", "getTaskStat"]


async def test_a_fresh_client_learns_the_quantity_from_get_tasks(
    sandbox: SandboxPanel, techs: SmmTechsClient, task_type: CatalogService
) -> None:
    first = await techs.add_order(order_for(task_type, 1000))
    second = await techs.add_order(order_for(task_type, 2000))
    order = sandbox.orders[second]
    sandbox.advance(order.start_at - sandbox.clock.now() + 1)
    sandbox.set_status(first, "Completed")

    restarted = techs_client(sandbox)
    try:
        sandbox.requests.clear()
        statuses = await restarted.order_statuses([first, second])
    finally:
        await restarted.close()

    assert statuses[first].status is OrderStatus.COMPLETED
    assert statuses[second].status in (OrderStatus.PENDING, OrderStatus.IN_PROGRESS)
    remains = statuses[second].remains  # known only from getTasks' quantity
    assert remains is not None and 0 < remains <= 2000
    assert methods(sandbox).count("getTasks") == 1  # one call for both tasks
    asked = next(r.params for r in sandbox.requests if r.action == "getTasks")
    assert sorted(asked["tids"].split(",")) == sorted([first, second])


async def test_stopped_tasks_with_money_returned_are_partial_or_canceled(
    sandbox: SandboxPanel, techs: SmmTechsClient, task_type: CatalogService
) -> None:
    partial = await techs.add_order(order_for(task_type, 1000))
    canceled = await techs.add_order(order_for(task_type, 1000))
    sandbox.set_status(partial, "Partial", remains=300)
    sandbox.set_status(canceled, "Canceled")

    statuses = await techs.order_statuses([partial, canceled])

    assert statuses[partial].status is OrderStatus.PARTIAL
    assert statuses[partial].remains == 300
    # What the panel kept: 700 of 1000 actions.
    assert statuses[partial].charge == task_type.rate * 700 / 1000
    assert statuses[canceled].status is OrderStatus.CANCELED
    assert statuses[canceled].remains == 1000
    assert statuses[canceled].charge == Decimal(0)
    assert all(info.status.is_final for info in statuses.values())


async def test_an_unknown_task_is_flagged_per_id(
    sandbox: SandboxPanel, techs: SmmTechsClient, task_type: CatalogService
) -> None:
    kept = await techs.add_order(order_for(task_type))
    lost = await techs.add_order(order_for(task_type))
    sandbox.forget_order(lost)
    sandbox.requests.clear()

    statuses = await techs.order_statuses([kept, lost, "not-a-task"])

    assert statuses[kept].error is None
    assert statuses[lost].not_found
    assert statuses[lost].status is OrderStatus.UNKNOWN
    assert statuses["not-a-task"].not_found
    assert methods(sandbox) == ["getTaskStat", "getTaskStat"]  # nothing sent for "not-a-task"


async def test_a_wrong_key_is_an_auth_error_everywhere(
    sandbox: SandboxPanel, task_type: CatalogService, caplog: pytest.LogCaptureFixture
) -> None:
    client = techs_client(sandbox, key="wrong-key-123456")
    try:
        with pytest.raises(AuthError):
            await client.services()
        with pytest.raises(AuthError) as caught:
            await client.add_order(order_for(task_type))
        with pytest.raises(AuthError):
            await client.order_statuses(["1001"])
    finally:
        await client.close()
    assert sandbox.orders == {}
    assert methods(sandbox) == ["getTypes", "newTask", "getTaskStat"]  # none retried
    assert_key_hidden(caught.value, caplog, "wrong-key-123456")


async def test_refusals_of_new_tasks_place_nothing(
    sandbox: SandboxPanel, techs: SmmTechsClient, task_type: CatalogService
) -> None:
    with pytest.raises(InvalidRequest, match="Incorrect task type"):
        await techs.add_order(OrderRequest(service_id="999999", link="https://t.me/x", quantity=5))
    with pytest.raises(InvalidRequest, match="minimal"):
        await techs.add_order(order_for(task_type, task_type.min - 1))
    sandbox.balance = Decimal("0.01")
    with pytest.raises(InsufficientFunds):
        await techs.add_order(order_for(task_type))
    assert sandbox.orders == {}
    assert methods(sandbox) == ["newTask"] * 3


@pytest.mark.parametrize(
    "request_",
    [
        OrderRequest(service_id="6", type=OrderType.PACKAGE, link="https://t.me/x"),
        OrderRequest(service_id="6", link="https://t.me/x", quantity=100, runs=2, interval=5),
        OrderRequest(service_id="6", link="", quantity=100),
        OrderRequest(service_id="6", link="https://t.me/x", quantity=0),
    ],
    ids=["package", "dripfeed", "no-link", "no-quantity"],
)
async def test_requests_the_api_cannot_carry_are_refused_before_sending(
    sandbox: SandboxPanel, techs: SmmTechsClient, request_: OrderRequest
) -> None:
    with pytest.raises(InvalidRequest):
        await techs.add_order(request_)
    assert sandbox.requests == []


@pytest.mark.parametrize("kind", ["http500", "html", "invalid_json", "rate_limit"])
async def test_reads_survive_one_transport_fault(
    sandbox: SandboxPanel, techs: SmmTechsClient, task_type: CatalogService, kind: str
) -> None:
    task_id = await techs.add_order(order_for(task_type))
    sandbox.faults.add(kind, action="getTaskStat")
    sandbox.faults.add(kind, action="getTypes")

    assert (await techs.order_status(task_id)).status is OrderStatus.PENDING
    assert await techs.services()
    assert methods(sandbox) == ["newTask", *["getTaskStat"] * 2, *["getTypes"] * 2]


async def test_reads_give_up_after_the_retries(
    sandbox: SandboxPanel, techs: SmmTechsClient, task_type: CatalogService
) -> None:
    task_id = await techs.add_order(order_for(task_type))
    sandbox.faults.add("http500", count=10, action="getTaskStat")
    with pytest.raises(PanelUnavailable):
        await techs.order_statuses([task_id])
    assert methods(sandbox).count("getTaskStat") == 3  # one try and two retries


async def test_a_panel_error_on_a_status_read_is_not_blamed_on_the_task(
    sandbox: SandboxPanel, techs: SmmTechsClient, task_type: CatalogService
) -> None:
    task_id = await techs.add_order(order_for(task_type))
    sandbox.faults.add("error", action="getTaskStat")
    with pytest.raises(PanelRejected, match="maintenance") as caught:
        await techs.order_statuses([task_id])
    assert not isinstance(caught.value, InvalidRequest)


@pytest.mark.parametrize("kind", ["error_after_create", "http500", "hang", "refuse_connection"])
async def test_an_add_that_may_have_landed_is_an_unknown_outcome_sent_once(
    sandbox: SandboxPanel, task_type: CatalogService, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    client = techs_client(sandbox, timeout=0.3)
    sandbox.faults.add(kind, action="newTask")
    try:
        with pytest.raises(OrderOutcomeUnknown) as caught:
            await client.add_order(order_for(task_type))
    finally:
        await client.close()
    assert methods(sandbox) == ["newTask"]  # never retried
    assert "smmbot-" in caught.value.message  # the task name to look up in the panel
    placed = list(sandbox.orders.values())
    if kind == "error_after_create":
        assert len(placed) == 1
        assert placed[0].params["task_name"] in caught.value.message
    assert_key_hidden(caught.value, caplog, sandbox.key)


@pytest.mark.parametrize(
    ("kind", "error"), [("error", PanelRejected), ("rate_limit", RateLimited)]
)
async def test_an_add_the_panel_refused_is_certainly_not_placed(
    sandbox: SandboxPanel,
    techs: SmmTechsClient,
    task_type: CatalogService,
    kind: str,
    error: type[PanelError],
) -> None:
    sandbox.faults.add(kind, action="newTask")
    with pytest.raises(error) as caught:
        await techs.add_order(order_for(task_type))
    assert not isinstance(caught.value, OrderOutcomeUnknown)
    assert sandbox.orders == {}
    assert methods(sandbox) == ["newTask"]


async def test_the_panels_own_request_limit_is_rate_limited_and_not_retried() -> None:
    panel = SandboxPanel(key="limited-key", catalog_size=20, smmtechs_hourly_limit=2)
    async with panel.serve():
        service = panel.find_service(dialect="smmtechs")
        client = techs_client(panel)
        try:
            await client.services()
            await client.services()
            with pytest.raises(RateLimited, match="Hourly request limit"):
                await client.services()
            with pytest.raises(RateLimited):
                await client.add_order(order_for(service))
        finally:
            await client.close()
        assert panel.orders == {}
        assert methods(panel) == ["getTypes"] * 3 + ["newTask"]


async def test_the_client_keeps_within_its_hourly_budget_without_sending(
    sandbox: SandboxPanel, task_type: CatalogService
) -> None:
    clock = Clock()
    client = techs_client(sandbox, hourly_limit=3, clock=clock)
    try:
        task_id = await client.add_order(order_for(task_type))
        await client.services()
        await client.order_status(task_id)
        with pytest.raises(RateLimited, match="hourly limit of 3") as caught:
            await client.order_status(task_id)
        assert caught.value.retry_after is not None and caught.value.retry_after > 3000
        with pytest.raises(RateLimited):
            await client.add_order(order_for(task_type))
        assert methods(sandbox) == ["newTask", "getTypes", "getTaskStat"]
        assert len(sandbox.orders) == 1

        clock.now += 3600
        assert (await client.order_status(task_id)).error is None
    finally:
        await client.close()


async def test_retries_are_counted_against_the_budget(
    sandbox: SandboxPanel, task_type: CatalogService
) -> None:
    client = techs_client(sandbox, hourly_limit=2, clock=Clock())
    sandbox.faults.add("http500", count=5, action="getTypes")
    try:
        with pytest.raises(RateLimited):
            await client.services()  # a third try would pass the limit
    finally:
        await client.close()
    assert methods(sandbox) == ["getTypes"] * 2


async def test_statuses_are_read_a_few_at_a_time(
    sandbox: SandboxPanel, task_type: CatalogService
) -> None:
    client = techs_client(sandbox, concurrency=2)
    try:
        ids = [await client.add_order(order_for(task_type)) for _ in range(6)]
        sandbox.faults.latency = 0.05
        started = time.monotonic()
        statuses = await client.order_statuses(ids)
        elapsed = time.monotonic() - started
    finally:
        await client.close()
    assert [statuses[i].status for i in ids] == [OrderStatus.PENDING] * 6
    assert elapsed >= 3 * 0.05  # six reads, two at a time


async def test_refill_cancel_and_balance_are_unsupported(
    sandbox: SandboxPanel, techs: SmmTechsClient
) -> None:
    caps = techs.capabilities
    assert not (caps.refill or caps.cancel or caps.balance or caps.dripfeed)
    assert caps.order_types == frozenset({OrderType.DEFAULT})
    calls = [
        techs.refill("1001"),
        techs.refills(["1001"]),
        techs.refill_status("1"),
        techs.refill_statuses(["1"]),
        techs.cancel("1001"),
        techs.cancels(["1001"]),
        techs.cancel_statuses(["1"]),
        techs.balance(),
    ]
    for call in calls:
        with pytest.raises(UnsupportedAction):
            await call
    assert sandbox.requests == []


async def test_the_key_stays_out_of_reprs(sandbox: SandboxPanel, techs: SmmTechsClient) -> None:
    assert sandbox.key not in repr(techs)
    assert sandbox.key not in repr(techs.config)
    assert sandbox.key not in repr(techs.budget)


def test_the_registry_builds_this_client_for_smmtechs_panels() -> None:
    config = PanelConfig(name="techs", dialect="smmtechs", url="http://x/api/method", key=SECRET)
    assert isinstance(make_client(config), SmmTechsClient)
