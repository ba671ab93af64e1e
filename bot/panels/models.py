"""Normalized panel data: services, order requests, statuses, refills, cancels, balances.

Every dialect parses its panel's answers into these types, so the rest of the bot never sees
a vendor quirk. Parsing is lenient where it is safe (numbers as strings, odd spacing) and
strict where money is at stake (an unknown status is never treated as final).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

PER_THOUSAND = Decimal(1000)


# --------------------------------------------------------------------------- lenient parsing


def parse_decimal(value: Any) -> Decimal | None:
    """Read a number that may arrive as a string, int, float or be missing or empty."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        # repr() keeps what the panel wrote ("0.9" stays 0.9, not 0.9000000000000000222).
        return parse_decimal(repr(value))
    text = str(value).strip().replace(" ", "").replace("\u00a0", "")
    if not text:
        return None
    # "0,90" is a decimal comma; "1,000" and "1,000.50" carry thousands separators.
    decimal_comma = "." not in text and re.fullmatch(r"-?\d+,\d{1,2}|-?\d+,\d{4,}", text)
    text = text.replace(",", ".") if decimal_comma else text.replace(",", "")
    text = text.lstrip("$€£₹")
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def parse_int(value: Any) -> int | None:
    """Read a whole number that may be a string, float-like text, empty or missing."""
    number = parse_decimal(value)
    if number is None:
        return None
    try:
        return int(number.to_integral_value(rounding=ROUND_HALF_UP))
    except (InvalidOperation, OverflowError):
        return None


def parse_bool(value: Any) -> bool:
    """Read a flag sent as true/false, 1/0, "1"/"0", "yes"/"no" or missing."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float | Decimal):
        return value != 0
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "y", "on", "enabled"}
    return False


def _squash(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


# --------------------------------------------------------------------------- order types


class OrderType(StrEnum):
    """Every order type the API v2 documents list, by the name panels send."""

    DEFAULT = "Default"
    PACKAGE = "Package"
    SEO = "SEO"
    CUSTOM_COMMENTS = "Custom Comments"
    MENTIONS = "Mentions"
    MENTIONS_WITH_HASHTAGS = "Mentions with Hashtags"
    MENTIONS_CUSTOM_LIST = "Mentions Custom List"
    MENTIONS_USER_FOLLOWERS = "Mentions User Followers"
    MENTIONS_MEDIA_LIKERS = "Mentions Media Likers"
    SUBSCRIPTIONS = "Subscriptions"
    WEB_TRAFFIC = "Web Traffic"
    CUSTOM_COMMENTS_PACKAGE = "Custom Comments Package"
    COMMENT_LIKES = "Comment Likes"
    POLL = "Poll"
    COMMENT_REPLIES = "Comment Replies"
    INVITES_FROM_GROUPS = "Invites from Groups"

    @classmethod
    def parse(cls, raw: Any) -> OrderType | None:
        """Match a panel's type name whatever its case or spacing; None when unknown."""
        if raw is None:
            return cls.DEFAULT
        key = _squash(str(raw))
        if not key:
            return cls.DEFAULT
        return _ORDER_TYPE_ALIASES.get(key)


_ORDER_TYPE_ALIASES: dict[str, OrderType] = {_squash(t.value): t for t in OrderType}
_ORDER_TYPE_ALIASES.update(
    {
        "mentionshashtag": OrderType.MENTIONS,
        "customcommentspackages": OrderType.CUSTOM_COMMENTS_PACKAGE,
        "subscription": OrderType.SUBSCRIPTIONS,
        "invitesfromgroup": OrderType.INVITES_FROM_GROUPS,
        "commentreply": OrderType.COMMENT_REPLIES,
        "commentlike": OrderType.COMMENT_LIKES,
        "polls": OrderType.POLL,
        "webtraffics": OrderType.WEB_TRAFFIC,
    }
)


class Field(StrEnum):
    """The form fields an order can carry (names as the v2 API spells them)."""

    LINK = "link"
    QUANTITY = "quantity"
    RUNS = "runs"
    INTERVAL = "interval"
    KEYWORDS = "keywords"
    COMMENTS = "comments"
    USERNAMES = "usernames"
    HASHTAGS = "hashtags"
    USERNAME = "username"
    MEDIA = "media"
    GROUPS = "groups"
    ANSWER_NUMBER = "answer_number"
    MIN = "min"
    MAX = "max"
    POSTS = "posts"
    OLD_POSTS = "old_posts"
    DELAY = "delay"
    EXPIRY = "expiry"
    COUNTRY = "country"
    DEVICE = "device"
    TYPE_OF_TRAFFIC = "type_of_traffic"
    GOOGLE_KEYWORD = "google_keyword"
    REFERRING_URL = "referring_url"


