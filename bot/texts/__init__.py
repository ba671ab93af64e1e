"""Every user-facing string of the menu, wallet, admin and error areas, in one place.

Strings are Telegram HTML (the bot's default parse mode). Anything that comes from a user, a
panel or the database goes through ``html.escape`` before it is put into one of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from html import escape

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
)
ADMIN_COMMANDS: tuple[tuple[str, str], ...] = (
    ("credit", "Add money to a customer: /credit <user> <amount> <reason>"),
    ("debit", "Take money from a customer: /debit <user> <amount> <reason>"),
    ("sync", "Re-sync the panels' catalogs now"),
    ("review", "Orders held for review (outcome unknown)"),
)

# ---------------------------------------------------------------- menu and help


def welcome(first_name: str, *, new: bool) -> str:
    """Greet a customer on /start."""
    name = escape(first_name) or "there"
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
        "Orders go to a sandbox panel: nothing real is delivered."
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
    "/cancel: stop what you are doing\n\n"
    "To add money to your balance, contact the shop's administrator."
)

# ---------------------------------------------------------------- wallet

_KIND_LABELS = {
    "credit": "Top-up",
    "debit": "Deduction",
    "order": "Order",
    "refund": "Refund",
}


def money(amount: Decimal, currency: str) -> str:
    """Format an amount of money for display (two decimals, no float on the way)."""
    return f"{amount.quantize(Decimal('0.01')):,} {escape(currency)}"


def _moment(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def balance(
    amount: Decimal, currency: str, entries: Sequence[tuple[Decimal, str, str, datetime]]
) -> str:
    """Show the balance and the latest ledger entries (amount, kind, reason, when)."""
    lines = [f"💰 <b>Your balance: {money(amount, currency)}</b>"]
    if not entries:
        lines.append("\nNo payments yet. To add money, contact the shop's administrator.")
        return "\n".join(lines)
    lines.append("\n<b>Latest activity</b>")
    for value, kind, reason, when in entries:
        sign = "+" if value > 0 else "−"
        label = _KIND_LABELS.get(kind, kind.capitalize())
        detail = f": {escape(reason)}" if reason else ""
        lines.append(
            f"{sign}{money(abs(value), currency)} · {escape(label)}{detail}\n"
            f"<i>{_moment(when)}</i>"
        )
    return "\n".join(lines)


# ---------------------------------------------------------------- admin

ADMIN_ONLY = "Sorry, this command is only for the shop's administrators."
CREDIT_USAGE = (
    "Usage: <code>/credit &lt;user ID or @username&gt; &lt;amount&gt; &lt;reason&gt;</code>\n"
    "Example: <code>/credit @ann 10.50 paid by bank transfer</code>"
)
DEBIT_USAGE = (
    "Usage: <code>/debit &lt;user ID or @username&gt; &lt;amount&gt; &lt;reason&gt;</code>\n"
    "Example: <code>/debit 12345 5 chargeback</code>"
)


def bad_amount(text: str) -> str:
    """Refuse an amount that is not a positive number with at most two decimals."""
    return (
        f"“{escape(text)}” is not a valid amount: use a positive number with at most two "
        "decimals, like <code>10</code> or <code>2.50</code>."
    )


def unknown_user(ref: str) -> str:
    """Say no customer matches the reference the admin typed."""
    return (
        f"No customer “{escape(ref)}” found: they must start the bot first, then use their "
        "numeric ID or @username."
    )


def customer(first_name: str, username: str | None, user_id: int) -> str:
    """Name a customer for an admin: name, @username and ID."""
    handle = f" @{escape(username)}" if username else ""
    return f"{escape(first_name) or 'Customer'}{handle} (<code>{user_id}</code>)"


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
        f"💰 <b>{money(amount, currency)}</b> was added to your balance ({escape(reason)}).\n"
        f"Your balance: {money(new_balance, currency)}."
    )


def you_were_debited(amount: Decimal, reason: str, new_balance: Decimal, currency: str) -> str:
    """Tell a customer money was taken from their balance."""
    return (
        f"💰 <b>{money(amount, currency)}</b> was deducted from your balance "
        f"({escape(reason)}).\nYour balance: {money(new_balance, currency)}."
    )


NOT_NOTIFIED = "(I could not tell them: they have blocked the bot or never started it.)"
SYNC_STARTED = "🔄 Syncing the panels' catalogs…"
SYNC_NO_PANELS = "There is no panel configured, so there is nothing to sync."


def sync_report(reports: Sequence[tuple[str, bool, int, str | None]]) -> str:
    """Report a catalog sync per panel: (panel, ok, services, error)."""
    lines = ["🔄 <b>Catalog sync finished</b>"]
    for panel, ok, services, error in reports:
        if ok:
            lines.append(f"✅ {escape(panel)}: {services} services")
        else:
            lines.append(
                f"❌ {escape(panel)}: {escape(error or 'failed')} "
                "(its last good catalog stays on sale)"
            )
    return "\n".join(lines)


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
