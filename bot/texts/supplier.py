"""Keep the supply chain out of customers' chats.

A panel's words ("Incorrect link", "Quantity less than minimal 100") help a customer fix an
order; a transport error ("cannot connect to the panel ([Errno 111] ...)"), an address, an
HTTP status or a word about API keys and balances only shows where the shop buys. Those are
for the admins, who get them in full; the customer reads a plain sentence instead.
"""

from __future__ import annotations

import re

from bot.texts.fit import clip

REASON_SHOWN = 200

_SUPPLY_CHAIN = re.compile(
    r"://|www\.|\b[\w-]+\.(?:com|net|org|in|io|ru|co|me|biz|info|xyz|pro|shop|store|app)\b"
    r"|\b\d{1,3}(?:\.\d{1,3}){3}\b"  # an IP address
    r"|errno|\bhttps?\b|\bhtml?\b|json|ssl|tls|dns|socket|connect|timed? ?out|traceback"
    r"|exception|\bpanel|provider|\bapi\b|api[_ ]?key|\bkey\b|token|\.env|admin_ids"
    r"|balance|funds|\bport\b|server|[a-z]+_[a-z]+=|\b[A-Z]{2,}_[A-Z_]+\b",
    re.IGNORECASE,
)


def customer_reason(words: str | None) -> str | None:
    """The panel's reason for refusing an order, if it is safe to show a customer; else None."""
    if not words:
        return None
    text = " ".join(words.split())
    if not text or _SUPPLY_CHAIN.search(text):
        return None
    return clip(text.rstrip("."), REASON_SHOWN)
