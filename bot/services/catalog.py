"""The shop's catalog: sync from the panels, markup, platforms, browsing and search.

A sync writes each panel's catalog in one transaction. A panel that fails (or answers with
an empty list) keeps its last good catalog; services a panel no longer lists are marked
unavailable rather than deleted, because old orders still point at them.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

from bot.panels.base import PanelClient
from bot.panels.errors import PanelError
from bot.panels.models import OrderRequest, OrderType, Service, order_price
from bot.services.common import Page, page_window
from storage import catalog as catalog_rows
from storage.db import Database, money_text, now_text

log = logging.getLogger(__name__)

CENT = Decimal("0.01")
OTHER = "Other"
MAX_SEARCH_WORDS = 8


@dataclass(frozen=True, slots=True)
class CatalogItem:
    """A service as the shop sells it: the panel's data plus our number, platform and price."""

    item_id: int
    panel: str
    service: Service
    platform: str
    category_id: int
    category: str
    price_rate: Decimal


@dataclass(frozen=True, slots=True)
class CategoryInfo:
    """A category with the number of services it offers now."""

    category_id: int
    platform: str
    name: str
    service_count: int


@dataclass(frozen=True, slots=True)
class SyncReport:
    """How one panel's catalog sync went."""

    panel: str
    ok: bool
    services: int
    error: str | None


@dataclass(frozen=True, slots=True)
class Quote:
    """What an order costs the customer (``price``) and what the panel should charge us."""

    price: Decimal
    cost: Decimal
    quantity: int


# The first pattern that matches the (casefolded) category, else the service name, wins;
# Threads comes before Instagram and website traffic before Google on purpose.
_PLATFORMS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern))
    for name, pattern in (
        ("Threads", r"\bthreads\b"),
        ("Instagram", r"instagram|\binsta\b|\big\b"),
        ("YouTube", r"you\s?tube|\byt\b"),
        ("TikTok", r"tik\s?tok"),
        ("Telegram", r"telegram|\btg\b"),
        ("X (Twitter)", r"twitter|\btweets?\b|\bx\.com\b|^x\b|\bx\s*\("),
        ("Facebook", r"facebook|\bfb\b"),
        ("Spotify", r"spotify"),
        ("Twitch", r"twitch"),
        ("Discord", r"discord"),
        ("Snapchat", r"snapchat"),
        ("LinkedIn", r"linked\s?in"),
        ("Pinterest", r"pinterest"),
        ("SoundCloud", r"sound\s?cloud"),
        ("Reddit", r"reddit"),
        ("Kick", r"\bkick\b"),
        ("VK", r"\bvk\b|vkontakte"),
        ("WhatsApp", r"whats\s?app"),
        ("Quora", r"quora"),
        ("Tumblr", r"tumblr"),
        ("Apple Music", r"apple\s?music|itunes"),
        ("Deezer", r"deezer"),
        ("Audiomack", r"audiomack"),
        ("Shazam", r"shazam"),
        ("Vimeo", r"vimeo"),
        ("Dailymotion", r"dailymotion"),
        ("Rumble", r"rumble"),
        ("Likee", r"likee"),
        ("Kwai", r"kwai"),
        ("Website Traffic", r"website|web\s?traffic|\btraffic\b"),
        ("Google", r"google"),
    )
)


def platform_of(category: str, service_name: str = "") -> str:
    """Name the platform a service is for, from its category first, then its name."""
    for text in (category, service_name):
        folded = text.casefold().strip()
        for name, pattern in _PLATFORMS:
            if pattern.search(folded):
                return name
    return OTHER


def price_rate_for(rate: Decimal, markup_percent: Decimal) -> Decimal:
    """The customer's rate: the panel's rate plus the markup (exact, rounded when quoted)."""
    return rate * (1 + markup_percent / 100)


