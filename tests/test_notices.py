"""Notices: services record what happened, the sender renders it when it sends, for the
reader; rows queued as text before notices existed still go out as they were."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from telegram import Bot

from bot import notices
from bot.jobs import SendLimiter, deliver_outbox
from bot.services import notifications, users
from bot.services.notifications import Notice, NoticeKind
from storage import outbox as outbox_rows
from storage import users as user_rows
from storage.db import Database, bundled_migrations, open_database
from tests.fakes.bot_api import FakeBotApi
from tests.fakes.tracking_fixtures import CUSTOMER, Tracking


@pytest.fixture
async def bot(fake_bot_api: FakeBotApi) -> AsyncIterator[Bot]:
    """A plain PTB bot talking to the fake Bot API."""
    async with Bot(fake_bot_api.token, base_url=f"{fake_bot_api.base_url}/bot") as client:
        yield client


def _sent(api: FakeBotApi, chat_id: int) -> list[dict[str, object]]:
    return [c.params for c in api.calls_to("sendMessage") if c.ok and c.chat_id == chat_id]


async def test_a_status_notice_is_stored_as_data_and_rendered_when_sent(
    tracking_shop: Tracking, bot: Bot, fake_bot_api: FakeBotApi
) -> None:
    shop = tracking_shop
    order = await shop.place(quantity=1000)
    shop.set_status(order, "Completed", 0)
    await shop.sync()

    (row,) = await outbox_rows.for_chat(shop.db, CUSTOMER)
    assert (row.kind, row.text) == ("order_status", None)
    assert f"Order <b>#{order.order_id}</b>" not in str(row.data)

    assert await deliver_outbox(bot, shop.db, limiter=SendLimiter(), currency="EUR") == 1
    (sent,) = _sent(fake_bot_api, CUSTOMER)
    assert f"✅ Order <b>#{order.order_id}</b> is completed" in str(sent["text"])
    (button,) = sent["reply_markup"]["inline_keyboard"][0]  # type: ignore[index]
    assert button["text"] == f"Open order #{order.order_id}"


async def test_the_readers_language_is_looked_up_when_the_notice_is_sent(
    tracking_shop: Tracking, monkeypatch: pytest.MonkeyPatch, bot: Bot
) -> None:
    shop = tracking_shop
    order = await shop.place(quantity=1000)
    shop.set_status(order, "Completed", 0)
    await shop.sync()
    # Chosen after the notice was queued: the notice is still read in it.
    assert await user_rows.set_language(shop.db, CUSTOMER, "fr")
    seen: list[str] = []
    real = notices.RENDERERS[NoticeKind.ORDER_STATUS]

    def spy(data: notices.Data, language: str, currency: str) -> notices.Rendered:
        seen.append(language)
        return real(data, language, currency)

    monkeypatch.setitem(notices.RENDERERS, NoticeKind.ORDER_STATUS, spy)
    assert await deliver_outbox(bot, shop.db, limiter=SendLimiter()) == 1
    assert seen == ["fr"]


async def test_a_notice_no_version_can_render_is_given_up(
    db: Database, bot: Bot, fake_bot_api: FakeBotApi
) -> None:
    await users.register_user(db, user_id=7, chat_id=7, username=None, first_name="A")
    broken = await notifications.queue_notice(db, Notice(7, NoticeKind.ORDER_STATUS, {}))
    await outbox_rows.insert(db, outbox_rows.NewMessage(8, kind="from_the_future", data="{}"))
    assert await deliver_outbox(bot, db, limiter=SendLimiter()) == 0
    assert broken is not None
    row = await outbox_rows.get(db, broken)
    assert row is not None and row.status == "failed"
    assert await outbox_rows.count_by_status(db) == {"failed": 2}
    assert fake_bot_api.calls_to("sendMessage") == []


async def test_texts_queued_before_notices_survive_the_migration(
    tmp_path: Path, bot: Bot, fake_bot_api: FakeBotApi
) -> None:
    path = tmp_path / "old.sqlite3"
    before = [m for m in bundled_migrations() if m.version < 6]
    old = await open_database(path, migrations=before)
    try:
        await old.conn.execute(
            "INSERT INTO outbox (chat_id, text, parse_mode, reply_markup, not_before,"
            " created_at, dedupe_key) VALUES (7, '<b>Old news</b>', 'HTML', NULL,"
            " '2020-01-01T00:00:00.000000Z', '2020-01-01T00:00:00.000000Z', 'order:1:done')"
        )
        await old.conn.commit()
    finally:
        await old.close()

    db = await open_database(path)
    try:
        # The dedupe key of the old row still holds.
        assert await notifications.enqueue(db, 7, "again", dedupe_key="order:1:done") is None
        assert await deliver_outbox(bot, db, limiter=SendLimiter()) == 1
        assert [p["text"] for p in _sent(fake_bot_api, 7)] == ["<b>Old news</b>"]
        await users.register_user(db, user_id=7, chat_id=7, username=None, first_name="A")
        assert await user_rows.languages_for_chats(db, [7]) == {}
    finally:
        await db.close()
