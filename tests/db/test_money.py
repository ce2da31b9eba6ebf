"""Money: Decimal in Python, integer cents in the database, floats refused."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from db.engine import Database
from db.models import ServiceCode
from db.money import MAX_ABS, Money, cents, fmt_money, from_cents, split_evenly, to_money
from tests.db.helpers import scratch_table

D = Decimal


# --------------------------------------------------------------------------- the column type


@pytest.mark.parametrize("value", [1.5, 0.1, 2, 0, True, False, "12.50", "abc"])
def test_money_column_refuses_non_decimal(value: object) -> None:
    with pytest.raises(TypeError, match="Money column refuses"):
        Money().process_bind_param(value, sa.engine.default.DefaultDialect())


@pytest.mark.parametrize("value", [1.5, 2, True, "12.50"])
def test_money_column_refuses_non_decimal_through_the_orm(db: Database, value: object) -> None:
    def go(s: sa.orm.Session) -> None:
        s.add(ServiceCode(code="X1", description="x", fee=value))
        s.flush()

    with pytest.raises(sa.exc.StatementError) as info:
        db.write(go)
    assert isinstance(info.value.orig, TypeError)
    assert db.read(lambda s: s.scalar(sa.select(sa.func.count()).select_from(ServiceCode))) == 0


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        (D("1234.56"), 123456),
        (D("0.01"), 1),
        (D("-7.10"), -710),
        (D("0"), 0),
        (D("99999999999.99"), 9999999999999),
        (D("0.005"), 1),  # the column rounds half up on the way in
        (D("2.675"), 268),
    ],
)
def test_money_round_trips_as_integer_cents(db: Database, value: Decimal, stored: int) -> None:
    with scratch_table(db) as t:
        db.write(lambda s: s.execute(t.insert().values(id=1, amount=value)))
        raw = db.read(lambda s: s.execute(sa.text(f"SELECT amount FROM {t.name}")).scalar_one())
        back = db.read(lambda s: s.execute(sa.select(t.c.amount)).scalar_one())
    assert raw == stored
    assert isinstance(raw, int)
    assert isinstance(back, Decimal)
    assert back == to_money(value)
    assert str(back) == str(to_money(value))  # always two places: "0.00", not "0"


def test_service_code_fee_round_trips(db: Database) -> None:
    db.write(lambda s: s.add(ServiceCode(code="X1", description="x", fee=D("1234.56"))))
    assert db.read(lambda s: s.scalars(sa.select(ServiceCode.fee)).one()) == D("1234.56")


def test_money_column_keeps_null() -> None:
    dialect = sa.engine.default.DefaultDialect()
    assert Money().process_bind_param(None, dialect) is None
    assert Money().process_result_value(None, dialect) is None


def test_money_column_refuses_amount_out_of_range() -> None:
    with pytest.raises(ValueError, match="out of range"):
        Money().process_bind_param(D("100000000000.01"), sa.engine.default.DefaultDialect())


# --------------------------------------------------------------------------- to_money


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (D("0.005"), "0.01"),
        (D("-0.005"), "-0.01"),
        (D("2.675"), "2.68"),  # a float 2.675 would be 2.67499… and round down
        (D("2.665"), "2.67"),
        (D("0.004999"), "0.00"),
        (D("-2.675"), "-2.68"),
        (D("10"), "10.00"),
        (7, "7.00"),
        (-3, "-3.00"),
        ("12.345", "12.35"),
        (" $1,234.565 ", "1234.57"),
        ("-0.015", "-0.02"),
        (MAX_ABS, "100000000000.00"),
    ],
)
def test_to_money_rounds_half_up(value: Decimal | int | str, expected: str) -> None:
    got = to_money(value)
    assert isinstance(got, Decimal)
    assert str(got) == expected


@pytest.mark.parametrize("value", [0.1, 2.675, 1.0, True, False, None, [1], object()])
def test_to_money_refuses_floats_bools_and_other_types(value: object) -> None:
    with pytest.raises(TypeError):
        to_money(value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "value",
    [D("NaN"), D("sNaN"), D("Infinity"), D("-Infinity"), "nan", "inf", "abc", "", "1.2.3", "$"],
)
def test_to_money_refuses_nan_infinity_and_garbage(value: object) -> None:
    with pytest.raises(ValueError):
        to_money(value)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [D("100000000000.01"), D("-100000000000.01"), D("1e20"), 10**15, "1e13"])
def test_to_money_refuses_huge_amounts(value: object) -> None:
    with pytest.raises(ValueError, match="out of range"):
        to_money(value)  # type: ignore[arg-type]


def test_cents_and_back() -> None:
    assert cents(D("12.34")) == 1234
    assert cents(D("-0.005")) == -1
    assert from_cents(1234) == D("12.34")
    assert str(from_cents(-5)) == "-0.05"
    assert str(from_cents(0)) == "0.00"


# --------------------------------------------------------------------------- split_evenly


@pytest.mark.parametrize(
    ("total", "count", "parts"),
    [
        ("1000.00", 3, ["333.33", "333.33", "333.34"]),
        ("-1000.00", 3, ["-333.33", "-333.33", "-333.34"]),
        ("100.00", 4, ["25.00", "25.00", "25.00", "25.00"]),
        ("0.02", 3, ["0.00", "0.00", "0.02"]),
        ("-0.02", 3, ["0.00", "0.00", "-0.02"]),
        ("10.00", 1, ["10.00"]),
        ("0.00", 2, ["0.00", "0.00"]),
        ("1.00", 6, ["0.16", "0.16", "0.16", "0.16", "0.16", "0.20"]),
    ],
)
def test_split_evenly_puts_the_remainder_on_the_last_part(total: str, count: int, parts: list[str]) -> None:
    got = split_evenly(D(total), count)
    assert [str(p) for p in got] == parts
    assert sum(got, D("0.00")) == D(total)


def test_split_evenly_always_sums_exactly() -> None:
    for total_cents in range(-2000, 2001, 37):
        total = from_cents(total_cents)
        for count in range(1, 13):
            parts = split_evenly(total, count)
            assert len(parts) == count
            assert sum(parts, D("0.00")) == total
            # all but the last are equal; the last differs by less than `count` cents
            assert len(set(parts[:-1])) <= 1
            assert abs(cents(parts[-1]) - cents(parts[0])) < count


@pytest.mark.parametrize("count", [0, -1])
def test_split_evenly_refuses_no_parts(count: int) -> None:
    with pytest.raises(ValueError):
        split_evenly(D("10.00"), count)


def test_split_evenly_refuses_float() -> None:
    with pytest.raises(TypeError):
        split_evenly(10.0, 2)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- fmt_money


@pytest.mark.parametrize(
    ("value", "symbol", "text"),
    [
        (D("-1234.5"), "$", "-$1,234.50"),
        (D("0"), "$", "$0.00"),
        (D("1234567.891"), "$", "$1,234,567.89"),
        (D("0.005"), "$", "$0.01"),
        (D("-0.004"), "$", "$0.00"),  # rounds to zero: no "-$0.00"
        (D("999.999"), "€", "€1,000.00"),
        (D("5"), "", "5.00"),
    ],
)
def test_fmt_money(value: Decimal, symbol: str, text: str) -> None:
    assert fmt_money(value, symbol) == text


def test_fmt_money_refuses_float() -> None:
    with pytest.raises(TypeError):
        fmt_money(1.5)  # type: ignore[arg-type]