@dataclass(frozen=True, slots=True)
class TypeSpec:
    """What one order type needs: required and optional fields, and how it is counted."""

    required: tuple[Field, ...]
    optional: tuple[Field, ...] = ()
    # Where the quantity comes from: the typed number, a list's length, or one package.
    quantity_from: Field | None = Field.QUANTITY
    per_package: bool = False


F = Field
TYPE_SPECS: dict[OrderType, TypeSpec] = {
    OrderType.DEFAULT: TypeSpec((F.LINK, F.QUANTITY), (F.RUNS, F.INTERVAL)),
    OrderType.PACKAGE: TypeSpec((F.LINK,), quantity_from=None, per_package=True),
    OrderType.SEO: TypeSpec((F.LINK, F.QUANTITY, F.KEYWORDS)),
    OrderType.CUSTOM_COMMENTS: TypeSpec((F.LINK, F.COMMENTS), quantity_from=F.COMMENTS),
    OrderType.MENTIONS: TypeSpec((F.LINK, F.QUANTITY, F.USERNAMES)),
    OrderType.MENTIONS_WITH_HASHTAGS: TypeSpec((F.LINK, F.QUANTITY, F.USERNAMES, F.HASHTAGS)),
    OrderType.MENTIONS_CUSTOM_LIST: TypeSpec((F.LINK, F.USERNAMES), quantity_from=F.USERNAMES),
    OrderType.MENTIONS_USER_FOLLOWERS: TypeSpec((F.LINK, F.QUANTITY, F.USERNAME)),
    OrderType.MENTIONS_MEDIA_LIKERS: TypeSpec((F.LINK, F.QUANTITY, F.MEDIA)),
    OrderType.SUBSCRIPTIONS: TypeSpec(
        (F.USERNAME, F.MIN, F.MAX, F.DELAY), (F.POSTS, F.OLD_POSTS, F.EXPIRY), quantity_from=None
    ),
    OrderType.WEB_TRAFFIC: TypeSpec(
        (F.LINK, F.QUANTITY, F.COUNTRY, F.DEVICE, F.TYPE_OF_TRAFFIC),
        (F.RUNS, F.INTERVAL, F.GOOGLE_KEYWORD, F.REFERRING_URL),
    ),
    OrderType.CUSTOM_COMMENTS_PACKAGE: TypeSpec(
        (F.LINK, F.COMMENTS), quantity_from=None, per_package=True
    ),
    OrderType.COMMENT_LIKES: TypeSpec((F.LINK, F.QUANTITY, F.USERNAME)),
    OrderType.POLL: TypeSpec((F.LINK, F.QUANTITY, F.ANSWER_NUMBER)),
    OrderType.COMMENT_REPLIES: TypeSpec(
        (F.LINK, F.USERNAME, F.COMMENTS), quantity_from=F.COMMENTS
    ),
    OrderType.INVITES_FROM_GROUPS: TypeSpec((F.LINK, F.QUANTITY, F.GROUPS)),
}
del F

SUBSCRIPTION_DELAYS = frozenset(
    {0, 5, 10, 15, 30, 60, 90, 120, 150, 180, 210, 240, 270, 300, 360, 420, 480, 540, 600}
)
WEB_TRAFFIC_DEVICES = {
    1: "Desktop",
    2: "Mobile (Android)",
    3: "Mobile (iOS)",
    4: "Mixed (Mobile)",
    5: "Mixed (Mobile & Desktop)",
}
WEB_TRAFFIC_KINDS = {1: "Google keyword", 2: "Custom referrer", 3: "Blank referrer"}


# --------------------------------------------------------------------------- services


@dataclass(frozen=True, slots=True)
class Service:
    """One service of a panel's catalog, with the rate per 1000 units (or per package)."""

    service_id: str
    name: str
    type: OrderType | None
    type_name: str
    category: str
    rate: Decimal
    min: int
    max: int
    refill: bool = False
    cancel: bool = False
    dripfeed: bool = False
    description: str = ""
    # The panel's own list marks the service as drip-feed (not inferred from its type).
    dripfeed_flagged: bool = False

    @property
    def orderable(self) -> bool:
        """True when we know how to build an order for this service's type."""
        return self.type is not None and self.min <= self.max and self.rate >= 0

    @property
    def spec(self) -> TypeSpec:
        return TYPE_SPECS[self.type or OrderType.DEFAULT]


