"""Render the outbox's notices into text and buttons, at send time, in the reader's language.

Services record what happened (``bot.services.notifications.Notice``: a kind and its data);
this is the one place that turns each kind into a Telegram message. Every renderer takes the
notice's data, the reader's language and the shop's currency; ``render`` builds each notice
inside ``i18n.use(language)``, so every text and button of it is in the reader's language.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from telegram import InlineKeyboardMarkup

from bot import i18n
from bot import texts as common_texts
from bot.i18n import _
from bot.keyboards import orders as order_keyboards
from bot.keyboards import payments as payment_keyboards
from bot.panels.models import OrderType
from bot.services.notifications import NoticeKind
from bot.texts import notifications as texts
from bot.texts import ordering as ordering_texts
from bot.texts import orders as order_texts
from bot.texts import payments as payment_texts
from storage.db import parse_time
from storage.orders import OrderRecord, OrderState
from storage.payments import Origin, Payment, Provider, State

DEFAULT_LANGUAGE = i18n.DEFAULT_LANGUAGE
Data = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Rendered:
    """A notice as Telegram shows it: HTML text and its buttons, if any."""

    text: str
    reply_markup: InlineKeyboardMarkup | None = None


Renderer = Callable[[Data, str, str], Rendered]


# --------------------------------------------------------------------------- records


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def order_from_data(data: Data) -> OrderRecord:
    """Rebuild the order a notice recorded."""
    return OrderRecord(
        order_id=int(data["order_id"]),
        user_id=int(data["user_id"]),
        chat_id=int(data["chat_id"]),
        panel=str(data["panel"]),
        panel_order_id=None if data["panel_order_id"] is None else str(data["panel_order_id"]),
        item_id=int(data["item_id"]),
        service_id=str(data["service_id"]),
        service_name=str(data["service_name"]),
        order_type=OrderType(data["order_type"]),
        link=None if data["link"] is None else str(data["link"]),
        quantity=int(data["quantity"]),
        fields={str(k): str(v) for k, v in data["fields"].items()},
        price=Decimal(str(data["price"])),
        cost=Decimal(str(data["cost"])),
        charged=bool(data["charged"]),
        status=OrderState(data["status"]),
        remains=None if data["remains"] is None else int(data["remains"]),
        start_count=None if data["start_count"] is None else int(data["start_count"]),
        created_at=parse_time(str(data["created_at"])),
        updated_at=parse_time(str(data["updated_at"])),
        error=None if data.get("error") is None else str(data["error"]),
        not_found=bool(data.get("not_found", False)),
    )


def payment_from_data(data: Data) -> Payment:
    """Rebuild the payment a notice recorded."""

    def moment(name: str) -> Any:
        value = data.get(name)
        return None if value is None else parse_time(str(value))

    def text(name: str) -> str | None:
        value = data.get(name)
        return None if value is None else str(value)

    return Payment(
        payment_id=int(data["payment_id"]),
        user_id=int(data["user_id"]),
        chat_id=int(data["chat_id"]),
        provider=Provider(data["provider"]),
        provider_payment_id=text("provider_payment_id"),
        payload=text("payload"),
        amount=Decimal(str(data["amount"])),
        provider_amount=Decimal(str(data["provider_amount"])),
        provider_unit=str(data["provider_unit"]),
        rate=Decimal(str(data["rate"])),
        state=State(data["state"]),
        origin=Origin(data["origin"]),
        repeat_of=None if data.get("repeat_of") is None else int(data["repeat_of"]),
        pay_url=text("pay_url"),
        paid_asset=text("paid_asset"),
        paid_amount=_decimal(data.get("paid_amount")),
        reference=text("reference"),
        photo_file_id=text("photo_file_id"),
        note=text("note"),
        decided_by=None if data.get("decided_by") is None else int(data["decided_by"]),
        expires_at=moment("expires_at"),
        created_at=parse_time(str(data["created_at"])),
        paid_at=moment("paid_at"),
        credited_at=moment("credited_at"),
    )


def _who(data: Data) -> str:
    """Name the customer a payment notice is about, for the admins (HTML)."""
    customer = data["customer"]
    user_id = int(customer["user_id"])
    if customer.get("first_name") is None:
        return _("customer <code>{user_id}</code>").format(user_id=user_id)
    return common_texts.customer(str(customer["first_name"]), customer.get("username"), user_id)


# --------------------------------------------------------------------------- orders


def _order_status(data: Data, language: str, currency: str) -> Rendered:
    order = order_from_data(data["order"])
    text = texts.order_status(
        order,
        refund=_decimal(data.get("refund")),
        balance=_decimal(data.get("balance")),
        currency=currency,
        settled_by_shop=bool(data.get("settled_by_shop")),
        canceled_by_customer=bool(data.get("canceled_by_customer")),
    )
    return Rendered(text, order_keyboards.open_order_keyboard(order.order_id))


def _order_not_found(data: Data, language: str, currency: str) -> Rendered:
    order = order_from_data(data["order"])
    return Rendered(
        texts.order_not_found(order), order_keyboards.open_order_keyboard(order.order_id)
    )


def _order_not_found_admin(data: Data, language: str, currency: str) -> Rendered:
    order = order_from_data(data["order"])
    return Rendered(
        texts.admin_order_not_found(order, str(data["panel_words"])),
        order_keyboards.open_review_keyboard(order.order_id),
    )


def _partial_unsettled_admin(data: Data, language: str, currency: str) -> Rendered:
    return Rendered(texts.admin_partial_unsettled(order_from_data(data["order"]), currency))


def _settled_partial_moved_admin(data: Data, language: str, currency: str) -> Rendered:
    return Rendered(texts.admin_settled_partial_moved(order_from_data(data["order"]), currency))


def _request_update(data: Data, language: str, currency: str) -> Rendered:
    order_id = int(data["order_id"])
    return Rendered(
        texts.request_update(str(data["kind"]), order_id, str(data["status"])),
        order_keyboards.open_order_keyboard(order_id),
    )


def _order_held(data: Data, language: str, currency: str) -> Rendered:
    return Rendered(ordering_texts.held(order_from_data(data["order"]), currency))


def _order_held_admin(data: Data, language: str, currency: str) -> Rendered:
    order = order_from_data(data["order"])
    return Rendered(
        order_texts.admin_order_held(order, currency),
        order_keyboards.open_review_keyboard(order.order_id),
    )


def _order_refused_admin(data: Data, language: str, currency: str) -> Rendered:
    order = None if data.get("order") is None else order_from_data(data["order"])
    with i18n.use(language):
        text = ordering_texts.admin_order_refused(
            order, str(data["panel"]), str(data["refusal"]), str(data["words"]), currency
        )
    return Rendered(text)


def _review_placed(data: Data, language: str, currency: str) -> Rendered:
    return Rendered(order_texts.customer_order_placed(order_from_data(data["order"])))


def _review_failed(data: Data, language: str, currency: str) -> Rendered:
    order = order_from_data(data["order"])
    balance = Decimal(str(data["balance"]))
    return Rendered(order_texts.customer_order_failed(order, balance, currency))


# --------------------------------------------------------------------------- payments


def _payment_credited(data: Data, language: str, currency: str) -> Rendered:
    payment = payment_from_data(data["payment"])
    markup = payment_keyboards.back_to_order_keyboard() if payment.origin is Origin.ORDER else None
    balance = Decimal(str(data["balance"]))
    return Rendered(payment_texts.you_were_credited(payment, balance, currency), markup)


def _payment_credited_admin(data: Data, language: str, currency: str) -> Rendered:
    payment = payment_from_data(data["payment"])
    balance = Decimal(str(data["balance"]))
    return Rendered(payment_texts.admin_credited(payment, _who(data), balance, currency))


def _payment_rejected(data: Data, language: str, currency: str) -> Rendered:
    return Rendered(payment_texts.you_were_rejected(payment_from_data(data["payment"]), currency))


def _payment_refunded(data: Data, language: str, currency: str) -> Rendered:
    payment = payment_from_data(data["payment"])
    balance = Decimal(str(data["balance"]))
    return Rendered(payment_texts.you_were_refunded(payment, balance, currency))


def _payment_refunded_admin(data: Data, language: str, currency: str) -> Rendered:
    payment = payment_from_data(data["payment"])
    admin_id = int(data["admin_id"])
    return Rendered(payment_texts.admin_refunded(payment, _who(data), admin_id, currency))


def _stars_unmatched_admin(data: Data, language: str, currency: str) -> Rendered:
    payment = payment_from_data(data["payment"])
    return Rendered(payment_texts.admin_unmatched_stars(payment, _who(data)))


def _stars_difference_admin(data: Data, language: str, currency: str) -> Rendered:
    detail = payment_texts.difference_detail(
        str(data["kind"]),
        None if data.get("payment") is None else payment_from_data(data["payment"]),
        None if data.get("stars") is None else int(data["stars"]),
        None if data.get("user_id") is None else int(data["user_id"]),
    )
    return Rendered(payment_texts.admin_difference(detail, str(data["charge_id"])))


def _crypto_mismatch_admin(data: Data, language: str, currency: str) -> Rendered:
    payment = payment_from_data(data["payment"])
    return Rendered(payment_texts.admin_crypto_mismatch(payment, int(data["invoice_id"])))


RENDERERS: dict[NoticeKind, Renderer] = {
    NoticeKind.ORDER_STATUS: _order_status,
    NoticeKind.ORDER_NOT_FOUND: _order_not_found,
    NoticeKind.ORDER_NOT_FOUND_ADMIN: _order_not_found_admin,
    NoticeKind.PARTIAL_UNSETTLED_ADMIN: _partial_unsettled_admin,
    NoticeKind.SETTLED_PARTIAL_MOVED_ADMIN: _settled_partial_moved_admin,
    NoticeKind.REQUEST_UPDATE: _request_update,
    NoticeKind.ORDER_HELD: _order_held,
    NoticeKind.ORDER_HELD_ADMIN: _order_held_admin,
    NoticeKind.ORDER_REFUSED_ADMIN: _order_refused_admin,
    NoticeKind.REVIEW_PLACED: _review_placed,
    NoticeKind.REVIEW_FAILED: _review_failed,
    NoticeKind.PAYMENT_CREDITED: _payment_credited,
    NoticeKind.PAYMENT_CREDITED_ADMIN: _payment_credited_admin,
    NoticeKind.PAYMENT_REJECTED: _payment_rejected,
    NoticeKind.PAYMENT_REFUNDED: _payment_refunded,
    NoticeKind.PAYMENT_REFUNDED_ADMIN: _payment_refunded_admin,
    NoticeKind.STARS_UNMATCHED_ADMIN: _stars_unmatched_admin,
    NoticeKind.STARS_DIFFERENCE_ADMIN: _stars_difference_admin,
    NoticeKind.CRYPTO_MISMATCH_ADMIN: _crypto_mismatch_admin,
}


def render(kind: str, data: Data, *, language: str, currency: str) -> Rendered:
    """Render one notice for a reader; ``ValueError`` for a kind this version cannot show."""
    try:
        renderer = RENDERERS[NoticeKind(kind)]
    except ValueError:
        raise ValueError(f"unknown notice kind {kind!r}") from None
    with i18n.use(language):
        return renderer(data, language, currency)
