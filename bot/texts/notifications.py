"""What the customer (and the admins) are told when an order or a request changes.

HTML for Telegram: every string that came from a user or a panel is escaped. Pure functions,
no Telegram import, so the outbox can be filled from the services.
"""

from __future__ import annotations

from decimal import Decimal
from html import escape
from typing import TYPE_CHECKING

from bot.i18n import N_, _, number
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

# The words are marked here and translated where they are shown (``status_label``), so a
# customer reads the same status in a notice and on the order's card.
STATUS_LABELS = {
    "placing": N_("Being placed"),
    "review": N_("Under review"),
    "failed": N_("Failed"),
    "pending": N_("Pending"),
    "in_progress": N_("In progress"),
    "processing": N_("Processing"),
    "completed": N_("Completed"),
    "partial": N_("Partially completed"),
    "canceled": N_("Canceled"),
    "refunded": N_("Refunded"),
    "unknown": N_("Unknown"),
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
    "sending": N_("Being sent"),
    "accepted": N_("Accepted"),
    "pending": N_("Pending"),
    "in_progress": N_("In progress"),
    "completed": N_("Completed"),
    "rejected": N_("Rejected"),
    "canceled": N_("Canceled"),
    "unknown": N_("Unknown"),
}
# The first line of a status notice, one whole sentence per status.
_HEADS = {
    "in_progress": N_("Order <b>#{order_id}</b> is in progress"),
    "processing": N_("Order <b>#{order_id}</b> is in progress"),
    "completed": N_("Order <b>#{order_id}</b> is completed"),
    "partial": N_("Order <b>#{order_id}</b> was partially completed"),
    "canceled": N_("Order <b>#{order_id}</b> was canceled"),
    "refunded": N_("Order <b>#{order_id}</b> was refunded"),
    "pending": N_("Order <b>#{order_id}</b> is pending"),
}
_CANCELED_AS_ASKED = N_("Order <b>#{order_id}</b> was canceled as you asked")
_HEAD_OTHER = N_("Order <b>#{order_id}</b> is now: {status}")
# A refill or cancel request's update: "<kind> of order #N: <status>."
_REQUEST_UPDATES = {
    "refill": N_("Refill of order <b>#{order_id}</b>: {status}."),
    "cancel": N_("Cancellation of order <b>#{order_id}</b>: {status}."),
}


def _words(labels: dict[str, str], status: str) -> str:
    marked = labels.get(status)
    return _(marked) if marked else status.replace("_", " ").capitalize()


def status_label(status: str) -> str:
    """The customer's word for an order status, in the reader's language."""
    return _words(STATUS_LABELS, status)


def request_label(status: str) -> str:
    """The customer's word for a refill or cancel request's status, in the reader's language."""
    return _words(REQUEST_LABELS, status)


OPEN_REVIEW_BUTTON = N_("🔎 Open review card")


def request_refused(kind: str, reason: str, order_id: int, status: str | None) -> str:
    """Say why a refill or cancel cannot be done (``reason`` a ``panel_requests.Refusal``)."""
    label = status_label(status or "").lower()
    if reason == "no_such_order":
        return _("There is no order #{order_id} of yours.").format(order_id=order_id)
    if reason == "service_gone":
        return _("This service is not available any more.")
    if reason == "not_yet":
        return _("A refill is possible once the order is completed (it is {status}).").format(
            status=label
        )
    if reason == "too_late":
        return _("This order can no longer be canceled (it is {status}).").format(status=label)
    if reason == "panel_refused":
        if kind == "refill":
            return _("The panel refused the refill.")
        return _("The panel refused the cancel.")
    if kind == "refill":
        return _("This service does not offer refills.")
    return _("This service does not offer cancellation.")


def open_order_button(order_id: int) -> str:
    """Label the button under a notification that opens the order (plain text)."""
    return _("Open order #{order_id}").format(order_id=order_id)


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
        lines.append(
            _("Delivered {delivered} of {total} · remains {remains}").format(
                delivered=number(delivered), total=number(total), remains=number(total - delivered)
            )
        )
    if order.start_count is not None and order.status != "pending":
        lines.append(_("Start count: {count}").format(count=number(order.start_count)))
    return "".join(f"\n{line}" for line in lines)