# --------------------------------------------------------------------------- order requests


# C0/C1 controls and the bidi overrides: never sent to a panel, whoever built the request.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def split_lines(text: str) -> list[str]:
    """Split a user's multi-line list the way panels expect (\\r\\n or \\n), dropping blanks."""
    return [line.strip() for line in re.split(r"\r?\n", text) if line.strip()]


@dataclass(slots=True)
class OrderRequest:
    """Everything an ``add`` sends; ``validate`` checks it against the service first."""

    service_id: str
    type: OrderType = OrderType.DEFAULT
    link: str | None = None
    quantity: int | None = None
    runs: int | None = None
    interval: int | None = None
    keywords: list[str] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    usernames: list[str] = field(default_factory=list)
    hashtags: list[str] = field(default_factory=list)
    username: str | None = None
    media: str | None = None
    groups: list[str] = field(default_factory=list)
    answer_number: int | None = None
    min: int | None = None
    max: int | None = None
    posts: int | None = None
    old_posts: int | None = None
    delay: int | None = None
    expiry: date | None = None
    country: str | None = None
    device: int | None = None
    type_of_traffic: int | None = None
    google_keyword: str | None = None
    referring_url: str | None = None

    @property
    def spec(self) -> TypeSpec:
        return TYPE_SPECS[self.type]

    def effective_quantity(self) -> int:
        """Units the order delivers per run: typed, counted from a list, or one package."""
        source = self.spec.quantity_from
        if source is None:
            if self.type is OrderType.SUBSCRIPTIONS:
                return self.max or 0
            return 1
        if source is Field.QUANTITY:
            return self.quantity or 0
        return len(self._list(source))

    def _list(self, f: Field) -> list[str]:
        value = getattr(self, f.value)
        return list(value) if isinstance(value, list) else []

    def _has(self, f: Field) -> bool:
        value = getattr(self, f.value)
        if isinstance(value, list):
            return bool(value)
        if isinstance(value, str):
            return bool(value.strip())
        return value is not None

    def validate(self, service: Service) -> None:
        """Raise ``InvalidRequest`` naming the first field that the service cannot accept."""
        from bot.panels.errors import InvalidRequest

        def fail(message: str) -> None:
            raise InvalidRequest(message)

        if service.type is None:
            fail(f"service {service.service_id} has an order type we cannot place")
        if self.type is not service.type:
            fail(f"service {service.service_id} takes {service.type_name} orders")
        spec = self.spec
        for required in spec.required:
            if not self._has(required):
                fail(f"{required.value} is required for {self.type.value} orders")
        allowed = set(spec.required) | set(spec.optional)
        for f in Field:
            if f not in allowed and self._has(f):
                fail(f"{f.value} is not accepted by {self.type.value} orders")
        for f in Field:
            value = getattr(self, f.value)
            texts = value if isinstance(value, list) else [value]
            if any(isinstance(t, str) and _CONTROL.search(t.replace("\n", "")) for t in texts):
                fail(f"{f.value} contains a control or text-direction character")
        if self.link is not None and not re.match(r"^https?://[^\s/]+\.\S+", self.link.strip()):
            fail("the link must be a full web address starting with http:// or https://")
        if spec.quantity_from is not None:
            quantity = self.effective_quantity()
            if quantity < service.min or quantity > service.max:
                fail(
                    f"quantity {quantity} is outside this service's range "
                    f"{service.min}–{service.max}"
                )
        if (self.runs is None) != (self.interval is None):
            fail("drip-feed needs both runs and interval")
        if self.runs is not None:
            if not service.dripfeed:
                fail("this service does not offer drip-feed")
            if self.runs < 2 or (self.interval or 0) < 1:
                fail("drip-feed needs at least 2 runs and an interval of 1 minute or more")
        if self.type is OrderType.SUBSCRIPTIONS:
            low, high = self.min or 0, self.max or 0
            if low < service.min or high > service.max or low > high:
                fail(f"min and max must lie within {service.min}–{service.max}, min ≤ max")
            if self.delay not in SUBSCRIPTION_DELAYS:
                fail("delay must be one of " + ", ".join(map(str, sorted(SUBSCRIPTION_DELAYS))))
            if self.posts is not None and self.posts < 1:
                fail("posts must be at least 1")
            if self.old_posts is not None and self.old_posts < 0:
                fail("old_posts cannot be negative")
        if self.type is OrderType.WEB_TRAFFIC:
            if self.device not in WEB_TRAFFIC_DEVICES:
                fail("device must be a number from 1 to 5")
            if self.type_of_traffic not in WEB_TRAFFIC_KINDS:
                fail("type_of_traffic must be 1, 2 or 3")
            if self.type_of_traffic == 1 and not self._has(Field.GOOGLE_KEYWORD):
                fail("google_keyword is required when type_of_traffic is 1")
            if self.type_of_traffic == 2 and not self._has(Field.REFERRING_URL):
                fail("referring_url is required when type_of_traffic is 2")
        if self.type is OrderType.POLL and (self.answer_number or 0) < 1:
            fail("answer_number must be 1 or more")

    def to_form(self) -> dict[str, str]:
        """The v2 form fields (without key/action/service), lists joined by newlines."""
        form: dict[str, str] = {}
        allowed = set(self.spec.required) | set(self.spec.optional)
        for f in Field:
            if f not in allowed or not self._has(f):
                continue
            value = getattr(self, f.value)
            if isinstance(value, list):
                form[f.value] = "\n".join(value)
            elif isinstance(value, date):
                form[f.value] = value.strftime("%d/%m/%Y")
            else:
                form[f.value] = str(value).strip()
        return form


