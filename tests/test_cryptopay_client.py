"""The Crypto Pay client, webhook checks and endpoint against the fake Crypto Pay API."""

from __future__ import annotations

import json
import logging
import math
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from decimal import Decimal

import aiohttp
import pytest
from aiohttp import web

from bot.payments.cryptopay import (
    SIGNATURE_HEADER,
    CryptoInvoice,
    CryptoPayClient,
    CryptoPayError,
    CryptoPayUnavailable,
    InvoiceStatus,
    parse_webhook_update,
    verify_webhook_signature,
    webhook_signature,
)
from bot.payments.cryptopay_webhook import webhook_app
from tests.fakes.crypto_pay import FakeCryptoPay

WEBHOOK_PATH = "/cryptopay/webhook"


async def create(client: CryptoPayClient, amount: str = "12.50", **overrides) -> CryptoInvoice:
    params = {
        "amount": Decimal(amount),
        "fiat": "USD",
        "accepted_assets": ["USDT", "TON"],
        "payload": "topup:17",
        "description": "Top up 12.50 USD",
        "expires_in": 3600,
    }
    params.update(overrides)
    return await client.create_invoice(**params)


async def only_invoice(client: CryptoPayClient, invoice_id: int) -> CryptoInvoice:
    [invoice] = await client.get_invoices([invoice_id])
    return invoice


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ---------------------------------------------------------------------- invoices


async def test_an_invoice_is_created_in_fiat_and_read_back_paid_with_decimal_amounts(
    crypto_pay: FakeCryptoPay, crypto_pay_client: CryptoPayClient
):
    invoice = await create(crypto_pay_client)

    assert invoice.status is InvoiceStatus.ACTIVE
    assert invoice.currency_type == "fiat"
    assert (invoice.amount, invoice.fiat, invoice.payload) == (Decimal("12.50"), "USD", "topup:17")
    assert invoice.pay_url.startswith("https://t.me/CryptoTestnetBot?start=IV")
    assert invoice.paid_amount is None and invoice.paid_at is None
    assert invoice.created_at.tzinfo is not None
    assert invoice.expiration_date is not None
    assert invoice.expiration_date - invoice.created_at == timedelta(hours=1)
    [sent] = crypto_pay.calls_to("createInvoice")
    assert sent.authorized
    # Amounts travel as decimal strings, never as JSON floats.
    assert sent.params["amount"] == "12.50"
    assert sent.params["accepted_assets"] == "USDT,TON"
    assert (sent.params["currency_type"], sent.params["fiat"]) == ("fiat", "USD")
    assert sent.params["expires_in"] == 3600

    assert (
        await only_invoice(crypto_pay_client, invoice.invoice_id)
    ).status is InvoiceStatus.ACTIVE
    crypto_pay.pay(invoice.invoice_id, asset="TON")
    paid = await only_invoice(crypto_pay_client, invoice.invoice_id)

    assert paid.status is InvoiceStatus.PAID
    assert paid.invoice_id == invoice.invoice_id and paid.hash == invoice.hash
    assert paid.amount == Decimal("12.50")
    assert paid.paid_asset == "TON"
    # 12.50 USD at 5.25 USD per TON, rounded up to 8 places: exact, no float noise.
    assert paid.paid_amount == Decimal("2.38095239")
    assert paid.paid_fiat_rate == Decimal("5.25")
    assert paid.paid_usd_rate == Decimal("5.25")
    assert all(
        isinstance(v, Decimal)
        for v in (paid.amount, paid.paid_amount, paid.paid_fiat_rate, paid.paid_usd_rate)
    )
    assert paid.paid_at is not None and paid.paid_at >= paid.created_at


async def test_an_amount_with_an_exponent_is_sent_as_plain_digits(
    crypto_pay: FakeCryptoPay, crypto_pay_client: CryptoPayClient
):
    invoice = await crypto_pay_client.create_invoice(
        amount=Decimal("1E+2"),
        fiat="EUR",
        accepted_assets=["USDT"],
        payload="p",
        description="d",
        expires_in=60,
    )

    assert crypto_pay.calls_to("createInvoice")[0].params["amount"] == "100"
    assert invoice.amount == Decimal(100) and invoice.fiat == "EUR"


