"""Every user-facing string of the menu, wallet, admin and error areas, in one place.

Strings are Telegram HTML (the bot's default parse mode). Anything that comes from a user, a
panel or the database goes through ``html.escape`` before it is put into one of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from html import escape
from typing import TYPE_CHECKING

from bot.texts import notifications as notification_texts
from bot.texts.fit import MAX_MESSAGE, clip, fit, visible_length

if TYPE_CHECKING:
    from bot.services.backoffice import CustomerOverview, PanelOverview

# ---------------------------------------------------------------- buttons

BUTTON_NEW_ORDER = "🛒 New order"
BUTTON_MY_ORDERS = "📦 My orders"
BUTTON_BALANCE = "💰 Balance"
BUTTON_HELP = "❓ Help"
BUTTON_MENU = "« Menu"

# ---------------------------------------------------------------- commands (setMyCommands)

USER_COMMANDS: tuple[tuple[str, str], ...] = (
    ("start", "Open the shop and its main menu"),
    ("menu", "Show the main menu"),
    ("orders", "Your orders and how they are going"),
    ("search", "Find a service: /search <words or number>"),
    ("balance", "Show your balance and latest payments"),
    ("help", "How ordering works"),
    ("cancel", "Cancel what you are doing"),
    ("id", "Show your Telegram user ID"),
    ("topup", "Add money to your balance"),
    ("paysupport", "Help with a payment"),
    ("terms", "Terms of payments and orders"),
)
ADMIN_COMMANDS: tuple[tuple[str, str], ...] = (
    ("credit", "Add money to a customer: /credit <user> <amount> <reason>"),
    ("debit", "Take money from a customer: /debit <user> <amount> <reason>"),
    ("sync", "Re-sync the panels' catalogs now"),
    ("review", "Orders held for review (outcome unknown)"),
    ("panels", "Each panel: balance, catalog, orders, health"),
    ("user", "A customer's balance, payments and orders: /user <user>"),
    ("approve", "Approve a receipt: /approve <payment> [amount]"),
    ("reject", "Reject a receipt: /reject <payment> <reason>"),
    ("refund", "Refund a Telegram Stars payment: /refund <payment>"),
)

# ---------------------------------------------------------------- menu and help


def welcome(first_name: str, *, new: bool) -> str:
    """Greet a customer on /start."""
    name = escape(clip(first_name, NAME_SHOWN)) or "there"
    if new:
        return (
            f"👋 Welcome, <b>{name}</b>!\n\n"
            "Here you can order followers, likes, views and more for your social accounts. "
            "Pick what you need below."
        )
    return f"👋 Welcome back, <b>{name}</b>! What would you like to do?"


def welcome_credit(amount: Decimal, currency: str) -> str:
    """Tell a new customer about the trial money they got."""
    return (
        f"🎁 You got <b>{money(amount, currency)}</b> of trial credit to try an order. "
        "This shop runs in demo mode: orders are simulated and nothing real is delivered."
    )


MAIN_MENU = "🏠 <b>Main menu</b>\nWhat would you like to do?"
NOTHING_TO_CANCEL = "There is nothing to cancel. Here is the main menu."
UNKNOWN_COMMAND = "I don't know that command. Here is the main menu."
HELP = (
    "❓ <b>How it works</b>\n\n"
    "1. Tap <b>New order</b>, pick a platform, a category and a service.\n"
    "2. Send the link (and whatever else the service needs) and the quantity.\n"
    "3. Check the price and confirm: it is paid from your balance.\n"
    "4. Follow the progress under <b>My orders</b>.\n\n"
    "<b>Commands</b>\n"
    "/menu: the main menu\n"
    "/orders: your orders and how they are going\n"
    "/search: find a service by name or number\n"
    "/balance: your balance and latest payments\n"
    "/cancel: stop what you are doing\n"
    "/id: your Telegram user ID\n\n"
    "To add money to your balance, contact the shop's administrator (with your ID)."
)

# ---------------------------------------------------------------- wallet

_KIND_LABELS = {
    "credit": "Top-up",
    "debit": "Deduction",
    "order": "Order",
    "refund": "Refund",
    "payment": "Top-up",
    "payment_refund": "Top-up refunded",
}


def money(amount: Decimal, currency: str) -> str:
    """Format an amount of money for display (two decimals, no float on the way)."""
    return f"{amount.quantize(Decimal('0.01')):,} {escape(currency)}"


def _moment(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def balance(
    amount: Decimal,
    currency: str,
    entries: Sequence[tuple[Decimal, str, str, datetime]],
    *,
    how_to_add: str = "To add money, contact the shop's administrator.",
) -> str:
    """Show the balance and the latest ledger entries (amount, kind, reason, when)."""
    lines = [f"💰 <b>Your balance: {money(amount, currency)}</b>"]
    if not entries:
        lines.append(f"\nNo payments yet. {how_to_add}")
        return fit("\n".join(lines))
    lines.append("\n<b>Latest activity</b>")
    for value, kind, reason, when in entries:
        sign = "+" if value > 0 else "−"
        label = _KIND_LABELS.get(kind, kind.capitalize())
        detail = f": {escape(clip(reason, REASON_SHOWN))}" if reason else ""
        lines.append(
            f"{sign}{money(abs(value), currency)} · {escape(label)}{detail}\n"
            f"<i>{_moment(when)}</i>"
        )
    return fit("\n".join(lines))


# ---------------------------------------------------------------- admin

ADMIN_ONLY = "Sorry, this command is only for the shop's administrators."
ADMIN_ONLY_BUTTON = "This button is only for the shop's administrators."
CREDIT_USAGE = (
    "Usage: <code>/credit &lt;user ID or @username&gt; &lt;amount&gt; &lt;reason&gt;</code>\n"
    "Example: <code>/credit @ann 10.50 paid by bank transfer</code>"
)
DEBIT_USAGE = (
    "Usage: <code>/debit &lt;user ID or @username&gt; &lt;amount&gt; &lt;reason&gt;</code>\n"
    "Example: <code>/debit 12345 5 chargeback</code>"
)


def bad_amount(text: str, why: str) -> str:
    """Refuse an amount, quoting what was typed and saying why (``why`` is plain text)."""
    return f"“{escape(clip(text, QUOTED_SHOWN))}” is not a valid amount: {escape(why)}."


def unknown_user(ref: str) -> str:
    """Say no customer matches the reference the admin typed."""
    return (
        f"No customer “{escape(clip(ref, QUOTED_SHOWN))}” found: they must start the bot "
        "first, then use their numeric ID or @username."
    )


def customer(first_name: str, username: str | None, user_id: int) -> str:
    """Name a customer for an admin: name, @username and ID."""
    handle = f" @{escape(clip(username, 40))}" if username else ""
    return f"{escape(clip(first_name, NAME_SHOWN)) or 'Customer'}{handle} (<code>{user_id}</code>)"


def credited(who: str, amount: Decimal, new_balance: Decimal, currency: str) -> str:
    """Confirm a credit to the admin."""
    return (
        f"✅ Credited <b>{money(amount, currency)}</b> to {who}.\n"
        f"Their balance is now {money(new_balance, currency)}."
    )


def debited(who: str, amount: Decimal, new_balance: Decimal, currency: str) -> str:
    """Confirm a debit to the admin."""
    return (
        f"✅ Debited <b>{money(amount, currency)}</b> from {who}.\n"
        f"Their balance is now {money(new_balance, currency)}."
    )


def debit_too_large(who: str, amount: Decimal, current: Decimal, currency: str) -> str:
    """Refuse a debit larger than the balance."""
    return (
        f"❌ Cannot debit {money(amount, currency)} from {who}: their balance is only "
        f"{money(current, currency)}. Nothing was changed."
    )


def you_were_credited(amount: Decimal, reason: str, new_balance: Decimal, currency: str) -> str:
    """Tell a customer money was added to their balance."""
    return (
        f"💰 <b>{money(amount, currency)}</b> was added to your balance "
        f"({escape(clip(reason, REASON_SHOWN))}).\n"
        f"Your balance: {money(new_balance, currency)}."
    )


def you_were_debited(amount: Decimal, reason: str, new_balance: Decimal, currency: str) -> str:
    """Tell a customer money was taken from their balance."""
    return (
        f"💰 <b>{money(amount, currency)}</b> was deducted from your balance "
        f"({escape(clip(reason, REASON_SHOWN))}).\nYour balance: {money(new_balance, currency)}."
    )


NOT_NOTIFIED = "(I could not tell them: they have blocked the bot or never started it.)"
SYNC_STARTED = "🔄 Syncing the panels' catalogs…"
SYNC_NO_PANELS = "There is no panel configured, so there is nothing to sync."


def sync_report(reports: Sequence[tuple[str, bool, int, str | None]]) -> str:
    """Report a catalog sync per panel: (panel, ok, services, error)."""
    lines = ["🔄 <b>Catalog sync finished</b>"]
    for panel, ok, services, error in reports:
        if ok:
            lines.append(f"✅ {escape(clip(panel, NAME_SHOWN))}: {services} services")
        else:
            lines.append(
                f"❌ {escape(clip(panel, NAME_SHOWN))}: "
                f"{escape(clip(error or 'failed', PANEL_WORDS_SHOWN))} "
                "(its last good catalog stays on sale)"
            )
    return fit("\n".join(lines))


# ---------------------------------------------------------------- back office

MAX_TEXT = MAX_MESSAGE
NAME_SHOWN = 80
REASON_SHOWN = 100
QUOTED_SHOWN = 40  # what an admin typed, quoted back in a refusal
PANEL_WORDS_SHOWN = 300  # a panel's error in an admin's report
PANELS_STARTED = "🏦 Asking the panels for their balance…"
PANELS_NONE = "There is no panel configured."
USER_USAGE = (
    "Usage: <code>/user &lt;user ID or @username&gt;</code>\nExample: <code>/user @ann</code>"
)


def panel_money(amount: Decimal, currency: str) -> str:
    """Show a panel's balance exactly as the panel gave it (at least two decimals)."""
    cents = amount.quantize(Decimal("0.01"))
    shown = cents if cents == amount else amount.normalize()
    unit = f" {escape(currency)}" if currency else ""
    return f"{shown:,f}{unit}"


