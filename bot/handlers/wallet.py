"""The Balance screen: the customer's balance and their latest ledger entries."""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot import keyboards, texts
from bot.callbacks import Action, pattern
from bot.context import Context
from bot.handlers import payments
from bot.handlers.common import remember_user, show, tapped
from bot.i18n import _
from bot.keyboards import payments as payment_keyboards
from bot.services import wallet
from bot.texts import payments as payment_texts

RECENT_ENTRIES = 5


async def balance_text(context: Context, user_id: int) -> str:
    """The balance screen's text for ``user_id``."""
    db = context.bot_data.db
    amount = await wallet.get_balance(db, user_id)
    entries = await wallet.recent_entries(db, user_id, limit=RECENT_ENTRIES)
    rows = [(e.amount, e.kind, e.reason, e.created_at) for e in entries]
    settings = context.bot_data.settings
    if payments.top_up_offered(context):
        text = texts.balance(
            amount, settings.currency, rows, how_to_add=_(payment_texts.HOW_TO_ADD)
        )
    else:
        text = texts.balance(amount, settings.currency, rows)
    return payment_texts.with_support(text, settings.support_contact)


def balance_keyboard(context: Context) -> InlineKeyboardMarkup:
    """Top up (when customers can) and the way back to the menu."""
    if payments.top_up_offered(context):
        return payment_keyboards.balance_keyboard()
    return keyboards.back_to_menu()


async def balance_command(update: Update, context: Context) -> None:
    """Show the balance and the latest entries."""
    user, _new = await remember_user(update, context)
    await show(
        update, context, await balance_text(context, user.user_id), balance_keyboard(context)
    )


async def balance_button(update: Update, context: Context) -> None:
    """Show the balance in place of the tapped message."""
    query, _callback = tapped(update)
    await query.answer()
    user, _new = await remember_user(update, context)
    await show(
        update, context, await balance_text(context, user.user_id), balance_keyboard(context)
    )


def build_handlers() -> list[BaseHandler[Update, Context, Any]]:
    """The /balance command and the Balance button."""
    return [
        CommandHandler("balance", balance_command),
        CallbackQueryHandler(balance_button, pattern=pattern(Action.BALANCE)),
    ]
