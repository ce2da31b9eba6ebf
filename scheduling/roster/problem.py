"""The roster problem as plain dataclasses, plus a compact index the engine works on.

Everything here is pure Python: no database, no UI. A screen or a CLI builds a
:class:`RosterProblem` from its own records and hands it to :func:`solve` or :func:`evaluate`.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

OFF = -1  # internal code for "no shift" in index-based rows

_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class Rule(StrEnum):
    """Every rule the engine knows. The first block is hard, the last four are soft."""

    NOT_QUALIFIED = "not_qualified"
    MAX_SHIFTS = "max_shifts"
    MIN_MINUTES = "min_minutes"
    MAX_MINUTES = "max_minutes"
    MIN_CONSECUTIVE_WORK = "min_consecutive_work"
    MAX_CONSECUTIVE_WORK = "max_consecutive_work"
    MIN_CONSECUTIVE_OFF = "min_consecutive_off"
    MAX_WEEKENDS = "max_weekends"
    FORBIDDEN_SEQUENCE = "forbidden_sequence"
    MIN_REST = "min_rest"  # too little rest between two shifts on consecutive days (or an overlap)
    FIXED_DAY_OFF = "fixed_day_off"
    FIXED_ASSIGNMENT = "fixed_assignment"
    # soft
    COVERAGE_UNDER = "coverage_under"
    COVERAGE_OVER = "coverage_over"
    REQUEST_ON = "request_on"
    REQUEST_OFF = "request_off"

    @property
    def is_soft(self) -> bool:
        return self in _SOFT


_SOFT = frozenset({Rule.COVERAGE_UNDER, Rule.COVERAGE_OVER, Rule.REQUEST_ON, Rule.REQUEST_OFF})


@dataclass(frozen=True)
class ShiftType:
    """A kind of shift. ``forbidden_next`` lists codes nobody may work the day after this one.

    ``start_minute`` (minutes after midnight, wall clock) lets the problem's ``min_rest_minutes``
    forbid pairs on consecutive days with too little rest between them, or that overlap."""

    code: str
    name: str
    minutes: int
    forbidden_next: frozenset[str] = frozenset()
    start_minute: int | None = None


@dataclass(frozen=True)
class StaffRules:
    """Hard rules for one clerk (share one instance between the clerks of a team).

    ``max_shifts`` maps a shift code to the most shifts of that type in the period; 0 means
    not qualified, a missing code means no limit. ``None`` in a max field means no limit.
    ``forbidden_sequences`` holds (today, tomorrow) code pairs on top of the shift types' own.
    Dates in ``fixed_days_off`` outside the period are ignored.
    """

    min_minutes: int = 0
    max_minutes: int | None = None
    max_shifts: Mapping[str, int] = field(default_factory=dict)
    min_consecutive_work: int = 1
    max_consecutive_work: int | None = None
    min_consecutive_off: int = 1
    max_weekends: int | None = None
    forbidden_sequences: frozenset[tuple[str, str]] = frozenset()
    fixed_days_off: frozenset[date] = frozenset()


@dataclass(frozen=True)
class Clerk:
    id: str
    name: str
    rules: StaffRules = StaffRules()


@dataclass(frozen=True)
class ShiftRequest:
    """A clerk wants (``on=True``) or does not want (``on=False``) shift ``shift`` on ``day``.

    ``shift=None`` means any shift: "I want to work that day" / "I want that day off".
    Each unmet request costs ``weight``.
    """

    clerk: str
    day: date
    shift: str | None
    on: bool
    weight: int = 1


@dataclass(frozen=True)
class Coverage:
    """People wanted on ``shift`` on ``day``; each missing person costs ``under_weight``,
    each extra person ``over_weight``."""

    day: date
    shift: str
    required: int
    under_weight: int = 1
    over_weight: int = 0


@dataclass(frozen=True)
class RosterProblem:
    """One planning period.

    ``days`` must be consecutive dates. ``history`` maps a clerk id to the last days before
    the period, oldest first, each a shift code or ``None`` for off; a clerk without an entry
    has no history. ``fixed`` holds cells the supervisor pinned: (clerk id, day) -> shift code
    or ``None`` (off); the solver keeps them as they are.
    """

    days: Sequence[date]
    shift_types: Sequence[ShiftType]
    staff: Sequence[Clerk]
    coverage: Sequence[Coverage] = ()
    requests: Sequence[ShiftRequest] = ()
    history: Mapping[str, Sequence[str | None]] = field(default_factory=dict)
    fixed: Mapping[tuple[str, date], str | None] = field(default_factory=dict)
    min_rest_minutes: int = 0  # between the end of one shift and the start of the next day's
    # Real paid minutes where a day differs from the type's nominal length (DST nights: 60 less or
    # more); the minute rules count these.
    day_minutes: Mapping[tuple[date, str], int] = field(default_factory=dict)


Assignment = dict[str, list[str | None]]
"""Clerk id -> one entry per day of the period (shift code, or ``None`` for off)."""


class ProblemError(ValueError):
    """The problem is malformed (unknown codes, gaps in the days...). Not an infeasibility."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages


def fmt_day(d: date) -> str:
    """'Tue 3 Mar' — locale-independent so messages are stable in tests and logs."""
    return f"{_WEEKDAYS[d.weekday()]} {d.day} {_MONTHS[d.month - 1]}"


def fmt_minutes(m: int) -> str:
    h, rest = divmod(m, 60)
    return f"{h} h" if rest == 0 else f"{h} h {rest:02d} min"


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n} {word if n == 1 else (many or word + 's')}"


@dataclass
class ClerkIndex:
    """Per-clerk facts in index form (shift index ``s``, day index ``d``, ``OFF`` = -1)."""

    i: int
    id: str
    name: str
    rules: StaffRules
    qualified: list[int]  # shift indices with max_shifts > 0
    max_count: list[int | None]  # per shift index; None = unlimited
    forbidden_next: list[list[int]]  # per shift index: shift indices not allowed the next day
    fixed_off: set[int]  # day indices of fixed days off
    fixed_cells: dict[int, int]  # day index -> shift index or OFF
    history: list[int]  # oldest first, shift index or OFF
    requests: list[tuple[int, int | None, bool, int]]  # (day, shift or None=any, on, weight)


class ProblemIndex:
    """Integer view of a validated problem, shared by the evaluator, greedy and model builder."""

    def __init__(self, problem: RosterProblem) -> None:
        validate(problem)
        self.problem = problem
        self.days = list(problem.days)
        self.n_days = len(self.days)
        self.day_of = {d: k for k, d in enumerate(self.days)}
        self.shifts = list(problem.shift_types)
        self.n_shifts = len(self.shifts)
        self.shift_of = {s.code: k for k, s in enumerate(self.shifts)}
        self.minutes = [s.minutes for s in self.shifts]
        self.day_minutes = [list(self.minutes) for _ in self.days]
        for (d, code), m in problem.day_minutes.items():
            self.day_minutes[self.day_of[d]][self.shift_of[code]] = m
        # Weekends as groups of period day indices (Sat and/or Sun of the same weekend).
        groups: dict[date, list[int]] = {}
        for k, d in enumerate(self.days):
            if d.weekday() >= 5:
                groups.setdefault(d - timedelta(days=d.weekday() - 5), []).append(k)
        self.weekends = list(groups.values())
        # coverage[d][s] = (required, under_weight, over_weight) or None when nothing is asked
        self.coverage: list[list[tuple[int, int, int] | None]] = [
            [None] * self.n_shifts for _ in range(self.n_days)
        ]
        for cv in problem.coverage:
            self.coverage[self.day_of[cv.day]][self.shift_of[cv.shift]] = (
                cv.required,
                cv.under_weight,
                cv.over_weight,
            )
        reqs: dict[str, list[tuple[int, int | None, bool, int]]] = {}
        for rq in problem.requests:
            wanted = None if rq.shift is None else self.shift_of[rq.shift]
            reqs.setdefault(rq.clerk, []).append((self.day_of[rq.day], wanted, rq.on, rq.weight))
        fixed: dict[str, dict[int, int]] = {}
        for (cid, d), pinned in problem.fixed.items():
            fixed.setdefault(cid, {})[self.day_of[d]] = OFF if pinned is None else self.shift_of[pinned]
        global_forbidden = [{self.shift_of[c] for c in s.forbidden_next} for s in self.shifts]
        # (today, tomorrow) shift pairs with less rest than the minimum: rest in minutes (< 0 is an
        # overlap). Wall-clock arithmetic: a DST night moves it by an hour, which the rule ignores.
        self.min_rest = problem.min_rest_minutes
        self.short_rest: dict[tuple[int, int], int] = {}
        for a, sa in enumerate(self.shifts):
            for b, sb in enumerate(self.shifts):
                if sa.start_minute is None or sb.start_minute is None:
                    continue
                rest = 1440 + sb.start_minute - (sa.start_minute + sa.minutes)
                if rest < self.min_rest or rest < 0:
                    self.short_rest[(a, b)] = rest
                    global_forbidden[a].add(b)
        self.clerks: list[ClerkIndex] = []
        self.clerk_of: dict[str, int] = {}
        for i, c in enumerate(problem.staff):
            r = c.rules
            max_count: list[int | None] = [r.max_shifts.get(s.code) for s in self.shifts]
            forb = [set(g) for g in global_forbidden]
            for today, tomorrow in r.forbidden_sequences:
                forb[self.shift_of[today]].add(self.shift_of[tomorrow])
            self.clerks.append(
                ClerkIndex(
                    i=i,
                    id=c.id,
                    name=c.name,
                    rules=r,
                    qualified=[s for s, m in enumerate(max_count) if m is None or m > 0],
                    max_count=max_count,
                    forbidden_next=[sorted(f) for f in forb],
                    fixed_off={self.day_of[d] for d in r.fixed_days_off if d in self.day_of},
                    fixed_cells=fixed.get(c.id, {}),
                    history=[OFF if h is None else self.shift_of[h] for h in problem.history.get(c.id, ())],
                    requests=reqs.get(c.id, []),
                )
            )
            self.clerk_of[c.id] = i

    def rows_from(self, assignment: Mapping[str, Sequence[str | None]]) -> list[list[int]]:
        """Assignment (codes) -> rows of shift indices; unknown codes raise ProblemError."""
        rows = []
        bad: list[str] = []
        for c in self.clerks:
            row = assignment.get(c.id)
            if row is None or len(row) != self.n_days:
                bad.append(f"assignment for {c.id!r} must have {self.n_days} entries")
                rows.append([OFF] * self.n_days)
                continue
            out = []
            for code in row:
                if code is None:
                    out.append(OFF)
                elif code in self.shift_of:
                    out.append(self.shift_of[code])
                else:
                    bad.append(f"unknown shift code {code!r} for {c.id!r}")
                    out.append(OFF)
            rows.append(out)
        if bad:
            raise ProblemError(bad)
        return rows

    def assignment_from(self, rows: Sequence[Sequence[int]]) -> Assignment:
        codes = [s.code for s in self.shifts]
        return {
            c.id: [None if s == OFF else codes[s] for s in row]
            for c, row in zip(self.clerks, rows, strict=True)
        }


