"""Every screen translated so far, in Russian and French: no English left.

The menus, wallet, admin, help and top-up screens; the catalog, the order form (a question
with an error, the summary, the price-changed notice), the order's outcome, My orders and the
admin review.

Each screen is built the way a handler builds it, once in English and once in the reader's
language; the translation must differ, and must not keep an English sentence (Russian:
no Latin word outside brand names, commands and data; French: none of the English words
every English sentence of these screens is made of).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest

from bot import i18n, keyboards, notices, texts
from bot import order_form as form
from bot.i18n import _
from bot.keyboards import ordering as ordering_keyboards
from bot.keyboards import orders as orders_keyboards
from bot.keyboards import payments as payment_keyboards
from bot.panels.models import OrderType, Service
from bot.services import notifications
from bot.services.catalog import CatalogItem
from bot.services.notifications import NoticeKind
from bot.services.payments import Provider, State
from bot.texts import ordering as ordering_texts
from bot.texts import orders as orders_texts
from bot.texts import payments as pay_texts
from storage.orders import OrderRecord, OrderState
from storage.payments import Origin, Payment

WHEN = datetime(2026, 3, 7, 9, 5, tzinfo=UTC)
USD = "USD"

# Latin words a Russian screen may keep: brand names, currencies and the service option that
# Russian SMM shops call by its English name.
RU_KEPT = {"telegram", "stars", "crypto", "pay", "usd", "usdt", "ton", "utc", "id", "drip-feed",
           "payload"}  # fmt: skip
# What the screens below are given (names, typed text, panel data): not the bot's words.
DATA = ["https://instagram.com/p/abc", "IBAN DE00 1234", "TX-9", "Ann", "abc", "ten", "bonus",
        "sandbox", "bros", "v2", "Instagram Followers", "Instagram", "instagram"]  # fmt: skip
# Words that only an English sentence of these screens would hold.
ENGLISH = {
    "the", "your", "you", "was", "were", "is", "are", "and", "with", "from", "please",
    "payment", "balance", "order", "orders", "top", "money", "added", "nothing", "not",
    "has", "have", "this", "that", "will", "what", "how", "of", "to", "by", "for",
}  # fmt: skip


def payment(**changes: Any) -> Any:
    fields: dict[str, Any] = {
        "payment_id": 42,
        "user_id": 1001,
        "provider": Provider.STARS,
        "provider_amount": Decimal(1250),
        "stars": 1250,
        "amount": Decimal("1234.50"),
        "state": State.CREDITED,
        "note": None,
        "reference": "TX-9",
        "paid_asset": None,
        "paid_amount": None,
        "credited_at": WHEN,
        "created_at": WHEN,
    }
    fields.update(changes)
    return SimpleNamespace(**fields)


def panel(**changes: Any) -> Any:
    fields: dict[str, Any] = {
        "name": "sandbox",
        "dialect": "v2",
        "balance": SimpleNamespace(amount=Decimal("12.3456"), currency=USD),
        "balance_offered": True,
        "balance_error": None,
        "services_on_sale": 21,
        "services_listed": 25,
        "synced_at": WHEN,
        "active_orders": 3,
        "held_orders": 1,
        "spent_last_day": Decimal(50),
        "backing_off": True,
        "failures": 3,
        "refill": True,
        "cancel": False,
        "dripfeed": True,
        "low_balance": True,
    }
    fields.update(changes)
    return SimpleNamespace(**fields)


def overview() -> Any:
    user = SimpleNamespace(
        user_id=1001, first_name="Ann", username="ann", is_blocked=True, created_at=WHEN
    )
    entries = [
        SimpleNamespace(amount=Decimal(-5), kind="debit", reason="", admin_id=7, created_at=WHEN),
        SimpleNamespace(
            amount=Decimal(10), kind="credit", reason="", admin_id=None, created_at=WHEN
        ),
    ]
    return SimpleNamespace(
        user=user, balance=Decimal(5), entries=entries, orders=[], order_count=0
    )


def labels(markup: Any) -> str:
    return "\n".join(button.text for row in markup.inline_keyboard for button in row)


SCREENS: dict[str, Callable[[], str]] = {
    # menus and help
    "welcome new": lambda: texts.welcome("Ann", new=True),
    "welcome back": lambda: texts.welcome("", new=False),
    "trial credit": lambda: texts.welcome_credit(Decimal(5), USD),
    "main menu": lambda: _(texts.MAIN_MENU),
    "help": lambda: _(texts.HELP) + "\n" + _(pay_texts.HELP_TOP_UP),
    "nothing to cancel": lambda: _(texts.NOTHING_TO_CANCEL),
    "unknown command": lambda: _(texts.UNKNOWN_COMMAND),
    "stale button": lambda: _(texts.BUTTON_INVALID),
    "error": lambda: _(texts.SOMETHING_WENT_WRONG),
    "your id": lambda: texts.your_id(1001, is_admin=False, owner_setup=True),
    "main menu buttons": lambda: labels(keyboards.main_menu()),
    "commands": lambda: "\n".join(
        _(about) for _name, about in texts.USER_COMMANDS + texts.ADMIN_COMMANDS
    ),
    # wallet
    "empty balance": lambda: texts.balance(Decimal(0), USD, []),
    "balance": lambda: texts.balance(
        Decimal("1234.5"),
        USD,
        [(Decimal(10), "payment", "", WHEN), (Decimal(-3), "order", "", WHEN)],
    ),
    "credited": lambda: texts.you_were_credited(Decimal(10), "bonus", Decimal(20), USD),
    "debited": lambda: texts.you_were_debited(Decimal(10), "bonus", Decimal(20), USD),
    # admin
    "credit usage": lambda: _(texts.CREDIT_USAGE),
    "bad amount": lambda: texts.bad_amount("abc", "—"),
    "unknown user": lambda: texts.unknown_user("@nobody"),
    "debit too large": lambda: texts.debit_too_large("Ann", Decimal(9), Decimal(1), USD),
    "sync report": lambda: texts.sync_report(
        [("sandbox", True, 21, None), ("bros", False, 0, None)]
    ),
    "panels": lambda: "\n".join(
        texts.panels_report([panel(), panel(synced_at=None, failures=1, backing_off=False)], USD)
    ),
    "customer": lambda: texts.customer_report(
        overview(), USD, pay_texts.payments_block([payment()], USD)
    ),
    # top-ups
    "choose amount": lambda: pay_texts.choose_amount(Decimal(1), Decimal(500), USD, Decimal(3)),
    "type amount": lambda: pay_texts.type_amount(Decimal(1), Decimal(500), USD),
    "not an amount": lambda: pay_texts.bad_amount("ten"),
    "out of range": lambda: pay_texts.amount_out_of_range(
        Decimal(900), Decimal(1), Decimal(500), USD
    ),
    "choose method": lambda: pay_texts.choose_method(Decimal(15), USD),
    "stars invoice": lambda: pay_texts.stars_invoice_sent(Decimal(15), USD, 750, 30),
    "stars title": lambda: pay_texts.stars_title(Decimal(15), USD),
    "stars description": lambda: pay_texts.stars_description(Decimal(15), USD, 750),
    "payment credited": lambda: pay_texts.credited(payment(), Decimal(20), USD),
    "unmatched": lambda: pay_texts.unmatched(payment()),
    "terms": lambda: pay_texts.terms(USD, ""),
    "paysupport": lambda: _(pay_texts.PAYSUPPORT),
    "crypto invoice": lambda: pay_texts.crypto_invoice(Decimal(15), USD, ["USDT", "TON"], 60),
    "manual": lambda: pay_texts.manual_instructions(Decimal(15), USD, "IBAN DE00 1234"),
    "receipt received": lambda: pay_texts.receipt_received(payment(provider=Provider.MANUAL), USD),
    "rejected": lambda: pay_texts.you_were_rejected(
        payment(state=State.REJECTED, note=pay_texts.REJECT_REASONS["amount"]), USD
    ),
    "receipt card": lambda: pay_texts.receipt_card(payment(provider=Provider.MANUAL), "Ann", USD),
    "refunded": lambda: pay_texts.you_were_refunded(
        payment(state=State.REFUNDED), Decimal(0), USD
    ),
    "not refundable": lambda: pay_texts.not_refundable(payment(state=State.REJECTED)),
    "admin credited": lambda: pay_texts.admin_credited(payment(), "Ann", Decimal(20), USD),
    "pre-checkout": lambda: _(pay_texts.PRE_CHECKOUT_STALE),
    "top-up buttons": lambda: (
        labels(
            payment_keyboards.amounts_keyboard(
                0, [(Decimal(5), pay_texts.top_up_amount_button(Decimal(5), USD, missing=True))]
            )
        )
        + "\n"
        + labels(payment_keyboards.receipt_card_keyboard(42))
        + "\n"
        + labels(payment_keyboards.reject_reasons_keyboard(42))
        + "\n"
        + labels(payment_keyboards.balance_keyboard())
    ),
}


def service(**changes: Any) -> Service:
    fields: dict[str, Any] = {
        "service_id": "101",
        "name": "Instagram Followers",
        "type": OrderType.DEFAULT,
        "type_name": "",
        "category": "Followers",
        "rate": Decimal("1.2"),
        "min": 100,
        "max": 10000,
        "refill": True,
        "dripfeed": True,
        "description": "",
    }
    fields.update(changes)
    return Service(**fields)


def item(**changes: Any) -> CatalogItem:
    return CatalogItem(
        item_id=7,
        panel="sandbox",
        service=service(**changes),
        platform="Instagram",
        category_id=3,
        category="Instagram",
        price_rate=Decimal("2.5"),
    )


def order(**changes: Any) -> Any:
    fields: dict[str, Any] = {
        "order_id": 12,
        "user_id": 1001,
        "chat_id": 1001,
        "panel": "sandbox",
        "panel_order_id": "TX-9",
        "item_id": 7,
        "service_id": "101",
        "service_name": "Instagram Followers",
        "link": "https://instagram.com/p/abc",
        "quantity": 1500,
        "fields": {"runs": "3", "interval": "30"},
        "price": Decimal("3.75"),
        "charged": True,
        "status": "in_progress",
        "remains": 500,
        "start_count": 1200,
        "total_units": 1500,
        "created_at": WHEN,
        "error": None,
        "not_found": False,
    }
    fields.update(changes)
    return SimpleNamespace(**fields)


def question_with_error() -> str:
    """The form at its quantity step after "ten" was typed, as the handler shows it."""
    svc = item().service
    values = {"link": "https://instagram.com/p/abc"}
    step = form.next_step(svc, values)
    assert step is not None
    try:
        form.parse_answer(step, "ten", svc, values)
    except form.FormError as e:
        error = e.message
    number, total = form.progress(svc, values, step)
    return ordering_texts.question(
        item(),
        step,
        number=number,
        total=total,
        answers=form.describe(svc, values),
        error=error,
    )


def order_summary(notice: str | None = None) -> str:
    values: dict[str, Any] = {"link": "https://instagram.com/p/abc", "quantity": 1500}
    values = form.set_dripfeed(values, True) | {"runs": 3, "interval": 30}
    svc = item().service
    return ordering_texts.summary(
        item(),
        form.describe(svc, values),
        price=Decimal("11.25"),
        balance=Decimal("5"),
        currency=USD,
        charged=True,
        basis=form.price_basis(form.build_request(svc, values)),
        notice=notice,
    )


def form_errors() -> str:
    """A refusal of each kind the form gives, one per line."""
    svc = item(type=OrderType.CUSTOM_COMMENTS).service
    step = form.step_named(svc, "comments", {})
    assert step is not None
    said = []
    for typed in ("", "a\u200bb", "x" * 5000):
        try:
            form.parse_answer(step, typed, svc, {})
        except form.FormError as e:
            said.append(e.message)
    return "\n".join(said)


SCREENS.update(
    {
        # the catalog
        "choose platform": lambda: _(ordering_texts.CHOOSE_PLATFORM),
        "categories": lambda: ordering_texts.categories_title("Instagram", 3),
        "search results": lambda: ordering_texts.search_title("instagram", 21),
        "no results": lambda: ordering_texts.no_results("instagram"),
        "service card": lambda: ordering_texts.service_card(item(), USD),
        "catalog buttons": lambda: (
            labels(ordering_keyboards.service_card_keyboard(item()))
            + "\n"
            + labels(ordering_keyboards.no_results_keyboard())
        ),
        # the order form
        "question with an error": question_with_error,
        "form refusals": form_errors,
        "summary": order_summary,
        "price changed": lambda: order_summary(
            ordering_texts.price_changed(Decimal("10"), Decimal("11.25"), USD)
        ),
        "not enough balance": lambda: ordering_texts.no_funds(Decimal("11.25"), Decimal(5), USD),
        "more options": lambda: ordering_texts.more_options(item(), dripfeed=True),
        "change menu": lambda: ordering_texts.change_menu(
            item(), form.describe(item().service, {"link": "https://instagram.com/p/abc"})
        ),
        "form buttons": lambda: (
            labels(ordering_keyboards.summary_keyboard("t", more_options=True))
            + "\n"
            + labels(ordering_keyboards.options_keyboard("t", dripfeed=False))
        ),
        # the outcome
        "placed": lambda: ordering_texts.placed(order(), Decimal("1.25"), USD),
        "refused": lambda: ordering_texts.refused(
            "", order(), Decimal(5), USD, refusal="unreachable"
        ),
        "held": lambda: ordering_texts.held(order(), USD),
        # My orders
        "orders list": lambda: orders_texts.orders_list(
            SimpleNamespace(total=1, items=[order()]), USD
        ),
        "no orders": lambda: orders_texts.orders_list(SimpleNamespace(total=0, items=[]), USD),
        "order card": lambda: orders_texts.order_card(
            order(),
            currency=USD,
            events=[
                SimpleNamespace(
                    new_status="in_progress", start_count=1200, remains=500, created_at=WHEN
                )
            ],
            requests=[
                SimpleNamespace(kind="refill", status="pending", error=None, created_at=WHEN)
            ],
            notice=orders_texts.refill_sent(
                SimpleNamespace(kind="refill", status="pending", error=None)
            ),
        ),
        "order buttons": lambda: labels(
            orders_keyboards.order_card_keyboard(12, can_refill=True, can_cancel=True)
        ),
        # the admin review
        "review title": lambda: orders_texts.review_title(3, 2),
        "review card": lambda: (
            orders_texts.review_card(order(status="review", error=None, charged=True), "Ann", USD)
            + "\n"
            + orders_texts.review_card(order(status="placing", charged=False), "Ann", USD)
        ),
        "review buttons": lambda: labels(orders_keyboards.review_keyboard(12)),
        "marked failed": lambda: orders_texts.marked_failed(order(), "Ann", USD, True),
        "customer told": lambda: orders_texts.customer_order_failed(order(), Decimal(5), USD),
    }
)

_WORD = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*")
_TAG = re.compile(r"<[^>]*>")
_NOT_WORDS = re.compile(r"<code>.*?</code>|[/@]\w+|&\w+;", re.DOTALL)


def words(text: str) -> list[str]:
    """The bot's own words of a screen: no code, commands, handles, tags or given data."""
    for data in DATA:
        text = text.replace(data, " ")
    text = _NOT_WORDS.sub(" ", text)
    return _WORD.findall(_TAG.sub(" ", text).lower())


