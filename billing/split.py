"""The split of one service's price between payers and the client (docs/billing.md). Pure functions.

Rules (see docs/billing.md for a worked example):

1. **Price.** ``allowed = units × unit price``, where the unit price is the primary payer's
   allowed amount for the code, or the catalog fee when it has none. Exact: cents × integer.
2. **Primary.** From the allowed amount the client owes, in this order:
   copay (what is still due for the visit, at most the allowed amount), then deductible (what
   remains of it, at most what is left after the copay), then coinsurance: the coinsurance
   percentage of the rest, **rounded to the cent, half up** (the only rounding point). The
   primary payer pays the rest.
3. **Secondary.** It considers the client's share after the primary, capped at its own allowed
   amount for the service (``units × its unit price``): ``base = min(client share, secondary
   allowed)``. It applies its own copay, deductible and coinsurance to ``base`` exactly as in
   rule 2 and pays the rest. The client owes their share after the primary minus what the
   secondary pays.
4. **No coverage.** The client owes ``units × catalog fee``.

Every figure is recorded as an explain step ``(label, amount)``; the steps of a coverage carry
its ``ref`` (the coverage id) so the invoice can later find "the deductible this line used".
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from db.money import CENT, ZERO, fmt_money

BP_PER_WHOLE = Decimal(10000)


@dataclass(frozen=True)
class Step:
    """One line of an explanation. ``key`` is stable (for code), ``label`` is for people."""

    key: str
    label: str
    amount: Decimal
    ref: int | None = None  # coverage id for coverage steps

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "label": self.label, "amount": f"{self.amount:.2f}", "ref": self.ref}

    @classmethod
    def from_json(cls, data: dict[str, Any] | list[Any]) -> Step:
        if isinstance(data, list):  # tolerate a bare (label, amount) pair
            return cls("", str(data[0]), Decimal(str(data[1])))
        return cls(
            str(data.get("key", "")), str(data["label"]), Decimal(str(data["amount"])), data.get("ref")
        )


@dataclass(frozen=True)
class CoverageTerms:
    """What one coverage asks of the client for this service."""

    payer_name: str
    unit_price: Decimal  # the payer's allowed amount per unit (or the catalog fee)
    copay_due: Decimal  # copay still due for this visit
    coinsurance_bp: int  # basis points: 2000 = 20 %
    deductible_remaining: Decimal
    ref: int | None = None  # coverage id, copied onto the steps
    price_source: str = "allowed"  # "allowed" or "fee", for the label


@dataclass(frozen=True)
class CoverageShare:
    """How one coverage treated the amount it considered."""

    base: Decimal  # what it considered (primary: allowed; secondary: capped client share)
    copay: Decimal
    deductible: Decimal
    coinsurance: Decimal
    pays: Decimal

    @property
    def client_part(self) -> Decimal:
        return self.copay + self.deductible + self.coinsurance


@dataclass(frozen=True)
class ServiceSplit:
    charge: Decimal  # the full price: primary allowed amount, or fee × units without coverage
    primary: CoverageShare | None
    secondary: CoverageShare | None
    client: Decimal  # what the client owes in the end
    steps: tuple[Step, ...]

    def steps_json(self) -> list[dict[str, Any]]:
        return [s.to_json() for s in self.steps]


def percent_text(bp: int) -> str:
    """2000 → "20%", 1250 → "12.5%"."""
    pct = (Decimal(bp) / 100).normalize()
    return f"{pct:f}%"


def extend(units: int, unit_price: Decimal) -> Decimal:
    """``units × unit price``, exact in cents."""
    if units < 1:
        raise ValueError("units must be at least 1")
    return (unit_price * units).quantize(CENT)


def coinsurance(amount: Decimal, bp: int) -> Decimal:
    """The client's coinsurance on ``amount``: the rounding point (cent, half up)."""
    if not 0 <= bp <= 10000:
        raise ValueError("coinsurance must be 0 to 10000 basis points")
    return (amount * bp / BP_PER_WHOLE).quantize(CENT, rounding=ROUND_HALF_UP)


