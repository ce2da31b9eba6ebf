"""A small billing world for the billing tests: payers, codes, a client with coverage.

A test module makes its ``world`` fixture from the shared ``office`` fixture with
``make_world(office)`` (frozen clock: Mon 2026-11-16).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from billing import catalog, clients, coverage, services
from db.engine import Database
from db.rights import Actor
from tests.conftest import Office

T = TypeVar("T")

TODAY = dt.date(2026, 11, 16)
D = Decimal


@dataclass
class World:
    office: Office
    acme: int  # insurer with a crosswalk: FLU-ADM at 40.00 for G0008, E0114 at 60.00
    medicaid: int  # government, no crosswalk (catalog fees)
    charity: int  # other, no crosswalk
    client: int  # Ana García: Acme primary (copay 10, 20 %, deductible 100 of which 20 left)
    acme_cov: int

    @property
    def db(self) -> Database:
        return self.office.db

    @property
    def sup(self) -> Actor:
        return self.office.sup

    @property
    def clerk(self) -> Actor:
        return self.office.clerk

    def w(self, actor: Actor, fn: Callable[[Actor, Session], T]) -> T:
        return self.db.write(lambda s: fn(actor, s))

    def r(self, actor: Actor, fn: Callable[[Actor, Session], T]) -> T:
        return self.db.read(lambda s: fn(actor, s))

    def service(
        self,
        code: str = "G0008",
        units: int = 1,
        day: dt.date = dt.date(2026, 11, 10),
        client: int | None = None,
    ) -> int:
        cid = client if client is not None else self.client
        return self.w(
            self.clerk,
            lambda a, s: services.record_service(a, s, cid, service_date=day, code=code, units=units),
        ).id

    def new_client(self, first: str = "Bo", last: str = "Tran", **kw: Any) -> int:
        data: dict[str, Any] = {
            "date_of_birth": dt.date(1990, 5, 5),
            "address_line1": "9 Oak St",
            "city": "Springfield",
            "region": "MA",
            "postal_code": "01108",
        }
        data.update(kw)
        return self.w(
            self.clerk, lambda a, s: clients.register_client(a, s, first_name=first, last_name=last, **data)
        ).id

    def cover(self, client: int, payer: int, rank: str = "primary", check: bool = True, **kw: Any) -> int:
        kw.setdefault("member_id", f"M{client}{rank[0]}")
        kw.setdefault("effective_from", dt.date(2026, 1, 1))
        cov = self.w(
            self.clerk, lambda a, s: coverage.add_coverage(a, s, client, payer_id=payer, rank=rank, **kw)
        )
        if check:
            self.w(
                self.clerk,
                lambda a, s: coverage.record_eligibility_check(
                    a, s, cov.id, result="eligible", checked_on=TODAY
                ),
            )
        return cov.id


def make_world(office: Office) -> World:
    db = office.db
    sup = office.sup

    def setup(a: Actor, s: Session) -> tuple[int, int, int]:
        acme = catalog.add_payer(
            a, s, name="Acme Health", kind="insurer", terms_days=30, address="1 Main St, Hartford, CT 06101"
        )
        medicaid = catalog.add_payer(a, s, name="State Medicaid", kind="government", terms_days=45)
        charity = catalog.add_payer(a, s, name="Hope Fund", kind="other", terms_days=60)
        catalog.add_code(
            a, s, code="G0008", description="Administration of influenza virus vaccine", fee="50.00"
        )
        catalog.add_code(
            a, s, code="E0114", description="Crutches, underarm, other than wood, pair", fee="68.00"
        )
        catalog.add_code(
            a,
            s,
            code="T1013",
            description="Sign language or oral interpretive services, per 15 minutes",
            fee="24.00",
        )
        catalog.set_crosswalk(a, s, acme.id, "G0008", payer_code="FLU-ADM", allowed_amount="40.00")
        catalog.set_crosswalk(a, s, acme.id, "E0114", allowed_amount="60.00")
        return acme.id, medicaid.id, charity.id

    acme, medicaid, charity = db.write(lambda s: setup(sup, s))
    world = World(office, acme, medicaid, charity, 0, 0)
    world.client = world.new_client(
        "Ana",
        "García",
        date_of_birth=dt.date(1980, 1, 2),
        address_line1="5 Elm St",
        postal_code="01103",
        phone="(413) 555-0142",
    )
    world.acme_cov = world.cover(
        world.client,
        acme,
        member_id="W123",
        copay="10",
        coinsurance_percent="20",
        deductible="100",
        deductible_remaining="20",
    )
    return world