@pytest.mark.parametrize("name", sorted(SCREENS))
def test_russian_screens_keep_no_english(name: str) -> None:
    english = SCREENS[name]()
    with i18n.use("ru"):
        russian = SCREENS[name]()
    assert russian != english
    assert re.search("[а-яё]", russian, re.IGNORECASE)
    latin = {w for w in words(russian) if re.fullmatch("[a-z'’-]+", w)}
    assert latin <= RU_KEPT, f"{name}: English left in {russian!r}"


@pytest.mark.parametrize("name", sorted(SCREENS))
def test_french_screens_keep_no_english(name: str) -> None:
    english = SCREENS[name]()
    with i18n.use("fr"):
        french = SCREENS[name]()
    assert french != english
    assert not set(words(french)) & ENGLISH, f"{name}: English left in {french!r}"


def test_money_numbers_and_dates_follow_the_language() -> None:
    line = texts.balance(Decimal("1234.5"), USD, [(Decimal(10), "payment", "", WHEN)])
    assert "1,234.50 USD" in line and "2026-03-07 09:05 UTC" in line
    with i18n.use("ru"):
        line = texts.balance(Decimal("1234.5"), USD, [(Decimal(10), "payment", "", WHEN)])
    assert "1\xa0234,50 USD" in line and "07.03.2026 09:05 UTC" in line
    with i18n.use("fr"):
        assert "1\u202f234,50 USD" in texts.balance(Decimal("1234.5"), USD, [])
        assert pay_texts.stars_button(1250).endswith("1\u202f250 ⭐")


