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

from telegram import CallbackQuery, Update
from telegram.error import BadRequest
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot import texts as common_texts
from bot.callbacks import Action, ForgedCallback, decode, pattern
from bot.context import BotData, Context
from bot.i18n import _
from bot.keyboards import orders as keyboards
from bot.services import ordering, users
from bot.services.ordering import AdminAlerts, CustomerNotice, HeldNotice, OrderRecord
from bot.texts import ordering as ordering_texts
from bot.texts import orders as texts

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


def _is_admin(update: Update, context: Context) -> bool:
    user = update.effective_user
    return context.bot_data.is_admin(user.id if user else None)


def _user_data(context: Context) -> dict[Any, Any]:
    if context.user_data is None:
        raise RuntimeError("review conversation without user_data")
    return context.user_data


def _under_review(order: OrderRecord) -> bool:
    return order.status in (ordering.REVIEW, ordering.PLACING)


async def _checked_tap(update: Update, context: Context) -> OrderRecord | None:
    """Decode an admin's review button and load its order; refuse the tap otherwise."""
    query = update.callback_query
    if query is None:
        return None
    try:
        callback = decode(query.data)
    except ForgedCallback:
        log.info("refused callback data %r from user %s", query.data, query.from_user.id)
        await query.answer(_(texts.BUTTON_INVALID_ALERT), show_alert=True)
        return None
    if not _is_admin(update, context):
        log.info("refused review button from non-admin %s", query.from_user.id)
        await query.answer(_(texts.ADMIN_ONLY_ALERT), show_alert=True)
        return None
    order_id = callback.int_arg(0)
    order = await ordering.get_order(context.bot_data.db, order_id)
    if order is None or not _under_review(order):
        await query.answer(texts.not_under_review_alert(order_id), show_alert=True)
        await _drop_buttons(query)
        return None
    return order


async def _drop_buttons(query: CallbackQuery) -> None:
    """Take the buttons off a settled review card."""
    try:
        await query.edit_message_reply_markup(reply_markup=None)
    except BadRequest as e:
        log.debug("could not take the buttons off a review card: %s", e.message)


async def _customer_name(context: Context, user_id: int) -> str:
    customer = await users.get_user(context.bot_data.db, user_id)
    if customer is None:
        return f"customer <code>{user_id}</code>"
    return common_texts.customer(customer.first_name, customer.username, user_id)


async def _notice_for(
    context: Context, order: OrderRecord | None, admin_id: int, notice: CustomerNotice
) -> tuple[CustomerNotice | None, bool]:
    """The notice ``resolve_review`` queues with the decision, and whether the customer will
    be told: not when the order is the deciding admin's own (they read the reply), nor
    when the customer has blocked the bot (then told is False)."""
    if order is None or order.user_id == admin_id:
        return None, True
    customer = await users.get_user(context.bot_data.db, order.user_id)
    if customer is not None and customer.is_blocked:
        return None, False
    return notice, True


def held_alerts(bot_data: BotData) -> AdminAlerts:
    """How the admins hear about an order just held for review: the order, the reason and a
    button that opens its review card."""
    currency = bot_data.settings.currency

    def render(order: OrderRecord) -> tuple[str, dict[str, Any] | None]:
        markup = keyboards.open_review_keyboard(order.order_id).to_dict()
        return texts.admin_order_held(order, currency), markup

    return AdminAlerts(bot_data.settings.admin_ids, render)


def held_notice(bot_data: BotData) -> HeldNotice:
    """What the customer of an order held without an answer to their Confirm reads (an
    admin's own order: nothing, the admins' alert says it all)."""
    currency = bot_data.settings.currency

    def render(order: OrderRecord) -> str | None:
        if bot_data.is_admin(order.user_id):
            return None
        return ordering_texts.held(order, currency)

    return render


# --------------------------------------------------------------------------- /review


