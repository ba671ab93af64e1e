"""Admin review of orders whose outcome is unknown: /review, Mark placed, Mark failed.

An order the panel may or may not have received (a timeout, a 5xx after sending, a crash
mid-request) is held with the customer's money; so is one the panel stopped knowing. The
admin checks the panel and either types the panel's order ID (the order becomes pending and
status sync takes over) or marks it failed (the price is refunded). The customer is told
either way through the outbox, in the same transaction as the decision.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from telegram import Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.callbacks import Action, pattern
from bot.context import BotData, Context
from bot.handlers.common import (
    admin_command,
    admin_tap,
    button_press,
    customer_name,
    drop_buttons,
    drop_buttons_of,
    refuse_non_admin,
    send,
    sender,
)
from bot.i18n import _
from bot.keyboards import orders as keyboards
from bot.services import ordering, users
from bot.services.ordering import AdminAlerts
from bot.texts import orders as texts
from storage.orders import OrderRecord

log = logging.getLogger(__name__)

TYPING_PANEL_ID = "typing_panel_id"
END = ConversationHandler.END
REVIEW_ORDER_KEY = "review_order_id"
REVIEW_CARD_KEY = "review_card_message_id"
# Stop waiting for a typed panel ID after a while, so a later message is not taken for one.
REVIEW_TIMEOUT = 15 * 60
REVIEW_CARDS_SHOWN = 10
# Panel order IDs are numbers on every panel we know; allow a little more, never spaces.
PANEL_ORDER_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _user_data(context: Context) -> dict[Any, Any]:
    if context.user_data is None:
        raise RuntimeError("review conversation without user_data")
    return context.user_data


def _under_review(order: OrderRecord) -> bool:
    return order.status in (ordering.REVIEW, ordering.PLACING)


async def _checked_tap(update: Update, context: Context) -> OrderRecord | None:
    """Decode an admin's review button and load its order; refuse the tap otherwise."""
    tap = await admin_tap(update, context)
    if tap is None:
        return None
    query, callback = tap
    order_id = callback.int_arg(0)
    order = await ordering.get_order(context.bot_data.db, order_id)
    if order is None or not _under_review(order):
        await query.answer(texts.not_under_review_alert(order_id), show_alert=True)
        await drop_buttons(query)
        return None
    return order


async def _tell_customer(context: Context, order: OrderRecord | None, admin_id: int) -> bool:
    """Whether ``resolve_review`` queues the customer's notice with the decision: not when
    the order is the deciding admin's own (they read the reply), nor when the customer has
    blocked the bot."""
    if order is None or order.user_id == admin_id:
        return False
    customer = await users.get_user(context.bot_data.db, order.user_id)
    return customer is None or not customer.is_blocked


def held_alerts(bot_data: BotData) -> AdminAlerts:
    """Who hears about an order just held for review (the admins)."""
    return AdminAlerts(bot_data.settings.admin_ids)


# --------------------------------------------------------------------------- /review


async def review_command(update: Update, context: Context) -> int:
    """List the orders waiting for an admin's decision, one card each with its buttons."""
    message = await admin_command(update, context)
    if message is None:
        return END
    _user_data(context).pop(REVIEW_ORDER_KEY, None)
    db = context.bot_data.db
    held = await ordering.orders_for_review(db)
    currency = context.bot_data.settings.currency
    if not held:
        await message.reply_text(_(texts.NOTHING_TO_REVIEW))
        return END
    shown = held[:REVIEW_CARDS_SHOWN]
    await message.reply_text(texts.review_title(len(held), len(shown)))
    for order in shown:
        await message.reply_text(
            texts.review_card(order, await customer_name(context, order.user_id), currency),
            reply_markup=keyboards.review_keyboard(order.order_id),
        )
    return END


async def open_card(update: Update, context: Context) -> None:
    """Show one held order's review card, from the button of the admins' alert."""
    order = await _checked_tap(update, context)
    if order is None:
        return
    await button_press(update).answer()
    currency = context.bot_data.settings.currency
    await send(
        update,
        texts.review_card(order, await customer_name(context, order.user_id), currency),
        keyboards.review_keyboard(order.order_id),
    )


# --------------------------------------------------------------------------- Mark placed


async def ask_panel_id(update: Update, context: Context) -> str | int | None:
    """Ask the admin to type the panel's order ID of the held order they found."""
    order = await _checked_tap(update, context)
    if order is None:
        return None
    query = button_press(update)
    await query.answer()
    data = _user_data(context)
    data[REVIEW_ORDER_KEY] = order.order_id
    if query.message is not None:
        data[REVIEW_CARD_KEY] = query.message.message_id
    await send(update, texts.ask_panel_id(order))
    return TYPING_PANEL_ID


