"""The split of a service between payers and the client: exact figures, rounding, explain steps."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from billing.split import CoverageTerms, Step, coinsurance, coverage_figure, percent_text, split_service


def terms(
    name: str = "Acme", price: str = "40.00", copay: str = "0", bp: int = 0, ded: str = "0", ref: int = 1
) -> CoverageTerms:
    return CoverageTerms(name, D(price), D(copay), bp, D(ded), ref=ref)


def test_copay_only() -> None:
    r = split_service(1, D("50.00"), terms(copay="10.00"))
    assert r.charge == D("40.00")
    assert r.primary is not None
    assert (r.primary.copay, r.primary.deductible, r.primary.coinsurance) == (D("10.00"), D("0"), D("0.00"))
    assert r.primary.pays == D("30.00")
    assert r.client == D("10.00")
    assert r.secondary is None


def test_deductible_partly_met_then_coinsurance() -> None:
    # 2 × 40.00 = 80.00; 20.00 of the deductible left; 20 % of the remaining 60.00 = 12.00.
    r = split_service(2, D("50.00"), terms(bp=2000, ded="20.00"))
    assert r.primary is not None
    assert r.primary.deductible == D("20.00")
    assert r.primary.coinsurance == D("12.00")
    assert r.primary.pays == D("48.00")
    assert r.client == D("32.00")
    assert [(s.key, s.label, s.amount) for s in r.steps] == [
        ("primary.allowed", "2 × $40.00 (Acme allowed)", D("80.00")),
        ("primary.deductible", "Deductible ($20.00 remained)", D("20.00")),
        ("primary.coinsurance", "Coinsurance 20% of $60.00", D("12.00")),
        ("primary.pays", "Acme pays", D("48.00")),
        ("primary.client", "Client share after Acme", D("32.00")),
        ("client.owes", "Client owes", D("32.00")),
    ]


def test_copay_then_deductible_then_coinsurance_in_that_order() -> None:
    # 80.00: copay 10.00, deductible 20.00 (of 20.00), 20 % of 50.00 = 10.00; payer 40.00.
    r = split_service(2, D("50.00"), terms(copay="10.00", bp=2000, ded="20.00"))
    assert r.primary is not None
    assert (r.primary.copay, r.primary.deductible, r.primary.coinsurance, r.primary.pays) == (
        D("10.00"),
        D("20.00"),
        D("10.00"),
        D("40.00"),
    )
    assert r.client == D("40.00")


def test_deductible_larger_than_the_allowed_amount_takes_it_all() -> None:
    r = split_service(1, D("50.00"), terms(copay="10.00", bp=2000, ded="500.00"))
    assert r.primary is not None
    assert (r.primary.copay, r.primary.deductible, r.primary.coinsurance, r.primary.pays) == (
        D("10.00"),
        D("30.00"),
        D("0.00"),
        D("0.00"),
    )
    assert r.client == D("40.00")


def test_copay_larger_than_the_allowed_amount() -> None:
    r = split_service(1, D("5.00"), terms(price="5.00", copay="10.00"))
    assert r.primary is not None
    assert r.primary.copay == D("5.00")
    assert r.primary.pays == D("0.00")
    assert r.client == D("5.00")


def test_coinsurance_rounds_half_up_at_the_cent() -> None:
    assert coinsurance(D("0.10"), 500) == D("0.01")  # 0.005 → 0.01 (half-even would give 0.00)
    assert coinsurance(D("33.33"), 1500) == D("5.00")  # 4.9995
    assert coinsurance(D("10.01"), 2500) == D("2.50")  # 2.5025
    r = split_service(1, D("50.00"), terms(price="33.33", bp=1500))
    assert r.primary is not None
    assert (r.primary.coinsurance, r.primary.pays) == (D("5.00"), D("28.33"))
    assert r.primary.pays + r.client == r.charge  # nothing lost to rounding


def test_secondary_pays_the_client_share_up_to_its_allowed_minus_its_own_terms() -> None:
    # Primary: 80.00 → client 40.00 (copay 10, deductible 20, coinsurance 10), payer 40.00.
    # Secondary allows 2 × 15.00 = 30.00, so it considers 30.00: its copay 5.00, then 10 % of
    # 25.00 = 2.50; it pays 22.50. The client owes 40.00 − 22.50 = 17.50.
    primary = terms(copay="10.00", bp=2000, ded="20.00", ref=1)
    secondary = terms(name="Medicaid", price="15.00", copay="5.00", bp=1000, ref=2)
    r = split_service(2, D("50.00"), primary, secondary)
    assert r.primary is not None and r.secondary is not None
    assert r.primary.pays == D("40.00")
    assert r.secondary.base == D("30.00")
    assert (r.secondary.copay, r.secondary.deductible, r.secondary.coinsurance) == (
        D("5.00"),
        D("0"),
        D("2.50"),
    )
    assert r.secondary.pays == D("22.50")
    assert r.client == D("17.50")
    assert r.primary.pays + r.secondary.pays + r.client == r.charge
    assert coverage_figure(r.steps_json(), "copay", 2) == D("5.00")
    assert coverage_figure(r.steps_json(), "copay", 1) == D("10.00")


def test_secondary_with_its_own_deductible_and_nothing_left_after_primary() -> None:
    secondary = terms(name="Medicaid", price="50.00", ded="15.00", ref=2)
    r = split_service(1, D("50.00"), terms(price="40.00", copay="25.00", ref=1), secondary)
    assert r.secondary is not None
    assert (r.secondary.base, r.secondary.deductible, r.secondary.pays) == (
        D("25.00"),
        D("15.00"),
        D("10.00"),
    )
    assert r.client == D("15.00")
    # Primary pays everything: the secondary is not involved at all.
    r2 = split_service(1, D("50.00"), terms(), secondary)
    assert r2.secondary is None and r2.client == D("0.00")


def test_no_coverage_bills_the_catalog_fee() -> None:
    r = split_service(3, D("24.00"))
    assert r.charge == D("72.00")
    assert r.client == D("72.00")
    assert [(s.label, s.amount) for s in r.steps] == [
        ("No coverage: 3 × $24.00 (catalog fee)", D("72.00")),
        ("Client owes", D("72.00")),
    ]


def test_steps_round_trip_through_json() -> None:
    r = split_service(1, D("50.00"), terms(copay="10.00"))
    again = tuple(Step.from_json(j) for j in r.steps_json())
    assert again == r.steps


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError):
        split_service(0, D("1.00"))
    with pytest.raises(ValueError):
        split_service(1, D("1.00"), None, terms())
    with pytest.raises(ValueError):
        coinsurance(D("1.00"), 10001)


def test_percent_text() -> None:
    assert percent_text(2000) == "20%"
    assert percent_text(1250) == "12.5%"
    assert percent_text(5) == "0.05%"