async def test_an_invoice_left_unpaid_reads_expired_and_a_late_payment_reads_paid(
    crypto_pay: FakeCryptoPay, crypto_pay_client: CryptoPayClient
):
    expired_by_hand = await create(crypto_pay_client)
    runs_out = await create(crypto_pay_client, expires_in=60)

    crypto_pay.expire(expired_by_hand.invoice_id)
    crypto_pay.advance(61)
    by_id = {
        i.invoice_id: i
        for i in await crypto_pay_client.get_invoices(
            [expired_by_hand.invoice_id, runs_out.invoice_id]
        )
    }
    assert by_id[expired_by_hand.invoice_id].status is InvoiceStatus.EXPIRED
    assert by_id[runs_out.invoice_id].status is InvoiceStatus.EXPIRED
    assert by_id[runs_out.invoice_id].paid_amount is None

    crypto_pay.pay(runs_out.invoice_id, asset="USDT")
    late = await only_invoice(crypto_pay_client, runs_out.invoice_id)
    assert late.status is InvoiceStatus.PAID
    assert late.paid_amount == Decimal("12.5")


async def test_many_invoices_are_fetched_in_batches_of_100_ids(
    crypto_pay: FakeCryptoPay, crypto_pay_client: CryptoPayClient
):
    ids = [crypto_pay.create_invoice(Decimal(n + 1)).invoice_id for n in range(250)]
    crypto_pay.pay(ids[7])
    asked = [*ids, ids[0], 999_999]  # a repeated ID and one Crypto Pay does not know

    invoices = await crypto_pay_client.get_invoices(asked)

    calls = crypto_pay.calls_to("getInvoices")
    assert len(calls) == math.ceil(len(ids) / 100) == 3
    assert all(len(c.params["invoice_ids"].split(",")) <= 100 for c in calls)
    assert [c.params["count"] for c in calls] == ["100", "100", "51"]
    assert sorted(i.invoice_id for i in invoices) == ids
    paid = [i for i in invoices if i.status is InvoiceStatus.PAID]
    assert [(i.invoice_id, i.paid_amount) for i in paid] == [(ids[7], Decimal(8))]
    assert await crypto_pay_client.get_invoices([]) == []
    assert len(crypto_pay.calls_to("getInvoices")) == 3


async def test_a_deleted_invoice_is_gone_and_deleting_it_again_is_an_api_error(
    crypto_pay: FakeCryptoPay, crypto_pay_client: CryptoPayClient
):
    invoice = await create(crypto_pay_client)

    assert await crypto_pay_client.delete_invoice(invoice.invoice_id) is True
    assert await crypto_pay_client.get_invoices([invoice.invoice_id]) == []
    with pytest.raises(CryptoPayError) as caught:
        await crypto_pay_client.delete_invoice(invoice.invoice_id)
    assert caught.value.name == "INVOICE_NOT_FOUND"
    assert not isinstance(caught.value, CryptoPayUnavailable)


async def test_get_me_describes_the_app_and_the_session_closes_with_the_client(
    crypto_pay: FakeCryptoPay,
):
    async with CryptoPayClient(crypto_pay.token, base_url=crypto_pay.base_url) as client:
        me = await client.get_me()
        await client.get_me()
        session = client._session

    assert me["name"] == "Reseller test shop"
    assert me["payment_processing_bot_username"] == "CryptoTestnetBot"
    assert session is not None and session.closed
    assert all(r.authorized for r in crypto_pay.calls_to("getMe"))


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"amount": "0"}, "positive"),
        ({"amount": "-5"}, "positive"),
        ({"accepted_assets": []}, "accepted asset"),
        ({"payload": "x" * 4097}, "4096 bytes"),
        ({"payload": "é" * 2049}, "4096 bytes"),
        ({"expires_in": 0}, "expires_in"),
        ({"expires_in": 2_678_401}, "expires_in"),
        ({"description": "d" * 1025}, "1024"),
    ],
)
async def test_an_invoice_the_api_would_refuse_is_refused_before_sending(
    crypto_pay: FakeCryptoPay, crypto_pay_client: CryptoPayClient, overrides, problem
):
    amount = overrides.pop("amount", "12.50")
    with pytest.raises(ValueError, match=problem):
        await create(crypto_pay_client, amount, **overrides)
    assert crypto_pay.requests == []


