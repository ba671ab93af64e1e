"""A fake Crypto Pay API on loopback, answering like pay.crypt.bot does.

The client under test talks to it over real HTTP (``{base_url}/api/<method>``, the token in
the ``Crypto-Pay-API-Token`` header, JSON body or query parameters). It implements getMe,
createInvoice, getInvoices and deleteInvoice with the API's own checks, and keeps plain-Python
controls for tests and benches::

    async with FakeCryptoPay() as crypto_pay:
        client = CryptoPayClient(crypto_pay.token, base_url=crypto_pay.base_url)
        ...
        crypto_pay.pay(invoice_id, asset="TON")      # the customer pays (even after expiry)
        crypto_pay.expire(invoice_id)                # or lets it run out
        await crypto_pay.deliver_webhook(url, invoice_id)               # signed like Crypto Pay
        await crypto_pay.deliver_webhook(url, invoice_id, forged=True)  # signed with a wrong key
        crypto_pay.fail_next(2)                      # the next two requests get a 500 page

``invoices`` holds every invoice by ID, ``requests`` every request that arrived.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_UP, Decimal, InvalidOperation
from typing import Any

import aiohttp
from aiohttp import web

DEFAULT_TOKEN = "12345:AAtestnetCryptoPayToken"
TOKEN_HEADER = "Crypto-Pay-API-Token"
SIGNATURE_HEADER = "crypto-pay-api-signature"
BOT_USERNAME = "CryptoTestnetBot"
MAX_PAYLOAD_BYTES = 4096
MAX_DESCRIPTION_LENGTH = 1024
MAX_EXPIRES_IN = 2_678_400
MAX_COUNT = 1000
# USD price of one unit of each asset, and of each fiat currency: enough for test rates.
ASSET_USD = {
    "USDT": Decimal("1"),
    "USDC": Decimal("1"),
    "TON": Decimal("5.25"),
    "BTC": Decimal("64000"),
    "ETH": Decimal("3200"),
    "LTC": Decimal("80"),
    "BNB": Decimal("600"),
    "TRX": Decimal("0.12"),
}
FIAT_USD = {
    "USD": Decimal("1"),
    "EUR": Decimal("1.08"),
    "RUB": Decimal("0.011"),
    "UAH": Decimal("0.024"),
    "INR": Decimal("0.012"),
    "GBP": Decimal("1.27"),
}
FAULT_KINDS = frozenset({"http500", "garbage", "hang"})
_HTTP500_PAGE = (
    "<html><head><title>500 Internal Server Error</title></head>\n<body>\n"
    "<center><h1>500 Internal Server Error</h1></center>\n<hr><center>nginx</center>\n"
    "</body></html>\n"
)


class ApiError(Exception):
    """An error answer: ``{"ok": false, "error": {"code": ..., "name": ...}}``."""

    def __init__(self, name: str, code: int = 400) -> None:
        super().__init__(name)
        self.name = name
        self.code = code


@dataclass(slots=True)
class FakeInvoice:
    """One invoice as the fake keeps it; ``as_api()`` is the API's Invoice object."""

    invoice_id: int
    hash: str
    currency_type: str
    amount: Decimal
    fiat: str | None
    asset: str | None
    accepted_assets: list[str]
    description: str | None
    payload: str | None
    created_at: datetime
    expiration_date: datetime | None
    allow_comments: bool = True
    allow_anonymous: bool = True
    status: str = "active"
    paid_asset: str | None = None
    paid_amount: Decimal | None = None
    paid_fiat_rate: Decimal | None = None
    paid_usd_rate: Decimal | None = None
    paid_at: datetime | None = None

    def as_api(self) -> dict[str, Any]:
        link = f"https://t.me/{BOT_USERNAME}?start={self.hash}"
        data: dict[str, Any] = {
            "invoice_id": self.invoice_id,
            "hash": self.hash,
            "currency_type": self.currency_type,
            "amount": _text(self.amount),
            "pay_url": link,
            "bot_invoice_url": link,
            "mini_app_invoice_url": f"https://t.me/{BOT_USERNAME}/app?startapp=invoice-{self.hash}",
            "web_app_invoice_url": f"https://testnet-app.send.tg/invoices/{self.hash}",
            "status": self.status,
            "created_at": _iso(self.created_at),
            "allow_comments": self.allow_comments,
            "allow_anonymous": self.allow_anonymous,
        }
        if self.currency_type == "fiat":
            data["fiat"] = self.fiat
            data["accepted_assets"] = list(self.accepted_assets)
        else:
            data["asset"] = self.asset
        if self.description is not None:
            data["description"] = self.description
        if self.payload is not None:
            data["payload"] = self.payload
        if self.expiration_date is not None:
            data["expiration_date"] = _iso(self.expiration_date)
        if self.status == "paid":
            data.update(
                paid_asset=self.paid_asset,
                paid_amount=_text(self.paid_amount),
                paid_fiat_rate=_text(self.paid_fiat_rate),
                paid_usd_rate=_text(self.paid_usd_rate),
                paid_at=_iso(self.paid_at),
                paid_anonymously=False,
                fee_asset=self.paid_asset,
                fee_amount="0",
            )
        return data


