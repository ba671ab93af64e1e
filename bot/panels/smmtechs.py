"""The smmtechs "method" API: ``<url>/<METHOD>?params&api_key=KEY``, answers in ``response``.

It is not API v2: a service is a task *type* priced per single action, an order is a *task*
(``newTask``), its progress comes from ``getTaskStat`` one task at a time, and the panel caps
requests per hour and per day. This module maps it onto ``PanelClient`` as far as it goes:
no refill, no cancel, no drip-feed, no balance, Default orders only.

Answers are sloppy (the vendor's own examples say ``"success": 0`` next to a full type list),
so reads trust the data they can find and money decisions trust only unambiguous answers.
The API key travels in the query string, so no URL and no aiohttp exception text that could
hold it is ever put into a message or a log line.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import time
from collections import deque
from collections.abc import Callable, Coroutine, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from bot.panels.base import (
    PanelClient,
    PanelConfig,
    outcome_of_failed_add,
    with_retries,
)
from bot.panels.errors import (
    AuthError,
    InvalidRequest,
    OrderOutcomeUnknown,
    PanelError,
    PanelRejected,
    PanelUnavailable,
    RateLimited,
    error_from_message,
)
from bot.panels.models import (
    PER_THOUSAND,
    Capabilities,
    OrderRequest,
    OrderStatus,
    OrderStatusInfo,
    OrderType,
    Service,
    chunked,
    parse_bool,
    parse_decimal,
    parse_int,
)
from bot.panels.v2 import SloppyJsonTransport

log = logging.getLogger(__name__)

DEFAULT_HOURLY_LIMIT = 1000
DEFAULT_DAILY_LIMIT = 10_000
DEFAULT_CONCURRENCY = 4
# getTypes gives no bounds; one action up to a generous ceiling keeps every type orderable.
DEFAULT_MIN_QUANTITY = 1
DEFAULT_MAX_QUANTITY = 100_000
TASK_NAME_PREFIX = "smmbot-"
INCORRECT_ORDER_ID = "Incorrect order ID"
MIN_SCRUBBED_KEY = 6

HOUR = 3600.0
DAY = 24 * HOUR


# --------------------------------------------------------------------------- request budget


class RequestBudget:
    """Count requests in sliding hour and day windows; refuse one that would pass a limit.

    A sliding window never allows more than the limit in *any* hour or day, so it also keeps
    within a panel that counts per calendar hour or day.
    """

    def __init__(
        self,
        *,
        per_hour: int = DEFAULT_HOURLY_LIMIT,
        per_day: int = DEFAULT_DAILY_LIMIT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if per_hour < 1 or per_day < 1:
            raise ValueError("request limits must be at least 1")
        self.per_hour = per_hour
        self.per_day = per_day
        self._clock = clock
        self._last_hour: deque[float] = deque()
        self._last_day: deque[float] = deque()

    def __repr__(self) -> str:
        return f"RequestBudget(per_hour={self.per_hour}, per_day={self.per_day})"

    def _forget_old(self, now: float) -> None:
        while self._last_hour and self._last_hour[0] <= now - HOUR:
            self._last_hour.popleft()
        while self._last_day and self._last_day[0] <= now - DAY:
            self._last_day.popleft()

    @property
    def remaining(self) -> int:
        """Requests that may be sent now before a limit is reached."""
        self._forget_old(self._clock())
        return max(
            0, min(self.per_hour - len(self._last_hour), self.per_day - len(self._last_day))
        )

    def spend(self, *, panel: str = "") -> None:
        """Record one request, or raise ``RateLimited`` (with the wait) when none is left."""
        now = self._clock()
        self._forget_old(now)
        if len(self._last_day) >= self.per_day:
            wait = self._last_day[0] + DAY - now
            raise RateLimited(
                f"the daily limit of {self.per_day} requests to this panel is used up",
                panel=panel,
                retry_after=max(wait, 0.0),
            )
        if len(self._last_hour) >= self.per_hour:
            wait = self._last_hour[0] + HOUR - now
            raise RateLimited(
                f"the hourly limit of {self.per_hour} requests to this panel is used up",
                panel=panel,
                retry_after=max(wait, 0.0),
            )
        self._last_hour.append(now)
        self._last_day.append(now)


class _Final(Exception):
    """Carries a ``PanelError`` out of ``with_retries`` untouched: retrying cannot help it."""

    def __init__(self, error: PanelError) -> None:
        super().__init__(error.message)
        self.error = error


# --------------------------------------------------------------------------- answer reading

_ERROR_KEYS = ("error", "error_msg", "error_message", "errors")
# Words that are an error only when the answer also says it failed.
_NOTE_KEYS = ("message", "msg", "text")
_ID_KEYS = ("id", "tid", "task_id", "taskid", "order", "order_id")
_QUANTITY_KEYS = ("quantity", "need_count", "max_count")
_STATUS_KEYS = ("status", "state", "task_status")
# The panel's own request caps, worded in many ways ("Hourly limit of requests exceeded").
_PANEL_LIMIT = re.compile(
    r"(hourly|daily|request)\w*\b.*\blimit|\blimit\b.*\b(hour|day|daily|requests?)\b", re.I
)
# Words that say the task ID itself is what the panel does not know.
_UNKNOWN_TASK = re.compile(r"\btask\b|\btid\b|\bexist|\bnot (yours|your)\b", re.I)
_STOPPED_WORDS = frozenset(
    {"0", "stopped", "stop", "finished", "done", "completed", "canceled", "cancelled",
     "deleted", "closed", "ended", "off", "inactive", "paused", "false"}
)  # fmt: skip
_PLATFORMS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.I), name)
    for pattern, name in (
        (r"you\s?tube", "YouTube"),
        (r"twitter|tweet|\bx\.com\b", "Twitter"),
        (r"instagram|\binsta\b|\big\b", "Instagram"),
        (r"facebook|\bfb\b", "Facebook"),
        (r"tik\s?tok", "TikTok"),
        (r"telegram|\btg\b", "Telegram"),
        (r"vkontakte|\bvk\b", "VK"),
        (r"odnoklassniki|\bok\.ru\b", "Odnoklassniki"),
        (r"twitch", "Twitch"),
        (r"spotify", "Spotify"),
        (r"soundcloud", "SoundCloud"),
        (r"discord", "Discord"),
        (r"reddit", "Reddit"),
        (r"linked\s?in", "LinkedIn"),
        (r"pinterest", "Pinterest"),
        (r"\bthreads\b", "Threads"),
        (r"snapchat", "Snapchat"),
        (r"likee", "Likee"),
        (r"rutube", "Rutube"),
    )
)
OTHER_PLATFORM = "Other"


def platform_of(description: str) -> str:
    """Name the social network a type's description is about ("YouTube", "Twitter", …)."""
    for pattern, name in _PLATFORMS:
        if pattern.search(description):
            return name
    return OTHER_PLATFORM


