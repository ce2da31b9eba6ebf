"""The roster builder and the grid evaluator, over the database (docs/roster.md).

The engine in ``scheduling.roster`` is pure (problem dataclasses in, roster out). This module
turns the office's records into engine problems, runs the solver, saves its roster as draft
shifts, and evaluates the grid with the engine's independent evaluator.

How records become a problem (one problem per schedule week, Monday–Sunday):

* clerks employed at some point of the week, plus anyone who already has a shift in it;
* each clerk's effective rule: their own rule over their team's, field by field
  (``shifts.merge_rules``); minutes and shift counts are per week, working weekends per month;
* fixed days off: the rule's weekdays, weekdays the clerk is unavailable, approved time off,
  days off a supervisor pinned on the grid, holidays, and days outside their employment;
* the weekly minimum drops by one day's work (their longest qualified shift) for each open day
  (a day with coverage wanted) they are absent on, so time off never makes a week infeasible;
* coverage per day and shift type: a date-specific requirement wins over the weekday one; the
  engine aims at the preferred number (else the minimum); none on holidays;
* history: the 14 days before the week (published and draft shifts);
* fixed cells: shifts marked fixed (hand edits), published shifts, and with ``keep_edits``
  every existing cell; the builder fills only the other cells;
* a build of part of a week counts the shifts on that week's other days against the weekly
  limits, and weekends already worked that month against the monthly one.

A multi-week build solves week after week, each week seeing the previous one as history.
Reading, solving and saving are three steps (``plan_build``, ``solve_plan``, ``save_build``) so
that a caller can solve outside any transaction; ``save_build`` refuses if the grid changed
meanwhile. ``build_roster`` does all three in one session.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import sqlalchemy as sa
from sqlalchemy.orm import Session

from db.errors import ConflictError, ValidationError
from db.models import CoverageRequirement, Holiday, Role, Shift, ShiftRequest, ShiftStatus, ShiftType, User
from db.rights import Action, Actor, require
from db.settings import get_setting, office_timezone
from scheduling import roster
from scheduling.roster import PenaltyItem, RosterProblem, SolveStatus, StopReason
from scheduling.roster.problem import fmt_day
from scheduling.shifts import (
    CoverageTotal,
    CoverageView,
    EffectiveRule,
    RuleBreak,
    ShiftTypeView,
    _put,
    check_range,
    days_between,
    effective_rules,
    paid_minutes,
    pinned_days_off,
    signed_days,
    week_start,
)
from scheduling.timeoff import approved_days_off, unavailable_weekdays

HISTORY_DAYS = 14
MIN_REST_DEFAULT_HOURS = 11  # the setting schedule.min_rest_hours (EU working-time rule)
DEFAULT_DAY_MINUTES = 480  # a day's work when a clerk is qualified for nothing


# --------------------------------------------------------------------------- the data read once


@dataclass
class _Cell:
    shift_id: int | None
    user_id: int
    code: str
    fixed: bool
    status: ShiftStatus
    version: int | None


@dataclass(frozen=True)
class _Person:
    user_id: int
    login: str
    name: str
    team: str
    role: Role
    hire_date: dt.date
    termination_date: dt.date | None
    rule: EffectiveRule
    unavailable: frozenset[int]

    def employed(self, day: dt.date) -> bool:
        return self.hire_date <= day and (self.termination_date is None or self.termination_date >= day)


Key = tuple[str, dt.date]  # (login, day)


@dataclass
class RosterContext:
    """Everything about a window of days that the builder and the evaluator need."""

    lo: dt.date
    hi: dt.date
    tz: str
    types: dict[str, ShiftTypeView]
    people: dict[str, _Person]
    holidays: dict[dt.date, str]
    time_off: dict[str, set[dt.date]]
    requests: list[tuple[str, dt.date, str | None, bool, int]]
    coverage_weekday: dict[tuple[int, str], CoverageView]
    coverage_date: dict[tuple[dt.date, str], CoverageView]
    cells: dict[Key, _Cell]
    min_rest_minutes: int = MIN_REST_DEFAULT_HOURS * 60
    frozen: frozenset[Key] = frozenset()  # cells inside signed timecards: the builder keeps them
    pinned_off: frozenset[Key] = frozenset()  # days off pinned on the grid: no shift there

    def coverage_for(self, day: dt.date, code: str, *, holidays: bool = True) -> CoverageView | None:
        if holidays and day in self.holidays:
            return None
        return self.coverage_date.get((day, code)) or self.coverage_weekday.get((day.weekday(), code))

    def is_open(self, day: dt.date) -> bool:
        """The office wants somebody on some shift that day (holidays aside)."""
        for t in self.types.values():
            cv = self.coverage_for(day, t.code, holidays=False) if t.active else None
            if cv is not None and cv.target > 0:
                return True
        return False

    def absent(self, p: _Person, day: dt.date) -> bool:
        # A pinned day off counts like time off: it lowers the weekly minimum, so pinning never
        # makes a week impossible on its own.
        return (
            day in self.holidays
            or day in self.time_off.get(p.login, ())
            or (p.login, day) in self.pinned_off
            or not p.employed(day)
        )


def _window(start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """Days to read for a range: its whole weeks, the history before, the months' weekends."""
    ws = week_start(start)
    we = week_start(end) + dt.timedelta(days=6)
    lo = min(ws - dt.timedelta(days=HISTORY_DAYS), ws.replace(day=1))
    nxt = (we.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    hi = max(we, nxt)  # the month's last Saturday may have its Sunday in the next month
    return lo, hi


def load_context(session: Session, start: dt.date, end: dt.date) -> RosterContext:
    """Read what building or evaluating start..end needs (no rights check: internal)."""
    lo, hi = _window(start, end)
    tz = office_timezone(session)
    types = {
        t.code: ShiftTypeView(t.id, t.code, t.name, t.start_time, t.minutes, t.unpaid_break_minutes, t.active)
        for t in session.scalars(sa.select(ShiftType))
    }
    code_of = {v.id: k for k, v in types.items()}
    shifts = list(session.scalars(sa.select(Shift).where(Shift.day >= lo, Shift.day <= hi)))
    with_shifts = {sh.user_id for sh in shifts}
    users = list(
        session.scalars(
            sa.select(User)
            .where(
                sa.or_(
                    sa.and_(
                        User.role == Role.CLERK,
                        User.hire_date <= hi,
                        sa.or_(User.termination_date.is_(None), User.termination_date >= lo),
                    ),
                    User.id.in_(with_shifts) if with_shifts else sa.false(),
                )
            )
            .options(sa.orm.joinedload(User.team))
        ).unique()
    )
    rules = effective_rules(session, users)
    unavailable = unavailable_weekdays(session)
    people = {
        u.login: _Person(
            u.id,
            u.login,
            u.name,
            u.team.name if u.team else "",
            u.role,
            u.hire_date,
            u.termination_date,
            rules[u.id],
            frozenset(unavailable.get(u.id, ())),
        )
        for u in users
    }
    login_of = {p.user_id: p.login for p in people.values()}
    cells = {
        (login_of[sh.user_id], sh.day): _Cell(
            sh.id, sh.user_id, code_of[sh.shift_type_id], sh.fixed, sh.status, sh.version
        )
        for sh in shifts
    }
    off = approved_days_off(session, lo, hi)
    time_off = {login_of[uid]: days for uid, days in off.items() if uid in login_of}
    holidays = {
        h.day: h.name for h in session.scalars(sa.select(Holiday).where(Holiday.day >= lo, Holiday.day <= hi))
    }
    requests = [
        (login_of[r.user_id], r.day, code_of[r.shift_type_id] if r.shift_type_id else None, r.wants, r.weight)
        for r in session.scalars(
            sa.select(ShiftRequest)
            .where(ShiftRequest.day >= lo, ShiftRequest.day <= hi)
            .order_by(ShiftRequest.id)
        )
        if r.user_id in login_of
    ]
    cw: dict[tuple[int, str], CoverageView] = {}
    cd: dict[tuple[dt.date, str], CoverageView] = {}
    for c in session.scalars(
        sa.select(CoverageRequirement).where(
            sa.or_(
                CoverageRequirement.on_date.is_(None),
                sa.and_(CoverageRequirement.on_date >= lo, CoverageRequirement.on_date <= hi),
            )
        )
    ):
        view = CoverageView(
            c.id,
            code_of[c.shift_type_id],
            c.weekday,
            c.on_date,
            c.required,
            c.preferred,
            c.under_weight,
            c.over_weight,
        )
        if c.on_date is not None:
            cd[(c.on_date, view.shift_code)] = view
        elif c.weekday is not None:
            cw[(c.weekday, view.shift_code)] = view
    rest = get_setting(session, "schedule.min_rest_hours")
    frozen = frozenset(
        (login_of[uid], d) for uid, d in signed_days(session, lo, hi, login_of) if uid in login_of
    )
    pinned = frozenset((login_of[uid], d) for uid, d in pinned_days_off(session, lo, hi) if uid in login_of)
    return RosterContext(
        lo,
        hi,
        tz,
        types,
        people,
        holidays,
        time_off,
        requests,
        cw,
        cd,
        cells,
        round(float(rest) * 60),
        frozen,
        pinned,
    )


# --------------------------------------------------------------------------- records → problem


@dataclass(frozen=True)
class _Made:
    problem: RosterProblem
    days: tuple[dt.date, ...]
    fixed: frozenset[Key]


def _people_for(ctx: RosterContext, days: Sequence[dt.date], cells: Mapping[Key, _Cell]) -> list[_Person]:
    out = [
        p
        for p in ctx.people.values()
        if (p.role == Role.CLERK and any(p.employed(d) for d in days))
        or any((p.login, d) in cells for d in days)
    ]
    return sorted(out, key=lambda p: (p.team, p.name, p.login))


def make_problem(
    ctx: RosterContext,
    days: Sequence[dt.date],
    cells: Mapping[Key, _Cell] | None = None,
    *,
    build: bool,
    keep_edits: bool = False,
) -> _Made:
    """The engine problem for ``days`` (consecutive, within one schedule week).

    ``build``: fixed cells are pinned and retired shift types are not offered; otherwise the
    problem is for evaluating the cells as they are.
    """
    cells = ctx.cells if cells is None else cells
    days = list(days)
    ws = week_start(days[0])
    if week_start(days[-1]) != ws:
        raise ValueError("a roster problem covers days of one schedule week")
    week = days_between(ws, ws + dt.timedelta(days=6))
    chunk = set(days)
    outside = [d for d in week if d not in chunk]
    history_days = [days[0] - dt.timedelta(days=k) for k in range(HISTORY_DAYS, 0, -1)]
    people = _people_for(ctx, days, cells)

    codes = {c for c, t in ctx.types.items() if t.active}
    for p in people:
        for d in (*history_days, *days):
            cell = cells.get((p.login, d))
            if cell is not None:
                codes.add(cell.code)
    types = sorted((ctx.types[c] for c in codes), key=lambda t: (t.start_time, t.code))
    minutes = {t.code: t.nominal_paid_minutes for t in types}
    saturday = ws + dt.timedelta(days=5)
    weekend_in_chunk = any(d.weekday() >= 5 for d in days)

    fixed: dict[Key, str | None] = {}
    clerks: list[roster.Clerk] = []
    history: dict[str, list[str | None]] = {}
    for p in people:
        r = p.rule
        mine = {d: cells.get((p.login, d)) for d in week}
        kept: set[dt.date] = set()
        if build:
            for d in days:
                c = mine[d]
                if (p.login, d) in ctx.frozen:
                    fixed[(p.login, d)] = c.code if c is not None else None
                    kept.add(d)
                elif c is not None and (c.fixed or c.status == ShiftStatus.PUBLISHED or keep_edits):
                    fixed[(p.login, d)] = c.code
                    kept.add(d)
                elif c is not None and p.role != Role.CLERK:
                    fixed[(p.login, d)] = c.code  # the builder never plans people who are not clerks
                    kept.add(d)
        off = {
            d
            for d in days
            if d.weekday() in r.fixed_days_off or d.weekday() in p.unavailable or ctx.absent(p, d)
        }
        if build and p.role != Role.CLERK:
            off |= chunk - kept

        outside_cells = [mine[d] for d in outside if mine[d] is not None]
        outside_minutes = sum(ctx.types[c.code].nominal_paid_minutes for c in outside_cells if c)
        max_shifts: dict[str, int] = {}
        for t in types:
            limit = r.max_shifts.get(t.code)
            if build and not t.active:
                # A retired type stays only where a kept cell already holds it.
                here = sum(1 for d in kept if (c := mine[d]) is not None and c.code == t.code)
                limit = here if limit is None else min(limit, here)
            if limit is not None:
                used = sum(1 for c in outside_cells if c and c.code == t.code)
                max_shifts[t.code] = max(limit - used, 0) if limit > 0 else 0
        qualified = [minutes[t.code] for t in types if t.active and max_shifts.get(t.code, 1) > 0]
        day_work = max(qualified, default=DEFAULT_DAY_MINUTES)
        open_days = [d for d in week if ctx.is_open(d)]
        lowered = sum(1 for d in open_days if ctx.absent(p, d))
        lowered += sum(1 for d in outside if d in open_days and mine[d] is None and not ctx.absent(p, d))
        min_minutes = max((r.min_minutes or 0) - outside_minutes - lowered * day_work, 0)
        max_minutes = None if r.max_minutes is None else max(r.max_minutes - outside_minutes, 0)

        max_weekends = None
        if r.max_weekends is not None and weekend_in_chunk:
            worked = 0
            sat = saturday.replace(day=1)
            sat += dt.timedelta(days=(5 - sat.weekday()) % 7)
            while sat.month == saturday.month:
                if sat != saturday and (
                    (p.login, sat) in cells or (p.login, sat + dt.timedelta(days=1)) in cells
                ):
                    worked += 1
                sat += dt.timedelta(days=7)
            max_weekends = max(r.max_weekends - worked, 0)

        seqs = frozenset((a, b) for a, b in r.forbidden_sequences if a in minutes and b in minutes)
        clerks.append(
            roster.Clerk(
                p.login,
                p.name,
                roster.StaffRules(
                    min_minutes=min_minutes,
                    max_minutes=max_minutes,
                    max_shifts=max_shifts,
                    min_consecutive_work=r.min_consecutive_work or 1,
                    max_consecutive_work=r.max_consecutive_work,
                    min_consecutive_off=r.min_consecutive_off or 1,
                    max_weekends=max_weekends,
                    forbidden_sequences=seqs,
                    fixed_days_off=frozenset(off),
                ),
            )
        )
        history[p.login] = [c.code if (c := cells.get((p.login, d))) else None for d in history_days]

    coverage = []
    for d in days:
        for t in types:
            cv = ctx.coverage_for(d, t.code) if t.active else None
            if cv is not None:
                coverage.append(roster.Coverage(d, t.code, cv.target, cv.under_weight, cv.over_weight))
    logins = {p.login for p in people}
    requests = [
        roster.ShiftRequest(login, day, code, wants, weight)
        for login, day, code, wants, weight in ctx.requests
        if login in logins and day in chunk and (code is None or code in minutes)
    ]
    problem = RosterProblem(
        days=tuple(days),
        shift_types=tuple(
            roster.ShiftType(
                t.code, t.name, minutes[t.code], start_minute=t.start_time.hour * 60 + t.start_time.minute
            )
            for t in types
        ),
        staff=tuple(clerks),
        coverage=tuple(coverage),
        requests=tuple(requests),
        history=history,
        fixed=fixed,
        min_rest_minutes=ctx.min_rest_minutes,
        day_minutes={
            (d, t.code): m
            for d in days
            for t in types
            if (m := paid_minutes(d, t, ctx.tz)) != minutes[t.code]
        },
    )
    return _Made(problem, tuple(days), frozenset(fixed))


def _weeks(start: dt.date, end: dt.date) -> list[list[dt.date]]:
    """start..end cut at schedule-week boundaries."""
    out: list[list[dt.date]] = []
    for d in days_between(start, end):
        if not out or week_start(d) != week_start(out[-1][0]):
            out.append([])
        out[-1].append(d)
    return out


def build_problems(
    actor: Actor, session: Session, start: dt.date, end: dt.date, *, keep_edits: bool = False
) -> list[RosterProblem]:
    """The engine problems a build of start..end would solve, one per schedule week, as the
    database stands (a later week's history does not yet include an earlier week's result)."""
    require(actor, Action.SCHEDULE_EDIT)
    check_range(start, end)
    ctx = load_context(session, start, end)
    return [make_problem(ctx, w, build=True, keep_edits=keep_edits).problem for w in _weeks(start, end)]


def build_problem(
    actor: Actor, session: Session, start: dt.date, end: dt.date, *, keep_edits: bool = False
) -> RosterProblem:
    """The engine problem for start..end, which must lie within one schedule week (Mon–Sun)."""
    if week_start(start) != week_start(end):
        raise ValidationError.from_fields(
            {"to": "a single problem covers days of one week (Monday to Sunday)"}
        )
    return build_problems(actor, session, start, end, keep_edits=keep_edits)[0]


# --------------------------------------------------------------------------- evaluation


@dataclass(frozen=True)
class GridEvaluation:
    """The grid checked against every rule: hard breaks, soft misses, coverage per day/shift."""

    start: dt.date
    end: dt.date
    violations: tuple[RuleBreak, ...]
    penalty: int
    by_rule: Mapping[str, int]
    items: tuple[PenaltyItem, ...]
    coverage: tuple[CoverageTotal, ...]

    @property
    def feasible(self) -> bool:
        return not self.violations

    @property
    def shortfalls(self) -> tuple[CoverageTotal, ...]:
        """Day/shift cells below the minimum."""
        return tuple(c for c in self.coverage if c.short > 0)


def _coverage_totals(ctx: RosterContext, days: Iterable[dt.date]) -> list[CoverageTotal]:
    out = []
    counts: dict[tuple[dt.date, str], list[int]] = {}
    for (_, d), c in ctx.cells.items():
        n = counts.setdefault((d, c.code), [0, 0])
        n[0] += 1
        n[1] += c.status == ShiftStatus.PUBLISHED
    types = sorted(ctx.types.values(), key=lambda t: (t.start_time, t.code))
    for d in days:
        for t in types:
            scheduled, published = counts.get((d, t.code), [0, 0])
            cv = ctx.coverage_for(d, t.code) if t.active else None
            if not t.active and scheduled == 0:
                continue
            out.append(
                CoverageTotal(
                    d, t.code, scheduled, published, cv.required if cv else 0, cv.preferred if cv else None
                )
            )
    return out


def _evaluate_week(ctx: RosterContext, ws: dt.date) -> tuple[list[RuleBreak], list[PenaltyItem]]:
    week = days_between(ws, ws + dt.timedelta(days=6))
    made = make_problem(ctx, week, build=False)
    assignment = {
        c.id: [cell.code if (cell := ctx.cells.get((c.id, d))) else None for d in week]
        for c in made.problem.staff
    }
    ev = roster.evaluate(made.problem, assignment)
    breaks = [RuleBreak(v.clerk, v.day, ws, v.rule.value, v.message) for v in ev.violations]
    return breaks, list(ev.items)


def _evaluate(ctx: RosterContext, start: dt.date, end: dt.date) -> GridEvaluation:
    breaks: list[RuleBreak] = []
    items: list[PenaltyItem] = []
    ws = week_start(start)
    while ws <= end:
        b, i = _evaluate_week(ctx, ws)
        breaks += [x for x in b if x.day is None or start <= x.day <= end]
        items += [x for x in i if start <= x.day <= end]
        ws += dt.timedelta(days=7)
    by_rule: dict[str, int] = {}
    for it in items:
        by_rule[it.rule.value] = by_rule.get(it.rule.value, 0) + it.amount
    return GridEvaluation(
        start,
        end,
        tuple(breaks),
        sum(it.amount for it in items),
        by_rule,
        tuple(items),
        tuple(_coverage_totals(ctx, days_between(start, end))),
    )


def evaluate_grid(actor: Actor, session: Session, start: dt.date, end: dt.date) -> GridEvaluation:
    """Check the grid (drafts and published) for start..end against every rule.

    Rules are judged over whole weeks; what is reported is limited to start..end.
    """
    require(actor, Action.SCHEDULE_EDIT)
    check_range(start, end)
    return _evaluate(load_context(session, start, end), start, end)


@dataclass(frozen=True)
class TouchedEvaluation:
    violations: tuple[RuleBreak, ...]
    coverage: tuple[CoverageTotal, ...]
    penalty: int


def evaluate_touched(
    session: Session, touched: Sequence[Key], *, weeks: Iterable[dt.date] = ()
) -> TouchedEvaluation:
    """After a grid edit: the rule breaks of the touched clerks and the coverage and penalty of
    the touched weeks (plus ``weeks``). No rights check: the editing service did it."""
    starts = sorted({week_start(d) for _, d in touched} | {week_start(w) for w in weeks})
    if not starts:
        return TouchedEvaluation((), (), 0)
    ctx = load_context(session, starts[0], starts[-1] + dt.timedelta(days=6))
    logins = {login for login, _ in touched}
    breaks: list[RuleBreak] = []
    coverage: list[CoverageTotal] = []
    penalty = 0
    for ws in starts:
        ev = _evaluate(ctx, ws, ws + dt.timedelta(days=6))
        breaks += [b for b in ev.violations if b.login in logins]
        coverage += ev.coverage
        penalty += ev.penalty
    return TouchedEvaluation(tuple(breaks), tuple(coverage), penalty)


# --------------------------------------------------------------------------- building


@dataclass(frozen=True)
class WeekOutcome:
    start: dt.date
    end: dt.date
    status: SolveStatus
    penalty: int | None
    lower_bound: int | None
    unmet: tuple[str, ...]  # soft misses in words (coverage, requests)
    conflicts: tuple[str, ...]  # why no roster was possible
    seconds: float
    kept: int  # fixed cells the builder left alone
    stop_reason: StopReason = StopReason.DONE  # why the solver stopped on this week

    @property
    def words(self) -> str:
        """How this week's search ended, in plain words."""
        return stop_words(self.status, self.stop_reason, self.conflicts)


def stop_words(status: SolveStatus, stop: StopReason, conflicts: Sequence[str] = ()) -> str:
    """Why a build ended, for people: proven best, time ran out, stopped, or no roster at all."""
    if status == SolveStatus.INFEASIBLE:
        return (
            "No roster satisfies every rule: "
            + ("; ".join(conflicts) or "the rules contradict each other")
            + "."
        )
    if status == SolveStatus.UNKNOWN:
        if stop == StopReason.CANCELLED:
            return "Stopped before any roster was found; nothing was built."
        return "Time ran out before any roster was found; allow more time."
    if status == SolveStatus.OPTIMAL:
        return "The best roster possible: no roster keeps every rule with a lower penalty."
    if stop == StopReason.CANCELLED:
        return "Stopped; this is the best roster found so far."
    if stop == StopReason.TIME_LIMIT:
        return "Time ran out; this is the best roster found so far."
    return "A roster that keeps every rule, not proven the best."


@dataclass(frozen=True)
class BuildPlan:
    start: dt.date
    end: dt.date
    keep_edits: bool
    context: RosterContext
    snapshot: Mapping[tuple[int, dt.date], tuple[int, int]]  # (user, day) -> (shift id, version)


@dataclass(frozen=True)
class BuildOutcome:
    plan: BuildPlan
    weeks: tuple[WeekOutcome, ...]
    cells: Mapping[Key, _Cell] = field(repr=False)


@dataclass(frozen=True)
class BuildResult:
    start: dt.date
    end: dt.date
    status: SolveStatus  # the worst week's
    penalty: int | None  # sum over the weeks that got a roster
    weeks: tuple[WeekOutcome, ...]
    created: int
    changed: int
    removed: int
    kept: int

    @property
    def unmet(self) -> tuple[str, ...]:
        return tuple(m for w in self.weeks for m in w.unmet)

    @property
    def stop_reason(self) -> StopReason:
        """A stop (cancel) over time running out over a finished search, across the weeks."""
        reasons = {w.stop_reason for w in self.weeks}
        for r in (StopReason.CANCELLED, StopReason.TIME_LIMIT):
            if r in reasons:
                return r
        return StopReason.DONE

    @property
    def words(self) -> str:
        """How the build ended, in plain words: the worst week's story."""
        if not self.weeks:
            return stop_words(SolveStatus.UNKNOWN, StopReason.CANCELLED)
        worst = max(self.weeks, key=lambda w: _RANK[w.status])
        if worst.status == SolveStatus.OPTIMAL or len(self.weeks) == 1:
            return worst.words
        return f"For the week of {fmt_day(worst.start)}: {worst.words}"

    @property
    def conflicts(self) -> tuple[str, ...]:
        return tuple(m for w in self.weeks for m in w.conflicts)


_RANK = {SolveStatus.OPTIMAL: 0, SolveStatus.FEASIBLE: 1, SolveStatus.UNKNOWN: 2, SolveStatus.INFEASIBLE: 3}


def _snapshot(session: Session, start: dt.date, end: dt.date) -> dict[tuple[int, dt.date], tuple[int, int]]:
    rows = session.execute(
        sa.select(Shift.user_id, Shift.day, Shift.id, Shift.version).where(
            Shift.day >= start, Shift.day <= end
        )
    )
    return {(u, d): (i, v) for u, d, i, v in rows}


def plan_build(
    actor: Actor, session: Session, start: dt.date, end: dt.date, *, keep_edits: bool = False
) -> BuildPlan:
    """Step 1 (a read): everything the build needs, and the grid's versions to check on save."""
    require(actor, Action.SCHEDULE_EDIT)
    check_range(start, end)
    return BuildPlan(
        start, end, keep_edits, load_context(session, start, end), _snapshot(session, start, end)
    )


def solve_plan(
    plan: BuildPlan,
    *,
    time_limit: float = 10.0,
    workers: int = 2,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
    cancel: threading.Event | None = None,
    deterministic: bool = False,
) -> BuildOutcome:
    """Step 2 (no database): solve week after week; ``time_limit`` is shared out evenly.

    ``progress`` gets one line per improvement ("week of 2026-11-16: penalty 120, bound 80,
    0.4 s"). With ``deterministic`` the limit is the solver's deterministic time (one worker):
    the same data and seed give the same roster on any machine, limit reached or not. Without
    it, same data, seed and ``workers=1`` give the same roster only when each week is solved to
    optimality within its time.
    """
    ctx = plan.context
    cells = dict(ctx.cells)
    chunks = _weeks(plan.start, plan.end)
    per_week = max(time_limit / len(chunks), 0.2)
    outcomes: list[WeekOutcome] = []
    for days in chunks:
        made = make_problem(ctx, days, cells, build=True, keep_edits=plan.keep_edits)
        label = f"week of {week_start(days[0])}"

        def report(best: int, bound: int | None, seconds: float, label: str = label) -> None:
            if progress is not None:
                b = "?" if bound is None else str(bound)
                progress(f"{label}: penalty {best}, bound {b}, {seconds:.1f} s")

        t0 = time.monotonic()
        try:
            sol = roster.solve(
                made.problem,
                time_limit=per_week,
                workers=workers,
                seed=seed,
                progress=report,
                cancel=cancel,
                deterministic=deterministic,
            )
        except roster.ProblemError as e:
            raise ValidationError.from_fields({"schedule": "; ".join(e.messages)}) from None
        conflicts = tuple(c.message for c in sol.conflicts)  # an unknown status says why in stop_words
        if sol.assignment is not None:
            for login, row in sol.assignment.items():
                for d, code in zip(made.days, row, strict=True):
                    key = (login, d)
                    if key in made.fixed:
                        continue
                    old = cells.get(key)
                    if code is None:
                        cells.pop(key, None)
                    elif old is None:
                        uid = ctx.people[login].user_id
                        cells[key] = _Cell(None, uid, code, False, ShiftStatus.DRAFT, None)
                    elif old.code != code:
                        cells[key] = replace(old, code=code, fixed=False, status=ShiftStatus.DRAFT)
        outcomes.append(
            WeekOutcome(
                days[0],
                days[-1],
                sol.status,
                sol.penalty,
                sol.lower_bound,
                tuple(it.message for it in sol.items),
                conflicts,
                time.monotonic() - t0,
                len(made.fixed),
                sol.stop_reason,
            )
        )
        if cancel is not None and cancel.is_set():
            break
    return BuildOutcome(plan, tuple(outcomes), cells)


def save_build(actor: Actor, session: Session, outcome: BuildOutcome) -> BuildResult:
    """Step 3 (a write): store the roster as draft shifts; fixed cells are left as they are."""
    require(actor, Action.SCHEDULE_EDIT)
    plan = outcome.plan
    if _snapshot(session, plan.start, plan.end) != plan.snapshot:
        raise ConflictError("the schedule was changed while the roster was being built; build again")
    ctx = plan.context
    tz = office_timezone(session)
    # Only weeks that got a roster are written; an infeasible week keeps its grid as it was.
    solved = {d for w in outcome.weeks if w.penalty is not None for d in days_between(w.start, w.end)}
    keys = {k for k in (*ctx.cells, *outcome.cells) if k[1] in solved}
    types = {t.code: t for t in session.scalars(sa.select(ShiftType))}
    users = {u.login: u for u in session.scalars(sa.select(User).where(User.login.in_({k[0] for k in keys})))}
    rows = {
        (sh.user_id, sh.day): sh
        for sh in session.scalars(
            sa.select(Shift)
            .where(Shift.day >= plan.start, Shift.day <= plan.end)
            .options(sa.orm.joinedload(Shift.shift_type))
        )
    }
    created = changed = removed = 0
    for key in sorted(keys, key=lambda k: (k[1], k[0])):
        old, new = ctx.cells.get(key), outcome.cells.get(key)
        if old is not None and new is not None and old.code == new.code:
            continue
        u = users[key[0]]
        sh = rows.get((u.id, key[1]))
        if new is None:
            _put(actor, session, u, key[1], sh, None, fixed=False, tz=tz)
            removed += 1
        else:
            _put(actor, session, u, key[1], sh, types[new.code], fixed=False, tz=tz, status=ShiftStatus.DRAFT)
            if old is None:
                created += 1
            else:
                changed += 1
    statuses = [w.status for w in outcome.weeks] or [SolveStatus.UNKNOWN]
    penalties = [w.penalty for w in outcome.weeks if w.penalty is not None]
    return BuildResult(
        plan.start,
        plan.end,
        max(statuses, key=lambda s: _RANK[s]),
        sum(penalties) if penalties else None,
        outcome.weeks,
        created,
        changed,
        removed,
        sum(w.kept for w in outcome.weeks),
    )


def build_roster(
    actor: Actor,
    session: Session,
    start: dt.date,
    end: dt.date,
    *,
    time_limit: float = 10.0,
    keep_edits: bool = False,
    workers: int = 2,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
    cancel: threading.Event | None = None,
    deterministic: bool = False,
) -> BuildResult:
    """Plan, solve and save in one session (tests, the demo). Screens and the CLI should run
    the three steps in separate transactions so the solver never holds the database."""
    plan = plan_build(actor, session, start, end, keep_edits=keep_edits)
    outcome = solve_plan(
        plan,
        time_limit=time_limit,
        workers=workers,
        seed=seed,
        progress=progress,
        cancel=cancel,
        deterministic=deterministic,
    )
    return save_build(actor, session, outcome)
