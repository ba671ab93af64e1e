"""The API v2 client (smmtimes.com, smm.plus) and the parsing its variants share.

Every v2 panel takes ``POST`` forms with ``key`` and ``action`` and answers JSON whose numbers
usually arrive as strings. ``V2Client`` speaks the fullest dialect; ``smmbros.py`` and
``smmsend.py`` override the few hooks where their panels differ.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

from bot.panels.base import (
    PanelClient,
    PanelConfig,
    Transport,
    decode_body,
    outcome_of_failed_add,
    with_retries,
)
from bot.panels.errors import (
    AuthError,
    InvalidRequest,
    OrderOutcomeUnknown,
    PanelError,
    PanelUnavailable,
    RateLimited,
    error_from_message,
)
from bot.panels.models import (
    TYPE_SPECS,
    Balance,
    CancelKind,
    CancelResult,
    CancelStatusInfo,
    Capabilities,
    Field,
    OrderRequest,
    OrderStatus,
    OrderStatusInfo,
    OrderType,
    RefillResult,
    RefillStatusInfo,
    RequestStatus,
    Service,
    chunked,
    parse_bool,
    parse_decimal,
    parse_int,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

# Said for an ID the panel's answer left out; worded so it never reads as "order not found".
LEFT_OUT = "missing from the panel's answer"


# --------------------------------------------------------------------------- sloppy JSON


def relax_json(body: bytes) -> bytes:
    """Repair the JSON slips v2 docs show (trailing commas, unquoted words); else keep it."""
    text = body.decode("utf-8", errors="replace").strip()
    if not text or text[0] not in "{[":
        return body
    try:
        json.loads(text)
    except ValueError:
        repaired = _repair(text)
        try:
            json.loads(repaired)
        except ValueError:
            return body
        return repaired.encode()
    return body


_LITERALS = {"true", "false", "null"}


def _repair(text: str) -> str:
    """Quote bare words in value position and drop commas before a closing bracket."""
    out: list[str] = []
    i, n = 0, len(text)
    last = ""  # the last significant character outside strings
    while i < n:
        ch = text[i]
        if ch == '"':
            end = i + 1
            while end < n and text[end] != '"':
                end += 2 if text[end] == "\\" else 1
            out.append(text[i : end + 1])
            i, last = end + 1, '"'
            continue
        if ch == ",":
            rest = text[i + 1 :].lstrip()
            if rest[:1] in ("}", "]"):
                i += 1
                continue
        if last == ":" and (ch.isalpha() or ch == "_"):
            end = i
            while end < n and text[end] not in ",}]\n\r":
                end += 1
            word = text[i:end].strip()
            if word.lower() in _LITERALS:
                out.append(word.lower())
            else:
                out.append(json.dumps(word))
            i, last = end, "w"
            continue
        out.append(ch)
        if not ch.isspace():
            last = ch
        i += 1
    return "".join(out)


class SloppyJsonTransport(Transport):
    """A transport that forgives the JSON slips real v2 panels make."""

    def decode(self, body: bytes, status: int, retry_after: str | None) -> Any:
        """Decode one answer after repairing trailing commas and unquoted words."""
        return decode_body(relax_json(body), status, retry_after, panel=self.config.name)


# --------------------------------------------------------------------------- parsing


def service_from_payload(
    item: Any, *, flags_default: bool | None = None, dripfeed_default: bool | None = None
) -> Service | None:
    """Parse one catalog entry leniently; None when it has no ID or no usable rate.

    ``flags_default`` fills refill/cancel when the panel sends no flags; ``dripfeed_default``
    fills the drip-feed flag (None: the order type decides, as on panels that never say).
    """
    if not isinstance(item, Mapping):
        return None
    raw_id = item.get("service", item.get("id"))
    service_id = "" if raw_id is None or isinstance(raw_id, bool) else str(raw_id).strip()
    rate = parse_decimal(item.get("rate"))
    if not service_id or rate is None:
        return None
    raw_type = item.get("type")
    order_type = OrderType.parse(raw_type)
    type_name = str(raw_type).strip() if raw_type not in (None, "") else OrderType.DEFAULT.value
    spec_type = order_type or OrderType.DEFAULT
    low, high = parse_int(item.get("min")), parse_int(item.get("max"))
    if TYPE_SPECS[spec_type].per_package:
        # A package is bought whole: panels often send no range, or 1–1.
        low, high = low or 1, high or 1
    # A missing range makes the service unorderable rather than guessing the panel's limits.
    low = 1 if low is None else low
    high = 0 if high is None else high

    def flag(name: str, default: bool | None) -> bool:
        if name in item:
            return parse_bool(item[name])
        return bool(default)

    flagged = "dripfeed" in item and parse_bool(item["dripfeed"])
    if "dripfeed" in item:
        dripfeed = parse_bool(item["dripfeed"])
    elif dripfeed_default is not None:
        dripfeed = dripfeed_default
    else:
        dripfeed = Field.RUNS in TYPE_SPECS[spec_type].optional
    name = str(item.get("name") or "").strip() or f"Service {service_id}"
    category = str(item.get("category") or "").strip() or "Other"
    description = str(item.get("desc") or item.get("description") or "").strip()
    return Service(
        service_id=service_id,
        name=name,
        type=order_type,
        type_name=type_name,
        category=category,
        rate=rate,
        min=low,
        max=high,
        refill=flag("refill", flags_default),
        cancel=flag("cancel", flags_default),
        dripfeed=dripfeed,
        description=description,
        dripfeed_flagged=flagged,
    )


def _as_id(value: Any) -> str | None:
    """Read an ID the panel sent as a number or a string; None when it is not one."""
    if value is None or isinstance(value, bool | Mapping | list):
        return None
    text = str(value).strip()
    return text or None


def _error_text(value: Any) -> str | None:
    """The panel's words when ``value`` is an ``{"error": ...}`` object."""
    if isinstance(value, Mapping) and value.get("error") not in (None, ""):
        return str(value["error"])
    return None


