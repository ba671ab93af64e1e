"""The notification outbox: notices queued in SQLite and delivered by ``bot.jobs``.

A service records what happened as a ``Notice`` (a kind and its data), never rendered text:
``bot.notices`` renders it when it is sent, in the reader's language. A service queues news
in the same transaction as the change it announces, so a crash can lose neither; the sender
reads due messages, sends them within Telegram's limits and marks each sent, postponed or
failed. Rows survive restarts. A ``dedupe_key`` makes the same news
queued twice (a status seen twice, a retried job) one message.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import Enum, StrEnum
from typing import Any

from storage import outbox as outbox_rows
from storage.db import Database, now_text, time_text
from storage.outbox import OutboxMessage

HTML = "HTML"


class NoticeKind(StrEnum):
    """What a notice tells; ``bot.notices`` renders each kind."""

    ORDER_STATUS = "order_status"
    ORDER_NOT_FOUND = "order_not_found"
    ORDER_NOT_FOUND_ADMIN = "order_not_found_admin"
    PARTIAL_UNSETTLED_ADMIN = "partial_unsettled_admin"
    SETTLED_PARTIAL_MOVED_ADMIN = "settled_partial_moved_admin"
    REQUEST_UPDATE = "request_update"
    ORDER_HELD = "order_held"
    ORDER_HELD_ADMIN = "order_held_admin"
    ORDER_REFUSED_ADMIN = "order_refused_admin"
    REVIEW_PLACED = "review_placed"
    REVIEW_FAILED = "review_failed"
    PAYMENT_CREDITED = "payment_credited"
    PAYMENT_CREDITED_ADMIN = "payment_credited_admin"
    PAYMENT_REJECTED = "payment_rejected"
    PAYMENT_REFUNDED = "payment_refunded"
    PAYMENT_REFUNDED_ADMIN = "payment_refunded_admin"
    STARS_UNMATCHED_ADMIN = "stars_unmatched_admin"
    STARS_DIFFERENCE_ADMIN = "stars_difference_admin"
    CRYPTO_MISMATCH_ADMIN = "crypto_mismatch_admin"


@dataclass(frozen=True, slots=True)
class Notice:
    """What happened, for one chat: a kind and its data (JSON-ready, see ``plain``)."""

    chat_id: int
    kind: NoticeKind
    data: Mapping[str, Any]
    dedupe_key: str | None = None


def plain(value: Any) -> Any:
    """``value`` as JSON can hold it: records as dicts, money as strings, times as text."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return time_text(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    raise TypeError(f"a notice cannot hold {type(value).__name__}")


def new_row(notice: Notice) -> outbox_rows.NewMessage:
    """The outbox row for a notice (for services that queue inside their own transaction)."""
    return outbox_rows.NewMessage(
        chat_id=notice.chat_id,
        kind=notice.kind.value,
        data=json.dumps(plain(notice.data), ensure_ascii=False),
        dedupe_key=notice.dedupe_key,
    )


async def queue_notice(db: Database, notice: Notice) -> int | None:
    """Queue a notice; None when its ``dedupe_key`` was queued before."""
    return await outbox_rows.insert(db, new_row(notice))


async def enqueue(
    db: Database,
    chat_id: int,
    text: str,
    *,
    reply_markup: dict[str, Any] | None = None,
    dedupe_key: str | None = None,
    parse_mode: str | None = HTML,
) -> int | None:
    """Queue a text the Telegram side rendered itself (HTML by default); None when
    ``dedupe_key`` was queued before."""
    message = outbox_rows.NewMessage(
        chat_id=chat_id,
        text=text,
        parse_mode=parse_mode,
        reply_markup=None if reply_markup is None else json.dumps(reply_markup),
        dedupe_key=dedupe_key,
    )
    return await outbox_rows.insert(db, message)


async def due_messages(db: Database, limit: int) -> list[OutboxMessage]:
    """Messages to send now: each chat's oldest pending one if it is due, blocked chats
    left out, oldest first."""
    return await outbox_rows.due(db, now_text(), limit)


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
