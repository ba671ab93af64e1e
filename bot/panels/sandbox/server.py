"""The sandbox panel: one aiohttp server speaking all five panel dialects over shared books.

Routes: ``/api/v2`` (smmtimes.com and smm.plus), ``/smmbros/api/v2``, ``/smmsend/api/v2``
and ``/api/method/<METHOD>`` (smmtechs). Each answers the way its vendor's API page shows,
quirks included; ``SandboxPanel`` also carries the plain-Python test controls.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import asynccontextmanager, suppress
from decimal import Decimal
from typing import Any, NamedTuple

from aiohttp import web

from bot.panels.base import PanelConfig
from bot.panels.models import OrderType
from bot.panels.sandbox.catalog import CatalogService, build_catalog, smmtechs_types
from bot.panels.sandbox.faults import DEFAULT_ERROR_MESSAGE, DEFAULT_LATENCY, Fault, Faults
from bot.panels.sandbox.state import (
    CANCELED,
    COMPLETED,
    FINAL_STATUSES,
    PARTIAL,
    PENDING,
    REFUNDED,
    Refusal,
    SandboxBooks,
    SandboxClock,
    SandboxOrder,
    money,
    money_text,
)

log = logging.getLogger(__name__)

V2_DIALECTS = ("v2", "smmbros", "smmsend")
DIALECT_PATHS = {
    "v2": "/api/v2",
    "smmbros": "/smmbros/api/v2",
    "smmsend": "/smmsend/api/v2",
    "smmtechs": "/api/method",
}
_DIALECT_ALIASES = {"smmtimes": "v2", "smmplus": "v2", "smm.plus": "v2"}
MAX_IDS = 100
# The order types each variant's ``add`` documents; smmtimes and smm.plus take all 16.
DIALECT_ORDER_TYPES: dict[str, frozenset[OrderType]] = {
    "v2": frozenset(OrderType),
    "smmbros": frozenset(
        {
            OrderType.DEFAULT,
            OrderType.PACKAGE,
            OrderType.CUSTOM_COMMENTS,
            OrderType.CUSTOM_COMMENTS_PACKAGE,
        }
    ),
    "smmsend": frozenset(
        {
            OrderType.DEFAULT,
            OrderType.CUSTOM_COMMENTS,
            OrderType.SUBSCRIPTIONS,
            OrderType.CUSTOM_COMMENTS_PACKAGE,
            OrderType.POLL,
        }
    ),
}
BAD_KEY = "Invalid API key"
BAD_REQUEST = "Incorrect request"
TOO_MANY_IDS = f"Maximum {MAX_IDS} IDs per request"
SMMBROS_REFILL_OK = "Your order successfully added for refill. Thank you for patience."
SMMBROS_CANCEL_OK = "Your order was successfully marked for cancellation. Thank you for patience."

_HTML_PAGE = (
    "<!DOCTYPE html>\n<html><head><title>{code} | Service Temporarily Unavailable</title>"
    "</head>\n<body><h1>Service Temporarily Unavailable</h1>\n<p>The server is temporarily "
    "unable to service your request due to maintenance downtime or capacity problems. "
    "Please try again later.</p>\n<hr><center>cloudflare</center></body></html>\n"
)
_HTTP500_PAGE = (
    "<html><head><title>500 Internal Server Error</title></head>\n<body>\n"
    "<center><h1>500 Internal Server Error</h1></center>\n<hr><center>nginx</center>\n"
    "</body></html>\n"
)
_HTTP502_PAGE = (
    "<html><head><title>502 Bad Gateway</title></head>\n<body>\n"
    "<center><h1>502 Bad Gateway</h1></center>\n<hr><center>nginx</center>\n</body></html>\n"
)
# A reply cut off mid-way, as when PHP dies while printing.
_BROKEN_JSON = '{"charge": "0.27819", "start_count": "3572", "status": "Par'

Handler = Callable[[dict[str, str]], Awaitable[web.Response]]


class SandboxRequest(NamedTuple):
    """One request that reached the sandbox: dialect, action or method, params (no key).

    ``fault`` names the staged failure it got instead of an answer, if any.
    """

    dialect: str
    action: str
    params: dict[str, str]
    fault: str | None = None


class RequestLimits:
    """smmtechs' hourly and daily request caps, counted per sandbox-clock hour and day."""

    def __init__(self, clock: SandboxClock, hourly: int | None, daily: int | None) -> None:
        self.hourly = hourly
        self.daily = daily
        self._clock = clock
        self._hour = (-1, 0)
        self._day = (-1, 0)

    def __repr__(self) -> str:
        return f"RequestLimits(hourly={self.hourly}, daily={self.daily})"

    def spend(self) -> str | None:
        """Count one request; return the panel's refusal when a limit is already used up."""
        now = self._clock.now()
        hour, day = int(now // 3600), int(now // 86_400)
        hour_count = self._hour[1] if self._hour[0] == hour else 0
        day_count = self._day[1] if self._day[0] == day else 0
        if self.daily is not None and day_count >= self.daily:
            return f"Daily request limit exceeded ({self.daily} requests per day)"
        if self.hourly is not None and hour_count >= self.hourly:
            return f"Hourly request limit exceeded ({self.hourly} requests per hour)"
        self._hour = (hour, hour_count + 1)
        self._day = (day, day_count + 1)
        return None


class SandboxPanel:
    """A realistic SMM panel on loopback for tests, trials and benchmarks."""

    def __init__(
        self,
        key: str = "sandbox-key",
        catalog_size: int = 120,
        balance: Decimal = Decimal(1000),
        seed: int = 7,
        speed: float = 1.0,
        currency: str = "USD",
        *,
        smmtechs_hourly_limit: int | None = 10_000,
        smmtechs_daily_limit: int | None = 100_000,
        sloppy_json: bool = False,
    ) -> None:
        self.key = key
        self.seed = seed
        self.currency = currency
        # True: smmbros answers with the very JSON slips its API page shows.
        self.sloppy_json = sloppy_json
        self.clock = SandboxClock(speed)
        self.catalog: list[CatalogService] = build_catalog(catalog_size, seed)
        self.books = SandboxBooks(
            self.catalog,
            balance=Decimal(balance),
            clock=self.clock,
            seed=seed,
            currency=currency,
        )
        self.faults = Faults()
        self.requests: list[SandboxRequest] = []
        self.smmtechs_limits = RequestLimits(
            self.clock, smmtechs_hourly_limit, smmtechs_daily_limit
        )
        self._techs_types = {str(s.service_id): s for s in smmtechs_types(self.catalog)}
        self._bodies: dict[str, bytes] = {}
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None
        self._stopping: asyncio.Event | None = None

    def __repr__(self) -> str:
        return f"SandboxPanel(url={self._base_url!r}, services={len(self.catalog)})"

    # ------------------------------------------------------------------ test controls

    @property
    def orders(self) -> dict[str, SandboxOrder]:
        """Every order the panel knows, by order ID."""
        return self.books.orders

    @property
    def balance(self) -> Decimal:
        """The reseller's balance on the panel (refunds due by now included)."""
        self.books.settle()
        return self.books.balance

    @balance.setter
    def balance(self, amount: Decimal) -> None:
        self.books.balance = Decimal(amount)

    def advance(self, seconds: float) -> None:
        """Move the sandbox clock forward so orders and refills progress."""
        self.clock.advance(seconds)
        self.books.settle()

    def set_status(
        self,
        order_id: str,
        status: str,
        remains: int | None = None,
        *,
        remains_unknown: bool = False,
    ) -> None:
        """Pin an order to a status ("Completed", "Partial", ...); it stops moving on its own.

        ``remains_unknown``: the status answer says ``"remains": "Unknown"``, as some panels
        do for a partial they cannot count.
        """
        self.books.settle()
        self.books.set_status(str(order_id), status, remains)
        self.books.orders[str(order_id)].remains_unknown = remains_unknown

    def set_rate(self, service_id: str | int, rate: Decimal) -> None:
        """Change a service's price (per 1000 or per package), as a panel does now and then."""
        old = self.books.services[str(service_id)]
        new = dataclasses.replace(old, rate=Decimal(rate), rate_text=str(rate))
        self.catalog[self.catalog.index(old)] = new
        self.books.services[str(service_id)] = new
        self._techs_types = {str(s.service_id): s for s in smmtechs_types(self.catalog)}
        self._bodies.clear()
        self._prepare_bodies()

    def forget_order(self, order_id: str) -> None:
        """Make the panel answer "Incorrect order ID" for an order from now on."""
        self.books.forget_order(str(order_id))

    def service(self, service_id: str | int) -> CatalogService:
        """The catalog's service with this ID."""
        return self.books.services[str(service_id)]

    def update_service(self, service_id: str | int, **changes: Any) -> CatalogService:
        """Change a service's listing (name, category...: panels edit them at will); the
        next catalog fetch shows it."""
        key = str(service_id)
        renamed = dataclasses.replace(self.books.services[key], **changes)
        self.books.services[key] = renamed
        self.catalog = [renamed if str(s.service_id) == key else s for s in self.catalog]
        self._bodies.clear()
        self._prepare_bodies()
        return renamed

    def find_service(
        self,
        order_type: OrderType | str = OrderType.DEFAULT,
        *,
        refill: bool | None = None,
        cancel: bool | None = None,
        dripfeed: bool | None = None,
        dialect: str = "v2",
    ) -> CatalogService:
        """The first service of a type (and flags) that ``dialect`` sells; for tests."""
        wanted = OrderType(order_type)
        sold = self._sold_by(dialect)
        for service in self.catalog:
            if (
                service.type is wanted
                and str(service.service_id) in sold
                and refill in (None, service.refill)
                and cancel in (None, service.cancel)
                and dripfeed in (None, service.dripfeed)
            ):
                return service
        raise LookupError(f"no {wanted.value} service with those flags in this catalog")

    def _sold_by(self, dialect: str) -> Mapping[str, CatalogService]:
        dialect = _DIALECT_ALIASES.get(dialect, dialect)
        if dialect == "smmtechs":
            return self._techs_types
        types = DIALECT_ORDER_TYPES[dialect]
        return {k: s for k, s in self.books.services.items() if s.type in types}

    # ------------------------------------------------------------------ serving

    @property
    def base_url(self) -> str:
        """``http://host:port`` of the running server."""
        if self._base_url is None:
            raise RuntimeError("the sandbox panel is not running; use serve() or start()")
        return self._base_url

    def url_for(self, dialect: str) -> str:
        """The API URL a client of ``dialect`` should use (smmtechs appends ``/METHOD``)."""
        path = DIALECT_PATHS[_DIALECT_ALIASES.get(dialect, dialect)]
        return self.base_url + path

    def config_for(
        self, dialect: str, *, name: str = "sandbox", timeout: float = 5.0, retries: int = 0
    ) -> PanelConfig:
        """A ``PanelConfig`` pointing a client of ``dialect`` at this sandbox."""
        dialect = _DIALECT_ALIASES.get(dialect, dialect)
        return PanelConfig(
            name=name,
            dialect=dialect,
            url=self.url_for(dialect),
            key=self.key,
            timeout=timeout,
            retries=retries,
            backoff=0.01,
        )

    @asynccontextmanager
    async def serve(self, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[str]:
        """Run the server while the block runs; yields the base URL."""
        base_url = await self.start(host, port)
        try:
            yield base_url
        finally:
            await self.stop()

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Start listening (port 0 picks a free one) and return the base URL."""
        if self._runner is not None:
            raise RuntimeError("the sandbox panel is already running")
        self._prepare_bodies()
        self._stopping = asyncio.Event()
        app = web.Application()
        for dialect in V2_DIALECTS:
            app.router.add_route("*", DIALECT_PATHS[dialect], self._v2_endpoint(dialect))
        app.router.add_route("*", "/api/method/{method}", self._smmtechs_endpoint)
        app.router.add_get("/", self._home)
        # Cancel a handler when its client goes away, so a "hang" never outlives it.
        runner = web.AppRunner(
            app, handler_cancellation=True, shutdown_timeout=1.0, access_log=None
        )
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        bound_port = runner.addresses[0][1]
        shown = "127.0.0.1" if host in ("", "0.0.0.0") else host
        shown = "[::1]" if shown == "::" else (f"[{shown}]" if ":" in shown else shown)
        self._base_url = f"http://{shown}:{bound_port}"
        log.info("sandbox panel listening on %s", self._base_url)
        return self._base_url

    async def stop(self) -> None:
        """Stop the server, ending any request still held by a fault."""
        if self._stopping is not None:
            self._stopping.set()
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
        self._base_url = None

    async def _pause(self, seconds: float | None) -> None:
        """Wait ``seconds`` (None: until the server stops), but never past a stop."""
        if self._stopping is None:
            return
        with suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    # ------------------------------------------------------------------ plumbing

    def _prepare_bodies(self) -> None:
        if self._bodies:
            return
        for dialect in V2_DIALECTS:
            sold = self._sold_by(dialect).values()
            self._bodies[dialect] = _dumps([_service_payload(s, dialect) for s in sold])
        self._bodies["smmtechs"] = _techs_types_body(self._techs_types.values())

    async def _home(self, request: web.Request) -> web.Response:
        lines = ["SMM sandbox panel", ""]
        lines += [f"{d:9} {self.url_for(d)}" for d in DIALECT_PATHS]
        return web.Response(text="\n".join(lines) + "\n")

    async def _admit(
        self, dialect: str, action: str, params: dict[str, str], handle: Handler
    ) -> web.Response:
        """Record a request, add latency, then answer it or stage the queued fault."""
        self.books.settle()
        fault = self.faults.take(dialect, action)
        self.requests.append(
            SandboxRequest(dialect, action, params, None if fault is None else fault.kind)
        )
        if self.faults.latency > 0:
            await self._pause(self.faults.latency)
        if fault is None:
            return await handle(params)
        return await self._stage(fault, dialect, params, handle)

    async def _stage(
        self, fault: Fault, dialect: str, params: dict[str, str], handle: Handler
    ) -> web.Response:
        kind = fault.kind
        if kind == "latency":
            await self._pause(DEFAULT_LATENCY if fault.seconds is None else fault.seconds)
            return await handle(params)
        if kind == "http500":
            return web.Response(status=500, text=_HTTP500_PAGE, content_type="text/html")
        if kind == "html":
            status = fault.status or 503
            page = _HTML_PAGE.format(code=status)
            return web.Response(status=status, text=page, content_type="text/html")
        if kind == "invalid_json":
            return web.Response(text=_BROKEN_JSON, content_type="application/json")
        if kind == "hang":
            await self._pause(None)
            return web.Response(status=504)
        if kind == "error_after_create":
            await handle(params)
            return web.Response(status=502, text=_HTTP502_PAGE, content_type="text/html")
        if kind == "rate_limit":
            return _json({"error": "Too many requests"}, status=429, headers={"Retry-After": "1"})
        if kind == "refuse_connection":
            raise _Dropped
        message = fault.message or DEFAULT_ERROR_MESSAGE
        body: dict[str, Any] = {"error": message}
        if dialect == "smmtechs":
            body = {"success": 0, "error": message}
        return _json(body, status=fault.status or 200)

    async def _run(
        self, request: web.Request, dialect: str, action: str, params: dict[str, str], h: Handler
    ) -> web.Response:
        try:
            return await self._admit(dialect, action, params, h)
        except _Dropped:
            # Drop the connection without a word: the client sees it closed under it.
            if request.transport is not None:
                request.transport.abort()
            return web.Response(status=500)

    # ------------------------------------------------------------------ API v2 family

    def _v2_endpoint(self, dialect: str) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def endpoint(request: web.Request) -> web.Response:
            params = await _read_params(request)
            key = params.pop("key", "")
            action = params.pop("action", "").strip()

            async def handle(p: dict[str, str]) -> web.Response:
                if key != self.key:
                    return _json({"error": BAD_KEY})
                return await self._v2_action(dialect, action.lower(), p)

            return await self._run(request, dialect, action, params, handle)

        return endpoint

    async def _v2_action(self, dialect: str, action: str, p: dict[str, str]) -> web.Response:
        if action == "services":
            return _raw(self._bodies[dialect])
        if action == "add":
            return self._add(dialect, p)
        if action == "status":
            return self._status(dialect, p)
        if action == "balance":
            return self._balance(dialect)
        if dialect == "smmbros" and action in ("refill", "cancel"):
            return self._smmbros_request(action, p)
        if action == "refill":
            return self._refill(dialect, p)
        if action == "refill_status":
            return self._refill_status(dialect, p)
        if action == "cancel":
            if dialect == "smmsend" and "cancels" in p:
                return self._cancel_status(p)
            return self._cancel(dialect, p)
        return _json({"error": BAD_REQUEST})

    def _add(self, dialect: str, p: dict[str, str]) -> web.Response:
        service = self.books.services.get(p.get("service", "").strip())
        if service is not None and service.type not in DIALECT_ORDER_TYPES[dialect]:
            words = "incorrect service type" if dialect == "smmbros" else "Incorrect service type"
            return _json({"error": words})
        link_field = "url" if dialect == "smmbros" else "link"
        try:
            order = self.books.place_order(dialect, p, link_field=link_field)
        except Refusal as e:
            return _json({"error": e.message})
        return _json({"order": int(order.order_id)})

    def _status(self, dialect: str, p: dict[str, str]) -> web.Response:
        if "orders" in p:
            ids = _split_ids(p["orders"])
            if len(ids) > MAX_IDS:
                return _json({"error": TOO_MANY_IDS})
            if not ids:
                return _json({"error": "Incorrect order ID"})
            answer: dict[str, Any] = {}
            for order_id in ids:
                order = self.books.orders.get(order_id)
                answer[order_id] = (
                    {"error": "Incorrect order ID"}
                    if order is None
                    else self.books.status_view(order)
                )
            return _json(answer)
        # smmsend documents only the many-order form.
        if "order" in p and dialect != "smmsend":
            order = self.books.orders.get(p["order"].strip())
            if order is None:
                return _json({"error": "Incorrect order ID"})
            return _json(self.books.status_view(order))
        return _json({"error": BAD_REQUEST if dialect == "smmsend" else "Incorrect order ID"})

    def _balance(self, dialect: str) -> web.Response:
        balance = self.balance
        if dialect == "smmbros":
            # smmbros sends the balance as a JSON number (and, per its page, a stray comma).
            number = f"{balance.normalize():f}" if balance else "0"
            tail = ",\n}" if self.sloppy_json else "\n}"
            text = f'{{\n\t"balance": {number},\n\t"currency": {json.dumps(self.currency)}{tail}'
            return _raw(text.encode())
        return _json({"balance": money_text(balance), "currency": self.currency})

    def _smmbros_request(self, action: str, p: dict[str, str]) -> web.Response:
        order_id = p.get("order", "").strip()
        try:
            if action == "refill":
                self.books.request_refill(order_id)
                message = SMMBROS_REFILL_OK
            else:
                self.books.request_cancel(order_id)
                message = SMMBROS_CANCEL_OK
        except Refusal as e:
            return _json({"error": e.message})
        if self.sloppy_json:
            text = f'{{\n\t"status": Success,\n\t"message": {json.dumps(message)}\n}}'
            return _raw(text.encode())
        return _json({"status": "Success", "message": message})

    def _refill(self, dialect: str, p: dict[str, str]) -> web.Response:
        if "orders" in p:
            ids = _split_ids(p["orders"])
            if len(ids) > MAX_IDS:
                return _json({"error": TOO_MANY_IDS})
            answer: list[dict[str, Any]] = []
            for order_id in ids:
                try:
                    refill: Any = int(self.books.request_refill(order_id).refill_id)
                except Refusal as e:
                    refill = {"error": e.message}
                answer.append({"order": _id_value(order_id), "refill": refill})
            return _json(answer)
        if "order" in p and dialect != "smmsend":
            try:
                made = self.books.request_refill(p["order"])
            except Refusal as e:
                return _json({"error": e.message})
            # The single form answers the ID as a string, the many form as a number.
            return _json({"refill": made.refill_id})
        return _json({"error": BAD_REQUEST if dialect == "smmsend" else "Incorrect order ID"})

    def _refill_status(self, dialect: str, p: dict[str, str]) -> web.Response:
        now = self.clock.now()
        if "refills" in p:
            ids = _split_ids(p["refills"])
            if len(ids) > MAX_IDS:
                return _json({"error": TOO_MANY_IDS})
            answer: list[dict[str, Any]] = []
            for refill_id in ids:
                refill = self.books.refills.get(refill_id)
                if refill is None:
                    answer.append(
                        {"refill": _id_value(refill_id), "status": {"error": "Refill not found"}}
                    )
                    continue
                # smmsend's page shows one item saying "type" where the rest say "status".
                word = "type" if dialect == "smmsend" and int(refill_id) % 3 == 2 else "status"
                answer.append({"refill": int(refill_id), word: refill.status_at(now)})
            return _json(answer)
        if "refill" in p and dialect != "smmsend":
            found = self.books.refills.get(p["refill"].strip())
            if found is None:
                return _json({"error": "Refill not found"})
            return _json({"status": found.status_at(now)})
        return _json({"error": BAD_REQUEST if dialect == "smmsend" else "Refill not found"})

    def _cancel(self, dialect: str, p: dict[str, str]) -> web.Response:
        if "orders" not in p:
            return _json({"error": BAD_REQUEST})
        ids = _split_ids(p["orders"])
        if len(ids) > MAX_IDS:
            return _json({"error": TOO_MANY_IDS})
        answer: list[dict[str, Any]] = []
        for order_id in ids:
            entry: dict[str, Any] = {"order": _id_value(order_id)}
            order = self.books.orders.get(order_id)
            if dialect == "smmsend":
                entry["type"] = order.kind if order is not None else "order"
            try:
                entry["cancel"] = int(self.books.request_cancel(order_id).cancel_id)
            except Refusal as e:
                entry["cancel"] = {"error": e.message}
            answer.append(entry)
        return _json(answer)

    def _cancel_status(self, p: dict[str, str]) -> web.Response:
        ids = _split_ids(p["cancels"])
        if len(ids) > MAX_IDS:
            return _json({"error": TOO_MANY_IDS})
        answer: list[dict[str, Any]] = []
        for cancel_id in ids:
            cancel = self.books.cancels.get(cancel_id)
            status: Any = cancel.status if cancel is not None else {"error": "Cancel not found"}
            answer.append({"cancel": _id_value(cancel_id), "status": status})
        return _json(answer)

    # ------------------------------------------------------------------ smmtechs

    async def _smmtechs_endpoint(self, request: web.Request) -> web.Response:
        params = await _read_params(request)
        key = params.pop("api_key", "")
        method = request.match_info["method"]

        async def handle(p: dict[str, str]) -> web.Response:
            if key != self.key:
                return _json({"success": 0, "error": BAD_KEY})
            refusal = self.smmtechs_limits.spend()
            if refusal is not None:
                return _json({"success": 0, "error": refusal})
            return self._smmtechs_method(method, p)

        return await self._run(request, "smmtechs", method, params, handle)

    def _smmtechs_method(self, method: str, p: dict[str, str]) -> web.Response:
        name = method.lower()
        try:
            if name == "gettypes":
                return _raw(self._bodies["smmtechs"])
            if name == "newtask":
                return _techs_ok({"id": int(self._new_task(p).order_id)})
            if name == "gettaskstat":
                return _techs_ok(self._task_stat(self._task(p)))
            if name == "gettasks":
                return _techs_ok(self._tasks(p))
            if name == "gettaskusers":
                return _techs_ok(self._task_users(self._task(p), p))
        except Refusal as e:
            return _json({"success": 0, "error": e.message})
        return _json({"success": 0, "error": "Unknown method"})

    def _new_task(self, p: dict[str, str]) -> SandboxOrder:
        if p.get("type", "").strip() not in self._techs_types:
            raise Refusal("Incorrect task type")
        fields = {"service": p["type"].strip(), "link": p.get("url", ""), **_pick(p, "quantity")}
        order = self.books.place_order("smmtechs", fields)
        order.params.update(_pick(p, "task_name", "status"))
        return order

    def _task(self, p: Mapping[str, str]) -> SandboxOrder:
        order = self.books.orders.get(p.get("tid", "").strip())
        if order is None:
            raise Refusal("Task not found")
        return order

    def _task_stat(self, order: SandboxOrder) -> dict[str, Any]:
        status, remains = order.status_at(self.clock.now())
        done = order.quantity - remains if status not in (CANCELED, REFUNDED) else 0
        if status in FINAL_STATUSES:
            spent, returned = order.charge - order.refunded, order.refunded
        else:
            spent = money(order.charge * done / order.quantity) if order.quantity else Decimal(0)
            returned = Decimal(0)
        return {
            "count": done,
            "bad_count": 0,
            "money_spent": _techs_money(spent),
            "money_returned": _techs_money(returned),
        }

    def _tasks(self, p: Mapping[str, str]) -> list[dict[str, Any]]:
        wanted = _split_ids(p.get("tids", p.get("ids", "")))
        if wanted:
            found = (self.books.orders.get(i) for i in wanted[:MAX_IDS])
            orders = [o for o in found if o is not None]
        else:
            orders = [o for o in self.books.orders.values() if o.dialect == "smmtechs"]
            offset = max(_int_or(p.get("offset"), 0), 0)
            limit = _int_or(p.get("limit"), 0)
            orders = orders[offset : offset + limit] if limit > 0 else orders[offset:]
        tasks = []
        now = self.clock.now()
        for order in orders:
            status, _ = order.status_at(now)
            tasks.append(
                {
                    "id": int(order.order_id),
                    "type": order.service.service_id,
                    "url": order.link,
                    "task_name": order.params.get("task_name", ""),
                    "quantity": order.quantity,
                    "status": _TECHS_STATUS.get(status, "active"),
                    "created": order_time(self.clock, order.created_at),
                    **self._task_stat(order),
                }
            )
        return tasks

    def _task_users(self, order: SandboxOrder, p: Mapping[str, str]) -> list[dict[str, Any]]:
        done = int(self._task_stat(order)["count"])
        offset = max(_int_or(p.get("offset"), 0), 0)
        limit = min(max(_int_or(p.get("limit"), MAX_IDS), 1), 1000)
        rng = random.Random(f"sandbox-users:{self.seed}:{order.seq}")
        users = []
        for i in range(offset, min(done, offset + limit)):
            user_id = rng.randint(100_000, 9_999_999)
            users.append(
                {
                    "user_id": user_id,
                    "username": f"user{user_id}",
                    "date": order_time(self.clock, order.start_at + i),
                }
            )
        return users


_TECHS_STATUS = {
    PENDING: "pending",
    COMPLETED: "completed",
    PARTIAL: "stopped",
    CANCELED: "canceled",
    REFUNDED: "canceled",
}


class _Dropped(Exception):
    """The staged answer is no answer at all: close the connection."""


# ---------------------------------------------------------------------- helpers


async def _read_params(request: web.Request) -> dict[str, str]:
    """Query string and form fields together (the form wins), as panels read them."""
    params = dict(request.query.items())
    if request.method == "POST" and request.can_read_body:
        form = await request.post()
        params.update({k: v for k, v in form.items() if isinstance(v, str)})
    return params


def _dumps(payload: Any) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def _json(
    payload: Any, *, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    return web.Response(
        body=_dumps(payload), status=status, headers=headers, content_type="application/json"
    )


def _raw(body: bytes) -> web.Response:
    return web.Response(body=body, content_type="application/json")


def _techs_ok(response: Any) -> web.Response:
    return _json({"success": 1, "response": response})


def _split_ids(raw: str) -> list[str]:
    return [part.strip() for part in raw.split(",") if part.strip()]


def _id_value(raw: str) -> int | str:
    """Echo an ID back as panels do: a number when it is one."""
    return int(raw) if raw.isdigit() and len(raw) < 19 else raw


def _int_or(raw: str | None, default: int) -> int:
    try:
        return int(raw) if raw is not None else default
    except ValueError:
        return default


def _pick(p: Mapping[str, str], *names: str) -> dict[str, str]:
    return {n: p[n] for n in names if n in p}


def _techs_money(amount: Decimal) -> str:
    """Money as smmtechs prints it ("0.00"), keeping any finer digits the amount has."""
    cents = amount.quantize(Decimal("0.01"))
    return f"{cents:f}" if cents == amount else f"{amount.normalize():f}"


def order_time(clock: SandboxClock, moment: float) -> str:
    """A sandbox moment as "YYYY-MM-DD HH:MM:SS" UTC."""
    return clock.datetime_at(moment).strftime("%Y-%m-%d %H:%M:%S")


def _service_payload(service: CatalogService, dialect: str) -> dict[str, Any]:
    """One service as each dialect lists it (field order as on the vendor's page)."""
    base: dict[str, Any] = {
        "service": service.service_id,
        "name": service.name,
        "type": service.type.value,
    }
    bounds = {"rate": service.rate_text, "min": str(service.min), "max": str(service.max)}
    if dialect == "smmsend":
        return {
            **base,
            **bounds,
            "dripfeed": service.dripfeed,
            "refill": service.refill,
            "cancel": service.cancel,
            "category": service.category,
        }
    payload = {**base, "category": service.category, **bounds}
    if dialect == "v2":
        payload.update(refill=service.refill, cancel=service.cancel)
    return payload


def _techs_types_body(types: Iterable[CatalogService]) -> bytes:
    """getTypes: priced per single action, as a JSON number (written from the Decimal)."""
    entries = []
    for index, service in enumerate(types, start=1):
        price = (service.rate / 1000).normalize()
        desc = json.dumps(service.name, ensure_ascii=False)
        entries.append(
            f'"{index}":{{"type":{service.service_id},"price":{price:f},"desc":{desc}}}'
        )
    return ('{"success":1,"response":{' + ",".join(entries) + "}}").encode()
