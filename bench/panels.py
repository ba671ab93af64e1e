"""Panel client figures against the sandbox: a full catalog fetch and a 10,000-order status check.

Run: ``python -m bench.panels [--services 5000] [--orders 10000] [--latency 0.0]``.
Prints, per dialect: requests made, seconds and peak Python memory (tracemalloc). Loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import TypeVar

from bot.panels.base import PanelClient
from bot.panels.models import chunked
from bot.panels.registry import make_client
from bot.panels.sandbox import SandboxPanel

T = TypeVar("T")


async def measure(
    sandbox: SandboxPanel, work: Callable[[], Awaitable[T]]
) -> tuple[T, int, float, float]:
    """Run ``work``; return its result, requests the sandbox saw, seconds and peak MiB."""
    before = len(sandbox.requests)
    tracemalloc.start()
    started = time.perf_counter()
    result = await work()
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return result, len(sandbox.requests) - before, seconds, peak / 2**20


async def statuses_concurrently(
    client: PanelClient, ids: list[str], concurrency: int
) -> dict[str, object]:
    """Ask about ``ids`` in chunks of 100 with at most ``concurrency`` requests in flight."""
    gate = asyncio.Semaphore(concurrency)
    results: dict[str, object] = {}

    async def one(chunk: list[str]) -> None:
        async with gate:
            results.update(await client.order_statuses(chunk))

    await asyncio.gather(*(one(chunk) for chunk in chunked(ids, 100)))
    return results


def row(label: str, requests: int, seconds: float, peak_mib: float, extra: str = "") -> None:
    print(f"  {label:<38} {requests:>6} req {seconds:>8.3f} s {peak_mib:>8.1f} MiB  {extra}")


async def run(services: int, orders: int, latency: float, concurrency: int) -> None:
    sandbox = SandboxPanel(key="bench-key", catalog_size=services, balance=Decimal(10**9))
    async with sandbox.serve("127.0.0.1", 0):
        sandbox.faults.latency = latency
        service = sandbox.find_service()
        for _ in range(orders):
            sandbox.books.place_order(
                "v2",
                {"service": str(service.service_id), "link": "https://x.com/a", "quantity": "100"},
            )
        ids = list(sandbox.orders)
        print(f"sandbox: {services} services, {len(ids)} orders, {latency * 1000:.0f} ms latency")
        for dialect in ("v2", "smmbros", "smmsend", "smmtechs"):
            config = sandbox.config_for(dialect, name=dialect, timeout=60, retries=0)
            client = make_client(config)
            try:
                print(f"{dialect}:")
                catalog, requests, seconds, peak = await measure(sandbox, client.services)
                row("catalog fetch", requests, seconds, peak, f"{len(catalog)} services")
                if dialect == "smmtechs":
                    continue  # one request per task and an hourly budget: not a bulk API
                found, requests, seconds, peak = await measure(
                    sandbox, lambda c=client: c.order_statuses(ids)
                )
                row(f"status of {len(ids)} orders, 1 at a time", requests, seconds, peak)
                found2, requests, seconds, peak = await measure(
                    sandbox, lambda c=client: statuses_concurrently(c, ids, concurrency)
                )
                label = f"status of {len(ids)} orders, {concurrency} at a time"
                row(label, requests, seconds, peak)
                assert len(found) == len(found2) == len(ids)
            finally:
                await client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--services", type=int, default=5000)
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added per request")
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    asyncio.run(run(args.services, args.orders, args.latency, args.concurrency))


if __name__ == "__main__":
    main()
