"""Timecards in the database: figures, submit → sign → export, freezing, unlock, signature chain."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from db.audit import GENESIS
from db.engine import Database
from db.errors import ConflictError, FrozenError, NotFound, PermissionDenied, ValidationError
from db.models import (
    AuditEntry,
    ClockEvent,
    ClockKind,
    RequestStatus,
    Timecard,
    TimecardSignature,
    TimecardStatus,
)
from db.rights import Actor
from db.settings import put_setting
from scheduling import clock, payroll, timecards
from tests.conftest import Office
from tests.scheduling.factories_time import add_shift, at, local, punch, time_off, week_of_shifts, work

WEEK = dt.date(2026, 11, 9)  # Mon 9 – Sun 15 Nov 2026, over by the frozen "now" (Mon 16, 10:00)


def clean_week(db: Database, who: Actor, by: Actor) -> None:
    """Five 08:00–16:00 shifts worked exactly (a 30-minute lunch on top, 08:00–16:30)."""
    week_of_shifts(db, who, "2026-11-09", by=by, minutes=510, unpaid_break=30)
    for i in range(5):
        d = WEEK + dt.timedelta(days=i)
        work(db, who, f"{d} 08:00", f"{d} 16:30", ((f"{d} 12:00", f"{d} 12:30"),))


def submit(db: Database, who: Actor, note: str = "") -> timecards.CardSummary:
    return db.write(lambda s: timecards.submit_timecard(who, s, WEEK, note))


def sign(db: Database, sup: Actor, card_id: int) -> timecards.CardSummary:
    return db.write(lambda s: timecards.sign_timecard(sup, s, card_id))


def count(db: Database, model: type) -> int:
    return db.read(lambda s: s.scalar(sa.select(sa.func.count()).select_from(model)))


def card_row(db: Database, card_id: int) -> Timecard:
    return db.read(lambda s: s.get(Timecard, card_id))


@pytest.fixture
def signed(office: Office) -> tuple[Office, int]:
    clean_week(office.db, office.clerk, office.sup)
    card = submit(office.db, office.clerk, "all good")
    sign(office.db, office.sup, card.timecard_id)
    return office, card.timecard_id


# --------------------------------------------------------------------------- figures from the database


def test_clean_week_figures(office: Office) -> None:
    clean_week(office.db, office.clerk, office.sup)
    card = office.db.read(lambda s: timecards.my_timecard(office.clerk, s, WEEK))
    s = card.summary
    assert (
        s.timecard_id,
        s.status,
        s.scheduled_minutes,
        s.worked_minutes,
        s.regular_minutes,
        s.overtime_minutes,
    ) == (
        None,
        TimecardStatus.OPEN,
        2400,
        2400,
        2400,
        0,
    )
    assert s.variance == () and not s.has_variance
    assert [d.status for d in card.days] == ["worked"] * 5 + ["off", "off"]
    assert card.days[0].break_minutes == 30


def test_absence_versus_approved_time_off(office: Office) -> None:
    db, clerk = office.db, office.clerk
    week_of_shifts(db, clerk, "2026-11-09", by=office.sup, days=4)
    work(db, clerk, "2026-11-09 08:00", "2026-11-09 16:00")
    time_off(db, clerk, "2026-11-10", "2026-11-10", by=office.sup)
    time_off(db, clerk, "2026-11-11", "2026-11-11", by=office.sup, status=RequestStatus.REQUESTED)
    time_off(db, clerk, "2026-11-12", "2026-11-12", by=office.sup, status=RequestStatus.DECLINED)
    card = db.read(lambda s: timecards.my_timecard(clerk, s, WEEK))
    assert [d.status for d in card.days[:4]] == ["worked", "time off", "absent", "absent"]
    assert (card.summary.absent_count, card.summary.variance) == (2, ("absent 2×",))


def test_dst_night_shifts_from_the_database(office: Office) -> None:
    db, clerk = office.db, office.clerk
    add_shift(db, clerk, "2026-10-31", by=office.sup, code="N", start="22:00", minutes=480)
    add_shift(db, clerk, "2026-03-07", by=office.sup, code="N", start="22:00", minutes=480)
    work(db, clerk, "2026-03-07 22:00", "2026-03-08 06:00")
    work(db, clerk, "2026-10-31 22:00", "2026-11-01 06:00")
    fall = db.read(lambda s: timecards.my_timecard(clerk, s, dt.date(2026, 10, 26)))
    spring = db.read(lambda s: timecards.my_timecard(clerk, s, dt.date(2026, 3, 2)))
    assert (fall.days[5].scheduled_minutes, fall.days[5].worked_minutes, fall.days[6].worked_minutes) == (
        540,
        540,
        0,
    )
    assert (spring.days[5].scheduled_minutes, spring.days[5].worked_minutes) == (420, 420)
    assert fall.summary.variance == () and spring.summary.variance == ()


def test_overtime_and_lateness_from_the_database(office: Office) -> None:
    db, clerk = office.db, office.clerk
    put_setting_ = lambda k, v: db.write(lambda s: put_setting(s, k, v))  # noqa: E731
    put_setting_("time.pay_rounding", 15)
    put_setting_("time.daily_overtime_minutes", 480)
    week_of_shifts(db, clerk, "2026-11-09", by=office.sup)  # 08:00–16:00
    work(db, clerk, "2026-11-09 08:07", "2026-11-09 16:00")  # late 7, paid 8:00 (rounding)
    work(db, clerk, "2026-11-10 08:00", "2026-11-10 18:08")  # 10:08 worked, paid 10:15
    for d in (11, 12, 13):
        work(db, clerk, f"2026-11-{d} 08:00", f"2026-11-{d} 16:00")
    s = db.read(lambda s: timecards.my_timecard(clerk, s, WEEK)).summary
    assert (s.worked_minutes, s.paid_minutes, s.regular_minutes, s.overtime_minutes) == (
        2521,
        2535,
        2400,
        135,
    )
    assert (s.late_count, s.late_minutes) == (1, 7)
    assert s.variance == ("late 1× (7 min)", "overtime 2:15")


# --------------------------------------------------------------------------- submit


def test_clerk_submits_their_own_card(office: Office) -> None:
    clean_week(office.db, office.clerk, office.sup)
    card = submit(office.db, office.clerk, "  all good ")
    assert (card.status, card.submit_note, card.submitted_at) == (
        TimecardStatus.SUBMITTED,
        "all good",
        local("2026-11-16 10:00"),
    )
    assert card_row(office.db, card.timecard_id).user_id == office.clerk.user_id
    with pytest.raises(ConflictError, match="already submitted"):
        submit(office.db, office.clerk)


@pytest.mark.parametrize(
    ("period", "note", "field", "message"),
    [
        (
            dt.date(2026, 11, 16),
            "",
            "period",
            "the period runs until 2026-11-22; submit it on or after its last day",
        ),
        (dt.date(2026, 11, 10), "", "period", "2026-11-10 is not the first day of a pay period"),
        (WEEK, "x" * 1001, "note", "is longer than 1000 characters"),
    ],
)
def test_bad_submissions_change_nothing(
    office: Office, period: dt.date, note: str, field: str, message: str
) -> None:
    with pytest.raises(ValidationError) as e:
        office.db.write(lambda s: timecards.submit_timecard(office.clerk, s, period, note))
    assert e.value.fields[field].startswith(message)
    assert count(office.db, Timecard) == 0


def test_cannot_submit_while_clocked_in_in_the_period(office: Office) -> None:
    punch(office.db, office.clerk, ClockKind.IN, "2026-11-15 22:00")
    with pytest.raises(ValidationError, match="still clocked in"):
        submit(office.db, office.clerk)
    assert count(office.db, Timecard) == 0


# --------------------------------------------------------------------------- sign


def test_sign_freezes_totals_and_starts_the_chain(office: Office) -> None:
    db = office.db
    clean_week(db, office.clerk, office.sup)
    card = submit(db, office.clerk)
    done = sign(db, office.sup, card.timecard_id)
    assert (done.status, done.signed_by, done.signed_at, done.regular_minutes) == (
        TimecardStatus.SIGNED,
        "sam",
        local("2026-11-16 10:00"),
        2400,
    )
    sig = db.read(lambda s: s.scalars(sa.select(TimecardSignature)).one())
    assert sig.prev_hash == GENESIS and len(sig.hash) == 64 and sig.signed_by == office.sup.user_id
    assert sig.content_hash == db.read(lambda s: timecards.content_hash(s, s.get(Timecard, card.timecard_id)))
    assert db.read(timecards.verify_signatures).ok
    detail = db.read(lambda s: timecards.timecard_by_id(office.clerk, s, card.timecard_id))
    assert [x.signed_by for x in detail.signatures] == ["sam"]


def test_clerks_may_not_use_supervisor_services(office: Office) -> None:
    db, clerk = office.db, office.clerk
    clean_week(db, office.clerk2, office.sup)
    card = submit(db, office.clerk2)
    calls = [
        lambda s: timecards.sign_timecard(clerk, s, card.timecard_id),
        lambda s: timecards.reject_timecard(clerk, s, card.timecard_id, "no"),
        lambda s: timecards.unlock_timecard(clerk, s, card.timecard_id, "no"),
        lambda s: timecards.sign_many(clerk, s, [card.timecard_id]),
        lambda s: timecards.list_timecards(clerk, s, WEEK),
        lambda s: timecards.cards_awaiting_signature(clerk, s),
        lambda s: timecards.pending_signature_count(clerk, s),
        lambda s: timecards.timecard_by_id(clerk, s, card.timecard_id),
        lambda s: timecards.timecard_detail(clerk, s, office.clerk2.user_id, WEEK),
        lambda s: payroll.export_payroll(clerk, s, WEEK, signed_only=True),
        lambda s: payroll.payroll_preview(clerk, s, WEEK),
    ]
    for call in calls:
        with pytest.raises(PermissionDenied):
            db.write(call)
    assert card_row(db, card.timecard_id).status == TimecardStatus.SUBMITTED


def test_nobody_signs_their_own_card(office: Office) -> None:
    db = office.db
    clean_week(db, office.sup, office.sup2)
    card = submit(db, office.sup)
    with pytest.raises(PermissionDenied, match="sam may not sign a timecard for their own work"):
        sign(db, office.sup, card.timecard_id)
    assert count(db, TimecardSignature) == 0
    assert sign(db, office.sup2, card.timecard_id).signed_by == "pat"


def test_only_submitted_cards_of_finished_periods_are_signed(office: Office) -> None:
    db = office.db
    clean_week(db, office.clerk, office.sup)
    db.write(
        lambda s: s.add(
            Timecard(user_id=office.clerk.user_id, period_start=WEEK, period_end=WEEK + dt.timedelta(days=6))
        )
    )
    card_id = db.read(lambda s: s.scalar(sa.select(Timecard.id)))
    with pytest.raises(ConflictError, match="not submitted by the clerk yet"):
        sign(db, office.sup, card_id)
    with pytest.raises(NotFound):
        sign(db, office.sup, 999)
    # A card submitted on the period's last day cannot be signed before the period is over.
    week_of_shifts(db, office.clerk2, "2026-11-09", by=office.sup)
    card2 = at("2026-11-15 18:00", lambda: submit(db, office.clerk2))
    with pytest.raises(ValidationError, match="the period runs until 2026-11-15"):
        at("2026-11-15 19:00", lambda: sign(db, office.sup, card2.timecard_id))
    assert count(db, TimecardSignature) == 0


def test_stale_version_is_refused(office: Office) -> None:
    clean_week(office.db, office.clerk, office.sup)
    card = submit(office.db, office.clerk)
    with pytest.raises(ConflictError, match="changed by someone else"):
        office.db.write(
            lambda s: timecards.sign_timecard(
                office.sup, s, card.timecard_id, expected_version=card.version - 1
            )
        )


def test_reject_needs_a_reason_and_returns_the_card_to_the_clerk(office: Office) -> None:
    db = office.db
    clean_week(db, office.clerk, office.sup)
    card = submit(db, office.clerk)
    with pytest.raises(ValidationError, match="reason: a reason is required"):
        db.write(lambda s: timecards.reject_timecard(office.sup, s, card.timecard_id, " "))
    assert card_row(db, card.timecard_id).status == TimecardStatus.SUBMITTED
    back = db.write(
        lambda s: timecards.reject_timecard(office.sup, s, card.timecard_id, "Tuesday lunch missing")
    )
    assert (back.status, back.rejected_reason, back.submitted_at) == (
        TimecardStatus.OPEN,
        "Tuesday lunch missing",
        None,
    )
    assert submit(db, office.clerk).status == TimecardStatus.SUBMITTED


# --------------------------------------------------------------------------- frozen: no side doors


def _events_count(db: Database) -> int:
    return count(db, ClockEvent)


def test_signed_card_refuses_the_clerks_own_punch(signed: tuple[Office, int]) -> None:
    office, _ = signed
    n = _events_count(office.db)
    with pytest.raises(FrozenError, match="the timecard of cleo for 2026-11-09 – 2026-11-15 is signed"):
        punch(office.db, office.clerk, ClockKind.IN, "2026-11-14 09:00")  # the clock set back into the week
    assert _events_count(office.db) == n


def test_signed_card_refuses_a_supervisor_correction_addition_and_void(signed: tuple[Office, int]) -> None:
    office, _ = signed
    db, sup, clerk = office.db, office.sup2, office.clerk
    n = _events_count(db)
    first = db.read(lambda s: s.scalar(sa.select(sa.func.min(ClockEvent.id))))
    with pytest.raises(FrozenError, match="a supervisor must unlock it"):
        db.write(lambda s: clock.correct_clock_event(sup, s, first, at=local("2026-11-09 07:30"), reason="x"))
    with pytest.raises(FrozenError):
        db.write(
            lambda s: clock.add_clock_event(
                sup, s, clerk.user_id, ClockKind.IN, local("2026-11-14 09:00"), "x"
            )
        )
    with pytest.raises(FrozenError):
        db.write(lambda s: clock.void_clock_event(sup, s, first + 1, reason="x"))
    # Moving an event of the open week INTO the signed week is refused too.
    work(db, clerk, "2026-11-16 08:00", "2026-11-16 09:00")
    newest_in = db.read(lambda s: s.scalar(sa.select(sa.func.max(ClockEvent.id)))) - 1
    with pytest.raises(FrozenError):
        db.write(
            lambda s: clock.correct_clock_event(sup, s, newest_in, at=local("2026-11-15 23:00"), reason="x")
        )
    assert _events_count(db) == n + 2
    assert db.read(lambda s: s.scalar(sa.select(sa.func.count()).where(ClockEvent.voided.is_(True)))) == 0


def test_a_late_clock_in_after_midnight_for_a_signed_sunday_night_shift_is_refused(office: Office) -> None:
    db = office.db
    add_shift(db, office.clerk, "2026-11-15", by=office.sup, code="N", start="22:00", minutes=480)
    card = at("2026-11-16 00:05", lambda: submit(db, office.clerk))
    at("2026-11-16 00:10", lambda: sign(db, office.sup, card.timecard_id))
    with pytest.raises(FrozenError):
        punch(db, office.clerk, ClockKind.IN, "2026-11-16 00:30")  # belongs to Sunday's shift
    assert _events_count(db) == 0


def test_unlock_then_resign_chains_two_signatures(signed: tuple[Office, int]) -> None:
    office, card_id = signed
    db, sup = office.db, office.sup
    with pytest.raises(ValidationError):
        db.write(lambda s: timecards.unlock_timecard(sup, s, card_id, ""))
    with pytest.raises(PermissionDenied):
        db.write(lambda s: timecards.unlock_timecard(office.clerk, s, card_id, "fix"))
    opened = db.write(lambda s: timecards.unlock_timecard(sup, s, card_id, "Friday clock-out was wrong"))
    assert (opened.status, opened.unlock_reason, opened.signed_by) == (
        TimecardStatus.SUBMITTED,
        "Friday clock-out was wrong",
        "",
    )
    last_out = db.read(lambda s: s.scalar(sa.select(sa.func.max(ClockEvent.id))))
    db.write(
        lambda s: clock.correct_clock_event(
            sup, s, last_out, at=local("2026-11-13 17:30"), reason="stayed late"
        )
    )
    again = at("2026-11-16 11:00", lambda: sign(db, office.sup2, card_id))
    assert (again.status, again.signed_by, again.regular_minutes, again.overtime_minutes) == (
        TimecardStatus.SIGNED,
        "pat",
        2400,
        60,
    )
    sigs = db.read(lambda s: list(s.scalars(sa.select(TimecardSignature).order_by(TimecardSignature.id))))
    assert len(sigs) == 2
    assert sigs[1].prev_hash == sigs[0].hash and sigs[0].prev_hash == GENESIS
    assert sigs[0].content_hash != sigs[1].content_hash
    assert (
        db.read(timecards.verify_signatures).message
        == "timecard signatures intact: 2 signatures, 1 signed cards"
    )
    actions = db.read(
        lambda s: [
            a.action
            for a in s.scalars(
                sa.select(AuditEntry).where(AuditEntry.entity == "timecard").order_by(AuditEntry.id)
            )
        ]
    )
    assert actions == ["submit", "sign", "unlock", "sign"]


def test_exported_card_cannot_be_unlocked(signed: tuple[Office, int]) -> None:
    office, card_id = signed
    office.db.write(lambda s: payroll.export_payroll(office.sup, s, WEEK))
    with pytest.raises(FrozenError, match="exported to payroll"):
        office.db.write(lambda s: timecards.unlock_timecard(office.sup, s, card_id, "late fix"))
    with pytest.raises(FrozenError, match="was exported to payroll on 2026-11-16"):
        punch(office.db, office.clerk, ClockKind.IN, "2026-11-14 09:00")


# --------------------------------------------------------------------------- the supervisor's queue


def test_queue_variance_and_sign_many(office: Office) -> None:
    db, sup = office.db, office.sup
    clean_week(db, office.clerk, sup)
    week_of_shifts(db, office.clerk2, "2026-11-09", by=sup, minutes=510, unpaid_break=30)
    work(db, office.clerk2, "2026-11-09 08:12", "2026-11-09 16:30")
    clean_week(db, office.clerk3, sup)
    clean_week(db, sup, office.sup2)
    ids = {a.login: submit(db, a).timecard_id for a in (office.clerk, office.clerk2, sup)}
    queue = db.read(lambda s: timecards.cards_awaiting_signature(sup, s, WEEK))
    assert [(c.login, c.variance) for c in queue] == [
        ("carl", ("late 1× (12 min)", "absent 4×")),
        ("cleo", ()),
        ("sam", ()),
    ]
    assert db.read(lambda s: timecards.pending_signature_count(sup, s)) == 3
    result = db.write(lambda s: timecards.sign_many(sup, s, [*ids.values(), 999]))
    assert [c.login for c in result.signed] == ["cleo"]
    assert [(k.login, k.reason) for k in result.skipped] == [
        ("carl", "differs from the schedule: late 1× (12 min), absent 4×"),
        ("sam", "nobody signs their own timecard"),
        ("", "no such timecard"),
    ]
    assert db.read(lambda s: timecards.pending_signature_count(sup, s)) == 2
    listed = db.read(lambda s: timecards.list_timecards(sup, s, WEEK))
    assert [(c.login, c.status.value) for c in listed] == [
        ("carl", "submitted"),
        ("cleo", "signed"),
        ("cora", "open"),
        ("sam", "submitted"),
    ]
    assert [c.login for c in db.read(lambda s: timecards.list_timecards(sup, s, WEEK, "open"))] == ["cora"]
    with pytest.raises(ValidationError):
        db.read(lambda s: timecards.list_timecards(sup, s, WEEK, "lost"))


# --------------------------------------------------------------------------- tampering


def _tamper(db: Database, sql: str, **params: object) -> None:
    db.write(lambda s: s.execute(sa.text(sql), params))


def test_verify_detects_an_edited_signature(signed: tuple[Office, int]) -> None:
    office, _ = signed
    _tamper(office.db, "UPDATE timecard_signatures SET content_hash = :h", h="1" * 64)
    result = office.db.read(timecards.verify_signatures)
    assert (result.ok, result.first_bad_id) == (False, 1)
    assert "signature 1: content does not match its hash" in result.message


def test_verify_detects_edited_card_content(signed: tuple[Office, int]) -> None:
    office, card_id = signed
    first = office.db.read(lambda s: s.scalar(sa.select(sa.func.min(ClockEvent.id))))
    new_at = local("2026-11-09 07:00")
    office.db.write(
        lambda s: s.execute(sa.update(ClockEvent).where(ClockEvent.id == first).values(at=new_at))
    )
    result = office.db.read(timecards.verify_signatures)
    assert (result.ok, result.first_bad_id) == (False, card_id)
    assert "content no longer matches signature 1" in result.message


def test_verify_detects_edited_totals_and_a_removed_signature(signed: tuple[Office, int]) -> None:
    office, card_id = signed
    _tamper(office.db, "UPDATE timecards SET overtime_minutes = 600")
    assert "content no longer matches" in office.db.read(timecards.verify_signatures).message
    _tamper(office.db, "UPDATE timecards SET overtime_minutes = 0")
    assert office.db.read(timecards.verify_signatures).ok
    _tamper(office.db, "DELETE FROM timecard_signatures")
    result = office.db.read(timecards.verify_signatures)
    assert (result.ok, result.message) == (False, f"timecard {card_id} is signed but has no signature")


def test_verify_detects_a_removed_link_in_the_middle(office: Office) -> None:
    db = office.db
    for who in (office.clerk, office.clerk2, office.clerk3):
        clean_week(db, who, office.sup)
        sign(db, office.sup, submit(db, who).timecard_id)
    _tamper(db, "DELETE FROM timecard_signatures WHERE id = 2")
    result = db.read(timecards.verify_signatures)
    assert (result.ok, result.first_bad_id) == (False, 3)
    assert "link to the previous signature is broken" in result.message


def test_audit_verify_command_runs_the_signature_check(signed: tuple[Office, int], db_url: str) -> None:
    office, _ = signed
    from tui.cli import main

    ok = CliRunner().invoke(main, ["--db", db_url, "audit", "verify"])
    assert ok.exit_code == 0, ok.output
    assert "timecard signatures intact: 1 signatures, 1 signed cards" in ok.output
    _tamper(office.db, "UPDATE timecard_signatures SET signed_by = :u", u=office.sup2.user_id)
    bad = CliRunner().invoke(main, ["--db", db_url, "audit", "verify"])
    assert bad.exit_code == 1
    assert "timecard signature 1: content does not match its hash" in bad.output


def test_the_schedule_of_a_signed_period_is_frozen_with_the_card(signed: tuple[Office, int]) -> None:
    """Issue 12: editing a shift inside a signed period was not refused."""
    from db.models import User
    from scheduling import rostering, shifts

    office, card_id = signed
    db, sup = office.db, office.sup
    db.write(lambda s: s.execute(sa.update(User).values(hire_date=dt.date(2026, 1, 5))))
    wed = WEEK + dt.timedelta(days=2)
    shown = db.read(lambda s: shifts.schedule_grid(sup, s, WEEK, WEEK + dt.timedelta(days=6)))
    cell = next(c for r in shown.rows if r.login == "cleo" for c in r.cells if c.day == wed)
    for edit in (
        lambda s: shifts.set_cell(sup, s, "cleo", wed, None, expected_version=cell.version),
        lambda s: shifts.set_cell(sup, s, "cleo", WEEK + dt.timedelta(days=5), "D", expected_version=None),
    ):
        with pytest.raises(FrozenError, match="timecard for 2026-11-09 – 2026-11-15 is signed"):
            db.write(edit)
    # A build over that week keeps every cell of the signed card as it is.
    before = db.read(lambda s: shifts.schedule_grid(sup, s, WEEK, WEEK + dt.timedelta(days=6)))
    db.write(lambda s: rostering.build_roster(sup, s, WEEK, WEEK + dt.timedelta(days=6), time_limit=5))
    after = db.read(lambda s: shifts.schedule_grid(sup, s, WEEK, WEEK + dt.timedelta(days=6)))
    mine = [[(c.day, c.code) for c in r.cells] for g in (before, after) for r in g.rows if r.login == "cleo"]
    assert mine[0] == mine[1]
    # Unlocked, the schedule can change again.
    db.write(lambda s: timecards.unlock_timecard(sup, s, card_id, "wrong shift on Wednesday"))
    db.write(lambda s: shifts.set_cell(sup, s, "cleo", wed, None, expected_version=cell.version))


def test_two_supervisors_signing_at_once_do_not_fork_the_signature_chain(
    office: Office, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The audit head is locked only at commit now (issue 11 §5), so the signature chain takes
    its own turn lock: two signers reading the same last signature would fork it."""
    import threading
    import time

    clean_week(office.db, office.clerk, office.sup)
    clean_week(office.db, office.clerk2, office.sup2)
    cards = [submit(office.db, office.clerk).timecard_id, submit(office.db, office.clerk2).timecard_id]
    real = timecards.content_hash

    def slow(*a: object, **kw: object) -> str:
        time.sleep(0.2)  # both signers inside _sign at once
        return real(*a, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(timecards, "content_hash", slow)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def signer(sup: Actor, card_id: int) -> None:
        db = Database(db_url)
        try:
            barrier.wait()
            db.write(lambda s: timecards.sign_timecard(sup, s, card_id))
        except BaseException as e:  # asserted below
            errors.append(e)
        finally:
            db.dispose()

    threads = [
        threading.Thread(target=signer, args=(sup, c))
        for sup, c in zip((office.sup, office.sup2), cards, strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    sigs = office.db.read(
        lambda s: list(s.scalars(sa.select(TimecardSignature).order_by(TimecardSignature.id)))
    )
    assert [g.prev_hash for g in sigs] == [GENESIS, sigs[0].hash]
