"""The one async interface every panel dialect implements, and the HTTP transport under it."""

from __future__ import annotations

import asyncio
import json
import logging
import random
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import aiohttp

from bot.panels.errors import (
    OrderOutcomeUnknown,
    PanelError,
    PanelUnavailable,
    RateLimited,
    UnsupportedAction,
)
from bot.panels.models import (
    Balance,
    CancelResult,
    CancelStatusInfo,
    Capabilities,
    OrderRequest,
    OrderStatusInfo,
    RefillResult,
    RefillStatusInfo,
    Service,
)

log = logging.getLogger(__name__)

DEFAULT_USER_AGENT = "Mozilla/5.0 (compatible; smm-reseller-bot/0.1)"
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class PanelConfig:
    """How to reach one panel. ``key`` is kept out of ``repr`` so it never reaches a log."""

    name: str
    dialect: str
    url: str
    key: str
    timeout: float = 30.0
    user_agent: str = DEFAULT_USER_AGENT
    retries: int = 3
    backoff: float = 0.5

    def __repr__(self) -> str:
        return f"PanelConfig(name={self.name!r}, dialect={self.dialect!r}, url={self.url!r})"


class Transport:
    """One lazily created aiohttp session per panel, JSON decoding and error mapping.

    ``post``/``get`` raise ``PanelUnavailable`` for transport failures (timeouts, refused
    connections, 5xx, HTML pages, invalid JSON) and return the decoded JSON otherwise;
    whether an answer is an API error is the dialect's business.
    """

    def __init__(self, config: PanelConfig) -> None:
        self.config = config
        self._session: aiohttp.ClientSession | None = None
        self.requests_made = 0

    def __repr__(self) -> str:
        return f"Transport({self.config.name!r})"

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                headers={"User-Agent": self.config.user_agent, "Accept": "application/json"},
                connector=aiohttp.TCPConnector(limit=32, ttl_dns_cache=300),
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def request(
        self,
        method: str,
        url: str,
        *,
        data: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        time_limit: float | None = None,
    ) -> Any:
        """Send one request and decode its JSON; never logs ``data`` or ``params``."""
        session = self._get_session()
        client_timeout = aiohttp.ClientTimeout(total=time_limit or self.config.timeout)
        self.requests_made += 1
        try:
            async with session.request(
                method,
                url,
                data=data,
                params=params,
                timeout=client_timeout,
                # A redirect would carry the key elsewhere and could re-send an order.
                allow_redirects=False,
            ) as response:
                body = await response.read()
                status = response.status
                retry_after = response.headers.get("Retry-After")
        except TimeoutError as e:
            raise PanelUnavailable(
                "the panel did not answer in time", panel=self.config.name
            ) from e
        except aiohttp.ClientConnectorError as e:
            raise _NotSent(f"cannot connect to the panel ({e.os_error})", self.config.name) from e
        except aiohttp.ClientError as e:
            raise PanelUnavailable(
                f"connection to the panel failed ({type(e).__name__})", panel=self.config.name
            ) from e
        return self.decode(body, status, retry_after)

    def decode(self, body: bytes, status: int, retry_after: str | None) -> Any:
        """Decode one answer; a dialect whose panel writes sloppy JSON overrides this."""
        return decode_body(body, status, retry_after, panel=self.config.name)


class _NotSent(PanelUnavailable):
    """The connection was never made: the request certainly did not reach the panel."""

    def __init__(self, message: str, panel: str) -> None:
        super().__init__(message, panel=panel)


def decode_body(body: bytes, status: int, retry_after: str | None, *, panel: str) -> Any:
    """Turn an HTTP answer into JSON, or the right transport error."""
    text = body.decode("utf-8", errors="replace").strip()
    payload: Any = None
    try:
        payload = json.loads(text) if text else None
    except ValueError:
        payload = None
    # An {"error": ...} may come with any HTTP code: let the dialect read it.
    if isinstance(payload, dict) and "error" in payload and status < 500 and status != 429:
        return payload
    if status == 429:
        wait = None
        try:
            wait = float(retry_after) if retry_after else None
        except ValueError:
            wait = None
        message = payload.get("error") if isinstance(payload, dict) else None
        raise RateLimited(str(message or "too many requests"), panel=panel, retry_after=wait)
    if status >= 500:
        raise PanelUnavailable(f"the panel answered HTTP {status}", panel=panel)
    if 300 <= status < 400:
        raise PanelUnavailable(
            f"the panel answered with a redirect (HTTP {status}): check the API URL", panel=panel
        )
    if payload is None:
        if text.startswith("<") or "<html" in text[:200].lower():
            raise PanelUnavailable("the panel answered with a web page, not JSON", panel=panel)
        raise PanelUnavailable("the panel answered with invalid JSON", panel=panel)
    if status >= 400 and not isinstance(payload, dict | list):
        raise PanelUnavailable(f"the panel answered HTTP {status}", panel=panel)
    return payload


