"""Every user-facing string of "My orders" and the admin's review of held orders.

Strings are Telegram HTML (the bot's default parse mode): anything that comes from a user, a
panel or the database goes through ``html.escape`` here. Callback-query alerts are plain
text (Telegram does not parse them), so the ``*_ALERT`` strings and ``*_alert`` functions
are not escaped HTML. Every string is English and translated when the screen is built
(``bot.i18n``): functions call ``_``/``ngettext``; constants are marked with ``N_`` and
shown as ``_(CONSTANT)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from html import escape
from typing import TYPE_CHECKING

from bot import i18n
from bot.i18n import N_, _, ngettext
from bot.panels.models import Field
from bot.services.ordering import delivered_of
from bot.texts import moment
from bot.texts import notifications as notification_texts
from bot.texts.amounts import money
from bot.texts.fit import MAX_MESSAGE, clip, fit
from bot.texts.ordering import answer_line
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

BTN_REFRESH = N_("🔄 Refresh")
BTN_REFILL = N_("♻ Refill")
BTN_CANCEL_ORDER = N_("✖ Cancel order")
BTN_MY_ORDERS = N_("⬅ My orders")
BTN_NEW_ORDER = N_("🛒 New order")
BTN_MENU = N_("« Menu")
BTN_PREVIOUS = "◀"
BTN_NEXT = "▶"
BTN_MARK_PLACED = N_("✅ Mark placed")
BTN_MARK_FAILED = N_("❌ Mark failed (refund)")
# The notices' button (``bot.texts.notifications.OPEN_REVIEW_BUTTON``), in the reader's language.
BTN_OPEN_REVIEW = N_("🔎 Open review card")
open_order_button = notification_texts.open_order_button

# ---------------------------------------------------------------- statuses

# The status words are the notifications' (``bot.texts.notifications``), so a customer reads
# the same status in a notice and on the card.
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
_REQUEST_KINDS = {"refill": N_("♻ Refill"), "cancel": N_("✖ Cancel")}
# Form fields already shown on their own line of the card.
_SHOWN_FIELDS = frozenset({"service", "link", "quantity", "action", "key"})
# How the card names the other answers an order was placed with (the API's field names).
_FIELD_LABELS = {
    Field.RUNS.value: N_("Runs"),
    Field.INTERVAL.value: N_("Interval"),
    Field.KEYWORDS.value: N_("Keywords"),
    Field.COMMENTS.value: N_("Comments"),
    Field.USERNAMES.value: N_("Usernames"),
    Field.HASHTAGS.value: N_("Hashtags"),
    Field.USERNAME.value: N_("Username"),
    Field.MEDIA.value: N_("Media"),
    Field.GROUPS.value: N_("Groups"),
    Field.ANSWER_NUMBER.value: N_("Answer number"),
    Field.MIN.value: N_("Min"),
    Field.MAX.value: N_("Max"),
    Field.POSTS.value: N_("Posts"),
    Field.OLD_POSTS.value: N_("Old posts"),
    Field.DELAY.value: N_("Delay"),
    Field.EXPIRY.value: N_("Expiry"),
    Field.COUNTRY.value: N_("Country"),
    Field.DEVICE.value: N_("Device"),
    Field.TYPE_OF_TRAFFIC.value: N_("Type of traffic"),
    Field.GOOGLE_KEYWORD.value: N_("Google keyword"),
    Field.REFERRING_URL.value: N_("Referring url"),
}


def status_label(status: str) -> str:
    """Name an order status for the customer (emoji and words, HTML)."""
    icon = _STATUS_ICONS.get(status, "•")
    return f"{icon} {escape(notification_texts.status_label(status))}"


def request_status_label(status: str) -> str:
    """Name a refill/cancel request status for the customer (HTML)."""
    return escape(notification_texts.request_label(status))


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
        return _(NO_ORDERS)
    lines = [
        _("📦 <b>My orders</b> ({count})").format(count=i18n.number(page.total)),
        _("Tap an order to see its details."),
        "",
    ]
    for order in page.items:
        lines.append(
            f"<b>#{order.order_id}</b> · {status_label(order.status)} · "
            f"{escape(clip(order.service_name, 40))} · {i18n.number(order.quantity)} · "
            f"{money(order.price, currency)}"
        )
    return fit("\n".join(lines))


NO_ORDERS = N_("📦 <b>My orders</b>\n\nYou have no orders yet. Tap <b>New order</b> to place one.")


def order_button(order: OrderRecord) -> str:
    """Label an order's button in the list (short: buttons are narrow)."""
    emoji = _STATUS_ICONS.get(order.status, "•")
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
        _("📦 <b>Order #{number}</b>").format(number=order.order_id),
        _("Service: <b>{name}</b>").format(name=escape(clip(order.service_name, NAME_SHOWN))),
    ]
    if order.link:
        lines.append(_("Link: {link}").format(link=escape(clip(order.link, LINK_SHOWN))))
    lines.append(_("Quantity: {count}").format(count=i18n.number(order.quantity)))
    lines += _extra_fields(order.fields)
    if order.charged:
        lines.append(_("Price: {price}").format(price=money(order.price, currency)))
    else:
        lines.append(
            _("Price: {price} (admin order, not charged)").format(
                price=money(order.price, currency)
            )
        )
    lines.append(_("Status: <b>{status}</b>").format(status=status_label(order.status)))
    if order.start_count is not None:
        lines.append(_("Start count: {count}").format(count=i18n.number(order.start_count)))
    if order.remains is not None:
        lines.append(_("Remains: {count}").format(count=i18n.number(order.remains)))
    bar = progress_bar(order.total_units or 0, order.remains)
    if bar is not None:
        lines.append(bar)
    lines.append(_("Placed: {when}").format(when=moment(order.created_at)))
    explanation = _STATUS_EXPLANATIONS.get(order.status)
    if explanation:
        lines += ["", _(explanation)]
    if events:
        lines += ["", _("<b>History</b>")]
        hidden = len(events) - HISTORY_SHOWN
        if hidden > 0:
            lines.append(
                ngettext("… {count} earlier change", "… {count} earlier changes", hidden).format(
                    count=hidden
                )
            )
        lines += [_event_line(e) for e in events[-HISTORY_SHOWN:]]
    if requests:
        lines += ["", _("<b>Refill and cancel requests</b>")]
        lines += [_request_line(r) for r in requests[-REQUESTS_SHOWN:]]
    return fit("\n".join(lines))


