"""How prices read: one rounding rule for money, enough digits for small rates."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.texts.amounts import money, rate


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        ("2.37", "2.37"),
        ("2.374999", "2.37"),
        ("2.375", "2.38"),
        ("1234.5", "1,234.50"),
        ("0.9", "0.90"),
        ("0.0123", "0.0123"),
        ("0.012345678", "0.0123"),
        ("0.0045", "0.0045"),
        ("0.456789", "0.457"),
        ("0.99951", "1.00"),
        ("0", "0.00"),
        ("5", "5.00"),
    ],
)
def test_a_rate_shows_cents_from_one_and_three_significant_digits_below(
    amount: str, shown: str
) -> None:
    assert rate(Decimal(amount)) == shown


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        ("0.005", "0.01 USD"),
        ("0.015", "0.02 USD"),
        ("1234.5", "1,234.50 USD"),
        ("-1", "-1.00 USD"),
    ],
)
def test_money_rounds_half_up_to_the_cent(amount: str, shown: str) -> None:
    assert money(Decimal(amount), "USD") == shown


def test_money_escapes_the_currency() -> None:
    assert money(Decimal(1), "<b>") == "1.00 &lt;b&gt;"
