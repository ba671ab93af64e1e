"""Our Crypto Pay API client: invoices in fiat with ``Decimal`` amounts, and webhook checks.

The API (https://help.send.tg/en/articles/10279948-crypto-pay-api) takes the app token in
the ``Crypto-Pay-API-Token`` header, answers ``{"ok": true, "result": ...}`` or
``{"ok": false, "error": {"code": 400, "name": "..."}}`` and writes every amount as a decimal
string. The token never appears in a log line, a ``repr`` or an exception text.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

import aiohttp

log = logging.getLogger(__name__)

MAINNET_URL = "https://pay.crypt.bot"
TESTNET_URL = "https://testnet-pay.crypt.bot"
TOKEN_HEADER = "Crypto-Pay-API-Token"
SIGNATURE_HEADER = "crypto-pay-api-signature"
INVOICE_PAID = "invoice_paid"
# getInvoices takes up to 1000 IDs; 100 keeps each answer small, like panel status batches.
IDS_PER_REQUEST = 100
MAX_PAYLOAD_BYTES = 4096
MAX_DESCRIPTION_LENGTH = 1024
MAX_EXPIRES_IN = 2_678_400  # 31 days, the API's limit for expires_in
_PAY_URL_FIELDS = ("bot_invoice_url", "pay_url", "mini_app_invoice_url", "web_app_invoice_url")


class InvoiceStatus(StrEnum):
    """Where an invoice is in its life, in the API's words."""

    ACTIVE = "active"
    PAID = "paid"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class CryptoInvoice:
    """One Crypto Pay invoice; ``amount`` is in ``fiat`` when ``currency_type`` is "fiat"."""

    invoice_id: int
    hash: str
    status: InvoiceStatus
    currency_type: str
    amount: Decimal
    fiat: str | None
    asset: str | None
    paid_asset: str | None
    paid_amount: Decimal | None
    paid_fiat_rate: Decimal | None
    paid_usd_rate: Decimal | None
    payload: str | None
    pay_url: str
    created_at: datetime
    paid_at: datetime | None
    expiration_date: datetime | None


class CryptoPayError(Exception):
    """Crypto Pay refused a request; ``name`` is its error name, e.g. "UNAUTHORIZED"."""

    def __init__(self, name: str, code: int | None = None, message: str | None = None) -> None:
        if message is None:
            message = f"Crypto Pay refused the request: {name}"
            if code is not None:
                message += f" (code {code})"
        super().__init__(message)
        self.name = name
        self.code = code


