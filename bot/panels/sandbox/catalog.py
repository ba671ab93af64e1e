"""The sandbox's catalog: realistic services over many platforms, deterministic from a seed.

Every one of the 16 API v2 order types appears at least once (so a catalog needs 16
services at least); categories are named the way resellers' panels name them
("Instagram Followers [Refill 30D]"), about one per 20 services.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from bot.panels.models import OrderType

MIN_CATALOG_SIZE = len(OrderType)
SERVICES_PER_CATEGORY = 20

_T = OrderType

# Form fields each order type needs, as the smmtimes API page lists them.
REQUIRED_FIELDS: dict[OrderType, tuple[str, ...]] = {
    _T.DEFAULT: ("link", "quantity"),
    _T.PACKAGE: ("link",),
    _T.SEO: ("link", "quantity", "keywords"),
    _T.CUSTOM_COMMENTS: ("link", "comments"),
    _T.MENTIONS: ("link", "quantity", "usernames"),
    _T.MENTIONS_WITH_HASHTAGS: ("link", "quantity", "usernames", "hashtags"),
    _T.MENTIONS_CUSTOM_LIST: ("link", "usernames"),
    _T.MENTIONS_USER_FOLLOWERS: ("link", "quantity", "username"),
    _T.MENTIONS_MEDIA_LIKERS: ("link", "quantity", "media"),
    _T.SUBSCRIPTIONS: ("username", "min", "max", "delay"),
    _T.WEB_TRAFFIC: ("link", "quantity", "country", "device", "type_of_traffic"),
    _T.CUSTOM_COMMENTS_PACKAGE: ("link", "comments"),
    _T.COMMENT_LIKES: ("link", "quantity", "username"),
    _T.POLL: ("link", "quantity", "answer_number"),
    _T.COMMENT_REPLIES: ("link", "username", "comments"),
    _T.INVITES_FROM_GROUPS: ("link", "quantity", "groups"),
}
# Where the counted quantity comes from when it is not the ``quantity`` field.
QUANTITY_FROM_LIST: dict[OrderType, str] = {
    _T.CUSTOM_COMMENTS: "comments",
    _T.MENTIONS_CUSTOM_LIST: "usernames",
    _T.COMMENT_REPLIES: "comments",
}
PER_PACKAGE = frozenset({_T.PACKAGE, _T.CUSTOM_COMMENTS_PACKAGE})
DRIPFEED_TYPES = frozenset({_T.DEFAULT, _T.WEB_TRAFFIC})


@dataclass(frozen=True, slots=True)
class CatalogService:
    """One service the sandbox sells; ``rate`` is per 1000 units (or per package)."""

    service_id: int
    name: str
    type: OrderType
    category: str
    platform: str
    rate: Decimal
    rate_text: str
    min: int
    max: int
    refill: bool
    cancel: bool
    dripfeed: bool

    @property
    def per_package(self) -> bool:
        """True when the rate is the price of one package, not of 1000 units."""
        return self.type in PER_PACKAGE


@dataclass(frozen=True, slots=True)
class _Product:
    """A kind of service: its unit price range (per 1000, in 1/10000), bounds and flags."""

    name: str
    rate_range: tuple[int, int]
    mins: tuple[int, ...]
    maxes: tuple[int, ...]
    dripfeed_share: float = 0.4
    cancel_share: float = 0.4


def _p(
    name: str,
    rate: tuple[float, float],
    mins: tuple[int, ...] = (10, 50, 100),
    maxes: tuple[int, ...] = (5_000, 10_000, 50_000, 100_000, 500_000),
    dripfeed: float = 0.4,
) -> _Product:
    # Rates are authored as dollars for readability and stored as whole 1/10000ths.
    low, high = (round(x * 10_000) for x in rate)
    return _Product(name, (low, high), mins, maxes, dripfeed)


# Default-type products per platform.
_DEFAULT_PRODUCTS: dict[str, tuple[_Product, ...]] = {
    "Instagram": (
        _p("Followers", (0.5, 6)),
        _p("Likes", (0.05, 2)),
        _p("Reels Views", (0.002, 0.2), (100, 500), (1_000_000, 10_000_000)),
        _p("Story Views", (0.05, 0.8), (100,), (20_000, 100_000)),
        _p("Saves", (0.05, 1)),
        _p("Impressions & Reach", (0.02, 0.5), (100,), (1_000_000,)),
        _p("Live Stream Views", (1, 15), (10, 50), (5_000, 20_000), 0),
        _p("Comment Likes", (0.5, 4)),
    ),
    "YouTube": (
        _p("Views", (0.6, 4), (100, 500, 1000), (1_000_000, 10_000_000)),
        _p("Subscribers", (8, 45), (50, 100), (10_000, 100_000), 0.1),
        _p("Likes", (0.8, 6)),
        _p("Watch Time Hours", (6, 40), (100, 500), (4_000, 10_000), 0),
        _p("Shorts Views", (0.05, 1), (100, 1000), (1_000_000,)),
        _p("Live Stream Viewers", (2, 20), (20, 50), (5_000, 10_000), 0),
    ),
    "TikTok": (
        _p("Followers", (0.8, 7)),
        _p("Likes", (0.05, 1.5)),
        _p("Views", (0.001, 0.1), (100, 1000), (10_000_000, 100_000_000)),
        _p("Shares", (0.05, 1)),
        _p("Saves", (0.05, 0.9)),
        _p("Live Stream Views", (1, 12), (10, 50), (5_000, 20_000), 0),
    ),
    "Telegram": (
        _p("Channel Members", (0.6, 5)),
        _p("Post Views", (0.005, 0.2), (10, 100), (1_000_000,)),
        _p("Reactions", (0.05, 1)),
        _p("Premium Members", (8, 30), (10,), (10_000, 50_000), 0.1),
        _p("Bot Starts", (0.5, 4)),
    ),
    "Twitter/X": (
        _p("Followers", (2, 18)),
        _p("Likes", (0.5, 6)),
        _p("Retweets", (0.6, 7)),
        _p("Views", (0.01, 0.3), (100, 500), (10_000_000,)),
        _p("Impressions", (0.02, 0.4), (100,), (1_000_000,)),
    ),
    "Facebook": (
        _p("Page Likes", (1, 9)),
        _p("Page Followers", (0.9, 8)),
        _p("Post Likes", (0.3, 3)),
        _p("Video Views", (0.05, 1.5), (100, 500), (1_000_000, 10_000_000)),
        _p("Group Members", (2, 12)),
    ),
    "Spotify": (
        _p("Plays", (0.4, 2.5), (500, 1000), (1_000_000, 10_000_000)),
        _p("Followers", (0.6, 3)),
        _p("Monthly Listeners", (1, 6), (500, 1000), (100_000, 500_000)),
        _p("Saves", (0.5, 3)),
    ),
    "Other": (
        _p("SoundCloud Plays", (0.02, 0.5), (100, 1000), (1_000_000, 10_000_000)),
        _p("SoundCloud Followers", (1, 6)),
        _p("Twitch Followers", (0.8, 5)),
        _p("Twitch Live Viewers", (5, 40), (10, 20), (2_000, 5_000), 0),
        _p("Discord Server Members", (5, 25), (100,), (10_000, 50_000), 0.1),
        _p("Threads Followers", (1, 8)),
        _p("LinkedIn Followers", (6, 30), (50, 100), (5_000, 20_000), 0.1),
        _p("Pinterest Followers", (1, 7)),
        _p("Website Traffic", (0.2, 2), (100, 500, 1000), (1_000_000, 10_000_000)),
    ),
}
_VARIANTS: tuple[tuple[str, bool], ...] = (
    ("[Refill 30D]", True),
    ("[No Refill]", False),
    ("[Lifetime Refill]", True),
    ("[Instant]", False),
    ("[Refill 365D]", True),
    ("[Real & Active]", False),
    ("[Non Drop]", True),
    ("[Cheapest]", False),
    ("[Targeted USA]", False),
    ("[HQ] [Refill 60D]", True),
)

# (category name, the order types it holds, product, platform, refill) for the special kinds.
_SpecialTemplate = tuple[str, tuple[OrderType, ...], _Product, str, bool]
_COMMENT_TYPES = (
    _T.CUSTOM_COMMENTS,
    _T.CUSTOM_COMMENTS_PACKAGE,
    _T.COMMENT_REPLIES,
    _T.COMMENT_LIKES,
)
_MENTION_TYPES = (
    _T.MENTIONS,
    _T.MENTIONS_WITH_HASHTAGS,
    _T.MENTIONS_CUSTOM_LIST,
    _T.MENTIONS_USER_FOLLOWERS,
    _T.MENTIONS_MEDIA_LIKERS,
)
_COMMENTS = _p("Comments", (2, 20), (5, 10), (500, 1_000, 5_000), 0)
_MENTIONS = _p("Mentions", (1, 8), (100, 500), (10_000, 100_000), 0)
_PACKAGES = _p("Packages", (1.5, 45), (1,), (1,), 0)
_SUBSCRIPTIONS = _p("Auto Likes", (0.3, 4), (50, 100), (5_000, 10_000, 50_000), 0)
_TRAFFIC = _p("Web Traffic", (0.15, 2.5), (100, 500, 1000), (1_000_000, 10_000_000))
_SEO = _p("SEO", (3, 30), (100, 500), (10_000, 50_000), 0)
_POLL = _p("Poll Votes", (0.5, 6), (50, 100), (10_000, 100_000), 0)
_INVITES = _p("Invites", (3, 18), (100, 500), (10_000, 50_000), 0)


def _special_templates() -> dict[str, list[_SpecialTemplate]]:
    """Category templates for the non-Default types, grouped by the need they cover."""
    subscriptions: list[_SpecialTemplate] = [
        (f"{p} Auto Likes [Subscriptions]", (_T.SUBSCRIPTIONS,), _SUBSCRIPTIONS, p, False)
        for p in ("Instagram", "TikTok", "Twitter/X")
    ]
    subscriptions.append(
        ("Telegram Auto Post Views", (_T.SUBSCRIPTIONS,), _SUBSCRIPTIONS, "Telegram", False)
    )
    return {
        "comments": [
            (f"{p} Custom Comments", _COMMENT_TYPES, _COMMENTS, p, False)
            for p in ("Instagram", "YouTube", "TikTok", "Facebook", "Twitter/X")
        ],
        "mentions": [
            (f"{p} Mentions", _MENTION_TYPES, _MENTIONS, p, False)
            for p in ("Instagram", "Twitter/X")
        ],
        "package": [
            (f"{p} Growth Packages", (_T.PACKAGE,), _PACKAGES, p, True)
            for p in ("Instagram", "YouTube", "TikTok", "Spotify")
        ],
        "subscriptions": subscriptions,
        "traffic": [
            (f"Website Traffic {v}", (_T.WEB_TRAFFIC,), _TRAFFIC, "Other", False)
            for v in ("[Worldwide]", "[USA]", "[Europe]", "[Google Search]", "[Social Referrers]")
        ],
        "seo": [
            ("Google SEO [Keyword Search Traffic]", (_T.SEO,), _SEO, "Other", False),
            ("Website SEO Backlinks", (_T.SEO,), _SEO, "Other", False),
        ],
        "poll": [
            (f"{p} Poll Votes", (_T.POLL,), _POLL, p, False)
            for p in ("Telegram", "Twitter/X", "Instagram", "YouTube")
        ],
        "invites": [
            (f"{p} Members [Invites from Groups]", (_T.INVITES_FROM_GROUPS,), _INVITES, p, False)
            for p in ("Telegram", "Facebook")
        ],
    }


PLATFORM_ORDER = (
    "Instagram",
    "YouTube",
    "TikTok",
    "Telegram",
    "Twitter/X",
    "Facebook",
    "Spotify",
    "Other",
)
_PLATFORM_WEIGHT = {
    "Instagram": 3.0,
    "YouTube": 2.0,
    "TikTok": 2.0,
    "Telegram": 2.0,
    "Twitter/X": 1.5,
    "Facebook": 1.5,
    "Spotify": 1.0,
    "Other": 0.8,
}
_FIRST_PLATFORMS = ("Instagram", "YouTube", "Telegram", "TikTok")
_QUALITY = ("Real", "HQ", "Mixed", "Real Looking", "Premium", "Bots", "Active Users", "Global")
_SPEEDS = ("1K/Day", "5K/Day", "10K/Day", "20K/Day", "50K/Day", "100K/Day", "Instant")
_STARTS = ("Start 0-1H", "Start 0-6H", "Instant Start", "Start 0-24H")
_MARKS = ("", "", "", " 🔥", " ⚡", " ♻️", " 💎")


@dataclass(slots=True)
class _Category:
    name: str
    platform: str
    types: tuple[OrderType, ...]
    product: _Product
    refill: bool
    size: int = 0


def build_catalog(size: int, seed: int) -> list[CatalogService]:
    """Generate ``size`` services (16 at least) deterministically from ``seed``."""
    size = max(size, MIN_CATALOG_SIZE)
    rng = random.Random(f"sandbox-catalog:{seed}")
    categories = _share_out(_choose_categories(size, rng), size, rng)
    services: list[CatalogService] = []
    next_id = 1
    for category in categories:
        types = list(category.types)
        rng.shuffle(types)
        for i in range(category.size):
            order_type = types[i] if i < len(types) else rng.choice(category.types)
            services.append(_make_service(next_id, category, order_type, rng))
            # Panels retire services, so IDs have gaps.
            next_id += 1 if rng.random() < 0.8 else rng.randint(2, 6)
    return services


def _choose_categories(size: int, rng: random.Random) -> list[_Category]:
    """Pick the categories: one per special need first, then Default ones to the target."""
    special = _special_templates()
    chosen: list[_Category] = []
    spare: list[_SpecialTemplate] = []
    for templates in special.values():
        pick = rng.randrange(len(templates))
        name, types, product, platform, refill = templates[pick]
        chosen.append(_Category(name, platform, types, product, refill))
        spare.extend(t for i, t in enumerate(templates) if i != pick)
    target = max(len(chosen) + len(_FIRST_PLATFORMS), math.ceil(size / SERVICES_PER_CATEGORY))
    pool: list[_Category] = [
        _Category(_label(platform, product.name, variant), platform, (_T.DEFAULT,), product, r)
        for platform, products in _DEFAULT_PRODUCTS.items()
        for product in products
        for variant, r in _VARIANTS
    ]
    pool += [_Category(n, pl, ty, pr, r) for n, ty, pr, pl, r in spare]
    # A weighted shuffle: the big networks get most categories, as on every real panel.
    pool.sort(key=lambda c: rng.random() ** (1 / _PLATFORM_WEIGHT[c.platform]), reverse=True)
    # Small catalogs still get a Default category on each of the biggest networks first.
    for platform in reversed(_FIRST_PLATFORMS):
        first = next(
            i for i, c in enumerate(pool) if (c.platform, c.types) == (platform, (_T.DEFAULT,))
        )
        pool.insert(0, pool.pop(first))
    server = 1
    while len(chosen) < target:
        if not pool:
            # Past the templates, panels repeat a category per supplier "server".
            server += 1
            pool = [
                _Category(f"{c.name} [Server {server}]", c.platform, c.types, c.product, c.refill)
                for c in chosen[: target - len(chosen)]
            ]
        chosen.append(pool.pop(0))
    return chosen


def _label(platform: str, product: str, variant: str) -> str:
    return f"{product} {variant}" if platform == "Other" else f"{platform} {product} {variant}"


def _share_out(categories: Sequence[_Category], size: int, rng: random.Random) -> list[_Category]:
    """Give each category enough services for its types, then the rest by weight."""
    left = size
    for category in categories:
        if category.types != (_T.DEFAULT,):
            category.size = len(category.types)
            left -= category.size
    if left < 1:
        raise ValueError(f"a catalog needs at least {MIN_CATALOG_SIZE} services")
    for category in categories:
        if category.types == (_T.DEFAULT,) and left > 0:
            category.size, left = 1, left - 1
    used = [c for c in categories if c.size > 0]
    # Default categories are the bulk of every real panel.
    weights = [4.0 if c.types == (_T.DEFAULT,) else 1.0 for c in used]
    for category in rng.choices(used, weights, k=left):
        category.size += 1
    platform_rank = {p: i for i, p in enumerate(PLATFORM_ORDER)}
    return sorted(used, key=lambda c: platform_rank[c.platform])


def _make_service(
    service_id: int, category: _Category, order_type: OrderType, rng: random.Random
) -> CatalogService:
    product = category.product
    per_package = order_type in PER_PACKAGE
    if per_package:
        low, high = 1, 1
        rate_units = rng.randint(*_PACKAGES.rate_range)
    else:
        low = rng.choice(product.mins)
        high = max(rng.choice(product.maxes), low * 10)
        rate_units = rng.randint(*product.rate_range)
    rate, rate_text = _rate(rate_units, rng)
    name = _service_name(category, order_type, high, rng)
    return CatalogService(
        service_id=service_id,
        name=name,
        type=order_type,
        category=category.name,
        platform=category.platform,
        rate=rate,
        rate_text=rate_text,
        min=low,
        max=high,
        refill=category.refill and order_type in (_T.DEFAULT, _T.PACKAGE),
        cancel=rng.random() < product.cancel_share,
        dripfeed=order_type in DRIPFEED_TYPES and rng.random() < product.dripfeed_share,
    )


def _rate(units: int, rng: random.Random) -> tuple[Decimal, str]:
    """A rate from 1/10000ths, written as panels write it: "0.90", "0.0125" or "8"."""
    rate = Decimal(units) / 10_000
    if rate >= Decimal("0.1"):
        rate = rate.quantize(Decimal("0.01"))
        if rate >= 5 and rng.random() < 0.3:
            rate = rate.quantize(Decimal(1))
    else:
        rate = rate.quantize(Decimal("0.0001"))
    return rate, str(rate)


def _service_name(
    category: _Category, order_type: OrderType, high: int, rng: random.Random
) -> str:
    base = category.name.split(" [", 1)[0]
    if len(category.types) > 1:
        base = f"{category.platform} {order_type.value}"
    limit = f"Max {high // 1000}K" if high >= 1000 else f"Max {high}"
    parts = [base, rng.choice(_QUALITY), limit, rng.choice(_STARTS), rng.choice(_SPEEDS)]
    if category.refill and "[" in category.name:
        parts.append(category.name.rsplit("[", 1)[-1].rstrip("]"))
    return " | ".join(parts) + rng.choice(_MARKS)


def smmtechs_types(catalog: Sequence[CatalogService]) -> list[CatalogService]:
    """The subset the smmtechs dialect sells: plain Default services of social platforms."""
    return [s for s in catalog if s.type is _T.DEFAULT and s.platform != "Other"]