def index_answer(payload: Any, id_key: str) -> dict[str, Any]:
    """Key a multi-ID answer by ID: a dict keyed by ID, or a list of objects with ``id_key``."""
    entries: dict[str, Any] = {}
    if isinstance(payload, Mapping):
        for key, value in payload.items():
            entries[str(key).strip()] = value
    elif isinstance(payload, list):
        for item in payload:
            if isinstance(item, Mapping):
                item_id = _as_id(item.get(id_key))
                if item_id is not None:
                    entries[item_id] = item
    return entries


def refill_from_entry(order_id: str, entry: Any) -> RefillResult:
    """Parse one order's refill answer: an ID, ``{"refill": ID}`` or an error object."""
    if entry is None:
        return RefillResult(order_id, error=LEFT_OUT)
    if not isinstance(entry, Mapping):
        refill_id = _as_id(entry)
        if refill_id is None:
            return RefillResult(order_id, error=f"unreadable answer: {entry!r:.80}")
        return RefillResult(order_id, refill_id=refill_id)
    value = entry.get("refill")
    error = _error_text(value) or (_error_text(entry) if value is None else None)
    if error is not None:
        return RefillResult(order_id, error=error)
    refill_id = _as_id(value)
    if refill_id is None:
        return RefillResult(order_id, error="the panel gave no refill ID")
    return RefillResult(order_id, refill_id=refill_id)


def refill_status_from_entry(refill_id: str, entry: Any) -> RefillStatusInfo:
    """Parse one refill's status; some panels say ``type`` where others say ``status``."""
    if entry is None:
        return RefillStatusInfo(refill_id, RequestStatus.UNKNOWN, error=LEFT_OUT)
    if not isinstance(entry, Mapping):
        return RefillStatusInfo(
            refill_id, RequestStatus.UNKNOWN, error=f"unreadable answer: {entry!r:.80}"
        )
    raw = entry.get("status", entry.get("type"))
    error = _error_text(raw) or (_error_text(entry) if raw is None else None)
    if error is not None:
        return RefillStatusInfo(refill_id, RequestStatus.UNKNOWN, error=error)
    return RefillStatusInfo(
        refill_id, RequestStatus.parse(raw), raw_status="" if raw is None else str(raw)
    )


def cancel_kind(raw: Any) -> CancelKind:
    """Read smmsend's cancel ``type``; anything else is a plain order."""
    text = str(raw or "").strip().lower().replace("-", "").replace(" ", "")
    try:
        return CancelKind(text)
    except ValueError:
        return CancelKind.ORDER


