"""Wiring: build the application, register handlers and jobs, open and close resources.

``run_polling`` calls ``initialize()`` (which loads persistence), then ``post_init`` =
``open_resources``, and at the end ``shutdown()`` then ``post_shutdown`` =
``close_resources``. Tests drive the same two functions by hand, since they start the
application without ``run_polling``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from contextlib import AsyncExitStack
from typing import Any

from telegram import BotCommand, BotCommandScopeChat
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ContextTypes,
    Defaults,
    ExtBot,
    JobQueue,
)

from bot import jobs, payment_jobs, texts
from bot.config import NO_TOKEN_MESSAGE, SANDBOX_PANEL_NAME, Settings, SettingsError
from bot.context import BotData, Context
from bot.handlers import admin, errors, orders, payments, review, start, wallet
from bot.handlers import catalog as catalog_handlers
from bot.handlers import ordering as ordering_handlers
from bot.logs import announce_running
from bot.panels.base import PanelConfig
from bot.panels.registry import make_client
from bot.persistence import SQLitePersistence
from bot.services import catalog, ordering
from bot.services.catalog import SyncReport
from storage.db import open_database

log = logging.getLogger(__name__)

# PTB's builder cannot carry the context type into JobQueue's parameter, hence Any there.
BotApplication = Application[
    ExtBot[Any], Context, dict[Any, Any], dict[Any, Any], BotData, JobQueue[Any]
]

SANDBOX_KEY = "sandbox-key"
EXIT_STACK = "exit_stack"
INITIAL_SYNC = "initial_catalog_sync"
SANDBOX = "sandbox"
CATALOG_SYNC_JOB = "catalog-sync"


def build_application(settings: Settings) -> BotApplication:
    """Build the bot: Bot API endpoints, defaults, persistence, handlers and lifecycle hooks."""
    if settings.telegram_bot_token is None or not settings.telegram_bot_token.get_secret_value():
        raise SettingsError(NO_TOKEN_MESSAGE)
    api = settings.telegram_api_base_url.rstrip("/")
    app: BotApplication = (
        Application.builder()
        .token(settings.telegram_bot_token.get_secret_value())
        .base_url(f"{api}/bot")
        .base_file_url(f"{api}/file/bot")
        .defaults(Defaults(parse_mode=ParseMode.HTML))
        .rate_limiter(AIORateLimiter(max_retries=3))
        .context_types(ContextTypes(bot_data=BotData))
        .persistence(SQLitePersistence(settings.database_path))
        .post_init(open_resources)
        # post_shutdown also runs when post_init failed halfway, so everything gets closed.
        .post_shutdown(close_resources)
        .build()
    )
    app.bot_data.settings = settings
    # Group 0, first match wins: the conversations see their users' input first; the
    # catalog takes other typed text as a search, so only the catch-alls come after it.
    app.add_handlers(start.build_watchers(), group=-1)
    # Payments first: a successful payment or a top-up button must reach them whatever
    # conversation the customer is in.
    app.add_handlers(payments.build_payment_handlers())
    app.add_handler(payments.build_conversation(settings))
    app.add_handler(ordering_handlers.build_conversation(settings))
    app.add_handlers(review.build_handlers())
    app.add_handlers(start.build_handlers())
    app.add_handlers(wallet.build_handlers())
    app.add_handlers(orders.build_handlers())
    app.add_handlers(admin.build_handlers())
    app.add_handlers(payments.build_handlers())
    app.add_handlers(catalog_handlers.build_handlers())
    app.add_handlers(start.build_fallbacks())
    app.add_error_handler(errors.on_error)
    return app


def _panel_configs(settings: Settings) -> list[PanelConfig]:
    return [
        PanelConfig(
            name=panel.name,
            dialect=panel.dialect,
            url=panel.url,
            key=panel.key.get_secret_value(),
            timeout=settings.panel_timeout,
            user_agent=settings.panel_user_agent,
        )
        for panel in settings.panels
    ]


async def open_resources(app: BotApplication) -> None:
    """Open the database and panels (starting the sandbox if no panel is set), sync the
    catalogs in the background, start status tracking and the outbox sender, schedule the
    catalog sync job and set the bot's commands."""
    bot_data = app.bot_data
    settings = bot_data.settings
    job_queue = app.job_queue
    if job_queue is None:
        raise RuntimeError(
            "the job queue is missing: install python-telegram-bot with its extras, "
            'pip install "python-telegram-bot[job-queue,rate-limiter]"'
        )
    stack = AsyncExitStack()
    bot_data.resources[EXIT_STACK] = stack
    try:
        bot_data.db = await open_database(settings.database_path)
        stack.push_async_callback(_forget_database, bot_data)
        configs = _panel_configs(settings)
        if settings.use_sandbox:
            configs.append(await _start_sandbox(bot_data, stack))
        for config in configs:
            client = make_client(config)
            bot_data.panels[config.name] = client
            stack.push_async_callback(client.close)
        stack.callback(bot_data.panels.clear)
        await catalog.withdraw_unconfigured(bot_data.db, list(bot_data.panels))
        # Before any update is handled: this process has placed nothing yet, so every order
        # still "placing" was left by one that stopped mid-request.
        await ordering.hold_interrupted_placements(
            bot_data.db, review.held_alerts(bot_data), notify_customer=True
        )
    except BaseException:
        await stack.aclose()
        raise
    bot_data.resources[INITIAL_SYNC] = asyncio.create_task(
        _initial_sync(bot_data), name="initial catalog sync"
    )
    jobs.start_tracking(app)
    await payment_jobs.start(app)
    job_queue.run_repeating(
        catalog_sync_job,
        interval=settings.catalog_sync_interval,
        first=settings.catalog_sync_interval,
        name=CATALOG_SYNC_JOB,
    )
    await set_commands(app, settings)
    log.info("resources open: panels %s", ", ".join(bot_data.panels) or "none")
    announce_running(app.bot.username, app.bot.first_name)


