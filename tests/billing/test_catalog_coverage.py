"""Payers, codes and crosswalk (supervisors only); coverage, eligibility and overrides."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
import sqlalchemy as sa

from billing import catalog, coverage
from billing.coverage import EligibilityState
from db.errors import ConflictError, PermissionDenied, ValidationError
from db.models import EligibilityOverride, Payer, PayerCode, ServiceCode
from db.settings import put_setting
from tests.billing.billing_setup import TODAY, World, make_world
from tests.conftest import Office


@pytest.fixture
def world(office: Office) -> World:
    return make_world(office)


def test_clerk_may_not_change_payers_codes_or_crosswalk(world: World) -> None:
    clerk = world.clerk
    attempts = [
        lambda a, s: catalog.add_payer(a, s, name="X Health", kind="insurer"),
        lambda a, s: catalog.edit_payer(a, s, world.acme, terms_days=10),
        lambda a, s: catalog.add_code(a, s, code="A0428", description="Ambulance BLS", fee="350"),
        lambda a, s: catalog.edit_code(a, s, "G0008", fee="1.00"),
        lambda a, s: catalog.set_crosswalk(a, s, world.acme, "T1013", allowed_amount="20"),
        lambda a, s: catalog.remove_crosswalk(a, s, world.acme, "G0008"),
    ]
    for attempt in attempts:
        with pytest.raises(PermissionDenied, match="may not change payers or the code catalog"):
            world.w(clerk, attempt)

    def state(s: sa.orm.Session) -> tuple[int, int, int, int, D]:
        return (
            s.scalar(sa.select(sa.func.count()).select_from(Payer)),
            s.scalar(sa.select(sa.func.count()).select_from(ServiceCode)),
            s.scalar(sa.select(sa.func.count()).select_from(PayerCode)),
            s.scalar(sa.select(Payer.terms_days).where(Payer.id == world.acme)),
            s.scalar(sa.select(ServiceCode.fee).where(ServiceCode.code == "G0008")),
        )

    assert world.db.read(state) == (3, 3, 2, 30, D("50.00"))


def test_supervisor_edits_the_catalog_and_crosswalk(world: World) -> None:
    sup = world.sup
    world.w(sup, lambda a, s: catalog.edit_code(a, s, "g0008", fee="55.5"))
    entry = world.w(sup, lambda a, s: catalog.set_crosswalk(a, s, world.acme, "T1013", allowed_amount="20"))
    assert (entry.code, entry.payer_code, entry.allowed_amount) == ("T1013", "T1013", D("20.00"))
    walk = world.r(sup, lambda a, s: catalog.list_crosswalk(a, s, world.acme))
    assert [(e.code, e.payer_code, e.allowed_amount) for e in walk] == [
        ("E0114", "E0114", D("60.00")),
        ("G0008", "FLU-ADM", D("40.00")),
        ("T1013", "T1013", D("20.00")),
    ]
    payers = world.r(sup, lambda a, s: catalog.list_payers(a, s))
    assert [(p.name, p.kind.value, p.crosswalk_entries) for p in payers] == [
        ("State Medicaid", "government", 0),
        ("Acme Health", "insurer", 3),
        ("Hope Fund", "other", 0),
    ]
    with pytest.raises(ConflictError):
        world.w(sup, lambda a, s: catalog.add_code(a, s, code="G0008", description="again", fee="1"))
    with pytest.raises(ValidationError) as e:
        world.w(sup, lambda a, s: catalog.add_code(a, s, code="bad code!", description="", fee="-1"))
    assert set(e.value.fields) == {"code", "description", "fee"}
    page = world.r(sup, lambda a, s: catalog.list_codes(a, s, prefix="t"))
    assert [c.code for c in page.rows] == ["T1013"]


def test_price_for_uses_allowed_amount_then_fee(world: World) -> None:
    def prices(s: sa.orm.Session) -> list[tuple[str, D, str, bool, bool]]:
        out = []
        for payer, code in (
            (world.acme, "G0008"),
            (world.acme, "T1013"),
            (world.medicaid, "G0008"),
            (None, "E0114"),
        ):
            p = catalog.price_for(s, payer, catalog.get_code_row(s, code))
            out.append((p.code, p.unit_price, p.source, p.mapped, p.payer_requires_mapping))
        return out

    assert world.db.read(prices) == [
        ("FLU-ADM", D("40.00"), "allowed", True, True),
        ("T1013", D("24.00"), "fee", False, True),  # Acme keeps a crosswalk: T1013 must be mapped
        ("G0008", D("50.00"), "fee", False, False),
        ("E0114", D("68.00"), "fee", False, False),
    ]


def test_coverage_terms_are_validated_and_ranks_do_not_overlap(world: World) -> None:
    with pytest.raises(ValidationError) as e:
        world.w(
            world.clerk,
            lambda a, s: coverage.add_coverage(
                a,
                s,
                world.client,
                payer_id=world.medicaid,
                rank="tertiary",
                member_id="",
                effective_from=dt.date(2026, 5, 1),
                effective_to=dt.date(2026, 4, 1),
                coinsurance_percent="120",
                deductible="50",
                deductible_remaining="60",
            ),
        )
    assert set(e.value.fields) == {"rank", "member_id", "effective_to", "coinsurance", "deductible_remaining"}
    with pytest.raises(ConflictError, match="already has a primary coverage"):
        world.cover(world.client, world.medicaid, member_id="X1")
    cov = world.r(world.clerk, lambda a, s: coverage.get_coverage(a, s, world.acme_cov))
    assert (cov.copay, cov.coinsurance_bp, cov.deductible, cov.deductible_remaining, cov.member_id) == (
        D("10.00"),
        2000,
        D("100.00"),
        D("20.00"),
        "W123",
    )
    # Ending the old one makes room for the new primary.
    world.w(
        world.clerk, lambda a, s: coverage.end_coverage(a, s, world.acme_cov, end_date=dt.date(2026, 6, 30))
    )
    world.cover(world.client, world.medicaid, member_id="X1", effective_from=dt.date(2026, 7, 1))


def test_eligibility_fresh_stale_missing_and_not_eligible(office: Office) -> None:
    from tests.billing.billing_setup import make_world

    w = make_world(office)
    status = lambda: w.db.read(lambda s: coverage.eligibility_status(s, w.acme_cov))  # noqa: E731
    assert status().state == EligibilityState.FRESH
    w.w(
        w.clerk,
        lambda a, s: coverage.record_eligibility_check(
            a, s, w.acme_cov, result="eligible", checked_on=TODAY - dt.timedelta(days=31)
        ),
    )
    assert status().state == EligibilityState.FRESH  # the newest check counts, not the last recorded
    bo = w.new_client()
    cov = w.cover(bo, w.medicaid, check=False)
    st = w.db.read(lambda s: coverage.eligibility_status(s, cov))
    assert (st.state, st.ok_to_bill, st.message) == (
        EligibilityState.MISSING,
        False,
        "eligibility has never been checked",
    )
    w.w(
        w.clerk,
        lambda a, s: coverage.record_eligibility_check(
            a, s, cov, result="eligible", checked_on=TODAY - dt.timedelta(days=31)
        ),
    )
    st = w.db.read(lambda s: coverage.eligibility_status(s, cov))
    assert st.state == EligibilityState.STALE
    assert st.message == "eligibility check is stale: last checked 2026-10-16, 31 days ago (limit 30)"
    w.db.write(lambda s: put_setting(s, "billing.eligibility_max_age_days", 45))
    assert w.db.read(lambda s: coverage.eligibility_status(s, cov)).state == EligibilityState.FRESH
    w.w(w.clerk, lambda a, s: coverage.record_eligibility_check(a, s, cov, result="not_eligible"))
    assert w.db.read(lambda s: coverage.eligibility_status(s, cov)).state == EligibilityState.NOT_ELIGIBLE
    with pytest.raises(ValidationError, match="checked_on: is in the future"):
        w.w(
            w.clerk,
            lambda a, s: coverage.record_eligibility_check(
                a, s, cov, result="eligible", checked_on=TODAY + dt.timedelta(days=1)
            ),
        )


def test_override_needs_a_supervisor_and_a_reason(world: World) -> None:
    bo = world.new_client()
    cov = world.cover(bo, world.medicaid, check=False)
    with pytest.raises(PermissionDenied, match="may not override an eligibility check"):
        world.w(
            world.clerk, lambda a, s: coverage.grant_eligibility_override(a, s, cov, reason="portal down")
        )
    with pytest.raises(ValidationError, match="reason"):
        world.w(world.sup, lambda a, s: coverage.grant_eligibility_override(a, s, cov, reason="  "))
    assert world.db.read(lambda s: s.scalar(sa.select(sa.func.count()).select_from(EligibilityOverride))) == 0
    world.w(world.sup, lambda a, s: coverage.grant_eligibility_override(a, s, cov, reason="portal down"))
    st = world.db.read(lambda s: coverage.eligibility_status(s, cov))
    assert (st.state, st.ok_to_bill, st.override_until) == (EligibilityState.MISSING, True, TODAY)
    assert st.message == "eligibility has never been checked; overridden until 2026-11-16 (portal down)"
