"""Inline keyboards of "My orders" and the admin review (payloads via ``bot.callbacks``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import Action, encode
from bot.i18n import _
from bot.keyboards import MENU_MAIN
from bot.texts import orders as texts

if TYPE_CHECKING:
    from bot.services.common import Page
    from storage.orders import OrderRecord

ORDERS_PER_PAGE = 8


Row = list[InlineKeyboardButton]


def _button(text: str, action: Action, *args: object) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=encode(action, *args))


def _menu_button() -> InlineKeyboardButton:
    return _button(_(texts.BTN_MENU), Action.MENU, MENU_MAIN)


def _pager(page: int, pages: int) -> Row:
    """◀ 2/5 ▶ with only the arrows that lead somewhere; empty for a single page."""
    if pages <= 1:
        return []
    row: Row = []
    if page > 0:
        row.append(_button(texts.BTN_PREVIOUS, Action.ORDERS, page - 1))
    row.append(_button(f"{page + 1}/{pages}", Action.NOOP))
    if page + 1 < pages:
        row.append(_button(texts.BTN_NEXT, Action.ORDERS, page + 1))
    return row


def orders_keyboard(page: Page[OrderRecord]) -> InlineKeyboardMarkup:
    """One button per order of this page, the pager, and the way back to the menu."""
    rows: list[Row] = [
        [_button(texts.order_button(order), Action.ORDER_CARD, order.order_id)]
        for order in page.items
    ]
    rows.append(_pager(page.page, page.pages))
    if page.total == 0:
        rows.append([_button(_(texts.BTN_NEW_ORDER), Action.PLATFORMS, 0), _menu_button()])
    else:
        rows.append([_menu_button()])
    return InlineKeyboardMarkup([row for row in rows if row])


def order_card_keyboard(
    order_id: int, *, can_refill: bool, can_cancel: bool
) -> InlineKeyboardMarkup:
    """Refresh, then Refill / Cancel only when allowed, then the way back."""
    actions: Row = []
    if can_refill:
        actions.append(_button(_(texts.BTN_REFILL), Action.REFILL, order_id))
    if can_cancel:
        actions.append(_button(_(texts.BTN_CANCEL_ORDER), Action.CANCEL_ORDER, order_id))
    rows: list[Row] = [[_button(_(texts.BTN_REFRESH), Action.REFRESH, order_id)]]
    if actions:
        rows.append(actions)
    rows.append([_button(_(texts.BTN_MY_ORDERS), Action.ORDERS, 0), _menu_button()])
    return InlineKeyboardMarkup(rows)


def open_order_keyboard(order_id: int) -> InlineKeyboardMarkup:
    """One button under a notice that opens the order's card."""
    return InlineKeyboardMarkup(
        [[_button(texts.open_order_button(order_id), Action.ORDER_CARD, order_id)]]
    )


def open_review_keyboard(order_id: int) -> InlineKeyboardMarkup:
    """One button that opens a held order's review card."""
    return InlineKeyboardMarkup(
        [[_button(_(texts.BTN_OPEN_REVIEW), Action.REVIEW_CARD, order_id)]]
    )


def review_keyboard(order_id: int) -> InlineKeyboardMarkup:
    """Mark placed (then type the panel's ID) or Mark failed (refund) for one held order."""
    return InlineKeyboardMarkup(
        [
            [
                _button(_(texts.BTN_MARK_PLACED), Action.REVIEW, order_id),
                _button(_(texts.BTN_MARK_FAILED), Action.REVIEW_FAILED, order_id),
            ]
        ]
    )
