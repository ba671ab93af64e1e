"""The plumbing every handler shares: the button press and its payload, the one refusal of a
button that is no longer valid, edit-or-send, the admin check and who is writing.

Like PTB's ``arbitrarycallbackdatabot``: ``tapped`` raises ``ForgedCallback`` for a payload
this bot could not have made (so does a handler that finds a payload's arguments impossible),
and ``refuse_button`` answers it, from the error handler and the catch-all alike, with one
text.
"""

from __future__ import annotations

import logging

from telegram import CallbackQuery, InlineKeyboardMarkup, Message, Update, User
from telegram.error import BadRequest, Forbidden, TelegramError

from bot import i18n, texts
from bot.callbacks import Callback, decode
from bot.context import Context
from bot.i18n import _
from bot.services import users
from storage.users import User as Customer

log = logging.getLogger(__name__)


def button_press(update: Update) -> CallbackQuery:
    """The button press this update carries (only button handlers ask)."""
    query = update.callback_query
    if query is None:
        raise ValueError("a button handler got an update without a button press")
    return query


def tapped(update: Update) -> tuple[CallbackQuery, Callback]:
    """The button press and its decoded payload; ``ForgedCallback`` when it is not ours."""
    query = button_press(update)
    return query, decode(query.data)


def sender(update: Update) -> User:
    """The Telegram user behind this update."""
    user = update.effective_user
    if user is None:
        raise ValueError("this update has no user")
    return user


async def remember_user(update: Update, context: Context) -> tuple[Customer, bool]:
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
        language=i18n.resolve(tg_user.language_code),
    )


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
            if "not modified" in e.message.lower():
                return
            # Too old or deleted to edit: the answer still belongs in the chat.
            log.info("could not edit message for user %s: %s", query.from_user.id, e)
    await send(update, text, markup)


async def send(
    update: Update, text: str, markup: InlineKeyboardMarkup | None = None
) -> Message | None:
    """Send ``text`` as a new message in the update's chat (None when it has no chat)."""
    chat = update.effective_chat
    if chat is None:
        return None
    return await chat.send_message(text, reply_markup=markup)


async def drop_buttons(query: CallbackQuery) -> None:
    """Take the buttons off the tapped message (it is settled); a failed edit only logs."""
    try:
        await query.edit_message_reply_markup(reply_markup=None)
    except BadRequest as e:
        log.debug("could not take the buttons off a message: %s", e.message)


async def drop_buttons_of(context: Context, chat_id: int, message_id: int) -> None:
    """Take the buttons off a message the bot sent earlier; a failed edit only logs."""
    try:
        await context.bot.edit_message_reply_markup(chat_id, message_id, reply_markup=None)
    except BadRequest as e:
        log.debug("could not take the buttons off message %d: %s", message_id, e.message)


async def tell(update: Update, context: Context, text: str) -> None:
    """Answer the button press with ``text`` as an alert if still possible, else send it."""
    query = update.callback_query
    if query is not None:
        try:
            await query.answer(text, show_alert=True)
            return
        except BadRequest:
            pass  # already answered before things went wrong: say it in the chat
    chat = update.effective_chat
    if chat is None:
        return
    try:
        await context.bot.send_message(chat.id, text)
    except (Forbidden, BadRequest) as e:
        log.info("could not tell chat %s: %s", chat.id, e)
    except TelegramError as e:
        log.warning("could not tell chat %s: %s", chat.id, e)


async def refuse_button(update: Update, context: Context, why: object = "") -> None:
    """Say a forged or stale button is no longer valid: the one answer to every such tap."""
    query = update.callback_query
    log.info(
        "refused button %r from user %s: %s",
        query.data if query else None,
        query.from_user.id if query else None,
        why or "no handler takes it",
    )
    await tell(update, context, _(texts.BUTTON_INVALID))


def is_admin(update: Update, context: Context) -> bool:
    """True when the update comes from one of the shop's administrators."""
    user = update.effective_user
    return context.bot_data.is_admin(user.id if user else None)


async def refuse_non_admin(update: Update, context: Context) -> bool:
    """Refuse an admin-only command or button to anyone else; True when refused."""
    if is_admin(update, context):
        return False
    user = update.effective_user
    query = update.callback_query
    log.info(
        "refused admin %s from user %s",
        f"button {query.data!r}" if query else "command",
        user.id if user else None,
    )
    if query is not None:
        await query.answer(_(texts.ADMIN_ONLY_BUTTON), show_alert=True)
    elif update.effective_message is not None:
        await update.effective_message.reply_text(_(texts.ADMIN_ONLY))
    return True


async def admin_tap(update: Update, context: Context) -> tuple[CallbackQuery, Callback] | None:
    """The press and payload of an admin-only button; None (after refusing) for anyone else."""
    query, callback = tapped(update)
    if await refuse_non_admin(update, context):
        return None
    return query, callback


async def customer_name(context: Context, user_id: int) -> str:
    """Name a customer for an admin (HTML); by ID alone when the bot does not know them."""
    customer = await users.get_user(context.bot_data.db, user_id)
    if customer is None:
        return f"customer <code>{user_id}</code>"
    return texts.customer(customer.first_name, customer.username, user_id)


async def admin_command(update: Update, context: Context) -> Message | None:
    """The message of an admin-only command; None (after refusing) for anyone else."""
    message = update.effective_message
    if message is None or await refuse_non_admin(update, context):
        return None
    return message
