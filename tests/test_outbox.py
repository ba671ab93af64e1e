"""The notification outbox delivered to the fake Telegram Bot API over HTTP: within
Telegram's limits, through flood waits, around blocked users, across restarts."""

from __future__ import annotations

import itertools
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from telegram import Bot

from bot.jobs import SendLimiter, deliver_outbox
from bot.services import notifications, users
from storage import outbox as outbox_rows
from storage.db import Database, open_database
from tests.fakes.bot_api import FakeBotApi
from tests.fakes.tracking_fixtures import CUSTOMER, Tracking


@pytest.fixture
async def bot(fake_bot_api: FakeBotApi) -> AsyncIterator[Bot]:
    """A plain PTB bot talking to the fake Bot API (no rate limiter of PTB's own)."""
    async with Bot(fake_bot_api.token, base_url=f"{fake_bot_api.base_url}/bot") as client:
        yield client


def _texts(api: FakeBotApi, chat_id: int) -> list[str]:
    return [c.params["text"] for c in api.calls_to("sendMessage") if c.ok and c.chat_id == chat_id]


async def _deliver_all(
    bot: Bot, db: Database, limiter: SendLimiter, *, expected: int, within: float = 10.0
) -> int:
    """Run delivery rounds until ``expected`` messages went out (or time runs out)."""
    sent = 0
    deadline = time.monotonic() + within
    while sent < expected and time.monotonic() < deadline:
        sent += await deliver_outbox(bot, db, limiter=limiter)
    return sent


async def _register(db: Database, user_id: int) -> None:
    await users.register_user(
        db, user_id=user_id, chat_id=user_id, username=None, first_name=f"U{user_id}"
    )


async def test_a_message_is_queued_once_per_dedupe_key_and_delivered(
    db: Database, bot: Bot, fake_bot_api: FakeBotApi
) -> None:
    first = await notifications.enqueue(db, 7, "<b>Done</b>", dedupe_key="order:1:completed")
    again = await notifications.enqueue(db, 7, "<b>Done</b>", dedupe_key="order:1:completed")
    assert first is not None and again is None

    assert await deliver_outbox(bot, db, limiter=SendLimiter()) == 1
    assert await deliver_outbox(bot, db, limiter=SendLimiter()) == 0

    assert _texts(fake_bot_api, 7) == ["<b>Done</b>"]
    row = await outbox_rows.get(db, first)
    assert row is not None and row.status == "sent" and row.sent_at is not None


async def test_flood_control_delays_a_message_but_never_loses_it(
    db: Database, bot: Bot, fake_bot_api: FakeBotApi
) -> None:
    message_id = await notifications.enqueue(db, 7, "Order #1 is completed")
    assert message_id is not None
    fake_bot_api.flood(1, retry_after=0.3, methods=["sendMessage"])
    limiter = SendLimiter()

    assert await deliver_outbox(bot, db, limiter=limiter) == 0
    row = await outbox_rows.get(db, message_id)
    assert row is not None and row.status == "pending" and "flood" in row.last_error
    assert row.attempts == 0, "a flood wait is not a failed attempt"
    assert await deliver_outbox(bot, db, limiter=limiter) == 0, "sent before the wait was over"

    assert await _deliver_all(bot, db, limiter, expected=1, within=3.0) == 1
    assert _texts(fake_bot_api, 7) == ["Order #1 is completed"]
    flooded, delivered = fake_bot_api.calls_to("sendMessage")
    assert flooded.error_code == 429 and delivered.ok
    assert delivered.time - flooded.time >= 0.3, "Telegram's wait was not honoured"


async def test_a_user_who_blocked_the_bot_is_marked_and_left_alone(
    db: Database, bot: Bot, fake_bot_api: FakeBotApi
) -> None:
    await _register(db, 2001)
    await _register(db, 2002)
    fake_bot_api.block(2001)
    for n in range(3):
        await notifications.enqueue(db, 2001, f"news {n}")
    await notifications.enqueue(db, 2002, "news for the other user")

    await _deliver_all(bot, db, SendLimiter(), expected=1)

    blocked = await users.get_user(db, 2001)
    assert blocked is not None and blocked.is_blocked
    assert [r.status for r in await outbox_rows.for_chat(db, 2001)] == ["failed"] * 3
    assert _texts(fake_bot_api, 2002) == ["news for the other user"]

    # Later news for them is given up without asking Telegram again.
    tries = len(fake_bot_api.calls_to("sendMessage"))
    await notifications.enqueue(db, 2001, "more news")
    assert await deliver_outbox(bot, db, limiter=SendLimiter()) == 0
    assert len(fake_bot_api.calls_to("sendMessage")) == tries
    assert [r.status for r in await outbox_rows.for_chat(db, 2001)] == ["failed"] * 4


