"""The bot token and the panels' keys appear in no log line, at any level.

The bot runs at DEBUG (python-telegram-bot logs its Bot API URL, httpx every request URL,
both carrying the token) through an order and the admin's /panels, with the handler the
bot's own logging set-up configures; then the captured log is searched for the secrets.
A rejected token stops ``python -m bot`` with one sentence that does not print it.
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.config import REJECTED_TOKEN_MESSAGE
from bot.logs import LOG_FORMAT, RedactSecrets, install_redaction
from bot.panels.models import OrderType
from tests.fakes.bot_api import FakeBotApi
from tests.fakes.chat_orders import customer, item_for
from tests.fakes.telegram_fixtures import BotEnv, make_settings

PROJECT_ROOT = str(Path(__file__).resolve().parents[1])


@pytest.fixture
def debug_log() -> Iterator[tuple[io.StringIO, logging.Handler]]:
    """A DEBUG handler on the root logger writing to a string, removed afterwards."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root = logging.getLogger()
    old_level = root.level
    quiet = {name: logging.getLogger(name).level for name in ("httpx", "httpcore", "telegram")}
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    for name in quiet:
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        yield stream, handler
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        for name, level in quiet.items():
            logging.getLogger(name).setLevel(level)


async def test_no_token_or_key_in_the_debug_log(
    debug_log: tuple[io.StringIO, logging.Handler], sandbox: Any, tmp_path: Path
) -> None:
    stream, handler = debug_log
    token = "987654:AAH-very-secret-token-value"
    async with FakeBotApi(token=token) as api:
        settings = make_settings(api.base_url, token, tmp_path / "bot.sqlite3", sandbox)
        settings = settings.model_copy(update={"log_level": "DEBUG"})
        install_redaction(settings, [handler])
        env = BotEnv(api, settings, sandbox)
        try:
            await env.start()
            user = await customer(env)
            service = sandbox.find_service(OrderType.DEFAULT)
            item = await item_for(env, service.service_id)
            await user.send(f"/search {item.item_id}")
            admin = env.admin()
            await admin.send("/panels")
            logging.getLogger("test").error(
                "a failure quoting the URL %s/bot%s/getMe",
                api.base_url,
                token,
                exc_info=RuntimeError(f"key={sandbox.key} token={token}"),
            )
        finally:
            await env.stop()

    log = stream.getvalue()
    # Start-up says which bot runs, where to open it and how to stop it.
    assert (
        "Bot @reseller_test_bot (Reseller Test Bot) is running: open "
        "https://t.me/reseller_test_bot in Telegram and send /start. Press Ctrl+C to stop it."
    ) in log
    # The lines that carried the secrets were written, with the secrets hidden.
    assert "/bot***/sendMessage" in log
    assert "a failure quoting the URL" in log and "RuntimeError: key=*** token=***" in log
    for secret in (token, token.split(":", 1)[1], sandbox.key):
        assert secret not in log


def test_the_filter_redacts_arguments_and_leaves_other_lines_alone() -> None:
    redact = RedactSecrets(["123:secret-abc", "secret-abc", "key", ""])
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "url %s", ("/bot123:secret-abc",), None
    )
    assert redact.filter(record)
    assert record.getMessage() == "url /bot***"
    plain = logging.LogRecord("x", logging.INFO, __file__, 1, "a key to %s", ("go",), None)
    redact.filter(plain)
    # Secrets under six characters are ignored: they would blank out ordinary words.
    assert plain.getMessage() == "a key to go"


async def test_a_rejected_token_stops_the_bot_with_one_sentence(tmp_path: Path) -> None:
    async with FakeBotApi() as api:
        rejected = "111111:rejected-token-secret"
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("TELEGRAM_", "PANELS", "ADMIN_IDS", "DATABASE_PATH"))
        }
        env.update(
            TELEGRAM_BOT_TOKEN=rejected,
            TELEGRAM_API_BASE_URL=api.base_url,
            LOG_LEVEL="DEBUG",
            PYTHONPATH=PROJECT_ROOT,
        )
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            cwd=tmp_path,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), 60)

    output = out.decode() + err.decode()
    assert process.returncode == 2, output
    assert err.decode().strip().splitlines()[-1] == REJECTED_TOKEN_MESSAGE
    assert "Traceback" not in output
    assert rejected not in output and "rejected-token-secret" not in output