@pytest.mark.parametrize(
    ("count", "russian"),
    [(1, "1 услуга"), (3, "3 услуги"), (5, "5 услуг"), (21, "21 услуга"), (12, "12 услуг")],
)
def test_russian_counts_take_all_three_plural_forms(count: int, russian: str) -> None:
    assert texts.sync_report([("sandbox", True, count, None)]).endswith(
        f"sandbox: {count} service" + ("" if count == 1 else "s")
    )
    with i18n.use("ru"):
        assert texts.sync_report([("sandbox", True, count, None)]).endswith(russian)


def test_a_preset_reject_reason_is_stored_in_english_and_read_in_the_readers_language() -> None:
    rejected = payment(state=State.REJECTED, note=pay_texts.REJECT_REASONS["unreadable"])
    assert "the receipt could not be read" in pay_texts.you_were_rejected(rejected, USD)
    with i18n.use("ru"):
        assert "чек не удалось прочитать" in pay_texts.you_were_rejected(rejected, USD)
    typed = payment(state=State.REJECTED, note="blurry photo")
    with i18n.use("fr"):
        assert "blurry photo" in pay_texts.you_were_rejected(typed, USD)


@pytest.mark.parametrize(
    ("count", "russian"),
    [(1, "1 комментарий"), (3, "3 комментария"), (5, "5 комментариев"), (22, "22 комментария")],
)
def test_the_form_counts_in_russian_with_three_plural_forms(count: int, russian: str) -> None:
    svc = item(type=OrderType.CUSTOM_COMMENTS, min=50, max=100).service
    step = form.step_named(svc, "comments", {})
    assert step is not None
    with i18n.use("ru"), pytest.raises(form.FormError) as refused:
        form.parse_answer(step, "\n".join(["nice"] * count), svc, {})
    assert f"Вы отправили {russian};" in refused.value.message


