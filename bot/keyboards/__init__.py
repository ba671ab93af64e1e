"""Inline keyboard builders; every payload goes through the codec in ``bot.callbacks``."""

from __future__ import annotations

from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import i18n, texts
from bot.callbacks import Action, encode
from bot.i18n import _

MENU_MAIN = "main"
MENU_HELP = "help"
MENU_LANGUAGE = "language"


def button(text: str, action: Action, *args: object) -> InlineKeyboardButton:
    """One button whose payload is ``action`` with ``args``, checked by the codec."""
    return InlineKeyboardButton(text, callback_data=encode(action, *args))


def rows(*button_rows: Sequence[InlineKeyboardButton]) -> InlineKeyboardMarkup:
    """Build a keyboard from rows of buttons."""
    return InlineKeyboardMarkup([list(row) for row in button_rows])


def main_menu() -> InlineKeyboardMarkup:
    """The main menu: New order, My orders, Balance, Help, Language."""
    return rows(
        [
            button(_(texts.BUTTON_NEW_ORDER), Action.PLATFORMS, 0),
            button(_(texts.BUTTON_MY_ORDERS), Action.ORDERS, 0),
        ],
        [
            button(_(texts.BUTTON_BALANCE), Action.BALANCE),
            button(_(texts.BUTTON_HELP), Action.MENU, MENU_HELP),
        ],
        [button(_(texts.BUTTON_LANGUAGE), Action.MENU, MENU_LANGUAGE)],
    )


def languages_keyboard(current: str) -> InlineKeyboardMarkup:
    """One button per language the bot speaks, each named in itself; the current one ticked."""
    choices = [
        button(("✓ " if code == current else "") + i18n.language_name(code), Action.LANGUAGE, code)
        for code in i18n.available_languages()
    ]
    return rows(*(choices[i : i + 2] for i in range(0, len(choices), 2)), [back_to_menu_button()])


def back_to_menu_button() -> InlineKeyboardButton:
    """The button that brings the main menu back."""
    return button(_(texts.BUTTON_MENU), Action.MENU, MENU_MAIN)


def back_to_menu() -> InlineKeyboardMarkup:
    """A keyboard with only the way back to the main menu."""
    return rows([back_to_menu_button()])
