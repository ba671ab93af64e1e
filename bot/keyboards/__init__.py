"""Inline keyboard builders; every payload goes through the codec in ``bot.callbacks``."""

from __future__ import annotations

from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import texts
from bot.callbacks import Action, encode
from bot.i18n import _

MENU_MAIN = "main"
MENU_HELP = "help"


def button(text: str, action: Action, *args: object) -> InlineKeyboardButton:
    """One button whose payload is ``action`` with ``args``, checked by the codec."""
    return InlineKeyboardButton(text, callback_data=encode(action, *args))


def rows(*button_rows: Sequence[InlineKeyboardButton]) -> InlineKeyboardMarkup:
    """Build a keyboard from rows of buttons."""
    return InlineKeyboardMarkup([list(row) for row in button_rows])


def main_menu() -> InlineKeyboardMarkup:
    """The main menu: New order, My orders, Balance, Help."""
    return rows(
        [
            button(_(texts.BUTTON_NEW_ORDER), Action.PLATFORMS, 0),
            button(_(texts.BUTTON_MY_ORDERS), Action.ORDERS, 0),
        ],
        [
            button(_(texts.BUTTON_BALANCE), Action.BALANCE),
            button(_(texts.BUTTON_HELP), Action.MENU, MENU_HELP),
        ],
    )


def back_to_menu_button() -> InlineKeyboardButton:
    """The button that brings the main menu back."""
    return button(_(texts.BUTTON_MENU), Action.MENU, MENU_MAIN)


def back_to_menu() -> InlineKeyboardMarkup:
    """A keyboard with only the way back to the main menu."""
    return rows([back_to_menu_button()])