def test_a_typed_choice_is_read_in_the_readers_language() -> None:
    svc = item(dripfeed_flagged=True).service
    values = {"link": "https://instagram.com/p/abc", "quantity": 500}
    with i18n.use("fr"):
        step = form.next_step(svc, values)
        assert step is not None and step.name == form.DRIPFEED
        assert form.parse_answer(step, "oui", svc, values) is True
    with i18n.use("ru"):
        step = form.next_step(svc, values)
        assert step is not None
        assert form.parse_answer(step, "Нет", svc, values) is False


# --------------------------------------------------------------------------- notices


def _order_record(**changes: Any) -> OrderRecord:
    fields: dict[str, Any] = {
        "order_id": 12,
        "user_id": 1001,
        "chat_id": 1001,
        "panel": "sandbox",
        "panel_order_id": "TX-9",
        "item_id": 7,
        "service_id": "101",
        "service_name": "Instagram Followers",
        "order_type": OrderType.DEFAULT,
        "link": "https://instagram.com/p/abc",
        "quantity": 1500,
        "fields": {},
        "price": Decimal("3.75"),
        "cost": Decimal("1.8"),
        "charged": True,
        "status": OrderState("partial"),
        "remains": 500,
        "start_count": 1200,
        "created_at": WHEN,
        "updated_at": WHEN,
        "error": None,
        "not_found": False,
    }
    fields.update(changes)
    return OrderRecord(**fields)


