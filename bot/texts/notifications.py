"""What the customer (and the admins) are told when an order or a request changes.

HTML for Telegram: every string that came from a user or a panel is escaped. Pure functions,
no Telegram import, so the outbox can be filled from the services.
"""

from __future__ import annotations

from decimal import Decimal
from html import escape
from typing import TYPE_CHECKING

from bot.services.ordering import delivered_of
from bot.texts.amounts import money
from bot.texts.fit import clip
from bot.texts.supplier import customer_reason

if TYPE_CHECKING:
    from storage.orders import OrderRecord

BAR_WIDTH = 10
MAX_LINK_SHOWN = 80
NAME_SHOWN = 200
PANEL_WORDS_SHOWN = 300

STATUS_LABELS = {
    "placing": "Being placed",
    "review": "Under review",
    "failed": "Failed",
    "pending": "Pending",
    "in_progress": "In progress",
    "processing": "Processing",
    "completed": "Completed",
    "partial": "Partially completed",
    "canceled": "Canceled",
    "refunded": "Refunded",
    "unknown": "Unknown",
}
_STATUS_ICONS = {
    "pending": "🕒",
    "in_progress": "🚀",
    "processing": "🚀",
    "completed": "✅",
    "partial": "⚠️",
    "canceled": "❌",
    "refunded": "↩️",
    "review": "🔎",
}
REQUEST_LABELS = {
    "sending": "Being sent",
    "accepted": "Accepted",
    "pending": "Pending",
    "in_progress": "In progress",
    "completed": "Completed",
    "rejected": "Rejected",
    "canceled": "Canceled",
    "unknown": "Unknown",
}


def status_label(status: str) -> str:
    """The customer's word for an order status."""
    return STATUS_LABELS.get(status, status.replace("_", " ").capitalize())


OPEN_REVIEW_BUTTON = "🔎 Open review card"


def request_refused(kind: str, reason: str, order_id: int, status: str | None) -> str:
    """Say why a refill or cancel cannot be done (``reason`` a ``panel_requests.Refusal``)."""
    label = status_label(status or "").lower()
    if reason == "no_such_order":
        return f"There is no order #{order_id} of yours."
    if reason == "service_gone":
        return "This service is not available any more."
    if reason == "not_yet":
        return f"A refill is possible once the order is completed (it is {label})."
    if reason == "too_late":
        return f"This order can no longer be canceled (it is {label})."
    if reason == "panel_refused":
        return f"The panel refused the {kind}."
    if kind == "refill":
        return "This service does not offer refills."
    return "This service does not offer cancellation."


def open_order_button(order_id: int) -> str:
    """Label the button under a notification that opens the order (plain text)."""
    return f"Open order #{order_id}"


def progress_bar(done: int, total: int, width: int = BAR_WIDTH) -> str:
    """Draw ``done`` of ``total`` as a bar with its percentage (rounded down)."""
    if total <= 0:
        return ""
    done = min(max(done, 0), total)
    filled = done * width // total
    percent = done * 100 // total
    return f"{'▰' * filled}{'▱' * (width - filled)} {percent}%"


def _link_line(order: OrderRecord) -> str:
    if not order.link:
        return ""
    return f"\n🔗 {escape(clip(order.link, MAX_LINK_SHOWN))}"


def _numbers(order: OrderRecord) -> str:
    lines: list[str] = []
    total = order.total_units or 0
    delivered = delivered_of(total, order.remains)
    if delivered is not None and total > 1:
        lines.append(progress_bar(delivered, total))
        lines.append(f"Delivered {delivered:,} of {total:,} · remains {total - delivered:,}")
    if order.start_count is not None and order.status != "pending":
        lines.append(f"Start count: {order.start_count:,}")
    return "".join(f"\n{line}" for line in lines)