def quote(item: CatalogItem, request: OrderRequest) -> Quote:
    """Price an order: the customer's price rounded up to the cent, and our cost."""
    price = order_price(item.service, request, item.price_rate).quantize(
        CENT, rounding=ROUND_CEILING
    )
    if item.price_rate > 0 and price < CENT:
        price = CENT
    cost = order_price(item.service, request)
    return Quote(price=price, cost=cost, quantity=request.effective_quantity())


# --------------------------------------------------------------------------- sync


async def sync_catalogs(
    db: Database,
    panels: Mapping[str, PanelClient],
    markup_percent: Callable[[str], Decimal],
) -> list[SyncReport]:
    """Fetch every panel's catalog at once, then store each that arrived whole."""
    names = list(panels)
    fetched = await asyncio.gather(*(_fetch(name, panels[name]) for name in names))
    reports: list[SyncReport] = []
    for name, result in zip(names, fetched, strict=True):
        if isinstance(result, str):
            log.warning("catalog sync of %s failed, keeping the last catalog: %s", name, result)
            reports.append(SyncReport(name, False, 0, result))
            continue
        await _store(db, name, result, markup_percent(name))
        count = await catalog_rows.panel_service_count(db, name)
        log.info("catalog of %s synced: %d services (%d orderable)", name, len(result), count)
        reports.append(SyncReport(name, True, count, None))
    return reports


async def withdraw_unconfigured(db: Database, configured: Sequence[str]) -> int:
    """Take the services of panels that are no longer configured off sale (their orders and
    history stay readable); return how many services left the shop."""
    withdrawn = await catalog_rows.retire_other_panels(db, configured)
    if withdrawn:
        log.info("%d services of panels no longer configured are off sale", withdrawn)
    return withdrawn


async def _fetch(name: str, client: PanelClient) -> list[Service] | str:
    try:
        services = await client.services()
    except PanelError as e:
        return e.message
    except Exception as e:
        # One broken panel must not stop the others' sync; the traceback goes to the log.
        log.exception("unexpected error fetching the catalog of %s", name)
        return f"unexpected error: {type(e).__name__}: {e}"
    if not services:
        return "the panel returned an empty catalog"
    return services


def _raw(service: Service) -> str:
    return json.dumps(
        {
            "service": service.service_id,
            "name": service.name,
            "type": service.type_name,
            "category": service.category,
            "rate": str(service.rate),
            "min": service.min,
            "max": service.max,
            "refill": service.refill,
            "cancel": service.cancel,
            "dripfeed": service.dripfeed,
            "description": service.description,
        },
        ensure_ascii=False,
    )


def _category_platforms(services: Sequence[Service]) -> dict[str, str]:
    by_category: dict[str, list[Service]] = {}
    for service in services:
        by_category.setdefault(service.category, []).append(service)
    platforms: dict[str, str] = {}
    for category, members in by_category.items():
        platform = platform_of(category)
        if platform == OTHER:
            # A category named only "Followers" or "Premium": let its services' names vote.
            votes = Counter(platform_of("", s.name) for s in members)
            votes.pop(OTHER, None)
            if votes:
                platform = votes.most_common(1)[0][0]
        platforms[category] = platform
    return platforms


async def _store(
    db: Database, panel: str, services: Sequence[Service], markup_percent: Decimal
) -> None:
    platforms = _category_platforms(services)
    categories = [
        catalog_rows.CategoryRow(name=name, platform=platform, position=position)
        for position, (name, platform) in enumerate(platforms.items())
    ]
    rows = [
        catalog_rows.ServiceRow(
            service_id=s.service_id,
            category=s.category,
            name=s.name,
            type_name=s.type_name,
            order_type=None if s.type is None else s.type.value,
            rate=money_text(s.rate),
            price_rate=money_text(price_rate_for(s.rate, markup_percent)),
            min_quantity=s.min,
            max_quantity=s.max,
            refill=s.refill,
            cancel=s.cancel,
            dripfeed=s.dripfeed,
            description=s.description,
            raw=_raw(s),
            dripfeed_flagged=s.dripfeed_flagged,
            platform=platforms[s.category],
            search_text=f"{s.name} {s.category}".casefold(),
            position=position,
            available=s.orderable,
        )
        for position, s in enumerate(services)
    ]
    await catalog_rows.replace_panel_catalog(db, panel, categories, rows, now_text())


