"""What the catalog and the order conversation say (HTML; user and panel text escaped)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from html import escape
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.order_form import Step
    from bot.services.catalog import CatalogItem, CategoryInfo
    from bot.services.ordering import OrderRecord

CENT = Decimal("0.01")

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
    return f"<b>{escape(platform)}</b>: {total} categories. Choose one:"


def services_title(category: CategoryInfo) -> str:
    """Head the service list of a category."""
    return (
        f"<b>{escape(category.platform)}</b> › <b>{escape(category.name)}</b>\n"
        f"{category.service_count} services. Choose one:"
    )


def search_title(query: str, total: int) -> str:
    """Head the search results."""
    found = "1 service" if total == 1 else f"{total} services"
    return f"🔎 <b>{escape(query)}</b>: {found} found. Choose one:"


def no_results(query: str) -> str:
    """Say the search found nothing and how to search better."""
    return (
        f"🔎 Nothing matches <b>{escape(query)}</b>.\n"
        "Try fewer or shorter words, or the service's number."
    )


def rate(amount: Decimal) -> str:
    """Show a rate with at least two decimals and no trailing noise (0.9 → 0.90, 0.0045)."""
    if amount == amount.quantize(CENT):
        return f"{amount.quantize(CENT):,}"
    return f"{amount.normalize():,f}"


def money(amount: Decimal, currency: str) -> str:
    """Show an amount of money to the cent."""
    return f"{amount.quantize(CENT, rounding=ROUND_HALF_UP):,} {escape(currency)}"


def price_line(item: CatalogItem, currency: str) -> str:
    """Say the customer's price: per 1000, or per package."""
    unit = "per package" if item.service.spec.per_package else "per 1000"
    return f"{rate(item.price_rate)} {escape(currency)} {unit}"


def service_button(item: CatalogItem, currency: str) -> str:
    """Label a service in a list (plain text: buttons are not HTML)."""
    name = item.service.name if len(item.service.name) <= 40 else item.service.name[:39] + "…"
    unit = "/pkg" if item.service.spec.per_package else "/1k"
    return f"#{item.item_id} {name} · {rate(item.price_rate)} {currency}{unit}"


def _yes_no(flag: bool) -> str:
    return "✅ yes" if flag else "✖ no"


def service_card(item: CatalogItem, currency: str) -> str:
    """Describe one service: name, price, limits and what it offers."""
    service = item.service
    lines = [
        f"<b>{escape(service.name)}</b>",
        f"Service #{item.item_id} · {escape(item.platform)} › {escape(item.category)}",
        f"Type: {escape(service.type_name or 'Default')}",
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
        description = service.description.strip()
        if len(description) > 1500:
            description = description[:1500] + "…"
        lines += ["", escape(description)]
    if not service.orderable:
        lines += ["", "This service cannot be ordered through the bot."]
    return "\n".join(lines)


# --------------------------------------------------------------------------- the order form


def question(item: CatalogItem, step: Step, *, error: str | None = None) -> str:
    """Ask one question of the order form (after the reason the last answer failed)."""
    head = f"🛒 <b>{escape(item.service.name)}</b>\n\n"
    if error:
        head = f"⚠ {escape(error)}\n\n" + head
    skip = "\nOr tap Skip." if step.optional else ""
    return f"{head}{escape(step.prompt)}{skip}\n\n/cancel to stop."


def answered(step: Step, shown: str) -> str:
    """Record a button answer in the question it answered."""
    return f"{escape(step.label)}: <b>{escape(shown)}</b>"


USE_BUTTONS_SUMMARY = "Please use the buttons under the summary: Confirm, Change or Cancel."
USE_BUTTONS_CHANGE = "Please choose what to change with the buttons above."
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
) -> str:
    """Show the whole order before it is placed, with its price and the user's balance.

    ``basis`` says how the total is computed when it is more than quantity × rate.
    """
    lines = [
        "🧾 <b>Check your order</b>",
        "",
        f"Service: <b>{escape(item.service.name)}</b> (#{item.item_id})",
    ]
    lines += [f"{escape(label)}: {escape(value)}" for label, value in rows]
    lines += ["", f"💵 Total: <b>{money(price, currency)}</b>"]
    if basis:
        lines.append(f"🧮 {escape(basis)}")
    if charged:
        lines.append(f"👛 Your balance: {money(balance, currency)}")
        if balance < price:
            lines.append(
                f"⚠ You need {money(price - balance, currency)} more to place this order."
            )
    else:
        lines.append("👑 Admin order: your balance will not be charged.")
    return "\n".join(lines)


def placed(order: OrderRecord, balance: Decimal, currency: str) -> str:
    """Report an order the panel accepted."""
    paid = (
        f"Charged {money(order.price, currency)}; your balance is now {money(balance, currency)}."
        if order.charged
        else "Admin order: nothing was charged."
    )
    return (
        f"✅ Order <b>#{order.order_id}</b> placed: {escape(order.service_name)}.\n{paid}\n"
        "You will be told when its status changes."
    )


def refused(reason: str, order: OrderRecord | None, balance: Decimal, currency: str) -> str:
    """Report an order the panel refused, with its reason and the refund."""
    refund = ""
    if order is not None and order.charged:
        refund = (
            f"\nYour {money(order.price, currency)} was refunded; "
            f"your balance is {money(balance, currency)}."
        )
    else:
        refund = "\nNothing was charged."
    return f"❌ The panel refused this order: {escape(reason)}{refund}"


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
        else "Nothing more will be sent to the panel until then."
    )
    return (
        f"⏳ We could not confirm your order{number} with the panel. It is under review: an "
        f"admin will check it and tell you the result.\n{money_line}"
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
    return f"⚠ This order cannot be placed as it is: {escape(reason)}.\nTap Change to fix it."


def unavailable(reason: str) -> str:
    """Say the service or its panel is gone."""
    detail = f" ({escape(reason)})" if reason else ""
    return f"This service is no longer available{detail}. Nothing was charged."
