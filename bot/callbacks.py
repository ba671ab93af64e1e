"""The callback-data codec: short, typed, validated button payloads (≤ 64 bytes).

A payload is ``<action>:<arg>:<arg>…`` where every action is declared once below with the
kinds of its arguments. Anything else that arrives (an old format, a tampered or made-up
payload) fails ``decode`` with ``ForgedCallback``, and the handler says so and does nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

MAX_CALLBACK_BYTES = 64


class ForgedCallback(ValueError):
    """The payload is not one this bot could have made."""


class Action(StrEnum):
    """Every button action; values are short because they travel in each payload."""

    MENU = "m"  # arg: menu section name
    PLATFORMS = "pl"  # arg: page
    PLATFORM = "p"  # args: platform index, page
    CATEGORY = "c"  # args: category id, page
    SERVICE = "s"  # arg: catalog item id
    ORDER = "o"  # arg: catalog item id (start the order conversation)
    SEARCH_PAGE = "sp"  # arg: page (the query stays in user_data)
    SEARCH = "sr"  # no args (ask for the words to search)
    CHOICE = "ch"  # args: draft token, value (a button answer inside the conversation)
    CONFIRM = "y"  # arg: draft token
    CHANGE = "e"  # arg: draft token
    ABORT = "n"  # arg: draft token
    MORE_OPTIONS = "mo"  # arg: draft token (the summary's extras: drip-feed)
    ORDERS = "ol"  # arg: page
    ORDER_CARD = "oc"  # arg: local order number
    REFRESH = "rf"  # arg: local order number
    REFILL = "rl"  # arg: local order number
    CANCEL_ORDER = "cx"  # arg: local order number
    BALANCE = "b"  # no args
    REVIEW = "rv"  # arg: local order number (admin)
    REVIEW_FAILED = "rvf"  # arg: local order number (admin)
    REVIEW_CARD = "rc"  # arg: local order number (admin: open its review card)
    NOOP = "_"  # no args (page counters)
    TOPUP = "tu"  # args: origin (0 balance, 1 order), suggested amount in cents (0 = none)
    TOPUP_AMOUNT = "ta"  # args: origin, amount in cents (then the method is chosen)
    TOPUP_OTHER = "to"  # arg: origin (ask for a typed amount)
    TOPUP_METHOD = "tm"  # args: origin, amount in cents, method
    TOPUP_CANCEL = "tx"  # no args
    PAY_CHECK = "pk"  # arg: payment id (ask the provider now)
    PAY_APPROVE = "pa"  # arg: payment id (admin)
    PAY_REJECT = "pr"  # args: payment id, reason code or "ask" (admin)
    ORDER_RESUME = "or"  # no args (show the waiting order summary again)
    LANGUAGE = "lg"  # arg: language code (the reader's choice)


# What each action's arguments look like; "w" is a short word token.
_ARG_PATTERNS: dict[str, str] = {"i": r"\d{1,12}", "w": r"[A-Za-z0-9_-]{1,24}"}
_SIGNATURES: dict[Action, str] = {
    Action.MENU: "w",
    Action.LANGUAGE: "w",
    Action.PLATFORMS: "i",
    Action.PLATFORM: "ii",
    Action.CATEGORY: "ii",
    Action.SERVICE: "i",
    Action.ORDER: "i",
    Action.SEARCH_PAGE: "i",
    Action.SEARCH: "",
    Action.CHOICE: "ww",
    Action.CONFIRM: "w",
    Action.CHANGE: "w",
    Action.ABORT: "w",
    Action.MORE_OPTIONS: "w",
    Action.ORDERS: "i",
    Action.ORDER_CARD: "i",
    Action.REFRESH: "i",
    Action.REFILL: "i",
    Action.CANCEL_ORDER: "i",
    Action.BALANCE: "",
    Action.REVIEW: "i",
    Action.REVIEW_FAILED: "i",
    Action.REVIEW_CARD: "i",
    Action.NOOP: "",
    Action.TOPUP: "ii",
    Action.TOPUP_AMOUNT: "ii",
    Action.TOPUP_OTHER: "i",
    Action.TOPUP_METHOD: "iiw",
    Action.TOPUP_CANCEL: "",
    Action.PAY_CHECK: "i",
    Action.PAY_APPROVE: "i",
    Action.PAY_REJECT: "iw",
    Action.ORDER_RESUME: "",
}
_BY_VALUE = {a.value: a for a in Action}


@dataclass(frozen=True, slots=True)
class Callback:
    action: Action
    args: tuple[str, ...]

    def int_arg(self, index: int) -> int:
        return int(self.args[index])


def encode(action: Action, *args: object) -> str:
    """Build a payload, checking it against the action's signature and the 64-byte limit."""
    signature = _SIGNATURES[action]
    parts = [str(a) for a in args]
    if len(parts) != len(signature):
        raise ValueError(f"{action.name} takes {len(signature)} arguments, got {len(parts)}")
    for kind, part in zip(signature, parts, strict=True):
        if not re.fullmatch(_ARG_PATTERNS[kind], part):
            raise ValueError(f"{action.name}: {part!r} is not a valid argument")
    data = ":".join([action.value, *parts])
    if len(data.encode()) > MAX_CALLBACK_BYTES:
        raise ValueError(f"callback data longer than {MAX_CALLBACK_BYTES} bytes: {data!r}")
    return data


def decode(data: str | None) -> Callback:
    """Parse a payload or raise ``ForgedCallback``."""
    if not data or len(data.encode()) > MAX_CALLBACK_BYTES:
        raise ForgedCallback("empty or oversized callback data")
    head, *parts = data.split(":")
    action = _BY_VALUE.get(head)
    if action is None:
        raise ForgedCallback(f"unknown action {head!r}")
    signature = _SIGNATURES[action]
    if len(parts) != len(signature):
        raise ForgedCallback(f"{action.name} with {len(parts)} arguments")
    for kind, part in zip(signature, parts, strict=True):
        if not re.fullmatch(_ARG_PATTERNS[kind], part):
            raise ForgedCallback(f"{action.name}: malformed argument")
    return Callback(action, tuple(parts))


def pattern(*actions: Action) -> re.Pattern[str]:
    """A CallbackQueryHandler pattern matching payloads of these actions (checked later)."""
    names = "|".join(re.escape(a.value) for a in actions)
    return re.compile(rf"^(?:{names})(?::|$)")
