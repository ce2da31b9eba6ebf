"""Timecard figures as pure functions: exact minutes for rounding, grace, DST, overnight, overtime."""

from __future__ import annotations

import datetime as dt
import itertools

import pendulum
import pytest

from db.errors import ValidationError
from db.models import ClockKind
from scheduling.clock import Punch, ShiftSlot, attribute_days, first_invalid
from scheduling.periods import Period, make_rules, period_containing
from scheduling.timecards import TimeRules, compute_card, compute_day, make_time_rules, round_punch

NY = "America/New_York"
AS_OF = pendulum.datetime(2026, 12, 31, tz="UTC")  # after every day used here


def L(text: str) -> pendulum.DateTime:
    p = pendulum.parse(text, tz=NY)
    assert isinstance(p, pendulum.DateTime)
    return p.in_timezone("UTC")


def shift(day: str, start: str, end: str, sid: int = 1, unpaid: int = 0) -> ShiftSlot:
    d = dt.date.fromisoformat(day)
    e = L(end)
    return ShiftSlot(
        id=sid, day=d, starts_at=L(f"{day} {start}"), ends_at=e, code="D", unpaid_break_minutes=unpaid
    )


class Punches:
    def __init__(self) -> None:
        self.items: list[Punch] = []

    def add(self, kind: ClockKind, when: str) -> Punches:
        self.items.append(Punch(id=len(self.items) + 1, kind=kind, at=L(when)))
        return self

    def seg(self, start: str, end: str, *breaks: tuple[str, str]) -> Punches:
        self.add(ClockKind.IN, start)
        for a, b in breaks:
            self.add(ClockKind.BREAK_START, a).add(ClockKind.BREAK_END, b)
        return self.add(ClockKind.OUT, end)


def day_figures(
    day: str, sh: ShiftSlot | None, p: Punches, rules: TimeRules | None = None, time_off: bool = False
):
    return compute_day(dt.date.fromisoformat(day), sh, p.items, time_off, rules or TimeRules(), AS_OF)


# --------------------------------------------------------------------------- rounding


@pytest.mark.parametrize(
    ("punch", "minutes", "expected"),
    [
        ("2026-11-09 08:07", 15, "2026-11-09 08:00"),  # down
        ("2026-11-09 08:08", 15, "2026-11-09 08:15"),  # up
        ("2026-11-09 08:07:59", 15, "2026-11-09 08:00"),  # the shown minute counts, not the seconds
        ("2026-11-09 16:52", 15, "2026-11-09 16:45"),
        ("2026-11-09 16:53", 15, "2026-11-09 17:00"),
        ("2026-11-09 23:53", 15, "2026-11-10 00:00"),  # across midnight
        ("2026-11-09 08:02", 5, "2026-11-09 08:00"),
        ("2026-11-09 08:03", 5, "2026-11-09 08:05"),
        ("2026-11-09 08:02", 6, "2026-11-09 08:00"),
        ("2026-11-09 08:03", 6, "2026-11-09 08:06"),  # half up
        ("2026-11-09 08:07:45", 0, "2026-11-09 08:07"),  # none: the minute the clock shows
    ],
)
def test_round_punch_to_the_nearest_mark_both_directions(punch: str, minutes: int, expected: str) -> None:
    assert round_punch(L(punch), minutes, NY) == L(expected)


@pytest.mark.parametrize("minutes", [5, 6, 15])
def test_rounding_is_neutral_on_average(minutes: int) -> None:
    """Over every in-minute and out-minute within a rounding step, rounded pay equals real time."""
    rules = TimeRules(rounding=minutes, grace_minutes=5)
    worked = paid = 0
    for a, b in itertools.product(range(minutes), repeat=2):
        p = Punches().seg(f"2026-11-09 08:{a:02d}", f"2026-11-09 16:{30 + b:02d}")
        f = day_figures("2026-11-09", None, p, rules)
        worked += f.worked_minutes
        paid += f.paid_minutes
    assert paid == worked
    assert worked == minutes * minutes * (8 * 60 + 30)


def test_rounding_applies_to_pay_only_never_to_lateness() -> None:
    """7 minutes late with 15-minute rounding: paid as if on time, still 7 minutes late."""
    sh = shift("2026-11-09", "08:00", "2026-11-09 16:00")
    p = Punches().seg("2026-11-09 08:07", "2026-11-09 16:00")
    f = day_figures("2026-11-09", sh, p, TimeRules(rounding=15, grace_minutes=5))
    assert (f.paid_minutes, f.worked_minutes, f.late_minutes) == (480, 473, 7)
    card = compute_card(Period(sh.day, sh.day), [sh], p.items, (), TimeRules(rounding=15), AS_OF)
    assert (card.regular_minutes, card.late_minutes) == (480, 7)


