"""The owner's back office in the chat: /panels, /user and /id.

Every test drives the real bot through the fake Telegram Bot API and the sandbox panel;
orders are placed with the ordering service, as the order conversation does.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from decimal import Decimal

from bot import texts
from bot.panels.registry import make_client
from bot.services import backoffice, catalog, users, wallet
from tests.fakes.chat_orders import place
from tests.fakes.telegram_fixtures import ADMIN_ID, BotEnv, FakeUser, Msg

HOSTILE_NAME = "<b>Eve</b> & <i>co"


# --------------------------------------------------------------------------- helpers


async def customer(
    env: BotEnv, name: str = "Ann", username: str = "ann", funds: Decimal = Decimal(500)
) -> FakeUser:
    user = env.user(first_name=name, username=username)
    await user.send("/start")
    await wallet.credit(env.db, user.user_id, funds, reason="paid <cash>", admin_id=ADMIN_ID)
    user.replies()
    return user


async def ask_panels(admin: FakeUser) -> Msg:
    """Send /panels and return the finished report (the progress message, edited)."""
    await admin.send("/panels")
    progress, report = admin.replies()
    assert progress.text == "🏦 Asking the panels for their balance…"
    assert report.method == "editMessageText" and report.message_id == progress.message_id
    return report


def block_of(report: Msg, panel: str) -> list[str]:
    """The lines of one panel's block in the /panels report."""
    for block in report.text.split("\n\n"):
        lines = block.splitlines()
        if lines[0].startswith(f"{panel} · "):
            return lines
    raise AssertionError(f"no block for panel {panel!r} in:\n{report.text}")


def line_with(lines: list[str], prefix: str) -> str:
    [line] = [line for line in lines if line.startswith(prefix)]
    return line


def balance_shown(lines: list[str]) -> Decimal:
    match = re.fullmatch(r"💰 Balance: ([\d,.]+) USD", line_with(lines, "💰 Balance:"))
    assert match is not None, lines
    return Decimal(match[1].replace(",", ""))


@asynccontextmanager
async def extra_panels(env: BotEnv) -> AsyncIterator[None]:
    """Add two more panels on the same sandbox: "bros" (smmbros, no retries) and "techs"."""
    added = {
        "bros": make_client(env.sandbox.config_for("smmbros", name="bros", retries=0)),
        "techs": make_client(env.sandbox.config_for("smmtechs", name="techs")),
    }
    panels = env.app.bot_data.panels
    panels.update(added)
    try:
        yield
    finally:
        for name, client in added.items():
            del panels[name]
            await client.close()


@contextmanager
def backed_off(env: BotEnv, panel: str) -> Iterator[None]:
    health = env.app.bot_data.panel_health
    health.failed(panel, time.monotonic())
    try:
        yield
    finally:
        health.succeeded(panel)


# --------------------------------------------------------------------------- /panels


async def test_panels_shows_balance_catalog_orders_health_and_actions(bot_env: BotEnv) -> None:
    admin = bot_env.admin()
    ann = await customer(bot_env)
    on_sale = sum(count for _, count in await catalog.list_platforms(bot_env.db))
    first = await place(bot_env, ann)
    await place(bot_env, ann)
    await place(bot_env, ann, lost=True)

    report = await ask_panels(admin)

    assert report.text.startswith("🏦 Panels (1)")
    sandbox = block_of(report, "sandbox")
    assert sandbox[0] == "sandbox · v2"
    assert balance_shown(sandbox) == bot_env.sandbox.balance < Decimal(1000)
    assert not any("Low balance" in line for line in sandbox)
    catalog_line = line_with(sandbox, "📚 Catalog:")
    assert catalog_line.startswith(f"📚 Catalog: {on_sale} services on sale · synced 20")
    assert "📦 Orders: 2 active · 1 held for review" in sandbox
    assert "🔄 Status sync: no recent failures" in sandbox
    assert "🛠 Refill ✅ · Cancel ✅ · Drip-feed ✅" in sandbox

    # A panel that would not last another day at this pace, and one sync keeps skipping.
    bot_env.sandbox.balance = first.cost
    with backed_off(bot_env, "sandbox"):
        sandbox = block_of(await ask_panels(admin), "sandbox")
    assert balance_shown(sandbox) == first.cost
    low = line_with(sandbox, "⚠️ Low balance:")
    assert "the last 24 hours of orders cost" in low and "top the panel up" in low
    assert "⏸ Status sync: backing off after 1 failure(s) in a row" in sandbox


async def test_a_failing_panel_shows_its_error_and_hides_no_other(bot_env: BotEnv) -> None:
    admin = bot_env.admin()
    bot_env.sandbox.faults.add("http500", count=10, action="balance", dialect="smmbros")

    async with extra_panels(bot_env):
        report = await ask_panels(admin)

    assert report.text.startswith("🏦 Panels (3)")
    assert balance_shown(block_of(report, "sandbox")) == bot_env.sandbox.balance
    bros = block_of(report, "bros")
    assert bros[0] == "bros · smmbros"
    assert "💰 Balance: ❌ the panel answered HTTP 500" in bros
    assert "📚 Catalog: 0 services on sale · never synced" in bros
    techs = block_of(report, "techs")
    assert "💰 Balance: not offered by this panel" in techs
    assert "🛠 Refill ❌ · Cancel ❌ · Drip-feed ❌" in techs
    asked = [r.dialect for r in bot_env.sandbox.requests if r.action == "balance"]
    assert sorted(asked) == ["smmbros", "v2"], "techs has no balance action: not asked"


