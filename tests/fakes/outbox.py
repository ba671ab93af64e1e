"""Read the outbox as the customer will: each queued notice rendered as the sender would."""

from __future__ import annotations

from bot import notices
from storage import outbox as outbox_rows
from storage.db import Database


async def queued_texts(db: Database, chat_id: int, *, currency: str = "USD") -> list[str]:
    """Texts queued for a chat (sent or not), oldest first, notices rendered in English."""
    texts: list[str] = []
    for message in await outbox_rows.for_chat(db, chat_id):
        if message.kind is None:
            texts.append(message.text or "")
        else:
            rendered = notices.render(
                message.kind,
                message.data or {},
                language=notices.DEFAULT_LANGUAGE,
                currency=currency,
            )
            texts.append(rendered.text)
    return texts
