"""What the catalog and the order conversation say (HTML; user and panel text escaped)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from html import escape
from typing import TYPE_CHECKING

from bot.texts.amounts import CENT, money, rate
from bot.texts.fit import MAX_MESSAGE, clip, fit, visible_length
from bot.texts.supplier import customer_reason

if TYPE_CHECKING:
    from bot.order_form import Step
    from bot.services.catalog import CatalogItem, CategoryInfo
    from storage.orders import OrderRecord

# How much of a panel's (or a user's) text each screen shows, in UTF-16 units: with these the
# longest screen stays far below Telegram's 4096 whatever the catalog or the user sent.
NAME_SHOWN = 200
BUTTON_NAME_SHOWN = 40
PLACE_SHOWN = 100  # platform and category names
QUERY_SHOWN = 100
DESCRIPTION_SHOWN = 1500
ANSWER_SHOWN = 300

# --------------------------------------------------------------------------- buttons

BTN_SEARCH = "🔎 Search"
BTN_PLATFORMS = "⬅ Platforms"
BTN_BACK = "⬅ Back"
BTN_PREVIOUS = "◀"
BTN_NEXT = "▶"
BTN_ORDER = "🛒 Order"
BTN_CONFIRM = "✅ Confirm"
BTN_CHANGE = "✏ Change"
BTN_CANCEL = "✖ Cancel"
BTN_SKIP = "Skip"
BTN_BACK_TO_SUMMARY = "⬅ Back to the summary"
BTN_MORE_OPTIONS = "⚙ More options"
BTN_DRIPFEED_ON = "💧 Drip-feed: deliver in runs"
BTN_DRIPFEED_OFF = "✖ No drip-feed"

# --------------------------------------------------------------------------- catalog

CHOOSE_PLATFORM = "<b>Catalog</b>\nChoose a platform, or search by name or service number."
CATALOG_EMPTY = (
    "The catalog is empty right now: the services are still loading. Please try again soon."
)
SEARCH_PROMPT = (
    "Send words from the service's name (e.g. <i>instagram followers</i>) or its number.\n"
    "You can also type them any time outside an order, or use /search &lt;words&gt;."
)
LIST_CHANGED = "This list has changed since. Here is the catalog again."
SERVICE_GONE = "This service is no longer available. Please choose another one."
BUTTON_INVALID = "This button is no longer valid."
SEARCH_EXPIRED = "That search has expired: send the words again."


def categories_title(platform: str, total: int) -> str:
    """Head the category list of a platform."""
    return f"<b>{escape(clip(platform, PLACE_SHOWN))}</b>: {total} categories. Choose one:"


def services_title(category: CategoryInfo) -> str:
    """Head the service list of a category."""
    return (
        f"<b>{escape(clip(category.platform, PLACE_SHOWN))}</b> › "
        f"<b>{escape(clip(category.name, PLACE_SHOWN))}</b>\n"
        f"{category.service_count} services. Choose one:"
    )


def search_title(query: str, total: int) -> str:
    """Head the search results."""
    found = "1 service" if total == 1 else f"{total} services"
    return f"🔎 <b>{escape(clip(query, QUERY_SHOWN))}</b>: {found} found. Choose one:"


def search_refused(reason: str) -> str:
    """Refuse a search the user typed (``reason`` is plain text from the input rules)."""
    return f"🔎 {escape(reason)}"


def no_results(query: str) -> str:
    """Say the search found nothing and how to search better."""
    return (
        f"🔎 Nothing matches <b>{escape(clip(query, QUERY_SHOWN))}</b>.\n"
        "Try fewer or shorter words, or the service's number."
    )


def price_line(item: CatalogItem, currency: str) -> str:
    """Say the customer's price: per 1000, or per package."""
    unit = "per package" if item.service.spec.per_package else "per 1000"
    return f"{rate(item.price_rate)} {escape(currency)} {unit}"