def _payment_record(**changes: Any) -> Payment:
    fields: dict[str, Any] = {
        "payment_id": 42,
        "user_id": 1001,
        "chat_id": 1001,
        "provider": Provider.STARS,
        "provider_payment_id": "TX-9",
        "payload": "abc",
        "amount": Decimal("1234.50"),
        "provider_amount": Decimal(1250),
        "provider_unit": "XTR",
        "rate": Decimal("0.013"),
        "state": State.CREDITED,
        "origin": Origin.ORDER,
        "repeat_of": None,
        "pay_url": None,
        "paid_asset": None,
        "paid_amount": None,
        "reference": "TX-9",
        "photo_file_id": None,
        "note": None,
        "decided_by": None,
        "expires_at": None,
        "created_at": WHEN,
        "paid_at": WHEN,
        "credited_at": WHEN,
    }
    fields.update(changes)
    return Payment(**fields)


_CUSTOMER = {"user_id": 1001, "first_name": "Ann", "username": "ann"}
_ORDER = _order_record()
_PAYMENT = _payment_record()
# One notice of every kind, with the data its service records.
NOTICES: dict[NoticeKind, dict[str, Any]] = {
    NoticeKind.ORDER_STATUS: {"order": _ORDER, "refund": Decimal("1.25"), "balance": Decimal(6)},
    NoticeKind.ORDER_NOT_FOUND: {"order": _ORDER},
    NoticeKind.ORDER_NOT_FOUND_ADMIN: {"order": _ORDER, "panel_words": "bros"},
    NoticeKind.PARTIAL_UNSETTLED_ADMIN: {"order": _order_record(remains=None)},
    NoticeKind.SETTLED_PARTIAL_MOVED_ADMIN: {
        "order": _order_record(status=OrderState("completed"))
    },
    NoticeKind.REQUEST_UPDATE: {"kind": "refill", "order_id": 12, "status": "in_progress"},
    NoticeKind.ORDER_HELD: {"order": _order_record(status=OrderState("review"))},
    NoticeKind.ORDER_HELD_ADMIN: {"order": _order_record(status=OrderState("review"))},
    NoticeKind.ORDER_REFUSED_ADMIN: {
        "order": _order_record(status=OrderState("failed")),
        "panel": "bros",
        "refusal": "supplier",
        "words": "bros",
    },
    NoticeKind.REVIEW_PLACED: {"order": _order_record(status=OrderState("pending"))},
    NoticeKind.REVIEW_FAILED: {
        "order": _order_record(status=OrderState("failed")),
        "balance": Decimal(6),
    },
    NoticeKind.PAYMENT_CREDITED: {"payment": _PAYMENT, "customer": _CUSTOMER, "balance": 6},
    NoticeKind.PAYMENT_CREDITED_ADMIN: {"payment": _PAYMENT, "customer": _CUSTOMER, "balance": 6},
    NoticeKind.PAYMENT_REJECTED: {
        "payment": _payment_record(state=State.REJECTED, note=pay_texts.REJECT_REASONS["amount"])
    },
    NoticeKind.PAYMENT_REFUNDED: {
        "payment": _payment_record(state=State.REFUNDED),
        "balance": Decimal(0),
    },
    NoticeKind.PAYMENT_REFUNDED_ADMIN: {
        "payment": _payment_record(state=State.REFUNDED),
        "customer": {"user_id": 1001},
        "admin_id": 7,
    },
    NoticeKind.STARS_UNMATCHED_ADMIN: {"payment": _PAYMENT, "customer": _CUSTOMER},
    NoticeKind.STARS_DIFFERENCE_ADMIN: {
        "kind": "amount",
        "charge_id": "TX-9",
        "payment": _PAYMENT,
        "stars": 1200,
        "user_id": 1001,
    },
    NoticeKind.CRYPTO_MISMATCH_ADMIN: {
        "payment": _payment_record(
            provider=Provider.CRYPTOPAY, paid_asset="USDT", paid_amount=Decimal(3)
        ),
        "invoice_id": 9,
    },
}


