"""Every user-facing string of the menu, wallet, admin and error areas, in one place.

Strings are Telegram HTML (the bot's default parse mode). Anything that comes from a user, a
panel or the database goes through ``html.escape`` before it is put into one of them.
Every string is English and translated when the screen is built (``bot.i18n``): functions
call ``_``/``ngettext``; constants are marked with ``N_`` and shown as ``_(CONSTANT)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from html import escape
from typing import TYPE_CHECKING

from babel.dates import format_datetime

from bot import i18n
from bot.i18n import N_, _, ngettext
from bot.texts import notifications as notification_texts
from bot.texts.amounts import money
from bot.texts.fit import MAX_MESSAGE, clip, fit, visible_length

if TYPE_CHECKING:
    from bot.services.backoffice import CustomerOverview, PanelOverview

# ---------------------------------------------------------------- buttons

BUTTON_NEW_ORDER = N_("🛒 New order")
BUTTON_MY_ORDERS = N_("📦 My orders")
BUTTON_BALANCE = N_("💰 Balance")
BUTTON_HELP = N_("❓ Help")
BUTTON_MENU = N_("« Menu")
BUTTON_LANGUAGE = N_("🌐 Language")

# ---------------------------------------------------------------- commands (setMyCommands)

USER_COMMANDS: tuple[tuple[str, str], ...] = (
    ("start", N_("Open the shop and its main menu")),
    ("menu", N_("Show the main menu")),
    ("orders", N_("Your orders and how they are going")),
    ("search", N_("Find a service: /search <words or number>")),
    ("balance", N_("Show your balance and latest payments")),
    ("help", N_("How ordering works")),
    ("cancel", N_("Cancel what you are doing")),
    ("id", N_("Show your Telegram user ID")),
    ("topup", N_("Add money to your balance")),
    ("paysupport", N_("Help with a payment")),
    ("terms", N_("Terms of payments and orders")),
    ("language", N_("Choose the bot's language")),
)
ADMIN_COMMANDS: tuple[tuple[str, str], ...] = (
    ("credit", N_("Add money to a customer: /credit <user> <amount> <reason>")),
    ("debit", N_("Take money from a customer: /debit <user> <amount> <reason>")),
    ("sync", N_("Re-sync the panels' catalogs now")),
    ("review", N_("Orders held for review (outcome unknown)")),
    ("panels", N_("Each panel: balance, catalog, orders, health")),
    ("user", N_("A customer's balance, payments and orders: /user <user>")),
    ("approve", N_("Approve a receipt: /approve <payment> [amount]")),
    ("reject", N_("Reject a receipt: /reject <payment> <reason>")),
    ("refund", N_("Refund a Telegram Stars payment: /refund <payment>")),
)

# ---------------------------------------------------------------- menu and help


def welcome(first_name: str, *, new: bool) -> str:
    """Greet a customer on /start."""
    name = escape(clip(first_name, NAME_SHOWN)) or _("there")
    if new:
        return _(
            "👋 Welcome, <b>{name}</b>!\n\n"
            "Here you can order followers, likes, views and more for your social accounts. "
            "Pick what you need below."
        ).format(name=name)
    return _("👋 Welcome back, <b>{name}</b>! What would you like to do?").format(name=name)


def welcome_credit(amount: Decimal, currency: str) -> str:
    """Tell a new customer about the trial money they got."""
    return _(
        "🎁 You got <b>{amount}</b> of trial credit to try an order. "
        "This shop runs in demo mode: orders are simulated and nothing real is delivered."
    ).format(amount=money(amount, currency))


MAIN_MENU = N_("🏠 <b>Main menu</b>\nWhat would you like to do?")
NOTHING_TO_CANCEL = N_("There is nothing to cancel. Here is the main menu.")
UNKNOWN_COMMAND = N_("I don't know that command. Here is the main menu.")
CHOOSE_LANGUAGE = N_("🌐 <b>Language</b>\nWhich language should the bot speak?")
# Said in the language just chosen.
LANGUAGE_CHOSEN = N_("✅ Done: the bot speaks English now.")
HELP = N_(
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
    "credit": N_("Top-up"),
    "debit": N_("Deduction"),
    "order": N_("Order"),
    "refund": N_("Refund"),
    "payment": N_("Top-up"),
    "payment_refund": N_("Top-up refunded"),
}
HOW_TO_ADD = N_("To add money, contact the shop's administrator.")
# Translators: how a date and time (always UTC) is written, as a CLDR pattern: yyyy year,
# MM month number, MMM short month name, d/dd day, HH:mm hours and minutes; text in single
# quotes is written as is.
MOMENT_PATTERN = N_("yyyy-MM-dd HH:mm 'UTC'")


def moment(when: datetime) -> str:
    """A date and time in UTC, written the way the reader's language writes it."""
    return format_datetime(when.astimezone(UTC), _(MOMENT_PATTERN), locale=i18n.current_language())


