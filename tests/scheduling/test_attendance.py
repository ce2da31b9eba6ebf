"""Attendance incidents from clock events vs the schedule; discipline records, rules, suggestions."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from db.errors import ConflictError, NotFound, PermissionDenied, ValidationError
from db.models import AttendanceIncident, DisciplineKind, DisciplineRecord, IncidentKind
from scheduling import attendance
from tests.conftest import Office, mark_demo
from tests.scheduling.factories_time import add_shift, at, punch, time_off, work
from tui.cli import main

MON = dt.date(2026, 11, 9)


@pytest.fixture
def day(office: Office) -> Office:
    """Mon 9 Nov: cleo late 7, carl left 40 min early, cora absent, pat on approved time off,
    sam 3 min late (within grace)."""
    db, sup = office.db, office.sup
    for who in (office.clerk, office.clerk2, office.clerk3, office.sup2, office.sup):
        add_shift(db, who, MON, by=sup if who != sup else office.sup2)
    work(db, office.clerk, "2026-11-09 08:07", "2026-11-09 16:00")
    work(db, office.clerk2, "2026-11-09 08:00", "2026-11-09 15:20")
    work(db, office.sup, "2026-11-09 08:03", "2026-11-09 16:00")
    time_off(db, office.sup2, "2026-11-09", "2026-11-09", by=sup)
    return office


def test_record_incidents_from_clock_events(day: Office) -> None:
    run = day.db.write(lambda s: attendance.record_incidents(day.sup, s, MON))
    assert sorted((i.login, i.kind.value, i.minutes) for i in run.created) == [
        ("carl", "left_early", 40),
        ("cleo", "late", 7),
        ("cora", "absent", 480),
    ]
    assert run.already_recorded == 0
    assert sorted(i.text for i in run.created) == [
        "2026-11-09 absent",
        "2026-11-09 late 7 min",
        "2026-11-09 left early 40 min",
    ]


def test_record_incidents_is_idempotent(day: Office) -> None:
    db = day.db
    db.write(lambda s: attendance.record_incidents(day.sup, s, MON))
    again = db.write(lambda s: attendance.record_incidents(day.sup, s, MON))
    assert (again.created, again.already_recorded) == ((), 3)
    assert db.read(lambda s: s.scalar(sa.select(sa.func.count()).select_from(AttendanceIncident))) == 3


def test_absent_and_left_early_wait_until_the_shift_is_over(day: Office) -> None:
    db = day.db
    run = at("2026-11-09 12:00", lambda: db.write(lambda s: attendance.record_incidents(day.sup, s, MON)))
    # At noon only the lateness is known (carl's clock-out at 15:20 is in the "future" here but
    # his events exist; left-early still waits for the end of the shift).
    assert [(i.login, i.kind.value) for i in run.created] == [("cleo", "late")]
    later = db.write(lambda s: attendance.record_incidents(day.sup, s, MON))
    assert sorted((i.login, i.kind.value) for i in later.created) == [
        ("carl", "left_early"),
        ("cora", "absent"),
    ]


def test_record_incidents_refuses_the_future_and_clerks(day: Office) -> None:
    with pytest.raises(ValidationError, match="2026-11-17 has not happened yet"):
        day.db.write(lambda s: attendance.record_incidents(day.sup, s, dt.date(2026, 11, 17)))
    with pytest.raises(PermissionDenied):
        day.db.write(lambda s: attendance.record_incidents(day.clerk, s, MON))
    assert day.db.read(lambda s: s.scalar(sa.select(sa.func.count()).select_from(AttendanceIncident))) == 0


def test_clerk_sees_only_their_own_incidents(day: Office) -> None:
    day.db.write(lambda s: attendance.record_incidents(day.sup, s, MON))
    mine = day.db.read(lambda s: attendance.list_incidents(day.clerk, s))
    assert [(i.login, i.kind.value) for i in mine] == [("cleo", "late")]
    with pytest.raises(PermissionDenied):
        day.db.read(lambda s: attendance.list_incidents(day.clerk, s, user_id=day.clerk2.user_id))


# --------------------------------------------------------------------------- discipline


def test_record_discipline_with_linked_incidents_and_acknowledge(day: Office) -> None:
    db = day.db
    run = db.write(lambda s: attendance.record_incidents(day.sup, s, MON))
    late = next(i for i in run.created if i.login == "cleo")
    rec = db.write(
        lambda s: attendance.record_discipline(
            day.sup, s, day.clerk.user_id, "verbal", "Talked about the bus timetable", incident_ids=[late.id]
        )
    )
    assert (rec.login, rec.kind, rec.day, rec.recorded_by, rec.acknowledged_at) == (
        "cleo",
        DisciplineKind.VERBAL,
        dt.date(2026, 11, 16),
        "sam",
        None,
    )
    assert [i.id for i in rec.incidents] == [late.id]
    # The clerk sees their own records only and acknowledges once.
    assert [r.id for r in db.read(lambda s: attendance.discipline_records(day.clerk, s))] == [rec.id]
    with pytest.raises(PermissionDenied):
        db.read(lambda s: attendance.discipline_records(day.clerk2, s, day.clerk.user_id))
    with pytest.raises(PermissionDenied):
        db.write(lambda s: attendance.acknowledge_discipline(day.clerk2, s, rec.id))
    with pytest.raises(PermissionDenied):
        db.write(lambda s: attendance.acknowledge_discipline(day.sup, s, rec.id))
    done = db.write(lambda s: attendance.acknowledge_discipline(day.clerk, s, rec.id))
    assert done.acknowledged_at is not None
    with pytest.raises(ConflictError, match="you acknowledged this record on 2026-11-16"):
        db.write(lambda s: attendance.acknowledge_discipline(day.clerk, s, rec.id))
    with pytest.raises(NotFound):
        db.write(lambda s: attendance.acknowledge_discipline(day.clerk, s, 999))


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"kind": "sacking"}, "kind"),
        ({"reason": "   "}, "reason"),
        ({"day": dt.date(2026, 11, 17)}, "day"),
        ({"incident_ids": [999]}, "incidents"),
        ({"incident_ids": ["OTHER"]}, "incidents"),
    ],
)
def test_bad_discipline_is_refused_and_records_nothing(day: Office, kwargs: dict, field: str) -> None:
    db = day.db
    run = db.write(lambda s: attendance.record_incidents(day.sup, s, MON))
    other = next(i for i in run.created if i.login == "carl")
    args = {"kind": "written", "reason": "late again", **kwargs}
    if args.get("incident_ids") == ["OTHER"]:
        args["incident_ids"] = [other.id]
    with pytest.raises(ValidationError) as e:
        db.write(lambda s: attendance.record_discipline(day.sup, s, day.clerk.user_id, **args))
    assert field in e.value.fields
    assert db.read(lambda s: s.scalar(sa.select(sa.func.count()).select_from(DisciplineRecord))) == 0


def test_only_supervisors_record_discipline_and_not_on_themselves(day: Office) -> None:
    with pytest.raises(PermissionDenied):
        day.db.write(lambda s: attendance.record_discipline(day.clerk, s, day.clerk2.user_id, "verbal", "x"))
    with pytest.raises(PermissionDenied, match="their own work"):
        day.db.write(lambda s: attendance.record_discipline(day.sup, s, day.sup.user_id, "verbal", "x"))
    with pytest.raises(PermissionDenied):
        day.db.write(lambda s: attendance.add_discipline_rule(day.clerk, s, "late", 3, 30, "written"))
    with pytest.raises(PermissionDenied):
        day.db.read(lambda s: attendance.discipline_suggestions(day.clerk, s))


# --------------------------------------------------------------------------- rules → suggestions


def _lates(office: Office, days: list[int]) -> None:
    for d in days:
        add_shift(office.db, office.clerk, f"2026-11-{d:02d}", by=office.sup)
        work(office.db, office.clerk, f"2026-11-{d:02d} 08:20", f"2026-11-{d:02d} 16:00")
        office.db.write(lambda s, d=d: attendance.record_incidents(office.sup, s, dt.date(2026, 11, d)))


def test_rules_suggest_and_never_apply(office: Office) -> None:
    db, sup = office.db, office.sup
    rules = db.write(lambda s: attendance.ensure_default_rules(sup, s))
    assert [r.text for r in rules] == [
        "3 × late in 30 days → written warning",
        "2 × absent in 30 days → verbal note",
    ]
    assert len(db.write(lambda s: attendance.ensure_default_rules(sup, s))) == 2
    _lates(office, [2, 3])
    assert db.read(lambda s: attendance.discipline_suggestions(sup, s)) == []
    _lates(office, [10])
    sugg = db.read(lambda s: attendance.discipline_suggestions(sup, s))
    assert [s_.text for s_ in sugg] == ["cleo: 3 × late in the last 30 days → suggest a written warning"]
    assert [i.day.day for i in sugg[0].incidents] == [2, 3, 10]
    # Never applied by itself.
    assert db.read(lambda s: s.scalar(sa.select(sa.func.count()).select_from(DisciplineRecord))) == 0
    # The window ends on as_of: on 3 Dec the lates of 2 and 3 Nov are more than 30 days old.
    assert db.read(lambda s: attendance.discipline_suggestions(sup, s, dt.date(2026, 12, 3))) == []
    # Once addressed (linked to a record), the incidents stop counting.
    db.write(
        lambda s: attendance.record_discipline(
            sup,
            s,
            office.clerk.user_id,
            "written",
            "three lates",
            incident_ids=[i.id for i in sugg[0].incidents],
        )
    )
    assert db.read(lambda s: attendance.discipline_suggestions(sup, s)) == []


def test_rules_are_data(office: Office) -> None:
    db, sup = office.db, office.sup
    rule = db.write(
        lambda s: attendance.add_discipline_rule(sup, s, IncidentKind.LATE, 1, 7, DisciplineKind.COACHING)
    )
    with pytest.raises(ConflictError):
        db.write(lambda s: attendance.add_discipline_rule(sup, s, "late", 1, 7, "coaching"))
    with pytest.raises(ValidationError) as e:
        db.write(lambda s: attendance.add_discipline_rule(sup, s, "early", 0, 400, "fire"))
    assert set(e.value.fields) == {"incident_kind", "count", "window_days", "suggests"}
    _lates(office, [12])
    assert [s_.rule.id for s_ in db.read(lambda s: attendance.discipline_suggestions(sup, s))] == [rule.id]
    db.write(lambda s: attendance.set_discipline_rule_active(sup, s, rule.id, False))
    assert db.read(lambda s: attendance.discipline_suggestions(sup, s)) == []


def test_absence_rule_and_time_off(office: Office) -> None:
    db, sup = office.db, office.sup
    db.write(lambda s: attendance.ensure_default_rules(sup, s))
    for d in (10, 11, 12):
        add_shift(db, office.clerk2, f"2026-11-{d}", by=sup)
    time_off(db, office.clerk2, "2026-11-11", "2026-11-11", by=sup)
    for d in (10, 11, 12):
        db.write(lambda s, d=d: attendance.record_incidents(sup, s, dt.date(2026, 11, d)))
    sugg = db.read(lambda s: attendance.discipline_suggestions(sup, s))
    assert [(s_.login, [i.day.day for i in s_.incidents], s_.rule.suggests) for s_ in sugg] == [
        ("carl", [10, 12], DisciplineKind.VERBAL)
    ]


# --------------------------------------------------------------------------- CLI


def test_cli_attendance_record(day: Office, db_url: str) -> None:
    mark_demo(db_url)
    r = CliRunner().invoke(
        main, ["--db", db_url, "--as", "sam", "attendance", "record", "--date", "2026-11-09"]
    )
    assert r.exit_code == 0, r.output
    assert "recorded: cleo 2026-11-09 late 7 min" in r.output
    assert r.output.rstrip().endswith("3 new incident(s) on 2026-11-09, 0 already recorded")
    r = CliRunner().invoke(
        main, ["--db", db_url, "--as", "sam", "attendance", "record", "--date", "2026-11-09"]
    )
    assert r.output.rstrip().endswith("0 new incident(s) on 2026-11-09, 3 already recorded")
    for bad in (["--date", "yesterday"], ["--date", "2026-12-01"]):
        r = CliRunner().invoke(main, ["--db", db_url, "--as", "sam", "attendance", "record", *bad])
        assert r.exit_code == 2, r.output
    r = CliRunner().invoke(
        main, ["--db", db_url, "--as", "cleo", "attendance", "record", "--date", "2026-11-09"]
    )
    assert r.exit_code == 1
    assert day.db.read(lambda s: s.scalar(sa.select(sa.func.count()).select_from(AttendanceIncident))) == 3


def test_cli_clock_commands(office: Office, db_url: str) -> None:
    mark_demo(db_url)

    def clock_cmd(*args: str):
        return CliRunner().invoke(main, ["--db", db_url, "--as", "cleo", "clock", *args])

    r = clock_cmd("in")
    assert (r.exit_code, r.output) == (0, "clock-in recorded at 2026-11-16 10:00 (clocked in since 10:00)\n")
    r = clock_cmd("in")
    assert r.exit_code == 2 and "you are already clocked in since 10:00; clock out first" in r.output
    assert (
        clock_cmd("break").output
        == "break start recorded at 2026-11-16 10:00 (clocked in since 10:00, on break since 10:00)\n"
    )
    assert clock_cmd("out").exit_code == 2
    assert clock_cmd("resume").exit_code == 0
    assert clock_cmd("out").exit_code == 0
    assert clock_cmd("status").output == "not clocked in (last out 10:00)\n"
    assert clock_cmd("lunch").exit_code == 2
    punch(office.db, office.clerk2, "in", "2026-11-16 09:00")  # someone else's clock is untouched