def validate(problem: RosterProblem) -> None:
    """Raise :class:`ProblemError` listing every malformed part of ``problem``."""
    errs: list[str] = []
    days = list(problem.days)
    if not days:
        errs.append("the period has no days")
    for before, after in itertools.pairwise(days):
        if after - before != timedelta(days=1):
            errs.append(f"days must be consecutive: {before} is followed by {after}")
            break
    dayset = set(days)
    codes = [s.code for s in problem.shift_types]
    codeset = set(codes)
    if len(codeset) != len(codes):
        errs.append("shift codes must be unique")
    for s in problem.shift_types:
        if not s.code:
            errs.append("a shift type has an empty code")
        if s.minutes <= 0:
            errs.append(f"shift {s.code!r} must last more than 0 minutes")
        for n in s.forbidden_next - codeset:
            errs.append(f"shift {s.code!r} forbids unknown successor {n!r}")
        if s.start_minute is not None and not 0 <= s.start_minute < 1440:
            errs.append(f"shift {s.code!r} must start between 00:00 and 23:59")
    for (d, code), m in problem.day_minutes.items():
        if d not in dayset or code not in codeset or m < 0:
            errs.append(f"day minutes for {code!r} on {d} must name a period day, a known shift, >= 0")
    if problem.min_rest_minutes < 0:
        errs.append("the minimum rest between shifts cannot be negative")
    ids = [c.id for c in problem.staff]
    idset = set(ids)
    if len(idset) != len(ids):
        errs.append("clerk ids must be unique")
    for c in problem.staff:
        r = c.rules
        who = f"clerk {c.id!r}"
        for code, m in r.max_shifts.items():
            if code not in codeset:
                errs.append(f"{who}: max_shifts names unknown shift {code!r}")
            if m < 0:
                errs.append(f"{who}: max_shifts for {code!r} is negative")
        if r.min_minutes < 0 or (r.max_minutes is not None and r.max_minutes < 0):
            errs.append(f"{who}: minutes limits must not be negative")
        if r.min_consecutive_work < 1 or r.min_consecutive_off < 1:
            errs.append(f"{who}: minimum consecutive days must be at least 1")
        if r.max_consecutive_work is not None and r.max_consecutive_work < 0:
            errs.append(f"{who}: max consecutive working days must not be negative")
        if r.max_weekends is not None and r.max_weekends < 0:
            errs.append(f"{who}: max weekends must not be negative")
        for a, b in r.forbidden_sequences:
            if a not in codeset or b not in codeset:
                errs.append(f"{who}: forbidden sequence {a!r} -> {b!r} names an unknown shift")
    for rq in problem.requests:
        if rq.clerk not in idset:
            errs.append(f"request for unknown clerk {rq.clerk!r}")
        if rq.day not in dayset:
            errs.append(f"request for {rq.clerk!r} on {rq.day} is outside the period")
        if rq.shift is not None and rq.shift not in codeset:
            errs.append(f"request for {rq.clerk!r} names unknown shift {rq.shift!r}")
        if rq.weight < 0:
            errs.append(f"request for {rq.clerk!r} on {rq.day} has a negative weight")
    seen: set[tuple[date, str]] = set()
    for cv in problem.coverage:
        if cv.day not in dayset:
            errs.append(f"coverage for {cv.shift!r} on {cv.day} is outside the period")
        if cv.shift not in codeset:
            errs.append(f"coverage names unknown shift {cv.shift!r}")
        if (cv.day, cv.shift) in seen:
            errs.append(f"coverage for {cv.shift!r} on {cv.day} is given twice")
        seen.add((cv.day, cv.shift))
        if cv.required < 0 or cv.under_weight < 0 or cv.over_weight < 0:
            errs.append(f"coverage for {cv.shift!r} on {cv.day} has a negative number")
    for cid, hist in problem.history.items():
        if cid not in idset:
            errs.append(f"history for unknown clerk {cid!r}")
        for h in hist:
            if h is not None and h not in codeset:
                errs.append(f"history for {cid!r} names unknown shift {h!r}")
    for (cid, day), value in problem.fixed.items():
        if cid not in idset:
            errs.append(f"fixed cell for unknown clerk {cid!r}")
        if day not in dayset:
            errs.append(f"fixed cell for {cid!r} on {day} is outside the period")
        if value is not None and value not in codeset:
            errs.append(f"fixed cell for {cid!r} on {day} names unknown shift {value!r}")
    if errs:
        raise ProblemError(errs)
