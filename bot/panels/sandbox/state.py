"""The sandbox panel's books: clock, balance, orders, refills and cancels, for every dialect.

Orders move on the sandbox clock (real time × speed, plus whatever ``advance`` adds):
Pending, then In progress, then a final status. Progress is computed when asked, so a
hundred thousand orders cost nothing until someone looks; refunds for orders that end
Partial or Canceled land on the balance the first time the books are settled after that.

Which orders end badly is fixed by their sequence number, so tests can rely on it: every
11th order is Canceled by the panel, every 7th (not 11th) ends Partial, the rest Completed.
Every 5th refill is Rejected.
"""

from __future__ import annotations

import heapq
import random
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from bot.panels.models import OrderType
from bot.panels.sandbox.catalog import (
    DRIPFEED_TYPES,
    PER_PACKAGE,
    QUANTITY_FROM_LIST,
    REQUIRED_FIELDS,
    CatalogService,
)

CENT_FRACTION = Decimal("0.00001")
PER_THOUSAND = Decimal(1000)
FIRST_ORDER_ID = 1001
FIRST_REFILL_ID = 501
FIRST_CANCEL_ID = 301

PENDING = "Pending"
IN_PROGRESS = "In progress"
PROCESSING = "Processing"
COMPLETED = "Completed"
PARTIAL = "Partial"
CANCELED = "Canceled"
REFUNDED = "Refunded"
REJECTED = "Rejected"
FINAL_STATUSES = frozenset({COMPLETED, PARTIAL, CANCELED, REFUNDED})
_STATUS_WORDS = {
    "pending": PENDING,
    "inprogress": IN_PROGRESS,
    "processing": PROCESSING,
    "completed": COMPLETED,
    "partial": PARTIAL,
    "canceled": CANCELED,
    "cancelled": CANCELED,
    "refunded": REFUNDED,
}

SUBSCRIPTION_DELAYS = frozenset(
    {0, 5, 10, 15, 30, 60, 90, 120, 150, 180, 210, 240, 270, 300, 360, 420, 480, 540, 600}
)
_LINK = re.compile(r"^(https?://)?[\w.-]+\.[a-z]{2,}(/\S*)?$", re.I)
_FIELD_LABELS = {
    "link": "Link",
    "quantity": "Quantity",
    "keywords": "Keywords list",
    "comments": "Comments list",
    "usernames": "Usernames list",
    "hashtags": "Hashtags list",
    "username": "Username",
    "media": "Media URL",
    "groups": "Groups list",
    "answer_number": "Answer number",
    "min": "Quantity min",
    "max": "Quantity max",
    "delay": "Delay",
    "country": "Country",
    "device": "Device",
    "type_of_traffic": "Type of traffic",
}


