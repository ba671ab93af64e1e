"""Browsing the catalog and searching it in the chat, against a sandbox with many categories."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest_asyncio

from bot import texts as common_texts
from bot.callbacks import Action, decode, encode
from bot.panels.sandbox import SandboxPanel
from bot.services import catalog
from bot.texts import ordering as texts
from tests.fakes.telegram_fixtures import BotEnv, FakeUser, Msg


@pytest_asyncio.fixture
async def sandbox() -> AsyncIterator[SandboxPanel]:
    """A bigger catalog than the default so categories and services span several pages."""
    panel = SandboxPanel(key="test-key", catalog_size=2000, balance=Decimal(1000), seed=7)
    async with panel.serve("127.0.0.1", 0):
        yield panel


async def started(env: BotEnv) -> FakeUser:
    user = env.user()
    await user.send("/start")
    return user


def item_ids(message: Msg) -> list[int]:
    """Catalog item numbers of the service buttons in a message."""
    found = []
    for row in message.buttons:
        for _text, data in row:
            if data is not None and data.startswith(Action.SERVICE.value + ":"):
                found.append(decode(data).int_arg(0))
    return found


async def test_the_catalog_lists_platforms_with_their_service_counts(bot_env: BotEnv) -> None:
    user = await started(bot_env)
    await user.tap(encode(Action.PLATFORMS, 0))  # the main menu's "New order"
    shown = user.last()
    assert "Choose a platform" in shown.text
    platforms = await catalog.list_platforms(bot_env.db)
    expected = [f"{name} ({count})" for name, count in platforms[:8]]
    assert [t for t in shown.button_texts if "(" in t] == expected
    assert texts.BTN_SEARCH in shown.button_texts


async def test_categories_page_forward_and_back(bot_env: BotEnv) -> None:
    env = bot_env
    user = await started(env)
    await user.send("/catalog")
    pages = {
        (name, count): await catalog.list_categories(env.db, name, 0, 8)
        for name, count in await catalog.list_platforms(env.db)
    }
    (name, count), first_page = max(pages.items(), key=lambda kv: kv[1].total)
    assert first_page.pages > 1, "the test catalog should give a platform several pages"

    await user.tap(f"{name} ({count})")
    page_one = user.last()
    assert f"{name}: {first_page.total} categories" in page_one.text
    assert f"1/{first_page.pages}" in page_one.button_texts
    shown = [t for t in page_one.button_texts if t.endswith(")")]
    assert shown == [f"{c.name} ({c.service_count})" for c in first_page.items]

    await user.tap(texts.BTN_NEXT)
    page_two = user.last()
    assert page_two.message_id == page_one.message_id  # the same message, edited
    assert f"2/{first_page.pages}" in page_two.button_texts
    second = await catalog.list_categories(env.db, name, 1, 8)
    assert f"{second.items[0].name} ({second.items[0].service_count})" in page_two.button_texts
    assert texts.BTN_PREVIOUS in page_two.button_texts

    await user.tap(texts.BTN_PREVIOUS)
    assert user.last().button_texts == page_one.button_texts


async def test_a_category_lists_its_services_and_a_card_shows_the_details(
    bot_env: BotEnv,
) -> None:
    env = bot_env
    user = await started(env)
    await user.send("/catalog")
    name, count = (await catalog.list_platforms(env.db))[0]
    await user.tap(f"{name} ({count})")
    category = (await catalog.list_categories(env.db, name, 0, 8)).items[0]
    await user.tap(f"{category.name} ({category.service_count})")

    listing = user.last()
    assert category.name in listing.text
    services = await catalog.list_services(env.db, category.category_id, 0, 8)
    assert item_ids(listing) == [item.item_id for item in services.items]

    item = services.items[0]
    await user.tap(encode(Action.SERVICE, item.item_id))
    card = user.last()
    service = item.service
    assert service.name in card.text
    unit = "per package" if service.spec.per_package else "per 1000"
    assert f"Price: {texts.rate(item.price_rate)} USD {unit}" in card.text
    if not service.spec.per_package:
        assert f"Order from {service.min:,} to {service.max:,}" in card.text
    assert f"Refill: {'✅ yes' if service.refill else '✖ no'}" in card.text
    assert f"Cancel: {'✅ yes' if service.cancel else '✖ no'}" in card.text
    assert f"Drip-feed: {'✅ yes' if service.dripfeed else '✖ no'}" in card.text
    assert card.data_for(texts.BTN_ORDER) == encode(Action.ORDER, item.item_id)

    await user.tap(texts.BTN_BACK)
    assert item_ids(user.last()) == item_ids(listing)


async def open_card(user: FakeUser, item_id: int) -> Msg:
    await user.send(f"/search {item_id}")
    await user.tap(encode(Action.SERVICE, item_id))
    return user.last()


async def test_cards_show_the_flags_each_service_really_has(bot_env: BotEnv) -> None:
    env = bot_env
    user = await started(env)
    items = []
    for platform, _count in await catalog.list_platforms(env.db):
        for category in (await catalog.list_categories(env.db, platform, 0, 500)).items:
            items += (await catalog.list_services(env.db, category.category_id, 0, 500)).items
    dripfeed = next(i for i in items if i.service.dripfeed)
    assert "Drip-feed: ✅ yes" in (await open_card(user, dripfeed.item_id)).text
    package = next(i for i in items if i.service.spec.per_package)
    card = await open_card(user, package.item_id)
    assert f"{texts.rate(package.price_rate)} USD per package" in card.text
    assert "Sold as a package" in card.text
    refill = next(i for i in items if i.service.refill and not i.service.cancel)
    card = await open_card(user, refill.item_id)
    assert "Refill: ✅ yes" in card.text and "Cancel: ✖ no" in card.text


async def test_search_by_words_pages_through_matching_services(bot_env: BotEnv) -> None:
    env = bot_env
    user = await started(env)
    await user.send("/search instagram followers")
    expected = await catalog.search_services(env.db, "instagram followers", 0, 8)
    assert expected.pages > 1
    first = user.last()
    assert f"instagram followers: {expected.total} services found" in first.text
    ids = item_ids(first)
    assert ids == [i.item_id for i in expected.items]
    for item_id in ids:
        item = await catalog.get_item(env.db, item_id)
        assert item is not None
        haystack = (item.service.name + " " + item.category).lower()
        assert "instagram" in haystack and "followers" in haystack

    await user.tap(texts.BTN_NEXT)
    second = await catalog.search_services(env.db, "instagram followers", 1, 8)
    assert item_ids(user.last()) == [i.item_id for i in second.items]


async def test_typed_text_outside_an_order_is_a_search(bot_env: BotEnv) -> None:
    env = bot_env
    user = await started(env)
    await user.send("tiktok")
    expected = await catalog.search_services(env.db, "tiktok", 0, 8)
    assert f"tiktok: {expected.total} services found" in user.last().text
    assert item_ids(user.last()) == [i.item_id for i in expected.items]


async def test_search_by_service_number(bot_env: BotEnv) -> None:
    env = bot_env
    user = await started(env)
    target = (await catalog.search_services(env.db, "youtube", 0, 8)).items[-1]
    await user.send(target.service.service_id)
    assert target.item_id in item_ids(user.last())
    await user.send(f"/search #{target.item_id}")
    assert target.item_id in item_ids(user.last())


async def test_search_with_no_results_says_so_and_escapes_the_words(bot_env: BotEnv) -> None:
    user = await started(bot_env)
    await user.send("/search <b>zzqx</b> nothing")
    shown = user.last()
    assert "Nothing matches <b>zzqx</b> nothing" in shown.text
    assert "&lt;b&gt;zzqx" in shown.html
    assert item_ids(shown) == []
    assert texts.BTN_PLATFORMS in shown.button_texts


async def test_the_search_button_asks_for_words(bot_env: BotEnv) -> None:
    user = await started(bot_env)
    await user.send("/catalog")
    await user.tap(texts.BTN_SEARCH)
    assert "Send words from the service's name" in user.last().text
    await user.send("/search")
    assert "Send words from the service's name" in user.last().text


async def test_bad_catalog_buttons_change_nothing(bot_env: BotEnv) -> None:
    user = await started(bot_env)
    await user.send("/catalog")
    catalog_message = user.last()
    await user.tap_data("c:abc:0", catalog_message)
    assert user.answers() == [common_texts.BUTTON_INVALID]
    assert user.last().text == catalog_message.text
    await user.tap_data(encode(Action.PLATFORM, 999, 0), catalog_message)
    assert texts.LIST_CHANGED in [m.text for m in user.replies()]
    await user.tap_data(encode(Action.SERVICE, 999999), user.last())
    assert user.last().text == texts.SERVICE_GONE