def order_price(service: Service, request: OrderRequest, rate: Decimal | None = None) -> Decimal:
    """Price an order at ``rate`` (default the service's): per 1000 units, or per package.

    Drip-feed multiplies by runs; a subscription is priced for ``max`` units per post over
    the posts it may cover (``posts`` + ``old_posts``, at least one).
    """
    unit_rate = service.rate if rate is None else rate
    if request.spec.per_package:
        return unit_rate
    units = Decimal(request.effective_quantity())
    if request.type is OrderType.SUBSCRIPTIONS:
        units *= max(1, (request.posts or 0) + (request.old_posts or 0))
    if request.runs:
        units *= request.runs
    return unit_rate * units / PER_THOUSAND


# --------------------------------------------------------------------------- statuses


class OrderStatus(StrEnum):
    """One status vocabulary for every panel; only the final ones stop polling."""

    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    PROCESSING = "processing"
    COMPLETED = "completed"
    PARTIAL = "partial"
    CANCELED = "canceled"
    REFUNDED = "refunded"
    FAILED = "failed"
    UNKNOWN = "unknown"

    @property
    def is_final(self) -> bool:
        return self in _FINAL_STATUSES

    @classmethod
    def parse(cls, raw: Any) -> OrderStatus:
        """Normalize a panel's status text; anything unrecognised is UNKNOWN (not final)."""
        if not isinstance(raw, str | int):
            return cls.UNKNOWN
        return _STATUS_ALIASES.get(_squash(str(raw)), cls.UNKNOWN)


_FINAL_STATUSES = frozenset(
    {OrderStatus.COMPLETED, OrderStatus.PARTIAL, OrderStatus.CANCELED, OrderStatus.REFUNDED}
)
_STATUS_ALIASES: dict[str, OrderStatus] = {
    "pending": OrderStatus.PENDING,
    "awaiting": OrderStatus.PENDING,
    "queued": OrderStatus.PENDING,
    "new": OrderStatus.PENDING,
    "inprogress": OrderStatus.IN_PROGRESS,
    "progress": OrderStatus.IN_PROGRESS,
    "active": OrderStatus.IN_PROGRESS,
    "running": OrderStatus.IN_PROGRESS,
    "started": OrderStatus.IN_PROGRESS,
    "processing": OrderStatus.PROCESSING,
    "inprocess": OrderStatus.PROCESSING,
    "completed": OrderStatus.COMPLETED,
    "complete": OrderStatus.COMPLETED,
    "done": OrderStatus.COMPLETED,
    "success": OrderStatus.COMPLETED,
    "finished": OrderStatus.COMPLETED,
    "partial": OrderStatus.PARTIAL,
    "partially": OrderStatus.PARTIAL,
    "partiallycompleted": OrderStatus.PARTIAL,
    "partialcompleted": OrderStatus.PARTIAL,
    "canceled": OrderStatus.CANCELED,
    "cancelled": OrderStatus.CANCELED,
    "cancel": OrderStatus.CANCELED,
    "refunded": OrderStatus.REFUNDED,
    "refund": OrderStatus.REFUNDED,
    "fail": OrderStatus.FAILED,
    "failed": OrderStatus.FAILED,
    "error": OrderStatus.FAILED,
}