def cancel_from_entry(order_id: str, entry: Any) -> CancelResult:
    """Parse one order's cancel answer: ``{"cancel": ID, "type": ...}`` or an error."""
    if entry is None:
        return CancelResult(order_id, error=LEFT_OUT)
    if not isinstance(entry, Mapping):
        cancel_id = _as_id(entry)
        if cancel_id is None:
            return CancelResult(order_id, error=f"unreadable answer: {entry!r:.80}")
        return CancelResult(order_id, cancel_id=cancel_id)
    kind = cancel_kind(entry.get("type"))
    value = entry.get("cancel")
    error = _error_text(value) or (_error_text(entry) if value is None else None)
    if error is not None:
        return CancelResult(order_id, kind=kind, error=error)
    cancel_id = _as_id(value)
    if cancel_id is None:
        return CancelResult(order_id, kind=kind, error="the panel gave no cancel ID")
    return CancelResult(order_id, cancel_id=cancel_id, kind=kind)


def cancel_status_from_entry(cancel_id: str, entry: Any) -> CancelStatusInfo:
    """Parse one cancel request's status."""
    if entry is None:
        return CancelStatusInfo(cancel_id, RequestStatus.UNKNOWN, error=LEFT_OUT)
    if not isinstance(entry, Mapping):
        return CancelStatusInfo(
            cancel_id, RequestStatus.UNKNOWN, error=f"unreadable answer: {entry!r:.80}"
        )
    raw = entry.get("status", entry.get("type"))
    error = _error_text(raw) or (_error_text(entry) if raw is None else None)
    if error is not None:
        return CancelStatusInfo(cancel_id, RequestStatus.UNKNOWN, error=error)
    return CancelStatusInfo(
        cancel_id, RequestStatus.parse(raw), raw_status="" if raw is None else str(raw)
    )


def status_from_entry(order_id: str, entry: Any) -> OrderStatusInfo:
    """Parse one order's status, saying so when the panel left the order out."""
    if entry is None:
        return OrderStatusInfo(order_id, OrderStatus.UNKNOWN, error=LEFT_OUT)
    return OrderStatusInfo.from_payload(order_id, entry)


def balance_from_payload(payload: Any, *, panel: str) -> Balance:
    """Read ``{"balance": "100.84", "currency": "USD"}``, the amount as text or a number."""
    amount = parse_decimal(payload.get("balance")) if isinstance(payload, Mapping) else None
    if amount is None:
        raise PanelUnavailable("the panel's balance answer has no readable amount", panel=panel)
    currency = str(payload.get("currency") or "").strip().upper()
    return Balance(amount=amount, currency=currency)


def check_request(request: OrderRequest, capabilities: Capabilities) -> None:
    """Raise ``InvalidRequest`` for what is wrong without the catalog: type and fields."""
    if request.type not in capabilities.order_types:
        raise InvalidRequest(f"this panel does not take {request.type.value} orders")
    if not str(request.service_id).strip():
        raise InvalidRequest("service is required")
    spec = request.spec
    for required in spec.required:
        value = getattr(request, required.value)
        filled = bool(value.strip()) if isinstance(value, str) else value not in (None, [])
        if not filled:
            raise InvalidRequest(f"{required.value} is required for {request.type.value} orders")
    if Field.QUANTITY in spec.required and (request.quantity or 0) < 1:
        raise InvalidRequest("quantity must be at least 1")
    if (request.runs is None) != (request.interval is None):
        raise InvalidRequest("drip-feed needs both runs and interval")
    if request.runs is not None and not capabilities.dripfeed:
        raise InvalidRequest("this panel does not offer drip-feed")


# --------------------------------------------------------------------------- the client


