"""The aiohttp endpoint Crypto Pay posts updates to: signature first, then the paid invoice.

Crypto Pay retries a delivery that does not get a 200, so ``on_paid`` must be idempotent, and
an ``on_paid`` that fails answers 500 to have the update sent again later.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.payments.cryptopay import (
    SIGNATURE_HEADER,
    CryptoInvoice,
    parse_webhook_update,
    verify_webhook_signature,
)

log = logging.getLogger(__name__)

DEFAULT_PATH = "/cryptopay/webhook"
# An update is one invoice with a payload of at most 4 KB; anything far larger is not one.
MAX_BODY_BYTES = 64 * 1024


def webhook_app(
    token: str,
    on_paid: Callable[[CryptoInvoice], Awaitable[None]],
    path: str = DEFAULT_PATH,
) -> web.Application:
    """Build an app that passes each correctly signed paid invoice to ``on_paid``."""

    async def receive_update(request: web.Request) -> web.Response:
        """Check the signature, read the update, hand a paid invoice on, answer."""
        raw_body = await request.read()
        if not verify_webhook_signature(token, raw_body, request.headers.get(SIGNATURE_HEADER)):
            log.warning("Crypto Pay webhook: refused an update with a bad or missing signature")
            return web.Response(status=401, text="bad signature")
        try:
            invoice = parse_webhook_update(raw_body)
        except ValueError as e:
            log.warning("Crypto Pay webhook: refused an unreadable update (%s)", e)
            return web.Response(status=400, text="bad update")
        if invoice is None:
            return web.Response(text="ok")
        try:
            await on_paid(invoice)
        except Exception:
            log.exception(
                "Crypto Pay webhook: handling paid invoice %d failed; it will be sent again",
                invoice.invoice_id,
            )
            return web.Response(status=500, text="try again")
        return web.Response(text="ok")

    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app.router.add_post(path, receive_update)
    return app
