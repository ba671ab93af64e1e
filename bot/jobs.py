"""Repeating work: status sync with the panels and delivery of the notification outbox.

The outbox is delivered within Telegram's limits (about 28 messages a second overall, one a
second per chat). A flood wait (429) postpones the message by what Telegram asked and never
drops it; a user who blocked the bot is marked blocked and gets nothing more; other errors
are retried a few times with growing pauses, then the message is given up. Every outcome is
written to SQLite, so delivery carries on where it stopped after a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import warnings
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from telegram import Bot, InlineKeyboardMarkup, LinkPreviewOptions
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError

from bot import notices
from bot.services import catalog, notifications, panel_requests, status_sync, users
from bot.services.catalog import SyncReport
from storage import outbox as outbox_rows
from storage import users as user_rows
from storage.db import Database
from storage.outbox import OutboxMessage

if TYPE_CHECKING:
    from telegram.ext import Job, JobQueue

    from bot.context import BotData, Context

log = logging.getLogger(__name__)

STATUS_SYNC_JOB = "status-sync"
CATALOG_SYNC_JOB = "catalog-sync"

# Telegram allows about 30 a second; 28.5 keeps any one-second window at 29 sends or fewer.
MESSAGES_PER_SECOND = 28.5
# How many seconds of sending one round takes on at most (fewer rounds, fewer pauses).
ROUND_SECONDS = 5
# A hair over a second: Telegram counts per chat on its own clock, and requests jitter.
CHAT_INTERVAL = 1.05
MAX_ATTEMPTS = 5
RETRY_BASE = 5.0
RETRY_CAP = 15 * 60.0
IDLE_PAUSE = 0.25
BLOCKED = "the user blocked the bot"


class SendLimiter:
    """Spread sends out: at most ``per_second`` overall and one per ``chat_interval`` per chat.

    A sender waits ``wait_time(chat)`` and then calls ``take(chat)`` right before sending;
    slots are counted from when sends really start, so a late wake-up never bunches them.
    """

    def __init__(
        self,
        per_second: float = MESSAGES_PER_SECOND,
        chat_interval: float = CHAT_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if per_second <= 0 or chat_interval < 0:
            raise ValueError("per_second must be positive and chat_interval not negative")
        self.per_second = per_second
        self.chat_interval = chat_interval
        self._clock = clock
        self._next_slot = 0.0
        self._chat_next: dict[int, float] = {}

    def __repr__(self) -> str:
        return f"SendLimiter(per_second={self.per_second}, chat_interval={self.chat_interval})"

    def chat_ready(self, chat_id: int) -> bool:
        """True when the chat may receive a message now."""
        return self._chat_next.get(chat_id, 0.0) <= self._clock()

    def wait_time(self, chat_id: int) -> float:
        """Seconds until a message to this chat may start (0 when it may start now)."""
        start = max(self._next_slot, self._chat_next.get(chat_id, 0.0))
        return max(0.0, start - self._clock())

    def take(self, chat_id: int) -> None:
        """Count a send to this chat starting now."""
        now = self._clock()
        slot = 1 / self.per_second
        # A send that starts a little late keeps its slot (lateness must not add up over
        # thousands of sends); one that starts much later counts from now, so none bunch.
        late = now - self._next_slot
        self._next_slot = (
            self._next_slot if 0 <= late < slot / 2 else max(self._next_slot, now)
        ) + slot
        self._chat_next[chat_id] = now + self.chat_interval
        if len(self._chat_next) > 10_000:
            self._chat_next = {c: t for c, t in self._chat_next.items() if t > now}

    def hold(self, seconds: float, chat_id: int | None = None) -> None:
        """Send nothing (to one chat, or at all) for ``seconds``: Telegram asked us to wait."""
        until = self._clock() + max(seconds, 0.0)
        if chat_id is None:
            self._next_slot = max(self._next_slot, until)
        else:
            self._chat_next[chat_id] = max(self._chat_next.get(chat_id, 0.0), until)


def retry_after_seconds(error: RetryAfter) -> float:
    """The wait Telegram asked for, in seconds, whatever PTB's version returns."""
    with warnings.catch_warnings():
        # PTB 22 warns that the attribute becomes a timedelta; both are read here.
        warnings.simplefilter("ignore")
        value: Any = error.retry_after
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value)