async def test_a_message_telegram_refuses_is_given_up_at_once(
    db: Database, bot: Bot, fake_bot_api: FakeBotApi
) -> None:
    bad = await notifications.enqueue(db, 7, "<b>unclosed")
    good = await notifications.enqueue(db, 8, "fine")
    assert bad is not None and good is not None

    assert await deliver_outbox(bot, db, limiter=SendLimiter()) == 1

    bad_row = await outbox_rows.get(db, bad)
    assert bad_row is not None and bad_row.status == "failed"
    assert "parse entities" in bad_row.last_error
    assert _texts(fake_bot_api, 8) == ["fine"]


async def test_network_errors_are_retried_a_few_times_then_given_up(db: Database) -> None:
    message_id = await notifications.enqueue(db, 7, "hello")
    assert message_id is not None
    async with FakeBotApi() as api:
        bot = Bot(api.token, base_url=f"{api.base_url}/bot")
        async with bot:
            await api.stop()  # Telegram unreachable from now on
            for attempt in range(1, 6):
                assert await deliver_outbox(bot, db, limiter=SendLimiter()) == 0
                row = await outbox_rows.get(db, message_id)
                assert row is not None and row.attempts == attempt
                if attempt < 5:
                    assert row.status == "pending"
                    assert await notifications.due_messages(db, 10) == [], "retried too soon"
                    # Let the backoff pass.
                    await _make_due(db, message_id)
            assert row.status == "failed"


async def _make_due(db: Database, message_id: int) -> None:
    async with db.transaction():
        await db.conn.execute(
            "UPDATE outbox SET not_before = '2000-01-01T00:00:00.000000+00:00' WHERE id = ?",
            (message_id,),
        )


async def test_delivery_carries_on_after_a_restart(
    db: Database, bot: Bot, fake_bot_api: FakeBotApi, tmp_path: Path
) -> None:
    path = tmp_path / "restart.sqlite3"
    first = await open_database(path)
    try:
        await notifications.enqueue(first, 7, "one", dedupe_key="k1")
        await notifications.enqueue(first, 8, "two", dedupe_key="k2")
        fake_bot_api.flood(1, retry_after=0.2, methods=["sendMessage"])
        assert await deliver_outbox(bot, first, limiter=SendLimiter()) == 1
    finally:
        await first.close()

    second = await open_database(path)
    try:
        assert await notifications.enqueue(second, 7, "one", dedupe_key="k1") is None
        assert await _deliver_all(bot, second, SendLimiter(), expected=1) == 1
        assert await outbox_rows.count_by_status(second) == {"sent": 2}
    finally:
        await second.close()
    assert sorted(_texts(fake_bot_api, 7) + _texts(fake_bot_api, 8)) == ["one", "two"]


async def test_telegram_limits_are_kept_with_zero_flood_errors(db: Database) -> None:
    async with FakeBotApi(enforce_limits=True) as api:
        async with Bot(api.token, base_url=f"{api.base_url}/bot") as bot:
            for chat_id in range(3001, 3041):
                await notifications.enqueue(db, chat_id, f"hello {chat_id}")
            for n in range(3):
                await notifications.enqueue(db, 4000, f"in order {n}")

            limiter = SendLimiter()
            started = time.monotonic()
            assert await _deliver_all(bot, db, limiter, expected=43) == 43
            elapsed = time.monotonic() - started

        sends = api.calls_to("sendMessage")
        assert [c for c in sends if not c.ok] == []
        assert _texts(api, 4000) == ["in order 0", "in order 1", "in order 2"]
        one_chat = [c.time for c in sends if c.chat_id == 4000]
        assert all(b - a >= 1.0 for a, b in itertools.pairwise(one_chat))
        # 43 messages at ≤ 28/s take at least 1.5 s; the single chat's three need 2 s.
        assert elapsed >= 2.0
        times = sorted(c.time for c in sends)
        assert max(sum(1 for t in times if s <= t < s + 1) for s in times) <= 30


async def test_a_status_change_reaches_the_customer_as_valid_html(
    tracking_shop: Tracking, bot: Bot, fake_bot_api: FakeBotApi
) -> None:
    shop = tracking_shop
    order = await shop.place(link="https://example.com/p?a=1&b=<2>")
    shop.set_status(order, "Canceled")
    await shop.sync()

    assert await _deliver_all(bot, shop.db, SendLimiter(), expected=1) == 1

    (call,) = [c for c in fake_bot_api.calls_to("sendMessage") if c.chat_id == CUSTOMER]
    assert call.ok, call.description
    shown = call.result["text"]
    assert f"Order #{order.order_id} was canceled\n" in shown
    assert "https://example.com/p?a=1&b=<2>" in shown
    assert "was refunded to your balance" in shown
    button = call.result["reply_markup"]["inline_keyboard"][0][0]
    assert button["text"] == f"Open order #{order.order_id}"
    assert button["callback_data"] == f"oc:{order.order_id}"
