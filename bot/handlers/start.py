"""/start, the main menu, /help, /menu, /language, /cancel outside a conversation, unknown
input; the reader's language for every update."""

from __future__ import annotations

import logging
from typing import Any

from telegram import Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot import i18n, keyboards, texts
from bot.callbacks import Action, pattern
from bot.context import Context
from bot.handlers.common import refuse_button, remember_user, show, tapped
from bot.i18n import _
from bot.services import users, wallet
from bot.texts import payments as payment_texts

log = logging.getLogger(__name__)

WELCOME_CREDIT_REASON = "Sandbox trial credit"


async def note_user_is_back(update: Update, context: Context) -> None:
    """Speak the user's language for this update; clear the blocked mark of one who is back.

    The language is the one they chose (stored), else their Telegram's: set before any
    other handler runs, from the read this watcher makes anyway.
    """
    tg_user = update.effective_user
    if tg_user is None:
        i18n.set_language(None)
        return
    db = context.bot_data.db
    user = await users.get_user(db, tg_user.id)
    stored = None if user is None else user.language
    i18n.set_language(stored or tg_user.language_code)
    if user is not None and user.is_blocked:
        log.info("user %s is back after blocking the bot", user.user_id)
        await users.set_blocked(db, user.user_id, False)


def help_text(context: Context) -> str:
    """Help, with how to top up and whom to ask about payments."""
    settings = context.bot_data.settings
    text = _(texts.HELP)
    if settings.stars.enabled or settings.topup.manual_enabled or settings.crypto_pay.enabled:
        text += "\n" + _(payment_texts.HELP_TOP_UP)
    return payment_texts.with_support(text, settings.support_contact)


async def start(update: Update, context: Context) -> None:
    """Register the customer and show the main menu."""
    user, created = await remember_user(update, context)
    text = texts.welcome(user.first_name, new=created)
    settings = context.bot_data.settings
    trial = settings.sandbox.welcome_credit
    if created and settings.use_sandbox and trial > 0:
        await wallet.credit(context.bot_data.db, user.user_id, trial, reason=WELCOME_CREDIT_REASON)
        text += "\n\n" + texts.welcome_credit(trial, settings.currency)
    await show(update, context, text, keyboards.main_menu())


async def menu(update: Update, context: Context) -> None:
    """Show the main menu."""
    await remember_user(update, context)
    await show(update, context, _(texts.MAIN_MENU), keyboards.main_menu())


async def help_command(update: Update, context: Context) -> None:
    """Explain how ordering works."""
    await remember_user(update, context)
    await show(update, context, help_text(context), keyboards.back_to_menu())


async def cancel(update: Update, context: Context) -> None:
    """Say there is nothing to cancel (conversations handle their own /cancel first)."""
    await remember_user(update, context)
    await show(update, context, _(texts.NOTHING_TO_CANCEL), keyboards.main_menu())


async def menu_button(update: Update, context: Context) -> None:
    """Open a section of the menu in place of the tapped message."""
    query, callback = tapped(update)
    await query.answer()
    if callback.args[0] == keyboards.MENU_HELP:
        await show(update, context, help_text(context), keyboards.back_to_menu())
    elif callback.args[0] == keyboards.MENU_LANGUAGE:
        await show_languages(update, context)
    else:
        await show(update, context, _(texts.MAIN_MENU), keyboards.main_menu())


async def show_languages(update: Update, context: Context) -> None:
    """Offer the languages the bot speaks."""
    languages = keyboards.languages_keyboard(i18n.current_language())
    await show(update, context, _(texts.CHOOSE_LANGUAGE), languages)


async def language_command(update: Update, context: Context) -> None:
    """Offer the languages the bot speaks (/language)."""
    await remember_user(update, context)
    await show_languages(update, context)


async def choose_language(update: Update, context: Context) -> None:
    """Remember the language tapped and answer in it, with the main menu."""
    query, callback = tapped(update)
    language = str(callback.args[0])
    if language not in i18n.available_languages():
        await refuse_button(update, context, f"no language {language!r}")
        return
    await query.answer()
    user, _created = await remember_user(update, context)
    await users.choose_language(context.bot_data.db, user.user_id, language)
    i18n.set_language(language)
    text = _(texts.LANGUAGE_CHOSEN) + "\n\n" + _(texts.MAIN_MENU)
    await show(update, context, text, keyboards.main_menu())


async def unknown_command(update: Update, context: Context) -> None:
    """Answer a command nobody handles with the main menu."""
    await show(update, context, _(texts.UNKNOWN_COMMAND), keyboards.main_menu())


async def stale_button(update: Update, context: Context) -> None:
    """Refuse a button no handler knows: an old message or a payload the bot never made."""
    await refuse_button(update, context)


def build_handlers() -> list[BaseHandler[Update, Context, Any]]:
    """The commands and menu buttons of this module."""
    return [
        CommandHandler("start", start),
        CommandHandler("menu", menu),
        CommandHandler("help", help_command),
        CommandHandler("cancel", cancel),
        CommandHandler("language", language_command),
        CallbackQueryHandler(menu_button, pattern=pattern(Action.MENU)),
        CallbackQueryHandler(choose_language, pattern=pattern(Action.LANGUAGE)),
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
