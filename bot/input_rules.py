"""What the bot accepts from a user, in one place: references, amounts, links and text.

Every check raises ``InputError`` with a sentence the user can act on, in the reader's
language (plain text: the caller escapes it into HTML); ``what`` names the answer the way
those sentences need it, already translated ("the link").
Nothing that fails here reaches a panel or the ledger.
Lengths are counted as Telegram counts them, in UTF-16 units, so an emoji counts twice.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal
from urllib.parse import urlsplit

from bot import i18n
from bot.i18n import _
from bot.texts.fit import clip, utf16_len

# Telegram user IDs have at most 52 significant bits (Bot API, "User.id").
MAX_USER_ID = 2**52 - 1
# The largest amount an admin may credit or debit at once: a typo guard, not a policy.
MAX_AMOUNT = Decimal("1000000")
MAX_LINK_LENGTH = 1000
MAX_REASON_LENGTH = 200
MAX_USERNAME_LENGTH = 64
MAX_LIST_ITEM_LENGTH = 500
MAX_TYPED = 4096  # one Telegram message: where only the characters need checking

_ASCII_DIGITS = re.compile(r"[0-9]+")
_USERNAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,31}")
_AMOUNT = re.compile(r"([0-9]{1,7})(?:[.,]([0-9]{1,2}))?")
# The embeddings, overrides and isolates; the plain marks (U+200E, U+200F) stay allowed:
# right-to-left writers type them in ordinary text.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


class InputError(ValueError):
    """Input that cannot be used; ``message`` tells the user what to send instead.

    ``amount`` words its message as the end of a sentence ("… is not a valid amount: …").
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _is_control(char: str) -> bool:
    # C0 (U+0000–U+001F), DEL and C1 (U+007F–U+009F), plus the characters that flip the
    # direction of the text around them (they can disguise a link or a name).
    code = ord(char)
    return code < 0x20 or 0x7F <= code <= 0x9F or char in _BIDI_CONTROLS


def check_text(text: str, what: str, *, max_length: int, multiline: bool = False) -> str:
    """Return ``text`` stripped, or refuse control characters, emptiness or excess length.

    ``multiline`` lets newlines through (the lists a panel takes one item per line).
    """
    allowed = {"\n", "\r"} if multiline else set()
    for char in text:
        if _is_control(char) and char not in allowed:
            if char in ("\n", "\r"):
                raise InputError(_("Send {what} on one line.").format(what=what))
            raise InputError(
                _(
                    "{what} contains an invisible control character ({character}). "
                    "Please type it again without it."
                ).format(what=what[:1].upper() + what[1:], character=_char_name(char))
            )
    stripped = text.strip()
    if not stripped:
        raise InputError(_("That was empty: send {what}.").format(what=what))
    length = utf16_len(stripped)
    if length > max_length:
        raise InputError(
            _(
                "That is too long for {what}: at most {maximum} characters "
                "(you sent {length}; emoji count as two)."
            ).format(what=what, maximum=max_length, length=length)
        )
    return stripped


# Unicode gives control characters no name; these are the ones people paste by accident.
_CONTROL_NAMES = {"\x00": "NUL", "\t": "TAB", "\x1b": "ESC", "\x7f": "DEL", "\x85": "NEL"}


def _char_name(char: str) -> str:
    name = unicodedata.name(char, "") or _CONTROL_NAMES.get(char, "")
    code = f"U+{ord(char):04X}"
    return f"{code} {name}" if name else code


def whole_number(text: str, what: str, *, example: str = "100") -> int:
    """Read a whole number typed with ASCII digits (spaces and thousands commas allowed)."""
    raw = text.strip()
    digits = raw.replace(" ", "").replace(",", "").replace("_", "")
    negative = digits.startswith("-") and _ASCII_DIGITS.fullmatch(digits[1:]) is not None
    body = digits[1:] if negative else digits
    if not _ASCII_DIGITS.fullmatch(body) or len(body) > 12:
        raise InputError(
            _("Send {what} as a whole number with the digits 0–9, e.g. {example}.").format(
                what=what, example=example
            )
        )
    number = int(body)
    return -number if negative else number


def user_ref(text: str) -> int | str:
    """Read a reference to a user: a Telegram ID, or a @username (returned without the @)."""
    raw = check_text(text, _("the customer reference"), max_length=MAX_USERNAME_LENGTH)
    if _ASCII_DIGITS.fullmatch(raw):
        number = int(raw) if len(raw) <= 20 else MAX_USER_ID + 1
        if not 1 <= number <= MAX_USER_ID:
            raise InputError(
                _(
                    "“{typed}” is not a Telegram user ID: IDs are whole numbers from 1 to "
                    "{maximum}. Use the customer's ID (they see it with /id) or @username."
                ).format(typed=clip(raw, 40), maximum=MAX_USER_ID)
            )
        return number
    name = raw.removeprefix("https://t.me/").removeprefix("t.me/").removeprefix("@")
    if not _USERNAME.fullmatch(name):
        raise InputError(
            _(
                "“{typed}” is not a customer reference: use their numeric Telegram ID "
                "(digits 0–9, e.g. 12345) or their @username (a letter, then letters, digits "
                "or _; at most 32)."
            ).format(typed=clip(raw, 40))
        )
    return name


def amount(text: str, *, maximum: Decimal = MAX_AMOUNT) -> Decimal:
    """Read a positive amount of money with at most two decimals (a decimal comma is fine)."""
    raw = text.strip()
    if _AMOUNT.fullmatch(raw) is None:
        raise InputError(
            _(
                "use a positive number with at most two decimals, written with the digits "
                "0–9, like 10 or 2.50"
            )
        )
    value = Decimal(raw.replace(",", "."))
    if value <= 0:
        raise InputError(_("the amount must be more than zero"))
    if value > maximum:
        raise InputError(_("at most {maximum} at once").format(maximum=i18n.number(maximum)))
    return value


def link(text: str, what: str | None = None) -> str:
    """Read a web address: http or https, a host with a dot, no spaces, a sane length.

    ``what`` names what was expected ("a link to a post"); a link, when not given.
    """
    raw = check_text(text, _("the link"), max_length=MAX_LINK_LENGTH)
    refusal = InputError(
        _("That is not {what}: send a full address starting with https://").format(
            what=what or _("a link")
        )
    )
    if any(char.isspace() for char in raw) or not raw.lower().startswith(("http://", "https://")):
        raise refusal
    try:
        parts = urlsplit(raw)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise refusal from None
    host = parts.hostname or ""
    if "." not in host.strip(".") or host.startswith(".") or parts.username is not None:
        raise refusal
    return raw


def reason(text: str) -> str:
    """Read the reason an admin gives for a balance change (shown to the customer)."""
    return check_text(text, _("the reason"), max_length=MAX_REASON_LENGTH)
