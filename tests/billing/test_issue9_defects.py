"""Defects of the invoice work fixed with issue 9 (each test failed before its fix)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from billing import clients, invoices
from billing.invoices import IssueRefused
from db.models import InvoiceStatus
from tests.billing.billing_setup import World, make_world
from tests.billing.factories_payments import make_invoice, make_payer
from tests.conftest import Office

D = Decimal


@pytest.fixture
def world(office: Office) -> World:
    return make_world(office)


def refused(w: World, invoice_id: int) -> list[str]:
    with pytest.raises(IssueRefused) as e:
        w.w(w.clerk, lambda a, s: invoices.issue_invoice(a, s, invoice_id))
    return [p.message for p in e.value.problems]


def test_same_service_same_day_twice_on_one_invoice_names_both_lines(world: World) -> None:
    w = world
    bo = w.new_client()
    first = w.service("E0114", client=bo)
    second = w.service("E0114", client=bo)  # the same crutches entered twice
    (stmt,) = w.w(w.clerk, lambda a, s: invoices.build_invoices(a, s, bo)).drafts
    assert refused(w, stmt.id) == [
        f"line 2 (E0114, 2026-11-10): same code on the same day as line 1 (services #{first} and #{second}); "
        "if it was given twice record it once with 2 units, else void the duplicate"
    ]


def test_same_service_same_day_on_an_earlier_invoice(world: World) -> None:
    w = world
    bo = w.new_client()
    first = w.service("E0114", client=bo)
    (one,) = w.w(w.clerk, lambda a, s: invoices.build_invoices(a, s, bo)).drafts
    done = w.w(w.clerk, lambda a, s: invoices.issue_invoice(a, s, one.id))
    second = w.service("E0114", client=bo)
    (two,) = w.w(w.clerk, lambda a, s: invoices.build_invoices(a, s, bo)).drafts
    assert refused(w, two.id) == [
        f"line 1 (E0114, 2026-11-10): same code on the same day as {done.number} line 1 (services #{second} "
        f"and #{first}); if it was given twice record it once with 2 units, else void the duplicate"
    ]


def test_other_days_and_codes_pass(world: World) -> None:
    w = world
    bo = w.new_client()
    w.service("E0114", client=bo)
    w.service("E0114", client=bo, day=dt.date(2026, 11, 11))
    w.service("T1013", client=bo)
    (stmt,) = w.w(w.clerk, lambda a, s: invoices.build_invoices(a, s, bo)).drafts
    assert w.w(w.clerk, lambda a, s: invoices.issue_invoice(a, s, stmt.id)).status == InvoiceStatus.ISSUED


def test_zero_payer_invoice_is_not_an_open_bill_in_the_header(office: Office) -> None:
    def go(s: Session) -> int:
        c = clients.register_client(office.clerk, s, first_name="Zed", last_name="Zero").id
        payer = make_payer(s, "Zero Payer")
        make_invoice(
            s,
            client_id=c,
            created_by=office.sup.user_id,
            total="0.00",
            payer_id=payer,
            issue_date=dt.date(2026, 11, 1),
        )
        make_invoice(
            s, client_id=c, created_by=office.sup.user_id, total="12.00", issue_date=dt.date(2026, 11, 1)
        )
        return c

    cid = office.db.write(go)
    head = office.db.read(lambda s: clients.account_summary(office.clerk, s, cid))
    assert (head.open_invoices, head.balance, head.payer_balance) == (1, D("12.00"), D("0.00"))
