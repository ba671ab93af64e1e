"""/start, the main menu, /help, /menu, /cancel outside a conversation, unknown input."""

from __future__ import annotations

import logging
from typing import Any

from telegram import CallbackQuery, InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot import keyboards, texts
from bot.callbacks import Action, Callback, ForgedCallback, decode, pattern
from bot.context import Context
from bot.services import users, wallet
from bot.texts import payments as payment_texts
from storage.users import User

log = logging.getLogger(__name__)

WELCOME_CREDIT_REASON = "Sandbox trial credit"


async def remember_user(update: Update, context: Context) -> tuple[User, bool]:
    """Register the user behind this update (or refresh their names); say if they are new."""
    tg_user = update.effective_user
    chat = update.effective_chat
    if tg_user is None or chat is None:
        raise ValueError("this update has no user or chat to register")
    return await users.register_user(
        context.bot_data.db,
        user_id=tg_user.id,
        chat_id=chat.id,
        username=tg_user.username,
        first_name=tg_user.first_name,
    )


async def note_user_is_back(update: Update, context: Context) -> None:
    """Clear the blocked mark of a user who writes again, so notifications resume."""
    tg_user = update.effective_user
    if tg_user is None:
        return
    db = context.bot_data.db
    user = await users.get_user(db, tg_user.id)
    if user is not None and user.is_blocked:
        log.info("user %s is back after blocking the bot", user.user_id)
        await users.set_blocked(db, user.user_id, False)


async def show(
    update: Update, context: Context, text: str, markup: InlineKeyboardMarkup | None = None
) -> None:
    """Edit the tapped message into ``text``, or send ``text`` when the user typed something."""
    query = update.callback_query
    if query is not None:
        try:
            await query.edit_message_text(text, reply_markup=markup)
            return
        except BadRequest as e:
            # Tapping the button of what is already shown: Telegram refuses the no-op edit.
            if "not modified" in e.message:
                return
            # Too old or deleted to edit: the answer still belongs in the chat.
            log.info("could not edit message for user %s: %s", query.from_user.id, e)
    chat = update.effective_chat
    if chat is None:
        raise ValueError("this update has no chat to answer in")
    await context.bot.send_message(chat.id, text, reply_markup=markup)


async def decode_or_refuse(query: CallbackQuery) -> Callback | None:
    """Decode a button's payload; answer "no longer valid" and return None when it is forged."""
    try:
        return decode(query.data)
    except ForgedCallback as e:
        log.info("refused callback data %r from user %s: %s", query.data, query.from_user.id, e)
        await query.answer(texts.BUTTON_INVALID, show_alert=True)
        return None


def help_text(context: Context) -> str:
    """Help, with how to top up and whom to ask about payments."""
    settings = context.bot_data.settings
    text = texts.HELP
    if settings.stars_enabled or settings.manual_topup_enabled or settings.crypto_pay_enabled:
        text += "\n" + payment_texts.HELP_TOP_UP
    return payment_texts.with_support(text, settings.support_contact)


async def start(update: Update, context: Context) -> None:
    """Register the customer and show the main menu."""
    user, created = await remember_user(update, context)
    text = texts.welcome(user.first_name, new=created)
    settings = context.bot_data.settings
    trial = settings.sandbox_welcome_credit
    if created and settings.use_sandbox and trial > 0:
        await wallet.credit(context.bot_data.db, user.user_id, trial, reason=WELCOME_CREDIT_REASON)
        text += "\n\n" + texts.welcome_credit(trial, settings.currency)
    await show(update, context, text, keyboards.main_menu())


async def menu(update: Update, context: Context) -> None:
    """Show the main menu."""
    await remember_user(update, context)
    await show(update, context, texts.MAIN_MENU, keyboards.main_menu())


async def help_command(update: Update, context: Context) -> None:
    """Explain how ordering works."""
    await remember_user(update, context)
    await show(update, context, help_text(context), keyboards.back_to_menu())


async def cancel(update: Update, context: Context) -> None:
    """Say there is nothing to cancel (conversations handle their own /cancel first)."""
    await remember_user(update, context)
    await show(update, context, texts.NOTHING_TO_CANCEL, keyboards.main_menu())


async def menu_button(update: Update, context: Context) -> None:
    """Open a section of the menu in place of the tapped message."""
    query = update.callback_query
    if query is None:
        return
    callback = await decode_or_refuse(query)
    if callback is None:
        return
    await query.answer()
    if callback.args[0] == keyboards.MENU_HELP:
        await show(update, context, help_text(context), keyboards.back_to_menu())
    else:
        await show(update, context, texts.MAIN_MENU, keyboards.main_menu())


async def unknown_command(update: Update, context: Context) -> None:
    """Answer a command nobody handles with the main menu."""
    await show(update, context, texts.UNKNOWN_COMMAND, keyboards.main_menu())


async def stale_button(update: Update, context: Context) -> None:
    """Refuse a button no handler knows: an old message or a payload the bot never made."""
    query = update.callback_query
    if query is None:
        return
    log.info("no handler for callback data %r from user %s", query.data, query.from_user.id)
    await query.answer(texts.BUTTON_INVALID, show_alert=True)


def build_handlers() -> list[BaseHandler[Update, Context, Any]]:
    """The commands and menu buttons of this module."""
    return [
        CommandHandler("start", start),
        CommandHandler("menu", menu),
        CommandHandler("help", help_command),
        CommandHandler("cancel", cancel),
        CallbackQueryHandler(menu_button, pattern=pattern(Action.MENU)),
    ]


def build_watchers() -> list[BaseHandler[Update, Context, Any]]:
    """Handlers that look at every update before the others (register in an early group)."""
    return [TypeHandler(Update, note_user_is_back)]


def build_fallbacks() -> list[BaseHandler[Update, Context, Any]]:
    """Catch-alls, registered after every other handler of the group."""
    return [
        MessageHandler(filters.COMMAND, unknown_command),
        CallbackQueryHandler(stale_button),
    ]
