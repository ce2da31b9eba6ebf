"""Dashboard and my-day figures from real shifts, clock events and approvals."""

from __future__ import annotations

import datetime as dt

from db import timeutil
from reports.dashboard import dashboard, my_day
from scheduling import clock, shifts, timeoff
from tests.conftest import Office

MONDAY = dt.date(2026, 11, 16)  # the frozen clock: Mon 16 Nov 2026 10:00 New York


def _roster(office: Office) -> None:
    def go(a, s) -> None:  # type: ignore[no-untyped-def]
        shifts.add_shift_type(a, s, code="E", name="Early", start_time=dt.time(7), minutes=480)
        shifts.add_shift_type(a, s, code="M", name="Mid", start_time=dt.time(9), minutes=480)
        shifts.set_cell(a, s, "cleo", MONDAY, "E", expected_version=None)
        shifts.set_cell(a, s, "carl", MONDAY, "M", expected_version=None)
        shifts.set_cell(a, s, "cora", MONDAY, "M", expected_version=None)
        shifts.publish(a, s, MONDAY, MONDAY)

    office.db.write(lambda s: go(office.sup, s))


def _punch_at(office: Office, who: str, iso: str) -> None:
    actor = getattr(office, who)
    timeutil.freeze(iso)
    try:
        office.db.write(lambda s: clock.clock_in(actor, s))
    finally:
        timeutil.freeze("2026-11-16T15:00:00+00:00")


def test_on_shift_lateness_and_pending(office: Office) -> None:
    _roster(office)
    _punch_at(office, "clerk", "2026-11-16T12:03:00+00:00")  # 07:03, within the 5 min grace
    _punch_at(office, "clerk2", "2026-11-16T14:12:00+00:00")  # 09:12: 12 min late
    # cora never clocks in: at 10:00 she is 60 min late for 09:00
    office.db.write(
        lambda s: timeoff.request_time_off(
            office.clerk, s, dt.date(2026, 12, 1), dt.date(2026, 12, 2), "wedding"
        )
    )
    d = office.db.read(lambda s: dashboard(office.sup, s))
    by = {p.login: p for p in d.on_shift}
    assert [p.login for p in d.on_shift] == ["cleo", "carl", "cora"]  # by start time, then name
    assert (by["cleo"].clocked_in_at, by["cleo"].late_minutes) == ("07:03", 0)
    assert (by["carl"].clocked_in_at, by["carl"].late_minutes) == ("09:12", 12)
    # Not "late 60 min": she has not clocked in while her shift runs.
    assert (by["cora"].clocked_in_at, by["cora"].late_minutes) == (None, 0)
    assert by["cora"].state == "not clocked in (shift began 09:00)" and by["cora"].not_in
    assert by["carl"].state == "in since 09:12, late 12 min" and by["carl"].on_now
    assert by["cleo"].state == "in since 07:03" and not by["cleo"].not_in
    assert [p.login for p in d.late_arrivals] == ["carl"]
    assert [p.login for p in d.not_clocked_in] == ["cora"]
    assert d.time_off_pending == 1 and d.pending_approvals == 1
    assert [(i.kind, i.who, i.what) for i in d.inbox] == [
        ("time_off", "Cleo Clerk (cleo)", "time off 2026-12-01 – 2026-12-02")
    ]
    assert by["cleo"].starts == "07:00" and by["cleo"].ends == "15:00"


def test_my_day_shows_published_shift_and_clock_state(office: Office) -> None:
    _roster(office)
    before = office.db.read(lambda s: my_day(office.clerk, s))
    assert before.shift is not None and before.shift.startswith("E Early Mon 16 Nov 07:00")
    assert before.clock_state == "not clocked in"
    _punch_at(office, "clerk", "2026-11-16T12:03:00+00:00")
    after = office.db.read(lambda s: my_day(office.clerk, s))
    assert after.clock_state == "clocked in since 07:03"


def test_my_day_timecard_is_this_periods_not_the_last_signed(office: Office) -> None:
    from db.models import Timecard, TimecardStatus

    def old_card(s) -> None:  # type: ignore[no-untyped-def]
        s.add(
            Timecard(
                user_id=office.clerk.user_id,
                period_start=dt.date(2026, 11, 9),
                period_end=dt.date(2026, 11, 15),
                status=TimecardStatus.SIGNED,
            )
        )

    office.db.write(old_card)
    assert office.db.read(lambda s: my_day(office.clerk, s)).timecard_status is None

    def this_card(s) -> None:  # type: ignore[no-untyped-def]
        s.add(Timecard(user_id=office.clerk.user_id, period_start=MONDAY, period_end=dt.date(2026, 11, 22)))

    office.db.write(this_card)
    assert office.db.read(lambda s: my_day(office.clerk, s)).timecard_status == "open"