def test_rounding_applies_to_break_punches_too() -> None:
    p = Punches().seg("2026-11-09 08:00", "2026-11-09 16:30", ("2026-11-09 12:02", "2026-11-09 12:38"))
    f = day_figures("2026-11-09", None, p, TimeRules(rounding=15))
    assert (f.worked_minutes, f.break_minutes, f.paid_minutes) == (474, 36, 465)  # 12:00–12:45 unpaid


# --------------------------------------------------------------------------- grace, lateness, early leave


@pytest.mark.parametrize(
    ("clock_in", "late", "note"),
    [
        ("08:00", 0, None),
        ("07:50", 0, None),
        ("08:05", 0, "5 min after the start, within the 5-minute grace"),
        ("08:06", 6, "late 6 min"),
        ("08:07", 7, "late 7 min"),  # the full minutes once beyond grace
        ("08:07:59", 7, "late 7 min"),
    ],
)
def test_lateness_is_the_full_minutes_once_beyond_grace(clock_in: str, late: int, note: str | None) -> None:
    sh = shift("2026-11-09", "08:00", "2026-11-09 16:00")
    f = day_figures("2026-11-09", sh, Punches().seg(f"2026-11-09 {clock_in}", "2026-11-09 16:00"))
    assert f.late_minutes == late
    if note:
        assert note in f.notes


def test_early_leave_uses_the_same_grace() -> None:
    sh = shift("2026-11-09", "08:00", "2026-11-09 16:00")
    assert (
        day_figures("2026-11-09", sh, Punches().seg("2026-11-09 08:00", "2026-11-09 15:55")).early_minutes
        == 0
    )
    f = day_figures("2026-11-09", sh, Punches().seg("2026-11-09 08:00", "2026-11-09 15:42"))
    assert (f.early_minutes, f.worked_minutes) == (18, 462)
    assert "left 18 min early" in f.notes


def test_split_day_late_uses_first_in_and_early_uses_last_out() -> None:
    sh = shift("2026-11-09", "08:00", "2026-11-09 16:00")
    p = Punches().seg("2026-11-09 08:00", "2026-11-09 11:00").seg("2026-11-09 12:00", "2026-11-09 16:00")
    f = day_figures("2026-11-09", sh, p)
    assert (f.late_minutes, f.early_minutes, f.worked_minutes) == (0, 0, 420)


def test_breaks_are_unpaid_and_scheduled_minutes_drop_the_unpaid_break() -> None:
    sh = shift("2026-11-09", "08:00", "2026-11-09 16:30", unpaid=30)
    p = Punches().seg("2026-11-09 08:00", "2026-11-09 16:30", ("2026-11-09 12:00", "2026-11-09 12:30"))
    f = day_figures("2026-11-09", sh, p)
    assert (f.scheduled_minutes, f.worked_minutes, f.break_minutes, f.paid_minutes) == (480, 480, 30, 480)


# --------------------------------------------------------------------------- absence, time off, open


def test_absent_only_when_the_shift_is_over_and_no_time_off() -> None:
    sh = shift("2026-11-09", "08:00", "2026-11-09 16:00")
    absent = compute_day(dt.date(2026, 11, 9), sh, [], False, TimeRules(), L("2026-11-09 16:00"))
    assert (absent.absent, absent.status) == (True, "absent")
    off = compute_day(dt.date(2026, 11, 9), sh, [], True, TimeRules(), L("2026-11-09 17:00"))
    assert (off.absent, off.status) == (False, "time off")
    running = compute_day(dt.date(2026, 11, 9), sh, [], False, TimeRules(), L("2026-11-09 09:00"))
    assert (running.absent, running.status) == (False, "not in yet")
    future = compute_day(dt.date(2026, 11, 9), sh, [], False, TimeRules(), L("2026-11-09 07:00"))
    assert (future.absent, future.status) == (False, "scheduled")


def test_open_segment_counts_nothing_yet_and_is_flagged() -> None:
    sh = shift("2026-11-09", "08:00", "2026-11-09 16:00")
    p = Punches().add(ClockKind.IN, "2026-11-09 08:02")
    f = day_figures("2026-11-09", sh, p)
    assert (f.open, f.worked_minutes, f.status, f.early_minutes) == (True, 0, "clocked in", 0)


def test_unscheduled_work_is_flagged() -> None:
    f = day_figures("2026-11-14", None, Punches().seg("2026-11-14 09:00", "2026-11-14 13:00"))
    assert (f.unscheduled, f.worked_minutes, f.scheduled_minutes) == (True, 240, 0)