def _success(payload: Mapping[str, Any]) -> bool | None:
    """The ``success`` flag, or None when the answer has none."""
    if "success" not in payload or payload["success"] is None:
        return None
    return parse_bool(payload["success"])


def _text_of(value: Any) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, Mapping):
        # VK-style {"error": {"error_code": 5, "error_msg": "..."}} and friends.
        for key in (*_ERROR_KEYS, *_NOTE_KEYS):
            text = _text_of(value.get(key))
            if text:
                return text
        return None
    if isinstance(value, list):
        texts = [t for t in (_text_of(v) for v in value) if t]
        return "; ".join(texts) or None
    text = str(value).strip()
    return text or None


def _error_text(payload: Mapping[str, Any], success: bool | None) -> str | None:
    """What the panel says went wrong, wherever it put it; None when it says nothing."""
    keys = (*_ERROR_KEYS, *_NOTE_KEYS) if success is False else _ERROR_KEYS
    for key in keys:
        if key in payload:
            text = _text_of(payload[key])
            if text:
                return text
    response = payload.get("response")
    if success is False:
        if isinstance(response, str) and response.strip() and not response.strip().isdigit():
            return response.strip()
        if isinstance(response, Mapping):
            for key in (*_ERROR_KEYS, *_NOTE_KEYS):
                text = _text_of(response.get(key))
                if text:
                    return text
    return None


def _items(data: Any) -> Iterator[tuple[str | None, Mapping[str, Any]]]:
    """Yield ``(key, object)`` from a list of objects or an object of objects."""
    if isinstance(data, Mapping):
        for key, value in data.items():
            if isinstance(value, Mapping):
                yield str(key), value
    elif isinstance(data, list):
        for value in data:
            if isinstance(value, Mapping):
                yield None, value


