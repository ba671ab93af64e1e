"""Every user-facing string of "My orders" and the admin's review of held orders.

Strings are Telegram HTML (the bot's default parse mode): anything that comes from a user, a
panel or the database goes through ``html.escape`` here. Callback-query alerts are plain
text (Telegram does not parse them), so the ``*_ALERT`` strings and ``*_alert`` functions
are not escaped HTML.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from html import escape
from typing import TYPE_CHECKING

from bot.panels.models import Field
from bot.services.ordering import delivered_of
from bot.texts import notifications as notification_texts
from bot.texts.amounts import money
from bot.texts.fit import MAX_MESSAGE, clip, fit
from bot.texts.supplier import customer_reason

if TYPE_CHECKING:
    from bot.services.common import Page
    from storage.events import OrderEvent
    from storage.orders import OrderRecord
    from storage.requests import ServiceRequest

MAX_TEXT = MAX_MESSAGE
NAME_SHOWN = 200  # a service name on the card
LINK_SHOWN = 300
HISTORY_SHOWN = 10  # the card keeps the newest changes; older ones are counted
REQUESTS_SHOWN = 5
FIELD_VALUE_SHOWN = 80  # long custom comments or username lists are cut on the card
REASON_SHOWN = 300  # a panel's (or our) words on why an order is held, on the review card

# ---------------------------------------------------------------- buttons

BTN_REFRESH = "🔄 Refresh"
BTN_REFILL = "♻ Refill"
BTN_CANCEL_ORDER = "✖ Cancel order"
BTN_MY_ORDERS = "⬅ My orders"
BTN_NEW_ORDER = "🛒 New order"
BTN_MENU = "« Menu"
BTN_PREVIOUS = "◀"
BTN_NEXT = "▶"
BTN_MARK_PLACED = "✅ Mark placed"
BTN_MARK_FAILED = "❌ Mark failed (refund)"
BTN_OPEN_REVIEW = notification_texts.OPEN_REVIEW_BUTTON
open_order_button = notification_texts.open_order_button

# ---------------------------------------------------------------- statuses

# The words are the notifications' (``bot.texts.notifications``), so a customer reads the same
# status in a notice and on the card.
_STATUS_ICONS: dict[str, str] = {
    "placing": "⏳",
    "review": "🔎",
    "failed": "❌",
    "pending": "🕒",
    "in_progress": "🚀",
    "processing": "🚀",
    "completed": "✅",
    "partial": "⚠️",
    "canceled": "❌",
    "refunded": "↩️",
    "unknown": "❔",
}
_REQUEST_KINDS = {"refill": "♻ Refill", "cancel": "✖ Cancel"}
# Form fields already shown on their own line of the card.
_SHOWN_FIELDS = frozenset({"service", "link", "quantity", "action", "key"})
_FIELD_LABELS = {f.value: f.value.replace("_", " ").capitalize() for f in Field}


def status_label(status: str) -> str:
    """Name an order status for the customer (emoji and words, HTML)."""
    icon = _STATUS_ICONS.get(status, "•")
    return f"{icon} {escape(notification_texts.status_label(status))}"


def request_status_label(status: str) -> str:
    """Name a refill/cancel request status for the customer (HTML)."""
    words = notification_texts.REQUEST_LABELS.get(status, status.replace("_", " ").capitalize())
    return escape(words)


def moment(when: datetime) -> str:
    """Format a time for display, in UTC."""
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def progress_bar(quantity: int, remains: int | None) -> str | None:
    """Draw delivery progress as the notifications do, or None when nothing is measured."""
    delivered = delivered_of(quantity, remains)
    if delivered is None:
        return None
    return notification_texts.progress_bar(delivered, quantity)


# ---------------------------------------------------------------- My orders


def orders_list(page: Page[OrderRecord], currency: str) -> str:
    """Title the list of the customer's orders, one line per order on this page."""
    if page.total == 0:
        return NO_ORDERS
    lines = [f"📦 <b>My orders</b> ({page.total})", "Tap an order to see its details.", ""]
    for order in page.items:
        lines.append(
            f"<b>#{order.order_id}</b> · {status_label(order.status)} · "
            f"{escape(clip(order.service_name, 40))} · {order.quantity:,} · "
            f"{money(order.price, currency)}"
        )
    return fit("\n".join(lines))


