"""Browsing the catalog (platform → category → service card) and searching it.

Search: the 🔎 Search button asks for words; ``/search <words>`` searches at once; and any
plain text typed outside a conversation is taken as a search too (words from the service's
name or category, or a service number). That catch-all text handler must be registered
after every conversation in the same handler group, so text typed inside an order form never
reaches it.
"""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot import input_rules as rules
from bot.callbacks import Action, pattern
from bot.context import Context
from bot.handlers.common import button_press, send, show, tapped
from bot.i18n import _
from bot.keyboards import ordering as keyboards
from bot.services import catalog
from bot.texts import ordering as texts

PAGE_SIZE = 8
SEARCH_QUERY_KEY = "search_query"
MAX_QUERY_LENGTH = 100


async def show_platforms(update: Update, context: Context, page: int = 0) -> None:
    """Show the catalog's platforms (page ``page``)."""
    platforms = await catalog.list_platforms(context.bot_data.db)
    if not platforms:
        await show(update, context, _(texts.CATALOG_EMPTY))
        return
    pages = max(1, -(-len(platforms) // keyboards.PLATFORMS_PER_PAGE))
    page = min(max(page, 0), pages - 1)
    await show(
        update, context, _(texts.CHOOSE_PLATFORM), keyboards.platforms_keyboard(platforms, page)
    )


async def catalog_command(update: Update, context: Context) -> None:
    """Open the catalog at its first page of platforms."""
    await show_platforms(update, context)


async def platforms_button(update: Update, context: Context) -> None:
    """Show a page of platforms."""
    query, callback = tapped(update)
    await query.answer()
    await show_platforms(update, context, callback.int_arg(0))


async def platform_button(update: Update, context: Context) -> None:
    """Show a page of one platform's categories."""
    query, callback = tapped(update)
    await query.answer()
    index, page = callback.int_arg(0), callback.int_arg(1)
    db = context.bot_data.db
    platforms = await catalog.list_platforms(db)
    if index >= len(platforms):
        await send(update, _(texts.LIST_CHANGED))
        await show_platforms(update, context)
        return
    platform = platforms[index][0]
    categories = await catalog.list_categories(db, platform, page, PAGE_SIZE)
    if page >= categories.pages:
        categories = await catalog.list_categories(db, platform, categories.pages - 1, PAGE_SIZE)
    await show(
        update,
        context,
        texts.categories_title(platform, categories.total),
        keyboards.categories_keyboard(index, categories),
    )


async def category_button(update: Update, context: Context) -> None:
    """Show a page of one category's services."""
    query, callback = tapped(update)
    await query.answer()
    category_id, page = callback.int_arg(0), callback.int_arg(1)
    db = context.bot_data.db
    category = await catalog.get_category(db, category_id)
    if category is None:
        await send(update, _(texts.LIST_CHANGED))
        await show_platforms(update, context)
        return
    services = await catalog.list_services(db, category_id, page, PAGE_SIZE)
    if page >= services.pages:
        services = await catalog.list_services(db, category_id, services.pages - 1, PAGE_SIZE)
    platforms = [name for name, _count in await catalog.list_platforms(db)]
    platform_index = platforms.index(category.platform) if category.platform in platforms else None
    currency = context.bot_data.settings.currency
    await show(
        update,
        context,
        texts.services_title(category),
        keyboards.category_services_keyboard(category_id, platform_index, services, currency),
    )


async def service_button(update: Update, context: Context) -> None:
    """Show a service's card with its price, limits and options, and an Order button."""
    query, callback = tapped(update)
    await query.answer()
    item = await catalog.get_item(context.bot_data.db, callback.int_arg(0))
    if item is None:
        await send(update, _(texts.SERVICE_GONE))
        return
    currency = context.bot_data.settings.currency
    await show(
        update, context, texts.service_card(item, currency), keyboards.service_card_keyboard(item)
    )


async def search_button(update: Update, context: Context) -> None:
    """Ask for the words (or number) to search for."""
    query, _callback = tapped(update)
    await query.answer()
    await send(update, _(texts.SEARCH_PROMPT))


async def search_command(update: Update, context: Context) -> None:
    """Search for ``/search <words>``, or ask for the words when none were given."""
    words = " ".join(context.args or []).strip()
    if not words:
        await show(update, context, _(texts.SEARCH_PROMPT))
        return
    await _search_typed(update, context, words)


async def search_text(update: Update, context: Context) -> None:
    """Take text typed outside a conversation as a search."""
    message = update.effective_message
    if message is None or not message.text:
        return
    await _search_typed(update, context, message.text)


async def _search_typed(update: Update, context: Context, words: str) -> None:
    """Search for what the user typed, unless it carries control characters."""
    try:
        rules.check_text(words, _(texts.THE_SEARCH), max_length=rules.MAX_TYPED, multiline=True)
    except rules.InputError as e:
        await show(update, context, texts.search_refused(e.message))
        return
    await run_search(update, context, words)


async def run_search(update: Update, context: Context, words: str, page: int = 0) -> None:
    """Search the catalog and show a page of results (the query is kept for paging)."""
    words = " ".join(words.split())[:MAX_QUERY_LENGTH]
    user_data: dict[str, Any] = context.user_data if context.user_data is not None else {}
    user_data[SEARCH_QUERY_KEY] = words
    results = await catalog.search_services(context.bot_data.db, words, page, PAGE_SIZE)
    if results.total == 0:
        await show(update, context, texts.no_results(words), keyboards.no_results_keyboard())
        return
    if page >= results.pages:
        results = await catalog.search_services(
            context.bot_data.db, words, results.pages - 1, PAGE_SIZE
        )
    currency = context.bot_data.settings.currency
    await show(
        update,
        context,
        texts.search_title(words, results.total),
        keyboards.search_results_keyboard(results, currency),
    )


async def search_page_button(update: Update, context: Context) -> None:
    """Show another page of the last search's results."""
    query, callback = tapped(update)
    await query.answer()
    words = (context.user_data or {}).get(SEARCH_QUERY_KEY)
    if not isinstance(words, str) or not words:
        await send(update, _(texts.SEARCH_EXPIRED))
        return
    await run_search(update, context, words, callback.int_arg(0))


async def noop_button(update: Update, context: Context) -> None:
    """Answer a tap on a page counter (it leads nowhere)."""
    await button_press(update).answer()


def build_handlers() -> list[BaseHandler[Update, Context, None]]:
    """Return the catalog's handlers; register them after the order conversation."""
    private_text = filters.TEXT & ~filters.COMMAND & filters.ChatType.PRIVATE
    return [
        CommandHandler("catalog", catalog_command),
        CommandHandler("search", search_command),
        CallbackQueryHandler(platforms_button, pattern=pattern(Action.PLATFORMS)),
        CallbackQueryHandler(platform_button, pattern=pattern(Action.PLATFORM)),
        CallbackQueryHandler(category_button, pattern=pattern(Action.CATEGORY)),
        CallbackQueryHandler(service_button, pattern=pattern(Action.SERVICE)),
        CallbackQueryHandler(search_button, pattern=pattern(Action.SEARCH)),
        CallbackQueryHandler(search_page_button, pattern=pattern(Action.SEARCH_PAGE)),
        CallbackQueryHandler(noop_button, pattern=pattern(Action.NOOP)),
        MessageHandler(private_text, search_text),
    ]
