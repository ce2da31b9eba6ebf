"""Solver against brute force and the independent evaluator; explanations; progress and cancel."""

from __future__ import annotations

import itertools
import random
import threading
import time
from datetime import date, timedelta

import pytest
from ortools.sat.python import cp_model

from scheduling.roster import (
    Clerk,
    Coverage,
    Evaluator,
    RosterProblem,
    Rule,
    ShiftRequest,
    ShiftType,
    SolveStatus,
    StaffRules,
    evaluate,
    explain,
    solve,
)
from scheduling.roster.generate import generate, generate_size
from scheduling.roster.model import build_model
from scheduling.roster.problem import OFF, ProblemIndex

THU = date(2026, 3, 5)  # five days from a Thursday include a weekend


def random_tiny(seed: int) -> RosterProblem:
    """Two clerks, five days, two shift types, every kind of rule drawn at random."""
    rng = random.Random(seed)
    days = [THU + timedelta(days=k) for k in range(5)]
    shifts = [
        ShiftType("E", "Early", 480, frozenset({"E"}) if rng.random() < 0.2 else frozenset()),
        ShiftType(
            "L", "Late", rng.choice([240, 480]), frozenset({"E"}) if rng.random() < 0.6 else frozenset()
        ),
    ]
    staff = []
    history: dict[str, list[str | None]] = {}
    fixed: dict[tuple[str, date], str | None] = {}
    for k in range(2):
        cid = f"c{k}"
        staff.append(
            Clerk(
                cid,
                f"Clerk {k}",
                StaffRules(
                    min_minutes=rng.choice([0, 0, 480, 960, 1440]),
                    max_minutes=rng.choice([None, 1440, 1920]),
                    max_shifts=rng.choice([{}, {"L": 0}, {"E": 2}, {"L": 1}]),
                    min_consecutive_work=rng.choice([1, 2, 3]),
                    max_consecutive_work=rng.choice([None, 2, 3, 4]),
                    min_consecutive_off=rng.choice([1, 2]),
                    max_weekends=rng.choice([None, 0, 1]),
                    forbidden_sequences=frozenset({("L", "L")}) if rng.random() < 0.2 else frozenset(),
                    fixed_days_off=frozenset(rng.sample(days, rng.choice([0, 0, 1]))),
                ),
            )
        )
        if rng.random() < 0.6:
            history[cid] = [rng.choice(["E", "L", None]) for _ in range(rng.randint(1, 4))]
        if rng.random() < 0.3:
            fixed[(cid, rng.choice(days))] = rng.choice(["E", "L", None])
    coverage = [
        Coverage(d, s.code, rng.randint(0, 2), rng.choice([0, 3, 10]), rng.choice([0, 1, 4]))
        for d in days
        for s in shifts
        if rng.random() < 0.8
    ]
    requests = [
        ShiftRequest(
            f"c{rng.randrange(2)}",
            rng.choice(days),
            rng.choice([None, "E", "L"]),
            rng.random() < 0.4,
            rng.randint(1, 6),
        )
        for _ in range(rng.randint(0, 4))
    ]
    return RosterProblem(days, shifts, staff, coverage, requests, history, fixed)


def brute_force(problem: RosterProblem) -> tuple[int | None, list[str]]:
    """(optimal penalty or None, ids of clerks without any valid row), by enumeration."""
    ix = ProblemIndex(problem)
    ev = Evaluator(ix)
    values = [OFF, *range(ix.n_shifts)]
    valid = [
        [list(r) for r in itertools.product(values, repeat=ix.n_days) if not ev.clerk_violations(c, list(r))]
        for c in ix.clerks
    ]
    stuck = [c.id for c, rows in zip(ix.clerks, valid, strict=True) if not rows]
    if stuck:
        return None, stuck
    return min(ev.penalty_rows(list(combo)) for combo in itertools.product(*valid)), []


@pytest.mark.parametrize("seed", range(20))
def test_solver_matches_brute_force_on_tiny_random_problems(seed: int) -> None:
    p = random_tiny(seed)
    best, stuck = brute_force(p)
    sol = solve(p, time_limit=10)
    if best is None:
        assert sol.status is SolveStatus.INFEASIBLE
        assert sol.assignment is None
        assert {c.clerk for c in sol.conflicts} == set(stuck)
        assert all(c.message.startswith(f"Clerk {c.clerk[1]}: ") for c in sol.conflicts)
        return
    assert sol.status is SolveStatus.OPTIMAL
    assert sol.penalty == best
    assert sol.assignment is not None
    ev = evaluate(p, sol.assignment)
    assert ev.violations == [] and ev.penalty == best