def _kind_label(kind: str) -> str:
    label = _KIND_LABELS.get(kind)
    return _(label) if label else kind.capitalize()


def balance(
    amount: Decimal,
    currency: str,
    entries: Sequence[tuple[Decimal, str, str, datetime]],
    *,
    how_to_add: str | None = None,
) -> str:
    """Show the balance and the latest ledger entries (amount, kind, reason, when)."""
    how_to_add = _(HOW_TO_ADD) if how_to_add is None else how_to_add
    lines = [_("💰 <b>Your balance: {amount}</b>").format(amount=money(amount, currency))]
    if not entries:
        lines.append("\n" + _("No payments yet.") + " " + how_to_add)
        return fit("\n".join(lines))
    lines.append("\n" + _("<b>Latest activity</b>"))
    for value, kind, reason, when in entries:
        sign = "+" if value > 0 else "−"
        detail = f": {escape(clip(reason, REASON_SHOWN))}" if reason else ""
        lines.append(
            f"{sign}{money(abs(value), currency)} · {escape(_kind_label(kind))}{detail}\n"
            f"<i>{moment(when)}</i>"
        )
    return fit("\n".join(lines))


# ---------------------------------------------------------------- admin

ADMIN_ONLY = N_("Sorry, this command is only for the shop's administrators.")
ADMIN_ONLY_BUTTON = N_("This button is only for the shop's administrators.")
CREDIT_USAGE = N_(
    "Usage: <code>/credit &lt;user ID or @username&gt; &lt;amount&gt; &lt;reason&gt;</code>\n"
    "Example: <code>/credit @ann 10.50 paid by bank transfer</code>"
)
DEBIT_USAGE = N_(
    "Usage: <code>/debit &lt;user ID or @username&gt; &lt;amount&gt; &lt;reason&gt;</code>\n"
    "Example: <code>/debit 12345 5 chargeback</code>"
)


def bad_amount(text: str, why: str) -> str:
    """Refuse an amount, quoting what was typed and saying why (``why`` is plain text)."""
    return _("“{typed}” is not a valid amount: {why}.").format(
        typed=escape(clip(text, QUOTED_SHOWN)), why=escape(why)
    )


def unknown_user(ref: str) -> str:
    """Say no customer matches the reference the admin typed."""
    return _(
        "No customer “{ref}” found: they must start the bot "
        "first, then use their numeric ID or @username."
    ).format(ref=escape(clip(ref, QUOTED_SHOWN)))


def customer(first_name: str, username: str | None, user_id: int) -> str:
    """Name a customer for an admin: name, @username and ID."""
    handle = f" @{escape(clip(username, 40))}" if username else ""
    name = escape(clip(first_name, NAME_SHOWN)) or _("Customer")
    return f"{name}{handle} (<code>{user_id}</code>)"


def credited(who: str, amount: Decimal, new_balance: Decimal, currency: str) -> str:
    """Confirm a credit to the admin."""
    return _("✅ Credited <b>{amount}</b> to {who}.\nTheir balance is now {balance}.").format(
        amount=money(amount, currency), who=who, balance=money(new_balance, currency)
    )


def debited(who: str, amount: Decimal, new_balance: Decimal, currency: str) -> str:
    """Confirm a debit to the admin."""
    return _("✅ Debited <b>{amount}</b> from {who}.\nTheir balance is now {balance}.").format(
        amount=money(amount, currency), who=who, balance=money(new_balance, currency)
    )


def debit_too_large(who: str, amount: Decimal, current: Decimal, currency: str) -> str:
    """Refuse a debit larger than the balance."""
    return _(
        "❌ Cannot debit {amount} from {who}: their balance is only {balance}. "
        "Nothing was changed."
    ).format(amount=money(amount, currency), who=who, balance=money(current, currency))


def you_were_credited(amount: Decimal, reason: str, new_balance: Decimal, currency: str) -> str:
    """Tell a customer money was added to their balance."""
    return _(
        "💰 <b>{amount}</b> was added to your balance ({reason}).\nYour balance: {balance}."
    ).format(
        amount=money(amount, currency),
        reason=escape(clip(reason, REASON_SHOWN)),
        balance=money(new_balance, currency),
    )


def you_were_debited(amount: Decimal, reason: str, new_balance: Decimal, currency: str) -> str:
    """Tell a customer money was taken from their balance."""
    return _(
        "💰 <b>{amount}</b> was deducted from your balance ({reason}).\nYour balance: {balance}."
    ).format(
        amount=money(amount, currency),
        reason=escape(clip(reason, REASON_SHOWN)),
        balance=money(new_balance, currency),
    )