def notice(kind: NoticeKind, language: str) -> str:
    """A notice as its reader gets it: text and button labels."""
    data = json.loads(json.dumps(notifications.plain(NOTICES[kind])))
    shown = notices.render(kind.value, data, language=language, currency=USD)
    buttons = "" if shown.reply_markup is None else "\n" + labels(shown.reply_markup)
    return shown.text + buttons


def test_every_notice_kind_has_its_example() -> None:
    assert set(NOTICES) == set(notices.RENDERERS)


@pytest.mark.parametrize("kind", sorted(NOTICES))
def test_notices_in_russian_keep_no_english(kind: NoticeKind) -> None:
    russian = notice(kind, "ru")
    assert russian != notice(kind, "en")
    assert re.search("[а-яё]", russian, re.IGNORECASE)
    latin = {w for w in words(russian) if re.fullmatch("[a-z'’-]+", w)}
    assert latin <= RU_KEPT, f"{kind}: English left in {russian!r}"


@pytest.mark.parametrize("kind", sorted(NOTICES))
def test_notices_in_french_keep_no_english(kind: NoticeKind) -> None:
    french = notice(kind, "fr")
    assert french != notice(kind, "en")
    assert not set(words(french)) & ENGLISH, f"{kind}: English left in {french!r}"


def test_a_notice_is_rendered_in_the_readers_language_not_the_tasks() -> None:
    with i18n.use("fr"):
        russian = notice(NoticeKind.ORDER_STATUS, "ru")
        assert i18n.current_language() == "fr"
    assert "Заказ <b>#12</b> выполнен частично" in russian
    assert "1\xa0000 из 1\xa0500" in russian and "Открыть заказ #12" in russian
