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
    assert (by["cora"].clocked_in_at, by["cora"].late_minutes) == (None, 60)
    assert [p.login for p in d.late_arrivals] == ["carl", "cora"]
    assert d.time_off_pending == 1 and d.pending_approvals == 1
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
