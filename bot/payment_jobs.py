"""Repeating payment work: the Telegram Stars reconciliation (and, when configured, the
Crypto Pay polling and webhook listener).

Durable state lives in the ``payments`` table; these jobs only compare and settle it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from aiohttp import web
from telegram import Bot, TransactionPartnerUser
from telegram.error import TelegramError

from bot.jobs import RepeatingJob
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
    from telegram.ext import JobQueue

    from bot.context import BotData, Context

log = logging.getLogger(__name__)

STARS_RECONCILE_JOB = "stars-reconcile"
CRYPTO_POLL_JOB = "cryptopay-poll"
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
    client = bot_data.crypto_pay
    if client is None:
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
    if settings.crypto_pay.api_url:
        return settings.crypto_pay.api_url
    return TESTNET_URL if settings.crypto_pay.testnet else MAINNET_URL


class PaymentJobs:
    """The payment work from ``start`` to ``stop``: the Stars reconciliation job and, with a
    Crypto Pay token, the client (``bot_data.crypto_pay``), its polling job and the webhook
    listener."""

    def __init__(self, job_queue: JobQueue[Any], bot_data: BotData) -> None:
        self.job_queue = job_queue
        self.bot_data = bot_data
        self._jobs: list[RepeatingJob] = []
        self._webhook: web.AppRunner | None = None
        # Where the webhook listener really listens (its port may be picked at start).
        self.webhook_url: str | None = None

    async def start(self) -> None:
        bot_data = self.bot_data
        settings = bot_data.settings
        if settings.stars.enabled:
            interval = settings.stars.reconcile_interval
            await self._run(
                reconcile_stars_job, STARS_RECONCILE_JOB, interval, min(60.0, interval)
            )
        token = settings.crypto_pay.token
        if settings.crypto_pay.enabled and token is not None:
            secret = token.get_secret_value().strip()
            bot_data.crypto_pay = CryptoPayClient(
                secret,
                base_url=crypto_base_url(bot_data),
                timeout=min(settings.panels.timeout, 15),
            )
            interval = settings.crypto_pay.poll_interval
            await self._run(poll_crypto_job, CRYPTO_POLL_JOB, interval, min(5.0, interval))
            await self._start_webhook(secret)

    async def _run(
        self,
        callback: Callable[[Context], Coroutine[Any, Any, None]],
        name: str,
        interval: float,
        first: float,
    ) -> None:
        job = RepeatingJob(self.job_queue, callback, name=name, interval=interval, first=first)
        await job.start()
        self._jobs.append(job)

    async def _start_webhook(self, token: str) -> None:
        """Listen for Crypto Pay's signed updates where the settings say."""
        bot_data = self.bot_data
        settings = bot_data.settings
        port = settings.crypto_pay.webhook_port
        if port is None:
            return

        async def on_paid(invoice: CryptoInvoice) -> None:
            await payments.apply_crypto_invoice(
                bot_data.db,
                invoice,
                currency=settings.currency,
                admin_chat_ids=sorted(settings.admin_ids),
            )

        app = webhook_app(token, on_paid, settings.crypto_pay.webhook_path)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        self._webhook = runner
        site = web.TCPSite(runner, settings.crypto_pay.webhook_host, port)
        await site.start()
        host, bound = runner.addresses[0][:2]
        self.webhook_url = f"http://{host}:{bound}{settings.crypto_pay.webhook_path}"
        log.info("Crypto Pay webhook listening at %s", self.webhook_url)

    async def stop(self) -> None:
        """Close the webhook listener and the Crypto Pay client (before the database closes)."""
        for job in reversed(self._jobs):
            await job.stop()
        self._jobs.clear()
        runner, self._webhook = self._webhook, None
        self.webhook_url = None
        if runner is not None:
            await runner.cleanup()
        client, self.bot_data.crypto_pay = self.bot_data.crypto_pay, None
        if client is not None:
            await client.close()
