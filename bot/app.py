"""Wiring: build the application, register handlers and jobs, open and close resources.

``run_polling`` calls ``initialize()`` (which loads persistence), then ``post_init`` =
``open_resources``, and at the end ``shutdown()`` then ``post_shutdown`` =
``close_resources``. Tests drive the same two functions by hand, since they start the
application without ``run_polling``.
"""

from __future__ import annotations

import logging
from contextlib import AsyncExitStack
from typing import Any, TypeVar

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

from bot import i18n, jobs, texts
from bot.builtin_sandbox import BuiltInSandbox
from bot.config import NO_TOKEN_MESSAGE, Settings, SettingsError
from bot.context import BotData, Component, Context
from bot.handlers import admin, errors, orders, payments, review, start, wallet
from bot.handlers import catalog as catalog_handlers
from bot.handlers import ordering as ordering_handlers
from bot.i18n import _
from bot.logs import announce_running
from bot.panels.base import PanelConfig
from bot.panels.registry import make_client
from bot.payment_jobs import PaymentJobs
from bot.persistence import SQLitePersistence
from bot.services import catalog, ordering
from bot.services.catalog import SyncReport
from bot.update_processor import PerUserUpdateProcessor
from storage.db import open_database

log = logging.getLogger(__name__)

# PTB's builder cannot carry the context type into JobQueue's parameter, hence Any there.
BotApplication = Application[
    ExtBot[Any], Context, dict[Any, Any], dict[Any, Any], BotData, JobQueue[Any]
]

C = TypeVar("C", bound=Component)


def rate_limiter() -> AIORateLimiter:
    """Pace requests evenly at Telegram's overall limit, retrying a 429 up to three times."""
    # One request per 1/28.5 s rather than PTB's default 30 per second: with many updates
    # handled at once, bursts of 30 overran Telegram's window, and each 429 then cascaded
    # (the limiter resumes every waiting request as soon as any one attempt ends).
    return AIORateLimiter(
        overall_max_rate=1, overall_time_period=1 / jobs.MESSAGES_PER_SECOND, max_retries=3
    )


def build_application(settings: Settings) -> BotApplication:
    """Build the bot: Bot API endpoints, defaults, persistence, handlers and lifecycle hooks."""
    if settings.telegram.bot_token is None or not settings.telegram.bot_token.get_secret_value():
        raise SettingsError(NO_TOKEN_MESSAGE)
    api = settings.telegram.api_base_url.rstrip("/")
    app: BotApplication = (
        Application.builder()
        .token(settings.telegram.bot_token.get_secret_value())
        .base_url(f"{api}/bot")
        .base_file_url(f"{api}/file/bot")
        .defaults(Defaults(parse_mode=ParseMode.HTML))
        .rate_limiter(rate_limiter())
        .context_types(ContextTypes(bot_data=BotData))
        .persistence(SQLitePersistence(settings.database_path))
        # Different users' updates at once, each user's in order (see bot/update_processor).
        .concurrent_updates(PerUserUpdateProcessor())
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
            timeout=settings.panels.timeout,
            user_agent=settings.panels.user_agent,
        )
        for panel in settings.panels.configured
    ]


async def open_resources(app: BotApplication) -> None:
    """Open the database and panels (starting the sandbox if no panel is set), then start the
    components: catalog sync (once now, in the background, then repeating), status sync, the
    outbox sender and the payment jobs; set the bot's commands."""
    bot_data = app.bot_data
    settings = bot_data.settings
    job_queue = app.job_queue
    if job_queue is None:
        raise RuntimeError(
            "the job queue is missing: install python-telegram-bot with its extras, "
            'pip install "python-telegram-bot[job-queue,rate-limiter]"'
        )
    stack = bot_data.exit_stack = AsyncExitStack()
    try:
        bot_data.db = await open_database(settings.database_path)
        stack.push_async_callback(_forget_database, bot_data)
        configs = _panel_configs(settings)
        if settings.use_sandbox:
            sandbox = bot_data.builtin_sandbox = await _start(stack, BuiltInSandbox(bot_data))
            configs.append(sandbox.panel_config())
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
        bot_data.catalog_sync = await _start(stack, jobs.CatalogSync(job_queue, bot_data))
        bot_data.status_sync = await _start(
            stack, jobs.status_polling(job_queue, settings.tracking.status_poll_interval)
        )
        bot_data.outbox_sender = await _start(
            stack, jobs.OutboxSender(app.bot, bot_data.db, bot_data.settings.currency)
        )
        bot_data.payment_jobs = await _start(stack, PaymentJobs(job_queue, bot_data))
    except BaseException:
        await close_resources(app)
        raise
    await set_commands(app, settings)
    log.info("resources open: panels %s", ", ".join(bot_data.panels) or "none")
    announce_running(app.bot.username, app.bot.first_name)


async def _start(stack: AsyncExitStack, component: C) -> C:
    """Start a component and have the stack stop it."""
    await component.start()
    stack.push_async_callback(component.stop)
    return component


async def _forget_database(bot_data: BotData) -> None:
    db = bot_data.db
    bot_data.db = None
    await db.close()


async def close_resources(app: BotApplication) -> None:
    """Stop the components, then close the panels, the sandbox and the database."""
    bot_data = app.bot_data
    stack, bot_data.exit_stack = bot_data.exit_stack, None
    if stack is not None:
        await stack.aclose()
    bot_data.builtin_sandbox = bot_data.catalog_sync = bot_data.status_sync = None
    bot_data.outbox_sender = bot_data.payment_jobs = None


async def wait_for_initial_sync(app: BotApplication) -> list[SyncReport]:
    """Wait for the catalog sync started by ``open_resources`` and return its reports."""
    catalog_sync = app.bot_data.catalog_sync
    return [] if catalog_sync is None else await catalog_sync.initial_sync()


def command_lists() -> dict[str, tuple[list[BotCommand], list[BotCommand]]]:
    """Each language's command lists (the users', the admins'), described in that language."""
    lists: dict[str, tuple[list[BotCommand], list[BotCommand]]] = {}
    for language in i18n.available_languages():
        with i18n.use(language):
            user_commands = [BotCommand(name, _(about)) for name, about in texts.USER_COMMANDS]
            admin_commands = user_commands + [
                BotCommand(name, _(about)) for name, about in texts.ADMIN_COMMANDS
            ]
        lists[language] = (user_commands, admin_commands)
    return lists


async def set_commands(app: BotApplication, settings: Settings) -> None:
    """Publish the command list in every language: the users' for everyone, plus the admin
    ones for admins. English is also the default, for clients in any other language."""
    for language, (user_commands, admin_commands) in command_lists().items():
        # Telegram shows a client the list for its language, else the one without a language.
        code = None if language == i18n.DEFAULT_LANGUAGE else language
        try:
            await app.bot.set_my_commands(user_commands, language_code=code)
        except TelegramError as e:
            log.warning("could not set the bot's commands (%s): %s", language, e)
            return
        for admin_id in sorted(settings.admin_ids):
            try:
                await app.bot.set_my_commands(
                    admin_commands, scope=BotCommandScopeChat(admin_id), language_code=code
                )
            except TelegramError as e:
                # Telegram refuses a chat scope until that admin has opened the bot once.
                log.warning("could not set the admin commands for %s: %s", admin_id, e)
