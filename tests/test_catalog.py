"""The catalog: sync from the sandbox panel over HTTP, platforms, prices, browsing, search."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.panels.models import OrderRequest, OrderType, Service
from bot.panels.sandbox import SandboxPanel
from bot.services import catalog
from bot.services.catalog import CatalogItem, platform_of, quote
from storage.db import Database
from tests.fakes.storage_fixtures import SANDBOX_KEY, SHOP_MARKUP, Shop, serve_panel


def _item(rate: str, price_rate: str, *, kind: OrderType = OrderType.DEFAULT) -> CatalogItem:
    service = Service(
        service_id="11",
        name="Instagram Followers [HQ]",
        type=kind,
        type_name=kind.value,
        category="Instagram Followers",
        rate=Decimal(rate),
        min=10,
        max=100_000,
        dripfeed=True,
    )
    return CatalogItem(
        1, "sandbox", service, "Instagram", 1, service.category, Decimal(price_rate)
    )


async def _all_items(db: Database) -> list[CatalogItem]:
    items: list[CatalogItem] = []
    for platform, _ in await catalog.list_platforms(db):
        categories = await catalog.list_categories(db, platform, 0, page_size=1000)
        for category in categories.items:
            items += (await catalog.list_services(db, category.category_id, 0, 1000)).items
    return items


# --------------------------------------------------------------------------- platforms


@pytest.mark.parametrize(
    ("category", "name", "platform"),
    [
        ("Instagram Followers [Refill 30D]", "", "Instagram"),
        ("YouTube Shorts Views", "", "YouTube"),
        ("Tik Tok Likes", "", "TikTok"),
        ("TELEGRAM Channel Members", "", "Telegram"),
        ("Twitter/X Retweets", "", "X (Twitter)"),
        ("X Followers", "", "X (Twitter)"),
        ("Facebook Page Likes", "", "Facebook"),
        ("Spotify Plays", "", "Spotify"),
        ("Threads Followers", "", "Threads"),
        ("Website Traffic [USA]", "", "Website Traffic"),
        ("Premium Services", "Instagram Likes | Real | 10K/Day", "Instagram"),
        ("New Services", "Best followers", "Other"),
        ("Followers 10x faster", "", "Other"),
    ],
)
def test_platform_comes_from_the_category_then_the_name(
    category: str, name: str, platform: str
) -> None:
    assert platform_of(category, name) == platform


# --------------------------------------------------------------------------- prices


def test_price_is_rounded_up_to_the_cent_and_cost_is_exact() -> None:
    item = _item("0.90", "1.125")
    request = OrderRequest("11", link="https://instagram.com/p/x", quantity=100)
    assert quote(item, request) == catalog.Quote(Decimal("0.12"), Decimal("0.09"), 100)
    request.quantity = 1000
    assert quote(item, request).price == Decimal("1.13")


def test_tiny_order_costs_at_least_a_cent() -> None:
    item = _item("0.001", "0.00125")
    request = OrderRequest("11", link="https://instagram.com/p/x", quantity=10)
    priced = quote(item, request)
    assert priced.price == Decimal("0.01")
    assert priced.cost == Decimal("0.00001")


def test_free_service_costs_nothing() -> None:
    item = _item("0", "0")
    request = OrderRequest("11", link="https://instagram.com/p/x", quantity=10)
    assert quote(item, request).price == Decimal(0)


def test_drip_feed_multiplies_by_runs_and_package_is_per_package() -> None:
    item = _item("2", "2.5")
    request = OrderRequest(
        "11", link="https://instagram.com/p/x", quantity=1000, runs=3, interval=10
    )
    assert quote(item, request).price == Decimal("7.50")
    package = _item("10", "12.345", kind=OrderType.PACKAGE)
    single = OrderRequest("11", type=OrderType.PACKAGE, link="https://instagram.com/p/x")
    assert quote(package, single) == catalog.Quote(Decimal("12.35"), Decimal(10), 1)


def test_markup_applies_per_panel_rate() -> None:
    assert catalog.price_rate_for(Decimal("0.90"), Decimal(25)) == Decimal("1.125")
    assert catalog.price_rate_for(Decimal("0.90"), Decimal(0)) == Decimal("0.90")


# --------------------------------------------------------------------------- sync


async def test_sync_stores_the_panels_catalog_with_markup(shop: Shop) -> None:
    items = await _all_items(shop.db)
    by_id = {item.service.service_id: item for item in items}
    served = {str(s.service_id): s for s in shop.sandbox.catalog}
    assert set(by_id) == set(served)
    for service_id, source in served.items():
        item = by_id[service_id]
        assert item.service.rate == source.rate
        assert item.price_rate == source.rate * (1 + SHOP_MARKUP / 100)
        assert item.service.type is source.type
        assert (item.service.min, item.service.max) == (source.min, source.max)
        assert item.category == source.category
        assert item.platform != "Other" or source.platform == "Other"
        assert await catalog.get_item(shop.db, item.item_id) == item
    platforms = dict(await catalog.list_platforms(shop.db))
    assert sum(platforms.values()) == len(served)
    assert {"Instagram", "YouTube", "Telegram", "TikTok"} <= set(platforms)


async def test_resync_keeps_item_numbers_and_reprices(shop: Shop) -> None:
    before = {i.service.service_id: i.item_id for i in await _all_items(shop.db)}
    reports = await catalog.sync_catalogs(shop.db, shop.panels, lambda _: Decimal(100))
    assert reports == [catalog.SyncReport("sandbox", True, len(before), None)]
    after = await _all_items(shop.db)
    assert {i.service.service_id: i.item_id for i in after} == before
    assert all(i.price_rate == i.service.rate * 2 for i in after)


async def test_failing_panel_keeps_its_last_catalog(shop: Shop) -> None:
    before = await catalog.list_platforms(shop.db)
    shop.sandbox.faults.add("http500", count=5)
    reports = await catalog.sync_catalogs(shop.db, shop.panels, lambda _: SHOP_MARKUP)
    assert len(reports) == 1
    assert not reports[0].ok
    assert "500" in (reports[0].error or "")
    assert await catalog.list_platforms(shop.db) == before


async def test_vanished_services_become_unavailable_but_stay_stored(db: Database) -> None:
    first = SandboxPanel(key=SANDBOX_KEY, catalog_size=120, balance=Decimal(10), seed=1)
    second = SandboxPanel(key=SANDBOX_KEY, catalog_size=40, balance=Decimal(10), seed=2)
    async with serve_panel(first, "main") as client:
        await catalog.sync_catalogs(db, {"main": client}, lambda _: Decimal(0))
    old = {i.service.service_id: i for i in await _all_items(db)}
    async with serve_panel(second, "main") as client:
        reports = await catalog.sync_catalogs(db, {"main": client}, lambda _: Decimal(0))
    new_ids = {str(s.service_id) for s in second.catalog}
    assert reports[0].services == len(new_ids)
    current = {i.service.service_id: i for i in await _all_items(db)}
    assert set(current) == new_ids
    gone = set(old) - new_ids
    assert gone
    for service_id in gone:
        assert await catalog.get_item(db, old[service_id].item_id) is None
    rows = await db.conn.execute_fetchall("SELECT COUNT(*) FROM services WHERE panel = 'main'")
    assert next(iter(rows))[0] == len(set(old) | new_ids)


async def test_one_panel_down_does_not_stop_the_others(db: Database) -> None:
    up = SandboxPanel(key=SANDBOX_KEY, catalog_size=30, balance=Decimal(10), seed=3)
    down = SandboxPanel(key=SANDBOX_KEY, catalog_size=30, balance=Decimal(10), seed=4)
    async with serve_panel(up, "up") as good, serve_panel(down, "down") as bad:
        down.faults.add("invalid_json", count=5)
        reports = await catalog.sync_catalogs(db, {"up": good, "down": bad}, lambda _: Decimal(10))
    assert [(r.panel, r.ok) for r in reports] == [("up", True), ("down", False)]
    assert reports[0].services == 30
    assert sum(count for _, count in await catalog.list_platforms(db)) == 30


async def test_a_5000_service_catalog_syncs_whole_twice(db: Database) -> None:
    # Timings live in bench/panels.py; here the large catalog must simply arrive complete.
    big = SandboxPanel(key=SANDBOX_KEY, catalog_size=5000, balance=Decimal(10), seed=5)
    async with serve_panel(big) as client:
        reports = await catalog.sync_catalogs(db, {"sandbox": client}, lambda _: Decimal(20))
        assert reports[0].services == 5000
        # The second sync updates every row in place.
        await catalog.sync_catalogs(db, {"sandbox": client}, lambda _: Decimal(20))
    assert sum(count for _, count in await catalog.list_platforms(db)) == 5000
    found = await catalog.search_services(db, "instagram followers", 0)
    assert found.total > 0


# --------------------------------------------------------------------------- browsing


async def test_categories_and_services_page_through_everything(shop: Shop) -> None:
    seen: list[str] = []
    for platform, count in await catalog.list_platforms(shop.db):
        first = await catalog.list_categories(shop.db, platform, 0, page_size=2)
        assert first.pages == -(-first.total // 2)
        in_platform = 0
        for page in range(first.pages):
            categories = await catalog.list_categories(shop.db, platform, page, page_size=2)
            assert categories.page == page
            for category in categories.items:
                assert category.platform == platform
                assert await catalog.get_category(shop.db, category.category_id) == category
                services = await catalog.list_services(shop.db, category.category_id, 0, 1000)
                assert services.total == category.service_count == len(services.items)
                assert {s.category_id for s in services.items} == {category.category_id}
                assert {s.platform for s in services.items} == {platform}
                in_platform += category.service_count
                seen += [s.service.service_id for s in services.items]
        assert in_platform == count
    served = [str(s.service_id) for s in shop.sandbox.catalog]
    assert sorted(seen) == sorted(served)


async def test_a_page_past_the_end_shows_the_last_page(shop: Shop) -> None:
    platform, _ = (await catalog.list_platforms(shop.db))[0]
    last = await catalog.list_categories(shop.db, platform, 999, page_size=3)
    assert last.page == last.pages - 1
    assert last.items
    nothing = await catalog.list_categories(shop.db, "Nowhere", 0)
    assert (nothing.items, nothing.page, nothing.pages, nothing.total) == ([], 0, 1, 0)


async def test_search_by_words_matches_all_words_in_any_case(shop: Shop) -> None:
    found = await catalog.search_services(shop.db, "  INSTAGRAM   followers ", 0, 100)
    expected = [
        str(s.service_id)
        for s in shop.sandbox.catalog
        if "instagram" in f"{s.name} {s.category}".casefold()
        and "followers" in f"{s.name} {s.category}".casefold()
    ]
    assert expected
    assert found.total == len(expected)
    assert sorted(i.service.service_id for i in found.items) == sorted(expected)
    assert (await catalog.search_services(shop.db, "instagram zzzz", 0)).total == 0
    assert (await catalog.search_services(shop.db, "   ", 0)).total == 0
    assert (await catalog.search_services(shop.db, "100%", 0)).total == 0


async def test_search_by_number_finds_panel_id_or_item_number(shop: Shop) -> None:
    source = shop.sandbox.catalog[-1]
    by_panel_id = await catalog.search_services(shop.db, str(source.service_id), 0)
    assert str(source.service_id) in {i.service.service_id for i in by_panel_id.items}
    item = next(i for i in by_panel_id.items if i.service.service_id == str(source.service_id))
    by_item = await catalog.search_services(shop.db, f"#{item.item_id}", 0)
    assert item in by_item.items
    assert (await catalog.search_services(shop.db, "99999999999999999999999", 0)).total == 0