@dataclass(frozen=True, slots=True)
class OrderStatusInfo:
    """What a panel says about one order now; ``error`` is set when it said only that."""

    order_id: str
    status: OrderStatus
    raw_status: str = ""
    charge: Decimal | None = None
    start_count: int | None = None
    remains: int | None = None
    currency: str | None = None
    error: str | None = None

    @property
    def not_found(self) -> bool:
        """True when the panel no longer knows the order ("Incorrect order ID")."""
        return bool(self.error) and bool(
            re.search(r"incorrect|not found|invalid|unknown|no order", self.error or "", re.I)
        )

    @classmethod
    def from_payload(cls, order_id: str, payload: Any) -> OrderStatusInfo:
        """Parse one v2 status object (or an ``{"error": ...}``) leniently."""
        if not isinstance(payload, Mapping):
            return cls(order_id, OrderStatus.UNKNOWN, error=f"unreadable answer: {payload!r:.80}")
        if payload.get("error") and "status" not in payload:
            return cls(order_id, OrderStatus.UNKNOWN, error=str(payload["error"]))
        raw = payload.get("status")
        return cls(
            order_id=order_id,
            status=OrderStatus.parse(raw),
            raw_status="" if raw is None else str(raw),
            charge=parse_decimal(payload.get("charge")),
            start_count=parse_int(payload.get("start_count")),
            remains=parse_int(payload.get("remains")),
            currency=(str(payload["currency"]).strip() or None)
            if payload.get("currency") is not None
            else None,
        )


class RequestStatus(StrEnum):
    """Status of a refill or cancel request."""

    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    REJECTED = "rejected"
    CANCELED = "canceled"
    UNKNOWN = "unknown"

    @property
    def is_final(self) -> bool:
        return self in {RequestStatus.COMPLETED, RequestStatus.REJECTED, RequestStatus.CANCELED}

    @classmethod
    def parse(cls, raw: Any) -> RequestStatus:
        if not isinstance(raw, str | int):
            return cls.UNKNOWN
        key = _squash(str(raw))
        aliases = {
            "pending": cls.PENDING,
            "awaiting": cls.PENDING,
            "inprogress": cls.IN_PROGRESS,
            "processing": cls.IN_PROGRESS,
            "completed": cls.COMPLETED,
            "complete": cls.COMPLETED,
            "success": cls.COMPLETED,
            "done": cls.COMPLETED,
            "rejected": cls.REJECTED,
            "refused": cls.REJECTED,
            "error": cls.REJECTED,
            "canceled": cls.CANCELED,
            "cancelled": cls.CANCELED,
        }
        return aliases.get(key, cls.UNKNOWN)


@dataclass(frozen=True, slots=True)
class RefillResult:
    """The answer to a refill request for one order: a refill ID, or the panel's refusal."""

    order_id: str
    refill_id: str | None = None
    error: str | None = None
    message: str | None = None

    @property
    def accepted(self) -> bool:
        return self.error is None


@dataclass(frozen=True, slots=True)
class RefillStatusInfo:
    refill_id: str
    status: RequestStatus
    raw_status: str = ""
    error: str | None = None


class CancelKind(StrEnum):
    """What a cancel applies to (smmsend says; others are plain orders)."""

    ORDER = "order"
    DRIPFEED = "dripfeed"
    SUBSCRIPTION = "subscription"


@dataclass(frozen=True, slots=True)
class CancelResult:
    """The answer to a cancel request for one order."""

    order_id: str
    cancel_id: str | None = None
    kind: CancelKind = CancelKind.ORDER
    error: str | None = None
    message: str | None = None

    @property
    def accepted(self) -> bool:
        return self.error is None


@dataclass(frozen=True, slots=True)
class CancelStatusInfo:
    cancel_id: str
    status: RequestStatus
    raw_status: str = ""
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Balance:
    amount: Decimal
    currency: str


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a panel's API offers; the bot shows only actions listed here."""

    refill: bool = True
    refill_status: bool = True
    cancel: bool = True
    cancel_status: bool = False
    balance: bool = True
    dripfeed: bool = True
    # Services carry their own refill/cancel flags; when False every service may try.
    per_service_flags: bool = True
    order_types: frozenset[OrderType] = frozenset(OrderType)
    max_ids_per_request: int = 100


def chunked(items: Iterable[str], size: int) -> list[list[str]]:
    """Split IDs into lists of at most ``size`` (panels take up to 100 per call)."""
    batch: list[str] = []
    batches: list[list[str]] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            batches.append(batch)
            batch = []
    if batch:
        batches.append(batch)
    return batches
