"""Reading v2-family answers the way real panels write them, without a server."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from bot.panels.base import PanelConfig
from bot.panels.errors import InvalidRequest, PanelUnavailable
from bot.panels.models import (
    CancelKind,
    OrderRequest,
    OrderStatus,
    OrderType,
    RequestStatus,
)
from bot.panels.registry import make_client
from bot.panels.smmbros import SmmBrosClient, request_answer
from bot.panels.smmsend import SmmSendClient
from bot.panels.v2 import (
    LEFT_OUT,
    V2Client,
    balance_from_payload,
    cancel_from_entry,
    cancel_status_from_entry,
    check_request,
    index_answer,
    refill_from_entry,
    refill_status_from_entry,
    relax_json,
    service_from_payload,
    status_from_entry,
)


def config(dialect: str = "v2") -> PanelConfig:
    return PanelConfig(name="p", dialect=dialect, url="http://127.0.0.1:9/api/v2", key="k")


# ---------------------------------------------------------------- sloppy JSON


def test_smmbros_refill_answer_with_unquoted_status_is_read() -> None:
    body = b'{\n\t"status": Success,\n\t"message": "Your order: added. Thanks, all"\n}'
    assert json.loads(relax_json(body)) == {
        "status": "Success",
        "message": "Your order: added. Thanks, all",
    }


def test_smmbros_balance_with_trailing_comma_is_read() -> None:
    body = b'{\n\t"balance": 10000,\n\t"currency": "USD",\n}'
    assert json.loads(relax_json(body)) == {"balance": 10000, "currency": "USD"}


@pytest.mark.parametrize(
    "body",
    [
        b'{"order": 12',  # cut short: the order may exist, so it must stay unreadable
        b"<html><body>Bad gateway</body></html>",
        b"{order: 1}",
        b"not json at all",
    ],
)
def test_broken_answers_are_not_repaired_into_something_else(body: bytes) -> None:
    assert relax_json(body) == body


def test_valid_json_is_left_exactly_as_sent() -> None:
    body = b'{"status": "In progress", "note": "a, }"}'
    assert relax_json(body) is body


# ---------------------------------------------------------------- services


def test_service_numbers_as_strings_become_decimal_and_int() -> None:
    service = service_from_payload(
        {
            "service": 1,
            "name": "Followers",
            "type": "Default",
            "category": "First Category",
            "rate": "0.90",
            "min": "50",
            "max": "10000",
            "refill": True,
            "cancel": True,
        }
    )
    assert service is not None
    assert service.service_id == "1"
    assert service.rate == Decimal("0.90")
    assert (service.min, service.max) == (50, 10000)
    assert service.refill and service.cancel
    assert service.type is OrderType.DEFAULT
    assert service.orderable


def test_service_numbers_as_numbers_keep_their_written_value() -> None:
    service = service_from_payload(
        {"service": "7", "name": "X", "type": "Poll", "rate": 0.9, "min": 10, "max": 500}
    )
    assert service is not None
    assert service.rate == Decimal("0.9")
    assert service.type is OrderType.POLL


def test_unknown_service_type_is_listed_but_not_orderable() -> None:
    service = service_from_payload(
        {"service": 3, "name": "?", "type": "Story Views Magic", "rate": "1", "min": 1, "max": 9}
    )
    assert service is not None
    assert service.type is None
    assert service.type_name == "Story Views Magic"
    assert not service.orderable


def test_service_type_in_odd_case_and_spacing_is_recognised() -> None:
    service = service_from_payload(
        {"service": 3, "type": " custom   COMMENTS ", "rate": "8", "min": "10", "max": "1500"}
    )
    assert service is not None
    assert service.type is OrderType.CUSTOM_COMMENTS


def test_package_without_range_is_orderable_as_one_package() -> None:
    service = service_from_payload({"service": 4, "type": "Package", "rate": "12.5"})
    assert service is not None
    assert (service.min, service.max) == (1, 1)
    assert service.orderable


def test_service_without_range_is_not_orderable() -> None:
    service = service_from_payload({"service": 5, "type": "Default", "rate": "1", "min": ""})
    assert service is not None
    assert not service.orderable


@pytest.mark.parametrize(
    "item", [{"name": "no id", "rate": "1"}, {"service": 9, "rate": "n/a"}, "junk", None]
)
def test_service_without_id_or_price_is_skipped(item: object) -> None:
    assert service_from_payload(item) is None


def test_missing_flags_default_by_panel() -> None:
    item = {"service": 1, "type": "Default", "rate": "1", "min": 1, "max": 10}
    plain = service_from_payload(item)
    assert plain is not None and not plain.refill and not plain.cancel
    assert plain.dripfeed  # v2 Default orders take runs/interval
    assert not plain.dripfeed_flagged  # ... but the panel did not say so itself
    bros = service_from_payload(item, flags_default=True)
    assert bros is not None and bros.refill and bros.cancel
    send = service_from_payload(item, dripfeed_default=False)
    assert send is not None and not send.dripfeed
    comments = service_from_payload({**item, "type": "Custom Comments"})
    assert comments is not None and not comments.dripfeed


def test_smmsend_dripfeed_flag_is_read() -> None:
    service = service_from_payload(
        {"service": 1, "type": "Default", "rate": "1", "min": 1, "max": 9, "dripfeed": "1"},
        dripfeed_default=False,
    )
    assert service is not None and service.dripfeed and service.dripfeed_flagged
    unmarked = service_from_payload(
        {"service": 2, "type": "Default", "rate": "1", "min": 1, "max": 9, "dripfeed": "0"}
    )
    assert unmarked is not None and not unmarked.dripfeed and not unmarked.dripfeed_flagged


# ---------------------------------------------------------------- multi-ID answers


def test_multi_answer_keyed_by_id_and_list_of_objects_index_alike() -> None:
    keyed = index_answer(
        {"1": {"status": "Partial"}, 10: {"error": "Incorrect order ID"}}, "order"
    )
    listed = index_answer(
        [{"order": 1, "refill": 1}, {"order": "10", "refill": {"error": "x"}}, "junk"], "order"
    )
    assert set(keyed) == {"1", "10"}
    assert set(listed) == {"1", "10"}


def test_status_entries_per_id() -> None:
    ok = status_from_entry(
        "1",
        {
            "charge": "0.27819",
            "start_count": "3572",
            "status": " in   PROGRESS ",
            "remains": "",
            "currency": "USD",
        },
    )
    assert ok.status is OrderStatus.IN_PROGRESS
    assert ok.charge == Decimal("0.27819")
    assert ok.remains is None
    gone = status_from_entry("10", {"error": "Incorrect order ID"})
    assert gone.not_found
    left_out = status_from_entry("11", None)
    assert left_out.error == LEFT_OUT
    # An order the panel merely left out must not look deleted (that would refund it).
    assert not left_out.not_found
    assert not left_out.status.is_final


def test_refill_entries_per_id() -> None:
    assert refill_from_entry("1", {"order": 1, "refill": 1}).refill_id == "1"
    assert refill_from_entry("1", {"refill": "7"}).refill_id == "7"
    refused = refill_from_entry("3", {"order": 3, "refill": {"error": "Incorrect order ID"}})
    assert not refused.accepted and refused.error == "Incorrect order ID"
    assert refill_from_entry("4", {"error": "Refill is disabled"}).error == "Refill is disabled"
    assert refill_from_entry("5", None).error == LEFT_OUT
    assert not refill_from_entry("6", {"order": 6}).accepted


def test_refill_status_reads_type_where_status_is_missing() -> None:
    done = refill_status_from_entry("1", {"refill": 1, "status": "Completed"})
    assert done.status is RequestStatus.COMPLETED
    rejected = refill_status_from_entry("2", {"refill": 2, "type": "Rejected"})
    assert rejected.status is RequestStatus.REJECTED
    missing = refill_status_from_entry("3", {"refill": 3, "status": {"error": "Refill not found"}})
    assert missing.error == "Refill not found"
    assert missing.status is RequestStatus.UNKNOWN


def test_cancel_entries_carry_kind_and_id() -> None:
    drip = cancel_from_entry("10", {"order": 10, "type": "dripfeed", "cancel": 200})
    assert (drip.cancel_id, drip.kind) == ("200", CancelKind.DRIPFEED)
    sub = cancel_from_entry(
        "1000",
        {"order": 1000, "type": "subscription", "cancel": {"error": "Cancellation request was"}},
    )
    assert sub.kind is CancelKind.SUBSCRIPTION and not sub.accepted
    plain = cancel_from_entry("2", {"order": 2, "cancel": 1})
    assert (plain.cancel_id, plain.kind) == ("1", CancelKind.ORDER)
    assert cancel_from_entry("3", None).error == LEFT_OUT


def test_cancel_status_entries() -> None:
    assert cancel_status_from_entry("1", {"status": "Completed"}).status.is_final
    pending = cancel_status_from_entry("2", {"cancel": 2, "status": "pending"})
    assert pending.status is RequestStatus.PENDING
    assert cancel_status_from_entry("3", {"status": {"error": "Cancel not found"}}).error


def test_smmbros_request_answers() -> None:
    assert request_answer({"status": "Success", "message": "added"}) == (True, "added")
    assert request_answer({"status": "Failed", "message": "Refill not allowed"}) == (
        False,
        "Refill not allowed",
    )
    assert request_answer({"error": "Incorrect order ID"}) == (False, "Incorrect order ID")
    assert request_answer(["?"])[0] is False


# ---------------------------------------------------------------- balance


@pytest.mark.parametrize(
    ("payload", "amount"),
    [
        ({"balance": "100.84292", "currency": "USD"}, Decimal("100.84292")),
        ({"balance": 10000, "currency": "usd"}, Decimal(10000)),
        ({"balance": 12.5, "currency": "USD"}, Decimal("12.5")),
    ],
)
def test_balance_as_text_or_number(payload: dict[str, object], amount: Decimal) -> None:
    balance = balance_from_payload(payload, panel="p")
    assert balance.amount == amount
    assert balance.currency == "USD"


def test_balance_without_amount_is_unreadable() -> None:
    with pytest.raises(PanelUnavailable):
        balance_from_payload({"currency": "USD"}, panel="p")


# ---------------------------------------------------------------- order forms


def test_smmbros_sends_url_instead_of_link() -> None:
    request = OrderRequest("5", link="https://x.com/a", quantity=100, runs=2, interval=10)
    form = SmmBrosClient(config("smmbros")).order_form(request)
    assert form == {
        "service": "5",
        "url": "https://x.com/a",
        "quantity": "100",
        "runs": "2",
        "interval": "10",
    }
    assert V2Client(config()).order_form(request)["link"] == "https://x.com/a"


@pytest.mark.parametrize(
    ("request_", "complaint"),
    [
        (OrderRequest("1", quantity=100), "link"),
        (OrderRequest("1", link="https://x.com/a"), "quantity"),
        (OrderRequest("1", link="https://x.com/a", quantity=0), "quantity"),
        (OrderRequest("1", OrderType.SEO, link="https://x.com/a", quantity=10), "keywords"),
        (OrderRequest("1", link="https://x.com/a", quantity=10, runs=3), "runs and interval"),
        (OrderRequest(" ", link="https://x.com/a", quantity=10), "service"),
    ],
)
def test_add_checks_required_fields_before_sending(request_: OrderRequest, complaint: str) -> None:
    with pytest.raises(InvalidRequest, match=complaint):
        check_request(request_, V2Client.capabilities)


def test_dialects_refuse_order_types_they_do_not_document() -> None:
    poll = OrderRequest("1", OrderType.POLL, link="https://x.com/p", quantity=10, answer_number=1)
    check_request(poll, SmmSendClient.capabilities)
    with pytest.raises(InvalidRequest, match="Poll"):
        check_request(poll, SmmBrosClient.capabilities)


# ---------------------------------------------------------------- registry


@pytest.mark.parametrize(
    ("dialect", "cls"),
    [("v2", V2Client), ("smmbros", SmmBrosClient), ("smmsend", SmmSendClient)],
)
def test_registry_picks_the_client_for_each_dialect(dialect: str, cls: type) -> None:
    client = make_client(config(dialect))
    assert type(client) is cls
    assert client.dialect == dialect


def test_registry_builds_smmtechs() -> None:
    client = make_client(config("smmtechs"))
    assert client.dialect == "smmtechs"


def test_registry_names_the_dialects_it_knows() -> None:
    with pytest.raises(ValueError, match="smmbros"):
        make_client(config("v3"))


def test_capabilities_per_dialect() -> None:
    bros = SmmBrosClient.capabilities
    assert not bros.per_service_flags and not bros.refill_status
    assert SmmSendClient.capabilities.cancel_status
    assert not V2Client.capabilities.cancel_status