NO_ORDERS = "📦 <b>My orders</b>\n\nYou have no orders yet. Tap <b>New order</b> to place one."


def order_button(order: OrderRecord) -> str:
    """Label an order's button in the list (short: buttons are narrow)."""
    emoji = status_label(order.status).split(" ", 1)[0]
    return f"#{order.order_id} {emoji} {clip(order.service_name, 28)}"


def order_card(
    order: OrderRecord,
    *,
    currency: str,
    events: Sequence[OrderEvent],
    requests: Sequence[ServiceRequest],
    notice: str | None = None,
) -> str:
    """Show everything about one order: what, how far, what happened, which requests."""
    lines: list[str] = []
    if notice:
        lines += [notice, ""]
    lines += [
        f"📦 <b>Order #{order.order_id}</b>",
        f"Service: <b>{escape(clip(order.service_name, NAME_SHOWN))}</b>",
    ]
    if order.link:
        lines.append(f"Link: {escape(clip(order.link, LINK_SHOWN))}")
    lines.append(f"Quantity: {order.quantity:,}")
    lines += _extra_fields(order.fields)
    if order.charged:
        lines.append(f"Price: {money(order.price, currency)}")
    else:
        lines.append(f"Price: {money(order.price, currency)} (admin order, not charged)")
    lines.append(f"Status: <b>{status_label(order.status)}</b>")
    if order.start_count is not None:
        lines.append(f"Start count: {order.start_count:,}")
    if order.remains is not None:
        lines.append(f"Remains: {order.remains:,}")
    bar = progress_bar(order.total_units or 0, order.remains)
    if bar is not None:
        lines.append(bar)
    lines.append(f"Placed: {moment(order.created_at)}")
    explanation = _STATUS_EXPLANATIONS.get(order.status)
    if explanation:
        lines += ["", explanation]
    if events:
        lines += ["", "<b>History</b>"]
        hidden = len(events) - HISTORY_SHOWN
        if hidden > 0:
            lines.append(f"… {hidden} earlier change{'s' if hidden != 1 else ''}")
        lines += [_event_line(e) for e in events[-HISTORY_SHOWN:]]
    if requests:
        lines += ["", "<b>Refill and cancel requests</b>"]
        lines += [_request_line(r) for r in requests[-REQUESTS_SHOWN:]]
    return fit("\n".join(lines))


_STATUS_EXPLANATIONS = {
    "review": (
        "We could not confirm this order with our supplier. An admin is checking it; your "
        "money stays held until then and you will be told the result."
    ),
    "placing": "This order is being placed.",
    "failed": "This order was not placed; its price went back to your balance.",
}


def _extra_fields(fields: Mapping[str, str]) -> list[str]:
    lines = []
    for name, value in fields.items():
        if name in _SHOWN_FIELDS or not value:
            continue
        label = _FIELD_LABELS.get(name, name.replace("_", " ").capitalize())
        shown = clip(" ".join(value.split()), FIELD_VALUE_SHOWN)
        lines.append(f"{escape(label)}: {escape(shown)}")
    return lines


def _event_line(event: OrderEvent) -> str:
    details = []
    if event.start_count is not None and event.new_status not in ("placing", "pending"):
        details.append(f"start {event.start_count:,}")
    if event.remains is not None:
        details.append(f"remains {event.remains:,}")
    extra = f" ({', '.join(details)})" if details else ""
    return f"<i>{moment(event.created_at)}</i> · {status_label(event.new_status)}{extra}"


def _request_line(request: ServiceRequest) -> str:
    kind = _REQUEST_KINDS.get(request.kind, escape(request.kind.capitalize()))
    line = f"{kind} · {request_status_label(request.status)} · <i>{moment(request.created_at)}</i>"
    words = customer_reason(request.error)
    if words:
        line += f"\n   {escape(words)}"
    return line