# --------------------------------------------------------------------------- overnight and DST


def test_overnight_clock_out_after_midnight_belongs_to_the_day_of_the_clock_in() -> None:
    sh = shift("2026-11-10", "22:00", "2026-11-11 06:00")
    p = Punches().seg("2026-11-10 21:58", "2026-11-11 06:03")
    pairs = attribute_days(p.items, [sh], NY)
    assert [d for _, d in pairs] == [dt.date(2026, 11, 10)] * 2
    card = compute_card(
        Period(dt.date(2026, 11, 9), dt.date(2026, 11, 15)), [sh], p.items, (), TimeRules(), AS_OF
    )
    tue, wed = card.days[1], card.days[2]
    assert (tue.worked_minutes, tue.late_minutes, tue.scheduled_minutes) == (485, 0, 480)
    assert (wed.worked_minutes, wed.status) == (0, "off")


def test_a_clock_in_just_before_midnight_belongs_to_the_shift_starting_at_midnight() -> None:
    sh = shift("2026-11-11", "00:00", "2026-11-11 08:00")
    p = Punches().seg("2026-11-10 23:52", "2026-11-11 08:00")
    assert [d for _, d in attribute_days(p.items, [sh], NY)] == [dt.date(2026, 11, 11)] * 2


def test_without_a_shift_a_clock_in_belongs_to_its_own_date() -> None:
    p = Punches().seg("2026-11-10 23:52", "2026-11-11 02:00")
    assert [d for _, d in attribute_days(p.items, [], NY)] == [dt.date(2026, 11, 10)] * 2


def test_fall_back_night_shift_is_nine_hours() -> None:
    # 2026-11-01 02:00 EDT → 01:00 EST: the night has 25 hours.
    sh = shift("2026-10-31", "22:00", "2026-11-01 06:00")
    p = Punches().seg("2026-10-31 22:00", "2026-11-01 06:00")
    card = compute_card(
        Period(dt.date(2026, 10, 26), dt.date(2026, 11, 1)), [sh], p.items, (), TimeRules(), AS_OF
    )
    sat = card.days[5]
    assert (sat.day, sat.scheduled_minutes, sat.worked_minutes, sat.paid_minutes) == (
        dt.date(2026, 10, 31),
        540,
        540,
        540,
    )
    assert (sat.late_minutes, sat.early_minutes) == (0, 0)


def test_spring_forward_night_shift_is_seven_hours() -> None:
    # 2026-03-08 02:00 EST → 03:00 EDT: the night has 23 hours.
    sh = shift("2026-03-07", "22:00", "2026-03-08 06:00")
    p = Punches().seg("2026-03-07 22:00", "2026-03-08 06:00")
    card = compute_card(
        Period(dt.date(2026, 3, 2), dt.date(2026, 3, 8)), [sh], p.items, (), TimeRules(), AS_OF
    )
    sat = card.days[5]
    assert (sat.scheduled_minutes, sat.worked_minutes, sat.paid_minutes) == (420, 420, 420)


def test_rounding_on_the_fall_back_night_uses_the_wall_clock_at_each_punch() -> None:
    # 01:53 EDT rounds up to 02:00 EDT, which is the instant of 01:00 EST; 01:07 EST rounds
    # down to 01:00 EST. Real time 14 minutes (05:53Z → 06:07Z), paid 0.
    p = Punches().seg("2026-11-01T01:53:00-04:00", "2026-11-01T01:07:00-05:00")
    f = day_figures("2026-11-01", None, p, TimeRules(rounding=15))
    assert (f.worked_minutes, f.paid_minutes) == (14, 0)


# --------------------------------------------------------------------------- overtime


def _week(paid_per_day: list[int], rules: TimeRules) -> tuple:
    start = dt.date(2026, 11, 9)
    p = Punches()
    for i, minutes in enumerate(paid_per_day):
        d = start + dt.timedelta(days=i)
        begin = pendulum.datetime(d.year, d.month, d.day, 8, tz=NY)
        end = begin.add(minutes=minutes)
        p.add(ClockKind.IN, begin.to_iso8601_string()).add(ClockKind.OUT, end.to_iso8601_string())
    card = compute_card(Period(start, start + dt.timedelta(days=6)), [], p.items, (), rules, AS_OF)
    return card, [(d.regular_minutes, d.overtime_minutes) for d in card.days]


def test_weekly_overtime_beyond_the_threshold_falls_on_the_last_days() -> None:
    card, days = _week([540] * 5, TimeRules(weekly_overtime_minutes=2400))
    assert (card.paid_minutes, card.regular_minutes, card.overtime_minutes) == (2700, 2400, 300)
    assert days[:5] == [(540, 0), (540, 0), (540, 0), (540, 0), (240, 300)]