class CryptoPayUnavailable(CryptoPayError):
    """Crypto Pay could not be reached or gave no readable answer: try again later."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__("UNAVAILABLE", code, f"Crypto Pay is unavailable: {message}")


class CryptoPayClient:
    """One app's access to the Crypto Pay API over one lazily created aiohttp session."""

    def __init__(self, token: str, *, base_url: str = MAINNET_URL, timeout: float = 15.0) -> None:
        if not token:
            raise ValueError("the Crypto Pay token is empty")
        self._token = token
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    def __repr__(self) -> str:
        return f"CryptoPayClient(base_url={self.base_url!r})"

    async def __aenter__(self) -> CryptoPayClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def get_me(self) -> dict[str, object]:
        """Return the app's own description; a cheap way to check the token."""
        result = await self._call("GET", "getMe")
        if not isinstance(result, dict):
            raise CryptoPayUnavailable("getMe answered something other than an object")
        return result

    async def create_invoice(
        self,
        *,
        amount: Decimal,
        fiat: str,
        accepted_assets: Sequence[str],
        payload: str,
        description: str,
        expires_in: int,
    ) -> CryptoInvoice:
        """Create an invoice for ``amount`` of ``fiat``, payable in any of ``accepted_assets``."""
        if not amount.is_finite() or amount <= 0:
            raise ValueError("the invoice amount must be a positive number")
        if not accepted_assets:
            raise ValueError("at least one accepted asset is needed")
        if len(payload.encode()) > MAX_PAYLOAD_BYTES:
            raise ValueError(f"the invoice payload is over {MAX_PAYLOAD_BYTES} bytes")
        if len(description) > MAX_DESCRIPTION_LENGTH:
            raise ValueError(f"the description is over {MAX_DESCRIPTION_LENGTH} characters")
        if not 1 <= expires_in <= MAX_EXPIRES_IN:
            raise ValueError(f"expires_in must be between 1 and {MAX_EXPIRES_IN} seconds")
        body = {
            "currency_type": "fiat",
            "fiat": fiat,
            "accepted_assets": ",".join(accepted_assets),
            "amount": decimal_text(amount),
            "description": description,
            "payload": payload,
            "expires_in": expires_in,
            "allow_comments": False,
        }
        result = await self._call("POST", "createInvoice", json_body=body)
        return _read_invoice(result, "createInvoice")

    async def get_invoices(self, invoice_ids: Sequence[int]) -> list[CryptoInvoice]:
        """Fetch these invoices, ``IDS_PER_REQUEST`` per request; unknown IDs are left out."""
        invoices: list[CryptoInvoice] = []
        unique_ids = list(dict.fromkeys(invoice_ids))
        for start in range(0, len(unique_ids), IDS_PER_REQUEST):
            chunk = unique_ids[start : start + IDS_PER_REQUEST]
            params = {"invoice_ids": ",".join(str(i) for i in chunk), "count": str(len(chunk))}
            result = await self._call("GET", "getInvoices", params=params)
            items = result.get("items") if isinstance(result, dict) else None
            if not isinstance(items, list):
                raise CryptoPayUnavailable("getInvoices answered without a list of items")
            invoices.extend(_read_invoice(item, "getInvoices") for item in items)
        return invoices

    async def delete_invoice(self, invoice_id: int) -> bool:
        """Delete an invoice so it can no longer be paid; True when Crypto Pay confirms."""
        result = await self._call("POST", "deleteInvoice", json_body={"invoice_id": invoice_id})
        return result is True

    async def close(self) -> None:
        """Close the HTTP session; the client opens a new one if used again."""
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(headers={"Accept": "application/json"})
        return self._session

    async def _call(
        self,
        http_method: str,
        api_method: str,
        *,
        params: Mapping[str, str] | None = None,
        json_body: Mapping[str, Any] | None = None,
    ) -> Any:
        """Send one API request and return its ``result``; never logs params or the token."""
        session = self._get_session()
        started = time.monotonic()
        try:
            async with session.request(
                http_method,
                f"{self.base_url}/api/{api_method}",
                params=params,
                json=json_body,
                headers={TOKEN_HEADER: self._token},
                timeout=aiohttp.ClientTimeout(total=self.timeout),
                # A redirect would carry the token header to wherever it points.
                allow_redirects=False,
            ) as response:
                status = response.status
                body = await response.read()
        except TimeoutError as e:
            raise CryptoPayUnavailable(f"{api_method} got no answer in {self.timeout:g}s") from e
        except aiohttp.ClientError as e:
            raise CryptoPayUnavailable(
                self._scrub(f"{api_method} failed ({type(e).__name__}: {e})")
            ) from e
        log.debug(
            "Crypto Pay %s: HTTP %d in %.3fs", api_method, status, time.monotonic() - started
        )
        return _result_of(api_method, status, body)

    def _scrub(self, text: str) -> str:
        return text.replace(self._token, "***")


def _result_of(api_method: str, status: int, body: bytes) -> Any:
    """Return the ``result`` of an answer, or raise the error it stands for."""
    if status >= 500:
        raise CryptoPayUnavailable(f"{api_method} answered HTTP {status}", status)
    try:
        answer = json.loads(body, parse_float=Decimal)
    except (ValueError, RecursionError) as e:
        raise CryptoPayUnavailable(
            f"{api_method} answered HTTP {status} with no JSON", status
        ) from e
    if not isinstance(answer, dict) or not isinstance(answer.get("ok"), bool):
        raise CryptoPayUnavailable(f"{api_method} answered HTTP {status} without ok", status)
    if answer["ok"]:
        return answer.get("result")
    error = answer.get("error")
    if isinstance(error, dict):
        name = error.get("name")
        code = error.get("code")
        error_code = code if isinstance(code, int) and not isinstance(code, bool) else status
        raise CryptoPayError(str(name) if name else "UNKNOWN_ERROR", error_code)
    raise CryptoPayError(str(error) if error else "UNKNOWN_ERROR", status)