def refill_sent(request: ServiceRequest) -> str:
    """Confirm a refill request above the card.

    An "accepted" request is one the supplier gives no status for: no later message is
    promised then, since none would come.
    """
    if request.status in ("rejected", "failed"):
        return refill_refused(request.error)
    if request.status != "accepted":
        return "♻ <b>Refill requested.</b> You will be told when it is done."
    return (
        "♻ <b>Refill requested.</b> It was accepted; refills usually take a few days, and "
        "no further message will follow: check the order here."
    )


def cancel_sent(request: ServiceRequest) -> str:
    """Confirm a cancel request above the card."""
    if request.status in ("rejected", "failed"):
        return cancel_refused(request.error)
    return (
        "✖ <b>Cancellation requested.</b> If the order is canceled, its price (or the "
        "undelivered part) goes back to your balance and you will be told."
    )


def refill_refused(reason: str | None) -> str:
    """Say a refill could not be requested, quoting the reason when it is safe to."""
    words = customer_reason(reason)
    why = f": {escape(words)}" if words else _NOT_NOW
    return f"⚠ The refill could not be requested{why}"


def cancel_refused(reason: str | None) -> str:
    """Say a cancellation could not be requested, quoting the reason when it is safe to."""
    words = customer_reason(reason)
    why = f": {escape(words)}" if words else _NOT_NOW
    return f"⚠ The cancellation could not be requested{why}"


_NOT_NOW = " right now. Please try again later."
REFRESH_FAILED = "⚠ Our supplier could not be reached just now; this is the last known status."

# Plain-text alerts (answerCallbackQuery).
NOT_YOUR_ORDER_ALERT = "You have no order with this number."
REFILL_NOT_ALLOWED_ALERT = "This order cannot be refilled now."
CANCEL_NOT_ALLOWED_ALERT = "This order cannot be cancelled now."
REFILL_OPEN_ALERT = "A refill of this order is already requested."
CANCEL_OPEN_ALERT = "A cancellation of this order is already requested."
CHECKING_ALERT = "Checking the latest status…"
SENDING_ALERT = "Sending your request…"

# ---------------------------------------------------------------- admin review

NOTHING_TO_REVIEW = "🔎 <b>Review</b>\n\nNo order is waiting for review. All clear."


def review_title(total: int, shown: int) -> str:
    """Head the review list: how many orders wait, and how many are shown below."""
    more = f" The oldest {shown} are shown below." if shown < total else ""
    orders = f"{total} orders need" if total != 1 else "1 order needs"
    return (
        f"🔎 <b>Review</b>: {orders} a decision.{more}\n\n"
        "For each, check the panel: if it has the order, tap "
        f"<b>{BTN_MARK_PLACED}</b> and type its order ID; if not, tap <b>{BTN_MARK_FAILED}</b>."
    )


def review_card(order: OrderRecord, customer: str, currency: str) -> str:
    """Show an admin one order whose outcome is unknown (``customer`` is escaped HTML)."""
    charged = (
        f"{money(order.price, currency)} held"
        if order.charged
        else f"{money(order.price, currency)} (admin order, not charged)"
    )
    lines = [
        f"🔎 <b>Order #{order.order_id}</b> · {status_label(order.status)}",
        f"Customer: {customer}",
        f"Panel: {escape(clip(order.panel, 100))}",
        f"Service: {escape(clip(order.service_name, NAME_SHOWN))} "
        f"(panel service {escape(clip(order.service_id, 100))})",
    ]
    if order.link:
        lines.append(f"Link: {escape(clip(order.link, LINK_SHOWN))}")
    lines += [
        f"Quantity: {order.quantity:,}",
        f"Price: {charged}",
        f"Sent: {moment(order.created_at)}",
    ]
    lines.append(_review_reason(order))
    return fit("\n".join(lines))


def admin_order_held(order: OrderRecord, currency: str) -> str:
    """Tell the admins an order was just held for review, and why."""
    held = (
        f"{money(order.price, currency)} of the customer's money is held"
        if order.charged
        else f"admin order ({money(order.price, currency)}, not charged)"
    )
    lines = [
        f"⏳ <b>Order #{order.order_id} is held for review</b>",
        f"Customer: <code>{order.user_id}</code> · Panel: {escape(clip(order.panel, 100))}",
        f"Service: {escape(clip(order.service_name, NAME_SHOWN))} "
        f"(panel service {escape(clip(order.service_id, 100))})",
        f"Quantity: {order.quantity:,} · {held}",
        _review_reason(order),
        "Check the panel, then open the card to mark it placed or failed.",
    ]
    return fit("\n".join(lines))