@pytest.mark.parametrize(
    ("changes", "error_name"),
    [
        ({"amount": "0"}, "AMOUNT_INVALID"),
        ({"amount": "ten"}, "AMOUNT_INVALID"),
        ({"fiat": "XXX"}, "FIAT_INVALID"),
        ({"accepted_assets": "USDT,DOGE"}, "ACCEPTED_ASSETS_INVALID"),
        ({"payload": "p" * 4097}, "PAYLOAD_TOO_LONG"),
        ({"expires_in": 0}, "EXPIRES_IN_INVALID"),
        ({"expires_in": 2_678_401}, "EXPIRES_IN_INVALID"),
    ],
)
async def test_the_fake_refuses_what_crypto_pay_refuses(
    crypto_pay: FakeCryptoPay, changes, error_name
):
    body = {
        "currency_type": "fiat",
        "fiat": "USD",
        "accepted_assets": "USDT",
        "amount": "5",
        "expires_in": 60,
        **changes,
    }
    headers = {"Crypto-Pay-API-Token": crypto_pay.token}
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{crypto_pay.base_url}/api/createInvoice", json=body, headers=headers) as r,
    ):
        answer = await r.json()

    assert r.status == 400
    assert answer == {"ok": False, "error": {"code": 400, "name": error_name}}
    assert crypto_pay.invoices == {}


# ---------------------------------------------------------------------- errors


async def test_a_wrong_token_is_an_api_error_named_unauthorized(crypto_pay: FakeCryptoPay):
    client = CryptoPayClient("999:wrong-secret-token", base_url=crypto_pay.base_url)
    try:
        with pytest.raises(CryptoPayError) as caught:
            await client.get_me()
    finally:
        await client.close()

    assert not isinstance(caught.value, CryptoPayUnavailable)
    assert (caught.value.name, caught.value.code) == ("UNAUTHORIZED", 401)
    assert "UNAUTHORIZED" in str(caught.value)


async def test_an_api_refusal_carries_its_name(crypto_pay_client: CryptoPayClient):
    with pytest.raises(CryptoPayError) as caught:
        await create(crypto_pay_client, fiat="XXX")

    assert (caught.value.name, caught.value.code) == ("FIAT_INVALID", 400)


@pytest.mark.parametrize(("kind", "code"), [("http500", 500), ("garbage", 200)])
async def test_a_broken_answer_is_unavailable_and_the_next_call_works(
    crypto_pay: FakeCryptoPay, crypto_pay_client: CryptoPayClient, kind, code
):
    crypto_pay.fail_next(1, kind)

    with pytest.raises(CryptoPayUnavailable) as caught:
        await create(crypto_pay_client)
    assert caught.value.code == code

    assert (await create(crypto_pay_client)).status is InvoiceStatus.ACTIVE


async def test_a_hanging_answer_is_unavailable_after_the_timeout(crypto_pay: FakeCryptoPay):
    crypto_pay.fail_next(1, "hang")
    client = CryptoPayClient(crypto_pay.token, base_url=crypto_pay.base_url, timeout=0.2)
    try:
        with pytest.raises(CryptoPayUnavailable, match=r"no answer in 0\.2s") as caught:
            await client.get_invoices([1])
    finally:
        await client.close()

    assert isinstance(caught.value.__cause__, TimeoutError)


async def test_a_refused_connection_is_unavailable():
    client = CryptoPayClient("1:token", base_url=f"http://127.0.0.1:{free_port()}")
    try:
        with pytest.raises(CryptoPayUnavailable) as caught:
            await client.get_me()
    finally:
        await client.close()

    assert isinstance(caught.value.__cause__, aiohttp.ClientConnectionError)


async def test_an_answer_without_the_api_envelope_is_unavailable(crypto_pay: FakeCryptoPay):
    client = CryptoPayClient(crypto_pay.token, base_url=crypto_pay.base_url + "/nowhere")
    try:
        with pytest.raises(CryptoPayUnavailable):
            await client.get_me()
    finally:
        await client.close()


@pytest.fixture
async def redirecting_server() -> AsyncIterator[tuple[str, list[dict[str, str]]]]:
    """A server whose API answers 302 to another path that records the headers it gets."""
    seen: list[dict[str, str]] = []

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPFound("/elsewhere")

    async def elsewhere(request: web.Request) -> web.Response:
        seen.append(dict(request.headers))
        return web.json_response({"ok": True, "result": {}})

    app = web.Application()
    app.router.add_route("*", "/api/{method}", redirect)
    app.router.add_route("*", "/elsewhere", elsewhere)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}", seen
    finally:
        await runner.cleanup()


