"""The input rules and the length helpers on their own: what passes, what is refused."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot import input_rules as rules
from bot.texts.fit import MAX_MESSAGE, clip, fit, utf16_len, visible_length


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("1001", 1001),
        (str(rules.MAX_USER_ID), rules.MAX_USER_ID),
        ("@ann", "ann"),
        ("ann_2", "ann_2"),
        ("https://t.me/ann", "ann"),
    ],
)
def test_user_references_that_are_read(typed: str, read: int | str) -> None:
    assert rules.user_ref(typed) == read


@pytest.mark.parametrize(
    "typed",
    ["0", str(rules.MAX_USER_ID + 1), "9" * 40, "-5", "--5", "+5", "²", "١", "@", "@1ann", "a b"],
)
def test_user_references_that_are_refused(typed: str) -> None:
    with pytest.raises(rules.InputError):
        rules.user_ref(typed)


@pytest.mark.parametrize(
    ("typed", "read"),
    [("10", Decimal(10)), ("2.5", Decimal("2.5")), ("0,01", Decimal("0.01"))],
)
def test_amounts_that_are_read(typed: str, read: Decimal) -> None:
    assert rules.amount(typed) == read


@pytest.mark.parametrize(
    "typed", ["0", "0.00", "-1", "+1", "1.234", "1e3", "NaN", "inf", "١", "1000000.01", ""]
)
def test_amounts_that_are_refused(typed: str) -> None:
    with pytest.raises(rules.InputError):
        rules.amount(typed)


@pytest.mark.parametrize(
    "typed",
    [
        "https://example.com",
        "http://sub.example.co.uk:8080/p?q=1#x",
        "https://xn--80ak6aa92e.com/",
    ],
)
def test_links_that_are_read(typed: str) -> None:
    assert rules.link(typed) == typed


@pytest.mark.parametrize(
    "typed",
    [
        "example.com/p",
        "ftp://example.com",
        "https://example",
        "https://.com",
        "https://example.com:port/",
        "https://user:pass@example.com/",
        "https://example.com/a b",
        "https://example.com/" + "a" * 1000,
    ],
)
def test_links_that_are_refused(typed: str) -> None:
    with pytest.raises(rules.InputError):
        rules.link(typed)


def test_control_characters_are_named_and_marks_of_rtl_writing_pass() -> None:
    with pytest.raises(rules.InputError, match=r"U\+202E RIGHT-TO-LEFT OVERRIDE"):
        rules.check_text("a\u202eb", "the comment", max_length=10)
    with pytest.raises(rules.InputError, match=r"U\+0009 TAB"):
        rules.check_text("a\tb", "the comment", max_length=10)
    with pytest.raises(rules.InputError, match="on one line"):
        rules.check_text("a\nb", "the comment", max_length=10)
    assert rules.check_text("a\nb", "the comments", max_length=10, multiline=True) == "a\nb"
    assert rules.check_text("שלום\u200f!", "the comment", max_length=10) == "שלום\u200f!"


def test_lengths_are_counted_and_cut_in_utf16_units() -> None:
    assert utf16_len("a😀é") == 4
    assert clip("😀" * 10, 5) == "😀😀…"
    assert utf16_len(clip("😀" * 10, 5)) == 5
    assert clip("short", 5) == "short"
    assert visible_length("<b>a &amp; b</b>") == 5


def test_fit_drops_whole_lines_and_never_leaves_a_tag_open() -> None:
    lines = [f"<b>line {i}</b> " + "x" * 90 for i in range(100)]
    fitted = fit("\n".join(lines))
    assert visible_length(fitted) <= MAX_MESSAGE
    assert fitted.endswith("\n…")
    assert fitted.count("<b>") == fitted.count("</b>")
