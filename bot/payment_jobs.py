"""Repeating payment work: the Telegram Stars reconciliation (and, when configured, the
Crypto Pay polling and webhook listener).

Durable state lives in the ``payments`` table; these jobs only compare and settle it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from aiohttp import web
from telegram import Bot, TransactionPartnerUser
from telegram.error import TelegramError

from bot.payments.cryptopay import (
    MAINNET_URL,
    TESTNET_URL,
    CryptoInvoice,
    CryptoPayClient,
    CryptoPayError,
)
from bot.payments.cryptopay_webhook import webhook_app
from bot.services import payments
from bot.services.payments import StarTransaction

if TYPE_CHECKING:
    from telegram.ext import Application

    from bot.context import BotData, Context

log = logging.getLogger(__name__)

STARS_RECONCILE_JOB = "stars-reconcile"
CRYPTO_POLL_JOB = "cryptopay-poll"
# Keys in ``bot_data.resources`` (the client's key is the one the handlers look up).
CRYPTO_CLIENT = "cryptopay_client"
CRYPTO_WEBHOOK = "cryptopay_webhook_runner"
CRYPTO_WEBHOOK_URL = "cryptopay_webhook_url"
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
    """Close expired Stars top-ups, then compare Telegram's Stars statement with our
    payments and alert the admins on differences."""
    bot_data = context.bot_data
    await payments.expire_stale_stars(bot_data.db)
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


async def poll_crypto_job(context: Context) -> None:
    """Ask Crypto Pay about open and recently expired invoices and credit the paid ones."""
    bot_data = context.bot_data
    client = bot_data.resources.get(CRYPTO_CLIENT)
    if not isinstance(client, CryptoPayClient):
        return
    settings = bot_data.settings
    try:
        credited = await payments.sync_crypto_invoices(
            bot_data.db,
            client,
            currency=settings.currency,
            admin_chat_ids=sorted(settings.admin_ids),
        )
    except CryptoPayError as e:
        log.warning("Crypto Pay polling failed: %s", e)
        return
    if credited:
        log.info("Crypto Pay polling credited %d payment(s)", credited)


def crypto_base_url(bot_data: BotData) -> str:
    """The Crypto Pay API to use: the configured one, else mainnet or testnet."""
    settings = bot_data.settings
    if settings.crypto_pay_api_url:
        return settings.crypto_pay_api_url
    return TESTNET_URL if settings.crypto_pay_testnet else MAINNET_URL


async def _start_crypto_webhook(bot_data: BotData, token: str) -> None:
    """Listen for Crypto Pay's signed updates where the settings say."""
    settings = bot_data.settings
    port = settings.crypto_pay_webhook_port
    if port is None:
        return

    async def on_paid(invoice: CryptoInvoice) -> None:
        await payments.apply_crypto_invoice(
            bot_data.db,
            invoice,
            currency=settings.currency,
            admin_chat_ids=sorted(settings.admin_ids),
        )

    app = webhook_app(token, on_paid, settings.crypto_pay_webhook_path)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, settings.crypto_pay_webhook_host, port)
    await site.start()
    bot_data.resources[CRYPTO_WEBHOOK] = runner
    host, bound = runner.addresses[0][:2]
    url = f"http://{host}:{bound}{settings.crypto_pay_webhook_path}"
    bot_data.resources[CRYPTO_WEBHOOK_URL] = url
    log.info("Crypto Pay webhook listening at %s", url)


async def start(app: Application[Any, Any, Any, Any, BotData, Any]) -> None:
    """Schedule the payment jobs and open Crypto Pay when configured (from ``post_init``)."""
    bot_data = app.bot_data
    settings = bot_data.settings
    job_queue = app.job_queue
    if job_queue is None:
        raise RuntimeError("the job queue is missing: install python-telegram-bot[job-queue]")
    if settings.stars_enabled:
        job_queue.run_repeating(
            reconcile_stars_job,
            interval=settings.stars_reconcile_interval,
            first=min(60.0, settings.stars_reconcile_interval),
            name=STARS_RECONCILE_JOB,
            job_kwargs={"max_instances": 1, "coalesce": True},
        )
    if settings.crypto_pay_enabled and settings.crypto_pay_token is not None:
        token = settings.crypto_pay_token.get_secret_value().strip()
        bot_data.resources[CRYPTO_CLIENT] = CryptoPayClient(
            token, base_url=crypto_base_url(bot_data), timeout=min(settings.panel_timeout, 15)
        )
        job_queue.run_repeating(
            poll_crypto_job,
            interval=settings.crypto_pay_poll_interval,
            first=min(5.0, settings.crypto_pay_poll_interval),
            name=CRYPTO_POLL_JOB,
            job_kwargs={"max_instances": 1, "coalesce": True},
        )
        await _start_crypto_webhook(bot_data, token)


async def stop(app: Application[Any, Any, Any, Any, BotData, Any]) -> None:
    """Close the webhook listener and the Crypto Pay client (before the database closes)."""
    resources = app.bot_data.resources
    runner = resources.pop(CRYPTO_WEBHOOK, None)
    resources.pop(CRYPTO_WEBHOOK_URL, None)
    if isinstance(runner, web.AppRunner):
        await runner.cleanup()
    client = resources.pop(CRYPTO_CLIENT, None)
    if isinstance(client, CryptoPayClient):
        await client.close()
