"""Repeating payment work: the Telegram Stars reconciliation (and, when configured, the
Crypto Pay polling and webhook listener).

Durable state lives in the ``payments`` table; these jobs only compare and settle it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from telegram import Bot, TransactionPartnerUser
from telegram.error import TelegramError

from bot.services import payments
from bot.services.payments import StarTransaction

if TYPE_CHECKING:
    from telegram.ext import Application

    from bot.context import BotData, Context

log = logging.getLogger(__name__)

STARS_RECONCILE_JOB = "stars-reconcile"
# getStarTransactions gives at most 100 a call; this many calls cover a busy shop's history.
STAR_PAGE = 100
STAR_PAGES = 50


async def fetch_star_transactions(bot: Bot) -> tuple[list[StarTransaction], bool]:
    """Telegram's Stars statement, page by page; (transactions, whether it is complete)."""
    found: list[StarTransaction] = []
    for page in range(STAR_PAGES):
        batch = await bot.get_star_transactions(offset=page * STAR_PAGE, limit=STAR_PAGE)
        for tx in batch.transactions:
            incoming = isinstance(tx.source, TransactionPartnerUser)
            partner = tx.source if incoming else tx.receiver
            user_id = partner.user.id if isinstance(partner, TransactionPartnerUser) else None
            found.append(
                StarTransaction(
                    charge_id=tx.id,
                    user_id=user_id,
                    stars=tx.amount,
                    incoming=incoming,
                    date=tx.date,
                )
            )
        if len(batch.transactions) < STAR_PAGE:
            return found, True
    return found, False


async def reconcile_stars_job(context: Context) -> None:
    """Compare Telegram's Stars statement with our payments; alert admins on differences."""
    bot_data = context.bot_data
    try:
        transactions, complete = await fetch_star_transactions(context.bot)
    except TelegramError as e:
        log.warning("could not read the Stars statement: %s", e)
        return
    await payments.reconcile_stars(
        bot_data.db,
        transactions,
        complete=complete,
        admin_chat_ids=sorted(bot_data.settings.admin_ids),
    )


def start(app: Application[Any, Any, Any, Any, BotData, Any]) -> None:
    """Schedule the payment jobs (call from ``post_init``)."""
    settings = app.bot_data.settings
    if app.job_queue is None:
        raise RuntimeError("the job queue is missing: install python-telegram-bot[job-queue]")
    if settings.stars_enabled:
        app.job_queue.run_repeating(
            reconcile_stars_job,
            interval=settings.stars_reconcile_interval,
            first=min(60.0, settings.stars_reconcile_interval),
            name=STARS_RECONCILE_JOB,
            job_kwargs={"max_instances": 1, "coalesce": True},
        )


async def stop(app: Application[Any, Any, Any, Any, BotData, Any]) -> None:
    """Stop what ``start`` began that the job queue does not stop itself."""
