"""Contact log: attempts recorded and audited, promises pending / kept / broken / cancelled
computed from the money, the broken-promise query, keyset paging, bad input refused."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from billing import contacts, payments
from billing.contacts import PromiseState
from db import timeutil
from db.errors import NotFound, ValidationError
from db.models import AuditEntry, Client, ContactAttempt, ContactOutcome
from tests.billing.factories_payments import count_rows, make_client, make_invoice
from tests.conftest import Office

D = Decimal
TODAY = dt.date(2026, 11, 16)


@pytest.fixture
def client_id(office: Office) -> int:
    def go(s: Session) -> int:
        c = make_client(s, "A-1001", "Ana", "García")
        s.get(Client, c).owner_id = office.clerk.user_id  # type: ignore[union-attr]
        make_invoice(
            s,
            client_id=c,
            created_by=office.sup.user_id,
            total="300.00",
            issue_date=dt.date(2026, 9, 1),
            due_date=dt.date(2026, 10, 1),
        )
        return c

    return office.db.write(go)


def log(office: Office, cid: int, **kw: object) -> contacts.ContactView:
    args: dict[str, object] = {"channel": "phone", "direction": "outbound", "outcome": "reached"}
    args.update(kw)
    return office.db.write(lambda s: contacts.log_contact(office.clerk, s, client_id=cid, **args))  # type: ignore[arg-type]


def pay(office: Office, cid: int, amount: str, received: dt.date, key: str) -> None:
    office.db.write(
        lambda s: payments.post_payment(
            office.clerk,
            s,
            side="client",
            client_id=cid,
            amount=amount,
            method="cash",
            received_on=received,
            idempotency_key=key,
        )
    )


def test_log_a_call_with_a_promise(office: Office, client_id: int) -> None:
    v = log(
        office,
        client_id,
        notes="Will pay Friday [Smith]",
        promise_amount="100.00",
        promise_date=dt.date(2026, 11, 20),
        outcome="reached",
    )
    assert (v.outcome, v.promise_amount, v.promise_date, v.promise_state, v.notes, v.made_by_login) == (
        ContactOutcome.PROMISE_TO_PAY,
        D("100.00"),
        dt.date(2026, 11, 20),
        PromiseState.PENDING,
        "Will pay Friday [Smith]",
        "cleo",
    )
    entry = office.db.read(
        lambda s: s.scalars(sa.select(AuditEntry).where(AuditEntry.entity == "contact")).one()
    )
    assert entry.action == "log" and '"promise_amount":"100.00"' in entry.after.replace(" ", "")
    page = office.db.read(lambda s: contacts.list_contacts(office.clerk, s, client_id))
    assert [c.id for c in page.rows] == [v.id] and page.next_after is None
    assert office.db.read(lambda s: contacts.open_promise(office.clerk, s, client_id)).id == v.id  # type: ignore[union-attr]


def test_kept_partly_paid_broken(office: Office, client_id: int) -> None:
    v = log(office, client_id, promise_amount="100.00", promise_date=dt.date(2026, 11, 20))
    timeutil.freeze("2026-11-18T15:00:00+00:00")
    pay(office, client_id, "60.00", dt.date(2026, 11, 18), "p1")
    got = office.db.read(lambda s: contacts.get_contact(office.clerk, s, v.id))
    assert (got.promise_state, got.promise_paid) == (PromiseState.PENDING, D("60.00"))
    # the day after the promise date, 60 of 100 paid: broken
    timeutil.freeze("2026-11-21T15:00:00+00:00")
    got = office.db.read(lambda s: contacts.get_contact(office.clerk, s, v.id))
    assert got.promise_state == PromiseState.BROKEN
    page = office.db.read(lambda s: contacts.broken_promises(office.clerk, s, as_of=dt.date(2026, 11, 21)))
    assert [(r.contact_id, r.account_number, r.owner_id, r.promise_amount, r.paid) for r in page.rows] == [
        (v.id, "A-1001", office.clerk.user_id, D("100.00"), D("60.00"))
    ]
    newly = office.db.read(
        lambda s: contacts.broken_promises(office.clerk, s, as_of=dt.date(2026, 11, 21), newly=True)
    )
    assert [r.contact_id for r in newly.rows] == [v.id]
    later = office.db.read(
        lambda s: contacts.broken_promises(office.clerk, s, as_of=dt.date(2026, 11, 22), newly=True)
    )
    assert later.rows == ()
    # not broken on the promise date itself
    on_day = office.db.read(lambda s: contacts.broken_promises(office.clerk, s, as_of=dt.date(2026, 11, 20)))
    assert on_day.rows == ()
    # a 40 received on the 20th but posted late (the 21st) still counts: received by the date
    pay(office, client_id, "40.00", dt.date(2026, 11, 20), "p2")
    got = office.db.read(lambda s: contacts.get_contact(office.clerk, s, v.id))
    assert (got.promise_state, got.promise_paid) == (PromiseState.KEPT, D("100.00"))
    assert (
        office.db.read(lambda s: contacts.broken_promises(office.clerk, s, as_of=dt.date(2026, 11, 21))).rows
        == ()
    )
    rates = office.db.read(lambda s: contacts.promise_kept_rates(office.clerk, s, since=dt.date(2026, 11, 1)))
    assert [(r.login, r.promises, r.kept, r.percent) for r in rates] == [("cleo", 1, 1, 100)]


def test_money_before_the_promise_does_not_keep_it(office: Office, client_id: int) -> None:
    pay(office, client_id, "100.00", TODAY, "before")
    timeutil.freeze("2026-11-16T16:00:00+00:00")
    v = log(office, client_id, promise_amount="50.00", promise_date=dt.date(2026, 11, 17))
    timeutil.freeze("2026-11-18T15:00:00+00:00")
    assert (
        office.db.read(lambda s: contacts.get_contact(office.clerk, s, v.id)).promise_state
        == PromiseState.BROKEN
    )


def test_cancel_a_pending_promise(office: Office, client_id: int) -> None:
    v = log(office, client_id, promise_amount="50.00", promise_date=dt.date(2026, 11, 17))
    with pytest.raises(ValidationError, match="reason: is required"):
        office.db.write(lambda s: contacts.cancel_promise(office.clerk, s, v.id, reason=""))
    got = office.db.write(
        lambda s: contacts.cancel_promise(office.clerk, s, v.id, reason="client disputes the bill")
    )
    assert (got.promise_state, got.cancel_reason) == (PromiseState.CANCELLED, "client disputes the bill")
    timeutil.freeze("2026-11-20T15:00:00+00:00")
    assert (
        office.db.read(lambda s: contacts.broken_promises(office.clerk, s, as_of=dt.date(2026, 11, 20))).rows
        == ()
    )
    with pytest.raises(ValidationError, match="only a pending promise"):
        office.db.write(lambda s: contacts.cancel_promise(office.clerk, s, v.id, reason="again"))
    plain = log(office, client_id)
    with pytest.raises(ValidationError, match="has no promise"):
        office.db.write(lambda s: contacts.cancel_promise(office.clerk, s, plain.id, reason="x"))


def test_keyset_paging_newest_first(office: Office, client_id: int) -> None:
    ids = []
    for minute in range(5):
        timeutil.freeze(f"2026-11-16T15:0{minute}:00+00:00")
        ids.append(log(office, client_id, channel="sms", outcome="sent").id)
    p1 = office.db.read(lambda s: contacts.list_contacts(office.clerk, s, client_id, limit=2))
    p2 = office.db.read(
        lambda s: contacts.list_contacts(office.clerk, s, client_id, limit=2, after=p1.next_after)
    )
    p3 = office.db.read(
        lambda s: contacts.list_contacts(office.clerk, s, client_id, limit=2, after=p2.next_after)
    )
    assert [c.id for c in p1.rows + p2.rows + p3.rows] == ids[::-1]
    assert p3.next_after is None


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"channel": "pigeon"}, "channel: must be one of phone, email, sms, letter, visit"),
        ({"direction": "sideways"}, "direction: must be one of"),
        ({"outcome": "maybe"}, "outcome: must be one of"),
        ({"promise_amount": "100"}, "promise_date: is required with a promise amount"),
        ({"promise_date": dt.date(2026, 11, 20)}, "promise_amount: is required with a promise date"),
        (
            {"promise_amount": "1e309", "promise_date": dt.date(2026, 11, 20)},
            "promise_amount: '1e309' is not an amount",
        ),
        (
            {"promise_amount": "0", "promise_date": dt.date(2026, 11, 20)},
            "promise_amount: must be more than zero",
        ),
        ({"promise_amount": "10", "promise_date": dt.date(2026, 11, 15)}, "promise_date: is in the past"),
        (
            {"promise_amount": "10", "promise_date": dt.date(2028, 1, 1)},
            "promise_date: is more than a year away",
        ),
        ({"outcome": "promise_to_pay"}, "promise_amount: is required for a promise to pay"),
        ({"notes": "x" * 2001}, "notes: is longer than 2000 characters"),
        ({"notes": "bell\x07"}, "notes: has control characters"),
    ],
)
def test_bad_input_changes_nothing(
    office: Office, client_id: int, kw: dict[str, object], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        log(office, client_id, **kw)
    assert count_rows(office.db, ContactAttempt) == 0


def test_unknown_client(office: Office) -> None:
    with pytest.raises(NotFound):
        log(office, 999)


def test_multi_line_notes_are_kept_on_one_line(office: Office, client_id: int) -> None:
    v = log(office, client_id, notes="line one\nline two")
    assert v.notes == "line one line two"