def test_states_before_during_and_after_shifts(office: Office) -> None:
    _roster(office)
    timeutil.freeze("2026-11-16T11:30:00+00:00")  # 06:30: nobody's shift has begun
    d = office.db.read(lambda s: dashboard(office.sup, s))
    assert [p.state for p in d.on_shift] == ["starts 07:00", "starts 09:00", "starts 09:00"]
    assert not d.not_clocked_in and not d.late_arrivals
    assert [p.shift_minutes_left for p in d.on_shift] == [480, 480, 480]  # the whole shift ahead
    timeutil.freeze("2026-11-16T12:04:00+00:00")  # 07:04: within cleo's 5-minute grace
    d = office.db.read(lambda s: dashboard(office.sup, s))
    assert d.on_shift[0].state == "due at 07:00" and not d.on_shift[0].not_in
    _punch_at(office, "clerk", "2026-11-16T12:10:00+00:00")  # 07:10: 10 min late
    timeutil.freeze("2026-11-16T17:00:00+00:00")
    office.db.write(lambda s: clock.start_break(office.clerk, s))
    timeutil.freeze("2026-11-16T17:20:00+00:00")  # 12:20
    d = office.db.read(lambda s: dashboard(office.sup, s))
    cleo = d.on_shift[0]
    assert cleo.state == "on break since 12:00 (in 07:10, late 10 min)" and cleo.on_now
    assert cleo.shift_minutes_left == 160  # to 15:00
    timeutil.freeze("2026-11-16T20:30:00+00:00")  # 15:30: cleo's shift is over, never clocked out
    d = office.db.read(lambda s: dashboard(office.sup, s))
    assert d.on_shift[0].shift_minutes_left == 0
    timeutil.freeze("2026-11-17T01:00:00+00:00")  # 20:00: carl and cora never came
    d = office.db.read(lambda s: dashboard(office.sup, s))
    by = {p.login: p for p in d.on_shift}
    assert by["cora"].state == "no clock-in (shift 09:00–17:00)" and not by["cora"].not_in


def test_list_progress_unassigned_and_coverage_gaps(office: Office) -> None:
    from db.models import (
        Assignment,
        Client,
        CoverageRequirement,
        ShiftType,
        WorkItem,
        WorkKind,
        WorkOutcome,
    )

    _roster(office)

    def go(s) -> None:  # type: ignore[no-untyped-def]
        c = Client(account_number="D-1", first_name="Di", last_name="Dash")
        s.add(c)
        s.flush()
        plan = [  # (effort, outcome, assigned to)
            (15, WorkOutcome.DONE, office.clerk.user_id),
            (20, WorkOutcome.SKIPPED, office.clerk.user_id),
            (25, None, office.clerk.user_id),
            (40, None, office.clerk.user_id),
            (30, None, office.clerk2.user_id),
            (10, None, None),
            (10, None, None),
        ]
        for effort, outcome, uid in plan:
            w = WorkItem(day=MONDAY, kind=WorkKind.CHASE, client_id=c.id, effort_minutes=effort)
            s.add(w)
            s.flush()
            if uid is not None:
                s.add(
                    Assignment(
                        work_item_id=w.id,
                        user_id=uid,
                        day=MONDAY,
                        published=True,
                        assigned_by=office.sup.user_id,
                        outcome=outcome,
                        finished_at=timeutil.now() if outcome else None,
                    )
                )
        early = s.query(ShiftType).filter_by(code="E").one()
        mid = s.query(ShiftType).filter_by(code="M").one()
        s.add(CoverageRequirement(shift_type_id=early.id, weekday=0, required=3))
        s.add(CoverageRequirement(shift_type_id=mid.id, weekday=0, required=5))
        s.add(CoverageRequirement(shift_type_id=mid.id, on_date=MONDAY, required=2))  # the date wins

    office.db.write(go)
    d = office.db.read(lambda s: dashboard(office.sup, s))
    cleo = d.on_shift[0]
    assert (cleo.items_total, cleo.items_done, cleo.items_open, cleo.minutes_left) == (4, 1, 2, 65)
    assert cleo.shift_minutes_left == 300 and not cleo.behind  # 10:00 → 15:00
    carl = d.on_shift[1]
    assert (carl.items_total, carl.items_done, carl.items_open, carl.minutes_left) == (1, 0, 1, 30)
    assert d.items_unassigned == 2
    assert [(g.shift_code, g.required, g.published, g.short) for g in d.coverage_gaps] == [("E", 3, 1, 2)]