NOT_NOTIFIED = N_("(I could not tell them: they have blocked the bot or never started it.)")
SYNC_STARTED = N_("🔄 Syncing the panels' catalogs…")
SYNC_NO_PANELS = N_("There is no panel configured, so there is nothing to sync.")


def sync_report(reports: Sequence[tuple[str, bool, int, str | None]]) -> str:
    """Report a catalog sync per panel: (panel, ok, services, error)."""
    lines = [_("🔄 <b>Catalog sync finished</b>")]
    for panel, ok, services, error in reports:
        name = escape(clip(panel, NAME_SHOWN))
        if ok:
            lines.append(
                ngettext(
                    "✅ {panel}: {count} service", "✅ {panel}: {count} services", services
                ).format(panel=name, count=i18n.number(services))
            )
        else:
            lines.append(
                _("❌ {panel}: {error} (its last good catalog stays on sale)").format(
                    panel=name, error=escape(clip(error or _("failed"), PANEL_WORDS_SHOWN))
                )
            )
    return fit("\n".join(lines))


# ---------------------------------------------------------------- back office

MAX_TEXT = MAX_MESSAGE
NAME_SHOWN = 80
REASON_SHOWN = 100
QUOTED_SHOWN = 40  # what an admin typed, quoted back in a refusal
PANEL_WORDS_SHOWN = 300  # a panel's error in an admin's report
PANELS_STARTED = N_("🏦 Asking the panels for their balance…")
PANELS_NONE = N_("There is no panel configured.")
USER_USAGE = N_(
    "Usage: <code>/user &lt;user ID or @username&gt;</code>\nExample: <code>/user @ann</code>"
)


def panel_money(amount: Decimal, currency: str) -> str:
    """Show a panel's balance exactly as the panel gave it (at least two decimals)."""
    shown = i18n.number(amount, "#,##0.00############")
    return f"{shown} {escape(currency)}" if currency else shown


def _yes_no(flag: bool) -> str:
    return "✅" if flag else "❌"


def _panel_balance(panel: PanelOverview, currency: str) -> list[str]:
    if panel.balance is None:
        if not panel.balance_offered:
            return [_("💰 Balance: not offered by this panel")]
        error = clip(panel.balance_error or _("failed"), PANEL_WORDS_SHOWN)
        return [_("💰 Balance: ❌ {error}").format(error=escape(error))]
    panel_currency = panel.balance.currency or currency
    lines = [
        _("💰 Balance: <b>{amount}</b>").format(
            amount=panel_money(panel.balance.amount, panel_currency)
        )
    ]
    if panel.low_balance:
        lines.append(
            _(
                "⚠️ <b>Low balance</b>: the last 24 hours of orders cost {spent}; top the panel up."
            ).format(spent=panel_money(panel.spent_last_day, panel_currency))
        )
    return lines


def _panel_catalog(panel: PanelOverview) -> str:
    on_sale = i18n.number(panel.services_on_sale)
    if panel.synced_at is None:
        if panel.services_listed != panel.services_on_sale:
            text = ngettext(
                "📚 Catalog: {count} service on sale ({listed} listed) · never synced",
                "📚 Catalog: {count} services on sale ({listed} listed) · never synced",
                panel.services_on_sale,
            )
        else:
            text = ngettext(
                "📚 Catalog: {count} service on sale · never synced",
                "📚 Catalog: {count} services on sale · never synced",
                panel.services_on_sale,
            )
    elif panel.services_listed != panel.services_on_sale:
        text = ngettext(
            "📚 Catalog: {count} service on sale ({listed} listed) · synced {when}",
            "📚 Catalog: {count} services on sale ({listed} listed) · synced {when}",
            panel.services_on_sale,
        )
    else:
        text = ngettext(
            "📚 Catalog: {count} service on sale · synced {when}",
            "📚 Catalog: {count} services on sale · synced {when}",
            panel.services_on_sale,
        )
    when = "" if panel.synced_at is None else moment(panel.synced_at)
    return text.format(count=on_sale, listed=i18n.number(panel.services_listed), when=when)


def _panel_sync(panel: PanelOverview) -> str:
    # English keeps "failure(s)" in both forms; other languages get their real plural forms.
    failures = i18n.number(panel.failures)
    if panel.backing_off:
        return ngettext(
            "⏸ Status sync: backing off after {count} failure(s) in a row",
            "⏸ Status sync: backing off after {count} failure(s) in a row",
            panel.failures,
        ).format(count=failures)
    if panel.failures:
        return ngettext(
            "⚠️ Status sync: retrying after {count} failure(s) in a row",
            "⚠️ Status sync: retrying after {count} failure(s) in a row",
            panel.failures,
        ).format(count=failures)
    return _("🔄 Status sync: no recent failures")


