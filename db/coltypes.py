"""Column types: how money and instants are stored, and refused when they are the wrong kind.

Kept apart from db.money and db.timeutil, which screens import to format and parse values and
which must not load SQLAlchemy.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pendulum
from sqlalchemy import BigInteger, DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from db.money import cents, from_cents


class Money(TypeDecorator[Decimal]):
    """A BigInteger column of cents that takes and gives ``Decimal``; floats are refused."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> int | None:
        if value is None:
            return None
        # Only Decimal: an int is ambiguous (units or cents?) and a float is inexact.
        if not isinstance(value, Decimal):
            raise TypeError(f"Money column refuses {type(value).__name__}: {value!r}")
        return cents(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return from_cents(int(value))


class UTCDateTime(TypeDecorator[pendulum.DateTime]):
    """An instant. Refuses naive datetimes; stores UTC; gives back pendulum in UTC."""

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if not isinstance(value, dt.datetime):
            raise TypeError(f"instant must be a datetime, not {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime refused (which zone?): {value!r}")
        utc = value.astimezone(dt.UTC)
        return dt.datetime(utc.year, utc.month, utc.day, utc.hour, utc.minute, utc.second, utc.microsecond)

    def process_result_value(self, value: Any, dialect: Dialect) -> pendulum.DateTime | None:
        if value is None:
            return None
        if isinstance(value, str):  # SQLite raw text (e.g. from a plain-SQL select)
            value = dt.datetime.fromisoformat(value)
        if not isinstance(value, dt.datetime):
            raise TypeError(f"instant column gave {type(value).__name__}: {value!r}")
        if value.tzinfo is not None:  # a driver that returns aware values (or a typed aggregate)
            return pendulum.instance(value).in_timezone("UTC")
        # Build from a plain datetime: pendulum.instance() ignores tz= for a naive pendulum value.
        plain = dt.datetime(
            value.year,
            value.month,
            value.day,
            value.hour,
            value.minute,
            value.second,
            value.microsecond,
            tzinfo=dt.UTC,
        )
        return pendulum.instance(plain).in_timezone("UTC")
