"""Make every screen fit Telegram's limits, counted as Telegram counts them.

Telegram measures a message after parsing its entities (the HTML tags are not counted, an
``&amp;`` is one character) in UTF-16 code units, so an emoji outside the Basic Multilingual
Plane counts twice. ``clip`` cuts one piece of user or panel text before it is escaped into
a screen; ``fit`` is the last guard on a whole HTML message built from such pieces.
"""

from __future__ import annotations

import re
from html import escape, unescape

MAX_MESSAGE = 4096  # sendMessage / editMessageText text, after entity parsing
MAX_ALERT = 200  # answerCallbackQuery text
MAX_BUTTON = 64  # what a button shows in full on a phone; longer labels are cut

ELLIPSIS = "…"
_TAG = re.compile(r"<[^<>]*>")


def utf16_len(text: str) -> int:
    """Count ``text`` in UTF-16 code units, as Telegram does."""
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


def clip(text: str, limit: int) -> str:
    """Cut plain text to at most ``limit`` UTF-16 units, ending with "…" when cut."""
    if utf16_len(text) <= limit:
        return text
    budget = limit - 1  # the ellipsis is one unit
    used = 0
    for index, char in enumerate(text):
        used += 2 if ord(char) > 0xFFFF else 1
        if used > budget:
            return text[:index].rstrip() + ELLIPSIS
    return text  # pragma: no cover - the length check above returned already


def visible_length(html: str) -> int:
    """The length Telegram checks for an HTML message: tags dropped, entities decoded."""
    return utf16_len(unescape(_TAG.sub("", html)))


def fit(html: str, limit: int = MAX_MESSAGE) -> str:
    """Keep an HTML message within ``limit``: drop whole lines from the end, never a tag.

    The screens put every tag on one line, so a dropped line never leaves one unclosed.
    A first line that is still too long (it cannot be, when its pieces went through
    ``clip``) is cut as plain text.
    """
    if visible_length(html) <= limit:
        return html
    marker = "\n" + ELLIPSIS
    lines = html.split("\n")
    while len(lines) > 1:
        lines.pop()
        candidate = "\n".join(lines) + marker
        if visible_length(candidate) <= limit:
            return candidate
    return escape(clip(unescape(_TAG.sub("", html)), limit))
