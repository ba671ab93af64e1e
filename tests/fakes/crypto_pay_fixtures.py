"""Fixtures: a running fake Crypto Pay API (``crypto_pay``) and a client for it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.payments.cryptopay import CryptoPayClient
from tests.fakes.crypto_pay import DEFAULT_TOKEN, FakeCryptoPay

CRYPTO_PAY_TOKEN = DEFAULT_TOKEN


@pytest.fixture
async def crypto_pay() -> AsyncIterator[FakeCryptoPay]:
    """Serve a fake Crypto Pay API on loopback; ``crypto_pay.base_url``, ``crypto_pay.token``.

    The server stops (and releases any hanging request) after the test.
    """
    async with FakeCryptoPay(CRYPTO_PAY_TOKEN) as fake:
        yield fake


@pytest.fixture
async def crypto_pay_client(crypto_pay: FakeCryptoPay) -> AsyncIterator[CryptoPayClient]:
    """A ``CryptoPayClient`` pointed at the fake with the right token, closed afterwards."""
    client = CryptoPayClient(crypto_pay.token, base_url=crypto_pay.base_url, timeout=5.0)
    try:
        yield client
    finally:
        await client.close()