def service_button(item: CatalogItem, currency: str) -> str:
    """Label a service in a list (plain text: buttons are not HTML)."""
    name = clip(item.service.name, BUTTON_NAME_SHOWN)
    unit = "/pkg" if item.service.spec.per_package else "/1k"
    return f"#{item.item_id} {name} · {rate(item.price_rate)} {currency}{unit}"


def _yes_no(flag: bool) -> str:
    return "✅ yes" if flag else "✖ no"


def service_card(item: CatalogItem, currency: str) -> str:
    """Describe one service: name, price, limits and what it offers."""
    service = item.service
    lines = [
        f"<b>{escape(clip(service.name, NAME_SHOWN))}</b>",
        f"Service #{item.item_id} · {escape(clip(item.platform, PLACE_SHOWN))} › "
        f"{escape(clip(item.category, PLACE_SHOWN))}",
        f"Type: {escape(clip(service.type_name or 'Default', PLACE_SHOWN))}",
        "",
        f"💵 Price: {price_line(item, currency)}",
    ]
    if service.spec.per_package:
        lines.append("📦 Sold as a package")
    else:
        lines.append(f"📏 Order from {service.min:,} to {service.max:,}")
    lines += [
        f"♻ Refill: {_yes_no(service.refill)}",
        f"🛑 Cancel: {_yes_no(service.cancel)}",
        f"💧 Drip-feed: {_yes_no(service.dripfeed)}",
    ]
    if service.description:
        lines += ["", escape(clip(service.description.strip(), DESCRIPTION_SHOWN))]
    if not service.orderable:
        lines += ["", "This service cannot be ordered through the bot."]
    return fit("\n".join(lines))


# --------------------------------------------------------------------------- the order form


def _title(item: CatalogItem) -> str:
    return f"🛒 <b>{escape(clip(item.service.name, NAME_SHOWN))}</b>"


def _answer_lines(rows: Sequence[tuple[str, str]]) -> list[str]:
    return [f"{escape(label)}: {escape(clip(value, ANSWER_SHOWN))}" for label, value in rows]


def question(
    item: CatalogItem,
    step: Step,
    *,
    number: int,
    total: int,
    answers: Sequence[tuple[str, str]] = (),
    error: str | None = None,
) -> str:
    """Show the order form at one question: progress, the answers so far, the reason the
    last answer failed, then the question itself (kept whole when the answers are cut)."""
    lines = [_title(item), f"Step {number} of {total}"]
    if answers:
        lines += ["", *_answer_lines(answers)]
    tail = [""]
    if error:
        tail.append(f"⚠ {escape(clip(error, ANSWER_SHOWN))}")
    tail.append(f"<b>{escape(step.prompt)}</b>")
    if step.optional:
        tail.append("Or tap Skip.")
    tail += ["", "/cancel to stop."]
    return _fit_keeping_tail([*lines, *tail], money_lines=len(tail))


def change_menu(
    item: CatalogItem, answers: Sequence[tuple[str, str]], *, notice: str | None = None
) -> str:
    """Show the answers and ask which one to change."""
    lines = [_title(item), "", *_answer_lines(answers)]
    tail = [""]
    if notice:
        tail.append(f"⚠ {escape(notice)}")
    tail.append(CHOOSE_FIELD)
    return _fit_keeping_tail([*lines, *tail], money_lines=len(tail))


def more_options(item: CatalogItem, *, dripfeed: bool, notice: str | None = None) -> str:
    """Offer what an order can have besides its answers: drip-feed, for now."""
    state = "on" if dripfeed else "off"
    lines = [
        _title(item),
        "",
        "⚙ <b>More options</b>",
        f"💧 Drip-feed is {state}. With drip-feed the quantity is delivered again in several "
        "runs, spread over time; every run is charged.",
    ]
    if notice:
        lines += ["", f"⚠ {escape(notice)}"]
    return fit("\n".join(lines))