_STATUS_EXPLANATIONS = {
    "review": N_(
        "We could not confirm this order with our supplier. An admin is checking it; your "
        "money stays held until then and you will be told the result."
    ),
    "placing": N_("This order is being placed."),
    "failed": N_("This order was not placed; its price went back to your balance."),
}


def _extra_fields(fields: Mapping[str, str]) -> list[str]:
    lines = []
    for name, value in fields.items():
        if name in _SHOWN_FIELDS or not value:
            continue
        known = _FIELD_LABELS.get(name)
        label = _(known) if known else name.replace("_", " ").capitalize()
        shown = clip(" ".join(value.split()), FIELD_VALUE_SHOWN)
        lines.append(answer_line(label, shown))
    return lines


def _event_line(event: OrderEvent) -> str:
    details = []
    if event.start_count is not None and event.new_status not in ("placing", "pending"):
        details.append(_("start {count}").format(count=i18n.number(event.start_count)))
    if event.remains is not None:
        details.append(_("remains {count}").format(count=i18n.number(event.remains)))
    extra = f" ({', '.join(details)})" if details else ""
    return f"<i>{moment(event.created_at)}</i> · {status_label(event.new_status)}{extra}"


def _request_line(request: ServiceRequest) -> str:
    kind = _REQUEST_KINDS.get(request.kind)
    shown = _(kind) if kind else escape(request.kind.capitalize())
    line = (
        f"{shown} · {request_status_label(request.status)} · <i>{moment(request.created_at)}</i>"
    )
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
        return _("♻ <b>Refill requested.</b> You will be told when it is done.")
    return _(
        "♻ <b>Refill requested.</b> It was accepted; refills usually take a few days, and "
        "no further message will follow: check the order here."
    )


def cancel_sent(request: ServiceRequest) -> str:
    """Confirm a cancel request above the card."""
    if request.status in ("rejected", "failed"):
        return cancel_refused(request.error)
    return _(
        "✖ <b>Cancellation requested.</b> If the order is canceled, its price (or the "
        "undelivered part) goes back to your balance and you will be told."
    )


def refill_refused(reason: str | None) -> str:
    """Say a refill could not be requested, quoting the reason when it is safe to."""
    words = customer_reason(reason)
    if words:
        return _("⚠ The refill could not be requested: {reason}").format(reason=escape(words))
    return _("⚠ The refill could not be requested right now. Please try again later.")