async def deliver_outbox(
    bot: Bot,
    db: Database,
    *,
    limiter: SendLimiter,
    limit: int | None = None,
    currency: str = "USD",
) -> int:
    """Send one round of due messages within the limits, each notice rendered now in its
    reader's language; return how many were sent."""
    dropped = await outbox_rows.fail_pending_for_blocked(db, BLOCKED)
    if dropped:
        log.info("gave up %d message(s) to users who blocked the bot", dropped)
    size = limit or max(1, int(limiter.per_second * ROUND_SECONDS))
    due = [m for m in await notifications.due_messages(db, size) if limiter.chat_ready(m.chat_id)]
    if not due:
        return 0
    languages = await user_rows.languages_for_chats(db, {m.chat_id for m in due})
    # Start each send in its slot, one after another; the requests then run side by side.
    sends: list[asyncio.Task[int]] = []
    try:
        for message in due:
            wait = limiter.wait_time(message.chat_id)
            if wait > 0:
                await asyncio.sleep(wait)
            limiter.take(message.chat_id)
            language = languages.get(message.chat_id, notices.DEFAULT_LANGUAGE)
            sends.append(
                asyncio.create_task(
                    _send_one(bot, db, message, limiter, language=language, currency=currency)
                )
            )
    finally:
        # Even when cancelled, let the sends already started record their outcome.
        outcomes = await asyncio.shield(asyncio.gather(*sends)) if sends else []
    return sum(outcomes)


def _rendered(bot: Bot, message: OutboxMessage, language: str, currency: str) -> notices.Rendered:
    """The message as Telegram shows it: a notice rendered now, or the text queued."""
    if message.kind is not None:
        return notices.render(
            message.kind, message.data or {}, language=language, currency=currency
        )
    markup = (
        None
        if message.reply_markup is None
        else InlineKeyboardMarkup.de_json(message.reply_markup, bot)
    )
    return notices.Rendered(message.text or "", markup)


async def _send_one(
    bot: Bot,
    db: Database,
    message: OutboxMessage,
    limiter: SendLimiter,
    *,
    language: str,
    currency: str,
) -> int:
    """Send one message and record the outcome; 1 when it was sent."""
    try:
        rendered = _rendered(bot, message, language, currency)
    except Exception as e:
        # A notice this version cannot render (an unknown kind, broken data) never will be.
        log.exception("cannot render message %d (%s)", message.id, message.kind)
        await notifications.mark_failed(db, message.id, f"cannot render: {e}")
        return 0
    parse_mode = notifications.HTML if message.kind is not None else message.parse_mode
    try:
        await bot.send_message(
            message.chat_id,
            rendered.text,
            parse_mode=parse_mode,
            reply_markup=rendered.reply_markup,
            link_preview_options=LinkPreviewOptions(is_disabled=True),
        )
    except RetryAfter as e:
        wait = retry_after_seconds(e)
        log.warning("flood control: message %d waits %.1fs", message.id, wait)
        limiter.hold(wait)
        await notifications.postpone(db, message.id, wait, f"flood control: {e.message}")
        return 0
    except Forbidden as e:
        await _chat_blocked(db, message.chat_id, e.message)
        return 0
    except BadRequest as e:
        # Telegram refused this message itself (bad HTML, chat not found): trying again
        # would be refused the same way.
        log.error("Telegram refused message %d to %d: %s", message.id, message.chat_id, e)
        await notifications.mark_failed(db, message.id, e.message)
        return 0
    except TelegramError as e:
        await _retry_later(db, message, e.message)
        return 0
    except Exception as e:
        log.exception("sending message %d failed unexpectedly", message.id)
        await _retry_later(db, message, f"{type(e).__name__}: {e}")
        return 0
    await notifications.mark_sent(db, message.id)
    return 1


async def _retry_later(db: Database, message: OutboxMessage, error: str) -> None:
    attempts = message.attempts + 1
    if attempts >= MAX_ATTEMPTS:
        log.error("giving up message %d after %d attempts: %s", message.id, attempts, error)
        await notifications.mark_failed(db, message.id, error)
        return
    wait = min(RETRY_BASE * 3 ** (attempts - 1), RETRY_CAP)
    log.warning("message %d failed (%s); retry %d in %.0fs", message.id, error, attempts, wait)
    await notifications.postpone(db, message.id, wait, error, count_attempt=True)


async def _chat_blocked(db: Database, chat_id: int, error: str) -> None:
    """Mark the chat's user blocked and give up everything queued for them."""
    for user_id in await outbox_rows.user_ids_for_chat(db, chat_id):
        with contextlib.suppress(LookupError):
            await users.set_blocked(db, user_id, True)
    failed = await notifications.fail_chat(db, chat_id, f"{BLOCKED}: {error}")
    log.info("chat %d blocked the bot; gave up %d message(s)", chat_id, failed)