@dataclass(frozen=True, slots=True)
class CryptoPayRequest:
    """One request that reached the fake: method, parameters as sent (never the token)."""

    method: str
    params: dict[str, Any]
    authorized: bool
    fault: str | None = None


@dataclass(slots=True)
class _Fault:
    kind: str
    remaining: int


@dataclass(slots=True)
class _Clock:
    """Real UTC time plus whatever a test added with ``advance``."""

    offset: timedelta = field(default_factory=timedelta)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


class FakeCryptoPay:
    """The fake server. Use ``async with FakeCryptoPay() as fake:``; ``fake.base_url``."""

    def __init__(self, token: str = DEFAULT_TOKEN, *, app_name: str = "Reseller test shop"):
        self.token = token
        self.app_name = app_name
        self.invoices: dict[int, FakeInvoice] = {}
        self.requests: list[CryptoPayRequest] = []
        self.webhooks_sent: list[tuple[str, int, int]] = []  # (url, invoice ID, HTTP status)
        self.base_url = ""
        self._clock = _Clock()
        self._ids = itertools.count(1)
        self._update_ids = itertools.count(1)
        self._faults: list[_Fault] = []
        self._runner: web.AppRunner | None = None
        self._stopping = asyncio.Event()
        self._methods: dict[str, Callable[[Mapping[str, Any]], Any]] = {
            "getMe": self._get_me,
            "createInvoice": self._create_invoice,
            "getInvoices": self._get_invoices,
            "deleteInvoice": self._delete_invoice,
        }

    def __repr__(self) -> str:
        return f"FakeCryptoPay(base_url={self.base_url!r}, invoices={len(self.invoices)})"

    # ------------------------------------------------------------------ lifecycle

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Start listening and return the base URL to give ``CryptoPayClient``."""
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._handle)
        self._stopping = asyncio.Event()
        # Cancel a handler when its client goes away, so a "hang" never outlives it.
        self._runner = web.AppRunner(
            app, handler_cancellation=True, shutdown_timeout=0.5, access_log=None
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound_port = self._runner.addresses[0][1]
        self.base_url = f"http://{host}:{bound_port}"
        return self.base_url

    async def stop(self) -> None:
        """Stop the server, releasing any hanging request."""
        self._stopping.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeCryptoPay:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ test controls

    def now(self) -> datetime:
        """The fake's current time (real time plus ``advance``)."""
        return self._clock.now()

    def advance(self, seconds: float) -> None:
        """Move the fake's clock forward, so invoices past their expiry read as expired."""
        self._clock.offset += timedelta(seconds=seconds)

    def create_invoice(
        self,
        amount: Decimal,
        *,
        fiat: str = "USD",
        accepted_assets: str = "USDT,TON",
        payload: str | None = None,
        expires_in: int | None = 3600,
    ) -> FakeInvoice:
        """Create an invoice without HTTP (for setting up tests and benches), API checks kept."""
        params: dict[str, Any] = {
            "currency_type": "fiat",
            "fiat": fiat,
            "accepted_assets": accepted_assets,
            "amount": format(amount, "f"),
            "payload": payload,
            "expires_in": expires_in,
        }
        created = self._create_invoice({k: v for k, v in params.items() if v is not None})
        return self.invoices[created["invoice_id"]]

    def pay(
        self, invoice_id: int, asset: str = "USDT", paid_amount: Decimal | None = None
    ) -> FakeInvoice:
        """Pay an invoice in ``asset`` (an expired one too: a late payment); return it.

        ``paid_amount`` defaults to the invoice amount at the asset's rate, rounded up.
        """
        invoice = self.invoices[invoice_id]
        self._expire_if_due(invoice)
        if invoice.status == "paid":
            raise ValueError(f"invoice {invoice_id} is already paid")
        if invoice.currency_type == "fiat":
            if asset not in invoice.accepted_assets:
                raise ValueError(f"invoice {invoice_id} does not accept {asset}")
            assert invoice.fiat is not None
            fiat_rate = ASSET_USD[asset] / FIAT_USD[invoice.fiat]
            due = invoice.amount / fiat_rate
        else:
            if asset != invoice.asset:
                raise ValueError(f"invoice {invoice_id} is payable in {invoice.asset} only")
            fiat_rate = ASSET_USD[asset]
            due = invoice.amount
        invoice.status = "paid"
        invoice.paid_asset = asset
        invoice.paid_amount = (
            paid_amount
            if paid_amount is not None
            else due.quantize(Decimal("0.00000001"), ROUND_UP).normalize()
        )
        invoice.paid_fiat_rate = fiat_rate.quantize(Decimal("0.00000001")).normalize()
        invoice.paid_usd_rate = ASSET_USD[asset]
        invoice.paid_at = self.now()
        return invoice

    def expire(self, invoice_id: int) -> FakeInvoice:
        """End an active invoice as expired, as Crypto Pay does when its time runs out."""
        invoice = self.invoices[invoice_id]
        if invoice.status != "active":
            raise ValueError(f"invoice {invoice_id} is {invoice.status}, not active")
        invoice.status = "expired"
        return invoice

    def fail_next(self, count: int = 1, kind: str = "http500") -> None:
        """Make the next ``count`` requests fail: a 500 page, 200 garbage, or a hang."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; choose from {sorted(FAULT_KINDS)}")
        if count < 1:
            raise ValueError("count must be at least 1")
        self._faults.append(_Fault(kind, count))

    def calls_to(self, method: str) -> list[CryptoPayRequest]:
        """The requests that asked for ``method``, in order."""
        return [r for r in self.requests if r.method == method]

    def signed_update(self, invoice_id: int, *, forged: bool = False) -> tuple[bytes, str]:
        """Build the raw body of an ``invoice_paid`` update and its signature header value."""
        invoice = self.invoices[invoice_id]
        update = {
            "update_id": next(self._update_ids),
            "update_type": "invoice_paid",
            "request_date": _iso(self.now()),
            "payload": invoice.as_api(),
        }
        raw_body = json.dumps(update, separators=(",", ":")).encode()
        key_source = self.token if not forged else f"not-{self.token}"
        secret = hashlib.sha256(key_source.encode()).digest()
        return raw_body, hmac.new(secret, raw_body, hashlib.sha256).hexdigest()

    async def deliver_webhook(self, url: str, invoice_id: int, *, forged: bool = False) -> int:
        """POST an ``invoice_paid`` update for the invoice to ``url``; return the HTTP status.

        ``forged=True`` signs it with the wrong key, as an attacker without the token would.
        """
        raw_body, signature = self.signed_update(invoice_id, forged=forged)
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: signature}
        timeout = aiohttp.ClientTimeout(total=10)
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.post(url, data=raw_body, headers=headers) as response,
        ):
            await response.read()
            status = response.status
        self.webhooks_sent.append((url, invoice_id, status))
        return status

    # ------------------------------------------------------------------ HTTP

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        try:
            params = await _read_params(request)
        except ValueError:
            self.requests.append(CryptoPayRequest(method, {}, False))
            return _error(ApiError("PARAMS_INVALID"))
        authorized = request.headers.get(TOKEN_HEADER) == self.token
        fault = self._take_fault()
        self.requests.append(
            CryptoPayRequest(method, params, authorized, fault.kind if fault else None)
        )
        if fault is not None:
            return await self._fail(fault.kind)
        if not authorized:
            return _error(ApiError("UNAUTHORIZED", 401))
        handler = self._methods.get(method)
        if handler is None:
            return _error(ApiError("METHOD_NOT_FOUND", 405))
        try:
            result = handler(params)
        except ApiError as e:
            return _error(e)
        return _json({"ok": True, "result": result})

    def _take_fault(self) -> _Fault | None:
        if not self._faults:
            return None
        fault = self._faults[0]
        fault.remaining -= 1
        if fault.remaining == 0:
            self._faults.pop(0)
        return fault

    async def _fail(self, kind: str) -> web.Response:
        if kind == "hang":
            await self._stopping.wait()
            return web.Response(status=504)
        if kind == "garbage":
            return web.Response(text='{"ok": true, "result": {"invo', content_type="text/plain")
        return web.Response(status=500, text=_HTTP500_PAGE, content_type="text/html")

    def _expire_if_due(self, invoice: FakeInvoice) -> None:
        due = invoice.expiration_date
        if invoice.status == "active" and due is not None and self.now() >= due:
            invoice.status = "expired"

    # ------------------------------------------------------------------ methods

    def _get_me(self, params: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "app_id": 4242,
            "name": self.app_name,
            "payment_processing_bot_username": BOT_USERNAME,
        }

    def _create_invoice(self, params: Mapping[str, Any]) -> dict[str, Any]:
        currency_type = _str(params, "currency_type") or "crypto"
        fiat: str | None = None
        asset: str | None = None
        accepted: list[str] = []
        if currency_type == "fiat":
            fiat = _str(params, "fiat")
            if fiat not in FIAT_USD:
                raise ApiError("FIAT_INVALID")
            accepted_text = _str(params, "accepted_assets")
            if accepted_text:
                accepted = [a.strip() for a in accepted_text.split(",")]
                if any(a not in ASSET_USD for a in accepted):
                    raise ApiError("ACCEPTED_ASSETS_INVALID")
            else:
                accepted = list(ASSET_USD)
        elif currency_type == "crypto":
            asset = _str(params, "asset")
            if asset not in ASSET_USD:
                raise ApiError("ASSET_INVALID")
        else:
            raise ApiError("CURRENCY_TYPE_INVALID")
        try:
            amount = Decimal(str(params.get("amount", "")))
        except InvalidOperation:
            raise ApiError("AMOUNT_INVALID") from None
        if not amount.is_finite() or amount <= 0:
            raise ApiError("AMOUNT_INVALID")
        description = _str(params, "description")
        if description is not None and len(description) > MAX_DESCRIPTION_LENGTH:
            raise ApiError("DESCRIPTION_TOO_LONG")
        payload = _str(params, "payload")
        if payload is not None and len(payload.encode()) > MAX_PAYLOAD_BYTES:
            raise ApiError("PAYLOAD_TOO_LONG")
        expiration_date = None
        if params.get("expires_in") is not None:
            try:
                expires_in = int(str(params["expires_in"]))
            except ValueError:
                raise ApiError("EXPIRES_IN_INVALID") from None
            if not 1 <= expires_in <= MAX_EXPIRES_IN:
                raise ApiError("EXPIRES_IN_INVALID")
            expiration_date = self.now() + timedelta(seconds=expires_in)
        invoice = FakeInvoice(
            invoice_id=next(self._ids),
            hash="IV" + secrets.token_hex(6).upper(),
            currency_type=currency_type,
            amount=amount,
            fiat=fiat,
            asset=asset,
            accepted_assets=accepted,
            description=description,
            payload=payload,
            created_at=self.now(),
            expiration_date=expiration_date,
            allow_comments=_bool(params, "allow_comments", default=True),
            allow_anonymous=_bool(params, "allow_anonymous", default=True),
        )
        self.invoices[invoice.invoice_id] = invoice
        return invoice.as_api()

    def _get_invoices(self, params: Mapping[str, Any]) -> dict[str, Any]:
        ids_text = _str(params, "invoice_ids")
        wanted: set[int] | None = None
        if ids_text:
            try:
                wanted = {int(i) for i in ids_text.split(",")}
            except ValueError:
                raise ApiError("INVOICE_IDS_INVALID") from None
        try:
            offset = int(str(params.get("offset", 0)))
            count = int(str(params.get("count", 100)))
        except ValueError:
            raise ApiError("COUNT_INVALID") from None
        if offset < 0:
            raise ApiError("OFFSET_INVALID")
        if not 1 <= count <= MAX_COUNT:
            raise ApiError("COUNT_INVALID")
        status = _str(params, "status")
        if status is not None and status not in ("active", "paid", "expired"):
            raise ApiError("STATUS_INVALID")
        asset, fiat = _str(params, "asset"), _str(params, "fiat")
        found = []
        for invoice in sorted(self.invoices.values(), key=lambda i: -i.invoice_id):
            self._expire_if_due(invoice)
            if wanted is not None and invoice.invoice_id not in wanted:
                continue
            if status is not None and invoice.status != status:
                continue
            if asset is not None and invoice.asset != asset:
                continue
            if fiat is not None and invoice.fiat != fiat:
                continue
            found.append(invoice.as_api())
        return {"items": found[offset : offset + count]}

    def _delete_invoice(self, params: Mapping[str, Any]) -> bool:
        try:
            invoice_id = int(str(params.get("invoice_id", "")))
        except ValueError:
            raise ApiError("INVOICE_ID_INVALID") from None
        if self.invoices.pop(invoice_id, None) is None:
            raise ApiError("INVOICE_NOT_FOUND")
        return True


async def _read_params(request: web.Request) -> dict[str, Any]:
    """Query parameters plus a JSON or form body, values as the client sent them."""
    params: dict[str, Any] = dict(request.query)
    if request.method == "POST" and request.can_read_body:
        if request.content_type == "application/json":
            body = json.loads(await request.read())
            if not isinstance(body, dict):
                raise ValueError("the JSON body is not an object")
            params.update(body)
        else:
            params.update((await request.post()).items())
    return params


def _str(params: Mapping[str, Any], key: str) -> str | None:
    value = params.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ApiError(f"{key.upper()}_INVALID")
    return value


def _bool(params: Mapping[str, Any], key: str, *, default: bool) -> bool:
    value = params.get(key)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    return str(value).lower() == "true"


def _text(amount: Decimal | None) -> str | None:
    return None if amount is None else format(amount, "f")


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _json(body: Any, status: int = 200) -> web.Response:
    return web.Response(status=status, text=json.dumps(body), content_type="application/json")


def _error(error: ApiError) -> web.Response:
    body = {"ok": False, "error": {"code": error.code, "name": error.name}}
    return _json(body, status=error.code)
