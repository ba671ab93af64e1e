"""The sandbox panel over raw HTTP: each dialect's shapes, money, progress, faults, limits."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import aiohttp
import pytest

from bot.panels.models import OrderType
from bot.panels.sandbox import SandboxPanel, build_catalog
from bot.panels.sandbox.__main__ import parse_args, run
from tests.fakes.sandbox_fixtures import SANDBOX_KEY

LINK = "https://www.instagram.com/p/Cx1abc/"


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def v2(
    http: aiohttp.ClientSession,
    sandbox: SandboxPanel,
    dialect: str,
    action: str,
    /,
    *,
    key: str = SANDBOX_KEY,
    **form: Any,
) -> Any:
    """POST one v2 action and return the decoded JSON (HTTP 200 expected)."""
    data = {"key": key, "action": action, **{k: str(v) for k, v in form.items()}}
    async with http.post(sandbox.url_for(dialect), data=data) as response:
        assert response.status == 200
        return json.loads(await response.read())


async def techs(
    http: aiohttp.ClientSession,
    sandbox: SandboxPanel,
    method: str,
    /,
    *,
    key: str = SANDBOX_KEY,
    **params: Any,
) -> Any:
    """GET one smmtechs method with the key in the query string."""
    query = {**{k: str(v) for k, v in params.items()}, "api_key": key}
    async with http.get(f"{sandbox.url_for('smmtechs')}/{method}", params=query) as response:
        assert response.status == 200
        return json.loads(await response.read())


async def add_default(
    http: aiohttp.ClientSession, sandbox: SandboxPanel, quantity: int | None = None, **flags: Any
) -> tuple[str, Decimal]:
    """Place a Default order; return its ID and the charge it should cost."""
    service = sandbox.find_service(OrderType.DEFAULT, **flags)
    quantity = quantity or service.min
    answer = await v2(
        http, sandbox, "v2", "add", service=service.service_id, link=LINK, quantity=quantity
    )
    return str(answer["order"]), service.rate * quantity / 1000


# --------------------------------------------------------------------------- catalog


def test_catalog_is_deterministic_and_sized_like_a_real_panel() -> None:
    big = build_catalog(5000, seed=7)
    assert big == build_catalog(5000, seed=7)
    assert big != build_catalog(5000, seed=8)
    assert len(big) == 5000
    assert len({s.service_id for s in big}) == 5000
    assert 200 <= len({s.category for s in big}) <= 300
    assert set(Counter(s.type for s in big)) == set(OrderType)
    platforms = {s.platform for s in big}
    assert {"Instagram", "YouTube", "TikTok", "Telegram", "Twitter/X", "Facebook"} <= platforms
    assert {"Spotify", "Other"} <= platforms
    smallest = build_catalog(1, seed=3)
    assert len(smallest) == 16
    assert {s.type for s in smallest} == set(OrderType)


async def test_v2_services_show_every_order_type_with_string_numbers(
    sandbox: SandboxPanel, http: aiohttp.ClientSession
) -> None:
    services = await v2(http, sandbox, "v2", "services")
    assert len(services) == 60
    assert {s["type"] for s in services} == {t.value for t in OrderType}
    first = services[0]
    assert list(first) == [
        "service", "name", "type", "category", "rate", "min", "max", "refill", "cancel"
    ]  # fmt: skip
    assert isinstance(first["service"], int)
    assert all(isinstance(s["rate"], str) and Decimal(s["rate"]) > 0 for s in services)
    assert all(int(s["min"]) <= int(s["max"]) for s in services)
    assert {s["refill"] for s in services} == {True, False}
    assert {s["cancel"] for s in services} == {True, False}


async def test_smmbros_and_smmsend_list_services_their_own_way(
    sandbox: SandboxPanel, http: aiohttp.ClientSession
) -> None:
    bros = await v2(http, sandbox, "smmbros", "services")
    assert bros and all("refill" not in s and "cancel" not in s for s in bros)
    assert {s["type"] for s in bros} <= {
        "Default", "Package", "Custom Comments", "Custom Comments Package"
    }  # fmt: skip
    send = await v2(http, sandbox, "smmsend", "services")
    assert list(send[0]) == [
        "service", "name", "type", "rate", "min", "max", "dripfeed", "refill", "cancel",
        "category",
    ]  # fmt: skip
    assert {s["dripfeed"] for s in send} == {True, False}


@pytest.mark.parametrize("dialect", ["v2", "smmbros", "smmsend"])
async def test_wrong_key_is_refused_with_http_200(
    sandbox: SandboxPanel, http: aiohttp.ClientSession, dialect: str
) -> None:
    assert await v2(http, sandbox, dialect, "balance", key="nope") == {"error": "Invalid API key"}
    assert await v2(http, sandbox, dialect, "services", key="") == {"error": "Invalid API key"}


async def test_smmtechs_wrong_key_is_refused(
    sandbox: SandboxPanel, http: aiohttp.ClientSession
) -> None:
    answer = await techs(http, sandbox, "getTypes", key="nope")
    assert answer == {"success": 0, "error": "Invalid API key"}


# --------------------------------------------------------------------------- orders and money


async def test_add_charges_the_balance_and_numbers_orders_upwards(
    sandbox: SandboxPanel, http: aiohttp.ClientSession
) -> None:
    first, charge_1 = await add_default(http, sandbox)
    second, charge_2 = await add_default(http, sandbox, quantity=sandbox.find_service().min * 3)
    assert int(second) == int(first) + 1
    assert sandbox.balance == Decimal(1000) - charge_1 - charge_2
    answer = await v2(http, sandbox, "v2", "balance")
    assert answer == {"balance": f"{Decimal(1000) - charge_1 - charge_2:.5f}", "currency": "USD"}
    status = await v2(http, sandbox, "v2", "status", order=second)
    assert status == {
        "charge": f"{charge_2:.5f}",
        "start_count": "0",
        "status": "Pending",
        "remains": str(sandbox.find_service().min * 3),
        "currency": "USD",
    }


async def test_add_refuses_what_a_real_panel_refuses(
    sandbox: SandboxPanel, http: aiohttp.ClientSession
) -> None:
    default = sandbox.find_service(OrderType.DEFAULT)
    sid = default.service_id

    async def add(**form: Any) -> Any:
        return await v2(http, sandbox, "v2", "add", **form)

    assert await add(service=999_999, link=LINK, quantity=100) == {"error": "Incorrect service ID"}
    assert await add(service=sid, link="not a link", quantity=default.min) == {
        "error": "Incorrect link"
    }
    assert await add(service=sid, link=LINK, quantity=default.min - 1) == {
        "error": f"Quantity less than minimal {default.min}"
    }
    assert await add(service=sid, link=LINK, quantity=default.max + 1) == {
        "error": f"Quantity more than maximal {default.max}"
    }
    comments = sandbox.find_service(OrderType.CUSTOM_COMMENTS)
    assert await add(service=comments.service_id, link=LINK) == {
        "error": "Comments list is required"
    }
    poll = sandbox.find_service(OrderType.POLL)
    assert await add(service=poll.service_id, link=LINK, quantity=poll.min) == {
        "error": "Answer number is required"
    }
    no_drip = sandbox.find_service(OrderType.DEFAULT, dripfeed=False)
    answer = await add(
        service=no_drip.service_id, link=LINK, quantity=no_drip.min, runs=2, interval=10
    )
    assert answer == {"error": "Drip-feed is not available for this service"}
    sandbox.balance = Decimal("0.01")
    assert await add(service=sid, link=LINK, quantity=default.max) == {
        "error": "Not enough funds on balance"
    }
    assert sandbox.orders == {}
    assert sandbox.balance == Decimal("0.01")


async def test_list_types_are_counted_by_lines_and_packages_by_package(
    sandbox: SandboxPanel, http: aiohttp.ClientSession
) -> None:
    comments = sandbox.find_service(OrderType.CUSTOM_COMMENTS)
    lines = "\r\n".join(f"great post {i}!" for i in range(comments.min + 2))
    answer = await v2(
        http, sandbox, "v2", "add", service=comments.service_id, link=LINK, comments=lines
    )
    order = sandbox.orders[str(answer["order"])]
    assert order.quantity == comments.min + 2
    assert order.charge == comments.rate * (comments.min + 2) / 1000
    package = sandbox.find_service(OrderType.PACKAGE)
    answer = await v2(http, sandbox, "v2", "add", service=package.service_id, link=LINK)
    assert sandbox.orders[str(answer["order"])].charge == package.rate
    drip = sandbox.find_service(OrderType.DEFAULT, dripfeed=True)
    answer = await v2(
        http, sandbox, "v2", "add",
        service=drip.service_id, link=LINK, quantity=drip.min, runs=3, interval=5,
    )  # fmt: skip
    assert sandbox.orders[str(answer["order"])].charge == drip.rate * drip.min * 3 / 1000


async def test_smmbros_add_takes_url_and_refuses_link(
    sandbox: SandboxPanel, http: aiohttp.ClientSession
) -> None:
    service = sandbox.find_service(OrderType.DEFAULT, dialect="smmbros")
    form: dict[str, Any] = {"service": service.service_id, "quantity": service.min}
    refused = await v2(http, sandbox, "smmbros", "add", link=LINK, **form)
    assert refused == {"error": "Incorrect link"}
    placed = await v2(http, sandbox, "smmbros", "add", url=LINK, **form)
    assert sandbox.orders[str(placed["order"])].link == LINK
    poll = sandbox.find_service(OrderType.POLL)
    answer = await v2(
        http, sandbox, "smmbros", "add",
        service=poll.service_id, url=LINK, quantity=poll.min, answer_number=1,
    )  # fmt: skip
    assert answer == {"error": "incorrect service type"}


async def test_orders_progress_on_the_sandbox_clock(
    sandbox: SandboxPanel, http: aiohttp.ClientSession
) -> None:
    order_id, _ = await add_default(http, sandbox, quantity=sandbox.find_service().min * 10)
    seen = [(await v2(http, sandbox, "v2", "status", order=order_id))["status"]]
    sandbox.advance(50)
    middle = await v2(http, sandbox, "v2", "status", order=order_id)
    seen.append(middle["status"])
    assert 0 < int(middle["remains"]) <= sandbox.orders[order_id].quantity
    assert int(middle["start_count"]) > 0
    sandbox.advance(600)
    seen.append((await v2(http, sandbox, "v2", "status", order=order_id))["status"])
    assert seen == ["Pending", "In progress", "Completed"]
    assert sandbox.orders[order_id].remains == 0


async def test_orders_also_progress_with_real_time_times_speed(
    http: aiohttp.ClientSession,
) -> None:
    panel = SandboxPanel(key=SANDBOX_KEY, catalog_size=15, speed=20_000)
    async with panel.serve():
        order_id, _ = await add_default(http, panel)
        await asyncio.sleep(0.05)  # 1,000 sandbox seconds: longer than any plain order takes
        answer = await v2(http, panel, "v2", "status", order=order_id)
    assert answer["status"] == "Completed"


async def test_some_orders_end_partial_or_canceled_and_are_refunded(
    sandbox: SandboxPanel, http: aiohttp.ClientSession
) -> None:
    charges = {}
    for _ in range(11):
        order_id, charge = await add_default(http, sandbox, quantity=500)
        charges[order_id] = charge
    spent = sum(charges.values(), Decimal(0))
    assert sandbox.balance == Decimal(1000) - spent
    sandbox.advance(3600)
    ids = list(charges)
    answer = await v2(http, sandbox, "v2", "status", orders=",".join(ids))
    statuses = {i: answer[i]["status"] for i in ids}
    assert Counter(statuses.values()) == {"Completed": 9, "Partial": 1, "Canceled": 1}
    partial = next(i for i in ids if statuses[i] == "Partial")
    canceled = next(i for i in ids if statuses[i] == "Canceled")
    remains = int(answer[partial]["remains"])
    assert 0 < remains < 500
    partial_refund = charges[partial] * remains / 500
    assert Decimal(answer[partial]["charge"]) == charges[partial] - partial_refund
    assert Decimal(answer[canceled]["charge"]) == 0
    assert answer[canceled]["remains"] == "500"
    assert sandbox.balance == Decimal(1000) - spent + charges[canceled] + partial_refund


async def test_multiple_status_answers_per_id_up_to_100(
    sandbox: SandboxPanel, http: aiohttp.ClientSession
) -> None:
    order_id, _ = await add_default(http, sandbox)
    answer = await v2(http, sandbox, "smmsend", "status", orders=f"{order_id},10,abc")
    assert answer["10"] == {"error": "Incorrect order ID"}
    assert answer["abc"] == {"error": "Incorrect order ID"}
    assert answer[order_id]["status"] == "Pending"
    too_many = ",".join(str(1000 + i) for i in range(101))
    assert "error" in await v2(http, sandbox, "v2", "status", orders=too_many)
    assert await v2(http, sandbox, "v2", "status", order="10") == {"error": "Incorrect order ID"}


async def test_set_status_and_forget_order_change_what_the_panel_says(
    sandbox: SandboxPanel, http: aiohttp.ClientSession
) -> None:
    order_id, charge = await add_default(http, sandbox, quantity=400)
    sandbox.set_status(order_id, "Partial", remains=100)
    answer = await v2(http, sandbox, "v2", "status", order=order_id)
    assert (answer["status"], answer["remains"]) == ("Partial", "100")
    assert sandbox.balance == Decimal(1000) - charge + charge / 4
    sandbox.advance(3600)  # a pinned order stays where the test put it
    assert sandbox.orders[order_id].status == "Partial"
    sandbox.set_status(order_id, "completed")
    assert sandbox.balance == Decimal(1000) - charge
    sandbox.forget_order(order_id)
    answer = await v2(http, sandbox, "v2", "status", orders=order_id)
    assert answer == {order_id: {"error": "Incorrect order ID"}}


# --------------------------------------------------------------------------- refills, cancels


async def test_refills_only_for_completed_refillable_orders_and_progress(
    sandbox: SandboxPanel, http: aiohttp.ClientSession
) -> None:
    refillable, _ = await add_default(http, sandbox, refill=True)
    fixed, _ = await add_default(http, sandbox, refill=False)
    early = await v2(http, sandbox, "v2", "refill", order=refillable)
    assert early == {"error": "Order is not completed yet"}
    sandbox.set_status(refillable, "Completed")
    sandbox.set_status(fixed, "Completed")
    answer = await v2(http, sandbox, "v2", "refill", orders=f"{refillable},{fixed},77")
    assert answer[0]["order"] == int(refillable) and isinstance(answer[0]["refill"], int)
    assert answer[1] == {
        "order": int(fixed),
        "refill": {"error": "Refill is disabled for this service"},
    }
    assert answer[2] == {"order": 77, "refill": {"error": "Incorrect order ID"}}
    refill_id = str(answer[0]["refill"])
    seen = [(await v2(http, sandbox, "v2", "refill_status", refill=refill_id))["status"]]
    sandbox.advance(100)
    seen.append((await v2(http, sandbox, "v2", "refill_status", refill=refill_id))["status"])
    sandbox.advance(600)
    many = await v2(http, sandbox, "v2", "refill_status", refills=f"{refill_id},9")
    seen.append(many[0]["status"])
    assert seen == ["Pending", "In progress", "Completed"]
    assert many[1] == {"refill": 9, "status": {"error": "Refill not found"}}


async def test_refills_end_rejected_sometimes_and_smmsend_says_type_on_some(
    sandbox: SandboxPanel, http: aiohttp.ClientSession
) -> None:
    ids = []
    for _ in range(5):
        order_id, _ = await add_default(http, sandbox, refill=True)
        sandbox.set_status(order_id, "Completed")
        ids.append(order_id)
    made = await v2(http, sandbox, "smmsend", "refill", orders=",".join(ids))
    refill_ids = [str(item["refill"]) for item in made]
    sandbox.advance(3600)
    answer = await v2(http, sandbox, "smmsend", "refill_status", refills=",".join(refill_ids))
    words = [item.get("status", item.get("type")) for item in answer]
    assert words == ["Completed"] * 4 + ["Rejected"]
    assert any("type" in item and "status" not in item for item in answer)
    assert any("status" in item for item in answer)


async def test_v2_cancel_refunds_and_refuses_final_or_fixed_orders(
    sandbox: SandboxPanel, http: aiohttp.ClientSession
) -> None:
    cancellable, charge = await add_default(http, sandbox, cancel=True)
    fixed, _ = await add_default(http, sandbox, cancel=False)
    done, _ = await add_default(http, sandbox, cancel=True)
    sandbox.set_status(done, "Completed")
    before = sandbox.balance
    answer = await v2(http, sandbox, "v2", "cancel", orders=f"{cancellable},{fixed},{done}")
    assert answer[0]["order"] == int(cancellable) and isinstance(answer[0]["cancel"], int)
    assert answer[1]["cancel"] == {"error": "Cancel is disabled for this service"}
    assert answer[2]["cancel"] == {"error": "Order is already completed"}
    assert sandbox.balance == before + charge
    status = await v2(http, sandbox, "v2", "status", order=cancellable)
    assert (status["status"], status["charge"]) == ("Canceled", "0.00000")
    again = await v2(http, sandbox, "v2", "cancel", orders=cancellable)
    assert again[0]["cancel"] == {"error": "Cancellation request was sent earlier"}


async def test_smmsend_cancel_answers_type_and_cancel_id_with_status(
    sandbox: SandboxPanel, http: aiohttp.ClientSession
) -> None:
    service = sandbox.find_service(OrderType.DEFAULT, cancel=True, dialect="smmsend")
    placed = await v2(
        http,
        sandbox,
        "smmsend",
        "add",
        service=service.service_id,
        link=LINK,
        quantity=service.min,
    )
    order_id = placed["order"]
    answer = await v2(http, sandbox, "smmsend", "cancel", orders=f"{order_id},5")
    assert answer[0]["order"] == order_id and answer[0]["type"] == "order"
    cancel_id = answer[0]["cancel"]
    assert isinstance(cancel_id, int)
    assert answer[1] == {"order": 5, "type": "order", "cancel": {"error": "Incorrect order ID"}}
    status = await v2(http, sandbox, "smmsend", "cancel", cancels=f"{cancel_id},3")
    assert status == [
        {"cancel": cancel_id, "status": "Completed"},
        {"cancel": 3, "status": {"error": "Cancel not found"}},
    ]


async def test_smmbros_refill_cancel_and_balance_shapes(
    sandbox: SandboxPanel, http: aiohttp.ClientSession
) -> None:
    service = sandbox.find_service(OrderType.DEFAULT, cancel=True, refill=True, dialect="smmbros")
    form: dict[str, Any] = {"service": service.service_id, "url": LINK, "quantity": service.min}
    first = str((await v2(http, sandbox, "smmbros", "add", **form))["order"])
    second = str((await v2(http, sandbox, "smmbros", "add", **form))["order"])
    sandbox.set_status(first, "Completed")
    refill = await v2(http, sandbox, "smmbros", "refill", order=first)
    assert refill == {
        "status": "Success",
        "message": "Your order successfully added for refill. Thank you for patience.",
    }
    cancel = await v2(http, sandbox, "smmbros", "cancel", order=second)
    assert cancel["status"] == "Success" and "cancellation" in cancel["message"]
    assert await v2(http, sandbox, "smmbros", "cancel", order="1") == {
        "error": "Incorrect order ID"
    }
    balance = await v2(http, sandbox, "smmbros", "balance")
    assert isinstance(balance["balance"], int | float)
    assert Decimal(str(balance["balance"])) == sandbox.balance


async def test_sloppy_smmbros_answers_like_its_api_page(
    sandbox: SandboxPanel, http: aiohttp.ClientSession
) -> None:
    sandbox.sloppy_json = True
    async with http.post(
        sandbox.url_for("smmbros"), data={"key": SANDBOX_KEY, "action": "balance"}
    ) as response:
        text = await response.text()
    assert text.replace("\n", "").replace("\t", "") == '{"balance": 1000,"currency": "USD",}'
    with pytest.raises(ValueError):
        json.loads(text)


# --------------------------------------------------------------------------- faults


@pytest.mark.parametrize(
    ("kind", "status", "body_start"),
    [
        ("http500", 500, "<html>"),
        ("invalid_json", 200, '{"charge"'),
        ("rate_limit", 429, '{"error":"Too many requests"}'),
    ],
)
async def test_http_faults_hit_only_the_next_matching_requests(
    sandbox: SandboxPanel, http: aiohttp.ClientSession, kind: str, status: int, body_start: str
) -> None:
    sandbox.faults.add(kind, count=2, action="status")
    url = sandbox.url_for("v2")
    form = {"key": SANDBOX_KEY, "action": "balance"}
    assert "balance" in await v2(http, sandbox, "v2", "balance")
    for _ in range(2):
        async with http.post(url, data={**form, "action": "status", "order": "1"}) as response:
            assert response.status == status
            assert (await response.text()).startswith(body_start)
            if kind == "rate_limit":
                assert response.headers["Retry-After"] == "1"
    assert await v2(http, sandbox, "v2", "status", order="1") == {"error": "Incorrect order ID"}
    assert [r.fault for r in sandbox.requests] == [None, kind, kind, None]
    assert sandbox.requests[1][:3] == ("v2", "status", {"order": "1"})


async def test_html_fault_alternates_200_and_503_pages(
    sandbox: SandboxPanel, http: aiohttp.ClientSession
) -> None:
    sandbox.faults.add("html", count=2)
    codes = []
    for _ in range(2):
        async with http.post(sandbox.url_for("smmsend"), data={"action": "services"}) as response:
            assert response.content_type == "text/html"
            assert "<html>" in await response.text()
            codes.append(response.status)
    assert codes == [200, 503]


async def test_error_fault_uses_the_dialects_error_shape(
    sandbox: SandboxPanel, http: aiohttp.ClientSession
) -> None:
    sandbox.faults.add("error", action="balance", message="Database is down", status=400)
    sandbox.faults.add("error", action="getTaskStat")
    async with http.post(
        sandbox.url_for("v2"), data={"key": SANDBOX_KEY, "action": "balance"}
    ) as response:
        assert response.status == 400
        assert await response.json() == {"error": "Database is down"}
    answer = await techs(http, sandbox, "getTaskStat", tid=1)
    assert answer["success"] == 0 and "maintenance" in answer["error"]


async def test_refused_connection_drops_the_request_unanswered(
    sandbox: SandboxPanel, http: aiohttp.ClientSession
) -> None:
    sandbox.faults.add("refuse_connection", action="add")
    service = sandbox.find_service()
    form = {"key": SANDBOX_KEY, "action": "add", "service": str(service.service_id)}
    with pytest.raises(aiohttp.ServerDisconnectedError):
        async with http.post(sandbox.url_for("v2"), data={**form, "link": LINK}) as response:
            await response.read()
    assert sandbox.orders == {}
    assert [(r.action, r.fault) for r in sandbox.requests] == [("add", "refuse_connection")]


async def test_error_after_create_places_the_order_but_answers_502(
    sandbox: SandboxPanel, http: aiohttp.ClientSession
) -> None:
    sandbox.faults.add("error_after_create")
    service = sandbox.find_service()
    assert "balance" in await v2(http, sandbox, "v2", "balance")  # not an add: untouched
    form = {"key": SANDBOX_KEY, "action": "add", "service": str(service.service_id)}
    form |= {"link": LINK, "quantity": str(service.min)}
    async with http.post(sandbox.url_for("v2"), data=form) as response:
        assert response.status == 502
    assert len(sandbox.orders) == 1
    assert sandbox.balance == Decimal(1000) - service.rate * service.min / 1000
    adds = [r for r in sandbox.requests if r.action == "add"]
    assert len(adds) == 1 and "key" not in adds[0].params


async def test_hang_holds_until_the_client_gives_up_and_leaves_no_task(
    http: aiohttp.ClientSession,
) -> None:
    panel = SandboxPanel(key=SANDBOX_KEY, catalog_size=15)
    tasks_before = len(asyncio.all_tasks())
    async with panel.serve():
        panel.faults.add("hang", count=2)
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            async with http.post(
                panel.url_for("v2"),
                data={"key": SANDBOX_KEY, "action": "balance"},
                timeout=aiohttp.ClientTimeout(total=0.2),
            ) as response:
                await response.read()
        assert time.monotonic() - started < 2
        # A second hung request still open when the server stops is released, not leaked.
        pending = asyncio.create_task(
            http.post(panel.url_for("v2"), data={"key": SANDBOX_KEY, "action": "balance"})
        )
        for _ in range(200):
            if len(panel.requests) == 2:
                break
            await asyncio.sleep(0.01)
        stopping = time.monotonic()
    # The stop answered it at once (504) or dropped it; either way nothing hangs on.
    try:
        response = await asyncio.wait_for(pending, 2)
    except aiohttp.ClientError:
        pass
    else:
        assert response.status == 504
        response.release()
    assert time.monotonic() - stopping < 0.5
    await asyncio.sleep(0)
    assert len(asyncio.all_tasks()) == tasks_before


async def test_latency_slows_every_request(
    sandbox: SandboxPanel, http: aiohttp.ClientSession
) -> None:
    sandbox.faults.latency = 0.15
    started = time.monotonic()
    await v2(http, sandbox, "v2", "balance")
    assert time.monotonic() - started >= 0.15
    sandbox.faults.latency = 0
    sandbox.faults.add("latency", seconds=0.1, action="newTask")
    started = time.monotonic()
    await techs(http, sandbox, "getTypes")
    assert time.monotonic() - started < 0.1


# --------------------------------------------------------------------------- smmtechs


async def test_smmtechs_task_lifecycle_shares_the_balance(
    sandbox: SandboxPanel, http: aiohttp.ClientSession
) -> None:
    types = await techs(http, sandbox, "getTypes")
    assert types["success"] == 1
    entry = next(iter(types["response"].values()))
    assert set(entry) == {"type", "price", "desc"} and isinstance(entry["price"], float)
    service = sandbox.service(entry["type"])
    assert Decimal(str(entry["price"])) == service.rate / 1000
    quantity = service.min * 2
    created = await techs(
        http, sandbox, "newTask",
        type=entry["type"], url="https://www.youtube.com/user/PewDiePie", status=1,
        quantity=quantity, task_name="Order#1",
    )  # fmt: skip
    assert created["success"] == 1
    task_id = created["response"]["id"]
    assert sandbox.balance == Decimal(1000) - service.rate * quantity / 1000
    stat = await techs(http, sandbox, "getTaskStat", tid=task_id)
    assert stat == {
        "success": 1,
        "response": {"count": 0, "bad_count": 0, "money_spent": "0.00", "money_returned": "0.00"},
    }
    sandbox.advance(3600)
    stat = await techs(http, sandbox, "getTaskStat", tid=task_id)
    assert stat["response"]["count"] == quantity
    tasks = await techs(http, sandbox, "getTasks")
    assert [(t["id"], t["status"], t["task_name"]) for t in tasks["response"]] == [
        (task_id, "completed", "Order#1")
    ]
    users = await techs(http, sandbox, "getTaskUsers", tid=task_id, limit=5)
    assert len(users["response"]) == 5
    v2_view = await v2(http, sandbox, "v2", "status", order=task_id)
    assert v2_view["status"] == "Completed"


async def test_smmtechs_refuses_bad_tasks(
    sandbox: SandboxPanel, http: aiohttp.ClientSession
) -> None:
    assert await techs(http, sandbox, "newTask", type=999_999, url=LINK, quantity=10) == {
        "success": 0,
        "error": "Incorrect task type",
    }
    assert (await techs(http, sandbox, "getTaskStat", tid=424242))["error"] == "Task not found"
    assert (await techs(http, sandbox, "getBalance"))["error"] == "Unknown method"


async def test_smmtechs_enforces_hourly_and_daily_limits(
    sandbox: SandboxPanel, http: aiohttp.ClientSession
) -> None:
    sandbox.smmtechs_limits.hourly = 2
    sandbox.smmtechs_limits.daily = 3
    answers = [await techs(http, sandbox, "getTasks") for _ in range(3)]
    assert [a["success"] for a in answers] == [1, 1, 0]
    assert answers[2]["error"].startswith("Hourly request limit exceeded")
    sandbox.advance(3600)
    assert (await techs(http, sandbox, "getTasks"))["success"] == 1
    refused = await techs(http, sandbox, "getTasks")
    assert refused["error"].startswith("Daily request limit exceeded")
    assert (await v2(http, sandbox, "v2", "balance"))["currency"] == "USD"  # v2 has no cap
    sandbox.advance(86_400)
    assert (await techs(http, sandbox, "getTasks"))["success"] == 1


# --------------------------------------------------------------------------- scale, CLI


async def test_a_5000_service_catalog_and_100_id_lookups_answer_in_full(
    http: aiohttp.ClientSession,
) -> None:
    panel = SandboxPanel(key=SANDBOX_KEY, catalog_size=5000, balance=Decimal(10**6))
    async with panel.serve():
        service = panel.find_service()
        form: dict[str, Any] = {
            "service": service.service_id,
            "link": LINK,
            "quantity": service.min,
        }
        for _ in range(100):
            await v2(http, panel, "v2", "add", **form)
        ids = ",".join(panel.orders)
        catalog = await v2(http, panel, "v2", "services")
        answer = await v2(http, panel, "v2", "status", orders=ids)
    # Timings live in bench/panels.py; here the answers must be whole.
    assert len(catalog) == 5000 and len(answer) == 100
    assert all(entry.get("status") == "Pending" for entry in answer.values())


async def test_console_command_prints_every_url_and_the_key(
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = parse_args(["--port", "0", "--size", "20", "--key", "demo", "--latency", "0.01"])
    assert (args.port, args.size, args.key, args.balance) == (0, 20, "demo", Decimal(1000))
    assert parse_args([]).port == 8077
    task = asyncio.create_task(run(args))
    printed = ""
    for _ in range(200):
        await asyncio.sleep(0.01)
        printed += capsys.readouterr().out
        if "Ctrl-C" in printed:
            break
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    for path in ("/api/v2", "/smmbros/api/v2", "/smmsend/api/v2", "/api/method"):
        assert f"{path}\n" in printed
    assert "demo" in printed
