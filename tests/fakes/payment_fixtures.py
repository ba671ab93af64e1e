"""Payment fixtures: a shop taking top-ups (Stars, receipts) with two admins, and checks that
the ledger agrees with the payments."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest_asyncio
from pydantic import SecretStr

from bot.services import payments
from tests.fakes.bot_api import FakeBotApi
from tests.fakes.crypto_pay import FakeCryptoPay
from tests.fakes.outbox import queued_texts
from tests.fakes.telegram_fixtures import ADMIN_ID, BotEnv, FakeUser, make_settings

SECOND_ADMIN_ID = 43
SUPPORT = "@shop_help"
INSTRUCTIONS = "Pay to card 4111 <1111> & send the receipt"


async def ledger_agrees(env: BotEnv) -> None:
    """Each payment's ledger entries are exactly what its state says, and the credits sum
    to what the credited payments hold."""
    assert await payments.ledger_matches_payments(env.db)
    rows = await env.db.fetch_all(
        "SELECT amount FROM ledger WHERE kind IN ('payment', 'payment_refund')"
    )
    in_ledger = sum((Decimal(r[0]) for r in rows), Decimal(0))
    credited = await env.db.fetch_all("SELECT amount FROM payments WHERE state = 'credited'")
    assert in_ledger == sum((Decimal(r[0]) for r in credited), Decimal(0))


async def outbox_texts(env: BotEnv, chat_id: int) -> list[str]:
    """What the outbox queued for a chat so far (sent or not)."""
    return await queued_texts(env.db, chat_id, currency=env.settings.currency)


async def delivered(env: BotEnv, user: FakeUser, needle: str) -> str:
    """Wait for the outbox to deliver a message containing ``needle`` to ``user``."""

    def found() -> str | None:
        for m in env.api.chat(user.chat_id).messages.values():
            if needle in str(m.get("text", "")) and m.get("from", {}).get("is_bot"):
                return str(m["text"])
        return None

    await env.wait_until(lambda: found() is not None, what=f"a message with {needle!r}")
    text = found()
    assert text is not None
    return text


@pytest_asyncio.fixture
async def pay_env(fake_bot_api: FakeBotApi, sandbox: Any, tmp_path: Path) -> AsyncIterator[BotEnv]:
    """The bot with two admins, a support contact and manual receipts on."""
    settings = make_settings(
        fake_bot_api.base_url, fake_bot_api.token, tmp_path / "bot.sqlite3", sandbox
    ).copy_with(
        admin_ids=frozenset({ADMIN_ID, SECOND_ADMIN_ID}),
        support_contact=SUPPORT,
        manual_topup_instructions=INSTRUCTIONS,
    )
    env = BotEnv(fake_bot_api, settings, sandbox)
    try:
        await env.start()
        yield env
    finally:
        await env.stop()


@pytest_asyncio.fixture
async def crypto_env(
    fake_bot_api: FakeBotApi, sandbox: Any, crypto_pay: FakeCryptoPay, tmp_path: Path
) -> AsyncIterator[BotEnv]:
    """The bot taking Crypto Pay top-ups from the fake Crypto Pay, with its webhook on
    loopback (polling runs when a test runs the job)."""
    settings = make_settings(
        fake_bot_api.base_url, fake_bot_api.token, tmp_path / "bot.sqlite3", sandbox
    ).copy_with(
        support_contact=SUPPORT,
        crypto_pay_token=SecretStr(crypto_pay.token),
        crypto_pay_api_url=crypto_pay.base_url,
        crypto_pay_assets=("USDT", "TON"),
        crypto_pay_poll_interval=3600.0,
        crypto_pay_webhook_host="127.0.0.1",
        crypto_pay_webhook_port=0,
    )
    env = BotEnv(fake_bot_api, settings, sandbox)
    try:
        await env.start()
        yield env
    finally:
        await env.stop()