USE_BUTTONS_SUMMARY = "Please use the buttons under the summary: Confirm, Change or Cancel."
USE_BUTTONS_CHANGE = "Please choose what to change with the buttons above."
USE_BUTTONS_OPTIONS = "Please choose with the buttons above."
SEND_TEXT = "Please answer with a text message (or the buttons)."
CHOOSE_FIELD = "What would you like to change?"
DRAFT_LOST = "Your order draft was lost. Please choose the service again from the catalog."
DRAFT_EXPIRED = "⌛ Your order draft expired. Nothing was charged. Start again from the catalog."
CANCELLED = "Order cancelled. Nothing was charged."
SUMMARY_STALE = "This summary is out of date."
QUESTION_STALE = "This question is out of date."
PLACING = "Placing your order…"
NOT_ORDERABLE = "This service cannot be ordered through the bot."


def summary(
    item: CatalogItem,
    rows: Sequence[tuple[str, str]],
    *,
    price: Decimal,
    balance: Decimal,
    currency: str,
    charged: bool,
    basis: str | None = None,
    notice: str | None = None,
) -> str:
    """Show the whole order before it is placed: the answers, the unit price and how the
    total is counted, the total, the user's balance, and last a notice (HTML) if any.

    ``basis`` says how the total is computed when it is more than quantity × rate.
    """
    lines = [
        "🧾 <b>Check your order</b>",
        "",
        f"Service: <b>{escape(clip(item.service.name, NAME_SHOWN))}</b> (#{item.item_id})",
    ]
    lines += _answer_lines(rows)
    answers_end = len(lines)
    lines += ["", f"🏷 Price: {price_line(item, currency)}"]
    if basis:
        lines.append(f"🧮 {escape(basis)}")
    lines.append(f"💵 Total: <b>{money(price, currency)}</b>")
    if charged:
        lines.append(f"👛 Your balance: {money(balance, currency)}")
        if balance < price:
            lines.append(
                f"⚠ You need {money(price - balance, currency)} more to place this order."
            )
    else:
        lines.append("👑 Admin order: your balance will not be charged.")
    if notice:
        lines += ["", notice]
    # The money lines go last, so a summary too long to send shows them first when cut.
    return _fit_keeping_tail(lines, money_lines=len(lines) - answers_end)


def placed(order: OrderRecord, balance: Decimal, currency: str) -> str:
    """Report an order our supplier accepted."""
    paid = (
        f"Charged {money(order.price, currency)}; your balance is now {money(balance, currency)}."
        if order.charged
        else "Admin order: nothing was charged."
    )
    return (
        f"✅ Order <b>#{order.order_id}</b> placed: {escape(clip(order.service_name, NAME_SHOWN))}"
        f".\n{paid}\nYou will be told when its status changes."
    )


def _nothing_charged(order: OrderRecord | None, balance: Decimal, currency: str) -> str:
    if order is not None and order.charged:
        return (
            f"Nothing was charged: the {money(order.price, currency)} went straight back to "
            f"your balance ({money(balance, currency)})."
        )
    return "Nothing was charged."


def refused(
    reason: str,
    order: OrderRecord | None,
    balance: Decimal,
    currency: str,
    *,
    refusal: str = "order",
) -> str:
    """Report an order that was not placed, in the customer's words (no supply chain).

    ``refusal`` says whose side it came from (``bot.services.ordering.Refusal``): the
    supplier not reached, the supplier unable to take orders, or the order itself refused;
    ``reason`` (the panel's words) is quoted only for the last, and only when it is safe.
    """
    number = f" #{order.order_id}" if order is not None else ""
    money_line = _nothing_charged(order, balance, currency)
    if refusal == "unreachable":
        return (
            f"❌ We could not reach our supplier just now, so order{number} was not placed. "
            f"{money_line}\nPlease try again in a few minutes."
        )
    if refusal == "supplier":
        return (
            f"❌ Our supplier cannot take this order right now, so order{number} was not "
            f"placed. {money_line}\nThe shop has been told; please try again later."
        )
    words = customer_reason(reason)
    why = f": {escape(words)}" if words else "."
    return f"❌ Order{number} was refused{why}\n{money_line}\nTap the service to try again."