def cancel_refused(reason: str | None) -> str:
    """Say a cancellation could not be requested, quoting the reason when it is safe to."""
    words = customer_reason(reason)
    if words:
        return _("⚠ The cancellation could not be requested: {reason}").format(
            reason=escape(words)
        )
    return _("⚠ The cancellation could not be requested right now. Please try again later.")


REFRESH_FAILED = N_("⚠ Our supplier could not be reached just now; this is the last known status.")

# Plain-text alerts (answerCallbackQuery).
NOT_YOUR_ORDER_ALERT = N_("You have no order with this number.")
REFILL_NOT_ALLOWED_ALERT = N_("This order cannot be refilled now.")
CANCEL_NOT_ALLOWED_ALERT = N_("This order cannot be cancelled now.")
REFILL_OPEN_ALERT = N_("A refill of this order is already requested.")
CANCEL_OPEN_ALERT = N_("A cancellation of this order is already requested.")
CHECKING_ALERT = N_("Checking the latest status…")
SENDING_ALERT = N_("Sending your request…")

# ---------------------------------------------------------------- admin review

NOTHING_TO_REVIEW = N_("🔎 <b>Review</b>\n\nNo order is waiting for review. All clear.")


def review_title(total: int, shown: int) -> str:
    """Head the review list: how many orders wait, and how many are shown below."""
    head = ngettext(
        "🔎 <b>Review</b>: {count} order needs a decision.",
        "🔎 <b>Review</b>: {count} orders need a decision.",
        total,
    ).format(count=total)
    if shown < total:
        head += " " + ngettext(
            "The oldest {count} is shown below.", "The oldest {count} are shown below.", shown
        ).format(count=shown)
    return (
        head
        + "\n\n"
        + _(
            "For each, check the panel: if it has the order, tap <b>{placed}</b> and type its "
            "order ID; if not, tap <b>{failed}</b>."
        ).format(placed=_(BTN_MARK_PLACED), failed=_(BTN_MARK_FAILED))
    )


def review_card(order: OrderRecord, customer: str, currency: str) -> str:
    """Show an admin one order whose outcome is unknown (``customer`` is escaped HTML)."""
    price = money(order.price, currency)
    charged = (
        _("{price} held").format(price=price)
        if order.charged
        else _("{price} (admin order, not charged)").format(price=price)
    )
    lines = [
        _("🔎 <b>Order #{number}</b> · {status}").format(
            number=order.order_id, status=status_label(order.status)
        ),
        _("Customer: {customer}").format(customer=customer),
        _("Panel: {panel}").format(panel=escape(clip(order.panel, 100))),
        _("Service: {name} (panel service {service_id})").format(
            name=escape(clip(order.service_name, NAME_SHOWN)),
            service_id=escape(clip(order.service_id, 100)),
        ),
    ]
    if order.link:
        lines.append(_("Link: {link}").format(link=escape(clip(order.link, LINK_SHOWN))))
    lines += [
        _("Quantity: {count}").format(count=i18n.number(order.quantity)),
        _("Price: {price}").format(price=charged),
        _("Sent: {when}").format(when=moment(order.created_at)),
    ]
    lines.append(_review_reason(order))
    return fit("\n".join(lines))


def admin_order_held(order: OrderRecord, currency: str) -> str:
    """Tell the admins an order was just held for review, and why."""
    price = money(order.price, currency)
    held = (
        _("{price} of the customer's money is held").format(price=price)
        if order.charged
        else _("admin order ({price}, not charged)").format(price=price)
    )
    lines = [
        _("⏳ <b>Order #{number} is held for review</b>").format(number=order.order_id),
        _("Customer: <code>{user_id}</code> · Panel: {panel}").format(
            user_id=order.user_id, panel=escape(clip(order.panel, 100))
        ),
        _("Service: {name} (panel service {service_id})").format(
            name=escape(clip(order.service_name, NAME_SHOWN)),
            service_id=escape(clip(order.service_id, 100)),
        ),
        _("Quantity: {count} · {held}").format(count=i18n.number(order.quantity), held=held),
        _review_reason(order),
        _("Check the panel, then open the card to mark it placed or failed."),
    ]
    return fit("\n".join(lines))


