"""The start phase of solve(): greedy top-up, per-clerk repair, and how a cut-short solve reports.

Pass/fail is decided by the status, the stop reason and the independent evaluator, never by
how long a call took (the time limits here only bound the test's own length).
"""

from __future__ import annotations

import dataclasses
import threading
from datetime import date, timedelta

import pytest

import scheduling.roster.solver as solver_mod
from scheduling.roster import (
    Clerk,
    RosterProblem,
    ShiftType,
    SolveStatus,
    StaffRules,
    StopReason,
    evaluate,
    solve,
)
from scheduling.roster.evaluate import Evaluator
from scheduling.roster.generate import _BASE_SHIFTS, generate, generate_size
from scheduling.roster.greedy import greedy_rows, top_up
from scheduling.roster.problem import OFF, ProblemIndex


def stop_at_first_roster() -> tuple[threading.Event, solver_mod.ProgressCallback]:
    """A cancel event set by the first progress report, i.e. as soon as a valid roster exists."""
    cancel = threading.Event()
    return cancel, lambda penalty, bound, elapsed: cancel.set()


def empty_start(ix: ProblemIndex, *, fill: bool = True) -> list[list[int]]:
    """A greedy start that leaves every clerk off: every clerk with a minimum needs a repair."""
    return [[OFF] * ix.n_days for _ in ix.clerks]


def minutes(ix: ProblemIndex, row: list[int]) -> int:
    return sum(ix.day_minutes[d][s] for d, s in enumerate(row) if s != OFF)


# -- the problem the old start phase gave up on ------------------------------------------------


def test_a_year_for_six_clerks_that_used_to_end_unknown_gets_a_valid_roster() -> None:
    # With the repair on one worker and 1 s + 10 s per clerk, this returned `unknown` after
    # about 12 s of a 40 s limit, with no roster.
    p = generate(6, 364, 8, seed=2, cover=0.5)
    cancel, progress = stop_at_first_roster()
    sol = solve(p, time_limit=60, cancel=cancel, progress=progress)
    assert sol.status is SolveStatus.FEASIBLE
    assert sol.stop_reason is StopReason.CANCELLED
    assert sol.assignment is not None and sol.unrepaired == []
    ev = evaluate(p, sol.assignment)
    assert ev.violations == [] and ev.penalty == sol.penalty


# -- greedy top-up ----------------------------------------------------------------------------


def test_top_up_brings_every_short_clerk_to_the_minimum() -> None:
    p = generate(8, 364, 8, seed=3, cover=0.5)
    ix = ProblemIndex(p)
    ev = Evaluator(ix)
    first = greedy_rows(ix, fill=False)
    assert [minutes(ix, r) for r in first] == [92880, 93840, 73920, 90480, 91920, 91680, 92160, 91920]
    assert [c.rules.min_minutes for c in ix.clerks] == [93600, 93600, 74880] + [93600] * 5
    short = [c.id for c in ix.clerks if ev.clerk_violations(c, first[c.i])]
    assert short == ["c000", "c002", "c003", "c004", "c005", "c006", "c007"]
    rows = greedy_rows(ix)
    assert [minutes(ix, r) for r in rows] == [93840, 93840, 75120, 93600, 94080, 93600, 93840, 93840]
    assert all(ev.clerk_violations(c, rows[c.i]) == [] for c in ix.clerks)


def with_rest_rule(p: RosterProblem) -> RosterProblem:
    """The same office with wall-clock starts and an 11-hour rest instead of forbidden_next."""
    start = {code: hour * 60 for code, _, hour, _ in _BASE_SHIFTS}
    shifts = [
        dataclasses.replace(s, forbidden_next=frozenset(), start_minute=start[s.code]) for s in p.shift_types
    ]
    return dataclasses.replace(p, shift_types=shifts, min_rest_minutes=11 * 60)


CASES = [
    generate(8, 364, 8, seed=3, cover=0.5),
    generate(12, 182, 5, seed=1, cover=0.4, fixed_cells=6),
    generate(20, 28, 3, seed=2, cover=0.3),
    with_rest_rule(generate(10, 182, 5, seed=4, cover=0.5, fixed_cells=3)),
]


