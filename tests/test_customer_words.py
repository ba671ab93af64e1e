"""Customers never see the supply chain; admins keep the full detail.

At Confirm a panel that cannot be reached is "our supplier could not be reached, nothing was
charged", not a refusal quoting an OS error and the panel's address; a supplier-side refusal
(the panel's funds) is told without the panel's words, and the admins get those words in an
alert. /id gives a customer their ID only. Notices promise only what will happen.
"""

from __future__ import annotations

import re
import socket
from decimal import Decimal
from typing import Any

import pytest

from bot.callbacks import Action, encode
from bot.panels.base import PanelConfig
from bot.panels.models import OrderType
from bot.panels.registry import make_client
from bot.services import ordering, panel_requests, wallet
from bot.texts import ordering as texts
from bot.texts import orders as order_texts
from tests.fakes.chat_orders import customer, item_for
from tests.fakes.telegram_fixtures import ADMIN_ID, BotEnv, FakeUser
from tests.fakes.tracking_fixtures import CUSTOMER, Tracking

SUPPLY_CHAIN = re.compile(
    r"panel|provider|sandbox|errno|127\.0\.0\.1|http|://|connect|\.env|ADMIN_IDS|funds", re.I
)


def closed_port() -> int:
    """A local port nothing listens on (connecting to it is refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def summary_for(env: BotEnv, user: FakeUser) -> Any:
    """Walk a Default order of the sandbox to its summary; return the item."""
    item = await item_for(env, env.sandbox.find_service(OrderType.DEFAULT).service_id)
    await user.send(f"/search {item.item_id}")
    await user.tap(encode(Action.SERVICE, item.item_id))
    await user.tap(texts.BTN_ORDER)
    await user.send("https://example.com/post/1")
    await user.send(str(item.service.min))
    if "Drip-feed?" in user.last().text:
        await user.tap("No")
    assert "Check your order" in user.last().text
    return item


async def admin_alerts(env: BotEnv, needle: str) -> list[str]:
    """Wait for the outbox to deliver an admin alert containing ``needle``; return them."""

    def delivered() -> list[str]:
        chat = env.api.chat(ADMIN_ID)
        return [str(m["text"]) for m in chat.messages.values() if needle in str(m["text"])]

    await env.wait_until(lambda: bool(delivered()), what="the admins' alert")
    return delivered()


async def test_an_unreachable_panel_at_confirm_is_not_a_refusal(bot_env: BotEnv) -> None:
    env = bot_env
    user = await customer(env)
    await summary_for(env, user)
    panels = env.app.bot_data.panels
    real = panels["sandbox"]
    unreachable = make_client(
        PanelConfig(
            name="sandbox",
            dialect="v2",
            url=f"http://127.0.0.1:{closed_port()}/api/v2",
            key=env.sandbox.key,
        )
    )
    panels["sandbox"] = unreachable
    try:
        await user.tap(texts.BTN_CONFIRM)
    finally:
        panels["sandbox"] = real
        await unreachable.close()

    told = user.last().text
    assert told.startswith("❌ We could not reach our supplier just now, so order #1 was not")
    assert "Nothing was charged" in told
    assert not SUPPLY_CHAIN.search(told), told
    assert await wallet.get_balance(env.db, user.user_id) == Decimal(500)
    [record] = (await ordering.list_user_orders(env.db, user.user_id, 0)).items
    assert record.status == "failed"
    # The admins read what really happened, the panel's name and the OS error included.
    [alert] = await admin_alerts(env, "was not placed")
    assert "panel sandbox could not be reached" in alert
    assert "cannot connect to the panel" in alert and "Errno" in alert


async def test_a_supplier_side_refusal_hides_the_panels_words(bot_env: BotEnv) -> None:
    env = bot_env
    user = await customer(env)
    await summary_for(env, user)
    env.sandbox.faults.add("error", action="add", message="Not enough funds on balance")

    await user.tap(texts.BTN_CONFIRM)

    told = user.last().text
    assert told.startswith("❌ Our supplier cannot take this order right now")
    assert "Nothing was charged" in told
    assert not SUPPLY_CHAIN.search(told), told
    [alert] = await admin_alerts(env, "was not placed")
    assert "panel sandbox refused it" in alert and "Not enough funds on balance" in alert


async def test_a_rate_limited_add_says_the_supplier_was_not_reached(bot_env: BotEnv) -> None:
    env = bot_env
    user = await customer(env)
    await summary_for(env, user)
    env.sandbox.faults.add("rate_limit", action="add")

    await user.tap(texts.BTN_CONFIRM)

    told = user.last().text
    assert told.startswith("❌ We could not reach our supplier just now")
    assert not SUPPLY_CHAIN.search(told), told


async def test_id_hints_at_admin_ids_only_while_no_admin_is_set(bot_env: BotEnv) -> None:
    env = bot_env
    stranger = env.user(777_000, "Zoe", None)
    await stranger.send("/id")
    [reply] = stranger.replies()
    assert "ADMIN_IDS" not in reply.text

    # The owner's situation: the bot runs with no admin configured yet.
    env.settings = env.settings.model_copy(update={"admin_ids": frozenset()})
    await env.restart()
    owner = env.user(888_000, "Owner", None)
    await owner.send("/id")
    [reply] = owner.replies()
    assert reply.text.startswith("🆔 Your Telegram user ID: 888000")
    assert "This bot has no administrator yet" in reply.text
    assert "put this number in ADMIN_IDS" in reply.text


# --------------------------------------------------------------------------- notices


async def test_a_refill_without_refill_status_promises_no_follow_up(
    tracking_shop: Tracking,
) -> None:
    shop = tracking_shop
    await shop.connect("bros", "smmbros")
    order = await shop.place(panel="bros", refill=True)
    assert order.panel_order_id is not None
    shop.set_status(order, "Completed")
    await shop.sync()

    request = await panel_requests.request_refill(
        shop.db, shop.panels, order_id=order.order_id, user_id=CUSTOMER
    )

    assert request.status == "accepted"
    notice = order_texts.refill_sent(request)
    assert "You will be told" not in notice
    assert "no further message will follow" in notice


@pytest.mark.parametrize(
    ("error", "shown"),
    [
        ("cannot connect to the panel ([Errno 111] Connect call failed ('127.0.0.1', 1))", None),
        ("the panel answered HTTP 502", None),
        ("Incorrect API key", None),
        ("Refill is disabled for this service", "Refill is disabled for this service"),
    ],
)
def test_refused_requests_quote_only_safe_words(error: str, shown: str | None) -> None:
    notice = order_texts.refill_refused(error)
    if shown is None:
        assert notice == "⚠ The refill could not be requested right now. Please try again later."
    else:
        assert notice == f"⚠ The refill could not be requested: {shown}"


# --------------------------------------------------------------------------- a whole session

CUSTOMER_SCAN = re.compile(
    r"panel|provider|sandbox|errno|127\.0\.0\.1|ADMIN_IDS|\.env|HTTP \d|json", re.I
)


def customer_texts(env: BotEnv, user: FakeUser) -> list[str]:
    """Everything the bot showed this customer: messages, edits and button alerts."""
    shown = [
        str(c.params.get("text") or "")
        for c in env.api.sent
        if c.method in ("sendMessage", "editMessageText") and c.chat_id == user.chat_id
    ]
    return shown + user.answers()


async def test_a_whole_customer_session_never_names_the_supply_chain(bot_env: BotEnv) -> None:
    env = bot_env
    user = await customer(env)
    # An order that is placed, refreshed while the panel fails, then canceled by the customer.
    await summary_for(env, user)
    await user.tap(texts.BTN_CONFIRM)
    [record] = (await ordering.list_user_orders(env.db, user.user_id, 0)).items
    await user.send("/orders")
    await user.tap(encode(Action.ORDER_CARD, record.order_id))
    env.sandbox.faults.add("http500", count=20, action="status")
    await user.tap(order_texts.BTN_REFRESH)
    assert "Our supplier could not be reached just now" in user.last().text
    if order_texts.BTN_CANCEL_ORDER in user.last().button_texts:
        await user.tap(order_texts.BTN_CANCEL_ORDER)
    # An order whose answer is lost (held), one the panel refuses, one it never receives.
    await summary_for(env, user)
    env.sandbox.faults.add("error_after_create", action="add")
    await user.tap(texts.BTN_CONFIRM)
    await summary_for(env, user)
    env.sandbox.faults.add("html", action="add", status=503)
    await user.tap(texts.BTN_CONFIRM)
    await summary_for(env, user)
    env.sandbox.faults.add("error", action="add", message="Incorrect API key")
    await user.tap(texts.BTN_CONFIRM)
    await user.send("/balance")
    await user.send("/id")
    await user.send("/help")
    await env.wait_until(lambda: True)

    shown = customer_texts(env, user)
    assert len(shown) > 20
    leaks = [text for text in shown if CUSTOMER_SCAN.search(text)]
    assert leaks == []
