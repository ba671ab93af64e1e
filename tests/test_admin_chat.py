"""Admin commands in the chat: crediting and debiting wallets, re-syncing catalogs."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot import texts
from bot.panels.base import PanelConfig
from bot.panels.registry import make_client
from bot.services import catalog, wallet
from tests.fakes.telegram_fixtures import ADMIN_ID, BotEnv, FakeUser


async def customer(bot_env: BotEnv) -> FakeUser:
    ann = bot_env.user(1001, "Ann", "ann")
    await ann.send("/start")
    ann.replies()
    return ann


async def test_admin_credits_a_customer_who_is_told_about_it(bot_env: BotEnv) -> None:
    ann = await customer(bot_env)
    admin = bot_env.admin()

    await admin.send("/credit @ann 10.50 paid by bank <transfer>")

    [done] = admin.replies()
    assert done.text.startswith("✅ Credited 10.50 USD to Ann @ann (1001).")
    assert "Their balance is now 10.50 USD." in done.text
    [notice] = ann.replies()
    assert "10.50 USD was added to your balance (paid by bank <transfer>)" in notice.text
    assert await wallet.get_balance(bot_env.db, ann.user_id) == Decimal("10.50")
    [entry] = await wallet.recent_entries(bot_env.db, ann.user_id)
    assert (entry.kind, entry.reason, entry.admin_id) == (
        "credit",
        "paid by bank <transfer>",
        ADMIN_ID,
    )

    await admin.send("/credit 1001 2,25 promo")
    assert "Their balance is now 12.75 USD." in admin.replies()[-1].text


async def test_admin_debits_but_never_below_zero(bot_env: BotEnv) -> None:
    ann = await customer(bot_env)
    admin = bot_env.admin()
    await wallet.credit(bot_env.db, ann.user_id, Decimal("5"), reason="gift")

    await admin.send("/debit @ann 7 chargeback")
    [refused] = admin.replies()
    assert refused.text.startswith("❌ Cannot debit 7.00 USD from Ann @ann (1001)")
    assert "their balance is only 5.00 USD" in refused.text
    assert ann.replies() == []
    assert await wallet.get_balance(bot_env.db, ann.user_id) == Decimal("5")

    await admin.send("/debit @ann 1.5 chargeback")
    assert "Their balance is now 3.50 USD." in admin.replies()[-1].text
    assert "1.50 USD was deducted from your balance (chargeback)" in ann.replies()[-1].text
    assert await wallet.get_balance(bot_env.db, ann.user_id) == Decimal("3.50")


@pytest.mark.parametrize("amount", ["-5", "0", "1.005", "ten", "1e3", "NaN"])
async def test_a_bad_amount_is_refused_and_nothing_moves(bot_env: BotEnv, amount: str) -> None:
    ann = await customer(bot_env)
    admin = bot_env.admin()

    await admin.send(f"/credit @ann {amount} oops")

    [reply] = admin.replies()
    assert reply.text.startswith(f"“{amount}” is not a valid amount")
    assert "Usage: /credit" in reply.text
    assert ann.replies() == []
    assert await wallet.recent_entries(bot_env.db, ann.user_id) == []


async def test_missing_arguments_and_unknown_customers_are_explained(bot_env: BotEnv) -> None:
    await customer(bot_env)
    admin = bot_env.admin()

    await admin.send("/debit @ann 5")
    assert admin.replies()[-1].text.startswith("Usage: /debit")

    await admin.send("/credit @nobody 5 welcome")
    [reply] = admin.replies()
    assert reply.text.startswith("No customer “@nobody” found")


async def test_customers_cannot_use_admin_commands(bot_env: BotEnv) -> None:
    ann = await customer(bot_env)

    for command in ("/credit @ann 100 free money", "/debit 1001 1 x", "/sync"):
        await ann.send(command)
        [reply] = ann.replies()
        assert reply.text == texts.ADMIN_ONLY
    assert await wallet.get_balance(bot_env.db, ann.user_id) == 0


async def test_a_credit_to_a_customer_who_blocked_the_bot_still_lands(bot_env: BotEnv) -> None:
    ann = await customer(bot_env)
    admin = bot_env.admin()
    bot_env.api.block(ann.chat_id)

    await admin.send("/credit @ann 3 refund by hand")

    [done] = admin.replies()
    assert "Their balance is now 3.00 USD." in done.text
    assert "could not tell them" in done.text
    assert await wallet.get_balance(bot_env.db, ann.user_id) == Decimal("3")


async def test_sync_reports_each_panel(bot_env: BotEnv) -> None:
    admin = bot_env.admin()
    services = sum(count for _, count in await catalog.list_platforms(bot_env.db))
    broken = make_client(
        PanelConfig(
            name="broken", dialect="v2", url=bot_env.sandbox.url_for("v2"), key="wrong-key"
        )
    )
    bot_env.app.bot_data.panels["broken"] = broken
    try:
        await admin.send("/sync")
    finally:
        del bot_env.app.bot_data.panels["broken"]
        await broken.close()

    progress, report = admin.replies()
    assert progress.text == "🔄 Syncing the panels' catalogs…"
    assert report.method == "editMessageText" and report.message_id == progress.message_id
    lines = report.text.splitlines()
    assert lines[0] == "🔄 Catalog sync finished"
    assert f"✅ sandbox: {services} services" in lines
    [failed] = [line for line in lines if line.startswith("❌ broken:")]
    assert "its last good catalog stays on sale" in failed