def test_inbox_holds_every_decision_waiting(office: Office) -> None:
    from db.models import (
        BillTo,
        Client,
        Coverage,
        CoverageRank,
        Dispute,
        DisputeReason,
        Invoice,
        InvoiceKind,
        InvoiceStatus,
        Payer,
        PayerKind,
        Timecard,
        TimecardStatus,
    )

    def go(s) -> None:  # type: ignore[no-untyped-def]
        c = Client(account_number="I-1", first_name="Ina", last_name="Box")
        p = Payer(name="Bluewater [Health]", kind=PayerKind.INSURER)
        s.add_all([c, p])
        s.flush()
        cov = Coverage(
            client_id=c.id, payer_id=p.id, rank=CoverageRank.PRIMARY, member_id="W1", effective_from=MONDAY
        )
        s.add(cov)
        s.flush()
        inv = Invoice(
            number="INV-1",
            kind=InvoiceKind.INVOICE,
            client_id=c.id,
            bill_to=BillTo.PAYER,
            payer_id=p.id,
            coverage_id=cov.id,
            status=InvoiceStatus.ISSUED,
            created_by=office.clerk.user_id,
        )
        draft = Invoice(
            kind=InvoiceKind.INVOICE,
            client_id=c.id,
            bill_to=BillTo.PAYER,
            payer_id=p.id,
            coverage_id=cov.id,
            created_by=office.clerk.user_id,
        )
        s.add_all([inv, draft])
        s.flush()
        s.add(
            Dispute(invoice_id=inv.id, reason=DisputeReason.AMOUNT_DIFFERS, opened_by=office.clerk2.user_id)
        )
        s.add(
            Timecard(
                user_id=office.clerk3.user_id,
                period_start=dt.date(2026, 11, 9),
                period_end=dt.date(2026, 11, 15),
                status=TimecardStatus.SUBMITTED,
                submitted_at=timeutil.now(),
            )
        )

    office.db.write(go)
    d = office.db.read(lambda s: dashboard(office.sup, s))
    kinds = [(i.kind, i.who) for i in d.inbox]
    assert kinds == [
        ("timecard", "Cora Clerk (cora)"),
        ("dispute", "Carl Clerk (carl)"),
        ("override", "Box, Ina (I-1)"),
    ]
    assert d.inbox[0].period_start == dt.date(2026, 11, 9)
    assert d.inbox[1].what == "dispute on INV-1: amount differs"
    assert d.inbox[2].what.startswith("Bluewater [Health], member W1: eligibility has never been checked")
    assert (d.timecards_to_sign, d.disputes_open, d.overrides_waiting, d.pending_approvals) == (1, 1, 1, 3)

    # An override in force takes the coverage out of the inbox.
    from billing import coverage as cov_service

    cov_id = d.inbox[2].ref
    office.db.write(
        lambda s: cov_service.grant_eligibility_override(
            office.sup, s, cov_id, reason="portal down", valid_until=MONDAY
        )
    )
    d = office.db.read(lambda s: dashboard(office.sup, s))
    assert [i.kind for i in d.inbox] == ["timecard", "dispute"] and d.overrides_waiting == 0


def test_my_day_takes_the_later_of_two_punches_in_the_same_second(office: Office) -> None:
    # PostgreSQL returned the clock-in for "latest" when both rows had the same instant: my day
    # said "clocked in" while the header (scheduling.clock) said "not clocked in".
    timeutil.freeze("2026-11-16T15:00:00+00:00")
    for kind in ("in", "break_start", "break_end", "out"):
        office.db.write(lambda s, k=kind: clock.punch(office.clerk, s, k))
    assert office.db.read(lambda s: my_day(office.clerk, s)).clock_state == "clocked out at 10:00"
    assert office.db.read(lambda s: clock.clock_state(office.clerk, s)).status == "out"
