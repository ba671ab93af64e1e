"""Benchmark order tracking on loopback: status sync at scale and notification throughput.

Run ``python -m bench.tracking``. Against the sandbox panel, served from its own process (a
real panel is another machine) with 50 ms added to every request, it syncs 10,000 and then
100,000 active orders with 4 requests at once per panel, twice each: once when nothing moved
(pure polling) and once after the sandbox clock moved on, so most orders changed (events,
refunds and outbox messages written). Orders are created fast: sandbox orders through its
Python API and order rows inserted in bulk, not placed over HTTP. Then it delivers one
message to each of 1,000 chats through the fake Bot API with Telegram's limits enforced.
Figures and whether each target was met are printed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import multiprocessing
import resource
import sys
import tempfile
import time
from dataclasses import dataclass
from decimal import Decimal
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from telegram import Bot

from bot.jobs import SendLimiter, deliver_outbox
from bot.panels.base import PanelConfig
from bot.panels.models import OrderType
from bot.panels.registry import make_client
from bot.panels.sandbox import SandboxPanel
from bot.services import catalog, notifications, status_sync
from storage import outbox as outbox_rows
from storage.db import Database, money_text, now_text, open_database
from tests.fakes.bot_api import FakeBotApi

LATENCY = 0.05
CONCURRENCY = 4
SIZES = (10_000, 100_000)
TARGET_ORDERS = 100_000
TARGET_SECONDS = 30.0
CUSTOMERS = 1_000
CHATS = 1_000
TARGET_RATE = 28.0
MOVE_ON_SECONDS = 90.0
LINK = "https://instagram.com/p/bench"
# (order ID, what the panel charged, remains, start count, the charge it shows)
PlacedOrder = tuple[str, str, int, int, str]


@dataclass
class SyncFigures:
    orders: int
    label: str
    seconds: float
    requests: int
    changed: int
    error: str | None


def peak_memory_mb() -> float:
    """The process's peak resident memory so far, in MB (Linux reports KB)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 if sys.platform != "darwin" else peak / 1024 / 1024


# --------------------------------------------------------------------------- the panel process


def serve_sandbox(conn: Connection) -> None:
    """Run the sandbox panel in its own process (a real panel is another machine) and obey
    the parent's commands: place orders, set latency, advance the clock, count requests."""
    asyncio.run(_serve_sandbox(conn))


async def _serve_sandbox(conn: Connection) -> None:
    sandbox = SandboxPanel(key="bench-key", catalog_size=120, balance=Decimal(10**12), seed=7)
    loop = asyncio.get_running_loop()
    async with sandbox.serve("127.0.0.1", 0):
        conn.send(sandbox.config_for("v2", name="sandbox", timeout=30))
        while True:
            command, argument = await loop.run_in_executor(None, conn.recv)
            if command == "place":
                conn.send(_place_in_sandbox(sandbox, int(argument)))
            elif command == "latency":
                sandbox.faults.latency = float(argument)
                conn.send(None)
            elif command == "advance":
                sandbox.advance(float(argument))
                conn.send(None)
            elif command == "requests":
                conn.send(len(sandbox.requests))
            else:
                conn.send(None)
                return


def _place_in_sandbox(sandbox: SandboxPanel, count: int) -> tuple[str, int, list[PlacedOrder]]:
    """Open ``count`` orders through the sandbox's Python API (no HTTP)."""
    service = sandbox.find_service(OrderType.DEFAULT)
    quantity = min(max(1000, service.min), service.max)
    form = {"service": str(service.service_id), "link": LINK, "quantity": str(quantity)}
    placed: list[PlacedOrder] = []
    for _ in range(count):
        order = sandbox.books.place_order("v2", form)
        view = sandbox.books.status_view(order)
        placed.append(
            (
                order.order_id,
                str(order.charge),
                int(view["remains"]),
                int(view["start_count"]),
                view["charge"],
            )
        )
    return str(service.service_id), quantity, placed