def _head(order: OrderRecord, canceled_by_customer: bool) -> str:
    if order.status == "canceled" and canceled_by_customer:
        return _(_CANCELED_AS_ASKED).format(order_id=order.order_id)
    marked = _HEADS.get(order.status)
    if marked:
        return _(marked).format(order_id=order.order_id)
    return _(_HEAD_OTHER).format(
        order_id=order.order_id, status=escape(status_label(order.status))
    )


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
    text = (
        f"{icon} {_head(order, canceled_by_customer)}\n"
        f"{escape(clip(order.service_name, NAME_SHOWN))}{_link_line(order)}{_numbers(order)}"
    )
    if refund is not None and refund > 0:
        if balance is not None:
            refunded = _("💰 {amount} was refunded to your balance (now {balance}).").format(
                amount=money(refund, currency), balance=money(balance, currency)
            )
        else:
            refunded = _("💰 {amount} was refunded to your balance.").format(
                amount=money(refund, currency)
            )
        text += "\n\n" + refunded
    elif order.status in ("canceled", "refunded", "partial") and not order.charged:
        text += "\n\n" + _("Nothing was charged for this order, so nothing is refunded.")
    elif settled_by_shop:
        text += "\n\n" + _(
            "💬 The undelivered part could not be counted automatically, so the shop will "
            "settle your money for it with you."
        )
    elif order.status == "partial" and order.remains:
        text += "\n\n" + _(
            "The undelivered part comes to less than {amount}, so nothing is refunded."
        ).format(amount=money(Decimal("0.01"), currency))
    return text


def order_not_found(order: OrderRecord) -> str:
    """Tell the customer the panel lost track of an order and an admin will check it."""
    if order.charged:
        text = _(
            "🔎 Order <b>#{order_id}</b> ({service}): our supplier no longer finds this order. "
            "An admin will check it and tell you the result. Your payment stays safe until then."
        )
    else:
        text = _(
            "🔎 Order <b>#{order_id}</b> ({service}): our supplier no longer finds this order. "
            "An admin will check it and tell you the result. Nothing was charged."
        )
    return text.format(
        order_id=order.order_id, service=escape(clip(order.service_name, NAME_SHOWN))
    )


def admin_order_not_found(order: OrderRecord, panel_words: str) -> str:
    """Tell the admins an order vanished from its panel and waits for their review."""
    return _(
        "⚠️ Order <b>#{order_id}</b> of user <code>{user_id}</code> is unknown to panel "
        "<b>{panel}</b> (its ID there: <code>{panel_order_id}</code>). The panel said: "
        "<i>{panel_words}</i>\nIt is held for review (/review)."
    ).format(
        order_id=order.order_id,
        user_id=order.user_id,
        panel=escape(clip(order.panel, 100)),
        panel_order_id=escape(clip(order.panel_order_id or "-", 100)),
        panel_words=escape(clip(panel_words, PANEL_WORDS_SHOWN)),
    )


def admin_partial_unsettled(order: OrderRecord, currency: str = "USD") -> str:
    """Ask the admins to settle a partial order whose undelivered share cannot be counted."""
    remains = _("not given") if order.remains is None else number(order.remains)
    return _(
        "⚠️ Order <b>#{order_id}</b> of user <code>{user_id}</code> ({service}) ended "
        "<b>partial</b> (remains: {remains}), and its undelivered share cannot be counted, so "
        "nothing was refunded automatically. It cost the customer {price}: settle it with "
        "/credit if due."
    ).format(
        order_id=order.order_id,
        user_id=order.user_id,
        service=escape(clip(order.service_name, NAME_SHOWN)),
        remains=remains,
        price=money(order.price, currency),
    )


def admin_settled_partial_moved(order: OrderRecord, currency: str = "USD") -> str:
    """Tell the admins a partial order left to them to settle has a new status at its panel."""
    return _(
        "⚠️ Order <b>#{order_id}</b> of user <code>{user_id}</code> ({service}), which ended "
        "partial for you to settle, is now {status} at panel <b>{panel}</b>. Nothing was "
        "refunded automatically. It cost the customer {price}: settle what is due with /credit."
    ).format(
        order_id=order.order_id,
        user_id=order.user_id,
        service=escape(order.service_name),
        status=escape(status_label(order.status)),
        panel=escape(order.panel),
        price=money(order.price, currency),
    )


def request_update(kind: str, order_id: int, status: str, error: str | None = None) -> str:
    """Tell the customer a refill or cancel request moved on."""
    icon = {"completed": "✅", "rejected": "❌", "canceled": "❌"}.get(status, "🔄")
    marked = _REQUEST_UPDATES["refill" if kind == "refill" else "cancel"]
    text = f"{icon} " + _(marked).format(order_id=order_id, status=escape(request_label(status)))
    words = customer_reason(error)
    if words:
        text += "\n" + _("Reason: <i>{reason}</i>").format(reason=escape(words))
    return text