def panel_block(panel: PanelOverview, currency: str) -> str:
    """Describe one panel for the owner: balance, catalog, orders, status sync, actions."""
    lines = [f"<b>{escape(clip(panel.name, NAME_SHOWN))}</b> · {escape(panel.dialect)}"]
    lines += _panel_balance(panel, currency)
    lines.append(_panel_catalog(panel))
    lines.append(
        _("📦 Orders: {active} active · {held} held for review").format(
            active=i18n.number(panel.active_orders), held=i18n.number(panel.held_orders)
        )
    )
    lines.append(_panel_sync(panel))
    lines.append(
        _("🛠 Refill {refill} · Cancel {cancel} · Drip-feed {dripfeed}").format(
            refill=_yes_no(panel.refill),
            cancel=_yes_no(panel.cancel),
            dripfeed=_yes_no(panel.dripfeed),
        )
    )
    return "\n".join(lines)


def panels_report(panels: Sequence[PanelOverview], currency: str) -> list[str]:
    """The /panels answer, one block per panel, split into messages Telegram accepts."""
    header = _("🏦 <b>Panels</b> ({count})").format(count=i18n.number(len(panels)))
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
    detail = f": {escape(clip(reason, REASON_SHOWN))}" if reason else ""
    by = (
        " · " + _("by admin <code>{admin_id}</code>").format(admin_id=admin_id)
        if admin_id is not None
        else ""
    )
    label = escape(_kind_label(kind))
    return f"{sign}{money(abs(amount), currency)} · {label}{detail}{by} · {moment(when)}"


def customer_report(overview: CustomerOverview, currency: str, payments_block: str = "") -> str:
    """Describe a customer for an admin: who, balance, latest payments and orders."""
    user = overview.user
    lines = [
        f"👤 {customer(user.first_name, user.username, user.user_id)}",
        _("Registered {when}").format(when=moment(user.created_at)),
        _("🚫 Blocked: yes (they blocked the bot)") if user.is_blocked else _("Blocked: no"),
        _("💰 Balance: <b>{amount}</b>").format(amount=money(overview.balance, currency)),
        "",
        _("<b>Latest ledger entries</b>"),
    ]
    if not overview.entries:
        lines.append(_("None yet."))
    for entry in overview.entries:
        lines.append(
            _entry_line(
                entry.amount, entry.kind, entry.reason, entry.admin_id, entry.created_at, currency
            )
        )
    if payments_block:
        lines += ["", payments_block]
    if overview.orders:
        lines += [
            "",
            _("<b>Latest orders</b> ({shown} of {total})").format(
                shown=i18n.number(len(overview.orders)), total=i18n.number(overview.order_count)
            ),
        ]
    else:
        lines += ["", _("<b>Latest orders</b>"), _("None yet.")]
    for order in overview.orders:
        charged = " " + _("(not charged)") if not order.charged else ""
        lines.append(
            f"#{order.order_id} · {escape(clip(order.service_name, NAME_SHOWN))} · "
            f"{escape(notification_texts.status_label(order.status))} · "
            f"{money(order.price, currency)}{charged}"
        )
    return fit("\n".join(lines))


def your_id(user_id: int, *, is_admin: bool, owner_setup: bool) -> str:
    """Tell a user their Telegram ID; explain ``ADMIN_IDS`` only while no admin is set up."""
    text = _("🆔 Your Telegram user ID: <code>{user_id}</code>").format(user_id=user_id)
    if is_admin:
        return text + "\n" + _("You are an administrator of this bot.")
    if owner_setup:
        # No admin is configured yet, so whoever asks is most likely the owner setting up.
        return (
            text
            + "\n\n"
            + _(
                "This bot has no administrator yet. If you own it, put this number in "
                "<code>ADMIN_IDS</code> in its settings (the <code>.env</code> file; several "
                "IDs separated by commas) and restart it: you get the admin commands."
            )
        )
    return (
        text
        + "\n\n"
        + _("Give this number to the shop's administrator when you ask for a top-up.")
    )


# ---------------------------------------------------------------- errors and stale buttons

BUTTON_INVALID = N_("This button is no longer valid. Please use the menu again: /menu")
SOMETHING_WENT_WRONG = N_(
    "😔 Sorry, something went wrong on our side. Please try again in a minute; "
    "if it keeps happening, contact the shop's administrator."
)


def error_for_admin(user: str, what: str, error: str) -> str:
    """Alert an admin about an error a user hit (everything escaped here)."""
    return _(
        "⚠️ <b>Error</b> while handling {what} from {user}:\n"
        "<code>{error}</code>\nDetails are in the log."
    ).format(what=escape(what), user=escape(user), error=escape(error))