def _yes_no(flag: bool) -> str:
    return "✅" if flag else "❌"


def panel_block(panel: PanelOverview, currency: str) -> str:
    """Describe one panel for the owner: balance, catalog, orders, status sync, actions."""
    lines = [f"<b>{escape(clip(panel.name, NAME_SHOWN))}</b> · {escape(panel.dialect)}"]
    if panel.balance is not None:
        panel_currency = panel.balance.currency or currency
        lines.append(f"💰 Balance: <b>{panel_money(panel.balance.amount, panel_currency)}</b>")
        if panel.low_balance:
            lines.append(
                f"⚠️ <b>Low balance</b>: the last 24 hours of orders cost "
                f"{panel_money(panel.spent_last_day, panel_currency)}; top the panel up."
            )
    elif not panel.balance_offered:
        lines.append("💰 Balance: not offered by this panel")
    else:
        error = clip(panel.balance_error or "failed", PANEL_WORDS_SHOWN)
        lines.append(f"💰 Balance: ❌ {escape(error)}")
    listed = (
        f" ({panel.services_listed} listed)"
        if panel.services_listed != panel.services_on_sale
        else ""
    )
    synced = "never synced" if panel.synced_at is None else f"synced {_moment(panel.synced_at)}"
    lines.append(f"📚 Catalog: {panel.services_on_sale} services on sale{listed} · {synced}")
    lines.append(f"📦 Orders: {panel.active_orders} active · {panel.held_orders} held for review")
    if panel.backing_off:
        lines.append(f"⏸ Status sync: backing off after {panel.failures} failure(s) in a row")
    elif panel.failures:
        lines.append(f"⚠️ Status sync: retrying after {panel.failures} failure(s) in a row")
    else:
        lines.append("🔄 Status sync: no recent failures")
    lines.append(
        f"🛠 Refill {_yes_no(panel.refill)} · Cancel {_yes_no(panel.cancel)} · "
        f"Drip-feed {_yes_no(panel.dripfeed)}"
    )
    return "\n".join(lines)