class V2Client(PanelClient):
    """API v2 as smmtimes.com and smm.plus speak it."""

    dialect = "v2"
    capabilities = Capabilities()
    # Field name the panel's ``add`` expects for the link.
    link_field = "link"

    def __init__(self, config: PanelConfig) -> None:
        super().__init__(config)
        self.transport = SloppyJsonTransport(config)

    # ---- plumbing

    def _scrub(self, text: str) -> str:
        """Remove the API key from text a panel might echo back."""
        key = self.config.key
        return text.replace(key, "***") if key else text

    def _error(self, message: Any) -> PanelError:
        return error_from_message(self._scrub(str(message)), panel=self.name)

    async def _post(self, action: str, fields: Mapping[str, str] | None = None) -> Any:
        """Send one action; the key goes only into the form body, never into logs."""
        form = {"key": self.config.key, "action": action}
        if fields:
            form.update(fields)
        return await self.transport.request("POST", self.config.url, data=form)

    def _raise_for_error(self, payload: Any) -> None:
        """Raise the classified error when the whole answer is ``{"error": ...}``."""
        if isinstance(payload, Mapping) and "error" in payload:
            raise self._error(payload.get("error") or "")

    def _raise_for_account_error(self, payload: Any) -> None:
        """Raise errors about the account (key, rate limit); leave per-ID errors be."""
        if isinstance(payload, Mapping) and "error" in payload:
            error = self._error(payload.get("error") or "")
            if isinstance(error, AuthError | RateLimited):
                raise error

    async def _read(self, action: str, fields: Mapping[str, str] | None = None) -> Any:
        """Send an idempotent read, retrying transport failures and rate limits."""

        async def call() -> Any:
            payload = await self._post(action, fields)
            self._raise_for_account_error(payload)
            return payload

        return await with_retries(
            call,
            retries=self.config.retries,
            backoff=self.config.backoff,
            what=f"{self.name} {action}",
        )

    def _unique(self, ids: Sequence[str]) -> list[str]:
        return list(dict.fromkeys(str(i).strip() for i in ids))

    async def _per_chunk(
        self,
        ids: Sequence[str],
        call: Callable[[list[str]], Awaitable[dict[str, T]]],
    ) -> dict[str, T]:
        """Run ``call`` on chunks of at most ``max_ids_per_request`` IDs, in order."""
        results: dict[str, T] = {}
        for chunk in chunked(self._unique(ids), self.capabilities.max_ids_per_request):
            results.update(await call(chunk))
        return results

    async def _write_chunk(
        self,
        action: str,
        param: str,
        chunk: list[str],
        parse: Callable[[str, Any], T],
        failed: Callable[[str, str], T],
        id_key: str,
    ) -> dict[str, T]:
        """Send one many-ID write (never retried); a failed chunk fails its IDs, not the rest."""
        try:
            payload = await self._post(action, {param: ",".join(chunk)})
            self._raise_for_error(payload)
        except AuthError:
            raise
        except PanelError as e:
            log.warning("%s %s for %d IDs failed: %s", self.name, action, len(chunk), e)
            return {i: failed(i, e.message) for i in chunk}
        entries = index_answer(payload, id_key)
        return {i: parse(i, entries.get(i)) for i in chunk}

    # ---- catalog and orders

    def _service(self, item: Any) -> Service | None:
        return service_from_payload(item)

    async def services(self) -> list[Service]:
        """Fetch the whole catalog, skipping entries without an ID or a rate."""
        payload = await self._read("services")
        self._raise_for_error(payload)
        if isinstance(payload, Mapping):
            items: list[Any] = list(payload.values())
        elif isinstance(payload, list):
            items = payload
        else:
            raise PanelUnavailable("the panel's service list is not a list", panel=self.name)
        catalog: list[Service] = []
        for item in items:
            service = self._service(item)
            if service is None:
                log.warning("%s: skipped an unreadable service: %.120r", self.name, item)
                continue
            catalog.append(service)
        return catalog

    def order_form(self, request: OrderRequest) -> dict[str, str]:
        """The ``add`` form for ``request`` in this panel's field names."""
        form = {"service": str(request.service_id).strip(), **request.to_form()}
        if self.link_field != Field.LINK.value and Field.LINK.value in form:
            form[self.link_field] = form.pop(Field.LINK.value)
        return form

    async def add_order(self, request: OrderRequest) -> str:
        """Place one order and return the panel's order ID; never retried."""
        check_request(request, self.capabilities)
        try:
            payload = await self._post("add", self.order_form(request))
        except PanelError as e:
            raise outcome_of_failed_add(e) from e
        order_id = _as_id(payload.get("order")) if isinstance(payload, Mapping) else None
        error = _error_text(payload)
        if order_id is not None and order_id != "0" and error is None:
            log.info("%s placed order %s (service %s)", self.name, order_id, request.service_id)
            return order_id
        if order_id is None and error is not None:
            raise self._error(error)
        detail = f"order {order_id} with error {error!r}" if order_id else "no order ID"
        raise OrderOutcomeUnknown(
            self._scrub(f"the order may have been placed: the panel answered {detail}"),
            panel=self.name,
        )

    # ---- statuses

    async def order_status(self, order_id: str) -> OrderStatusInfo:
        """Status of one order, asked with the single-order form."""
        order_id = str(order_id).strip()
        payload = await self._read("status", {"order": order_id})
        return OrderStatusInfo.from_payload(order_id, payload)

    async def order_statuses(self, order_ids: Sequence[str]) -> dict[str, OrderStatusInfo]:
        """Status of many orders, 100 per request, keyed by every ID asked."""

        async def chunk_call(chunk: list[str]) -> dict[str, OrderStatusInfo]:
            payload = await self._read("status", {"orders": ",".join(chunk)})
            self._raise_for_error(payload)
            entries = index_answer(payload, "order")
            return {i: status_from_entry(i, entries.get(i)) for i in chunk}

        return await self._per_chunk(order_ids, chunk_call)

    # ---- refills

    async def refill(self, order_id: str) -> RefillResult:
        """Ask for a refill of one order with the single-order form."""
        order_id = str(order_id).strip()
        try:
            payload = await self._post("refill", {"order": order_id})
            self._raise_for_account_error(payload)
        except AuthError:
            raise
        except PanelError as e:
            return RefillResult(order_id, error=e.message)
        return refill_from_entry(order_id, payload)

    async def refills(self, order_ids: Sequence[str]) -> dict[str, RefillResult]:
        """Ask for refills of many orders, 100 per request; errors come back per ID."""

        async def chunk_call(chunk: list[str]) -> dict[str, RefillResult]:
            return await self._write_chunk(
                "refill",
                "orders",
                chunk,
                refill_from_entry,
                lambda i, why: RefillResult(i, error=why),
                "order",
            )

        return await self._per_chunk(order_ids, chunk_call)

    async def refill_status(self, refill_id: str) -> RefillStatusInfo:
        """Status of one refill, asked with the single-refill form."""
        refill_id = str(refill_id).strip()
        payload = await self._read("refill_status", {"refill": refill_id})
        return refill_status_from_entry(refill_id, payload)

    async def refill_statuses(self, refill_ids: Sequence[str]) -> dict[str, RefillStatusInfo]:
        """Status of many refills, 100 per request."""

        async def chunk_call(chunk: list[str]) -> dict[str, RefillStatusInfo]:
            payload = await self._read("refill_status", {"refills": ",".join(chunk)})
            self._raise_for_error(payload)
            entries = index_answer(payload, "refill")
            return {i: refill_status_from_entry(i, entries.get(i)) for i in chunk}

        return await self._per_chunk(refill_ids, chunk_call)

    # ---- cancels

    async def cancel(self, order_id: str) -> CancelResult:
        """Ask to cancel one order (v2 cancels always take ``orders``)."""
        order_id = str(order_id).strip()
        return (await self.cancels([order_id]))[order_id]

    async def cancels(self, order_ids: Sequence[str]) -> dict[str, CancelResult]:
        """Ask to cancel many orders, 100 per request; errors come back per ID."""

        async def chunk_call(chunk: list[str]) -> dict[str, CancelResult]:
            return await self._write_chunk(
                "cancel",
                "orders",
                chunk,
                cancel_from_entry,
                lambda i, why: CancelResult(i, error=why),
                "order",
            )

        return await self._per_chunk(order_ids, chunk_call)

    # ---- balance

    async def balance(self) -> Balance:
        """The reseller's balance on this panel."""

        async def call() -> Balance:
            payload = await self._post("balance")
            self._raise_for_error(payload)
            return balance_from_payload(payload, panel=self.name)

        return await with_retries(
            call,
            retries=self.config.retries,
            backoff=self.config.backoff,
            what=f"{self.name} balance",
        )
