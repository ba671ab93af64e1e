"""A customer's first steps: /start, the main menu, help, stale buttons, errors, commands."""

from __future__ import annotations

import logging
from decimal import Decimal
from pathlib import Path

import aiohttp
import pytest

from bot import texts
from bot.services import catalog, users, wallet
from tests.fakes.bot_api import FakeBotApi
from tests.fakes.telegram_fixtures import ADMIN_ID, BotEnv, make_settings

MENU_BUTTONS = [
    [texts.BUTTON_NEW_ORDER, texts.BUTTON_MY_ORDERS],
    [texts.BUTTON_BALANCE, texts.BUTTON_HELP],
    [texts.BUTTON_LANGUAGE],
]


def button_rows(buttons: list[list[tuple[str, str | None]]]) -> list[list[str]]:
    return [[text for text, _ in row] for row in buttons]


async def test_start_registers_the_customer_and_shows_the_main_menu(bot_env: BotEnv) -> None:
    ann = bot_env.user(1001, "Ann", "ann")
    await ann.send("/start")

    [reply] = ann.replies()
    assert reply.method == "sendMessage"
    assert "Welcome, Ann!" in reply.text
    assert button_rows(reply.buttons) == MENU_BUTTONS
    stored = await users.get_user(bot_env.db, 1001)
    assert stored is not None
    assert (stored.chat_id, stored.username, stored.first_name) == (1001, "ann", "Ann")

    await ann.send("/start")
    [again] = ann.replies()
    assert "Welcome back, Ann!" in again.text
    assert button_rows(again.buttons) == MENU_BUTTONS


async def test_a_name_with_html_in_it_is_shown_as_typed(bot_env: BotEnv) -> None:
    mallory = bot_env.user(1002, "<b>Mal & Co</b>", None)
    await mallory.send("/start")

    [reply] = mallory.replies()
    assert "Welcome, <b>Mal & Co</b>!" in reply.text
    assert "&lt;b&gt;Mal &amp; Co&lt;/b&gt;" in reply.html


async def test_help_opens_in_place_and_the_menu_button_comes_back(bot_env: BotEnv) -> None:
    ann = bot_env.user()
    await ann.send("/start")
    menu = ann.last()

    await ann.tap(texts.BUTTON_HELP)
    [help_screen] = ann.replies()[-1:]
    assert help_screen.method == "editMessageText"
    assert help_screen.message_id == menu.message_id
    assert "How it works" in help_screen.text
    assert ann.answers() == [""]

    await ann.tap(texts.BUTTON_MENU)
    assert ann.last().message_id == menu.message_id
    assert "Main menu" in ann.last().text
    assert button_rows(ann.last().buttons) == MENU_BUTTONS

    await ann.send("/help")
    [typed_help] = ann.replies()[-1:]
    assert typed_help.method == "sendMessage"
    assert "How it works" in typed_help.text
    assert ann.unanswered_taps() == []


async def test_menu_cancel_and_unknown_commands_lead_back_to_the_menu(bot_env: BotEnv) -> None:
    ann = bot_env.user()
    await ann.send("/menu")
    [menu] = ann.replies()
    assert "Main menu" in menu.text and button_rows(menu.buttons) == MENU_BUTTONS

    await ann.send("/cancel")
    [cancelled] = ann.replies()
    assert cancelled.text.startswith("There is nothing to cancel")
    assert button_rows(cancelled.buttons) == MENU_BUTTONS

    await ann.send("/frobnicate")
    [unknown] = ann.replies()
    assert unknown.text.startswith("I don't know that command")


async def test_the_new_order_button_opens_the_catalog(bot_env: BotEnv) -> None:
    ann = bot_env.user()
    await ann.send("/start")
    menu = ann.last()

    await ann.tap(texts.BUTTON_NEW_ORDER)
    assert ann.answers() == [""]
    shown = ann.last()
    assert shown.message_id == menu.message_id
    assert shown.text != menu.text
    assert shown.buttons, "the catalog offers platforms to pick from"


async def test_the_my_orders_button_opens_the_orders_list(bot_env: BotEnv) -> None:
    ann = bot_env.user()
    await ann.send("/start")
    menu = ann.last()

    await ann.tap(texts.BUTTON_MY_ORDERS)
    assert ann.answers() == [""]
    shown = ann.last()
    assert shown.message_id == menu.message_id
    assert shown.text.startswith("📦 My orders")


@pytest.mark.parametrize(
    "payload",
    [
        "zz:1",  # an action the bot does not have
        "b:1",  # Balance takes no argument
        "m:<script>",  # an argument the codec never produces
        "x" * 80,  # longer than Telegram allows
    ],
)
async def test_a_forged_button_is_refused_and_changes_nothing(
    bot_env: BotEnv, payload: str
) -> None:
    ann = bot_env.user()
    await ann.send("/start")
    before = ann.last()
    ann.replies()

    await ann.tap_data(payload)
    assert ann.answers() == [texts.BUTTON_INVALID]
    assert ann.replies() == []
    assert ann.last() == before
    assert await wallet.get_balance(bot_env.db, ann.user_id) == 0