def order_status(
    order: OrderRecord,
    *,
    refund: Decimal | None = None,
    balance: Decimal | None = None,
    currency: str = "USD",
    settled_by_shop: bool = False,
    canceled_by_customer: bool = False,
) -> str:
    """Tell the customer where an order stands now, and what was refunded if anything.

    ``settled_by_shop``: the undelivered part cannot be counted, the shop settles it.
    ``canceled_by_customer``: the customer asked for this cancel, so it is worded as theirs.
    """
    icon = _STATUS_ICONS.get(order.status, "ℹ️")
    head = {
        "in_progress": "is in progress",
        "processing": "is in progress",
        "completed": "is completed",
        "partial": "was partially completed",
        "canceled": "was canceled as you asked" if canceled_by_customer else "was canceled",
        "refunded": "was refunded",
        "pending": "is pending",
    }.get(order.status, f"is now: {escape(status_label(order.status))}")
    text = (
        f"{icon} Order <b>#{order.order_id}</b> {head}\n"
        f"{escape(clip(order.service_name, NAME_SHOWN))}{_link_line(order)}{_numbers(order)}"
    )
    if refund is not None and refund > 0:
        text += f"\n\n💰 {money(refund, currency)} was refunded to your balance"
        text += f" (now {money(balance, currency)})." if balance is not None else "."
    elif order.status in ("canceled", "refunded", "partial") and not order.charged:
        text += "\n\nNothing was charged for this order, so nothing is refunded."
    elif settled_by_shop:
        text += (
            "\n\n💬 The undelivered part could not be counted automatically, so the shop will "
            "settle your money for it with you."
        )
    elif order.status == "partial" and order.remains:
        text += (
            f"\n\nThe undelivered part comes to less than {money(Decimal('0.01'), currency)}, "
            "so nothing is refunded."
        )
    return text


def order_not_found(order: OrderRecord) -> str:
    """Tell the customer the panel lost track of an order and an admin will check it."""
    money_line = "Your payment stays safe until then." if order.charged else "Nothing was charged."
    return (
        f"🔎 Order <b>#{order.order_id}</b> ({escape(clip(order.service_name, NAME_SHOWN))}): "
        "our supplier no longer finds this order. An admin will check it and tell you the "
        f"result. {money_line}"
    )


def admin_order_not_found(order: OrderRecord, panel_words: str) -> str:
    """Tell the admins an order vanished from its panel and waits for their review."""
    return (
        f"⚠️ Order <b>#{order.order_id}</b> of user <code>{order.user_id}</code> is unknown to "
        f"panel <b>{escape(clip(order.panel, 100))}</b> (its ID there: "
        f"<code>{escape(clip(order.panel_order_id or '-', 100))}</code>). The panel said: "
        f"<i>{escape(clip(panel_words, PANEL_WORDS_SHOWN))}</i>\nIt is held for review (/review)."
    )


def admin_partial_unsettled(order: OrderRecord, currency: str = "USD") -> str:
    """Ask the admins to settle a partial order whose undelivered share cannot be counted."""
    remains = "not given" if order.remains is None else f"{order.remains:,}"
    return (
        f"⚠️ Order <b>#{order.order_id}</b> of user <code>{order.user_id}</code> "
        f"({escape(clip(order.service_name, NAME_SHOWN))}) ended <b>partial</b> "
        f"(remains: {remains}), and its "
        f"undelivered share cannot be counted, so nothing was refunded automatically. It cost "
        f"the customer {money(order.price, currency)}: settle it with /credit if due."
    )


def admin_settled_partial_moved(order: OrderRecord, currency: str = "USD") -> str:
    """Tell the admins a partial order left to them to settle has a new status at its panel."""
    return (
        f"⚠️ Order <b>#{order.order_id}</b> of user <code>{order.user_id}</code> "
        f"({escape(order.service_name)}), which ended partial for you to settle, is now "
        f"{escape(status_label(order.status))} at panel <b>{escape(order.panel)}</b>. Nothing "
        f"was refunded automatically. It cost the customer {money(order.price, currency)}: "
        "settle what is due with /credit."
    )


def request_update(kind: str, order_id: int, status: str, error: str | None = None) -> str:
    """Tell the customer a refill or cancel request moved on."""
    what = "Refill" if kind == "refill" else "Cancellation"
    label = REQUEST_LABELS.get(status, status.replace("_", " ").capitalize())
    icon = {"completed": "✅", "rejected": "❌", "canceled": "❌"}.get(status, "🔄")
    text = f"{icon} {what} of order <b>#{order_id}</b>: {escape(label)}."
    words = customer_reason(error)
    if words:
        text += f"\nReason: <i>{escape(words)}</i>"
    return text
