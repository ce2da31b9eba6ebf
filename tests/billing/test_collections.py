"""The collections worklist (priority order, keyset paging, filters, placed accounts left out)
and the one collections row per account."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from billing import collections, contacts, disputes, dunning
from db import timeutil
from db.models import Agency, Client, Placement
from tests.billing.factories_payments import make_client, make_invoice
from tests.conftest import Office

D = Decimal
TODAY = dt.date(2026, 11, 16)


@pytest.fixture
def ids(office: Office) -> dict[str, int]:
    sup = office.sup

    def inv(s: Session, c: int, total: str, due: dt.date, number: str) -> int:
        return make_invoice(
            s,
            client_id=c,
            created_by=sup.user_id,
            total=total,
            number=number,
            issue_date=due - dt.timedelta(days=30),
            due_date=due,
        )

    def go(s: Session) -> dict[str, int]:
        out: dict[str, int] = {}
        out["a"] = a = make_client(s, "A-1", "Ana", "Alpha")
        out["a1"] = inv(s, a, "100.00", dt.date(2026, 10, 1), "S-A")
        inv(s, a, "20.00", dt.date(2026, 12, 1), "S-A2")  # not yet due
        out["b"] = b = make_client(s, "A-2", "Bo", "Beta")
        inv(s, b, "300.00", dt.date(2026, 10, 27), "S-B")
        out["c"] = c = make_client(s, "A-3", "Cy", "Gamma")
        inv(s, c, "50.00", dt.date(2026, 11, 6), "S-C")
        out["d"] = d = make_client(s, "A-4", "Di", "Delta")
        inv(s, d, "500.00", dt.date(2026, 1, 1), "S-D")
        ag = Agency(name="Recovery Co", fee_bp=3000)
        s.add(ag)
        s.flush()
        s.add(
            Placement(
                client_id=d,
                agency_id=ag.id,
                placed_on=TODAY,
                fee_bp=3000,
                balance_placed=D("500.00"),
                placed_by=sup.user_id,
            )
        )
        out["e"] = e = make_client(s, "A-5", "Ed", "Epsilon")
        inv(s, e, "80.00", dt.date(2026, 12, 1), "S-E")
        out["f"] = f = make_client(s, "A-6", "Flo", "Alphonse")
        inv(s, f, "40.00", dt.date(2026, 10, 1), "S-F")
        for cid in (a, f):
            s.get(Client, cid).owner_id = office.clerk.user_id  # type: ignore[union-attr]
        return out

    out = office.db.write(go)
    # Cy promised 50 by 11-10 and did not pay: broken
    timeutil.freeze("2026-11-09T15:00:00+00:00")
    office.db.write(
        lambda s: contacts.log_contact(
            office.clerk,
            s,
            client_id=out["c"],
            channel="phone",
            direction="outbound",
            outcome="reached",
            promise_amount="50.00",
            promise_date=dt.date(2026, 11, 10),
        )
    )
    timeutil.freeze("2026-11-16T15:00:00+00:00")
    return out


def test_priority_order_and_paging(office: Office, ids: dict[str, int]) -> None:
    page = office.db.read(lambda s: collections.collections_worklist(office.clerk, s))
    assert [
        (r.account_number, r.past_due, r.balance, r.days_past_due, r.broken_promise) for r in page.rows
    ] == [
        ("A-3", D("50.00"), D("50.00"), 10, True),
        ("A-1", D("100.00"), D("120.00"), 46, False),
        ("A-6", D("40.00"), D("40.00"), 46, False),
        ("A-2", D("300.00"), D("300.00"), 20, False),
    ]
    assert page.next_after is None
    seen: list[str] = []
    after = None
    for _ in range(5):
        p = office.db.read(
            lambda s, after=after: collections.collections_worklist(office.clerk, s, limit=1, after=after)
        )
        seen += [r.account_number for r in p.rows]
        after = p.next_after
        if after is None:
            break
    assert seen == ["A-3", "A-1", "A-6", "A-2"]
    mine = office.db.read(
        lambda s: collections.collections_worklist(office.clerk, s, owner_id=office.clerk.user_id)
    )
    assert [r.account_number for r in mine.rows] == ["A-1", "A-6"]
    alph = office.db.read(lambda s: collections.collections_worklist(office.clerk, s, filter_text="alph"))
    assert [r.account_number for r in alph.rows] == ["A-1", "A-6"]
    assert (
        office.db.read(lambda s: collections.collections_worklist(office.clerk, s, filter_text="[x")).rows
        == ()
    )


def test_collections_row(office: Office, ids: dict[str, int]) -> None:
    office.db.write(
        lambda s: dunning.set_level(
            office.sup, s, level=1, name="Reminder", days_overdue=15, letter_text="Pay"
        )
    )
    office.db.write(lambda s: dunning.apply_run(office.sup, s))
    row = office.db.read(lambda s: collections.collections_row(office.clerk, s, ids["a"]))
    assert (
        row.client.current,
        row.client.d31_60,
        row.client.total,
        row.dunning_level,
        row.dunning_level_name,
        row.next_action,
    ) == (D("20.00"), D("100.00"), D("120.00"), 1, "Reminder", "call: $100.00 past due, oldest 46 days")
    c = office.db.read(lambda s: collections.collections_row(office.clerk, s, ids["c"]))
    assert (c.broken_promises, c.next_action, c.last_contact_outcome) == (
        1,
        "call: a promise to pay was broken",
        "promise_to_pay",
    )
    d = office.db.read(lambda s: collections.collections_row(office.clerk, s, ids["d"]))
    assert (d.agency_name, d.placed_on, d.next_action) == (
        "Recovery Co",
        TODAY,
        "wait for the agency (placed 2026-11-16)",
    )
    office.db.write(
        lambda s: disputes.open_dispute(office.clerk, s, invoice_id=ids["a1"], reason="not_rendered")
    )
    a = office.db.read(lambda s: collections.collections_row(office.clerk, s, ids["a"]))
    assert (a.open_disputes, a.next_action) == (1, "dispute open: waiting for a supervisor")
    listed = office.db.read(lambda s: collections.collections_worklist(office.clerk, s, filter_text="A-1"))
    assert [(r.account_number, r.open_disputes, r.dunning_level) for r in listed.rows] == [("A-1", 1, 1)]