def apply_terms(base: Decimal, terms: CoverageTerms, role: str, steps: list[Step]) -> CoverageShare:
    """Copay, then deductible, then coinsurance on the rest; the coverage pays what is left."""
    if base < 0:
        raise ValueError("a base amount cannot be negative")
    ref = terms.ref
    copay = min(max(terms.copay_due, ZERO), base)
    if terms.copay_due > 0:
        steps.append(Step(f"{role}.copay", f"Copay for the visit ({terms.payer_name})", copay, ref))
    deductible = min(max(terms.deductible_remaining, ZERO), base - copay)
    if terms.deductible_remaining > 0:
        steps.append(
            Step(
                f"{role}.deductible",
                f"Deductible ({fmt_money(terms.deductible_remaining)} remained)",
                deductible,
                ref,
            )
        )
    rest = base - copay - deductible
    coins = coinsurance(rest, terms.coinsurance_bp)
    if terms.coinsurance_bp:
        steps.append(
            Step(
                f"{role}.coinsurance",
                f"Coinsurance {percent_text(terms.coinsurance_bp)} of {fmt_money(rest)}",
                coins,
                ref,
            )
        )
    pays = rest - coins
    steps.append(Step(f"{role}.pays", f"{terms.payer_name} pays", pays, ref))
    return CoverageShare(base=base, copay=copay, deductible=deductible, coinsurance=coins, pays=pays)


def split_service(
    units: int,
    fee: Decimal,
    primary: CoverageTerms | None = None,
    secondary: CoverageTerms | None = None,
) -> ServiceSplit:
    """Split one service (``units`` of a code whose catalog fee is ``fee``)."""
    if secondary is not None and primary is None:
        raise ValueError("a secondary coverage needs a primary (pass a lone coverage as primary)")
    steps: list[Step] = []
    if primary is None:
        charge = extend(units, fee)
        steps.append(Step("charge", f"No coverage: {units} × {fmt_money(fee)} (catalog fee)", charge))
        steps.append(Step("client.owes", "Client owes", charge))
        return ServiceSplit(charge, None, None, charge, tuple(steps))

    allowed = extend(units, primary.unit_price)
    source = "allowed" if primary.price_source == "allowed" else "catalog fee"
    steps.append(
        Step(
            "primary.allowed",
            f"{units} × {fmt_money(primary.unit_price)} ({primary.payer_name} {source})",
            allowed,
            primary.ref,
        )
    )
    p = apply_terms(allowed, primary, "primary", steps)
    client = p.client_part
    steps.append(Step("primary.client", f"Client share after {primary.payer_name}", client))

    s: CoverageShare | None = None
    if secondary is not None and client > 0:
        sec_allowed = extend(units, secondary.unit_price)
        base = min(client, sec_allowed)
        source = "allowed" if secondary.price_source == "allowed" else "catalog fee"
        steps.append(
            Step(
                "secondary.allowed",
                f"{units} × {fmt_money(secondary.unit_price)} ({secondary.payer_name} {source})",
                sec_allowed,
                secondary.ref,
            )
        )
        steps.append(
            Step(
                "secondary.base",
                f"{secondary.payer_name} considers the client share, up to its allowed amount",
                base,
                secondary.ref,
            )
        )
        s = apply_terms(base, secondary, "secondary", steps)
        client = client - s.pays
    steps.append(Step("client.owes", "Client owes", client))
    return ServiceSplit(allowed, p, s, client, tuple(steps))


def parse_steps(raw: list[Any] | tuple[Any, ...] | None) -> tuple[Step, ...]:
    """Stored explain JSON → steps."""
    return tuple(r if isinstance(r, Step) else Step.from_json(r) for r in (raw or ()))


def coverage_figure(steps: list[Any] | tuple[Any, ...] | None, what: str, coverage_id: int) -> Decimal:
    """What one coverage took on a line, e.g. ``what="deductible"``: its own step, in either role."""
    keys = {f"primary.{what}", f"secondary.{what}"}
    return sum((s.amount for s in parse_steps(steps) if s.key in keys and s.ref == coverage_id), ZERO)