async def test_a_redirect_is_not_followed(redirecting_server):
    base_url, seen = redirecting_server
    client = CryptoPayClient("1:token", base_url=base_url)
    try:
        with pytest.raises(CryptoPayUnavailable, match="HTTP 302"):
            await client.get_me()
    finally:
        await client.close()

    assert seen == []


async def test_the_token_appears_in_no_error_repr_or_log(
    crypto_pay: FakeCryptoPay, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.DEBUG)
    token = crypto_pay.token
    working = CryptoPayClient(token, base_url=crypto_pay.base_url, timeout=0.2)
    refused = CryptoPayClient(token, base_url=f"http://127.0.0.1:{free_port()}")
    wrong = CryptoPayClient(token + "x", base_url=crypto_pay.base_url)
    # (fault staged first, call): every way a call can end in an error.
    attempts: list[tuple[str | None, Callable[[], Awaitable[object]]]] = [
        (None, wrong.get_me),
        (None, refused.get_me),
        (None, lambda: create(working, fiat="XXX")),
        ("http500", lambda: working.get_invoices([1])),
        ("garbage", lambda: working.get_invoices([1])),
        ("hang", lambda: working.get_invoices([1])),
    ]
    errors: list[CryptoPayError] = []
    try:
        for fault, call in attempts:
            if fault is not None:
                crypto_pay.fail_next(1, fault)
            with pytest.raises(CryptoPayError) as caught:
                await call()
            errors.append(caught.value)
    finally:
        for client in (working, refused, wrong):
            await client.close()

    assert [e.name for e in errors] == ["UNAUTHORIZED", "UNAVAILABLE", "FIAT_INVALID"] + [
        "UNAVAILABLE"
    ] * 3
    for error in errors:
        texts = [str(error), repr(error), str(error.__cause__), repr(error.__cause__)]
        assert not any(token in text for text in texts), texts
    for client in (working, refused, wrong):
        assert token not in repr(client) and token not in str(client)
    assert token not in caplog.text


# ---------------------------------------------------------------------- webhooks


async def test_a_real_signature_is_accepted_and_others_are_not(crypto_pay: FakeCryptoPay):
    invoice = crypto_pay.pay(crypto_pay.create_invoice(Decimal(5)).invoice_id)
    raw_body, signature = crypto_pay.signed_update(invoice.invoice_id)
    _, forged = crypto_pay.signed_update(invoice.invoice_id, forged=True)
    token = crypto_pay.token

    assert verify_webhook_signature(token, raw_body, signature)
    assert verify_webhook_signature(token, raw_body, signature.upper())
    assert signature == webhook_signature(token, raw_body)
    assert not verify_webhook_signature(token, raw_body, forged)
    assert not verify_webhook_signature(token, raw_body, None)
    assert not verify_webhook_signature(token, raw_body, "")
    assert not verify_webhook_signature(token, raw_body, "not hex at all")
    assert not verify_webhook_signature(token, raw_body, "é" * 64)
    assert not verify_webhook_signature(token, raw_body, signature[:-1])
    assert not verify_webhook_signature(token, raw_body + b" ", signature)
    assert not verify_webhook_signature("other:token", raw_body, signature)


async def test_a_paid_update_is_read_with_decimal_amounts(crypto_pay: FakeCryptoPay):
    invoice = crypto_pay.create_invoice(Decimal("7.10"), payload="topup:3")
    crypto_pay.pay(invoice.invoice_id, asset="USDT")
    raw_body, _ = crypto_pay.signed_update(invoice.invoice_id)

    paid = parse_webhook_update(raw_body)

    assert paid is not None
    assert (paid.invoice_id, paid.status, paid.payload) == (
        invoice.invoice_id,
        InvoiceStatus.PAID,
        "topup:3",
    )
    assert (paid.amount, paid.paid_amount) == (Decimal("7.10"), Decimal("7.1"))


def test_amounts_written_as_json_numbers_are_read_exactly(crypto_pay: FakeCryptoPay):
    invoice = crypto_pay.pay(crypto_pay.create_invoice(Decimal("0.1")).invoice_id)
    raw_body, _ = crypto_pay.signed_update(invoice.invoice_id)
    update = json.loads(raw_body)
    update["payload"]["amount"] = 0.1  # some proxies rewrite strings as numbers
    numeric = json.dumps(update).encode().replace(b'"paid_amount": "0.1"', b'"paid_amount": 0.1')

    paid = parse_webhook_update(numeric)

    assert paid is not None
    assert (paid.amount, paid.paid_amount) == (Decimal("0.1"), Decimal("0.1"))