async def test_an_error_inside_a_handler_reaches_the_user_as_one_sentence(
    bot_env: BotEnv, caplog: pytest.LogCaptureFixture
) -> None:
    ann = bot_env.user()
    admin = bot_env.admin()
    await ann.send("/start")
    ann.replies()
    # Break the database under the bot, as a corrupted or half-migrated file would.
    await bot_env.db.conn.execute("DROP TABLE ledger")

    with caplog.at_level(logging.ERROR, logger="bot.handlers.errors"):
        await ann.send("/balance <i>now</i>")

    [reply] = ann.replies()
    assert reply.text == texts.SOMETHING_WENT_WRONG
    [alert] = admin.replies()
    assert "no such table: ledger" in alert.text
    assert "/balance <i>now</i>" in alert.text  # echoed, escaped
    [record] = [r for r in caplog.records if r.name == "bot.handlers.errors"]
    assert record.exc_info is not None, "the log keeps the traceback"


async def test_a_customer_blocking_the_bot_mid_answer_alarms_nobody(bot_env: BotEnv) -> None:
    ann = bot_env.user()
    admin = bot_env.admin()
    # Ann's /start is on its way while she blocks the bot: the answer gets a 403.
    bot_env.api.block(ann.chat_id)

    await ann.send("/start")

    [refused] = [c for c in bot_env.api.sent if c.chat_id == ann.chat_id]
    assert (refused.method, refused.error_code) == ("sendMessage", 403)
    assert admin.replies() == [], "a blocked bot is not an error worth an alert"
    assert await users.get_user(bot_env.db, ann.user_id) is not None


async def test_a_customer_who_comes_back_after_blocking_gets_news_again(
    bot_env: BotEnv,
) -> None:
    ann = bot_env.user()
    await ann.send("/start")
    # The outbox marks a user blocked when Telegram answers 403, and skips them from then on.
    await users.set_blocked(bot_env.db, ann.user_id, True)

    await ann.send("instagram followers")

    user = await users.get_user(bot_env.db, ann.user_id)
    assert user is not None and not user.is_blocked


async def test_telegram_flood_control_delays_the_answer_but_does_not_lose_it(
    bot_env: BotEnv,
) -> None:
    ann = bot_env.user()
    bot_env.api.flood(2, retry_after=0.05, methods=["sendMessage"])

    await ann.send("/start")

    [welcome] = ann.replies()
    assert "Welcome, Ann!" in welcome.text
    attempts = [c.error_code for c in bot_env.api.calls_to("sendMessage")]
    assert attempts == [429, 429, None]


async def test_commands_are_published_at_start(bot_env: BotEnv) -> None:
    default = [c["command"] for c in bot_env.api.commands["default"]]
    assert default == [
        "start", "menu", "orders", "search", "balance", "help", "cancel", "id",
        "topup", "paysupport", "terms", "language",
    ]  # fmt: skip
    for_admin = [c["command"] for c in bot_env.api.commands[f"chat:{ADMIN_ID}"]]
    assert for_admin == [
        *default, "credit", "debit", "sync", "review", "panels", "user",
        "approve", "reject", "refund",
    ]  # fmt: skip


async def test_user_data_survives_a_restart(bot_env: BotEnv) -> None:
    ann = bot_env.user()
    await ann.send("/start")
    draft = {"item": 7, "answers": {"link": "https://instagram.com/ann", "quantity": 500}}
    bot_env.app.user_data[ann.user_id]["draft"] = draft
    await ann.send("/menu")  # PTB saves the user_data of users whose updates it handled

    await bot_env.restart()

    assert bot_env.app.user_data[ann.user_id]["draft"] == draft
    await ann.send("/start")
    assert "Welcome back, Ann!" in ann.replies()[-1].text


async def test_in_sandbox_mode_a_new_customer_gets_trial_credit(
    fake_bot_api: FakeBotApi, tmp_path: Path
) -> None:
    # No panel configured: the bot serves its built-in sandbox and sells from it.
    settings = make_settings(
        fake_bot_api.base_url,
        fake_bot_api.token,
        tmp_path / "bot.sqlite3",
        None,
        sandbox_catalog_size=30,
        sandbox_welcome_credit=Decimal("25"),
    )
    env = BotEnv(fake_bot_api, settings, None)
    await env.start()
    try:
        assert list(env.app.bot_data.panels) == ["sandbox"]
        sandbox_url = env.sandbox.url_for("v2")
        assert sum(n for _, n in await catalog.list_platforms(env.db)) == 30
        ann = env.user()
        await ann.send("/start")
        [welcome] = ann.replies()
        assert "You got 25.00 USD of trial credit" in welcome.text
        assert await wallet.get_balance(env.db, ann.user_id) == Decimal("25")

        await ann.send("/start")
        assert "trial credit" not in ann.replies()[-1].text, "only once per customer"
        assert await wallet.get_balance(env.db, ann.user_id) == Decimal("25")
    finally:
        await env.stop()
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.ClientConnectionError):
            await session.post(sandbox_url, data={"action": "balance"})
