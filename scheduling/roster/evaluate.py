"""Independent checker: re-checks every hard rule and recomputes the penalty of a roster.

It shares no code with the CP-SAT model on purpose, so tests can use it to verify solver
output, and a schedule screen can call it after every cell edit (a 20 × 28 roster takes
about a millisecond).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from scheduling.roster.problem import (
    OFF,
    ClerkIndex,
    ProblemIndex,
    RosterProblem,
    Rule,
    fmt_day,
    fmt_minutes,
    plural,
)


@dataclass(frozen=True)
class Violation:
    """A broken hard rule. ``day`` is None for period-wide rules (minutes, weekends...)."""

    clerk: str
    day: date | None
    rule: Rule
    message: str


@dataclass(frozen=True)
class PenaltyItem:
    """One soft miss. ``clerk`` is None for coverage items, which belong to a day and shift."""

    rule: Rule
    clerk: str | None
    day: date
    shift: str | None
    amount: int
    message: str


@dataclass
class Evaluation:
    violations: list[Violation]
    penalty: int
    items: list[PenaltyItem]
    by_rule: dict[Rule, int] = field(default_factory=dict)
    by_clerk: dict[str, int] = field(default_factory=dict)

    @property
    def feasible(self) -> bool:
        return not self.violations


class Evaluator:
    """Build once per problem (indexes it), then call :meth:`evaluate` as often as needed."""

    def __init__(self, problem: RosterProblem | ProblemIndex) -> None:
        self.ix = problem if isinstance(problem, ProblemIndex) else ProblemIndex(problem)

    def evaluate(self, assignment: Mapping[str, Sequence[str | None]]) -> Evaluation:
        return self.evaluate_rows(self.ix.rows_from(assignment))

    def evaluate_rows(self, rows: Sequence[Sequence[int]], *, explain: bool = True) -> Evaluation:
        """Rows of shift indices (OFF = -1), one per clerk in problem order.

        With ``explain=False`` no messages or items are built (used in the LNS loop).
        """
        violations: list[Violation] = []
        for c, row in zip(self.ix.clerks, rows, strict=True):
            violations.extend(self.clerk_violations(c, row))
        items: list[PenaltyItem] = []
        total = self._coverage(rows, items if explain else None)
        for c, row in zip(self.ix.clerks, rows, strict=True):
            total += self._requests(c, row, items if explain else None)
        by_rule: dict[Rule, int] = {}
        by_clerk: dict[str, int] = {}
        for it in items:
            by_rule[it.rule] = by_rule.get(it.rule, 0) + it.amount
            if it.clerk is not None:
                by_clerk[it.clerk] = by_clerk.get(it.clerk, 0) + it.amount
        return Evaluation(violations, total, items, by_rule, by_clerk)

    def penalty_rows(self, rows: Sequence[Sequence[int]]) -> int:
        total = self._coverage(rows, None)
        for c, row in zip(self.ix.clerks, rows, strict=True):
            total += self._requests(c, row, None)
        return total

    # -- soft rules -------------------------------------------------------------------------

    def _coverage(self, rows: Sequence[Sequence[int]], items: list[PenaltyItem] | None) -> int:
        ix = self.ix
        total = 0
        for d in range(ix.n_days):
            counts = [0] * ix.n_shifts
            for row in rows:
                s = row[d]
                if s != OFF:
                    counts[s] += 1
            for s, cov in enumerate(ix.coverage[d]):
                if cov is None:
                    continue
                req, wu, wo = cov
                diff = counts[s] - req
                if diff < 0 and wu:
                    total += -diff * wu
                    if items is not None:
                        items.append(
                            PenaltyItem(
                                Rule.COVERAGE_UNDER,
                                None,
                                ix.days[d],
                                ix.shifts[s].code,
                                -diff * wu,
                                f"{fmt_day(ix.days[d])} {ix.shifts[s].name}: "
                                f"{plural(-diff, 'person', 'people')} short (needs {req}, has {counts[s]})",
                            )
                        )
                elif diff > 0 and wo:
                    total += diff * wo
                    if items is not None:
                        items.append(
                            PenaltyItem(
                                Rule.COVERAGE_OVER,
                                None,
                                ix.days[d],
                                ix.shifts[s].code,
                                diff * wo,
                                f"{fmt_day(ix.days[d])} {ix.shifts[s].name}: "
                                f"{plural(diff, 'person', 'people')} too many (needs {req}, has {counts[s]})",
                            )
                        )
        return total

    def _requests(self, c: ClerkIndex, row: Sequence[int], items: list[PenaltyItem] | None) -> int:
        ix = self.ix
        total = 0
        for d, s, on, weight in c.requests:
            got = row[d]
            if on:
                missed = got == OFF if s is None else got != s
            else:
                missed = got != OFF if s is None else got == s
            if not missed or not weight:
                continue
            total += weight
            if items is not None:
                what = "a shift" if s is None else ix.shifts[s].name
                if on:
                    msg = f"{c.name} asked to work {what} on {fmt_day(ix.days[d])}"
                else:
                    msg = f"{c.name} asked not to work {what} on {fmt_day(ix.days[d])}"
                items.append(
                    PenaltyItem(
                        Rule.REQUEST_ON if on else Rule.REQUEST_OFF,
                        c.id,
                        ix.days[d],
                        None if s is None else ix.shifts[s].code,
                        weight,
                        msg,
                    )
                )
        return total

    # -- hard rules -------------------------------------------------------------------------

    def clerk_violations(self, c: ClerkIndex, row: Sequence[int]) -> list[Violation]:
        ix = self.ix
        r = c.rules
        out: list[Violation] = []
        days = ix.days

        def bad(d: int | None, rule: Rule, msg: str) -> None:
            out.append(Violation(c.id, None if d is None else days[d], rule, f"{c.name}: {msg}"))

        counts = [0] * ix.n_shifts
        minutes = 0
        for d, s in enumerate(row):
            if d in c.fixed_cells and c.fixed_cells[d] != s:
                want = c.fixed_cells[d]
                what = "off" if want == OFF else f"on {ix.shifts[want].name}"
                bad(d, Rule.FIXED_ASSIGNMENT, f"{fmt_day(days[d])} is fixed {what}")
            if s == OFF:
                continue
            if d in c.fixed_off:
                bad(d, Rule.FIXED_DAY_OFF, f"works on fixed day off {fmt_day(days[d])}")
            counts[s] += 1
            minutes += ix.day_minutes[d][s]
            limit = c.max_count[s]
            if limit == 0:
                bad(d, Rule.NOT_QUALIFIED, f"not qualified for {ix.shifts[s].name} ({fmt_day(days[d])})")
            elif limit is not None and counts[s] == limit + 1:
                bad(
                    d,
                    Rule.MAX_SHIFTS,
                    f"more than {plural(limit, ix.shifts[s].name + ' shift')} "
                    f"(the one on {fmt_day(days[d])} is one too many)",
                )
        if minutes < r.min_minutes:
            bad(
                None,
                Rule.MIN_MINUTES,
                f"works {fmt_minutes(minutes)}, at least {fmt_minutes(r.min_minutes)} required",
            )
        if r.max_minutes is not None and minutes > r.max_minutes:
            bad(
                None,
                Rule.MAX_MINUTES,
                f"works {fmt_minutes(minutes)}, at most {fmt_minutes(r.max_minutes)} allowed",
            )

        # Forbidden sequences, including the last history day -> first period day.
        prev = c.history[-1] if c.history else OFF
        for d, s in enumerate(row):
            if prev != OFF and s != OFF and s in c.forbidden_next[prev]:
                when = f"{fmt_day(days[d - 1])}" if d else "the day before the period"
                rest = ix.short_rest.get((prev, s))
                if rest is not None:
                    bad(d, Rule.MIN_REST, rest_text(ix, prev, s, rest, f"{fmt_day(days[d])}", when))
                else:
                    bad(
                        d,
                        Rule.FORBIDDEN_SEQUENCE,
                        f"{ix.shifts[s].name} on {fmt_day(days[d])} right after {ix.shifts[prev].name} on {when}",
                    )
            prev = s

        if r.max_weekends is not None:
            worked = 0
            for group in ix.weekends:
                first = next((d for d in group if row[d] != OFF), None)
                if first is None:
                    continue
                worked += 1
                if worked == r.max_weekends + 1:
                    if r.max_weekends == 0:
                        msg = f"works on {fmt_day(days[first])}; no working weekends allowed"
                    else:
                        msg = (
                            f"works more than {plural(r.max_weekends, 'weekend')} "
                            f"(the weekend of {fmt_day(days[first])} is one too many)"
                        )
                    bad(first, Rule.MAX_WEEKENDS, msg)

        self._runs(c, row, bad)
        return out

    def _runs(self, c: ClerkIndex, row: Sequence[int], bad: Callable[[int | None, Rule, str], None]) -> None:
        """Run-length rules over history + period.

        A run is held to its minimum only when its first day is known (the day before it is
        in the period or in the history) and it ends before the last day of the period.
        Maximum runs count history days too.
        """
        r = c.rules
        days = self.ix.days
        h = len(c.history)
        ext = [s != OFF for s in c.history] + [s != OFF for s in row]
        n = len(ext)
        a = 0
        while a < n:
            b = a
            kind = ext[a]
            while b + 1 < n and ext[b + 1] == kind:
                b += 1
            if b - h >= -1:  # the trailing history run or a run in the period
                length = b - a + 1
                held = a > 0 and b < n - 1
                first = max(a - h, 0)
                if kind:
                    k = r.max_consecutive_work
                    if k is not None and b >= h and length > k:
                        bad(
                            max(a + k - h, 0),
                            Rule.MAX_CONSECUTIVE_WORK,
                            f"works {length} days in a row up to {fmt_day(days[b - h])}"
                            f"{' (counting days before the period)' if a < h else ''}, at most {k} allowed",
                        )
                    m = r.min_consecutive_work
                    if held and length < m:
                        bad(
                            first,
                            Rule.MIN_CONSECUTIVE_WORK,
                            self._short_run("works", length, a, b, h, m, "working days"),
                        )
                else:
                    m = r.min_consecutive_off
                    if held and length < m:
                        bad(
                            first,
                            Rule.MIN_CONSECUTIVE_OFF,
                            self._short_run("is off", length, a, b, h, m, "days off"),
                        )
            a = b + 1

    def _short_run(self, verb: str, length: int, a: int, b: int, h: int, m: int, what: str) -> str:
        days = self.ix.days
        if b < h:  # the run ended right at the period start
            return (
                f"{verb} only {length} day{'s' if length != 1 else ''} in a row just before the period; "
                f"minimum {m} consecutive {what}, so {fmt_day(days[0])} must continue it"
            )
        if a == b:
            when = f"on {fmt_day(days[b - h])}"
        else:
            start = "before the period" if a < h else fmt_day(days[a - h])
            when = f"from {start} to {fmt_day(days[b - h])}"
        return (
            f"{verb} only {length} day{'s' if length != 1 else ''} in a row {when}; "
            f"minimum {m} consecutive {what}"
        )


def _clock(minute: int) -> str:
    return f"{minute // 60 % 24:02d}:{minute % 60:02d}"


def rest_text(ix: ProblemIndex, a: int, b: int, rest: int, day: str, when: str) -> str:
    """'Early on Tue 3 Mar starts 07:00, 1 h before Night on Mon 2 Mar ends (08:00)' and the like."""
    sa, sb = ix.shifts[a], ix.shifts[b]
    assert sa.start_minute is not None and sb.start_minute is not None
    start, end = _clock(sb.start_minute), _clock(sa.start_minute + sa.minutes)
    if rest < 0:
        return (
            f"{sb.name} on {day} starts {start}, {fmt_minutes(-rest)} before {sa.name} on {when} ends ({end})"
        )
    return (
        f"only {fmt_minutes(rest)} rest between {sa.name} on {when} (ends {end}) and {sb.name} on {day} "
        f"(starts {start}); at least {fmt_minutes(ix.min_rest)} required"
    )


def evaluate(problem: RosterProblem, assignment: Mapping[str, Sequence[str | None]]) -> Evaluation:
    """Check ``assignment`` against every hard rule and compute its penalty.

    For repeated checks of the same problem build an :class:`Evaluator` once instead.
    """
    return Evaluator(problem).evaluate(assignment)
