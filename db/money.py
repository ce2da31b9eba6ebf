"""Money: integer minor units in the database, ``Decimal`` in Python.

Rounding happens at documented points only, always ROUND_HALF_UP to the cent:
``to_money`` (parsing user input or computing a share) and the column type on the way in.
Floats are refused everywhere: ``0.1 + 0.2`` must never reach a ledger.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext
from typing import TYPE_CHECKING

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
# Largest amount the office will ever hold in one figure: 10^13 cents (100 billion).
MAX_ABS = Decimal("100000000000.00")


# What a typed amount may look like: ASCII digits, one optional point, an optional sign and
# exponent (Decimal syntax, checked for range below). Decimal() itself also takes Arabic-Indic,
# full-width and other Unicode digits and "1_000"; a ledger must not.
_TEXT_RE = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)


def to_money(value: Decimal | int | str) -> Decimal:
    """Quantize to the cent with ROUND_HALF_UP. Accepts Decimal, int (whole units) or a string.

    Refuses float and bool, NaN and infinities, non-ASCII digits, and amounts beyond ``MAX_ABS``
    (always as ValueError: an absurd exponent never reaches ``quantize``).
    """
    if isinstance(value, bool) or isinstance(value, float):
        raise TypeError(f"money must not be a {type(value).__name__}: {value!r}")
    if isinstance(value, str):
        text = value.strip().replace(",", "")
        if text.startswith("$"):
            text = text[1:]
        if not _TEXT_RE.fullmatch(text):
            raise ValueError(f"not an amount: {value!r}")
        try:
            value = Decimal(text)
        except InvalidOperation as exc:
            raise ValueError(f"not an amount: {value!r}") from exc
    if isinstance(value, int):
        value = Decimal(value)
    if not isinstance(value, Decimal):
        raise TypeError(f"money must be a Decimal, not {type(value).__name__}")
    if not value.is_finite():
        raise ValueError(f"not an amount: {value!r}")
    if value.copy_abs() > MAX_ABS:  # copy_abs: no context, so no Overflow on 1E+999999999
        raise ValueError(f"amount out of range: {value}")
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def cents(value: Decimal) -> int:
    return int(to_money(value) * 100)


def from_cents(value: int) -> Decimal:
    return (Decimal(value) / 100).quantize(CENT)


def fmt_money(value: Decimal, symbol: str = "$") -> str:
    """``-1234.5`` → ``-$1,234.50``: what a person reads on screen and paper.

    A sum may exceed ``MAX_ABS`` (one figure's limit), so this formats any finite Decimal."""
    if isinstance(value, bool | float) or not isinstance(value, Decimal | int):
        raise TypeError(f"money must be a Decimal, not {type(value).__name__}")
    v = Decimal(value)
    if not v.is_finite():
        raise ValueError(f"not an amount: {value!r}")
    with localcontext() as ctx:
        ctx.prec = max(28, v.adjusted() + 4)
        v = v.quantize(CENT, rounding=ROUND_HALF_UP)
    sign = "-" if v < 0 else ""
    return f"{sign}{symbol}{abs(v):,.2f}"


def split_evenly(total: Decimal, count: int) -> list[Decimal]:
    """``count`` parts that sum exactly to ``total``; the remainder goes on the last part."""
    if count < 1:
        raise ValueError("count must be at least 1")
    total_c = cents(total)
    base = total_c // count if total_c >= 0 else -((-total_c) // count)
    parts = [base] * count
    parts[-1] = total_c - base * (count - 1)
    return [from_cents(p) for p in parts]


# The column type lives in db.coltypes so that importing this module (screens format amounts with
# it) does not load SQLAlchemy. Migrations written before the move name ``db.money.Money``, so
# the name still resolves here, loaded on first use.
if TYPE_CHECKING:
    from db.coltypes import Money as Money
else:

    def __getattr__(attr: str) -> object:
        if attr == "Money":
            from db.coltypes import Money

            return Money
        raise AttributeError(f"module {__name__!r} has no attribute {attr!r}")