def _read_invoice(data: Any, api_method: str) -> CryptoInvoice:
    try:
        return invoice_from_api(data)
    except ValueError as e:
        raise CryptoPayUnavailable(f"{api_method} answered an unreadable invoice ({e})") from e


def invoice_from_api(data: Any) -> CryptoInvoice:
    """Read an API Invoice object; raise ValueError naming the first bad field."""
    if not isinstance(data, dict):
        raise ValueError("the invoice is not an object")
    invoice_id = data.get("invoice_id")
    if not isinstance(invoice_id, int) or isinstance(invoice_id, bool) or invoice_id <= 0:
        raise ValueError("invoice_id is not a positive integer")
    pay_url = next((data[f] for f in _PAY_URL_FIELDS if isinstance(data.get(f), str)), None)
    if not pay_url:
        raise ValueError("the invoice has no payment link")
    created_at = _datetime(data, "created_at")
    if created_at is None:
        raise ValueError("created_at is missing")
    amount = _decimal(data, "amount")
    if amount is None:
        raise ValueError("amount is missing")
    currency_type = data.get("currency_type", "crypto")
    if currency_type not in ("crypto", "fiat"):
        raise ValueError("currency_type is neither crypto nor fiat")
    try:
        status = InvoiceStatus(_text(data, "status") or "")
    except ValueError:
        raise ValueError("status is not active, paid or expired") from None
    return CryptoInvoice(
        invoice_id=invoice_id,
        hash=_text(data, "hash") or "",
        status=status,
        currency_type=currency_type,
        amount=amount,
        fiat=_text(data, "fiat"),
        asset=_text(data, "asset"),
        paid_asset=_text(data, "paid_asset"),
        paid_amount=_decimal(data, "paid_amount"),
        paid_fiat_rate=_decimal(data, "paid_fiat_rate"),
        paid_usd_rate=_decimal(data, "paid_usd_rate"),
        payload=_text(data, "payload"),
        pay_url=pay_url,
        created_at=created_at,
        paid_at=_datetime(data, "paid_at"),
        expiration_date=_datetime(data, "expiration_date"),
    )


def _text(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{key} is not a string")
    return value


def _decimal(data: Mapping[str, Any], key: str) -> Decimal | None:
    """Read an amount written as a decimal string (or a JSON number read as Decimal)."""
    value = data.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise ValueError(f"{key} is not a number")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"{key} is not a number") from None
    if not number.is_finite():
        raise ValueError(f"{key} is not a finite number")
    return number


def _datetime(data: Mapping[str, Any], key: str) -> datetime | None:
    """Read an ISO 8601 date; one without a zone is taken as UTC."""
    value = data.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"{key} is not a date")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{key} is not an ISO 8601 date") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def decimal_text(amount: Decimal) -> str:
    """Write an amount the way the API reads it: plain digits, never an exponent."""
    return format(amount, "f")


def webhook_signature(token: str, raw_body: bytes) -> str:
    """Return the hex HMAC-SHA256 of the body keyed with SHA-256 of the token."""
    secret = hashlib.sha256(token.encode()).digest()
    return hmac.new(secret, raw_body, hashlib.sha256).hexdigest()


def verify_webhook_signature(token: str, raw_body: bytes, signature: str | None) -> bool:
    """True when ``signature`` is Crypto Pay's signature of exactly this body."""
    if not isinstance(signature, str) or not signature:
        return False
    expected = webhook_signature(token, raw_body).encode()
    given = signature.strip().lower().encode("utf-8", errors="replace")
    return hmac.compare_digest(expected, given)


def parse_webhook_update(raw_body: bytes) -> CryptoInvoice | None:
    """Return the paid invoice of an "invoice_paid" update, None for other update types.

    Raises ValueError when the body is not a readable update.
    """
    try:
        update = json.loads(raw_body, parse_float=Decimal)
    except RecursionError:
        raise ValueError("the update is nested too deeply") from None
    if not isinstance(update, dict):
        raise ValueError("the update is not an object")
    update_type = update.get("update_type")
    if not isinstance(update_type, str):
        raise ValueError("the update has no update_type")
    if update_type != INVOICE_PAID:
        return None
    invoice = invoice_from_api(update.get("payload"))
    if invoice.status is not InvoiceStatus.PAID:
        raise ValueError("an invoice_paid update carries an invoice that is not paid")
    return invoice