async def _initial_sync(bot_data: BotData) -> list[SyncReport]:
    """Sync the catalogs once at start; a failure is logged, the bot keeps running."""
    try:
        return await admin.sync_catalogs_now(bot_data)
    except Exception:
        log.exception("the catalog sync at start failed; the repeating job will try again")
        return []


async def _start_sandbox(bot_data: BotData, stack: AsyncExitStack) -> PanelConfig:
    """Serve the in-process sandbox panel for as long as the stack is open."""
    # Imported here: a bot with real panels never loads the sandbox server.
    from bot.panels.sandbox import SandboxPanel

    settings = bot_data.settings
    sandbox = SandboxPanel(
        key=SANDBOX_KEY,
        catalog_size=settings.sandbox_catalog_size,
        balance=settings.sandbox_starting_balance,
        speed=settings.sandbox_speed,
    )
    await stack.enter_async_context(sandbox.serve(settings.sandbox_host, settings.sandbox_port))
    bot_data.resources[SANDBOX] = sandbox
    log.info("no panel configured: selling the built-in sandbox at %s", sandbox.url_for("v2"))
    return PanelConfig(
        name=SANDBOX_PANEL_NAME,
        dialect="v2",
        url=sandbox.url_for("v2"),
        key=SANDBOX_KEY,
        timeout=settings.panel_timeout,
        user_agent=settings.panel_user_agent,
    )


async def _forget_database(bot_data: BotData) -> None:
    db = bot_data.db
    bot_data.db = None
    await db.close()


async def close_resources(app: BotApplication) -> None:
    """Stop the background work and close the panels, the sandbox and the database."""
    await payment_jobs.stop(app)
    await jobs.stop_tracking(app)
    resources = app.bot_data.resources
    task = resources.pop(INITIAL_SYNC, None)
    if task is not None and not task.done():
        task.cancel()
    if task is not None:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
    stack: AsyncExitStack | None = resources.pop(EXIT_STACK, None)
    if stack is not None:
        await stack.aclose()
    resources.pop(SANDBOX, None)


async def wait_for_initial_sync(app: BotApplication) -> list[SyncReport]:
    """Wait for the catalog sync started by ``open_resources`` and return its reports."""
    task: asyncio.Task[list[SyncReport]] | None = app.bot_data.resources.get(INITIAL_SYNC)
    return [] if task is None else await asyncio.shield(task)


async def catalog_sync_job(context: Context) -> None:
    """Re-sync every panel's catalog (repeating job)."""
    await admin.sync_catalogs_now(context.bot_data)


async def set_commands(app: BotApplication, settings: Settings) -> None:
    """Publish the command list: the users' for everyone, plus the admin ones for admins."""
    user_commands = [BotCommand(name, about) for name, about in texts.USER_COMMANDS]
    admin_commands = user_commands + [BotCommand(n, a) for n, a in texts.ADMIN_COMMANDS]
    try:
        await app.bot.set_my_commands(user_commands)
    except TelegramError as e:
        log.warning("could not set the bot's commands: %s", e)
        return
    for admin_id in sorted(settings.admin_ids):
        try:
            await app.bot.set_my_commands(admin_commands, scope=BotCommandScopeChat(admin_id))
        except TelegramError as e:
            # Telegram refuses a chat scope until that admin has opened the bot once.
            log.warning("could not set the admin commands for %s: %s", admin_id, e)