def test_the_random_tiny_problems_cover_both_outcomes() -> None:
    outcomes = {brute_force(random_tiny(seed))[0] is None for seed in range(20)}
    assert outcomes == {True, False}


@pytest.mark.parametrize("seed", range(20))
def test_model_objective_equals_evaluator_penalty(seed: int) -> None:
    rng = random.Random(seed)
    p = generate(rng.randint(3, 6), rng.choice([7, 14]), rng.choice([2, 3]), seed=seed)
    ix = ProblemIndex(p)
    ev = Evaluator(ix)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = 5
    solver.parameters.num_workers = 2
    rm = build_model(ix)
    assert solver.solve(rm.model) in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    rows = rm.rows(solver, None)
    result = ev.evaluate_rows(rows)
    assert result.violations == []
    assert round(solver.objective_value) == result.penalty
    # A neighbourhood model (a window for some clerks, the rest frozen) agrees too.
    lo = rng.randrange(ix.n_days - 3)
    free = {i: (lo, lo + 2) for i in rng.sample(range(len(ix.clerks)), 2)}
    sub = build_model(ix, rows=rows, free=free)
    assert solver.solve(sub.model) in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    merged = sub.rows(solver, rows)
    assert ev.evaluate_rows(merged).violations == []
    assert round(solver.objective_value) == ev.penalty_rows(merged) <= result.penalty


# -- explanations --------------------------------------------------------------------------

MON = date(2026, 3, 2)
E = ShiftType("E", "Early", 480)


def test_fixed_day_off_against_a_run_continuing_from_history() -> None:
    days = [MON + timedelta(days=k) for k in range(7)]
    ana = Clerk("ana", "Ana Ruiz", StaffRules(min_consecutive_work=5, fixed_days_off=frozenset({days[1]})))
    ben = Clerk("ben", "Ben Okafor")
    p = RosterProblem(days, [E], [ana, ben], history={"ana": [None, "E", "E"]})
    sol = solve(p, time_limit=10)
    assert sol.status is SolveStatus.INFEASIBLE
    assert sol.assignment is None
    [conflict] = sol.conflicts
    assert conflict.clerk == "ana"
    assert conflict.message == (
        "Ana Ruiz: fixed day off on Tue 3 Mar and minimum 5 consecutive working days "
        "(worked the last 2 days before the period) cannot both hold"
    )
    assert set(conflict.rules) == {Rule.FIXED_DAY_OFF, Rule.MIN_CONSECUTIVE_WORK}
    assert conflict.days == (days[1],)
    assert explain(p) == sol.conflicts


def test_three_rules_that_clash_are_all_named_and_nothing_else() -> None:
    days = [MON + timedelta(days=k) for k in range(14)]
    sat1, sat2 = days[5], days[12]
    rules = StaffRules(max_weekends=1, max_minutes=9600, min_consecutive_off=2)
    p = RosterProblem(
        days, [E], [Clerk("ana", "Ana Ruiz", rules)], fixed={("ana", sat1): "E", ("ana", sat2): "E"}
    )
    [conflict] = explain(p)
    assert conflict.message == (
        "Ana Ruiz: fixed to Early on Sat 7 Mar, fixed to Early on Sat 14 Mar and "
        "at most 1 working weekend cannot all hold"
    )


def test_precheck_quotes_the_numbers() -> None:
    days = [MON + timedelta(days=k) for k in range(5)]
    rules = StaffRules(min_minutes=40 * 60, max_shifts={"E": 3}, fixed_days_off=frozenset({days[0]}))
    p = RosterProblem(days, [E, ShiftType("P", "Part", 240)], [Clerk("ana", "Ana Ruiz", rules)])
    [conflict] = explain(p)
    assert conflict.rules == (Rule.MIN_MINUTES,)
    assert conflict.message == (
        "Ana Ruiz: needs at least 40 h but can work at most 28 h "
        "(4 open days; qualified for Early 8 h, Part 4 h)"
    )


