"""Queries for the notification outbox: notices waiting to be sent, sent, or given up on.

A row holds what happened (a notice ``kind`` and its ``data``, JSON) for one chat; the sender
renders it at send time. Rows written before notices existed (and texts a handler rendered
itself) hold their ``text`` instead.

A message is written in the same transaction as the change it announces; a ``dedupe_key``
makes a second write of the same news a no-op. Each chat's messages go out in the order they
were written: only a chat's oldest pending message is ever due.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from storage.db import Database, now_text

PENDING = "pending"
SENT = "sent"
FAILED = "failed"
_COLUMNS = (
    "id, chat_id, kind, data, text, parse_mode, reply_markup, status, attempts, last_error,"
    " not_before, created_at, sent_at, dedupe_key"
)
INSERT = (
    "INSERT INTO outbox (chat_id, kind, data, text, parse_mode, reply_markup, not_before,"
    " created_at, dedupe_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (dedupe_key) DO NOTHING"
)


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """A queued row: a notice (``kind`` and ``data``) or, for rows queued as text, its
    ``text``; ``attempts`` counts failed tries so far."""

    id: int
    chat_id: int
    kind: str | None
    data: dict[str, Any] | None
    text: str | None
    parse_mode: str | None
    reply_markup: dict[str, Any] | None
    status: str
    attempts: int
    last_error: str | None
    sent_at: str | None


def message_from_row(row: sqlite3.Row) -> OutboxMessage:
    """Build an ``OutboxMessage`` from a row read with ``_COLUMNS``."""
    (
        message_id,
        chat_id,
        kind,
        data,
        text,
        parse_mode,
        markup,
        status,
        attempts,
        last_error,
        _not_before,
        _created_at,
        sent_at,
        _dedupe_key,
    ) = row
    return OutboxMessage(
        id=int(message_id),
        chat_id=int(chat_id),
        kind=None if kind is None else str(kind),
        data=None if data is None else json.loads(data),
        text=None if text is None else str(text),
        parse_mode=None if parse_mode is None else str(parse_mode),
        reply_markup=None if markup is None else json.loads(markup),
        status=str(status),
        attempts=int(attempts),
        last_error=None if last_error is None else str(last_error),
        sent_at=None if sent_at is None else str(sent_at),
    )


@dataclass(frozen=True, slots=True)
class NewMessage:
    """A row to queue: a notice (``kind`` and JSON ``data``) or a rendered ``text``;
    ``reply_markup`` is JSON text or None."""

    chat_id: int
    kind: str | None = None
    data: str | None = None
    text: str | None = None
    parse_mode: str | None = "HTML"
    reply_markup: str | None = None
    dedupe_key: str | None = None


async def insert(
    db: Database, message: NewMessage, *, not_before: str | None = None
) -> int | None:
    """Queue one message; None when its ``dedupe_key`` was queued before."""
    now = now_text()
    async with (
        db.transaction(),
        db.conn.execute(
            INSERT,
            (
                message.chat_id,
                message.kind,
                message.data,
                message.text,
                message.parse_mode,
                message.reply_markup,
                not_before or now,
                now,
                message.dedupe_key,
            ),
        ) as cursor,
    ):
        # DO NOTHING leaves rowcount at 0 (lastrowid would still hold an older insert's ID).
        return cursor.lastrowid if cursor.rowcount > 0 else None


def insert_params(message: NewMessage, now: str) -> tuple[object, ...]:
    """The parameters of ``INSERT`` for one message, due at once."""
    m = message
    return (
        m.chat_id,
        m.kind,
        m.data,
        m.text,
        m.parse_mode,
        m.reply_markup,
        now,
        now,
        m.dedupe_key,
    )


async def get(db: Database, message_id: int) -> OutboxMessage | None:
    """One queued message, or None."""
    row = await db.fetch_one(f"SELECT {_COLUMNS} FROM outbox WHERE id = ?", (message_id,))
    return None if row is None else message_from_row(row)


async def for_chat(db: Database, chat_id: int) -> list[OutboxMessage]:
    """Every message ever queued for a chat, oldest first."""
    rows = await db.fetch_all(
        f"SELECT {_COLUMNS} FROM outbox WHERE chat_id = ? ORDER BY id", (chat_id,)
    )
    return [message_from_row(row) for row in rows]


async def count_by_status(db: Database) -> dict[str, int]:
    """How many messages are pending, sent and failed."""
    rows = await db.fetch_all("SELECT status, COUNT(*) FROM outbox GROUP BY status")
    return {str(row[0]): int(row[1]) for row in rows}


async def due(db: Database, now: str, limit: int) -> list[OutboxMessage]:
    """Each chat's oldest pending message, when it is due by ``now``, oldest due first.

    Chats whose user is blocked are left out.
    """
    rows = await db.fetch_all(
        f"SELECT {_COLUMNS} FROM outbox WHERE id IN ("
        "   SELECT MIN(id) FROM outbox WHERE status = 'pending' GROUP BY chat_id)"
        " AND not_before <= ?"
        " AND chat_id NOT IN (SELECT chat_id FROM users WHERE is_blocked = 1)"
        " ORDER BY not_before, id LIMIT ?",
        (now, limit),
    )
    return [message_from_row(row) for row in rows]


async def mark_sent(db: Database, message_id: int) -> None:
    """Record that a message reached Telegram."""
    now = now_text()
    async with db.transaction():
        await db.conn.execute(
            "UPDATE outbox SET status = 'sent', sent_at = ?, attempts = attempts + 1 WHERE id = ?",
            (now, message_id),
        )


async def postpone(
    db: Database, message_id: int, not_before: str, error: str, *, count_attempt: bool
) -> None:
    """Keep a message pending until ``not_before``, noting why."""
    async with db.transaction():
        await db.conn.execute(
            "UPDATE outbox SET not_before = ?, last_error = ?, attempts = attempts + ?"
            " WHERE id = ? AND status = 'pending'",
            (not_before, error, int(count_attempt), message_id),
        )


async def mark_failed(db: Database, message_id: int, error: str) -> None:
    """Give up on one message."""
    async with db.transaction():
        await db.conn.execute(
            "UPDATE outbox SET status = 'failed', last_error = ?, attempts = attempts + 1"
            " WHERE id = ? AND status = 'pending'",
            (error, message_id),
        )


async def fail_pending_for_chat(db: Database, chat_id: int, error: str) -> int:
    """Give up on every pending message of a chat; return how many."""
    async with (
        db.transaction(),
        db.conn.execute(
            "UPDATE outbox SET status = 'failed', last_error = ?"
            " WHERE status = 'pending' AND chat_id = ?",
            (error, chat_id),
        ) as cursor,
    ):
        return cursor.rowcount


_PENDING_FOR_BLOCKED = (
    "status = 'pending' AND chat_id IN (SELECT chat_id FROM users WHERE is_blocked = 1)"
)


async def fail_pending_for_blocked(db: Database, error: str) -> int:
    """Give up on pending messages to chats whose user is blocked; return how many."""
    # The sender asks several times a second and there is almost never anything to give up:
    # a read finds that out without taking the write lock every other task waits behind.
    if await db.fetch_one(f"SELECT 1 FROM outbox WHERE {_PENDING_FOR_BLOCKED} LIMIT 1") is None:
        return 0
    async with (
        db.transaction(),
        db.conn.execute(
            f"UPDATE outbox SET status = 'failed', last_error = ? WHERE {_PENDING_FOR_BLOCKED}",
            (error,),
        ) as cursor,
    ):
        return cursor.rowcount


async def user_ids_for_chat(db: Database, chat_id: int) -> list[int]:
    """The users whose private chat this is (normally one, with the same ID)."""
    rows = await db.fetch_all("SELECT user_id FROM users WHERE chat_id = ?", (chat_id,))
    return [int(row[0]) for row in rows]
