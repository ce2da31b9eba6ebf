"""Shared set-up for the billing screen tests: a small billing office built through the services.

(Named ``test_…`` so it sits with the billing screen tests; it holds no tests itself.)

Figures used by the tests (frozen today: Mon 2026-11-16):

* G0439 annual wellness visit, catalog fee 125.00; Bluewater's code BW-0439, allowed 100.00
* G0008 flu vaccine administration, catalog fee 25.00; Bluewater's code BW-0008, allowed 20.00
* Bluewater Health Plan: insurer, 30 days. Statements: 30 days.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from billing import catalog, clients, coverage, services
from db.models import CoverageRank, EligibilityResult, PayerKind
from db.rights import Actor
from db.settings import put_setting
from tests.conftest import Office

TODAY = dt.date(2026, 11, 16)


@dataclass
class Billing:
    bluewater: int
    summit: int
    smith: int  # Smith, John: no coverage yet
    brackets: int  # "[Smith], Alex": hostile-looking name, covered, stale eligibility
    others: list[int]


def make_billing(office: Office) -> Billing:
    """Office settings, payers, codes, crosswalk and a few clients (as the supervisor)."""
    sup = office.sup

    def setup(s: Session) -> dict[str, Any]:
        put_setting(s, "office.name", "Riverside Billing (test)")
        put_setting(s, "office.address", "1 Main Street, Springfield, MA 01103")
        put_setting(s, "office.phone", "(413) 555-0100")
        catalog.add_code(sup, s, code="G0439", description="Annual wellness visit, subsequent", fee="125.00")
        catalog.add_code(
            sup, s, code="G0008", description="Administration of influenza virus vaccine", fee="25.00"
        )
        catalog.add_code(sup, s, code="A0425", description="Ground mileage, per statute mile", fee="9.50")
        bw = catalog.add_payer(
            sup,
            s,
            name="Bluewater Health Plan",
            kind=PayerKind.INSURER,
            terms_days=30,
            address="PO Box 4410, Hartford, CT 06101",
            payer_ref="BW-77",
        )
        sm = catalog.add_payer(sup, s, name="Summit Mutual", kind=PayerKind.INSURER, terms_days=45)
        catalog.set_crosswalk(sup, s, bw.id, "G0439", payer_code="BW-0439", allowed_amount="100.00")
        catalog.set_crosswalk(sup, s, bw.id, "G0008", payer_code="BW-0008", allowed_amount="20.00")
        smith = clients.register_client(
            office.clerk,
            s,
            first_name="John",
            last_name="Smith",
            date_of_birth=dt.date(1980, 2, 3),
            address_line1="12 Elm Street",
            city="Springfield",
            region="MA",
            postal_code="01103",
            phone="413-555-0142",
            email="john.smith@example.org",
        )
        brackets = clients.register_client(
            office.clerk,
            s,
            first_name="Alex",
            last_name="[Smith]",
            date_of_birth=dt.date(1991, 7, 4),
            address_line1="3 Oak Road",
            city="Springfield",
            region="MA",
            postal_code="01104",
            phone="413-555-0199",
        )
        cov = coverage.add_coverage(
            office.clerk,
            s,
            brackets.id,
            payer_id=bw.id,
            rank=CoverageRank.PRIMARY,
            member_id="BW900",
            effective_from=dt.date(2026, 1, 1),
            copay="10.00",
            coinsurance_percent="20",
            deductible="500.00",
            deductible_remaining="0.00",
        )
        coverage.record_eligibility_check(
            office.clerk, s, cov.id, result=EligibilityResult.ELIGIBLE, checked_on=dt.date(2026, 9, 1)
        )
        others = [
            clients.register_client(
                office.clerk,
                s,
                first_name=first,
                last_name=last,
                date_of_birth=dt.date(1970 + n, 1, 1 + n),
                phone=f"508-555-01{n:02d}",
            ).id
            for n, (last, first) in enumerate(
                [("Adams", "Donna"), ("Baker", "Tom"), ("Nguyen", "Linh"), ("Smithers", "Wayne")]
            )
        ]
        return {"bw": bw.id, "sm": sm.id, "smith": smith.id, "brackets": brackets.id, "others": others}

    ids = office.db.write(setup)
    return Billing(ids["bw"], ids["sm"], ids["smith"], ids["brackets"], ids["others"])


def add_services(office: Office, actor: Actor, client_id: int, *items: tuple[str, int]) -> list[int]:
    def go(s: Session) -> list[int]:
        return [
            services.record_service(actor, s, client_id, service_date=TODAY, code=code, units=units).id
            for code, units in items
        ]

    return office.db.write(go)


def money(text: str) -> Decimal:
    return Decimal(text)
