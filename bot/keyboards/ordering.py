"""Inline keyboards of the catalog and the order conversation (payloads via the codec)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import Action, encode
from bot.i18n import _
from bot.order_form import SKIP, Step
from bot.texts import ordering as texts
from bot.texts.fit import clip

if TYPE_CHECKING:
    from bot.services.catalog import CatalogItem, CategoryInfo
    from bot.services.common import Page

PLATFORMS_PER_PAGE = 8
LABEL_SHOWN = 48  # a platform or category name on a button (plain text, not HTML)
# Choice values that are not a form step's name (see ``change_keyboard``, ``options_keyboard``).
BACK_TO_SUMMARY = "summary"
DRIPFEED_ON = "drip"
DRIPFEED_OFF = "nodrip"

Row = list[InlineKeyboardButton]


def _button(text: str, action: Action, *args: object) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=encode(action, *args))


def _nav_row(page: int, pages: int, payload: Callable[[int], str]) -> Row:
    """◀ 2/5 ▶ — only the arrows that lead somewhere."""
    if pages <= 1:
        return []
    row: Row = []
    if page > 0:
        row.append(InlineKeyboardButton(texts.BTN_PREVIOUS, callback_data=payload(page - 1)))
    row.append(InlineKeyboardButton(f"{page + 1}/{pages}", callback_data=encode(Action.NOOP)))
    if page + 1 < pages:
        row.append(InlineKeyboardButton(texts.BTN_NEXT, callback_data=payload(page + 1)))
    return row


def _markup(rows: Sequence[Row]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([row for row in rows if row])


def platforms_keyboard(platforms: Sequence[tuple[str, int]], page: int) -> InlineKeyboardMarkup:
    """List platforms two per row (index into the full list), with paging and Search."""
    pages = max(1, -(-len(platforms) // PLATFORMS_PER_PAGE))
    start = page * PLATFORMS_PER_PAGE
    buttons = [
        _button(f"{clip(name, LABEL_SHOWN)} ({count})", Action.PLATFORM, index, 0)
        for index, (name, count) in enumerate(platforms)
        if start <= index < start + PLATFORMS_PER_PAGE
    ]
    rows: list[Row] = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.append(_nav_row(page, pages, lambda p: encode(Action.PLATFORMS, p)))
    rows.append([_button(_(texts.BTN_SEARCH), Action.SEARCH)])
    return _markup(rows)


def categories_keyboard(platform_index: int, page: Page[CategoryInfo]) -> InlineKeyboardMarkup:
    """List a platform's categories, one per row, with paging and a way back."""
    rows: list[Row] = [
        [
            _button(
                f"{clip(c.name, LABEL_SHOWN)} ({c.service_count})",
                Action.CATEGORY,
                c.category_id,
                0,
            )
        ]
        for c in page.items
    ]
    rows.append(
        _nav_row(page.page, page.pages, lambda p: encode(Action.PLATFORM, platform_index, p))
    )
    rows.append([_button(_(texts.BTN_PLATFORMS), Action.PLATFORMS, 0), _search_button()])
    return _markup(rows)


def _search_button() -> InlineKeyboardButton:
    return _button(_(texts.BTN_SEARCH), Action.SEARCH)


def services_keyboard(
    page: Page[CatalogItem],
    currency: str,
    payload: Callable[[int], str],
    back: InlineKeyboardButton,
) -> InlineKeyboardMarkup:
    """List services, one per row, with paging (``payload(page)``) and a way back."""
    rows: list[Row] = [
        [_button(texts.service_button(item, currency), Action.SERVICE, item.item_id)]
        for item in page.items
    ]
    rows.append(_nav_row(page.page, page.pages, payload))
    rows.append([back, _search_button()])
    return _markup(rows)


def category_services_keyboard(
    category_id: int, platform_index: int | None, page: Page[CatalogItem], currency: str
) -> InlineKeyboardMarkup:
    """List a category's services; Back returns to the platform's categories."""
    back = (
        _button(_(texts.BTN_BACK), Action.PLATFORM, platform_index, 0)
        if platform_index is not None
        else _button(_(texts.BTN_PLATFORMS), Action.PLATFORMS, 0)
    )
    return services_keyboard(
        page, currency, lambda p: encode(Action.CATEGORY, category_id, p), back
    )