class Panel:
    """The parent's handle on the sandbox process."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=serve_sandbox, args=(child,), daemon=True)
        self._process.start()
        self.config: PanelConfig = self._conn.recv()

    def ask(self, command: str, argument: object = None) -> Any:
        self._conn.send((command, argument))
        return self._conn.recv()

    def close(self) -> None:
        self.ask("stop")
        self._process.join(10)


# --------------------------------------------------------------------------- status sync


async def _fill(db: Database, panel: Panel, count: int) -> None:
    """Create ``count`` sandbox orders and the matching order rows, the fast way."""
    now = now_text()
    async with db.transaction():
        await db.conn.executemany(
            "INSERT INTO users (user_id, chat_id, first_name, created_at, updated_at)"
            " VALUES (?, ?, 'Bench', ?, ?) ON CONFLICT DO NOTHING",
            [(10_000 + n, 10_000 + n, now, now) for n in range(CUSTOMERS)],
        )
    service_id, quantity, placed = panel.ask("place", count)
    row = await db.fetch_one(
        "SELECT item_id, price_rate, name FROM services"
        " WHERE panel = 'sandbox' AND service_id = ?",
        (service_id,),
    )
    assert row is not None, "the sandbox catalog was not synced"
    item_id, price_rate, name = int(row[0]), Decimal(row[1]), str(row[2])
    price = money_text((price_rate * quantity / 1000).quantize(Decimal("0.01")))
    fields = json.dumps({"link": LINK, "quantity": str(quantity)})
    rows = [
        (
            10_000 + n % CUSTOMERS,
            10_000 + n % CUSTOMERS,
            order_id,
            item_id,
            service_id,
            name,
            quantity,
            fields,
            price,
            cost,
            remains,
            start_count,
            shown_charge,
            f"bench-{order_id}",
            now,
            now,
        )
        for n, (order_id, cost, remains, start_count, shown_charge) in enumerate(placed)
    ]
    async with db.transaction():
        await db.conn.executemany(
            "INSERT INTO orders (user_id, chat_id, panel, panel_order_id, item_id, service_id,"
            " service_name, order_type, link, quantity, fields, price, cost, charged, status,"
            " remains, start_count, charge, currency, idempotency_key, created_at, updated_at)"
            f" VALUES (?, ?, 'sandbox', ?, ?, ?, ?, 'Default', '{LINK}',"
            " ?, ?, ?, ?, 1, 'pending', ?, ?, ?, 'USD', ?, ?, ?)",
            rows,
        )


async def bench_sync(count: int, workdir: Path) -> list[SyncFigures]:
    """Sync ``count`` active orders twice: nothing moved, then most orders moved."""
    panel = Panel()
    db = await open_database(workdir / f"sync-{count}.sqlite3")
    client = make_client(panel.config)
    figures: list[SyncFigures] = []
    try:
        panels = {"sandbox": client}
        await catalog.sync_catalogs(db, panels, lambda _: Decimal(25))
        await _fill(db, panel, count)
        panel.ask("latency", LATENCY)
        for label in ("nothing moved", "most orders moved"):
            if label != "nothing moved":
                panel.ask("advance", MOVE_ON_SECONDS)
            asked_before = panel.ask("requests")
            started = time.perf_counter()
            (report,) = await status_sync.sync_statuses(db, panels, concurrency=CONCURRENCY)
            seconds = time.perf_counter() - started
            requests = panel.ask("requests") - asked_before
            figures.append(
                SyncFigures(count, label, seconds, requests, report.changed, report.error)
            )
        queued = await outbox_rows.count_by_status(db)
        print(f"  ({count:,} orders: {queued.get('pending', 0):,} notifications queued)")
    finally:
        await client.close()
        await db.close()
        panel.close()
    return figures


async def bench_notifications(workdir: Path) -> tuple[int, float, int]:
    """Deliver one message to each of ``CHATS`` chats; return (sent, seconds, 429s)."""
    db = await open_database(workdir / "outbox.sqlite3")
    try:
        for chat_id in range(20_000, 20_000 + CHATS):
            await notifications.enqueue(db, chat_id, f"✅ Order <b>#{chat_id}</b> is completed")
        async with FakeBotApi(enforce_limits=True) as api:
            async with Bot(api.token, base_url=f"{api.base_url}/bot") as bot:
                limiter = SendLimiter()
                sent = 0
                started = time.perf_counter()
                deadline = started + 120
                while sent < CHATS and time.perf_counter() < deadline:
                    sent += await deliver_outbox(bot, db, limiter=limiter)
                seconds = time.perf_counter() - started
            floods = sum(1 for c in api.calls_to("sendMessage") if c.error_code == 429)
    finally:
        await db.close()
    return sent, seconds, floods


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


async def run() -> bool:
    """Run every benchmark, print the figures and say whether the targets were met."""
    print(f"Order status sync: {LATENCY * 1000:.0f} ms added latency, {CONCURRENCY} requests")
    print("at once per panel, 100 order IDs per request.")
    all_ok = True
    with tempfile.TemporaryDirectory(prefix="bench-tracking-") as folder:
        workdir = Path(folder)
        results: list[SyncFigures] = []
        for count in SIZES:
            results += await bench_sync(count, workdir)
        print(f"{'orders':>9} {'cycle':<19} {'seconds':>8} {'requests':>9} {'changed':>8}")
        for f in results:
            print(
                f"{f.orders:>9,} {f.label:<19} {f.seconds:>8.2f} {f.requests:>9,}"
                f" {f.changed:>8,}" + (f"  error: {f.error}" if f.error else "")
            )
        worst = max(f.seconds for f in results if f.orders == TARGET_ORDERS)
        sync_ok = worst < TARGET_SECONDS and all(f.error is None for f in results)
        all_ok &= sync_ok
        print(
            f"Target: {TARGET_ORDERS:,} orders synced in under {TARGET_SECONDS:.0f} s"
            f" (slowest cycle {worst:.1f} s): {verdict(sync_ok)}"
        )
        print(
            f"Peak memory of this process (sandbox and fake Telegram included): "
            f"{peak_memory_mb():.0f} MB"
        )

        sent, seconds, floods = await bench_notifications(workdir)
        rate = sent / seconds if seconds else 0.0
        notify_ok = sent == CHATS and rate >= TARGET_RATE and floods == 0
        all_ok &= notify_ok
        print(
            f"Notifications: {sent:,} messages to {CHATS:,} chats in {seconds:.1f} s ="
            f" {rate:.1f} msg/s, {floods} flood errors (429)"
        )
        print(f"Target: at least {TARGET_RATE:.0f} msg/s with zero 429s: {verdict(notify_ok)}")
    return all_ok


def main() -> None:
    """Run the benchmark; exit 1 when a target was missed."""
    logging.basicConfig(level=logging.WARNING)
    started = time.perf_counter()
    ok = asyncio.run(run())
    print(f"Total run time: {time.perf_counter() - started:.0f} s")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