def test_daily_overtime_is_not_counted_twice_against_the_week() -> None:
    rules = TimeRules(weekly_overtime_minutes=2400, daily_overtime_minutes=480)
    card, days = _week([540] * 5, rules)
    # 60 daily overtime each day; the remaining 5 × 480 = 2400 reach but do not pass the week.
    assert (card.regular_minutes, card.overtime_minutes) == (2400, 300)
    assert days[:5] == [(480, 60)] * 5


def test_daily_and_weekly_overtime_together() -> None:
    rules = TimeRules(weekly_overtime_minutes=2400, daily_overtime_minutes=480)
    card, days = _week([540] * 6, rules)
    # daily: 6 × 60 = 360; toward the week 6 × 480 = 2880 → 480 weekly overtime on Saturday.
    assert (card.paid_minutes, card.regular_minutes, card.overtime_minutes) == (3240, 2400, 840)
    assert days[5] == (0, 540)
    assert sum(d.daily_overtime_minutes for d in card.days) == 360


def test_weekly_overtime_counts_per_pay_week_in_a_biweekly_period() -> None:
    start = dt.date(2026, 11, 2)
    p = Punches()
    for i in list(range(5)) + list(range(7, 11)):  # 5 long days in week 1, 4 in week 2
        d = start + dt.timedelta(days=i)
        p.seg(f"{d.isoformat()} 08:00", f"{d.isoformat()} 18:00")  # 600 min
    card = compute_card(Period(start, start + dt.timedelta(days=13)), [], p.items, (), TimeRules(), AS_OF)
    assert (card.paid_minutes, card.regular_minutes, card.overtime_minutes) == (5400, 4800, 600)


# --------------------------------------------------------------------------- rules and periods


def test_time_rules_refuse_bad_settings() -> None:
    with pytest.raises(ValidationError) as e:
        make_time_rules(NY, -1, 10, 0, 0)
    assert set(e.value.fields) == {
        "time.grace_minutes",
        "time.pay_rounding",
        "time.weekly_overtime_minutes",
        "time.daily_overtime_minutes",
    }


def test_weekly_periods_start_on_the_configured_weekday() -> None:
    monday = make_rules("weekly", 0, "2026-01-05")
    assert period_containing(dt.date(2026, 11, 18), monday) == Period(
        dt.date(2026, 11, 16), dt.date(2026, 11, 22)
    )
    sunday = make_rules("weekly", 6, "2026-01-04")
    assert period_containing(dt.date(2026, 11, 18), sunday) == Period(
        dt.date(2026, 11, 15), dt.date(2026, 11, 21)
    )


def test_biweekly_periods_follow_the_anchor() -> None:
    rules = make_rules("biweekly", 0, "2026-01-05")
    # 2026-01-05 + 22 × 14 days = 2026-11-09.
    assert period_containing(dt.date(2026, 11, 18), rules) == Period(
        dt.date(2026, 11, 9), dt.date(2026, 11, 22)
    )
    assert period_containing(dt.date(2026, 11, 8), rules) == Period(
        dt.date(2026, 10, 26), dt.date(2026, 11, 8)
    )
    # An anchor off the start weekday moves back to it (Wed 7 Jan → Mon 5 Jan).
    assert make_rules("biweekly", 0, "2026-01-07").anchor == dt.date(2026, 1, 5)
    # Before the anchor too.
    assert period_containing(dt.date(2025, 12, 25), rules) == Period(
        dt.date(2025, 12, 22), dt.date(2026, 1, 4)
    )


def test_period_instants_follow_dst() -> None:
    week = Period(dt.date(2026, 10, 26), dt.date(2026, 11, 1))
    assert (week.end_instant(NY) - week.start_instant(NY)).total_seconds() == 169 * 3600


def test_bad_period_settings_are_named() -> None:
    with pytest.raises(ValidationError) as e:
        make_rules("monthly", 7, "soon")
    assert set(e.value.fields) == {"time.pay_period", "time.period_start_weekday", "time.period_anchor"}


def test_state_machine_names_the_first_nonsense() -> None:
    p = Punches().add(ClockKind.IN, "2026-11-09 08:00").add(ClockKind.IN, "2026-11-09 09:00")
    bad = first_invalid(p.items)
    assert bad is not None and bad[0].id == 2 and bad[1] == "in"
    assert (
        first_invalid(
            Punches()
            .seg("2026-11-09 08:00", "2026-11-09 09:00", ("2026-11-09 08:30", "2026-11-09 08:40"))
            .items
        )
        is None
    )