async def with_retries(
    call: Callable[[], Awaitable[T]], *, retries: int, backoff: float, what: str
) -> T:
    """Retry an idempotent read on transport failures and rate limits, backing off."""
    attempt = 0
    while True:
        try:
            return await call()
        except (PanelUnavailable, RateLimited) as e:
            attempt += 1
            if attempt > retries:
                raise
            delay = backoff * (2 ** (attempt - 1)) * (1 + random.random() / 4)
            if isinstance(e, RateLimited) and e.retry_after:
                delay = max(delay, e.retry_after)
            log.info("retrying %s in %.2fs after: %s", what, delay, e)
            await asyncio.sleep(delay)


def outcome_of_failed_add(error: PanelError) -> PanelError:
    """Decide what a failed ``add`` means for the money: certainly not placed, or unknown.

    A refused connection or a panel's own ``{"error": ...}`` means nothing was placed; a
    timeout, a dropped connection, a 5xx, or an unreadable answer may follow a placed order.
    """
    if isinstance(error, _NotSent) or not isinstance(error, PanelUnavailable):
        return error
    unknown = OrderOutcomeUnknown(
        f"the order may have been placed: {error.message}", panel=error.panel
    )
    unknown.__cause__ = error
    return unknown


class PanelClient(ABC):
    """A panel reached over HTTP. Many-ID methods split their IDs into chunks of 100."""

    dialect: str = ""
    capabilities: Capabilities = Capabilities()

    def __init__(self, config: PanelConfig) -> None:
        self.config = config
        self.transport = Transport(config)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.config.name!r})"

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def requests_made(self) -> int:
        return self.transport.requests_made

    async def close(self) -> None:
        await self.transport.close()

    def _unsupported(self, action: str) -> UnsupportedAction:
        return UnsupportedAction(f"this panel has no {action} action", panel=self.name)

    @abstractmethod
    async def services(self) -> list[Service]:
        """Fetch the whole catalog."""

    @abstractmethod
    async def add_order(self, request: OrderRequest) -> str:
        """Place one order and return the panel's order ID.

        Raises ``OrderOutcomeUnknown`` when the request may have reached the panel, any other
        ``PanelError`` when the order was certainly not placed. Never retried.
        """

    async def order_status(self, order_id: str) -> OrderStatusInfo:
        """Status of one order."""
        return (await self.order_statuses([order_id]))[order_id]

    @abstractmethod
    async def order_statuses(self, order_ids: Sequence[str]) -> dict[str, OrderStatusInfo]:
        """Status of many orders, keyed by every ID asked (errors per ID inside)."""

    async def refill(self, order_id: str) -> RefillResult:
        """Ask for a refill of one order."""
        return (await self.refills([order_id]))[order_id]

    async def refills(self, order_ids: Sequence[str]) -> dict[str, RefillResult]:
        """Ask for refills of many orders."""
        raise self._unsupported("refill")

    async def refill_status(self, refill_id: str) -> RefillStatusInfo:
        """Status of one refill."""
        return (await self.refill_statuses([refill_id]))[refill_id]

    async def refill_statuses(self, refill_ids: Sequence[str]) -> dict[str, RefillStatusInfo]:
        """Status of many refills."""
        raise self._unsupported("refill status")

    async def cancel(self, order_id: str) -> CancelResult:
        """Ask to cancel one order."""
        return (await self.cancels([order_id]))[order_id]

    async def cancels(self, order_ids: Sequence[str]) -> dict[str, CancelResult]:
        """Ask to cancel many orders."""
        raise self._unsupported("cancel")

    async def cancel_statuses(self, cancel_ids: Sequence[str]) -> dict[str, CancelStatusInfo]:
        """Status of many cancel requests (only where the panel has it)."""
        raise self._unsupported("cancel status")

    async def balance(self) -> Balance:
        """The reseller's balance on this panel, in its currency."""
        raise self._unsupported("balance")