# --------------------------------------------------------------------------- browsing


def _item(stored: catalog_rows.StoredService) -> CatalogItem:
    service = Service(
        service_id=stored.service_id,
        name=stored.name,
        type=None if stored.order_type is None else OrderType(stored.order_type),
        type_name=stored.type_name,
        category=stored.category,
        rate=stored.rate,
        min=stored.min_quantity,
        max=stored.max_quantity,
        refill=stored.refill,
        cancel=stored.cancel,
        dripfeed=stored.dripfeed,
        description=stored.description,
        dripfeed_flagged=stored.dripfeed_flagged,
    )
    return CatalogItem(
        item_id=stored.item_id,
        panel=stored.panel,
        service=service,
        platform=stored.platform,
        category_id=stored.category_id,
        category=stored.category,
        price_rate=stored.price_rate,
    )


def _category(stored: catalog_rows.StoredCategory) -> CategoryInfo:
    return CategoryInfo(
        category_id=stored.category_id,
        platform=stored.platform,
        name=stored.name,
        service_count=stored.service_count,
    )


async def list_platforms(db: Database) -> list[tuple[str, int]]:
    """Platforms with services on sale and how many: the biggest first, "Other" last."""
    found = await catalog_rows.platforms(db)
    return sorted(found, key=lambda p: (p[0] == OTHER, -p[1], p[0].casefold()))


async def list_categories(
    db: Database, platform: str, page: int, page_size: int = 8
) -> Page[CategoryInfo]:
    """One page of a platform's categories that have services on sale."""
    total = await catalog_rows.count_categories(db, platform)
    page, pages, offset = page_window(total, page, page_size)
    rows = await catalog_rows.categories(db, platform, offset, page_size)
    return Page([_category(row) for row in rows], page, pages, total)


async def list_services(
    db: Database, category_id: int, page: int, page_size: int = 8
) -> Page[CatalogItem]:
    """One page of a category's services on sale, in the panel's order."""
    total = await catalog_rows.count_services(db, category_id)
    page, pages, offset = page_window(total, page, page_size)
    rows = await catalog_rows.services(db, category_id, offset, page_size)
    return Page([_item(row) for row in rows], page, pages, total)


async def search_services(
    db: Database, text: str, page: int, page_size: int = 8
) -> Page[CatalogItem]:
    """Find services by words (all must match the name or category) or by a number.

    A number matches the panel's service ID or our item number.
    """
    cleaned = text.strip()
    digits = cleaned.removeprefix("#").strip()
    number: str | None = None
    words: list[str] = []
    if digits.isascii() and digits.isdigit():
        number = digits
    else:
        words = cleaned.casefold().split()[:MAX_SEARCH_WORDS]
        if not words:
            return Page([], 0, 1, 0)
    total = await catalog_rows.count_search(db, words, number)
    page, pages, offset = page_window(total, page, page_size)
    rows = await catalog_rows.search(db, words, number, offset, page_size)
    return Page([_item(row) for row in rows], page, pages, total)


async def get_item(db: Database, item_id: int) -> CatalogItem | None:
    """The catalog item with our number ``item_id``, or None when it is not on sale."""
    stored = await catalog_rows.item(db, item_id)
    if stored is None or not stored.available:
        return None
    return _item(stored)


async def get_category(db: Database, category_id: int) -> CategoryInfo | None:
    """A category on sale, with its service count, or None."""
    stored = await catalog_rows.category(db, category_id)
    return None if stored is None else _category(stored)
