"""The notification outbox: messages queued in SQLite and delivered by ``bot.jobs``.

A service queues news in the same transaction as the change it announces, so a crash can
lose neither; the sender reads due messages, sends them within Telegram's limits and marks
each sent, postponed or failed. Rows survive restarts. A ``dedupe_key`` makes the same news
queued twice (a status seen twice, a retried job) one message.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from storage import outbox as outbox_rows
from storage.db import Database, now_text, time_text

HTML = "HTML"


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """A message waiting to be sent; ``attempts`` counts failed tries so far."""

    id: int
    chat_id: int
    text: str
    parse_mode: str | None
    reply_markup: dict[str, Any] | None
    attempts: int


def message_from_row(row: sqlite3.Row) -> OutboxMessage:
    """Build an ``OutboxMessage`` from an outbox row."""
    markup = row["reply_markup"]
    return OutboxMessage(
        id=int(row["id"]),
        chat_id=int(row["chat_id"]),
        text=str(row["text"]),
        parse_mode=None if row["parse_mode"] is None else str(row["parse_mode"]),
        reply_markup=None if markup is None else json.loads(markup),
        attempts=int(row["attempts"]),
    )


def new_message(
    chat_id: int,
    text: str,
    *,
    reply_markup: dict[str, Any] | None = None,
    dedupe_key: str | None = None,
    parse_mode: str | None = HTML,
) -> outbox_rows.NewMessage:
    """Describe a message to queue (for services that queue inside their own transaction)."""
    return outbox_rows.NewMessage(
        chat_id=chat_id,
        text=text,
        parse_mode=parse_mode,
        reply_markup=None if reply_markup is None else json.dumps(reply_markup),
        dedupe_key=dedupe_key,
    )


async def enqueue(
    db: Database,
    chat_id: int,
    text: str,
    *,
    reply_markup: dict[str, Any] | None = None,
    dedupe_key: str | None = None,
    parse_mode: str | None = HTML,
) -> int | None:
    """Queue a message (HTML by default); None when ``dedupe_key`` was queued before."""
    message = new_message(
        chat_id, text, reply_markup=reply_markup, dedupe_key=dedupe_key, parse_mode=parse_mode
    )
    return await outbox_rows.insert(db, message)


async def due_messages(db: Database, limit: int) -> list[OutboxMessage]:
    """Messages to send now: each chat's oldest pending one if it is due, blocked chats
    left out, oldest first."""
    rows = await outbox_rows.due(db, now_text(), limit)
    return [message_from_row(row) for row in rows]


async def mark_sent(db: Database, message_id: int) -> None:
    """Record that Telegram accepted the message."""
    await outbox_rows.mark_sent(db, message_id)


async def postpone(
    db: Database, message_id: int, seconds: float, error: str, *, count_attempt: bool = False
) -> None:
    """Try the message again in ``seconds``; ``count_attempt`` when the try failed (a flood
    wait does not count: it is Telegram asking us to wait, not the message failing)."""
    not_before = time_text(datetime.now(UTC) + timedelta(seconds=max(seconds, 0)))
    await outbox_rows.postpone(db, message_id, not_before, error, count_attempt=count_attempt)


async def mark_failed(db: Database, message_id: int, error: str) -> None:
    """Give up on a message."""
    await outbox_rows.mark_failed(db, message_id, error)


async def fail_chat(db: Database, chat_id: int, error: str) -> int:
    """Give up on every pending message of a chat (the user blocked the bot)."""
    return await outbox_rows.fail_pending_for_chat(db, chat_id, error)
