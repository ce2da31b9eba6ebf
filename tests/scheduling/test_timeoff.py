"""Time off (ask → approve / decline with reason), availability and shift requests."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from db.errors import ConflictError, PermissionDenied, ValidationError
from db.models import AuditEntry, RequestStatus, TimeOffRequest
from scheduling import rostering, shifts, timeoff
from tests.conftest import Office
from tests.scheduling.test_shifts import MON, SUN, THU, TUE, WED, count, setup_schedule

NEXT_MON = MON + dt.timedelta(days=7)


def statuses(o: Office) -> list[tuple[int, str]]:
    rows = o.db.read(lambda s: s.execute(sa.select(TimeOffRequest.id, TimeOffRequest.status)).all())
    return sorted((i, st.value) for i, st in rows)


def test_clerk_asks_supervisor_approves_and_the_days_become_fixed_days_off(office: Office) -> None:
    setup_schedule(office)
    db, sup, cleo = office.db, office.sup, office.clerk
    req = db.write(lambda s: timeoff.request_time_off(cleo, s, TUE, WED, "family visit"))
    assert (req.login, req.status, req.days, req.decided_by) == ("cleo", RequestStatus.REQUESTED, 2, None)
    assert db.read(lambda s: timeoff.pending_time_off(sup, s)) == 1

    # Before approval the builder does not know about it.
    problem = db.read(lambda s: rostering.build_problem(sup, s, MON, SUN))
    cleo_rules = next(c.rules for c in problem.staff if c.id == "cleo")
    assert cleo_rules.fixed_days_off == frozenset()

    ok = db.write(lambda s: timeoff.approve_time_off(sup, s, req.id, "enjoy"))
    assert (ok.status, ok.decided_by, ok.decision_reason) == (RequestStatus.APPROVED, "sam", "enjoy")
    assert ok.decided_at is not None and ok.clashes == ()
    problem = db.read(lambda s: rostering.build_problem(sup, s, MON, SUN))
    cleo_rules = next(c.rules for c in problem.staff if c.id == "cleo")
    assert cleo_rules.fixed_days_off == frozenset({TUE, WED})
    # ...and a build never puts her on those days.
    db.write(lambda s: rostering.build_roster(sup, s, MON, SUN, time_limit=3, workers=1))
    grid = db.read(lambda s: shifts.schedule_grid(sup, s, TUE, WED))
    assert [c.code for r in grid.rows if r.login == "cleo" for c in r.cells] == [None, None]
    assert db.read(lambda s: timeoff.pending_time_off(sup, s)) == 0


def test_approval_reports_days_the_clerk_is_already_scheduled(office: Office) -> None:
    setup_schedule(office)
    db, sup = office.db, office.sup
    db.write(lambda s: shifts.set_cell(sup, s, "cleo", WED, "E", expected_version=None))
    req = db.write(lambda s: timeoff.request_time_off(office.clerk, s, TUE, THU))
    ok = db.write(lambda s: timeoff.approve_time_off(sup, s, req.id))
    assert ok.clashes == (WED,)
    ev = db.read(lambda s: rostering.evaluate_grid(sup, s, MON, SUN))
    assert [(v.login, v.day, v.rule) for v in ev.violations] == [("cleo", WED, "fixed_day_off")]


def test_decline_needs_a_reason_and_changes_nothing_without_one(office: Office) -> None:
    db, sup = office.db, office.sup
    req = db.write(lambda s: timeoff.request_time_off(office.clerk, s, TUE, TUE))
    audit_rows = count(db, AuditEntry)
    for reason in ("", "   "):
        with pytest.raises(ValidationError) as err:
            db.write(lambda s, r=reason: timeoff.decline_time_off(sup, s, req.id, r))
        assert set(err.value.fields) == {"reason"}
    assert statuses(office) == [(req.id, "requested")] and count(db, AuditEntry) == audit_rows
    no = db.write(lambda s: timeoff.decline_time_off(sup, s, req.id, "month-end close, everyone needed"))
    assert (no.status, no.decision_reason, no.decided_by) == (
        RequestStatus.DECLINED,
        "month-end close, everyone needed",
        "sam",
    )
    with pytest.raises(ConflictError):  # decided once
        db.write(lambda s: timeoff.approve_time_off(sup, s, req.id))


def test_rights_on_time_off(office: Office) -> None:
    db, sup, cleo, carl = office.db, office.sup, office.clerk, office.clerk2
    req = db.write(lambda s: timeoff.request_time_off(cleo, s, TUE, TUE))
    with pytest.raises(PermissionDenied):
        db.write(lambda s: timeoff.approve_time_off(carl, s, req.id))
    with pytest.raises(PermissionDenied):
        db.write(lambda s: timeoff.decline_time_off(cleo, s, req.id, "no"))
    with pytest.raises(PermissionDenied):  # a clerk cannot cancel someone else's
        db.write(lambda s: timeoff.cancel_time_off(carl, s, req.id))
    # A supervisor's own request is decided by another supervisor.
    own = db.write(lambda s: timeoff.request_time_off(sup, s, THU, THU))
    with pytest.raises(PermissionDenied):
        db.write(lambda s: timeoff.approve_time_off(sup, s, own.id))
    assert (
        db.write(lambda s: timeoff.approve_time_off(office.sup2, s, own.id)).status == RequestStatus.APPROVED
    )
    assert statuses(office) == [(req.id, "requested"), (own.id, "approved")]


def test_clerks_list_only_their_own_requests(office: Office) -> None:
    db = office.db
    db.write(lambda s: timeoff.request_time_off(office.clerk, s, TUE, TUE))
    db.write(lambda s: timeoff.request_time_off(office.clerk2, s, WED, WED))
    assert [r.login for r in db.read(lambda s: timeoff.list_time_off(office.clerk, s))] == ["cleo"]
    assert [r.login for r in db.read(lambda s: timeoff.list_time_off(office.sup, s))] == ["cleo", "carl"]
    with pytest.raises(PermissionDenied):
        db.read(lambda s: timeoff.list_time_off(office.clerk, s, login="carl"))


def test_bad_requests_are_refused(office: Office) -> None:
    db, cleo = office.db, office.clerk
    with pytest.raises(ValidationError) as err:
        db.write(lambda s: timeoff.request_time_off(cleo, s, MON - dt.timedelta(days=1), MON))
    assert set(err.value.fields) == {"start_date"}
    with pytest.raises(ValidationError) as err:
        db.write(lambda s: timeoff.request_time_off(cleo, s, WED, TUE))
    assert set(err.value.fields) == {"end_date"}
    with pytest.raises(ValidationError):
        db.write(lambda s: timeoff.request_time_off(cleo, s, TUE, TUE + dt.timedelta(days=60)))
    db.write(lambda s: timeoff.request_time_off(cleo, s, TUE, THU))
    with pytest.raises(ConflictError):
        db.write(lambda s: timeoff.request_time_off(cleo, s, WED, WED))
    assert len(statuses(office)) == 1


def test_supervisor_records_past_sick_days_and_clerk_cancels_a_pending_request(office: Office) -> None:
    db, sup = office.db, office.sup
    past = db.write(lambda s: timeoff.record_time_off(sup, s, "carl", MON - dt.timedelta(days=3), MON, "flu"))
    assert (past.status, past.days, past.decided_by) == (RequestStatus.APPROVED, 4, "sam")
    with pytest.raises(ValidationError):
        db.write(lambda s: timeoff.record_time_off(sup, s, "carl", TUE, TUE, ""))
    mine = db.write(lambda s: timeoff.request_time_off(office.clerk, s, NEXT_MON, NEXT_MON))
    assert (
        db.write(lambda s: timeoff.cancel_time_off(office.clerk, s, mine.id)).status
        == RequestStatus.CANCELLED
    )
    with pytest.raises(ConflictError):
        db.write(lambda s: timeoff.cancel_time_off(office.clerk, s, mine.id))
    # Approved time off that has begun: only a supervisor changes it.
    with pytest.raises(PermissionDenied):
        db.write(lambda s: timeoff.cancel_time_off(office.clerk2, s, past.id))


def test_unavailable_weekday_is_a_fixed_day_off(office: Office) -> None:
    setup_schedule(office)
    db, sup = office.db, office.sup
    with pytest.raises(PermissionDenied):
        db.write(lambda s: timeoff.set_availability(office.clerk, s, "cleo", 4, False))
    db.write(lambda s: timeoff.set_availability(sup, s, "cleo", 4, False, "college on Fridays"))
    assert [
        (a.login, a.weekday, a.available)
        for a in db.read(lambda s: timeoff.list_availability(office.clerk, s))
    ] == [("cleo", 4, False)]
    problem = db.read(lambda s: rostering.build_problem(sup, s, MON, SUN))
    assert next(c.rules for c in problem.staff if c.id == "cleo").fixed_days_off == frozenset(
        {MON + dt.timedelta(days=4)}
    )


def test_shift_requests_reach_the_problem_with_their_weight(office: Office) -> None:
    setup_schedule(office)
    db, sup, cleo = office.db, office.sup, office.clerk
    on = db.write(lambda s: timeoff.add_shift_request(cleo, s, WED, "l", True, 5))
    assert on.text == f"cleo wants L on {WED}"
    db.write(lambda s: timeoff.add_shift_request(sup, s, THU, None, False, 300, login="carl"))
    with pytest.raises(ValidationError):  # clerks' weights are 1–10
        db.write(lambda s: timeoff.add_shift_request(cleo, s, THU, "E", True, 11))
    with pytest.raises(PermissionDenied):  # for someone else
        db.write(lambda s: timeoff.add_shift_request(cleo, s, THU, "E", True, 1, login="carl"))
    with pytest.raises(ConflictError):
        db.write(lambda s: timeoff.add_shift_request(cleo, s, WED, "L", False, 2))
    problem = db.read(lambda s: rostering.build_problem(sup, s, MON, SUN))
    assert {(r.clerk, r.day, r.shift, r.on, r.weight) for r in problem.requests} == {
        ("cleo", WED, "L", True, 5),
        ("carl", THU, None, False, 300),
    }
    assert [r.login for r in db.read(lambda s: timeoff.list_shift_requests(cleo, s, MON, SUN))] == ["cleo"]
    db.write(lambda s: timeoff.remove_shift_request(cleo, s, on.id))
    assert len(db.read(lambda s: timeoff.list_shift_requests(sup, s, MON, SUN))) == 1
