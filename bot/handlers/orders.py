"""My orders: the paginated list, an order's card, Refresh, Refill and Cancel.

Every button carries only a local order number, so every button first checks the order
belongs to the user pressing it: another user's number, a made-up payload or an order that no
longer allows the action is answered with one sentence and changes nothing. Refill and Cancel
are offered only when ``panel_requests.available_actions`` allows them and no such request is still
open; a double tap sends one request (a per-order lock here, and the tracking service returns
the open request instead of sending another).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

from telegram import CallbackQuery, Message, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot.callbacks import Action, encode, pattern
from bot.context import Context
from bot.handlers.common import send, show, tapped
from bot.i18n import _
from bot.keyboards import MENU_MAIN
from bot.keyboards import orders as keyboards
from bot.panels.errors import PanelError
from bot.services import catalog, ordering, panel_requests, status_sync
from bot.texts import notifications as notification_texts
from bot.texts import orders as texts
from storage.orders import OrderRecord
from storage.requests import ServiceRequest

log = logging.getLogger(__name__)


async def _own_order(update: Update, context: Context) -> tuple[CallbackQuery, OrderRecord | None]:
    """Load the order a button names if it is the presser's; otherwise refuse the tap."""
    query, callback = tapped(update)
    order = await ordering.get_order(context.bot_data.db, callback.int_arg(0))
    if order is None or order.user_id != query.from_user.id:
        log.info(
            "user %s pressed %s for order %s, which is not theirs",
            query.from_user.id,
            callback.action.name,
            callback.args[0],
        )
        await query.answer(texts.NOT_YOUR_ORDER_ALERT, show_alert=True)
        return query, None
    return query, order


def _is_open(request: ServiceRequest) -> bool:
    """True while the request counts as asked (as ``tracking`` counts it for a second tap)."""
    if request.status in panel_requests.POLLED_REQUEST_STATUSES:
        return True
    if request.status in (panel_requests.SENDING, panel_requests.ACCEPTED):
        return datetime.now(UTC) - request.created_at < panel_requests.RECENT_REQUEST
    return False


def _lock_for(context: Context, order_id: int) -> asyncio.Lock:
    """One lock per order, so taps on its Refill/Cancel are handled one after another."""
    locks = context.bot_data.order_action_locks
    lock = locks.get(order_id)
    if lock is None:
        lock = asyncio.Lock()
        locks[order_id] = lock
    return lock


async def _actions(
    context: Context, order: OrderRecord
) -> tuple[panel_requests.OrderActions, list[ServiceRequest]]:
    """What the customer may ask for now (open requests count as asked) and the requests."""
    bot_data = context.bot_data
    item = await catalog.get_item(bot_data.db, order.item_id)
    allowed = panel_requests.available_actions(order, item, bot_data.panels.get(order.panel))
    requests = await panel_requests.order_requests(bot_data.db, order.order_id)
    open_kinds = {r.kind for r in requests if _is_open(r)}
    actions = panel_requests.OrderActions(
        can_refill=allowed.can_refill and "refill" not in open_kinds,
        can_cancel=allowed.can_cancel and "cancel" not in open_kinds,
    )
    return actions, requests


async def _show_card(
    update: Update,
    context: Context,
    order: OrderRecord,
    notice: str | None = None,
    *,
    in_place: bool = True,
) -> None:
    """Draw the order's card with the buttons it allows, in place of the tapped message
    unless ``in_place`` is False (then as a new message)."""
    bot_data = context.bot_data
    actions, requests = await _actions(context, order)
    events = await status_sync.order_history(bot_data.db, order.order_id)
    text = texts.order_card(
        order,
        currency=bot_data.settings.currency,
        events=events,
        requests=requests,
        notice=notice,
    )
    markup = keyboards.order_card_keyboard(
        order.order_id, can_refill=actions.can_refill, can_cancel=actions.can_cancel
    )
    if in_place:
        await show(update, context, text, markup)
    else:
        await send(update, text, markup)


async def _show_page(update: Update, context: Context, user_id: int, page: int) -> None:
    bot_data = context.bot_data
    orders = await ordering.list_user_orders(
        bot_data.db, user_id, page, page_size=keyboards.ORDERS_PER_PAGE
    )
    text = texts.orders_list(orders, bot_data.settings.currency)
    await show(update, context, text, keyboards.orders_keyboard(orders))


# --------------------------------------------------------------------------- handlers


async def orders_command(update: Update, context: Context) -> None:
    """List the customer's orders, newest first (/orders)."""
    user = update.effective_user
    if user is None:
        return
    await _show_page(update, context, user.id, 0)


async def orders_page(update: Update, context: Context) -> None:
    """Show a page of the customer's orders (the menu's My orders button and the pager)."""
    query, callback = tapped(update)
    await query.answer()
    await _show_page(update, context, query.from_user.id, callback.int_arg(0))


