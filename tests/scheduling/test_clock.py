"""Clock events: the server's clock only, a state machine that refuses nonsense, corrections kept."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from db import audit
from db.engine import Database
from db.errors import ConflictError, NotFound, PermissionDenied, ValidationError
from db.models import AuditEntry, ClockEvent, ClockKind, ClockSource
from scheduling import clock, timecards
from tests.conftest import Office
from tests.scheduling.factories_time import add_shift, at, local, punch, work

IN, OUT, BREAK, RESUME = ClockKind.IN, ClockKind.OUT, ClockKind.BREAK_START, ClockKind.BREAK_END


def events(db: Database, user_id: int) -> list[tuple[str, str, bool, int | None]]:
    """(kind, local time, voided, supersedes_id) of every row, in id order."""
    rows = db.read(
        lambda s: list(
            s.scalars(sa.select(ClockEvent).where(ClockEvent.user_id == user_id).order_by(ClockEvent.id))
        )
    )
    return [
        (e.kind.value, e.at.in_timezone("America/New_York").format("MM-DD HH:mm"), e.voided, e.supersedes_id)
        for e in rows
    ]


def test_punch_records_the_program_clock_and_the_state_says_so(office: Office) -> None:
    db, clerk = office.db, office.clerk
    ev = punch(db, clerk, IN, "2026-11-16 08:02:31")
    assert ev.at == local("2026-11-16 08:02:31")
    assert ev.source == ClockSource.CLOCK and ev.recorded_by == clerk.user_id
    state = at("2026-11-16 09:00", lambda: db.read(lambda s: clock.clock_state(clerk, s)))
    assert (state.status, state.text) == ("in", "clocked in since 08:02")
    punch(db, clerk, BREAK, "2026-11-16 12:00")
    state = at("2026-11-16 12:10", lambda: db.read(lambda s: clock.clock_state(clerk, s)))
    assert state.text == "clocked in since 08:02, on break since 12:00"
    assert state.in_since == local("2026-11-16 08:02:31")
    punch(db, clerk, RESUME, "2026-11-16 12:30")
    punch(db, clerk, OUT, "2026-11-16 16:31")
    state = at("2026-11-16 17:00", lambda: db.read(lambda s: clock.clock_state(clerk, s)))
    assert (state.status, state.text) == ("out", "not clocked in (last out 16:31)")
    assert [k for k, *_ in events(db, clerk.user_id)] == ["in", "break_start", "break_end", "out"]


def test_state_names_the_day_when_the_clock_in_was_not_today(office: Office) -> None:
    punch(office.db, office.clerk, IN, "2026-11-15 22:00")
    state = at("2026-11-16 01:00", lambda: office.db.read(lambda s: clock.clock_state(office.clerk, s)))
    assert state.text == "clocked in since Sun 15 Nov 22:00"


@pytest.mark.parametrize(
    ("before", "kind", "message"),
    [
        ((), OUT, "you are not clocked in, so you cannot clock out"),
        ((), BREAK, "you are not clocked in, so you cannot start a break"),
        ((), RESUME, "you are not clocked in, so you have no break to end"),
        ((IN,), IN, "you are already clocked in since 08:00; clock out first"),
        ((IN,), RESUME, "you are not on a break"),
        ((IN, BREAK), OUT, "you are on a break since 08:01; end the break before clocking out"),
        ((IN, BREAK), IN, "you are on a break since 08:01; end the break instead of clocking in again"),
        ((IN, BREAK), BREAK, "you are already on a break since 08:01"),
        ((IN, OUT), OUT, "you are not clocked in, so you cannot clock out"),
    ],
)
def test_nonsense_is_refused_with_a_reason_and_records_nothing(
    office: Office, before: tuple[ClockKind, ...], kind: ClockKind, message: str
) -> None:
    db, clerk = office.db, office.clerk
    for i, k in enumerate(before):
        punch(db, clerk, k, f"2026-11-16 08:0{i}")
    audit_rows = db.read(lambda s: s.scalar(sa.select(sa.func.count()).select_from(AuditEntry)))
    with pytest.raises(ValidationError) as e:
        punch(db, clerk, kind, "2026-11-16 08:30")
    assert e.value.fields == {"kind": message}
    assert len(events(db, clerk.user_id)) == len(before)
    assert db.read(lambda s: s.scalar(sa.select(sa.func.count()).select_from(AuditEntry))) == audit_rows


def test_a_clock_that_went_backwards_is_refused(office: Office) -> None:
    punch(office.db, office.clerk, IN, "2026-11-16 08:00")
    with pytest.raises(ConflictError, match="before your last event"):
        punch(office.db, office.clerk, OUT, "2026-11-16 07:00")


def test_the_system_account_has_no_clock(office: Office) -> None:
    from tui.identity import ROOT

    with pytest.raises(PermissionDenied):
        office.db.write(lambda s: clock.clock_in(ROOT, s))


def test_clerk_may_not_read_someone_elses_clock(office: Office) -> None:
    with pytest.raises(PermissionDenied):
        office.db.read(lambda s: clock.clock_state(office.clerk, s, office.clerk2.user_id))
    with pytest.raises(PermissionDenied):
        office.db.read(
            lambda s: clock.clock_events(
                office.clerk, s, office.clerk2.user_id, dt.date(2026, 11, 16), dt.date(2026, 11, 16)
            )
        )
    assert office.db.read(lambda s: clock.clock_state(office.sup, s, office.clerk2.user_id)).status == "out"


def test_clocked_in_now_lists_who_is_in(office: Office) -> None:
    db = office.db
    work(db, office.clerk2, "2026-11-16 07:00", "2026-11-16 09:00")
    punch(db, office.clerk, IN, "2026-11-16 08:00")
    punch(db, office.clerk3, IN, "2026-11-16 08:10")
    punch(db, office.clerk3, BREAK, "2026-11-16 09:40")
    states = db.read(lambda s: clock.clocked_in_now(office.sup, s))
    assert [(st.user_id, st.status) for st in states] == [
        (office.clerk.user_id, "in"),
        (office.clerk3.user_id, "break"),
    ]
    with pytest.raises(PermissionDenied):
        db.read(lambda s: clock.clocked_in_now(office.clerk, s))


# --------------------------------------------------------------------------- supervisor changes


def test_supervisor_correction_keeps_the_original(office: Office) -> None:
    db, clerk, sup = office.db, office.clerk, office.sup
    work(db, clerk, "2026-11-16 08:00", "2026-11-16 08:30")  # forgot to clock out at 16:00 …
    out_id = db.read(lambda s: s.scalar(sa.select(sa.func.max(ClockEvent.id))))
    new = db.write(
        lambda s: clock.correct_clock_event(
            sup, s, out_id, at=local("2026-11-16 09:45"), reason="left at 09:45 for the dentist, confirmed"
        )
    )
    assert (
        new.supersedes_id == out_id
        and new.source == ClockSource.SUPERVISOR
        and new.recorded_by == sup.user_id
    )
    assert events(db, clerk.user_id) == [
        ("in", "11-16 08:00", False, None),
        ("out", "11-16 08:30", True, None),
        ("out", "11-16 09:45", False, out_id),
    ]
    actions = db.read(
        lambda s: [
            (a.entity, a.entity_id, a.action, a.actor_login)
            for a in s.scalars(
                sa.select(AuditEntry).where(AuditEntry.entity == "clock_event").order_by(AuditEntry.id)
            )
        ]
    )
    assert actions[-2:] == [
        ("clock_event", str(out_id), "void", "sam"),
        ("clock_event", str(new.id), "correct", "sam"),
    ]
    assert db.read(audit.verify).ok
    with pytest.raises(ConflictError, match=f"already corrected by event {new.id}"):
        db.write(
            lambda s: clock.correct_clock_event(sup, s, out_id, at=local("2026-11-16 09:50"), reason="again")
        )


def test_supervisor_adds_a_forgotten_clock_out(office: Office) -> None:
    db, clerk = office.db, office.clerk
    add_shift(db, clerk, "2026-11-13", by=office.sup)
    punch(db, clerk, IN, "2026-11-13 07:58")
    db.write(
        lambda s: clock.add_clock_event(
            office.sup, s, clerk.user_id, OUT, local("2026-11-13 16:04"), "forgot to clock out"
        )
    )
    card = db.read(lambda s: timecards.timecard_detail(office.sup, s, clerk.user_id, dt.date(2026, 11, 9)))
    fri = card.days[4]
    assert (fri.worked_minutes, fri.status, fri.punches[-1].source) == (486, "worked", ClockSource.SUPERVISOR)


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"reason": "  "}, "reason", "a reason is required for a supervisor's change"),
        ({"reason": "x" * 501}, "reason", "is longer than 500 characters"),
        ({"at": "2026-11-16 12:00"}, "at", "cannot be in the future"),
        (
            {"at": dt.datetime(2026, 11, 16, 8, 0)},
            "at",
            "needs a time zone (an instant), not a bare wall time",
        ),
        ({"kind": "lunch"}, "kind", "must be in, out, break_start or break_end"),
        ({"at": "2026-11-16 08:00"}, "at", "the correction changes nothing (same kind and time)"),
    ],
)
def test_bad_corrections_are_refused_and_change_nothing(
    office: Office, kwargs: dict, field: str, message: str
) -> None:
    db = office.db
    work(db, office.clerk, "2026-11-16 08:00", "2026-11-16 09:00")
    first = db.read(lambda s: s.scalar(sa.select(sa.func.min(ClockEvent.id))))
    args = {"reason": "fix", **kwargs}
    if isinstance(args.get("at"), str):
        args["at"] = local(args["at"])
    before = events(db, office.clerk.user_id)
    with pytest.raises(ValidationError) as e:
        db.write(lambda s: clock.correct_clock_event(office.sup, s, first, **args))
    assert e.value.fields[field] == message
    assert events(db, office.clerk.user_id) == before


def test_a_correction_that_breaks_the_sequence_is_refused(office: Office) -> None:
    db = office.db
    work(db, office.clerk, "2026-11-16 08:00", "2026-11-16 09:00")
    first = db.read(lambda s: s.scalar(sa.select(sa.func.min(ClockEvent.id))))
    with pytest.raises(
        ValidationError, match="the clock-out at Mon 16 Nov 09:00 would come while not clocked in"
    ):
        # moving the clock-in after the clock-out leaves an out without an in
        db.write(
            lambda s: clock.correct_clock_event(
                office.sup, s, first, at=local("2026-11-16 09:30"), reason="x"
            )
        )
    with pytest.raises(ValidationError, match="the clock-in at Mon 16 Nov 08:30 would come while clocked in"):
        db.write(
            lambda s: clock.add_clock_event(
                office.sup, s, office.clerk.user_id, IN, local("2026-11-16 08:30"), "x"
            )
        )
    assert len(events(db, office.clerk.user_id)) == 2


def test_clerks_may_not_correct_and_nobody_corrects_their_own(office: Office) -> None:
    db = office.db
    work(db, office.clerk, "2026-11-16 08:00", "2026-11-16 09:00")
    work(db, office.sup, "2026-11-16 08:00", "2026-11-16 09:00")
    clerk_event = db.read(lambda s: s.scalar(sa.select(sa.func.min(ClockEvent.id))))
    sup_event = db.read(lambda s: s.scalar(sa.select(sa.func.max(ClockEvent.id))))
    with pytest.raises(PermissionDenied, match="may not correct clock events"):
        db.write(
            lambda s: clock.correct_clock_event(
                office.clerk2, s, clerk_event, at=local("2026-11-16 07:00"), reason="x"
            )
        )
    with pytest.raises(PermissionDenied):
        db.write(
            lambda s: clock.add_clock_event(
                office.clerk, s, office.clerk.user_id, OUT, local("2026-11-16 09:30"), "x"
            )
        )
    with pytest.raises(PermissionDenied, match="their own work"):
        db.write(
            lambda s: clock.correct_clock_event(
                office.sup, s, sup_event, at=local("2026-11-16 09:30"), reason="x"
            )
        )
    with pytest.raises(PermissionDenied):
        db.write(lambda s: clock.void_clock_event(office.clerk, s, clerk_event, reason="x"))
    assert len(events(db, office.clerk.user_id)) == 2


def test_void_removes_a_double_punch_but_keeps_the_row(office: Office) -> None:
    db = office.db
    work(db, office.clerk, "2026-11-16 08:00", "2026-11-16 09:00")
    work(db, office.clerk, "2026-11-16 09:00", "2026-11-16 09:00")  # pressed twice by mistake
    ids = db.read(lambda s: list(s.scalars(sa.select(ClockEvent.id).order_by(ClockEvent.id))))
    # Voiding the stray clock-in alone would leave an out without an in.
    with pytest.raises(ValidationError):
        db.write(lambda s: clock.void_clock_event(office.sup, s, ids[2], reason="double punch"))
    db.write(lambda s: clock.void_clock_event(office.sup, s, ids[3], reason="double punch"))
    db.write(lambda s: clock.void_clock_event(office.sup, s, ids[2], reason="double punch"))
    assert [v for _, _, v, _ in events(db, office.clerk.user_id)] == [False, False, True, True]
    with pytest.raises(NotFound):
        db.write(lambda s: clock.void_clock_event(office.sup, s, 9999, reason="x"))
    listed = db.read(
        lambda s: clock.clock_events(
            office.sup,
            s,
            office.clerk.user_id,
            dt.date(2026, 11, 16),
            dt.date(2026, 11, 16),
            include_voided=True,
        )
    )
    assert [e.voided for e in listed] == [False, False, True, True]