def panels_report(panels: Sequence[PanelOverview], currency: str) -> list[str]:
    """The /panels answer, one block per panel, split into messages Telegram accepts."""
    header = f"🏦 <b>Panels</b> ({len(panels)})"
    messages: list[str] = []
    current = header
    for panel in panels:
        block = panel_block(panel, currency)
        if visible_length(current) + 2 + visible_length(block) > MAX_TEXT:
            messages.append(current)
            current = block
        else:
            current += "\n\n" + block
    messages.append(current)
    return messages


def _entry_line(
    amount: Decimal, kind: str, reason: str, admin_id: int | None, when: datetime, currency: str
) -> str:
    sign = "+" if amount > 0 else "−"
    label = _KIND_LABELS.get(kind, kind.capitalize())
    detail = f": {escape(clip(reason, REASON_SHOWN))}" if reason else ""
    by = f" · by admin <code>{admin_id}</code>" if admin_id is not None else ""
    return f"{sign}{money(abs(amount), currency)} · {escape(label)}{detail}{by} · {_moment(when)}"


def customer_report(overview: CustomerOverview, currency: str, payments_block: str = "") -> str:
    """Describe a customer for an admin: who, balance, latest payments and orders."""
    user = overview.user
    lines = [
        f"👤 {customer(user.first_name, user.username, user.user_id)}",
        f"Registered {_moment(user.created_at)}",
        "🚫 Blocked: yes (they blocked the bot)" if user.is_blocked else "Blocked: no",
        f"💰 Balance: <b>{money(overview.balance, currency)}</b>",
        "",
        "<b>Latest ledger entries</b>",
    ]
    if not overview.entries:
        lines.append("None yet.")
    for entry in overview.entries:
        lines.append(
            _entry_line(
                entry.amount, entry.kind, entry.reason, entry.admin_id, entry.created_at, currency
            )
        )
    if payments_block:
        lines += ["", payments_block]
    lines += ["", f"<b>Latest orders</b> ({len(overview.orders)} of {overview.order_count})"]
    if not overview.orders:
        lines[-1] = "<b>Latest orders</b>"
        lines.append("None yet.")
    for order in overview.orders:
        charged = "" if order.charged else " (not charged)"
        lines.append(
            f"#{order.order_id} · {escape(clip(order.service_name, NAME_SHOWN))} · "
            f"{escape(notification_texts.status_label(order.status))} · "
            f"{money(order.price, currency)}{charged}"
        )
    return fit("\n".join(lines))