def test_fixed_cell_on_a_shift_the_clerk_is_not_qualified_for() -> None:
    days = [MON]
    p = RosterProblem(
        days, [E], [Clerk("ana", "Ana Ruiz", StaffRules(max_shifts={"E": 0}))], fixed={("ana", MON): "E"}
    )
    sol = solve(p)
    assert sol.status is SolveStatus.INFEASIBLE
    assert sol.conflicts[0].message == "Ana Ruiz: fixed to Early on Mon 2 Mar but not qualified for Early"


def test_feasible_problem_has_nothing_to_explain() -> None:
    assert explain(generate_size("12x2w")) == []


# -- progress, cancel, time limit ----------------------------------------------------------


def test_progress_reports_improving_penalties_and_bounds() -> None:
    calls: list[tuple[int, int | None, float]] = []
    p = generate_size("12x2w")
    sol = solve(p, time_limit=20, progress=lambda pen, bound, t: calls.append((pen, bound, t)))
    assert sol.status is SolveStatus.OPTIMAL
    assert len(calls) >= 2
    pens = [c[0] for c in calls]
    bounds = [c[1] for c in calls if c[1] is not None]
    assert pens == sorted(pens, reverse=True) and pens[-1] == sol.penalty
    assert bounds == sorted(bounds) and bounds[-1] <= sol.penalty
    assert [c[2] for c in calls] == sorted(c[2] for c in calls)
    assert sol.first_solution_time is not None and sol.first_solution_time <= calls[0][2] + 1e-9


@pytest.mark.parametrize("strategy", ["full", "lns"])
def test_cancel_returns_the_best_roster_so_far(strategy: str) -> None:
    p = generate_size("40x4w")
    cancel = threading.Event()
    timer = threading.Timer(1.0, cancel.set)
    timer.start()
    started = time.monotonic()
    sol = solve(p, time_limit=60, cancel=cancel, strategy=strategy)  # type: ignore[arg-type]
    took = time.monotonic() - started
    timer.cancel()
    assert took < 5
    assert sol.status is SolveStatus.FEASIBLE
    assert evaluate(p, sol.assignment or {}).violations == []


def test_cancel_before_start_still_gives_a_valid_roster() -> None:
    p = generate_size("20x4w")
    cancel = threading.Event()
    cancel.set()
    sol = solve(p, time_limit=60, cancel=cancel)
    assert sol.status is SolveStatus.FEASIBLE and sol.method == "greedy"
    ev = evaluate(p, sol.assignment or {})
    assert ev.violations == [] and ev.penalty == sol.penalty


def test_time_limit_is_kept_and_fixed_cells_survive_lns() -> None:
    p = generate(40, 28, 5, seed=3, fixed_cells=2)
    sol = solve(p, time_limit=2, strategy="lns")
    assert sol.wall_time < 4
    assert sol.status is SolveStatus.FEASIBLE
    assert sol.assignment is not None
    assert evaluate(p, sol.assignment).violations == []
    for (cid, d), code in p.fixed.items():
        assert sol.assignment[cid][p.days.index(d)] == code


@pytest.mark.slow
@pytest.mark.parametrize("size", ["120x4w", "100x26w"])
def test_large_sizes_give_valid_rosters_that_improve(size: str) -> None:
    p = generate_size(size)
    sol = solve(p, time_limit=20)
    assert sol.status is SolveStatus.FEASIBLE
    assert sol.first_solution_time is not None and sol.first_solution_time < 5
    ev = evaluate(p, sol.assignment or {})
    assert ev.violations == [] and ev.penalty == sol.penalty
    assert sol.penalty is not None and sol.penalty < sol.stats["start_penalty"]


def test_small_office_is_proven_optimal() -> None:
    sol = solve(generate_size("12x2w"), time_limit=30)
    assert sol.status is SolveStatus.OPTIMAL and sol.lower_bound == sol.penalty


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(3))
def test_office_of_twenty_for_four_weeks_is_proven_optimal_within_30_s(seed: int) -> None:
    sol = solve(generate_size("20x4w", seed=seed), time_limit=30)
    assert sol.status is SolveStatus.OPTIMAL and sol.lower_bound == sol.penalty