async def review_command(update: Update, context: Context) -> int:
    """List the orders waiting for an admin's decision, one card each with its buttons."""
    message = update.effective_message
    if message is None:
        return END
    if not _is_admin(update, context):
        user = update.effective_user
        log.info("refused /review from user %s", user.id if user else None)
        await message.reply_text(_(texts.ADMIN_ONLY))
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
            texts.review_card(order, await _customer_name(context, order.user_id), currency),
            reply_markup=keyboards.review_keyboard(order.order_id),
        )
    return END


async def open_card(update: Update, context: Context) -> None:
    """Show one held order's review card, from the button of the admins' alert."""
    order = await _checked_tap(update, context)
    if order is None:
        return
    query = update.callback_query
    assert query is not None
    await query.answer()
    chat = update.effective_chat
    if chat is None:
        return
    currency = context.bot_data.settings.currency
    await chat.send_message(
        texts.review_card(order, await _customer_name(context, order.user_id), currency),
        reply_markup=keyboards.review_keyboard(order.order_id),
    )


# --------------------------------------------------------------------------- Mark placed


async def ask_panel_id(update: Update, context: Context) -> str | int | None:
    """Ask the admin to type the panel's order ID of the held order they found."""
    order = await _checked_tap(update, context)
    if order is None:
        return None
    query = update.callback_query
    assert query is not None
    await query.answer()
    data = _user_data(context)
    data[REVIEW_ORDER_KEY] = order.order_id
    if query.message is not None:
        data[REVIEW_CARD_KEY] = query.message.message_id
    chat = update.effective_chat
    if chat is not None:
        await chat.send_message(texts.ask_panel_id(order))
    return TYPING_PANEL_ID


async def take_panel_id(update: Update, context: Context) -> str | int:
    """Mark the held order placed under the typed panel order ID and tell the customer."""
    message = update.effective_message
    admin = update.effective_user
    if message is None or admin is None:
        return TYPING_PANEL_ID
    if not _is_admin(update, context):
        # Admin rights were taken away mid-conversation.
        await message.reply_text(_(texts.ADMIN_ONLY))
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
    notice, told = await _notice_for(
        context,
        await ordering.get_order(db, order_id),
        admin.id,
        lambda settled, _balance: texts.customer_order_placed(settled),
    )
    try:
        order = await ordering.resolve_review(
            db, order_id, panel_order_id=panel_order_id, admin_id=admin.id, notify=notice
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
    who = await _customer_name(context, order.user_id)
    await _drop_card_buttons(context, message.chat_id, data.get(REVIEW_CARD_KEY))
    _forget(context)
    await message.reply_text(texts.marked_placed(order, who, told))
    return END


async def _drop_card_buttons(context: Context, chat_id: int, message_id: object) -> None:
    if not isinstance(message_id, int):
        return
    try:
        await context.bot.edit_message_reply_markup(chat_id, message_id, reply_markup=None)
    except BadRequest as e:
        log.debug("could not take the buttons off review card %d: %s", message_id, e.message)


async def _say(update: Update, text: str) -> None:
    chat = update.effective_chat
    if chat is not None:
        await chat.send_message(text)


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
    query = update.callback_query
    admin = update.effective_user
    assert query is not None and admin is not None
    await query.answer()
    _forget(context)
    db = context.bot_data.db
    currency = context.bot_data.settings.currency
    notice, told = await _notice_for(
        context,
        order,
        admin.id,
        lambda settled, balance: texts.customer_order_failed(settled, balance, currency),
    )
    try:
        order = await ordering.resolve_review(
            db, order.order_id, panel_order_id=None, admin_id=admin.id, notify=notice
        )
    except ordering.ReviewError as e:
        await _drop_buttons(query)
        await _say(update, texts.not_under_review(str(e)))
        return END
    log.info("admin %d marked order %d failed", admin.id, order.order_id)
    who = await _customer_name(context, order.user_id)
    await _drop_buttons(query)
    await _say(update, texts.marked_failed(order, who, currency, told))
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