def _review_reason(order: OrderRecord) -> str:
    """Say why an order waits for review, quoting the recorded reason (escaped)."""
    words = None if not order.error else escape(clip(order.error, REASON_SHOWN))
    if order.not_found:
        panel_id = escape(clip(order.panel_order_id or "-", 100))
        if words:
            return _(
                "Why: the panel no longer knows its order ID <code>{panel_id}</code>. "
                "The panel said: <i>{words}</i>"
            ).format(panel_id=panel_id, words=words)
        return _("Why: the panel no longer knows its order ID <code>{panel_id}</code>.").format(
            panel_id=panel_id
        )
    if words:
        return _("Why: <i>{words}</i>").format(words=words)
    if order.status == "placing":
        return _("Why: placing it was interrupted (a restart or a crash).")
    return _("Why: no reason was recorded; check the panel for this order.")


def ask_panel_id(order: OrderRecord) -> str:
    """Ask the admin for the panel's order ID of an order they found on the panel."""
    return _(
        "Type the order ID that <b>{panel}</b> gave order <b>#{number}</b> ({service}, "
        "{link}).\n/cancel to stop."
    ).format(
        panel=escape(clip(order.panel, 100)),
        number=order.order_id,
        service=escape(clip(order.service_name, NAME_SHOWN)),
        link=escape(clip(order.link or "", LINK_SHOWN)),
    )


BAD_PANEL_ID = N_(
    "That does not look like a panel order ID: send only the ID, like <code>123456</code> "
    "(letters, digits, - and _), or /cancel."
)
REVIEW_STOPPED = N_("OK, nothing was changed.")
REVIEW_STATE_LOST = N_(
    "I lost track of which order that was. Please tap its button again: /review"
)


def panel_id_taken(reason: str) -> str:
    """Refuse a panel order ID that already belongs to another of our orders (``reason`` is
    the service's plain words, escaped here)."""
    return _("Not saved: {reason}. Check the ID and type it again, or /cancel.").format(
        reason=escape(reason)
    )


def not_under_review(reason: str) -> str:
    """Say the order no longer waits for a decision (another admin may have settled it)."""
    return _("Nothing changed: {reason}.").format(reason=escape(reason))


def not_under_review_alert(order_id: int) -> str:
    """The plain-text alert for a review button of an order already settled."""
    return _("Order #{number} is no longer waiting for review.").format(number=order_id)


def marked_placed(order: OrderRecord, who: str, told: bool) -> str:
    """Confirm to the admin that the order now follows the panel's order ID."""
    return (
        _(
            "✅ Order <b>#{number}</b> marked placed as panel order <code>{panel_id}</code>; "
            "it is now {status} and status sync takes over."
        ).format(
            number=order.order_id,
            panel_id=escape(order.panel_order_id or ""),
            status=status_label(order.status),
        )
        + "\n"
        + _told(who, told)
    )


def marked_failed(order: OrderRecord, who: str, currency: str, told: bool) -> str:
    """Confirm to the admin that the order failed and its price was refunded."""
    if order.charged:
        text = _("❌ Order <b>#{number}</b> marked failed; {price} was refunded.")
    else:
        text = _(
            "❌ Order <b>#{number}</b> marked failed; nothing was charged, so nothing was "
            "refunded."
        )
    return (
        text.format(number=order.order_id, price=money(order.price, currency))
        + "\n"
        + _told(who, told)
    )


def _told(who: str, told: bool) -> str:
    if told:
        return _("{customer} will be told.").format(customer=who)
    return _("{customer} could not be told (they have blocked the bot).").format(customer=who)


def customer_order_placed(order: OrderRecord) -> str:
    """Tell the customer their held order turned out to be placed."""
    return _(
        "✅ Good news: your order <b>#{number}</b> ({service}) was confirmed with our supplier "
        "and is now in the queue. You will be told as it progresses; see it under /orders."
    ).format(number=order.order_id, service=escape(clip(order.service_name, NAME_SHOWN)))


def customer_order_failed(order: OrderRecord, balance: Decimal, currency: str) -> str:
    """Tell the customer their held order was not placed, and about the refund."""
    money_line = (
        _("Its {price} went back to your balance, which is now {balance}.").format(
            price=money(order.price, currency), balance=money(balance, currency)
        )
        if order.charged
        else _("Nothing was charged.")
    )
    return _("❌ Your order <b>#{number}</b> ({service}) could not be placed. {charged}").format(
        number=order.order_id,
        service=escape(clip(order.service_name, NAME_SHOWN)),
        charged=money_line,
    )