class Refusal(Exception):
    """The panel refuses a request; the message is the panel's own words."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def money(amount: Decimal) -> Decimal:
    """Round an amount the way panels keep it: five decimals."""
    return amount.quantize(CENT_FRACTION, rounding=ROUND_HALF_UP)


class SandboxClock:
    """Seconds since the sandbox started: real time × ``speed`` plus every ``advance``."""

    def __init__(self, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self._started = time.monotonic()
        self._offset = 0.0
        self._wall_start = datetime.now(UTC)

    def now(self) -> float:
        """Sandbox seconds elapsed."""
        return (time.monotonic() - self._started) * self.speed + self._offset

    def advance(self, seconds: float) -> None:
        """Move the clock forward (never back)."""
        if seconds < 0:
            raise ValueError("the sandbox clock only moves forward")
        self._offset += seconds

    def datetime_at(self, moment: float) -> datetime:
        """The UTC date and time a sandbox moment stands for."""
        return self._wall_start + timedelta(seconds=moment)


@dataclass(slots=True)
class SandboxOrder:
    """One order the sandbox panel accepted, with its planned course and what happened."""

    order_id: str
    seq: int
    service: CatalogService
    dialect: str
    params: dict[str, str]
    link: str
    quantity: int
    runs: int | None
    charge: Decimal
    created_at: float
    start_at: float
    finish_at: float
    outcome: str
    outcome_remains: int
    start_count: int
    clock: SandboxClock = field(repr=False)
    refunded: Decimal = Decimal(0)
    pinned_status: str | None = None
    pinned_remains: int | None = None
    # The status answer says "remains": "Unknown" (a test control).
    remains_unknown: bool = False
    settled: bool = False
    refill_ids: list[str] = field(default_factory=list)
    cancel_id: str | None = None

    @property
    def service_id(self) -> str:
        """The ordered service's ID, as the API sends it."""
        return str(self.service.service_id)

    @property
    def type(self) -> OrderType:
        """The ordered service's order type."""
        return self.service.type

    @property
    def kind(self) -> str:
        """What a cancel applies to: "subscription", "dripfeed" or "order"."""
        if self.service.type is OrderType.SUBSCRIPTIONS:
            return "subscription"
        return "dripfeed" if self.runs else "order"

    @property
    def final_at(self) -> float:
        """When the order reaches its final status on its own."""
        return self.start_at if self.outcome == CANCELED else self.finish_at

    def status_at(self, moment: float) -> tuple[str, int]:
        """The status and remains the panel shows at a sandbox moment."""
        if self.pinned_status is not None:
            return self.pinned_status, self.pinned_remains or 0
        if moment < self.start_at:
            return PENDING, self.quantity
        if self.outcome == CANCELED:
            return CANCELED, self.quantity
        if moment < self.finish_at:
            target = self.quantity - self.outcome_remains
            share = (moment - self.start_at) / max(self.finish_at - self.start_at, 1e-9)
            return IN_PROGRESS, self.quantity - int(target * share)
        return self.outcome, self.outcome_remains

    @property
    def status(self) -> str:
        """The status right now ("Pending", "In progress", "Completed", ...)."""
        return self.status_at(self.clock.now())[0]

    @property
    def remains(self) -> int:
        """Units not delivered yet, right now."""
        return self.status_at(self.clock.now())[1]

    def refund_for(self, status: str, remains: int) -> Decimal:
        """What the panel gives back for an order that ends in ``status``."""
        if status in (CANCELED, REFUNDED):
            return self.charge
        if status == PARTIAL and self.quantity > 0:
            return money(self.charge * min(remains, self.quantity) / self.quantity)
        return Decimal(0)

    def shown_charge(self, status: str, remains: int) -> Decimal:
        """The charge a status answer shows: what the panel keeps after refunds."""
        if status in FINAL_STATUSES:
            return self.charge - self.refund_for(status, remains)
        return self.charge


@dataclass(slots=True)
class SandboxRefill:
    """A refill request and its course: Pending, In progress, Completed or Rejected."""

    refill_id: str
    order_id: str
    created_at: float
    start_at: float
    finish_at: float
    outcome: str

    def status_at(self, moment: float) -> str:
        """The refill's status at a sandbox moment."""
        if moment < self.start_at:
            return PENDING
        if self.outcome == REJECTED:
            return REJECTED
        return IN_PROGRESS if moment < self.finish_at else COMPLETED


@dataclass(slots=True)
class SandboxCancel:
    """A cancel request; the sandbox cancels at once, so it is Completed."""

    cancel_id: str
    order_id: str
    kind: str
    status: str = COMPLETED


def canonical_status(raw: str) -> str:
    """Map "completed", "In progress", "in_progress", ... onto the panel's own words."""
    key = re.sub(r"[^a-z]", "", str(raw).lower())
    try:
        return _STATUS_WORDS[key]
    except KeyError:
        raise ValueError(f"unknown order status {raw!r}") from None


