"""The fake Telegram Bot API answers the way Telegram does, as python-telegram-bot sees it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
import pytest_asyncio
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, RetryAfter

from tests.fakes.bot_api import FakeBotApi

ANN = {"id": 1001, "is_bot": False, "first_name": "Ann", "username": "ann"}


@pytest_asyncio.fixture
async def bot(fake_bot_api: FakeBotApi) -> AsyncIterator[Bot]:
    """A plain PTB ``Bot`` pointed at the fake server."""
    async with Bot(
        fake_bot_api.token,
        base_url=f"{fake_bot_api.base_url}/bot",
        base_file_url=f"{fake_bot_api.base_url}/file/bot",
    ) as bot:
        yield bot


async def test_get_updates_honours_offsets_and_wakes_a_long_poll(
    fake_bot_api: FakeBotApi, bot: Bot
) -> None:
    first = fake_bot_api.queue_message(ANN, "/start")
    updates = await bot.get_updates(timeout=0)
    assert [u.update_id for u in updates] == [first]
    assert updates[0].message is not None and updates[0].message.text == "/start"
    # A command carries its bot_command entity, as CommandHandler requires.
    assert updates[0].message.entities[0].type == "bot_command"
    # Not confirmed yet: asked again without an offset, Telegram sends it again.
    assert [u.update_id for u in await bot.get_updates(timeout=0)] == [first]
    assert await bot.get_updates(offset=first + 1, timeout=0) == ()

    async def later() -> int:
        await asyncio.sleep(0.05)
        return fake_bot_api.queue_message(ANN, "hello")

    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(offset=first + 1, timeout=5))
    second = await later()
    updates = await poll
    assert [u.update_id for u in updates] == [second]
    assert time.monotonic() - started < 1, "the long-poll was not woken by the new update"


async def test_messages_get_increasing_ids_and_edits_change_what_the_chat_shows(
    fake_bot_api: FakeBotApi, bot: Bot
) -> None:
    fake_bot_api.queue_message(ANN, "hi")  # the user's message takes ID 1 in this chat
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Go", callback_data="m:main")]])
    one = await bot.send_message(1001, "<b>One</b> &amp; two", parse_mode=ParseMode.HTML)
    two = await bot.send_message(1001, "Second", reply_markup=keyboard)
    assert (one.message_id, two.message_id) == (2, 3)
    assert one.text == "One & two"
    assert two.reply_markup == keyboard

    await bot.edit_message_text("Edited", chat_id=1001, message_id=2)
    shown = fake_bot_api.chat(1001).messages[2]
    assert shown["text"] == "Edited" and "edit_date" in shown

    with pytest.raises(BadRequest, match="not modified"):
        await bot.edit_message_text("Edited", chat_id=1001, message_id=2)
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(1001, "a <script> tag", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(1001, "x < y", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match="too long"):
        await bot.send_message(1001, "x" * 4097)
    # Counted as Telegram counts: after entity parsing, in UTF-16 units (an emoji is two).
    await bot.send_message(1001, "<b>" + "x" * 4096 + "</b>", parse_mode=ParseMode.HTML)
    await bot.send_message(1001, "&amp;" * 4096, parse_mode=ParseMode.HTML)
    await bot.send_message(1001, "😀" * 2048)
    with pytest.raises(BadRequest, match="too long"):
        await bot.send_message(1001, "😀" * 2048 + "x")
    methods = [(c.method, c.ok) for c in fake_bot_api.sent]
    assert ("editMessageText", False) in methods
    assert fake_bot_api.calls_to("sendMessage")[0].params["text"] == "<b>One</b> &amp; two"


async def test_deleting_follows_the_private_chat_rules(fake_bot_api: FakeBotApi, bot: Bot) -> None:
    fake_bot_api.queue_message(ANN, "an answer")  # ID 1
    fake_bot_api.queue_message(ANN, "sent two days ago", sent_ago=49 * 3600)  # ID 2
    mine = await bot.send_message(1001, "the form")  # ID 3
    # The bot deletes the user's messages and its own, up to 48 hours old.
    assert await bot.delete_message(1001, 1)
    assert await bot.delete_message(1001, mine.message_id)
    assert sorted(fake_bot_api.chat(1001).messages) == [2]
    with pytest.raises(BadRequest, match="can't be deleted"):
        await bot.delete_message(1001, 2)
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await bot.delete_message(1001, 1)
    # Deleted is gone for editing too; a message the user deleted likewise.
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("again", chat_id=1001, message_id=mine.message_id)
    kept = await bot.send_message(1001, "another")
    fake_bot_api.user_deletes(1001, kept.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("again", chat_id=1001, message_id=kept.message_id)


async def test_blocked_users_and_flood_control_answer_like_telegram(
    fake_bot_api: FakeBotApi, bot: Bot
) -> None:
    fake_bot_api.block(1001)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(1001, "hello?")
    fake_bot_api.unblock(1001)
    await bot.send_message(1001, "hello again")

    fake_bot_api.flood(2, retry_after=3)
    with pytest.raises(RetryAfter):
        await bot.send_message(1001, "too fast")
    url = f"{fake_bot_api.base_url}/bot{fake_bot_api.token}/sendMessage"
    async with aiohttp.ClientSession() as session:
        async with session.post(url, json={"chat_id": 1001, "text": "still too fast"}) as r:
            assert r.status == 429
            assert await r.json() == {
                "ok": False,
                "error_code": 429,
                "description": "Too Many Requests: retry after 3",
                "parameters": {"retry_after": 3},
            }
        # The flood is over after the two calls it was told to refuse.
        async with session.post(url, json={"chat_id": 1001, "text": "now fine"}) as r:
            assert r.status == 200 and (await r.json())["result"]["text"] == "now fine"


async def test_enforced_limits_refuse_a_second_message_to_one_chat_within_a_second(
    fake_bot_api: FakeBotApi, bot: Bot
) -> None:
    fake_bot_api.enforce_limits = True
    await bot.send_message(1001, "first")
    await bot.send_message(1002, "another chat is fine")
    with pytest.raises(RetryAfter):
        await bot.send_message(1001, "second, too soon")
    refused = fake_bot_api.calls_to("sendMessage")[-1]
    assert (refused.ok, refused.error_code) == (False, 429)
