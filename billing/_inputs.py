"""Typed-input checks shared by the collections services (amounts, free text, dates)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from billing.payments import _check_amount, _check_text

__all__ = ["check_amount", "check_date", "check_text", "clean_notes"]


def check_amount(value: object, field_name: str, errors: dict[str, str]) -> Decimal | None:
    """An amount more than zero in whole cents ("12.34", "$1,234.50" or a Decimal); None + a
    message in ``errors`` otherwise."""
    return _check_amount(value, field_name, errors)


def check_text(
    value: object, field_name: str, max_len: int, errors: dict[str, str], *, required: bool
) -> str:
    """Stripped one-paragraph text without control characters (newlines are allowed in notes:
    pass them through ``clean_notes`` first)."""
    return _check_text(value, field_name, max_len, errors, required=required)


def clean_notes(value: object) -> object:
    """Notes may have line breaks and tabs: fold them to spaces before the control-character check."""
    if isinstance(value, str):
        return " ".join(value.replace("\r", " ").replace("\n", " ").replace("\t", " ").split(" "))
    return value


def check_date(value: object, field_name: str, errors: dict[str, str]) -> dt.date | None:
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        errors[field_name] = "must be a date (YYYY-MM-DD)"
        return None
    return value