async def order_card(update: Update, context: Context) -> None:
    """Show one of the customer's orders in full."""
    query, order = await _own_order(update, context)
    if order is None:
        return
    await query.answer()
    # A status notice's "Open order" button opens the card below it: the notice stays.
    await _show_card(update, context, order, in_place=_tapped_in_my_orders(query))


def _tapped_in_my_orders(query: CallbackQuery) -> bool:
    """True when the tapped message is the order list or a card (they carry a Menu button)."""
    message = query.message
    if not isinstance(message, Message) or message.reply_markup is None:
        return False
    menu = encode(Action.MENU, MENU_MAIN)
    return any(
        button.callback_data == menu
        for row in message.reply_markup.inline_keyboard
        for button in row
    )


async def refresh(update: Update, context: Context) -> None:
    """Ask the panel for the order's status now and redraw its card."""
    query, order = await _own_order(update, context)
    if order is None:
        return
    await query.answer(_(texts.CHECKING_ALERT))
    bot_data = context.bot_data
    notice = None
    # Orders without a panel ID (being placed, held, not placed) have nothing to ask about.
    if order.panel_order_id is not None and order.panel in bot_data.panels:
        try:
            order = await status_sync.refresh_order(
                bot_data.db,
                bot_data.panels,
                order.order_id,
                admin_chat_ids=bot_data.settings.admin_ids,
            )
        except PanelError as e:
            log.info("refresh of order %d failed: %s", order.order_id, e)
            notice = _(texts.REFRESH_FAILED)
    await _show_card(update, context, order, notice)


async def refill(update: Update, context: Context) -> None:
    """Ask the panel to refill a completed order, once."""
    await _request(update, context, "refill")


async def cancel_order(update: Update, context: Context) -> None:
    """Ask the panel to cancel an order that has not finished, once."""
    await _request(update, context, "cancel")


async def _request(update: Update, context: Context, kind: str) -> None:
    """Send a refill or a cancel request for the tapped order, if it still allows one."""
    query, order = await _own_order(update, context)
    if order is None:
        return
    is_refill = kind == "refill"
    bot_data = context.bot_data
    async with _lock_for(context, order.order_id):
        actions, requests = await _actions(context, order)
        if any(r.kind == kind and _is_open(r) for r in requests):
            await query.answer(
                _(texts.REFILL_OPEN_ALERT) if is_refill else _(texts.CANCEL_OPEN_ALERT),
                show_alert=True,
            )
            return
        if not (actions.can_refill if is_refill else actions.can_cancel):
            log.info("user %s: %s not allowed for order %d", order.user_id, kind, order.order_id)
            await query.answer(
                _(texts.REFILL_NOT_ALLOWED_ALERT)
                if is_refill
                else _(texts.CANCEL_NOT_ALLOWED_ALERT),
                show_alert=True,
            )
            # Redraw so the button that no longer applies disappears.
            await _show_card(update, context, order)
            return
        await query.answer(texts.SENDING_ALERT)
        send = panel_requests.request_refill if is_refill else panel_requests.request_cancel
        try:
            request = await send(
                bot_data.db, bot_data.panels, order_id=order.order_id, user_id=order.user_id
            )
        except panel_requests.ActionRefused as e:
            log.info("%s of order %d refused: %s", kind, order.order_id, e)
            refused = texts.refill_refused if is_refill else texts.cancel_refused
            words = e.panel_words or notification_texts.request_refused(
                e.kind, e.reason, e.order_id, e.status
            )
            notice = refused(words)
        except PanelError as e:
            log.warning("%s of order %d failed: %s", kind, order.order_id, e)
            refused = texts.refill_refused if is_refill else texts.cancel_refused
            notice = refused(e.message)
        else:
            log.info("%s of order %d requested: %s", kind, order.order_id, request.status)
            notice = texts.refill_sent(request) if is_refill else texts.cancel_sent(request)
        order = await ordering.get_order(bot_data.db, order.order_id) or order
        await _show_card(update, context, order, notice)


def build_handlers() -> list[BaseHandler[Update, Context, Any]]:
    """The /orders command and the buttons of the order list and cards."""
    return [
        CommandHandler("orders", orders_command),
        CallbackQueryHandler(orders_page, pattern=pattern(Action.ORDERS)),
        CallbackQueryHandler(order_card, pattern=pattern(Action.ORDER_CARD)),
        CallbackQueryHandler(refresh, pattern=pattern(Action.REFRESH)),
        CallbackQueryHandler(refill, pattern=pattern(Action.REFILL)),
        CallbackQueryHandler(cancel_order, pattern=pattern(Action.CANCEL_ORDER)),
    ]
