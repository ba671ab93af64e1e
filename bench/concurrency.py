"""Benchmark serving many customers at once, on loopback.

Run ``python -m bench.concurrency`` (``--customers N --latency L --updates M``).

1. A slow panel: N customers (10 by default) tap Confirm at the same moment while the
   sandbox panel takes L seconds (2 by default) over every ``add``; as soon as the panel
   holds all N requests, another user sends /id, which needs no panel. Printed: the time
   until every customer has their order's result, as a multiple of L (target at most 2),
   and the other user's reply time (target under 0.2 s). Everything runs in this process,
   driven through the fake Telegram like the chat tests.
2. Throughput and CPU: M users (300 by default) each send /id at once to this bot and then
   to a bare PTB bot (an Application with the same AIORateLimiter and one CommandHandler that
   replies). The fake Telegram runs in its own process with Telegram's sending limits
   (30 messages/s overall, 1/s per chat), so this process's CPU time is the bot's alone.
   Printed: updates answered per second (target: the bare bot's, as Telegram's limits bind
   both) and CPU milliseconds per update (target at most 1.5 times the bare bot's); the
   same CPU figure for /balance from returning customers (SQLite reads on every update).

Every wait is bounded: the run ends by itself, printing what was met and what was not.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import multiprocessing
import sys
import tempfile
import time
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes
from telegram.warnings import PTBUserWarning

from bot.app import (
    build_application,
    close_resources,
    open_resources,
    rate_limiter,
    wait_for_initial_sync,
)
from bot.panels.sandbox import SandboxPanel
from bot.texts import ordering as texts
from tests.fakes.bot_api import FakeBotApi
from tests.fakes.chat_orders import customer
from tests.fakes.order_summary import ready_summary
from tests.fakes.telegram_fixtures import BotEnv, make_settings

CUSTOMERS = 10
LATENCY = 2.0
UPDATES = 300
WARM_UP = 30
TARGET_FACTOR = 2.0
TARGET_REPLY = 0.2
TARGET_CPU_RATIO = 1.5
# "The same throughput": within 5 % of the bare bot's, which Telegram's limits set.
TARGET_THROUGHPUT_RATIO = 0.95
SANDBOX_KEY = "bench-key"
# Stops a bot started for the load run.
Stop = Callable[[], Awaitable[None]]


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


async def until(condition: Callable[[], bool], limit: float, what: str) -> None:
    """Poll ``condition`` every 5 ms for at most ``limit`` seconds."""
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not happen within {limit:.0f} s")
        await asyncio.sleep(0.005)


# --------------------------------------------------------------------------- a slow panel


@dataclass
class SlowPanelFigures:
    all_answered: float
    other_reply: float


async def bench_slow_panel(customers: int, latency: float, workdir: Path) -> SlowPanelFigures:
    """N customers confirm at once on a panel whose ``add`` takes ``latency`` seconds."""
    sandbox = SandboxPanel(key=SANDBOX_KEY, catalog_size=60, balance=Decimal(10**9), seed=7)
    async with FakeBotApi(enforce_limits=True) as api, sandbox.serve("127.0.0.1", 0):
        settings = make_settings(api.base_url, api.token, workdir / "slow.sqlite3", sandbox)
        env = BotEnv(api, settings, sandbox)
        await env.start()
        try:
            users = [await customer(env, f"Customer{n}") for n in range(customers)]
            summaries = [await ready_summary(env, user) for user in users]
            other = env.user(first_name="Otto", username="otto")
            sandbox.faults.add("latency", count=customers, action="add", seconds=latency)

            def adds() -> int:
                return sum(1 for r in sandbox.requests if r.action == "add")

            adds_before = adds()
            started = time.monotonic()
            confirms = [
                user.press(texts.BTN_CONFIRM, summary)
                for user, summary in zip(users, summaries, strict=True)
            ]
            await until(lambda: adds() - adds_before == customers, latency, "every add sent")
            asked = time.monotonic()
            other.post("/id")
            await until(lambda: _reply_time(api, other.chat_id, asked) is not None, 30, "/id")
            other_reply = (_reply_time(api, other.chat_id, asked) or asked) - asked
            limit = latency * customers + 30
            await until(lambda: set(confirms) <= env.handled, limit, "every order's result")
            results = [_reply_time(api, user.chat_id, started) for user in users]
            if any(t is None for t in results):
                raise RuntimeError("a customer got no result for their order")
            all_answered = max(t for t in results if t is not None) - started
        finally:
            await env.stop()
    return SlowPanelFigures(all_answered, other_reply)


def _reply_time(api: FakeBotApi, chat_id: int, since: float) -> float | None:
    """When the first message to ``chat_id`` after ``since`` reached Telegram."""
    for call in api.calls:
        sent = call.method == "sendMessage" and call.ok and call.chat_id == chat_id
        if sent and call.time >= since:
            return call.time
    return None


# --------------------------------------------------------------------------- Telegram process


def serve_telegram(conn: Connection) -> None:
    """Run the fake Telegram, with its sending limits, in its own process."""
    asyncio.run(_serve_telegram(conn))


async def _serve_telegram(conn: Connection) -> None:
    loop = asyncio.get_running_loop()
    async with FakeBotApi(enforce_limits=True) as api:
        conn.send((api.base_url, api.token))
        while True:
            command, argument = await loop.run_in_executor(None, conn.recv)
            if command != "burst":
                conn.send(None)
                return
            first_user, count, text, limit = argument
            conn.send(await _burst(api, first_user, count, text, limit))


async def _burst(
    api: FakeBotApi, first_user: int, count: int, text: str, limit: float
) -> tuple[int, float, int]:
    """Queue ``text`` from ``count`` new users at once; wait (at most ``limit`` seconds) for
    a reply to each; return (replies, seconds until the last, 429 answers)."""
    seen = len(api.calls)
    users = range(first_user, first_user + count)
    started = time.monotonic()
    for user_id in users:
        api.queue_message({"id": user_id, "is_bot": False, "first_name": "Bench"}, text)
    waiting = set(users)
    last = started
    floods = 0
    deadline = started + limit
    while waiting and time.monotonic() < deadline:
        await asyncio.sleep(0.005)
        calls, seen = api.calls[seen:], len(api.calls)
        for call in calls:
            if call.method != "sendMessage":
                continue
            if call.error_code == 429:
                floods += 1
            elif call.ok and call.chat_id in waiting:
                waiting.discard(call.chat_id)
                last = call.time
    return count - len(waiting), last - started, floods


class Telegram:
    """The parent's handle on the fake Telegram process."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=serve_telegram, args=(child,), daemon=True)
        self._process.start()
        child.close()  # so a crashed child ends our reads (EOFError) instead of hanging them
        self.base_url, self.token = self._conn.recv()

    async def burst(self, first_user: int, count: int, text: str) -> tuple[int, float, int]:
        """Have ``count`` users send ``text``; the bot keeps running while this waits."""
        self._conn.send(("burst", (first_user, count, text, count / 10 + 30)))
        result: tuple[int, float, int] = await asyncio.get_running_loop().run_in_executor(
            None, self._conn.recv
        )
        return result

    def close(self) -> None:
        self._conn.send(("stop", None))
        self._conn.recv()
        self._process.join(10)


