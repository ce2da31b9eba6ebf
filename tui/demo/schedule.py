"""Demo schedule: shift types, coverage, rules, holidays, time off, requests, and rosters built by
the engine for last week, this week and next week (published) and the week after (draft).

The office is open Monday to Saturday. Every roster is built deterministically: one solver
thread, a fixed seed and a limit in the solver's deterministic time rather than seconds, so the
same seed gives the same schedule however fast or busy the machine is.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from db.rights import Actor
from scheduling import rostering, shifts, timeoff
from scheduling.roster import SolveStatus
from tui.demo.context import DemoContext

SHIFT_TYPES = [("E", "Early", dt.time(7, 0)), ("M", "Mid", dt.time(9, 0)), ("L", "Late", dt.time(11, 0))]
# (shift, weekdays, minimum, preferred, weight per missing person, weight per extra person)
COVERAGE = [
    ("E", range(5), 3, 4, 100, 20),
    ("M", range(5), 2, 3, 60, 20),
    ("L", range(5), 3, 3, 100, 20),
    ("E", [5], 2, 2, 80, 20),
    ("L", [5], 1, 2, 80, 20),
]
TEAM_RULE = {
    "min_minutes": 1920,
    "max_minutes": 2400,
    "max_consecutive_work": 5,
    "max_weekends": 2,
    "forbidden_sequences": [("L", "E")],  # a late shift ends at 19:00: no 07:00 start the next day
    "fixed_days_off": [6],  # closed on Sundays
}
# Part-timers and special cases: their own rule wins over the team's, field by field.
CLERK_RULES = {
    "bwalker": {"min_minutes": 1440, "max_minutes": 1920},
    "hkim": {"min_minutes": 1440, "max_minutes": 1920},
    "dpatel": {"min_minutes": 960, "max_minutes": 1440, "max_shifts": {"L": 0}},  # school pick-up
    "jlopez": {"min_minutes": 480, "max_minutes": 960, "fixed_days_off": [1, 3, 5]},
}
# Per week, in CP-SAT deterministic time (about seconds on a quick machine): the demo weeks solve
# to optimality in a fraction of it, and a slow machine takes longer but finds the same roster.
SOLVE_SECONDS = 5.0


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> dt.date:
    first = dt.date(year, month, 1)
    return first + dt.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def _last_weekday(year: int, month: int, weekday: int) -> dt.date:
    nxt = dt.date(year + month // 12, month % 12 + 1, 1)
    last = nxt - dt.timedelta(days=1)
    return last - dt.timedelta(days=(last.weekday() - weekday) % 7)


def _observed(day: dt.date) -> dt.date:
    """A holiday on Saturday is observed on Friday, on Sunday the Monday after."""
    if day.weekday() == 5:
        return day - dt.timedelta(days=1)
    if day.weekday() == 6:
        return day + dt.timedelta(days=1)
    return day


def office_holidays(year: int) -> list[tuple[dt.date, str]]:
    """The US federal holidays a billing office usually closes for (observed dates)."""
    return [
        (_observed(dt.date(year, 1, 1)), "New Year's Day"),
        (_nth_weekday(year, 1, 0, 3), "Martin Luther King Jr. Day"),
        (_nth_weekday(year, 2, 0, 3), "Presidents' Day"),
        (_last_weekday(year, 5, 0), "Memorial Day"),
        (_observed(dt.date(year, 6, 19)), "Juneteenth"),
        (_observed(dt.date(year, 7, 4)), "Independence Day"),
        (_nth_weekday(year, 9, 0, 1), "Labor Day"),
        (_nth_weekday(year, 11, 3, 4), "Thanksgiving Day"),
        (_observed(dt.date(year, 12, 25)), "Christmas Day"),
    ]


def build_schedule(ctx: DemoContext) -> None:
    rng = ctx.rng_for("schedule")
    sup = ctx.supervisor  # mreyes leads Insurance
    lead = {a.login: a for a in ctx.supervisors}
    public_lead = lead.get("dokafor", sup)
    clerk = {a.login: a for a in ctx.clerks}
    mon = ctx.today - dt.timedelta(days=ctx.today.weekday())
    weeks = [mon + dt.timedelta(days=7 * k) for k in (-1, 0, 1, 2)]

    def setup(a: Actor, s: Session) -> None:
        for code, name, start in SHIFT_TYPES:
            shifts.add_shift_type(a, s, code=code, name=name, start_time=start, minutes=480)
        for code, days, required, preferred, under, over in COVERAGE:
            for wd in days:
                shifts.set_coverage(
                    a,
                    s,
                    code,
                    weekday=wd,
                    required=required,
                    preferred=preferred,
                    under_weight=under,
                    over_weight=over,
                )
        for team in ("Insurance", "Public & Employer"):
            shifts.set_rule(a, s, team=team, **TEAM_RULE)  # type: ignore[arg-type]  # a dict of the rule's keyword values, mixed types
        for login, rule in CLERK_RULES.items():
            shifts.set_rule(a, s, login=login, **rule)  # type: ignore[arg-type]  # a dict of the rule's keyword values, mixed types
        for year in range(weeks[0].year, weeks[-1].year + 2):  # this year's and next year's
            for day, name in office_holidays(year):
                shifts.add_holiday(a, s, day, name)

    ctx.write(sup, setup)

    # Time off: one recorded sick spell last week, one approved and one declined for next week,
    # one waiting for a decision in the week after.
    def time_off(_: Actor, s: Session) -> None:
        timeoff.record_time_off(
            public_lead,
            s,
            "hkim",
            weeks[0] + dt.timedelta(days=2),
            weeks[0] + dt.timedelta(days=3),
            "sick (flu)",
        )
        a = timeoff.request_time_off(
            clerk["aruiz"],
            s,
            weeks[2] + dt.timedelta(days=3),
            weeks[2] + dt.timedelta(days=4),
            "sister's wedding",
        )
        timeoff.approve_time_off(sup, s, a.id, "congratulations!")
        g = timeoff.request_time_off(clerk["gmorales"], s, weeks[2], weeks[2], "long weekend")
        timeoff.decline_time_off(public_lead, s, g.id, "month-end close: everyone is needed that Monday")
        timeoff.request_time_off(
            clerk["fadeyemi"],
            s,
            weeks[3] + dt.timedelta(days=2),
            weeks[3] + dt.timedelta(days=4),
            "moving house",
        )
        # Wishes for next week and the week after (soft; each with a weight).
        timeoff.add_shift_request(clerk["jchen"], s, weeks[2] + dt.timedelta(days=4), "L", True, 5)
        timeoff.add_shift_request(clerk["eschmidt"], s, weeks[2], "E", False, 3)
        timeoff.add_shift_request(clerk["kmurphy"], s, weeks[2] + dt.timedelta(days=5), None, False, 8)
        day = weeks[3] + dt.timedelta(days=rng.randrange(5))
        timeoff.add_shift_request(clerk["ibrown"], s, day, "M", True, 4)

    ctx.write(sup, time_off)

    built: list[rostering.BuildResult] = []
    for k, start in enumerate(weeks):
        end = start + dt.timedelta(days=6)

        def build(a: Actor, s: Session, start: dt.date = start, end: dt.date = end) -> rostering.BuildResult:
            return rostering.build_roster(
                a, s, start, end, time_limit=SOLVE_SECONDS, workers=1, seed=ctx.seed, deterministic=True
            )

        result = ctx.write(sup, build)
        if result.status not in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE):
            raise RuntimeError(f"demo roster for {start} failed: {result.status.value} {result.conflicts}")
        built.append(result)
        if k < 3:
            ctx.write(sup, lambda a, s, start=start, end=end: shifts.publish(a, s, start, end))
    ctx.data["schedule.weeks"] = weeks
    ctx.data["schedule.builds"] = built
