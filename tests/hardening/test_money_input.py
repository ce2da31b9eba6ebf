"""Money input never crashes (issue 11 §6): huge exponents, values over the money range and
non-ASCII digits are refused with a message; formatting never raises on a finite figure."""

from __future__ import annotations

from decimal import Decimal

import pytest

from billing.payments import parse_amount
from db.errors import ValidationError
from db.money import MAX_ABS, fmt_money, to_money
from tui.widgets.forms import ParseError, parse_money

HOSTILE = [
    "1e309",
    "1e30",
    "-1e30",
    "9" * 40,
    "1E+999999999",
    "100000000000.01",
    "١٢٣",  # Arabic-Indic digits
    "１２３",  # full-width digits
    "12٫50",
    "۱۲۳",  # Extended Arabic-Indic
    "१२३",  # Devanagari
    "NaN",
    "sNaN",
    "Infinity",
    "-inf",
    "0x10",
    "1_000",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_to_money_refuses_with_value_error(text: str) -> None:
    with pytest.raises(ValueError):
        to_money(text)


@pytest.mark.parametrize("value", [Decimal("1e309"), Decimal("-1e30"), Decimal("1e-999999")])
def test_to_money_refuses_absurd_decimals(value: Decimal) -> None:
    if value == Decimal("1e-999999"):
        assert to_money(value) == Decimal("0.00")  # a tiny figure rounds to zero, no crash
        return
    with pytest.raises(ValueError, match="out of range"):
        to_money(value)


@pytest.mark.parametrize("text", HOSTILE)
def test_parse_money_of_the_forms_gives_a_message(text: str) -> None:
    with pytest.raises(ParseError):
        parse_money(text, allow_negative=True)


@pytest.mark.parametrize("text", HOSTILE)
def test_parse_amount_of_payments_gives_a_field_message(text: str) -> None:
    with pytest.raises(ValidationError) as info:
        parse_amount(text)
    assert set(info.value.fields) == {"amount"}


def test_plain_amounts_still_parse() -> None:
    assert to_money("1,234.50") == Decimal("1234.50")
    assert to_money("$12") == Decimal("12.00")
    assert parse_money("100000000000.00") == MAX_ABS
    assert parse_amount("12.34") == Decimal("12.34")


def test_fmt_money_formats_a_sum_beyond_one_figure() -> None:
    # Credit summed over many maximal payments is beyond MAX_ABS: shown, not a crash.
    assert fmt_money(MAX_ABS * 3) == "$300,000,000,000.00"
    assert fmt_money(-MAX_ABS * 3) == "-$300,000,000,000.00"