# --------------------------------------------------------------------------- throughput, CPU


@dataclass
class LoadFigures:
    label: str
    answered: int
    seconds: float
    floods: int
    cpu_ms: float

    @property
    def per_second(self) -> float:
        return self.answered / self.seconds if self.seconds else 0.0

    @property
    def cpu_per_update(self) -> float:
        return self.cpu_ms / self.answered if self.answered else float("inf")


async def _measure(
    label: str,
    start: Callable[[str, str], Awaitable[Stop]],
    updates: int,
    command: str = "/id",
    *,
    returning: bool = False,
) -> LoadFigures:
    """Start a bot against a fresh fake Telegram, warm it up, then time a burst of
    ``command`` from ``updates`` users (who already sent it once if ``returning``)."""
    telegram = Telegram()
    try:
        stop = await start(telegram.base_url, telegram.token)
        try:
            await telegram.burst(1_000_000, WARM_UP, command)
            if returning:
                await telegram.burst(2_000_000, updates, command)
            cpu = time.process_time()
            answered, seconds, floods = await telegram.burst(2_000_000, updates, command)
            cpu_ms = (time.process_time() - cpu) * 1000
        finally:
            await stop()
    finally:
        telegram.close()
    return LoadFigures(label, answered, seconds, floods, cpu_ms)


