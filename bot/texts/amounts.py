"""How amounts read on every screen: one rounding rule for money and for rates.

Display only: what is charged is quantized once, in ``bot.services``, and is already whole
cents, so showing it never rounds it. Rates (per 1000 units or per package) can be fractions
of a cent; they keep enough digits to be told apart. Both are written the way the reader's
language writes numbers (``bot.i18n``), always rounding half up.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from html import escape

from bot import i18n

CENT = Decimal("0.01")
# A rate below 1 shows this many significant digits (0.0123, 0.456); from 1 up, cents.
RATE_SIGNIFICANT_DIGITS = 3


def money(amount: Decimal, currency: str) -> str:
    """Show an amount of money to the cent (half up) with its currency, HTML-escaped."""
    return escape(i18n.money(amount, currency))


def rate(amount: Decimal) -> str:
    """Show a rate: two decimals from 1 up (2.37), three significant digits below (0.0123).

    Never fewer than two decimals (0.9 → 0.90) and no trailing zeros past them.
    """
    places = 2
    if amount and abs(amount) < 1:
        places = max(places, RATE_SIGNIFICANT_DIGITS - amount.adjusted() - 1)
    shown = amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return i18n.number(shown, "#,##0.00" + "#" * (places - 2))