@pytest.mark.parametrize(
    "raw_body",
    [
        b"",
        b"not json",
        b"\xff\xfe",
        b"[]",
        b'{"update_id": 1}',
        b'{"update_type": "invoice_paid", "payload": {"invoice_id": "x"}}',
        b"[" * 100_000,
    ],
)
def test_a_garbage_update_is_a_value_error(raw_body: bytes):
    with pytest.raises(ValueError):
        parse_webhook_update(raw_body)


def test_an_update_of_another_type_is_ignored():
    assert parse_webhook_update(b'{"update_id": 3, "update_type": "check_activated"}') is None


@pytest.fixture
async def webhook_url(
    crypto_pay: FakeCryptoPay,
) -> AsyncIterator[tuple[str, list[CryptoInvoice], list[str]]]:
    """Serve ``webhook_app`` on loopback; yield its URL, what on_paid got, and a switch.

    Putting "fail" in the switch list makes on_paid raise, as a database error would.
    """
    received: list[CryptoInvoice] = []
    switch: list[str] = []

    async def on_paid(invoice: CryptoInvoice) -> None:
        if "fail" in switch:
            raise RuntimeError("database is locked")
        received.append(invoice)

    runner = web.AppRunner(webhook_app(crypto_pay.token, on_paid), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}{WEBHOOK_PATH}", received, switch
    finally:
        await runner.cleanup()


async def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=body, headers=headers) as r,
    ):
        return r.status


async def test_the_webhook_refuses_a_forged_update_and_takes_a_signed_one_once(
    crypto_pay: FakeCryptoPay, webhook_url
):
    url, received, _ = webhook_url
    invoice = crypto_pay.pay(crypto_pay.create_invoice(Decimal("9.99")).invoice_id, "TON")

    assert await crypto_pay.deliver_webhook(url, invoice.invoice_id, forged=True) == 401
    assert received == []

    assert await crypto_pay.deliver_webhook(url, invoice.invoice_id) == 200
    [paid] = received
    assert (paid.invoice_id, paid.status, paid.paid_asset) == (
        invoice.invoice_id,
        InvoiceStatus.PAID,
        "TON",
    )
    assert paid.paid_amount == invoice.paid_amount
    assert crypto_pay.webhooks_sent == [
        (url, invoice.invoice_id, 401),
        (url, invoice.invoice_id, 200),
    ]


async def test_the_webhook_refuses_a_missing_signature_and_garbage(
    crypto_pay: FakeCryptoPay, webhook_url
):
    url, received, _ = webhook_url
    invoice = crypto_pay.pay(crypto_pay.create_invoice(Decimal(1)).invoice_id)
    raw_body, signature = crypto_pay.signed_update(invoice.invoice_id)
    garbage = b'{"update_type": "invoice_paid", "payload": "nope"}'
    other_type = json.dumps({"update_id": 9, "update_type": "something_new"}).encode()
    sign = crypto_pay.token

    assert await post(url, raw_body, {}) == 401
    assert await post(url, raw_body, {SIGNATURE_HEADER: "garbage"}) == 401
    assert await post(url, garbage, {SIGNATURE_HEADER: webhook_signature(sign, garbage)}) == 400
    assert (
        await post(url, other_type, {SIGNATURE_HEADER: webhook_signature(sign, other_type)}) == 200
    )
    assert received == []
    assert await post(url, raw_body, {SIGNATURE_HEADER: signature}) == 200
    assert [i.invoice_id for i in received] == [invoice.invoice_id]


async def test_the_webhook_answers_500_when_on_paid_fails_so_crypto_pay_retries(
    crypto_pay: FakeCryptoPay, webhook_url, caplog: pytest.LogCaptureFixture
):
    url, received, switch = webhook_url
    invoice = crypto_pay.pay(crypto_pay.create_invoice(Decimal(1)).invoice_id)
    switch.append("fail")

    assert await crypto_pay.deliver_webhook(url, invoice.invoice_id) == 500
    assert "will be sent again" in caplog.text

    switch.clear()
    assert await crypto_pay.deliver_webhook(url, invoice.invoice_id) == 200
    assert [i.invoice_id for i in received] == [invoice.invoice_id]