def held(order: OrderRecord | None, currency: str, *, own: bool = False) -> str:
    """Report an order whose outcome is unknown and is now under review (``own``: the
    admin who placed it is the one who reviews it)."""
    number = f" <b>#{order.order_id}</b>" if order is not None else ""
    if own:
        return (
            f"⏳ Order{number} could not be confirmed with the panel. It is held for review: "
            "check the panel, then settle it with /review."
        )
    money_line = (
        f"The {money(order.price, currency)} stays held until then."
        if order is not None and order.charged
        else "Nothing more will be sent until then."
    )
    return (
        f"⏳ We could not confirm your order{number} with our supplier. It is under review: "
        f"an admin will check it and tell you the result.\n{money_line}"
    )


def price_changed(old: Decimal, new: Decimal, currency: str) -> str:
    """Say the price moved since the summary was shown; nothing was charged."""
    return (
        f"⚠ The price of this order changed from {money(old, currency)} to "
        f"<b>{money(new, currency)}</b> since it was shown. Nothing was charged: check the "
        "new summary and confirm again."
    )


def no_funds(price: Decimal, balance: Decimal, currency: str) -> str:
    """Say how much is missing; nothing was charged."""
    missing = max(price - balance, CENT)
    return (
        f"👛 Not enough balance: this order costs {money(price, currency)} and you have "
        f"{money(balance, currency)}; {money(missing, currency)} is missing. Nothing was "
        "charged. Top up, then tap Confirm again, or Cancel."
    )


def duplicate(order: OrderRecord | None) -> str:
    """Say this summary was already placed as an order."""
    if order is None:
        return "This order was already placed."
    return (
        f"This order was already placed: order <b>#{order.order_id}</b> ({escape(order.status)})."
    )


def already_placed_alert(order_id: int | None) -> str:
    """Answer a second tap on Confirm (plain text: callback alerts are not HTML)."""
    return f"Already placed as order #{order_id}." if order_id else "Already placed."


def invalid(reason: str) -> str:
    """Say the order cannot be placed as it is and how to fix it."""
    words = customer_reason(reason)
    why = f": {escape(words)}" if words else ""
    return f"⚠ This order cannot be placed as it is{why}.\nTap Change to fix it."


def unavailable(reason: str) -> str:
    """Say the service is gone (``reason`` is for the log: it may name the supplier)."""
    return "This service is no longer available. Nothing was charged."


def admin_order_refused(
    order: OrderRecord | None, panel: str, refusal: str, words: str, currency: str
) -> str:
    """Tell the admins an order was not placed for a reason on the supply side."""
    number = f"Order <b>#{order.order_id}</b>" if order is not None else "An order"
    customer = f" of user <code>{order.user_id}</code>" if order is not None else ""
    cause = "could not be reached" if refusal == "unreachable" else "refused it"
    price = f" ({money(order.price, currency)}, refunded)" if order and order.charged else ""
    return fit(
        f"⚠️ {number}{customer}{price} was not placed: panel <b>{escape(clip(panel, 100))}</b> "
        f"{cause}.\nThe panel said: <code>{escape(clip(words, 1000))}</code>\n"
        "The customer was told nothing was charged. Check the panel (/panels)."
    )


def _fit_keeping_tail(lines: list[str], *, money_lines: int) -> str:
    """Join a screen, cutting the middle (the answers) rather than its last lines."""
    text = "\n".join(lines)
    if fit(text) == text:
        return text
    head, tail = lines[:-money_lines], lines[-money_lines:]
    tail_text = "\n".join(tail)
    budget = MAX_MESSAGE - visible_length(tail_text) - 2
    return fit("\n".join(head), budget) + "\n" + tail_text