def _first(obj: Mapping[str, Any], keys: Sequence[str]) -> Any:
    for key in keys:
        if obj.get(key) is not None and obj.get(key) != "":
            return obj[key]
    return None


def _task_id(payload: Mapping[str, Any]) -> str | None:
    """The new task's ID from ``{"response": {"id": …}}`` or a top-level ``id``."""
    response = payload.get("response")
    for source in (response, payload):
        if isinstance(source, Mapping):
            number = parse_int(_first(source, _ID_KEYS))
            if number is not None and number > 0:
                return str(number)
    return None


def _stopped(raw: Any) -> bool | None:
    """True when a task's status says it no longer runs, False when it runs, None if unsaid."""
    if raw is None or raw == "":
        return None
    text = str(raw).strip().lower()
    if text in _STOPPED_WORDS:
        return True
    if text in {"1", "true", "active", "running", "on", "started", "in progress", "working"}:
        return False
    return None


@dataclass(frozen=True, slots=True)
class TaskDetail:
    """What ``getTasks`` says about one task: how many actions were ordered and its status."""

    task_id: str
    quantity: int | None
    raw_status: str
    task_name: str = ""


def _read_tasks(data: Any) -> dict[str, TaskDetail]:
    """Parse ``getTasks``: a list or an object of task objects, keyed by task ID."""
    if isinstance(data, Mapping):
        nested = _first(data, ("tasks", "items", "list", "data"))
        if nested is not None:
            data = nested
    tasks: dict[str, TaskDetail] = {}
    for key, obj in _items(data):
        number = parse_int(_first(obj, _ID_KEYS))
        if number is None and key is not None:
            number = parse_int(key)
        if number is None:
            continue
        raw = _first(obj, _STATUS_KEYS)
        tasks[str(number)] = TaskDetail(
            task_id=str(number),
            quantity=parse_int(_first(obj, _QUANTITY_KEYS)),
            raw_status="" if raw is None else str(raw).strip(),
            task_name=str(obj.get("task_name") or obj.get("name") or ""),
        )
    return tasks


_MAX_IN_NAME = re.compile(r"\bmax\.?\s*(\d+(?:[.,]\d+)?)\s*([km])?\b", re.I)
_SCALE = {"": 1, "k": 1000, "m": 1_000_000}


def _max_in(description: str) -> int | None:
    """Read a ceiling resellers write into names ("… | Max 10K | …"); None when absent."""
    match = _MAX_IN_NAME.search(description)
    if match is None:
        return None
    number = parse_decimal(match.group(1))
    if number is None:
        return None
    return int(number * _SCALE[(match.group(2) or "").lower()])


def _service_from(key: str | None, obj: Mapping[str, Any]) -> Service | None:
    """One ``getTypes`` entry as a ``Service``; None when it has no type ID or price."""
    type_id = parse_int(_first(obj, ("type", "type_id", "id")))
    price = parse_decimal(_first(obj, ("price", "cost", "rate")))
    if type_id is None or price is None or price < 0:
        log.warning("skipping an unreadable smmtechs type (entry %s)", key)
        return None
    description = str(obj.get("desc") or obj.get("description") or obj.get("name") or "").strip()
    low = parse_int(_first(obj, ("min", "min_count", "min_quantity")))
    high = parse_int(_first(obj, ("max", "max_count", "max_quantity"))) or _max_in(description)
    return Service(
        service_id=str(type_id),
        name=description or f"Type {type_id}",
        type=OrderType.DEFAULT,
        type_name=OrderType.DEFAULT.value,
        category=platform_of(description),
        # The panel prices one action; the rest of the bot prices per 1000.
        rate=price * PER_THOUSAND,
        min=low if low is not None and low > 0 else DEFAULT_MIN_QUANTITY,
        max=high if high is not None and high > 0 else DEFAULT_MAX_QUANTITY,
        description=description,
    )


def _status_from(
    task_id: str, stat: Mapping[str, Any], quantity: int | None, raw_status: str
) -> OrderStatusInfo:
    """Map a task's progress counters (and its run state, when known) onto one status."""
    count = max(parse_int(stat.get("count")) or 0, 0)
    returned = parse_decimal(stat.get("money_returned")) or Decimal(0)
    raw = raw_status or str(_first(stat, _STATUS_KEYS) or "").strip()
    stopped = _stopped(raw)
    remains = max(quantity - count, 0) if quantity is not None else None
    if quantity is not None and count >= quantity:
        status = OrderStatus.COMPLETED
    elif stopped and returned > 0:
        # The panel stopped the task and gave back what was not done.
        status = OrderStatus.PARTIAL if count > 0 else OrderStatus.CANCELED
    elif count > 0:
        status = OrderStatus.IN_PROGRESS
    else:
        status = OrderStatus.PENDING
    return OrderStatusInfo(
        order_id=task_id,
        status=status,
        raw_status=raw,
        charge=parse_decimal(stat.get("money_spent")),
        remains=remains,
    )