async def _run_app(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    assert app.updater is not None
    await app.updater.start_polling()
    await app.start()


async def _stop_app(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    assert app.updater is not None
    await app.updater.stop()
    await app.stop()


async def start_bare_bot(base_url: str, token: str) -> Stop:
    """A minimal PTB bot: the same rate limiter, one command that replies."""

    async def my_id(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None and update.effective_user is not None
        await update.effective_message.reply_text(f"Your ID: {update.effective_user.id}")

    app = (
        Application.builder()
        .token(token)
        .base_url(f"{base_url}/bot")
        .base_file_url(f"{base_url}/file/bot")
        .rate_limiter(rate_limiter())
        .build()
    )
    app.add_handler(CommandHandler("id", my_id))
    await app.initialize()
    await _run_app(app)

    async def stop() -> None:
        await _stop_app(app)
        await app.shutdown()

    return stop


def start_this_bot(workdir: Path) -> Callable[[str, str], Awaitable[Stop]]:
    """This bot as production builds it, selling a sandbox panel served in this process."""

    async def start(base_url: str, token: str) -> Stop:
        sandbox = SandboxPanel(key=SANDBOX_KEY, catalog_size=60, balance=Decimal(1000), seed=7)
        await sandbox.start("127.0.0.1", 0)
        settings = make_settings(base_url, token, workdir / "load.sqlite3", sandbox)
        app = build_application(settings)
        await app.initialize()
        await open_resources(app)
        await wait_for_initial_sync(app)
        await _run_app(app)

        async def stop() -> None:
            await _stop_app(app)
            await close_resources(app)
            await app.shutdown()
            await sandbox.stop()

        return stop

    return start


# --------------------------------------------------------------------------- report


async def run(customers: int, latency: float, updates: int) -> bool:
    """Run both benchmarks, print the figures and whether each target was met."""
    all_ok = True
    with tempfile.TemporaryDirectory(prefix="bench-concurrency-") as folder:
        workdir = Path(folder)
        print(f"A slow panel: {customers} customers confirm at once; each add takes {latency:g} s")
        slow = await bench_slow_panel(customers, latency, workdir)
        factor = slow.all_answered / latency
        factor_ok = factor <= TARGET_FACTOR
        reply_ok = slow.other_reply < TARGET_REPLY
        all_ok &= factor_ok and reply_ok
        print(
            f"  all {customers} answered after {slow.all_answered:.2f} s = {factor:.2f} × the"
            f" panel's latency (target ≤ {TARGET_FACTOR:g}): {verdict(factor_ok)}"
        )
        print(
            f"  another user's /id meanwhile: answered in {slow.other_reply:.3f} s"
            f" (target < {TARGET_REPLY:g} s): {verdict(reply_ok)}"
        )

        print(f"Load: {updates} users send /id at once; Telegram's limits enforced")
        bare = await _measure("bare PTB bot, /id", start_bare_bot, updates)
        ours = await _measure("this bot, /id", start_this_bot(workdir / "id"), updates)
        balance = await _measure(
            "this bot, /balance*", start_this_bot(workdir / "balance"), updates, "/balance",
            returning=True,
        )  # fmt: skip
        print(f"  {'bot, command':<20} {'answered':>8} {'seconds':>8} {'updates/s':>10}"
              f" {'429s':>5} {'CPU ms/update':>14}")  # fmt: skip
        for f in (bare, ours, balance):
            print(
                f"  {f.label:<20} {f.answered:>8} {f.seconds:>8.2f} {f.per_second:>10.1f}"
                f" {f.floods:>5} {f.cpu_per_update:>14.2f}"
            )
        print("  * customers who already used the bot: the balance and last payments, read")
        print("    from SQLite, with the user's registration checked")
        rate_ratio = ours.per_second / bare.per_second if bare.per_second else 0.0
        rate_ok = ours.answered == updates and rate_ratio >= TARGET_THROUGHPUT_RATIO
        cpu_ratio = ours.cpu_per_update / bare.cpu_per_update
        cpu_ok = cpu_ratio <= TARGET_CPU_RATIO
        all_ok &= rate_ok and cpu_ok
        print(
            f"  throughput {ours.per_second:.1f}/s = {rate_ratio:.2f} × the bare bot's"
            f" (target: the same, ≥ {TARGET_THROUGHPUT_RATIO:g}×): {verdict(rate_ok)}"
        )
        print(
            f"  CPU per update {ours.cpu_per_update:.2f} ms = {cpu_ratio:.2f} × the bare bot's"
            f" (target ≤ {TARGET_CPU_RATIO:g}×): {verdict(cpu_ok)}"
        )
        balance_ratio = balance.cpu_per_update / bare.cpu_per_update
        balance_ok = balance.answered == updates and balance_ratio <= TARGET_CPU_RATIO
        all_ok &= balance_ok
        print(
            f"  CPU per /balance {balance.cpu_per_update:.2f} ms = {balance_ratio:.2f} × the"
            f" bare bot's /id (target ≤ {TARGET_CPU_RATIO:g}×): {verdict(balance_ok)}"
        )
    return all_ok


def main() -> None:
    """Run the benchmark; exit 1 when a target was missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=CUSTOMERS, help="at least 10")
    parser.add_argument("--latency", type=float, default=LATENCY, help="seconds, at least 2")
    parser.add_argument("--updates", type=int, default=UPDATES, help="users in the load run")
    args = parser.parse_args()
    if args.customers < CUSTOMERS or args.latency < LATENCY or args.updates < 1:
        parser.error(f"use at least {CUSTOMERS} customers, {LATENCY:g} s and 1 update")
    logging.basicConfig(level=logging.WARNING)
    # As in bot/__main__.py: the order conversations mean per_message=False.
    warnings.filterwarnings("ignore", message="If 'per_message=False'", category=PTBUserWarning)
    started = time.perf_counter()
    ok = asyncio.run(run(args.customers, args.latency, args.updates))
    print(f"Total run time: {time.perf_counter() - started:.0f} s")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