async def run_outbox_sender(
    bot: Bot,
    db: Database,
    *,
    limiter: SendLimiter,
    idle: float = IDLE_PAUSE,
    currency: str = "USD",
) -> None:
    """Deliver the outbox until cancelled, pausing briefly whenever nothing is due."""
    while True:
        try:
            sent = await deliver_outbox(bot, db, limiter=limiter, currency=currency)
        except asyncio.CancelledError:
            raise
        except Exception:
            # A database hiccup must not end delivery for good.
            log.exception("outbox delivery round failed")
            sent = 0
        if not sent:
            await asyncio.sleep(idle)


# --------------------------------------------------------------------------- lifecycle


class OutboxSender:
    """Deliver the outbox in the background from ``start`` to ``stop``."""

    def __init__(
        self, bot: Bot, db: Database, currency: str, limiter: SendLimiter | None = None
    ) -> None:
        self.bot = bot
        self.db = db
        self.currency = currency
        self.limiter = limiter or SendLimiter()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(
            run_outbox_sender(self.bot, self.db, limiter=self.limiter, currency=self.currency),
            name="outbox sender",
        )

    async def stop(self) -> None:
        """Stop sending (before the database closes); a send under way records its outcome."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


class RepeatingJob:
    """A job of the job queue, scheduled by ``start`` and removed by ``stop``; a run still
    going when the next is due is skipped rather than doubled."""

    def __init__(
        self,
        job_queue: JobQueue[Any],
        callback: Callable[[Context], Coroutine[Any, Any, None]],
        *,
        name: str,
        interval: float,
        first: float,
    ) -> None:
        self.job_queue = job_queue
        self.callback = callback
        self.name = name
        self.interval = interval
        self.first = first
        self._job: Job[Any] | None = None

    async def start(self) -> None:
        self._job = self.job_queue.run_repeating(
            self.callback,
            interval=self.interval,
            first=self.first,
            name=self.name,
            job_kwargs={"max_instances": 1, "coalesce": True},
        )

    async def stop(self) -> None:
        job, self._job = self._job, None
        # Once the application stopped, its job queue is shut down and the job with it.
        if job is not None and not job.removed and self.job_queue.scheduler.running:
            job.schedule_removal()


class CatalogSync:
    """Sync the catalogs once at start (in the background) and then every
    ``CATALOG_SYNC_INTERVAL``."""

    def __init__(self, job_queue: JobQueue[Any], bot_data: BotData) -> None:
        self.bot_data = bot_data
        interval = bot_data.settings.tracking.catalog_sync_interval
        self.job = RepeatingJob(
            job_queue, sync_catalogs_job, name=CATALOG_SYNC_JOB, interval=interval, first=interval
        )
        self._initial: asyncio.Task[list[SyncReport]] | None = None

    async def start(self) -> None:
        self._initial = asyncio.create_task(self._sync_at_start(), name="initial catalog sync")
        await self.job.start()

    async def _sync_at_start(self) -> list[SyncReport]:
        """Sync the catalogs once; a failure is logged, the bot keeps running."""
        try:
            return await sync_catalogs_now(self.bot_data)
        except Exception:
            log.exception("the catalog sync at start failed; the repeating job will try again")
            return []

    async def initial_sync(self) -> list[SyncReport]:
        """Wait for the sync started at start and return its reports."""
        return [] if self._initial is None else await asyncio.shield(self._initial)

    async def stop(self) -> None:
        await self.job.stop()
        task, self._initial = self._initial, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


def status_polling(job_queue: JobQueue[Any], interval: float) -> RepeatingJob:
    """The status-sync job: the first run soon after start, then every ``interval``."""
    return RepeatingJob(
        job_queue,
        sync_statuses_job,
        name=STATUS_SYNC_JOB,
        interval=interval,
        first=min(10.0, interval),
    )


# --------------------------------------------------------------------------- job callbacks


async def sync_catalogs_now(bot_data: BotData) -> list[SyncReport]:
    """Sync every panel's catalog, one sync at a time (the job and /sync share this)."""
    async with bot_data.catalog_sync_lock:
        return await catalog.sync_catalogs(
            bot_data.db, bot_data.panels, bot_data.settings.panels.markup_for
        )


async def sync_catalogs_job(context: Context) -> None:
    """Re-sync every panel's catalog (repeating job)."""
    await sync_catalogs_now(context.bot_data)


async def sync_statuses_job(context: Context) -> None:
    """Sync order statuses, then refill and cancel statuses, with every panel (repeating)."""
    bot_data = context.bot_data
    settings = bot_data.settings
    reports = await status_sync.sync_statuses(
        bot_data.db,
        bot_data.panels,
        concurrency=settings.panels.concurrency,
        health=bot_data.panel_health,
        admin_chat_ids=sorted(settings.admin_ids),
    )
    for report in reports:
        if report.error and not report.skipped:
            log.warning("status sync of %s: %s", report.panel, report.error)
    await panel_requests.sync_requests(bot_data.db, bot_data.panels)