class SandboxBooks:
    """Balance, catalog, orders, refills and cancels shared by every dialect."""

    def __init__(
        self,
        catalog: list[CatalogService],
        *,
        balance: Decimal,
        clock: SandboxClock,
        seed: int,
        currency: str,
    ) -> None:
        self.catalog = catalog
        self.services = {str(s.service_id): s for s in catalog}
        self.balance = balance
        self.clock = clock
        self.seed = seed
        self.currency = currency
        self.orders: dict[str, SandboxOrder] = {}
        self.refills: dict[str, SandboxRefill] = {}
        self.cancels: dict[str, SandboxCancel] = {}
        self._order_seq = 0
        self._refill_seq = 0
        self._cancel_seq = 0
        # (moment the order ends on its own, order ID): refunds wait here until due.
        self._due: list[tuple[float, int, str]] = []

    # ------------------------------------------------------------------ settling

    def settle(self) -> None:
        """Credit refunds of orders that ended Partial or Canceled since the last look."""
        now = self.clock.now()
        while self._due and self._due[0][0] <= now:
            _, _, order_id = heapq.heappop(self._due)
            order = self.orders.get(order_id)
            if order is None or order.settled or order.pinned_status is not None:
                continue
            order.settled = True
            self._refund_to(order, order.refund_for(order.outcome, order.outcome_remains))

    def _refund_to(self, order: SandboxOrder, target: Decimal) -> None:
        self.balance += target - order.refunded
        order.refunded = target

    # ------------------------------------------------------------------ orders

    def place_order(
        self, dialect: str, params: Mapping[str, str], *, link_field: str = "link"
    ) -> SandboxOrder:
        """Validate an ``add`` like a real panel, charge the balance and open the order."""
        service = self.services.get(params.get("service", "").strip())
        if service is None:
            raise Refusal("Incorrect service ID")
        fields = dict(params)
        if link_field != "link":
            fields["link"] = fields.pop(link_field, "")
        quantity, runs, interval = self._check_fields(service, fields)
        units = quantity
        if service.type is OrderType.SUBSCRIPTIONS:
            posts = _int(fields.get("posts")) or 0
            old_posts = _int(fields.get("old_posts")) or 0
            units = quantity * max(1, posts + old_posts)
        if runs:
            units *= runs
        charge = service.rate if service.per_package else money(service.rate * units / 1000)
        self.settle()
        if charge > self.balance:
            raise Refusal("Not enough funds on balance")
        self.balance -= charge
        return self._open(dialect, service, fields, units, runs, interval, charge)

    def _check_fields(
        self, service: CatalogService, fields: dict[str, str]
    ) -> tuple[int, int | None, int | None]:
        """Raise ``Refusal`` for the first field a panel would refuse; return the counts."""
        kind = service.type
        for name in REQUIRED_FIELDS[kind]:
            if not fields.get(name, "").strip():
                if name == "link":
                    raise Refusal("Incorrect link")
                if name == "quantity":
                    raise Refusal("Incorrect quantity")
                raise Refusal(f"{_FIELD_LABELS[name]} is required")
        link = fields.get("link", "").strip()
        if "link" in REQUIRED_FIELDS[kind] and not _LINK.match(link):
            raise Refusal("Incorrect link")
        if kind in QUANTITY_FROM_LIST:
            quantity = len(_lines(fields[QUANTITY_FROM_LIST[kind]]))
        elif kind in PER_PACKAGE:
            quantity = 1
        elif kind is OrderType.SUBSCRIPTIONS:
            low, high = _int(fields["min"]), _int(fields["max"])
            if low is None or high is None or low > high:
                raise Refusal("Incorrect min or max quantity")
            if low < service.min:
                raise Refusal(f"Quantity less than minimal {service.min}")
            if high > service.max:
                raise Refusal(f"Quantity more than maximal {service.max}")
            if _int(fields["delay"]) not in SUBSCRIPTION_DELAYS:
                raise Refusal("Incorrect delay")
            if fields.get("expiry", "").strip() and not _is_dmy(fields["expiry"]):
                raise Refusal("Incorrect expiry date")
            quantity = high
        else:
            number = _int(fields["quantity"])
            if number is None:
                raise Refusal("Incorrect quantity")
            quantity = number
        if kind not in PER_PACKAGE and kind is not OrderType.SUBSCRIPTIONS:
            if quantity < service.min:
                raise Refusal(f"Quantity less than minimal {service.min}")
            if quantity > service.max:
                raise Refusal(f"Quantity more than maximal {service.max}")
        if kind is OrderType.CUSTOM_COMMENTS_PACKAGE and not _lines(fields["comments"]):
            raise Refusal("Comments list is required")
        if kind is OrderType.POLL and (_int(fields["answer_number"]) or 0) < 1:
            raise Refusal("Incorrect answer number")
        if kind is OrderType.WEB_TRAFFIC:
            _check_traffic(fields)
        runs, interval = self._check_dripfeed(service, fields)
        return quantity, runs, interval

    @staticmethod
    def _check_dripfeed(
        service: CatalogService, fields: Mapping[str, str]
    ) -> tuple[int | None, int | None]:
        raw_runs = fields.get("runs", "").strip()
        raw_interval = fields.get("interval", "").strip()
        if not raw_runs and not raw_interval:
            return None, None
        if service.type not in DRIPFEED_TYPES or not service.dripfeed:
            raise Refusal("Drip-feed is not available for this service")
        runs, interval = _int(raw_runs), _int(raw_interval)
        if runs is None or runs < 2:
            raise Refusal("Incorrect runs")
        if interval is None or interval < 1:
            raise Refusal("Incorrect interval")
        return runs, interval

    def _open(
        self,
        dialect: str,
        service: CatalogService,
        fields: dict[str, str],
        units: int,
        runs: int | None,
        interval: int | None,
        charge: Decimal,
    ) -> SandboxOrder:
        self._order_seq += 1
        seq = self._order_seq
        order_id = str(FIRST_ORDER_ID + seq - 1)
        rng = random.Random(f"sandbox-order:{self.seed}:{seq}")
        now = self.clock.now()
        start_at = now + 15 + rng.uniform(0, 30)
        run = 60 + min(240.0, units / 50) + rng.uniform(0, 60)
        if runs and interval:
            run += (runs - 1) * interval * 60
        outcome, remains = COMPLETED, 0
        if seq % 11 == 0:
            outcome, remains = CANCELED, units
        elif seq % 7 == 0 and units > 1:
            outcome, remains = PARTIAL, max(1, int(units * rng.uniform(0.1, 0.6)))
        order = SandboxOrder(
            order_id=order_id,
            seq=seq,
            service=service,
            dialect=dialect,
            params={k: v for k, v in fields.items() if k not in ("key", "action")},
            link=fields.get("link", "") or fields.get("username", ""),
            quantity=units,
            runs=runs,
            charge=charge,
            created_at=now,
            start_at=start_at,
            finish_at=start_at + run,
            outcome=outcome,
            outcome_remains=remains,
            start_count=rng.randint(0, 50_000),
            clock=self.clock,
        )
        self.orders[order_id] = order
        heapq.heappush(self._due, (order.final_at, seq, order_id))
        return order

    def set_status(self, order_id: str, status: str, remains: int | None = None) -> None:
        """Pin an order to ``status`` (refunding or charging back as a panel would)."""
        order = self.orders[str(order_id)]
        word = canonical_status(status)
        if remains is None:
            remains = {
                PENDING: order.quantity,
                COMPLETED: 0,
                CANCELED: order.quantity,
                REFUNDED: order.quantity,
            }.get(word, max(1, order.quantity // 2))
        remains = max(0, min(remains, order.quantity))
        order.pinned_status, order.pinned_remains = word, remains
        self._refund_to(order, order.refund_for(word, remains))

    def forget_order(self, order_id: str) -> None:
        """Make the panel stop knowing an order (it answers "Incorrect order ID")."""
        self.orders.pop(str(order_id), None)

    def status_view(self, order: SandboxOrder) -> dict[str, str]:
        """The v2 status object for one order, numbers as strings."""
        status, remains = order.status_at(self.clock.now())
        return {
            "charge": money_text(order.shown_charge(status, remains)),
            "start_count": "0" if status == PENDING else str(order.start_count),
            "status": status,
            "remains": "Unknown" if order.remains_unknown else str(remains),
            "currency": self.currency,
        }

    # ------------------------------------------------------------------ refills

    def request_refill(self, order_id: str) -> SandboxRefill:
        """Open a refill for a completed order of a refill-enabled service."""
        order = self.orders.get(order_id.strip())
        if order is None:
            raise Refusal("Incorrect order ID")
        if not order.service.refill:
            raise Refusal("Refill is disabled for this service")
        status, _ = order.status_at(self.clock.now())
        if status != COMPLETED:
            raise Refusal("Order is not completed yet")
        now = self.clock.now()
        for earlier in order.refill_ids:
            refill = self.refills.get(earlier)
            if refill is not None and refill.status_at(now) not in (COMPLETED, REJECTED):
                raise Refusal("Refill request was sent earlier")
        self._refill_seq += 1
        seq = self._refill_seq
        rng = random.Random(f"sandbox-refill:{self.seed}:{seq}")
        start_at = now + 30 + rng.uniform(0, 60)
        refill = SandboxRefill(
            refill_id=str(FIRST_REFILL_ID + seq - 1),
            order_id=order.order_id,
            created_at=now,
            start_at=start_at,
            finish_at=start_at + 120 + rng.uniform(0, 180),
            outcome=REJECTED if seq % 5 == 0 else COMPLETED,
        )
        self.refills[refill.refill_id] = refill
        order.refill_ids.append(refill.refill_id)
        return refill

    # ------------------------------------------------------------------ cancels

    def request_cancel(self, order_id: str) -> SandboxCancel:
        """Cancel a not-yet-final order of a cancel-enabled service and refund it."""
        order = self.orders.get(order_id.strip())
        if order is None:
            raise Refusal("Incorrect order ID")
        if order.cancel_id is not None:
            raise Refusal("Cancellation request was sent earlier")
        if not order.service.cancel:
            raise Refusal("Cancel is disabled for this service")
        status, _ = order.status_at(self.clock.now())
        if status in FINAL_STATUSES:
            raise Refusal(f"Order is already {status.lower()}")
        self._cancel_seq += 1
        cancel = SandboxCancel(
            cancel_id=str(FIRST_CANCEL_ID + self._cancel_seq - 1),
            order_id=order.order_id,
            kind=order.kind,
        )
        self.cancels[cancel.cancel_id] = cancel
        order.cancel_id = cancel.cancel_id
        self.set_status(order.order_id, CANCELED)
        return cancel


# ---------------------------------------------------------------------- field checks


def _check_traffic(fields: Mapping[str, str]) -> None:
    if _int(fields["device"]) not in range(1, 6):
        raise Refusal("Incorrect device")
    kind = _int(fields["type_of_traffic"])
    if kind not in (1, 2, 3):
        raise Refusal("Incorrect type of traffic")
    if kind == 1 and not fields.get("google_keyword", "").strip():
        raise Refusal("Google keyword is required")
    if kind == 2 and not fields.get("referring_url", "").strip():
        raise Refusal("Referring URL is required")


def _int(raw: str | None) -> int | None:
    if raw is None:
        return None
    text = raw.strip()
    if not re.fullmatch(r"-?\d{1,12}", text):
        return None
    return int(text)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in re.split(r"\r?\n", text) if line.strip()]


def _is_dmy(text: str) -> bool:
    try:
        datetime.strptime(text.strip(), "%d/%m/%Y").replace(tzinfo=UTC)
    except ValueError:
        return False
    return True


def money_text(amount: Decimal) -> str:
    """Five decimals, the way v2 panels print charges and balances ("0.27819")."""
    return f"{money(amount):f}"