def your_id(user_id: int, *, is_admin: bool, owner_setup: bool) -> str:
    """Tell a user their Telegram ID; explain ``ADMIN_IDS`` only while no admin is set up."""
    text = f"🆔 Your Telegram user ID: <code>{user_id}</code>"
    if is_admin:
        return text + "\nYou are an administrator of this bot."
    if owner_setup:
        # No admin is configured yet, so whoever asks is most likely the owner setting up.
        return (
            text + "\n\nThis bot has no administrator yet. If you own it, put this number in "
            "<code>ADMIN_IDS</code> in its settings (the <code>.env</code> file; several IDs "
            "separated by commas) and restart it: you get the admin commands."
        )
    return text + "\n\nGive this number to the shop's administrator when you ask for a top-up."


# ---------------------------------------------------------------- errors and stale buttons

BUTTON_INVALID = "This button is no longer valid. Please use the menu again: /menu"
SOMETHING_WENT_WRONG = (
    "😔 Sorry, something went wrong on our side. Please try again in a minute; "
    "if it keeps happening, contact the shop's administrator."
)


def error_for_admin(user: str, what: str, error: str) -> str:
    """Alert an admin about an error a user hit (everything escaped here)."""
    return (
        f"⚠️ <b>Error</b> while handling {escape(what)} from {escape(user)}:\n"
        f"<code>{escape(error)}</code>\nDetails are in the log."
    )