async def test_a_panel_that_hangs_costs_only_the_time_limit(bot_env: BotEnv) -> None:
    bot_env.sandbox.faults.add("hang", action="balance")
    started = time.monotonic()

    [overview] = await backoffice.panel_overview(
        bot_env.db, bot_env.app.bot_data.panels, None, time_limit=0.3
    )

    assert time.monotonic() - started < 2
    assert overview.balance is None and overview.balance_offered
    assert overview.balance_error == "no answer within 0.3 s"
    assert not overview.low_balance


async def test_customers_cannot_see_panels_or_customers(bot_env: BotEnv) -> None:
    ann = await customer(bot_env)
    await customer(bot_env, "Bob", "bob")

    for command in ("/panels", "/user @bob", "/user 1001"):
        await ann.send(command)
        [reply] = ann.replies()
        assert reply.text == texts.ADMIN_ONLY
    assert not [r for r in bot_env.sandbox.requests if r.action == "balance"]


# --------------------------------------------------------------------------- /user


async def test_user_shows_balance_ledger_and_latest_orders(bot_env: BotEnv) -> None:
    admin = bot_env.admin()
    eve = await customer(bot_env, HOSTILE_NAME, "eve")
    placed = [await place(bot_env, eve) for _ in range(6)]
    await users.set_blocked(bot_env.db, eve.user_id, True)
    balance = await wallet.get_balance(bot_env.db, eve.user_id)

    await admin.send("/user @eve")

    [reply] = admin.replies()
    lines = reply.text.splitlines()
    assert lines[0] == f"👤 {HOSTILE_NAME} @eve ({eve.user_id})"
    assert "&lt;b&gt;Eve&lt;/b&gt; &amp; &lt;i&gt;co" in reply.html
    assert "<b>Eve</b>" not in reply.html
    assert lines[1].startswith("Registered 20") and lines[1].endswith(" UTC")
    assert "🚫 Blocked: yes (they blocked the bot)" in lines
    assert f"💰 Balance: {balance:,.2f} USD" in lines
    start = lines.index("Latest ledger entries") + 1
    entries = lines[start : lines.index("", start)]
    assert [e.split(" · ")[:2] for e in entries] == [
        [f"−{order.price:,.2f} USD", f"Order: order #{order.order_id}"]
        for order in reversed(placed[1:])
    ]
    orders_at = lines.index("Latest orders (5 of 6)")
    shown = lines[orders_at + 1 :]
    assert [line.split(" · ")[0] for line in shown] == [
        f"#{order.order_id}" for order in reversed(placed[1:])
    ]
    newest = placed[-1]
    assert shown[0] == (
        f"#{newest.order_id} · {newest.service_name} · Pending · {newest.price:,.2f} USD"
    )

    await admin.send(f"/user {eve.user_id}")
    assert admin.replies()[-1].text == reply.text


async def test_user_shows_a_new_customer_and_their_top_up(bot_env: BotEnv) -> None:
    admin = bot_env.admin()
    await customer(bot_env, "Ann", "ann", funds=Decimal("10.5"))

    await admin.send("/user ANN")

    [reply] = admin.replies()
    lines = reply.text.splitlines()
    assert "Blocked: no" in lines
    assert "💰 Balance: 10.50 USD" in lines
    [top_up] = [line for line in lines if line.startswith("+")]
    assert top_up.startswith(f"+10.50 USD · Top-up: paid <cash> · by admin {ADMIN_ID} · 20")
    assert "paid &lt;cash&gt;" in reply.html
    assert lines[-2:] == ["Latest orders", "None yet."]


async def test_user_explains_unknown_customers_and_usage(bot_env: BotEnv) -> None:
    admin = bot_env.admin()

    await admin.send("/user @nobody")
    [reply] = admin.replies()
    assert reply.text.startswith("No customer “@nobody” found")

    await admin.send("/user <b>x</b>")
    assert "“<b>x</b>”" in admin.replies()[-1].text

    await admin.send("/user")
    assert admin.replies()[-1].text.startswith("Usage: /user <user ID or @username>")


# --------------------------------------------------------------------------- /id


async def test_id_tells_anyone_their_telegram_id(bot_env: BotEnv) -> None:
    stranger = bot_env.user(777_000, "Zoe", None)

    await stranger.send("/id")

    [reply] = stranger.replies()
    assert reply.text.startswith("🆔 Your Telegram user ID: 777000")
    assert "<code>777000</code>" in reply.html
    # A customer reads their ID only: the settings are the owner's business.
    assert reply.text.endswith(
        "Give this number to the shop's administrator when you ask for a top-up."
    )
    assert "ADMIN_IDS" not in reply.text and ".env" not in reply.text

    admin = bot_env.admin()
    await admin.send("/id")
    [mine] = admin.replies()
    assert (
        mine.text == f"🆔 Your Telegram user ID: {ADMIN_ID}\nYou are an administrator of this bot."
    )
