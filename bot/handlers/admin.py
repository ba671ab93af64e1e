"""Admin commands: /credit and /debit a customer's wallet, /sync the catalogs now, /panels,
/user; and /id, which tells anyone their Telegram ID (how a new owner finds theirs)."""

from __future__ import annotations

import logging
from decimal import Decimal
from html import escape
from typing import Any

from telegram import Update
from telegram.error import BadRequest, Forbidden
from telegram.ext import BaseHandler, CommandHandler

from bot import input_rules as rules
from bot import jobs, texts
from bot.context import Context
from bot.handlers.common import admin_command, sender
from bot.i18n import _
from bot.services import backoffice, payments, users, wallet
from bot.texts import payments as payment_texts

log = logging.getLogger(__name__)

# How long /panels waits for the panels' balances (all asked at once) before answering.
PANELS_TIME_LIMIT = 10.0


def parse_amount(text: str) -> Decimal | None:
    """Read an amount of money typed by an admin, or None when it is not a positive amount."""
    try:
        return rules.amount(text)
    except rules.InputError:
        return None


async def _change_balance(update: Update, context: Context, *, is_credit: bool) -> None:
    message = await admin_command(update, context)
    if message is None:
        return
    admin = sender(update)
    usage = _(texts.CREDIT_USAGE) if is_credit else _(texts.DEBIT_USAGE)
    args = context.args or []
    if len(args) < 3:
        await message.reply_text(usage)
        return
    try:
        ref = rules.user_ref(args[0])
    except rules.InputError as e:
        await message.reply_text(escape(e.message) + "\n\n" + usage)
        return
    try:
        amount = rules.amount(args[1])
    except rules.InputError as e:
        await message.reply_text(texts.bad_amount(args[1], e.message) + "\n\n" + usage)
        return
    try:
        reason = rules.reason(" ".join(args[2:]))
    except rules.InputError as e:
        await message.reply_text(escape(e.message) + "\n\n" + usage)
        return
    db = context.bot_data.db
    customer = await users.find_user(db, ref)
    if customer is None:
        await message.reply_text(texts.unknown_user(args[0]))
        return
    currency = context.bot_data.settings.currency
    who = texts.customer(customer.first_name, customer.username, customer.user_id)
    if is_credit:
        entry = await wallet.credit(db, customer.user_id, amount, reason=reason, admin_id=admin.id)
        reply = texts.credited(who, amount, entry.balance_after, currency)
        notice = texts.you_were_credited(amount, reason, entry.balance_after, currency)
    else:
        try:
            entry = await wallet.debit(
                db, customer.user_id, amount, reason=reason, admin_id=admin.id
            )
        except wallet.InsufficientBalance as e:
            await message.reply_text(texts.debit_too_large(who, amount, e.balance, currency))
            return
        reply = texts.debited(who, amount, entry.balance_after, currency)
        notice = texts.you_were_debited(amount, reason, entry.balance_after, currency)
    log.info(
        "admin %s %s %s for user %s: %s",
        admin.id,
        "credited" if is_credit else "debited",
        amount,
        customer.user_id,
        reason,
    )
    if customer.user_id != admin.id:
        try:
            await context.bot.send_message(customer.chat_id, notice)
        except (Forbidden, BadRequest) as e:
            log.info("could not tell user %s about the change: %s", customer.user_id, e)
            reply += "\n" + _(texts.NOT_NOTIFIED)
    await message.reply_text(reply)


async def credit(update: Update, context: Context) -> None:
    """Add money to a customer's balance: /credit <user> <amount> <reason…>."""
    await _change_balance(update, context, is_credit=True)


async def debit(update: Update, context: Context) -> None:
    """Take money from a customer's balance: /debit <user> <amount> <reason…>."""
    await _change_balance(update, context, is_credit=False)


async def sync(update: Update, context: Context) -> None:
    """Re-sync every panel's catalog now and report per panel."""
    message = await admin_command(update, context)
    if message is None:
        return
    if not context.bot_data.panels:
        await message.reply_text(_(texts.SYNC_NO_PANELS))
        return
    progress = await message.reply_text(_(texts.SYNC_STARTED))
    reports = await jobs.sync_catalogs_now(context.bot_data)
    rows = [(r.panel, r.ok, r.services, r.error) for r in reports]
    await progress.edit_text(texts.sync_report(rows))


async def panels(update: Update, context: Context) -> None:
    """Show each panel's balance, catalog, orders, status-sync health and actions."""
    message = await admin_command(update, context)
    if message is None:
        return
    bot_data = context.bot_data
    if not bot_data.panels:
        await message.reply_text(_(texts.PANELS_NONE))
        return
    progress = await message.reply_text(_(texts.PANELS_STARTED))
    time_limit = min(bot_data.settings.panels.timeout, PANELS_TIME_LIMIT)
    overview = await backoffice.panel_overview(
        bot_data.db, bot_data.panels, bot_data.panel_health, time_limit=time_limit
    )
    first, *more = texts.panels_report(overview, bot_data.settings.currency)
    await progress.edit_text(first)
    for text in more:
        await message.reply_text(text)


async def user(update: Update, context: Context) -> None:
    """Show a customer's details, balance, latest ledger entries and orders: /user <user>."""
    message = await admin_command(update, context)
    if message is None:
        return
    args = context.args or []
    if len(args) != 1:
        await message.reply_text(_(texts.USER_USAGE))
        return
    try:
        ref = rules.user_ref(args[0])
    except rules.InputError as e:
        await message.reply_text(escape(e.message) + "\n\n" + _(texts.USER_USAGE))
        return
    overview = await backoffice.customer_overview(context.bot_data.db, ref)
    if overview is None:
        await message.reply_text(texts.unknown_user(args[0]))
        return
    currency = context.bot_data.settings.currency
    recent = await payments.user_payments(context.bot_data.db, overview.user.user_id)
    await message.reply_text(
        texts.customer_report(overview, currency, payment_texts.payments_block(recent, currency))
    )


async def my_id(update: Update, context: Context) -> None:
    """Tell the sender their Telegram user ID (and, before any admin is set, about ADMIN_IDS)."""
    message = update.effective_message
    sender = update.effective_user
    if message is None or sender is None:
        return
    bot_data = context.bot_data
    await message.reply_text(
        texts.your_id(
            sender.id,
            is_admin=bot_data.is_admin(sender.id),
            owner_setup=not bot_data.settings.admin_ids,
        )
    )


def build_handlers() -> list[BaseHandler[Update, Context, Any]]:
    """The admin commands (each checks the caller itself, so others get a clear refusal),
    and /id for everyone."""
    return [
        CommandHandler("credit", credit),
        CommandHandler("debit", debit),
        CommandHandler("sync", sync),
        CommandHandler("panels", panels),
        CommandHandler("user", user),
        CommandHandler("id", my_id),
    ]