@pytest.mark.parametrize("case", range(len(CASES)))
def test_top_up_only_adds_shifts_and_breaks_no_rule(case: int) -> None:
    ix = ProblemIndex(CASES[case])
    assert bool(ix.short_rest) == (CASES[case].min_rest_minutes > 0)  # the rest rule is in play
    ev = Evaluator(ix)
    before = greedy_rows(ix, fill=False)
    after = [list(r) for r in before]
    added = top_up(ix, after)
    changed = 0
    for c in ix.clerks:
        old, new = before[c.i], after[c.i]
        diff = [d for d in range(ix.n_days) if old[d] != new[d]]
        changed += len(diff)
        assert all(old[d] == OFF and d not in c.fixed_cells and d not in c.fixed_off for d in diff)
        was = {v.rule for v in ev.clerk_violations(c, old)}
        now = {v.rule for v in ev.clerk_violations(c, new)}
        assert now <= was, (c.id, now - was)
        assert minutes(ix, new) >= minutes(ix, old)
    assert added == changed > 0


# -- repair -----------------------------------------------------------------------------------


def test_every_clerk_is_repaired_from_an_empty_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(solver_mod, "greedy_rows", empty_start)
    p = generate(6, 364, 8, seed=2, cover=0.5)
    cancel, progress = stop_at_first_roster()
    sol = solve(p, time_limit=60, cancel=cancel, progress=progress)
    assert sol.status is SolveStatus.FEASIBLE and sol.method == "greedy"
    assert sol.stats["clerks_repaired"] == 6 and sol.stats["repair_retries"] == 0
    assert evaluate(p, sol.assignment or {}).violations == []


def test_a_repair_that_runs_out_of_budget_is_retried_not_given_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(solver_mod, "greedy_rows", empty_start)
    real = solver_mod._Run.repair
    budgets: dict[int, list[float]] = {}

    def slow_first(self: solver_mod._Run, rows: list[list[int]], i: int, budget: float):  # type: ignore[no-untyped-def]
        budgets.setdefault(i, []).append(budget)
        if len(budgets[i]) < 3:
            return None, None  # as if CP-SAT found nothing within the budget
        return real(self, rows, i, budget)

    monkeypatch.setattr(solver_mod._Run, "repair", slow_first)
    p = generate(6, 182, 5, seed=1, cover=0.5)
    cancel, progress = stop_at_first_roster()
    sol = solve(p, time_limit=600, cancel=cancel, progress=progress)
    assert sol.status is SolveStatus.FEASIBLE
    assert sol.stats["repair_retries"] == 12 and sol.stats["clerks_repaired"] == 6
    # Each retry of a clerk gets a larger budget than the one before.
    assert all(len(b) == 3 and b[0] < b[1] < b[2] for b in budgets.values())
    assert evaluate(p, sol.assignment or {}).violations == []


# -- stop reasons -----------------------------------------------------------------------------


def test_time_running_out_before_any_roster_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(solver_mod, "greedy_rows", empty_start)
    p = generate(6, 182, 5, seed=1, cover=0.5)
    sol = solve(p, time_limit=0)
    assert sol.status is SolveStatus.UNKNOWN and sol.assignment is None
    assert sol.stop_reason is StopReason.TIME_LIMIT
    assert sol.unrepaired == [c.id for c in p.staff]
    cancel = threading.Event()
    cancel.set()
    sol = solve(p, time_limit=60, cancel=cancel)
    assert sol.status is SolveStatus.UNKNOWN and sol.stop_reason is StopReason.CANCELLED
    assert sol.unrepaired == [c.id for c in p.staff]


def test_finished_searches_say_done() -> None:
    sol = solve(generate_size("12x2w"), time_limit=30)
    assert sol.status is SolveStatus.OPTIMAL and sol.stop_reason is StopReason.DONE
    days = [date(2026, 3, 2) + timedelta(days=k) for k in range(3)]
    clerk = Clerk("ana", "Ana Ruiz", StaffRules(min_minutes=4 * 480))
    sol = solve(RosterProblem(days, [ShiftType("E", "Early", 480)], [clerk]), time_limit=30)
    assert sol.status is SolveStatus.INFEASIBLE and sol.stop_reason is StopReason.DONE
    assert sol.unrepaired == [] and sol.conflicts


def test_a_time_limited_improvement_says_time_limit() -> None:
    p = generate_size("40x4w")
    sol = solve(p, time_limit=1, strategy="lns")
    assert sol.status is SolveStatus.FEASIBLE and sol.stop_reason is StopReason.TIME_LIMIT
    assert evaluate(p, sol.assignment or {}).violations == []


@pytest.mark.slow
@pytest.mark.parametrize("size", ["50x26w-low", "150x52w-low"])
def test_long_horizons_with_little_cover_give_valid_rosters(size: str) -> None:
    p = generate_size(size)
    sol = solve(p, time_limit=60)
    assert sol.status is SolveStatus.FEASIBLE and sol.unrepaired == []
    ev = evaluate(p, sol.assignment or {})
    assert ev.violations == [] and ev.penalty == sol.penalty
    assert sol.penalty is not None and sol.penalty <= sol.stats["start_penalty"]