# --------------------------------------------------------------------------- the client


class SmmTechsClient(PanelClient):
    """smmtechs.com: task types, ``newTask``, ``getTaskStat`` per task, request limits."""

    dialect = "smmtechs"
    capabilities = Capabilities(
        refill=False,
        refill_status=False,
        cancel=False,
        cancel_status=False,
        # The method API documents no balance method.
        balance=False,
        dripfeed=False,
        per_service_flags=False,
        order_types=frozenset({OrderType.DEFAULT}),
    )

    def __init__(
        self,
        config: PanelConfig,
        *,
        hourly_limit: int = DEFAULT_HOURLY_LIMIT,
        daily_limit: int = DEFAULT_DAILY_LIMIT,
        concurrency: int = DEFAULT_CONCURRENCY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(config)
        # The vendor's examples are not valid JSON; forgive the same slips v2 panels make.
        self.transport = SloppyJsonTransport(config)
        self.budget = RequestBudget(per_hour=hourly_limit, per_day=daily_limit, clock=clock)
        self._concurrency = max(1, concurrency)
        # Ordered quantities never change: remember them instead of spending requests.
        self._quantities: dict[str, int] = {}

    # ----------------------------------------------------------------- plumbing

    def _method_url(self, method: str) -> str:
        return f"{self.config.url.rstrip('/')}/{method}"

    def _scrub(self, text: str) -> str:
        """Remove the API key from words a panel might echo back."""
        key = self.config.key
        # A real key is long; blanking a two-letter test key would only garble words.
        return text.replace(key, "***") if len(key) >= MIN_SCRUBBED_KEY else text

    def _hide_key(self, error: PanelError) -> PanelError:
        """Drop the key from the error's words and cut a cause chain that could show it."""
        key = self.config.key
        if not key:
            return error
        if key in error.message:
            error.message = self._scrub(error.message)
            error.args = (error.message,)
        cause: BaseException | None = error
        seen: set[int] = set()
        while cause is not None and id(cause) not in seen:
            seen.add(id(cause))
            if cause is not error and (key in str(cause) or key in repr(cause)):
                error.__cause__ = None
                error.__suppress_context__ = True
                break
            cause = cause.__cause__ or cause.__context__
        return error

    async def _send(self, method: str, params: Mapping[str, str]) -> Any:
        """Spend one request of the budget and send it; the key goes last, as documented."""
        try:
            self.budget.spend(panel=self.name)
        except RateLimited as e:
            raise _Final(e) from None
        query = {**params, "api_key": self.config.key}
        try:
            # POST, which the panel accepts like GET: aiohttp silently resends a GET whose
            # connection dropped, and a resent newTask is a second paid task.
            return await self.transport.request("POST", self._method_url(method), params=query)
        except PanelError as e:
            self._hide_key(e)
            raise

    def _api_error(self, text: str) -> PanelError:
        """Classify the panel's error words, its own request caps included."""
        text = self._scrub(text)
        if _PANEL_LIMIT.search(text):
            return RateLimited(text, panel=self.name)
        return error_from_message(text, panel=self.name)

    async def _read(self, method: str, params: Mapping[str, str]) -> Any:
        """Call an idempotent method with retries; return ``response`` or raise the error."""

        async def attempt() -> Any:
            payload = await self._send(method, params)
            if not isinstance(payload, Mapping):
                raise PanelUnavailable("the panel's answer is not an object", panel=self.name)
            success = _success(payload)
            error = _error_text(payload, success)
            data = payload.get("response")
            has_data = data not in (None, "", [], {})
            # The vendor's own examples pair "success": 0 with good data: trust the data
            # unless the panel also says what went wrong.
            if error and (success is False or (success is None and not has_data)):
                raise _Final(self._api_error(error))
            if has_data:
                return data
            if success is False:
                raise _Final(
                    PanelRejected("the panel refused without saying why", panel=self.name)
                )
            return data

        try:
            return await with_retries(
                attempt,
                retries=self.config.retries,
                backoff=self.config.backoff,
                what=f"{self.name} {method}",
            )
        except _Final as final:
            raise final.error from None

    # ----------------------------------------------------------------- catalog

    async def services(self) -> list[Service]:
        """Fetch every task type as a Default service priced per 1000 actions."""
        data = await self._read("getTypes", {})
        if isinstance(data, Mapping):
            nested = _first(data, ("types", "items", "list", "data"))
            if nested is not None:
                data = nested
        services: dict[str, Service] = {}
        for key, obj in _items(data):
            service = _service_from(key, obj)
            if service is not None:
                services.setdefault(service.service_id, service)
        if not services:
            # An empty catalog would hide every service from customers: treat it as a glitch.
            raise PanelUnavailable("the panel sent no task types", panel=self.name)
        return list(services.values())

    # ----------------------------------------------------------------- ordering

    async def add_order(self, request: OrderRequest) -> str:
        """Create one running task and return its ID; never retried."""
        self._check_request(request)
        assert request.link is not None and request.quantity is not None  # checked above
        task_name = TASK_NAME_PREFIX + secrets.token_hex(4)
        params = {
            "type": request.service_id.strip(),
            "url": request.link.strip(),
            "quantity": str(request.quantity),
            "status": "1",
            "task_name": task_name,
        }
        try:
            payload = await self._send("newTask", params)
        except _Final as final:
            raise final.error from None  # the budget refused: nothing was sent
        except PanelError as e:
            outcome = outcome_of_failed_add(e)
            if isinstance(outcome, OrderOutcomeUnknown):
                log.warning(
                    "%s: newTask %s may have been created: %s", self.name, task_name, e.message
                )
                outcome.message += f" (task name {task_name})"
                outcome.args = (outcome.message,)
            raise outcome from outcome.__cause__
        task_id = self._placed_task_id(payload, task_name)
        self._quantities[task_id] = request.quantity
        log.info("%s: task %s created as %s", self.name, task_name, task_id)
        return task_id

    def _check_request(self, request: OrderRequest) -> None:
        """Refuse what the method API cannot carry, before anything is sent."""
        if request.type is not OrderType.DEFAULT:
            raise InvalidRequest(
                f"this panel takes only Default orders, not {request.type.value}",
                panel=self.name,
            )
        if not request.service_id.strip().isdigit():
            raise InvalidRequest(
                f"service {request.service_id!r} is not a task type of this panel",
                panel=self.name,
            )
        if not request.link or not request.link.strip():
            raise InvalidRequest("link is required for Default orders", panel=self.name)
        if request.quantity is None or request.quantity < 1:
            raise InvalidRequest("quantity must be 1 or more", panel=self.name)
        if request.runs is not None or request.interval is not None:
            raise InvalidRequest("this panel does not offer drip-feed", panel=self.name)

    def _placed_task_id(self, payload: Any, task_name: str) -> str:
        """Read newTask's answer: an ID, a certain refusal, or an outcome we cannot know."""

        def unknown(why: str) -> OrderOutcomeUnknown:
            log.warning("%s: newTask %s: %s", self.name, task_name, why)
            return OrderOutcomeUnknown(
                f"the order may have been placed: {why} (task name {task_name})", panel=self.name
            )

        if not isinstance(payload, Mapping):
            raise unknown("the answer is not an object")
        success = _success(payload)
        error = _error_text(payload, success)
        task_id = _task_id(payload)
        if task_id is not None:
            if success is False:
                raise unknown(f"the panel said it failed yet gave task ID {task_id}")
            if error:
                log.warning("%s: task %s created with a note: %s", self.name, task_id, error)
            return task_id
        if error and success is not True:
            raise self._api_error(error)
        if success is False:
            raise PanelRejected("the panel refused the task without saying why", panel=self.name)
        raise unknown("the answer carries no task ID")

    # ----------------------------------------------------------------- tracking

    async def order_statuses(self, order_ids: Sequence[str]) -> dict[str, OrderStatusInfo]:
        """Ask getTaskStat for each task (a few at once), getTasks only when it matters."""
        results: dict[str, OrderStatusInfo] = {}
        stats: dict[str, Mapping[str, Any]] = {}
        asked = list(dict.fromkeys(order_ids))
        to_fetch: list[str] = []
        for order_id in asked:
            if order_id.strip().isdigit():
                to_fetch.append(order_id)
            else:
                results[order_id] = OrderStatusInfo(
                    order_id, OrderStatus.UNKNOWN, error=INCORRECT_ORDER_ID
                )
        gate = asyncio.Semaphore(self._concurrency)

        async def fetch(order_id: str) -> None:
            async with gate:
                outcome = await self._task_stat(order_id)
            if isinstance(outcome, OrderStatusInfo):
                results[order_id] = outcome
            else:
                stats[order_id] = outcome

        await self._run_all([fetch(order_id) for order_id in to_fetch])

        details: dict[str, TaskDetail] = {}
        unclear = [
            order_id for order_id, stat in stats.items() if self._needs_detail(order_id, stat)
        ]
        if unclear:
            details = await self._task_details(unclear)
            for task_id, detail in details.items():
                if detail.quantity is not None and detail.quantity > 0:
                    self._quantities[task_id] = detail.quantity
        for order_id, stat in stats.items():
            known = details.get(order_id)
            info = _status_from(
                order_id,
                stat,
                self._quantities.get(order_id),
                known.raw_status if known is not None else "",
            )
            if info.status.is_final:
                self._quantities.pop(order_id, None)
            results[order_id] = info
        return {order_id: results[order_id] for order_id in order_ids}

    async def _run_all(self, calls: list[Coroutine[Any, Any, None]]) -> None:
        """Run the per-task reads together; the first panel error stops the rest."""
        if not calls:
            return
        try:
            async with asyncio.TaskGroup() as group:
                for call in calls:
                    group.create_task(call)
        except BaseExceptionGroup as failed:
            first = next(
                (e for e in failed.exceptions if isinstance(e, PanelError)), failed.exceptions[0]
            )
            raise first from first.__cause__

    def _needs_detail(self, order_id: str, stat: Mapping[str, Any]) -> bool:
        """True when the stat alone cannot say how far along (or how final) the task is."""
        quantity = self._quantities.get(order_id)
        if quantity is None:
            return True
        count = parse_int(stat.get("count")) or 0
        returned = parse_decimal(stat.get("money_returned")) or Decimal(0)
        has_own_status = _first(stat, _STATUS_KEYS) is not None
        return count < quantity and returned > 0 and not has_own_status

    async def _task_stat(self, order_id: str) -> Mapping[str, Any] | OrderStatusInfo:
        """One task's counters, or a per-task error the caller can show or flag."""
        try:
            data = await self._read("getTaskStat", {"tid": order_id.strip()})
        except PanelRejected as e:
            # Only a refusal about the task itself is per task; "under maintenance" is not.
            about_task = isinstance(e, InvalidRequest) or _UNKNOWN_TASK.search(e.message)
            if isinstance(e, AuthError) or not about_task:
                raise
            text = e.message
            if not OrderStatusInfo(order_id, OrderStatus.UNKNOWN, error=text).not_found:
                text = f"{INCORRECT_ORDER_ID}: {text}"
            return OrderStatusInfo(order_id, OrderStatus.UNKNOWN, error=text)
        if isinstance(data, Mapping) and "count" in data:
            return data
        if isinstance(data, list) and len(data) == 1 and isinstance(data[0], Mapping):
            return data[0]
        if data in (None, "", [], {}):
            return OrderStatusInfo(
                order_id,
                OrderStatus.UNKNOWN,
                error=f"{INCORRECT_ORDER_ID}: the panel has no statistics for this task",
            )
        return OrderStatusInfo(
            order_id, OrderStatus.UNKNOWN, error=f"unreadable task statistics: {data!r:.80}"
        )

    async def _task_details(self, task_ids: Sequence[str]) -> dict[str, TaskDetail]:
        """Details of these tasks by ID (a panel that ignores ``tids`` lists them all)."""
        found: dict[str, TaskDetail] = {}
        for chunk in chunked(task_ids, self.capabilities.max_ids_per_request):
            found.update(await self._task_details_chunk(chunk))
        return found

    async def _task_details_chunk(self, task_ids: list[str]) -> dict[str, TaskDetail]:
        try:
            data = await self._read("getTasks", {"tids": ",".join(task_ids)})
        except (AuthError, RateLimited, PanelUnavailable):
            raise
        except PanelError as e:
            # Without details statuses stay non-final, which is safe for the money.
            log.warning("%s: getTasks failed: %s", self.name, e.message)
            return {}
        return _read_tasks(data)
