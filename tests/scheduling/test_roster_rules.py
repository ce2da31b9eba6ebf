"""Each roster rule on a tiny hand-made problem whose optimal penalty is worked out by hand.

Every solve is also checked by the independent evaluator: no hard rule broken, same penalty.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import pytest

from scheduling.roster import (
    Clerk,
    Coverage,
    ProblemError,
    RosterProblem,
    RosterSolution,
    Rule,
    ShiftRequest,
    ShiftType,
    SolveStatus,
    StaffRules,
    evaluate,
    solve,
)

MON = date(2026, 3, 2)  # a Monday
E = ShiftType("E", "Early", 480)
M = ShiftType("M", "Middle", 480)
L = ShiftType("L", "Late", 480, frozenset({"E"}))  # no Early the day after a Late


def period(n: int) -> list[date]:
    return [MON + timedelta(days=k) for k in range(n)]


def cover(days: Sequence[date], shift: str, req: int, under: int = 10, over: int = 0) -> list[Coverage]:
    return [Coverage(d, shift, req, under, over) for d in days]


def ana(**rules: object) -> Clerk:
    return Clerk("ana", "Ana Ruiz", StaffRules(**rules))  # type: ignore[arg-type]


def optimal(problem: RosterProblem, penalty: int) -> RosterSolution:
    sol = solve(problem, time_limit=10, workers=2)
    assert sol.status is SolveStatus.OPTIMAL
    assert sol.penalty == penalty
    assert sol.lower_bound == penalty
    assert sol.assignment is not None
    ev = evaluate(problem, sol.assignment)
    assert ev.violations == []
    assert ev.penalty == penalty
    assert sum(it.amount for it in ev.items) == penalty
    return sol


def row(sol: RosterSolution, clerk: str = "ana") -> list[str | None]:
    assert sol.assignment is not None
    return sol.assignment[clerk]


# -- coverage ------------------------------------------------------------------------------


def test_under_coverage_costs_its_weight_per_missing_person() -> None:
    days = period(3)
    p = RosterProblem(days, [E], [ana()], cover(days, "E", 2, under=10))
    sol = optimal(p, 30)  # one clerk, two wanted, three days
    assert row(sol) == ["E", "E", "E"]
    assert sol.by_rule == {Rule.COVERAGE_UNDER: 30}
    assert sol.by_clerk == {}


def test_over_coverage_costs_its_weight_per_extra_person() -> None:
    days = period(2)
    staff = [Clerk(f"c{k}", f"Clerk {k}", StaffRules(min_minutes=480)) for k in range(3)]
    p = RosterProblem(days, [E], staff, cover(days, "E", 1, under=10, over=5))
    sol = optimal(p, 5)  # three shifts must be worked, two are wanted
    assert sol.by_rule == {Rule.COVERAGE_OVER: 5}


# -- requests ------------------------------------------------------------------------------


def test_day_off_request_is_granted_only_when_cheaper_than_the_gap() -> None:
    days = period(2)
    cheap = RosterProblem(
        days, [E], [ana()], cover(days, "E", 1), [ShiftRequest("ana", days[0], None, False, 3)]
    )
    sol = optimal(cheap, 3)
    assert row(sol) == ["E", "E"]
    assert sol.by_clerk == {"ana": 3}
    dear = RosterProblem(
        days, [E], [ana()], cover(days, "E", 1), [ShiftRequest("ana", days[0], None, False, 12)]
    )
    sol = optimal(dear, 10)
    assert row(sol) == [None, "E"]


def test_shift_requests_on_and_off() -> None:
    days = period(2)
    reqs = [
        ShiftRequest("ana", days[0], "M", True, 4),  # wants Middle on Monday
        ShiftRequest("ana", days[1], "E", False, 2),  # does not want Early on Tuesday
    ]
    p = RosterProblem(days, [E, M], [ana()], cover(days, "E", 1, under=3), reqs)
    # Monday: Middle (request met) leaves Early short (3); Early instead costs the request (4).
    # Tuesday: Early costs the request (2), off leaves Early short (3).
    sol = optimal(p, 5)
    assert row(sol) == ["M", "E"]
    assert sol.by_rule == {Rule.COVERAGE_UNDER: 3, Rule.REQUEST_OFF: 2}


# -- max shifts per type, qualification ----------------------------------------------------


def test_max_shifts_of_a_type() -> None:
    days = period(4)
    p = RosterProblem(days, [E, M], [ana(max_shifts={"E": 2})], cover(days, "E", 1))
    sol = optimal(p, 20)
    assert row(sol).count("E") == 2


def test_zero_max_shifts_means_not_qualified() -> None:
    days = period(1)
    p = RosterProblem(
        days,
        [E, M],
        [ana(max_shifts={"M": 0})],
        cover(days, "M", 1),
        [ShiftRequest("ana", days[0], "M", True, 4)],
    )
    sol = optimal(p, 14)  # Middle stays short (10) and the request unmet (4)
    assert row(sol) == [None] or row(sol) == ["E"]


# -- minutes -------------------------------------------------------------------------------


def test_max_minutes() -> None:
    days = period(4)
    p = RosterProblem(days, [E], [ana(max_minutes=960)], cover(days, "E", 1))
    sol = optimal(p, 20)
    assert row(sol).count("E") == 2


def test_min_minutes_forces_unwanted_shifts() -> None:
    days = period(3)
    cov = [Coverage(days[0], "E", 1, 10, 5), *cover(days[1:], "E", 0, under=10, over=5)]
    p = RosterProblem(days, [E], [ana(min_minutes=1440)], cov)
    sol = optimal(p, 10)
    assert row(sol) == ["E", "E", "E"]


# -- consecutive working days --------------------------------------------------------------


def test_max_consecutive_work_without_and_with_history() -> None:
    days = period(3)
    p = RosterProblem(days, [E], [ana(max_consecutive_work=3)], cover(days, "E", 1))
    optimal(p, 0)
    # Worked the two days before the period: only two of the next three days fit.
    with_history = RosterProblem(
        days, [E], [ana(max_consecutive_work=3)], cover(days, "E", 1), history={"ana": ["E", "E"]}
    )
    sol = optimal(with_history, 10)
    assert row(sol).count("E") == 2
    ev = evaluate(with_history, {"ana": ["E", "E", None]})
    assert [v.rule for v in ev.violations] == [Rule.MAX_CONSECUTIVE_WORK]
    assert "counting days before the period" in ev.violations[0].message


def test_max_consecutive_work_in_the_period() -> None:
    days = period(3)
    p = RosterProblem(days, [E], [ana(max_consecutive_work=2)], cover(days, "E", 2))
    sol = optimal(p, 40)  # 3 short on the day off (2) plus 1 on each working day
    assert row(sol).count("E") == 2


def test_min_consecutive_work_continues_a_run_from_history() -> None:
    days = period(4)
    cov = cover(days, "E", 0, under=10, over=5)  # nobody wanted: each shift costs 5
    rules = {"min_consecutive_work": 3}
    # Off, then one working day just before the period: that run must reach 3 days.
    p = RosterProblem(days, [E], [ana(**rules)], cov, history={"ana": [None, "E"]})
    sol = optimal(p, 10)
    assert row(sol) == ["E", "E", None, None]
    # No history, or a history that is one long run (its start unknown): nothing forced.
    optimal(RosterProblem(days, [E], [ana(**rules)], cov), 0)
    optimal(RosterProblem(days, [E], [ana(**rules)], cov, history={"ana": ["E"]}), 0)
    # History ending with a day off: a run starting on day 0 is a fresh, held run.
    optimal(RosterProblem(days, [E], [ana(**rules)], cov, history={"ana": ["E", None]}), 0)


def test_min_consecutive_work_borders_without_history() -> None:
    days = period(4)
    rules = {"min_consecutive_work": 3}
    # Wanted on the last day only: a one-day run touching the period end is allowed.
    last = [*cover(days[:3], "E", 0, over=5), Coverage(days[3], "E", 1, 10, 5)]
    sol = optimal(RosterProblem(days, [E], [ana(**rules)], last), 0)
    assert row(sol) == [None, None, None, "E"]
    # Wanted on day 1 only: a lone shift there would be a short run, so the cheapest is
    # days 0-1, a run touching the period start (not held without history) costing 5 over.
    mid = [*cover(days, "E", 0, over=5)]
    mid[1] = Coverage(days[1], "E", 1, 10, 5)
    sol = optimal(RosterProblem(days, [E], [ana(**rules)], mid), 5)
    assert row(sol) == ["E", "E", None, None]


def test_min_consecutive_days_off() -> None:
    days = period(5)
    cov = cover(days, "E", 1)
    sol = optimal(RosterProblem(days, [E], [ana(max_consecutive_work=2)], cov), 10)
    assert row(sol) == ["E", "E", None, "E", "E"]
    sol = optimal(RosterProblem(days, [E], [ana(max_consecutive_work=2, min_consecutive_off=2)], cov), 20)
    assert row(sol).count(None) == 2
    ev = evaluate(
        RosterProblem(days, [E], [ana(max_consecutive_work=2, min_consecutive_off=2)], cov),
        {"ana": ["E", "E", None, "E", "E"]},
    )
    assert [v.rule for v in ev.violations] == [Rule.MIN_CONSECUTIVE_OFF]
    assert "is off only 1 day in a row" in ev.violations[0].message


def test_min_consecutive_days_off_continues_from_history() -> None:
    days = period(3)
    # Off on the last history day after working: the off run must last 3 days.
    p = RosterProblem(
        days, [E], [ana(min_consecutive_off=3)], cover(days, "E", 1), history={"ana": ["E", None]}
    )
    sol = optimal(p, 20)
    assert row(sol) == [None, None, "E"]


# -- weekends ------------------------------------------------------------------------------


def test_max_working_weekends() -> None:
    days = period(14)  # Mon 2 Mar .. Sun 15 Mar: two weekends
    weekend = [d for d in days if d.weekday() >= 5]
    p = RosterProblem(days, [E], [ana(max_weekends=1)], cover(weekend, "E", 1))
    sol = optimal(p, 20)
    worked = [d for d, s in zip(days, row(sol), strict=True) if s]
    assert len(worked) == 2 and worked[1] - worked[0] == timedelta(days=1)  # one whole weekend
    ev = evaluate(p, {"ana": [None] * 5 + ["E", None] + [None] * 6 + ["E"]})
    assert [v.rule for v in ev.violations] == [Rule.MAX_WEEKENDS]  # Sat of one, Sun of the other


# -- forbidden sequences -------------------------------------------------------------------


def test_forbidden_successor_of_a_shift_type() -> None:
    days = period(2)
    cov = [Coverage(days[0], "L", 1, 10), Coverage(days[1], "E", 1, 10)]
    optimal(RosterProblem(days, [E, L], [ana()], cov), 10)


def test_forbidden_sequence_of_a_clerk() -> None:
    days = period(2)
    cov = [Coverage(days[0], "E", 1, 10), Coverage(days[1], "M", 1, 10)]
    optimal(RosterProblem(days, [E, M], [ana()], cov), 0)
    optimal(RosterProblem(days, [E, M], [ana(forbidden_sequences=frozenset({("E", "M")}))], cov), 10)


def test_forbidden_sequence_across_the_history_boundary() -> None:
    days = period(1)
    cov = [Coverage(days[0], "E", 1, 10)]
    sol = optimal(RosterProblem(days, [E, L], [ana()], cov, history={"ana": ["L"]}), 10)
    assert row(sol) != ["E"]
    optimal(RosterProblem(days, [E, L], [ana()], cov, history={"ana": ["E"]}), 0)
    ev = evaluate(RosterProblem(days, [E, L], [ana()], cov, history={"ana": ["L"]}), {"ana": ["E"]})
    assert [v.rule for v in ev.violations] == [Rule.FORBIDDEN_SEQUENCE]
    assert "the day before the period" in ev.violations[0].message


# -- fixed days off and fixed cells --------------------------------------------------------


def test_fixed_day_off() -> None:
    days = period(3)
    p = RosterProblem(days, [E], [ana(fixed_days_off=frozenset({days[1]}))], cover(days, "E", 1))
    sol = optimal(p, 10)
    assert row(sol) == ["E", None, "E"]


def test_fixed_assignments_are_kept() -> None:
    days = period(2)
    cov = [*cover(days, "E", 1), Coverage(days[0], "M", 0, 10, 5)]
    p = RosterProblem(days, [E, M], [ana()], cov, fixed={("ana", days[0]): "M"})
    sol = optimal(p, 15)  # Early short on Monday (10), Middle one too many (5)
    assert row(sol) == ["M", "E"]
    p = RosterProblem(days, [E, M], [ana()], cov, fixed={("ana", days[0]): "M", ("ana", days[1]): None})
    sol = optimal(p, 25)
    assert row(sol) == ["M", None]


def test_fill_only_empty_cells_around_supervisor_edits() -> None:
    days = period(5)
    staff = [Clerk("ana", "Ana Ruiz"), Clerk("ben", "Ben Okafor")]
    p = RosterProblem(days, [E, M], staff, cover(days, "E", 1) + cover(days, "M", 1))
    fixed = {("ana", days[0]): "M", ("ben", days[0]): "E", ("ana", days[2]): None}
    sol = optimal(RosterProblem(p.days, p.shift_types, p.staff, p.coverage, fixed=fixed), 10)
    assert row(sol)[0] == "M" and row(sol, "ben")[0] == "E" and row(sol)[2] is None


# -- input checks --------------------------------------------------------------------------


def test_malformed_problems_are_rejected_with_every_reason() -> None:
    days = [MON, MON + timedelta(days=2)]
    p = RosterProblem(
        days, [E], [ana(max_shifts={"X": 1})], [Coverage(MON, "Q", 1)], fixed={("bob", MON): "E"}
    )
    with pytest.raises(ProblemError) as err:
        solve(p)
    text = str(err.value)
    assert "consecutive" in text and "'X'" in text and "'Q'" in text and "'bob'" in text


def test_min_rest_forbids_overlapping_and_short_rest_pairs() -> None:
    night = ShiftType("N", "Night", 600, start_minute=22 * 60)  # 22:00–08:00
    early = ShiftType("E", "Early", 480, start_minute=7 * 60)
    days = period(2)
    p = RosterProblem(
        days=days,
        shift_types=[night, early],
        staff=[ana()],
        coverage=[Coverage(days[0], "N", 1, 10), Coverage(days[1], "E", 1, 10)],
        min_rest_minutes=11 * 60,
    )
    sol = optimal(p, 10)  # one clerk cannot cover both: the overlap is a hard rule
    assert row(sol) in (["N", None], [None, "E"])
    ev = evaluate(p, {"ana": ["N", "E"]})
    assert [(v.rule, v.message) for v in ev.violations] == [
        (
            Rule.MIN_REST,
            "Ana Ruiz: Early on Tue 3 Mar starts 07:00, 1 h before Night on Mon 2 Mar ends (08:00)",
        )
    ]
    # Without start times (or with a pair that rests long enough) nothing is forbidden.
    late = ShiftType("L", "Late", 480, start_minute=11 * 60)  # ends 19:00, 12 h before 07:00
    ok = RosterProblem(days=days, shift_types=[late, early], staff=[ana()], min_rest_minutes=11 * 60)
    assert evaluate(ok, {"ana": ["L", "E"]}).violations == []
    with pytest.raises(ProblemError, match="minimum rest"):
        evaluate(RosterProblem(days=days, shift_types=[early], staff=[ana()], min_rest_minutes=-1), {})
