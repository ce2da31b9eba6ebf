"""Dunning: levels as data, preview with skip reasons, apply once per level however often it
runs, partly paid invoices dunned for the rest, fees booked, resume after a hold, letters."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from billing import dunning, plans
from billing.dunning import SkipReason
from db import timeutil
from db.errors import PermissionDenied, ValidationError
from db.models import (
    Agency,
    AuditEntry,
    DunningEvent,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    Placement,
)
from tests.billing.factories_payments import count_rows, make_client, make_invoice, make_payer
from tests.conftest import Office

D = Decimal
TODAY = dt.date(2026, 11, 16)


def set_levels(office: Office) -> None:
    def go(s: Session) -> None:
        dunning.set_level(
            office.sup,
            s,
            level=1,
            name="First reminder",
            days_overdue=15,
            letter_text="Dear {name}, your account {account} is overdue.",
        )
        dunning.set_level(
            office.sup,
            s,
            level=2,
            name="Second notice",
            days_overdue=45,
            fee="5.00",
            letter_text="Dear {name}, please pay {amount} by {pay_by}.",
        )
        dunning.set_level(
            office.sup,
            s,
            level=3,
            name="Final demand",
            days_overdue=75,
            fee="10.00",
            channel="letter",
            letter_text="Final demand: {amount}.",
        )

    office.db.write(go)


@pytest.fixture
def world(office: Office) -> dict[str, int]:
    set_levels(office)
    sup = office.sup

    def go(s: Session) -> dict[str, int]:
        ids: dict[str, int] = {}
        a = ids["a"] = make_client(
            s,
            "A-1001",
            "Ana",
            "García",
            address_line1="5 Elm St",
            city="Springfield",
            region="MA",
            postal_code="01103",
        )
        ids["s1"] = make_invoice(
            s,
            client_id=a,
            created_by=sup.user_id,
            total="100.00",
            number="S-1",
            issue_date=dt.date(2026, 9, 1),
            due_date=dt.date(2026, 10, 1),
        )
        ids["s2"] = make_invoice(
            s,
            client_id=a,
            created_by=sup.user_id,
            total="200.00",
            paid="80.00",
            status=InvoiceStatus.PARTIALLY_PAID,
            number="S-2",
            issue_date=dt.date(2026, 10, 2),
            due_date=dt.date(2026, 11, 1),
        )
        ids["s3"] = make_invoice(
            s,
            client_id=a,
            created_by=sup.user_id,
            total="30.00",
            number="S-3",
            issue_date=dt.date(2026, 10, 10),
            due_date=dt.date(2026, 11, 10),
        )
        payer = make_payer(s)
        make_invoice(
            s,
            client_id=a,
            created_by=sup.user_id,
            total="500.00",
            payer_id=payer,
            number="P-1",
            issue_date=dt.date(2026, 6, 1),
            due_date=dt.date(2026, 7, 1),
        )
        b = ids["b"] = make_client(s, "A-1002", "Bo", "Tran")
        ids["s4"] = make_invoice(
            s,
            client_id=b,
            created_by=sup.user_id,
            total="60.00",
            number="S-4",
            issue_date=dt.date(2026, 9, 1),
            due_date=dt.date(2026, 10, 1),
            dispute_hold=True,
        )
        c = ids["c"] = make_client(s, "A-1003", "Cy", "Plan")
        ids["s5"] = make_invoice(
            s,
            client_id=c,
            created_by=sup.user_id,
            total="90.00",
            number="S-5",
            issue_date=dt.date(2026, 9, 1),
            due_date=dt.date(2026, 10, 1),
        )
        d = ids["d"] = make_client(s, "A-1004", "Di", "Agency")
        ids["s6"] = make_invoice(
            s,
            client_id=d,
            created_by=sup.user_id,
            total="70.00",
            number="S-6",
            issue_date=dt.date(2026, 9, 1),
            due_date=dt.date(2026, 10, 1),
        )
        ag = Agency(name="Recovery Co", fee_bp=3000)
        s.add(ag)
        s.flush()
        s.add(
            Placement(
                client_id=d,
                agency_id=ag.id,
                placed_on=TODAY,
                fee_bp=3000,
                balance_placed=D("70.00"),
                placed_by=sup.user_id,
            )
        )
        e = ids["e"] = make_client(s, "A-1005", "Ed", "Pause")
        ids["s7"] = make_invoice(
            s,
            client_id=e,
            created_by=sup.user_id,
            total="40.00",
            number="S-7",
            issue_date=dt.date(2026, 9, 1),
            due_date=dt.date(2026, 10, 1),
        )
        s.flush()
        return ids

    ids = office.db.write(go)
    office.db.write(
        lambda s: plans.create_plan(
            office.clerk, s, client_id=ids["c"], count=3, interval="monthly", first_due=dt.date(2026, 12, 1)
        )
    )
    office.db.write(
        lambda s: dunning.pause_dunning(
            office.sup, s, client_id=ids["e"], reason="hardship: lost job", until=dt.date(2026, 12, 31)
        )
    )
    return ids


def rows(preview: dunning.DunningPreview) -> list[tuple[str, int, Decimal, Decimal, str]]:
    return [(r.invoice_number, r.level, r.balance, r.fee, r.why) for r in preview.rows]


def test_preview_levels_fees_and_skip_reasons(office: Office, world: dict[str, int]) -> None:
    before = count_rows(office.db, AuditEntry)
    p = office.db.read(lambda s: dunning.preview_run(office.clerk, s))
    assert p.as_of == TODAY
    assert rows(p) == [
        ("S-1", 2, D("100.00"), D("5.00"), ""),  # 46 days: level 2 straight away
        ("S-2", 1, D("120.00"), D("0.00"), ""),  # 15 days; partly paid: the rest
        ("S-4", 2, D("60.00"), D("0.00"), "invoice on dispute hold"),
        ("S-5", 2, D("90.00"), D("0.00"), "account in a current payment plan"),
        ("S-6", 2, D("70.00"), D("0.00"), "account placed with an agency"),
        ("S-7", 2, D("40.00"), D("0.00"), "dunning paused (until 2026-12-31: hardship: lost job)"),
    ]
    assert [r.skipped for r in p.skipped] == [
        SkipReason.DISPUTED,
        SkipReason.CURRENT_PLAN,
        SkipReason.AGENCY,
        SkipReason.PAUSED,
    ]
    assert p.fees == D("5.00")
    assert count_rows(office.db, DunningEvent) == 0 and count_rows(office.db, AuditEntry) == before


def test_apply_fires_each_level_once_and_books_the_fee(office: Office, world: dict[str, int]) -> None:
    r1 = office.db.write(lambda s: dunning.apply_run(office.sup, s))
    assert [(f.invoice_number, f.level, f.balance_dunned, bool(f.fee_invoice_number)) for f in r1.fired] == [
        ("S-1", 2, D("100.00"), True),
        ("S-2", 1, D("120.00"), False),
    ]
    assert r1.letters == 1 and len(r1.skipped) == 4
    fee = office.db.read(lambda s: s.scalars(sa.select(Invoice).where(Invoice.kind == InvoiceKind.FEE)).one())
    assert (fee.client_id, fee.total, fee.status, fee.issue_date, fee.due_date) == (
        world["a"],
        D("5.00"),
        InvoiceStatus.ISSUED,
        TODAY,
        dt.date(2026, 12, 16),
    )
    # the same run again, and again: nothing new
    r2 = office.db.write(lambda s: dunning.apply_run(office.sup, s))
    r3 = office.db.write(lambda s: dunning.apply_run(office.sup, s))
    assert r2.fired == () and r3.fired == ()
    assert count_rows(office.db, DunningEvent) == 2
    assert (
        office.db.read(lambda s: s.scalar(sa.select(sa.func.count()).where(Invoice.kind == InvoiceKind.FEE)))
        == 1
    )
    assert [
        r.invoice_number for r in office.db.read(lambda s: dunning.preview_run(office.clerk, s)).firing
    ] == []
    runs = office.db.read(lambda s: dunning.list_runs(office.clerk, s))
    assert [(r.id, r.events) for r in runs] == [(r3.run_id, 0), (r2.run_id, 0), (r1.run_id, 2)]
    audit = office.db.read(
        lambda s: s.scalars(sa.select(AuditEntry).where(AuditEntry.entity == "dunning_run")).all()
    )
    assert len(audit) == 3


def test_next_levels_fire_later_and_hold_resumes_where_it_was(office: Office, world: dict[str, int]) -> None:
    office.db.write(lambda s: dunning.apply_run(office.sup, s))
    # the dispute on S-4 is confirmed (hold released): the next run fires its level
    office.db.write(lambda s: setattr(s.get(Invoice, world["s4"]), "dispute_hold", False))
    r = office.db.write(lambda s: dunning.apply_run(office.sup, s))
    assert [(f.invoice_number, f.level) for f in r.fired] == [("S-4", 2)]
    timeutil.freeze("2026-12-16T15:00:00+00:00")
    r = office.db.write(lambda s: dunning.apply_run(office.sup, s))
    # S-1 at 76 days → 3; S-2 at 45 → 2; S-3 at 36 → 1; S-4 at 76 → 3; the fee invoice is never
    # dunned; Cy's plan missed its 12-01 installment (grace 10 days): late, so S-5 is dunned again.
    assert [(f.invoice_number, f.level, f.balance_dunned) for f in r.fired] == [
        ("S-1", 3, D("100.00")),
        ("S-2", 2, D("120.00")),
        ("S-3", 1, D("30.00")),
        ("S-4", 3, D("60.00")),
        ("S-5", 3, D("90.00")),
    ]


def test_as_of_a_past_day_and_not_the_future(office: Office, world: dict[str, int]) -> None:
    p = office.db.read(lambda s: dunning.preview_run(office.clerk, s, as_of=dt.date(2026, 10, 20)))
    # 19 days: level 1 for the Oct 1 items only
    assert [(r.invoice_number, r.level) for r in p.rows] == [
        ("S-1", 1),
        ("S-4", 1),
        ("S-5", 1),
        ("S-6", 1),
        ("S-7", 1),
    ]
    with pytest.raises(ValidationError, match="as_of: is in the future"):
        office.db.read(lambda s: dunning.preview_run(office.clerk, s, as_of=dt.date(2026, 11, 17)))


def test_letters_text_and_pdf(office: Office, world: dict[str, int]) -> None:
    r = office.db.write(lambda s: dunning.apply_run(office.sup, s))
    (doc,) = office.db.read(lambda s: dunning.run_letters(office.clerk, s, r.run_id))
    assert (doc.account_number, doc.level, doc.amount_due, doc.pay_by) == (
        "A-1001",
        2,
        D("225.00"),
        dt.date(2026, 11, 30),
    )
    text = dunning.render_letter_text(doc)
    assert "Dear Ana García, please pay $225.00 by 2026-11-30." in text
    assert "S-1           2026-09-01  2026-10-01         $100.00       $5.00" in text
    assert "S-2           2026-10-02  2026-11-01         $120.00" in text
    assert "Total due" in text and "$225.00" in text
    assert "  - Check payable to the office" in text
    assert "5 Elm St" in text and "Springfield, MA 01103" in text
    pdf = dunning.render_letter_pdf(doc)
    assert pdf.startswith(b"%PDF") and pdf == dunning.render_letter_pdf(doc)


def test_rights(office: Office, world: dict[str, int]) -> None:
    with pytest.raises(PermissionDenied, match="may not run dunning"):
        office.db.write(lambda s: dunning.apply_run(office.clerk, s))
    with pytest.raises(PermissionDenied):
        office.db.write(
            lambda s: dunning.set_level(office.clerk, s, level=4, name="x", days_overdue=200, letter_text="x")
        )
    with pytest.raises(PermissionDenied):
        office.db.write(
            lambda s: dunning.pause_dunning(office.clerk, s, client_id=world["a"], reason="x", until=TODAY)
        )
    assert count_rows(office.db, DunningEvent) == 0


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"level": 4, "days_overdue": 30}, "days_overdue: level 2 is at 45 days"),
        ({"level": 0}, "level: must be 1 to 20"),
        ({"level": "x"}, "level: 'x' is not a whole number"),
        ({"days_overdue": 0}, "days_overdue: must be 1 to 3650"),
        ({"fee": "1e309"}, "fee: '1e309' is not an amount"),
        ({"fee": "-1"}, "fee: may not be negative"),
        ({"name": "  "}, "name: is required"),
        ({"letter_text": ""}, "letter_text: is required"),
        ({"channel": "pigeon"}, "channel: must be one of"),
    ],
)
def test_bad_level_input(office: Office, world: dict[str, int], kw: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"level": 4, "name": "Extra", "days_overdue": 200, "letter_text": "[Smith] pay"}
    args.update(kw)
    with pytest.raises(ValidationError, match=message.replace("(", r"\(")):
        office.db.write(lambda s: dunning.set_level(office.sup, s, **args))  # type: ignore[arg-type]
    assert [lv.level for lv in office.db.read(lambda s: dunning.list_levels(office.clerk, s))] == [1, 2, 3]


def test_retired_level_never_fires_and_edit_is_audited(office: Office, world: dict[str, int]) -> None:
    office.db.write(
        lambda s: dunning.set_level(
            office.sup,
            s,
            level=2,
            name="Second notice",
            days_overdue=45,
            fee="5.00",
            letter_text="x",
            active=False,
        )
    )
    p = office.db.read(lambda s: dunning.preview_run(office.clerk, s))
    assert [(r.invoice_number, r.level) for r in p.firing] == [("S-1", 1), ("S-2", 1)]
    entries = office.db.read(
        lambda s: s.scalars(sa.select(AuditEntry).where(AuditEntry.entity == "dunning_level")).all()
    )
    assert [e.action for e in entries] == ["set", "set", "set", "set"]


def test_ended_pause_no_longer_skips(office: Office, world: dict[str, int]) -> None:
    (pause,) = office.db.read(lambda s: dunning.list_pauses(office.clerk, s, world["e"]))
    office.db.write(lambda s: dunning.end_pause(office.sup, s, pause.id))
    p = office.db.read(lambda s: dunning.preview_run(office.clerk, s))
    assert ("S-7", "") in [(r.invoice_number, r.why) for r in p.rows]
    with pytest.raises(ValidationError, match="until: is in the past"):
        office.db.write(
            lambda s: dunning.pause_dunning(
                office.sup, s, client_id=world["e"], reason="x", until=dt.date(2026, 11, 1)
            )
        )
    with pytest.raises(ValidationError, match="reason: is required"):
        office.db.write(
            lambda s: dunning.pause_dunning(office.sup, s, client_id=world["e"], reason=" ", until=TODAY)
        )


def test_preview_pages_by_key(office: Office, world: dict[str, int]) -> None:
    full = office.db.read(lambda s: dunning.preview_run(office.clerk, s)).rows
    seen: list[dunning.PreviewRow] = []
    after = None
    for _ in range(10):
        page = office.db.read(
            lambda s, after=after: dunning.preview_page(office.clerk, s, after=after, limit=2)
        )
        seen += page.rows
        after = page.next_after
        if after is None:
            break
    assert seen == list(full) and len(seen) == 6
    tran = office.db.read(lambda s: dunning.preview_page(office.clerk, s, filter_text="tran"))
    assert [(r.invoice_number, r.why) for r in tran.rows] == [("S-4", "invoice on dispute hold")]
    assert office.db.read(lambda s: dunning.preview_page(office.clerk, s, filter_text="[%")).rows == ()


@pytest.mark.slow
def test_two_runs_at_once_fire_each_level_once(
    office: Office, world: dict[str, int], db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading
    import time

    from db.engine import Database

    real = dunning._fee_invoice

    def slow(*a: object, **kw: object) -> object:
        time.sleep(0.05)  # widen the window between computing the run and writing its events
        return real(*a, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(dunning, "_fee_invoice", slow)
    barrier = threading.Barrier(2)
    results: list[dunning.RunResult] = []
    errors: list[BaseException] = []

    def worker() -> None:
        db = Database(db_url)
        try:
            barrier.wait()
            results.append(db.write(lambda s: dunning.apply_run(office.sup, s)))
        except BaseException as e:  # asserted below
            errors.append(e)
        finally:
            db.dispose()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert sorted(len(r.fired) for r in results) == [0, 2]
    assert count_rows(office.db, DunningEvent) == 2
    fees = office.db.read(
        lambda s: s.scalar(sa.select(sa.func.count()).where(Invoice.kind == InvoiceKind.FEE))
    )
    assert fees == 1