def search_results_keyboard(page: Page[CatalogItem], currency: str) -> InlineKeyboardMarkup:
    """List search results; paging keeps the query in user_data."""
    back = _button(_(texts.BTN_PLATFORMS), Action.PLATFORMS, 0)
    return services_keyboard(page, currency, lambda p: encode(Action.SEARCH_PAGE, p), back)


def no_results_keyboard() -> InlineKeyboardMarkup:
    """After an empty search: browse the platforms or search again."""
    return _markup([[_button(_(texts.BTN_PLATFORMS), Action.PLATFORMS, 0), _search_button()]])


def service_card_keyboard(item: CatalogItem) -> InlineKeyboardMarkup:
    """Order (when the bot can place it) and Back to the service's category."""
    rows: list[Row] = []
    if item.service.orderable:
        rows.append([_button(_(texts.BTN_ORDER), Action.ORDER, item.item_id)])
    rows.append([_button(_(texts.BTN_BACK), Action.CATEGORY, item.category_id, 0)])
    return _markup(rows)


def question_keyboard(token: str, step: Step) -> InlineKeyboardMarkup:
    """Buttons for a question: its choices, Skip when optional, and Cancel."""
    choices = [_button(c.label, Action.CHOICE, token, c.value) for c in step.choices]
    width = 2 if len(choices) <= 6 else 4
    rows: list[Row] = [choices[i : i + width] for i in range(0, len(choices), width)]
    last: Row = []
    if step.optional:
        last.append(_button(_(texts.BTN_SKIP), Action.CHOICE, token, SKIP))
    last.append(_button(_(texts.BTN_CANCEL), Action.ABORT, token))
    rows.append(last)
    return _markup(rows)


def summary_keyboard(
    token: str, top_up: InlineKeyboardButton | None = None, *, more_options: bool = False
) -> InlineKeyboardMarkup:
    """Confirm / Change / Cancel for one summary (the token ties them to it), Top up when
    the balance does not cover it, and More options when the order has any."""
    return _markup(
        [
            [top_up] if top_up is not None else [],
            [_button(_(texts.BTN_CONFIRM), Action.CONFIRM, token)],
            [
                _button(_(texts.BTN_CHANGE), Action.CHANGE, token),
                _button(_(texts.BTN_CANCEL), Action.ABORT, token),
            ],
            [_button(_(texts.BTN_MORE_OPTIONS), Action.MORE_OPTIONS, token)]
            if more_options
            else [],
        ]
    )


def options_keyboard(token: str, *, dripfeed: bool) -> InlineKeyboardMarkup:
    """Drip-feed on or off, and a way back to the summary."""
    toggle = (
        _button(_(texts.BTN_DRIPFEED_OFF), Action.CHOICE, token, DRIPFEED_OFF)
        if dripfeed
        else _button(_(texts.BTN_DRIPFEED_ON), Action.CHOICE, token, DRIPFEED_ON)
    )
    return _markup(
        [
            [toggle],
            [
                _button(_(texts.BTN_BACK_TO_SUMMARY), Action.CHOICE, token, BACK_TO_SUMMARY),
                _button(_(texts.BTN_CANCEL), Action.ABORT, token),
            ],
        ]
    )


def change_keyboard(token: str, steps: Sequence[Step]) -> InlineKeyboardMarkup:
    """One button per answer that can be changed, and a way back to the summary."""
    buttons = [_button(step.label, Action.CHOICE, token, step.name) for step in steps]
    rows: list[Row] = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.append(
        [
            _button(_(texts.BTN_BACK_TO_SUMMARY), Action.CHOICE, token, BACK_TO_SUMMARY),
            _button(_(texts.BTN_CANCEL), Action.ABORT, token),
        ]
    )
    return _markup(rows)