async def take_panel_id(update: Update, context: Context) -> str | int:
    """Mark the held order placed under the typed panel order ID and tell the customer."""
    message = update.effective_message
    admin = update.effective_user
    if message is None or admin is None:
        return TYPING_PANEL_ID
    # Admin rights may have been taken away mid-conversation.
    if await refuse_non_admin(update, context):
        return END
    data = _user_data(context)
    order_id = data.get(REVIEW_ORDER_KEY)
    if not isinstance(order_id, int):
        await message.reply_text(_(texts.REVIEW_STATE_LOST))
        return END
    panel_order_id = (message.text or "").strip()
    if not PANEL_ORDER_ID.fullmatch(panel_order_id):
        await message.reply_text(_(texts.BAD_PANEL_ID))
        return TYPING_PANEL_ID
    db = context.bot_data.db
    held = await ordering.get_order(db, order_id)
    notify = await _tell_customer(context, held, admin.id)
    told = notify or held is None or held.user_id == admin.id
    try:
        order = await ordering.resolve_review(
            db,
            order_id,
            panel_order_id=panel_order_id,
            admin_id=admin.id,
            notify_customer=notify,
        )
    except ordering.PanelOrderIdTaken as e:
        # Still waiting for the right ID.
        await message.reply_text(texts.panel_id_taken(str(e)))
        return TYPING_PANEL_ID
    except ordering.ReviewError as e:
        await message.reply_text(texts.not_under_review(str(e)))
        _forget(context)
        return END
    log.info("admin %d marked order %d placed as %s", admin.id, order_id, panel_order_id)
    who = await customer_name(context, order.user_id)
    card = data.get(REVIEW_CARD_KEY)
    if isinstance(card, int):
        await drop_buttons_of(context, message.chat_id, card)
    _forget(context)
    await message.reply_text(texts.marked_placed(order, who, told))
    return END


def _forget(context: Context) -> None:
    data = _user_data(context)
    data.pop(REVIEW_ORDER_KEY, None)
    data.pop(REVIEW_CARD_KEY, None)


async def stop(update: Update, context: Context) -> int:
    """Stop waiting for a panel order ID (/cancel); nothing changes."""
    _forget(context)
    if update.effective_message is not None:
        await update.effective_message.reply_text(_(texts.REVIEW_STOPPED))
    return END


async def timed_out(update: Update, context: Context) -> None:
    """Forget the order whose panel ID never came."""
    _forget(context)


# --------------------------------------------------------------------------- Mark failed


async def mark_failed(update: Update, context: Context) -> int | None:
    """Fail the held order, refund its price and tell the customer."""
    order = await _checked_tap(update, context)
    if order is None:
        return None
    query, admin = button_press(update), sender(update)
    await query.answer()
    _forget(context)
    db = context.bot_data.db
    currency = context.bot_data.settings.currency
    notify = await _tell_customer(context, order, admin.id)
    told = notify or order.user_id == admin.id
    try:
        order = await ordering.resolve_review(
            db, order.order_id, panel_order_id=None, admin_id=admin.id, notify_customer=notify
        )
    except ordering.ReviewError as e:
        await drop_buttons(query)
        await send(update, texts.not_under_review(str(e)))
        return END
    log.info("admin %d marked order %d failed", admin.id, order.order_id)
    who = await customer_name(context, order.user_id)
    await drop_buttons(query)
    await send(update, texts.marked_failed(order, who, currency, told))
    return END


def build_handlers() -> list[BaseHandler[Update, Context, Any]]:
    """/review, its Mark placed conversation (typing the panel ID) and Mark failed.

    The conversation must be registered before the catch-all handlers of its group, so the
    typed panel ID reaches it.
    """
    review: BaseHandler[Update, Context, Any] = CommandHandler("review", review_command)
    placed: BaseHandler[Update, Context, Any] = CallbackQueryHandler(
        ask_panel_id, pattern=pattern(Action.REVIEW)
    )
    failed: BaseHandler[Update, Context, Any] = CallbackQueryHandler(
        mark_failed, pattern=pattern(Action.REVIEW_FAILED)
    )
    states: dict[object, list[BaseHandler[Update, Context, Any]]] = {
        TYPING_PANEL_ID: [MessageHandler(filters.TEXT & ~filters.COMMAND, take_panel_id), placed],
        ConversationHandler.TIMEOUT: [TypeHandler(Update, timed_out)],
    }
    fallbacks: list[BaseHandler[Update, Context, Any]] = [
        CommandHandler("cancel", stop),
        review,
        failed,
    ]
    conversation: ConversationHandler[Context] = ConversationHandler(
        entry_points=[placed],
        states=states,
        fallbacks=fallbacks,
        name="review",
        persistent=True,
        per_message=False,
        conversation_timeout=REVIEW_TIMEOUT,
    )
    return [
        conversation,
        review,
        CallbackQueryHandler(mark_failed, pattern=pattern(Action.REVIEW_FAILED)),
        CallbackQueryHandler(open_card, pattern=pattern(Action.REVIEW_CARD)),
    ]