def _review_reason(order: OrderRecord) -> str:
    """Say why an order waits for review, quoting the recorded reason (escaped)."""
    words = None if not order.error else escape(clip(order.error, REASON_SHOWN))
    if order.not_found:
        said = f" The panel said: <i>{words}</i>" if words else ""
        return (
            "Why: the panel no longer knows its order ID "
            f"<code>{escape(clip(order.panel_order_id or '-', 100))}</code>.{said}"
        )
    if words:
        return f"Why: <i>{words}</i>"
    if order.status == "placing":
        return "Why: placing it was interrupted (a restart or a crash)."
    return "Why: no reason was recorded; check the panel for this order."


def ask_panel_id(order: OrderRecord) -> str:
    """Ask the admin for the panel's order ID of an order they found on the panel."""
    return (
        f"Type the order ID that <b>{escape(clip(order.panel, 100))}</b> gave order "
        f"<b>#{order.order_id}</b> ({escape(clip(order.service_name, NAME_SHOWN))}, "
        f"{escape(clip(order.link or '', LINK_SHOWN))}).\n/cancel to stop."
    )


BAD_PANEL_ID = (
    "That does not look like a panel order ID: send only the ID, like <code>123456</code> "
    "(letters, digits, - and _), or /cancel."
)
REVIEW_STOPPED = "OK, nothing was changed."
REVIEW_STATE_LOST = "I lost track of which order that was. Please tap its button again: /review"


def panel_id_taken(reason: str) -> str:
    """Refuse a panel order ID that already belongs to another of our orders (``reason`` is
    the service's plain words, escaped here)."""
    return f"Not saved: {escape(reason)}. Check the ID and type it again, or /cancel."


def not_under_review(reason: str) -> str:
    """Say the order no longer waits for a decision (another admin may have settled it)."""
    return f"Nothing changed: {escape(reason)}."


def not_under_review_alert(order_id: int) -> str:
    """The plain-text alert for a review button of an order already settled."""
    return f"Order #{order_id} is no longer waiting for review."


def marked_placed(order: OrderRecord, who: str, told: bool) -> str:
    """Confirm to the admin that the order now follows the panel's order ID."""
    return (
        f"✅ Order <b>#{order.order_id}</b> marked placed as panel order "
        f"<code>{escape(order.panel_order_id or '')}</code>; it is now "
        f"{status_label(order.status)} and status sync takes over.\n" + _told(who, told)
    )


def marked_failed(order: OrderRecord, who: str, currency: str, told: bool) -> str:
    """Confirm to the admin that the order failed and its price was refunded."""
    refund = (
        f"{money(order.price, currency)} was refunded"
        if order.charged
        else "nothing was charged, so nothing was refunded"
    )
    return f"❌ Order <b>#{order.order_id}</b> marked failed; {refund}.\n" + _told(who, told)


def _told(who: str, told: bool) -> str:
    if told:
        return f"{who} will be told."
    return f"{who} could not be told (they have blocked the bot)."


def customer_order_placed(order: OrderRecord) -> str:
    """Tell the customer their held order turned out to be placed."""
    return (
        f"✅ Good news: your order <b>#{order.order_id}</b> "
        f"({escape(clip(order.service_name, NAME_SHOWN))}) "
        "was confirmed with our supplier and is now in the queue. You will be told as it "
        "progresses; see it under /orders."
    )


def customer_order_failed(order: OrderRecord, balance: Decimal, currency: str) -> str:
    """Tell the customer their held order was not placed, and about the refund."""
    money_line = (
        f"Its {money(order.price, currency)} went back to your balance, which is now "
        f"{money(balance, currency)}."
        if order.charged
        else "Nothing was charged."
    )
    return (
        f"❌ Your order <b>#{order.order_id}</b> "
        f"({escape(clip(order.service_name, NAME_SHOWN))}) could not be placed. {money_line}"
    )
