"""Status sync against the sandbox panel: what customers are told, what panels are asked."""

from __future__ import annotations

import asyncio
import socket
import time
from decimal import Decimal
from typing import Any

import pytest

from bot.panels.models import OrderRequest, OrderStatusInfo, OrderType
from bot.services import ordering, panel_health, status_sync, users, wallet
from bot.services.ordering import OrderRecord, PlacementKind
from storage import tracking as tracking_rows
from storage.db import Database
from tests.fakes.tracking_fixtures import ADMIN_CHAT, CUSTOMER, Tracking


def closed_port_url() -> str:
    """A loopback URL nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/api/v2"


# --------------------------------------------------------------------------- statuses


async def test_every_status_is_told_once_with_progress_and_numbers(
    tracking_shop: Tracking,
) -> None:
    shop = tracking_shop
    order = await shop.place(quantity=1000)
    quantity = order.quantity

    await shop.sync()
    assert await shop.messages() == [], "a pending order that did not move is not news"

    shop.set_status(order, "In progress", remains=quantity - quantity // 10)
    await shop.sync()
    await shop.sync()  # the same answer again changes nothing
    shop.set_status(order, "Processing", remains=quantity - quantity // 10)
    await shop.sync()  # "processing" is the same news to the customer
    shop.set_status(order, "In progress", remains=quantity // 4)
    await shop.sync()
    shop.set_status(order, "Completed")
    await shop.sync()
    await shop.sync()

    texts = await shop.messages()
    assert len(texts) == 3, texts
    started, moved, done = texts
    assert f"Order <b>#{order.order_id}</b> is in progress" in started
    assert f"Delivered {quantity // 10:,} of {quantity:,}" in started
    assert "10%" in started and "Start count:" in started
    assert "75%" in moved and f"remains {quantity // 4:,}" in moved
    assert f"Order <b>#{order.order_id}</b> is completed" in done and "100%" in done
    assert "refund" not in done

    stored = await shop.order(order.order_id)
    assert (stored.status, stored.remains) == ("completed", 0)
    history = await status_sync.order_history(shop.db, order.order_id)
    assert [e.new_status for e in history] == [
        "placing",
        "pending",
        "pending",  # the first answer filled in remains and start count
        "in_progress",
        "processing",
        "in_progress",
        "completed",
    ]
    assert all(e.created_at.tzinfo is not None for e in history)


@pytest.mark.parametrize(
    ("panel_status", "stored", "headline"),
    [
        ("Partial", "partial", "was partially completed"),
        ("Canceled", "canceled", "was canceled\n"),
        ("Refunded", "refunded", "was refunded\n"),
    ],
)
async def test_final_statuses_are_told_once(
    tracking_shop: Tracking, panel_status: str, stored: str, headline: str
) -> None:
    shop = tracking_shop
    order = await shop.place()
    shop.set_status(order, panel_status)
    await shop.sync()
    await shop.sync()
    texts = await shop.messages()
    assert len(texts) == 1, texts
    assert headline in texts[0] and "was refunded to your balance" in texts[0]
    assert (await shop.order(order.order_id)).status == stored


async def test_notification_escapes_what_the_customer_typed(tracking_shop: Tracking) -> None:
    shop = tracking_shop
    order = await shop.place(link="https://example.com/a?b=1&c=<script>")
    shop.set_status(order, "Completed")
    await shop.sync()
    (text,) = await shop.messages()
    assert "https://example.com/a?b=1&amp;c=&lt;script&gt;" in text
    assert "<script>" not in text


# --------------------------------------------------------------------------- requests


async def test_250_active_orders_take_3_status_requests(tracking_shop: Tracking) -> None:
    shop = tracking_shop
    orders = [await shop.place(quantity=100) for _ in range(250)]
    shop.sandbox.requests.clear()

    (report,) = await shop.sync()

    assert len(shop.status_requests()) == 3
    assert (report.requests, report.checked, report.error) == (3, 250, None)

    # Finished orders are never asked about again.
    for order in orders[:60]:
        shop.set_status(order, "Completed")
    await shop.sync()
    shop.sandbox.requests.clear()
    (report,) = await shop.sync()
    asked = {i for r in shop.status_requests() for i in r.params["orders"].split(",")}
    assert len(shop.status_requests()) == 2
    assert report.checked == 190
    assert not asked & {shop.panel_id(o) for o in orders[:60]}


async def test_orders_without_a_panel_id_are_not_asked_about(tracking_shop: Tracking) -> None:
    shop = tracking_shop
    shop.sandbox.faults.add("http500", action="add")
    order = await _place_held(shop)
    shop.sandbox.requests.clear()
    (report,) = await shop.sync()
    assert (await shop.order(order.order_id)).status == "review"
    assert (report.requests, report.checked) == (0, 0)
    assert shop.status_requests() == []


async def _place_held(shop: Tracking) -> OrderRecord:
    service = shop.sandbox.find_service(OrderType.DEFAULT)
    item_id = await shop.item_id("sandbox", service)
    result = await ordering.place_order(
        shop.db,
        shop.panels,
        user_id=CUSTOMER,
        chat_id=CUSTOMER,
        item_id=item_id,
        request=OrderRequest(
            str(service.service_id), link="https://instagram.com/p/x", quantity=service.min
        ),
        idempotency_key="held",
    )
    assert result.kind is PlacementKind.HELD and result.order is not None
    return result.order


# --------------------------------------------------------------------------- failing panels


async def test_a_dead_panel_is_backed_off_and_others_still_sync(tracking_shop: Tracking) -> None:
    shop = tracking_shop
    order = await shop.place()
    await shop.connect("dead", "v2", url=closed_port_url())
    dead_order = await _order_on(shop, "dead", panel_order_id="777")
    health = panel_health.PanelHealth()
    shop.set_status(order, "Completed")

    reports = {r.panel: r for r in await shop.sync(health=health)}

    assert reports["sandbox"].error is None and reports["sandbox"].changed == 1
    assert reports["dead"].error is not None and "connect" in reports["dead"].error
    assert (await shop.order(order.order_id)).status == "completed"
    assert (await shop.order(dead_order)).status == "pending"
    assert health.failures("dead") == 1

    # Backed off: the next cycle does not even try it, the working panel carries on.
    second = await shop.sync(health=health)
    dead = next(r for r in second if r.panel == "dead")
    assert dead.skipped and dead.requests == 0
    assert health.should_skip("dead", time.monotonic())
    assert not health.should_skip("sandbox", time.monotonic())


async def _order_on(shop: Tracking, panel: str, *, panel_order_id: str) -> int:
    """Copy an existing order onto ``panel`` (a panel with no catalog of its own)."""
    async with (
        shop.db.transaction(),
        shop.db.conn.execute(
            "INSERT INTO orders (user_id, chat_id, panel, panel_order_id, item_id, service_id,"
            " service_name, order_type, link, quantity, fields, price, cost, charged, status,"
            " idempotency_key, created_at, updated_at)"
            " SELECT user_id, chat_id, ?, ?, item_id, service_id, service_name, order_type,"
            " link, quantity, fields, price, cost, charged, 'pending', ?, created_at, updated_at"
            " FROM orders ORDER BY order_id LIMIT 1",
            (panel, panel_order_id, f"copy-{panel}-{panel_order_id}"),
        ) as cursor,
    ):
        assert cursor.lastrowid is not None
        return cursor.lastrowid


# How long the hanging panel is waited for. The working panel's order must be done well
# before: its one request and write take milliseconds, so this bound holds on a loaded CI
# machine, yet a sync that waited for the hanging panel could never meet it.
HANG_LIMIT = 2.0


async def test_a_hanging_panel_does_not_delay_another(tracking_shop: Tracking) -> None:
    shop = tracking_shop
    await shop.connect("slow", "smmsend", time_limit=HANG_LIMIT)
    fast_order = await shop.place()
    await shop.place(panel="slow")
    shop.sandbox.faults.add("hang", action="status", dialect="smmsend")
    shop.set_status(fast_order, "Completed")
    # The hanging panel comes first: a sync taking panels one after another fails here.
    shop.panels = {"slow": shop.panels.pop("slow"), **shop.panels}

    started = time.monotonic()
    sync = asyncio.create_task(shop.sync())
    while (await shop.order(fast_order.order_id)).status != "completed":
        assert not sync.done(), "the sync ended without the working panel's change"
        assert time.monotonic() - started < HANG_LIMIT, "the working panel waited for the hang"
        await asyncio.sleep(0.01)
    assert not sync.done(), "the hanging panel should still be waited for"
    reports = {r.panel: r for r in await sync}
    assert reports["sandbox"].error is None and reports["sandbox"].changed == 1
    assert reports["slow"].error is not None and "in time" in reports["slow"].error


async def test_a_faulty_panel_stops_its_cycle_after_the_first_failure(
    tracking_shop: Tracking,
) -> None:
    shop = tracking_shop
    for _ in range(3):
        await shop.place(quantity=100)
    # 3 orders fit one request; make it fail and the cycle reports it.
    shop.sandbox.faults.add("http500", action="status")
    shop.sandbox.requests.clear()
    (report,) = await shop.sync(concurrency=1)
    assert report.error is not None and "500" in report.error
    assert report.checked == 0
    assert len(shop.status_requests()) == 1


# --------------------------------------------------------------------------- other dialects


async def test_an_smmtechs_order_syncs_through_the_client(tracking_shop: Tracking) -> None:
    shop = tracking_shop
    await shop.connect("techs", "smmtechs")
    order = await shop.place(panel="techs", quantity=500)
    assert order.panel == "techs"

    shop.set_status(order, "Completed")
    reports = {r.panel: r for r in await shop.sync()}

    assert reports["techs"].error is None and reports["techs"].changed == 1
    stored = await shop.order(order.order_id)
    assert (stored.status, stored.remains) == ("completed", 0)
    assert any("is completed" in text for text in await shop.messages())


# --------------------------------------------------------------------------- lost orders


async def test_incorrect_order_id_is_flagged_for_review_not_lost(tracking_shop: Tracking) -> None:
    shop = tracking_shop
    order = await shop.place()
    await users.register_user(
        shop.db, user_id=ADMIN_CHAT, chat_id=ADMIN_CHAT, username="boss", first_name="Boss"
    )
    shop.sandbox.forget_order(shop.panel_id(order))

    await shop.sync(admin_chat_ids=[ADMIN_CHAT])
    await shop.sync(admin_chat_ids=[ADMIN_CHAT])

    stored = await shop.order(order.order_id)
    assert stored.status == "review"
    assert order.order_id in [o.order_id for o in await ordering.orders_for_review(shop.db)]
    assert await wallet.get_balance(shop.db, CUSTOMER) == Decimal(10_000) - order.price
    (told,) = await shop.messages()
    assert "no longer finds this order" in told
    (admin_note,) = await shop.messages(ADMIN_CHAT)
    assert "Incorrect order ID" in admin_note and shop.panel_id(order) in admin_note
    # It is not asked about again until an admin decides.
    shop.sandbox.requests.clear()
    await shop.sync()
    assert shop.status_requests() == []


async def test_an_order_the_admin_failed_after_review_stays_failed(
    tracking_shop: Tracking,
) -> None:
    shop = tracking_shop
    order = await shop.place()
    shop.sandbox.forget_order(shop.panel_id(order))
    await shop.sync()
    await ordering.resolve_review(shop.db, order.order_id, panel_order_id=None, admin_id=1)
    shop.sandbox.requests.clear()

    await shop.sync()

    assert (await shop.order(order.order_id)).status == "failed"
    assert shop.status_requests() == []
    assert await wallet.get_balance(shop.db, CUSTOMER) == Decimal(10_000)


# --------------------------------------------------------------------------- refresh


async def test_refresh_asks_the_panel_about_one_order_now(tracking_shop: Tracking) -> None:
    shop = tracking_shop
    order = await shop.place()
    shop.set_status(order, "In progress", remains=order.quantity // 2)
    shop.sandbox.requests.clear()

    refreshed = await status_sync.refresh_order(shop.db, shop.panels, order.order_id)

    assert (refreshed.status, refreshed.remains) == ("in_progress", order.quantity // 2)
    assert len(shop.status_requests()) == 1
    assert "50%" in (await shop.messages())[0]


async def test_refresh_of_an_unknown_order_says_so(tracking_shop: Tracking) -> None:
    with pytest.raises(LookupError):
        await status_sync.refresh_order(tracking_shop.db, tracking_shop.panels, 999)


# --------------------------------------------------------------------------- backoff


def test_panel_health_backs_off_exponentially_up_to_a_cap() -> None:
    health = panel_health.PanelHealth(start=30, cap=900)
    waits = []
    for _ in range(7):
        health.failed("p", 1000.0)
        waits.append(next(t for t in range(2000) if not health.should_skip("p", 1000.0 + t)))
    assert waits == [30, 60, 120, 240, 480, 900, 900]
    assert not health.should_skip("q", 1000.0)
    health.succeeded("p")
    assert not health.should_skip("p", 1000.0) and health.failures("p") == 0


# --------------------------------------------------------------------------- fast paths


async def test_sync_writes_compose_into_the_callers_transaction(db: Database) -> None:
    with pytest.raises(RuntimeError, match="transaction"):
        await tracking_rows.record_answers(db, [], [], [], [])
    with pytest.raises(RuntimeError, match="transaction"):
        await tracking_rows.refund_balances(db, [])


async def test_answers_arriving_together_are_written_together(
    tracking_shop: Tracking, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop = tracking_shop
    orders = [await shop.place(quantity=100) for _ in range(450)]
    for order in orders:
        shop.set_status(order, "Canceled")
    shop.sandbox.requests.clear()
    client = shop.panels["sandbox"]
    order_statuses = client.order_statuses
    answered: list[int] = []
    all_answered = asyncio.Event()

    async def counted(ids: list[str]) -> dict[str, OrderStatusInfo]:
        infos = await order_statuses(ids)
        answered.append(len(ids))
        if len(answered) == 5:
            all_answered.set()
        return infos

    written: list[int] = []
    apply_answers = status_sync._apply_answers

    async def slow_database(
        db: Database, panel: str, asked: list[tracking_rows.ActiveOrder], *args: Any
    ) -> int:
        if not written:
            # The database is slow to take the first answer: the rest arrive meanwhile.
            await asyncio.wait_for(all_answered.wait(), timeout=10)
        written.append(len(asked))
        return await apply_answers(db, panel, asked, *args)

    monkeypatch.setattr(client, "order_statuses", counted)
    monkeypatch.setattr(status_sync, "_apply_answers", slow_database)

    (report,) = await shop.sync(concurrency=4)

    assert (report.requests, report.checked, report.changed) == (5, 450, 450)
    # The first answer waited for the database; the four that came meanwhile went together.
    assert written == [100, 350]
    for order in orders:
        assert (await shop.order(order.order_id)).status == "canceled"
        assert len(await status_sync.order_history(shop.db, order.order_id)) == 3
    refunds = await shop.db.fetch_all(
        "SELECT order_id, amount, balance_after FROM ledger WHERE kind = 'refund'"
        " ORDER BY entry_id"
    )
    assert sorted(int(r[0]) for r in refunds) == sorted(o.order_id for o in orders)
    # Each refund carried the balance on from the one before, whatever the grouping.
    balance = Decimal(10_000) - sum((o.price for o in orders), Decimal(0))
    for row in refunds:
        balance += Decimal(row[1])
        assert Decimal(row[2]) == balance
    assert await wallet.get_balance(shop.db, CUSTOMER) == Decimal(10_000)
    assert len(await shop.messages()) == 450
