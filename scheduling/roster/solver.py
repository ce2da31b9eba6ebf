"""Solve a roster problem with OR-Tools CP-SAT.

Pipeline: validate -> arithmetic pre-checks -> greedy roster -> per-clerk CP-SAT repair of the
rows the greedy got wrong (this also proves feasibility, clerk by clerk, since every hard rule
is a one-clerk rule) -> improvement, either one CP-SAT run on the full model with the roster
as hint (office sizes, gives a proof of optimality) or large-neighbourhood search that
re-solves windows of the roster (large sizes). Every roster returned has passed the
independent evaluator.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from ortools.sat.python import cp_model

from scheduling.roster.evaluate import Evaluation, Evaluator, PenaltyItem
from scheduling.roster.explain import Conflict, explain_clerk, precheck
from scheduling.roster.greedy import greedy_rows
from scheduling.roster.model import build_model
from scheduling.roster.problem import Assignment, ProblemIndex, RosterProblem, Rule
from scheduling.roster.status import SolveStatus, StopReason

ProgressCallback = Callable[[int, int | None, float], None]
"""progress(best_penalty, lower_bound or None, elapsed_seconds); may run on a solver thread."""

# Above this many cell variables the full model is left alone and LNS does the work.
FULL_MODEL_LIMIT = 20_000
# Seconds per LNS neighbourhood: short steps that keep moving beat long proofs of small blocks.
LNS_SUB_LIMIT = 0.3
# First budget in seconds for one clerk's repair model; a clerk that runs out is retried later
# with four times as much (bounded by a share of the time left).
REPAIR_BUDGET = 1.0
# A repair keeps looking for a closer row this long after its first one (see _Run.repair).
REPAIR_SOFT = 0.2


@dataclass
class RosterSolution:
    status: SolveStatus
    assignment: Assignment | None  # clerk id -> shift code or None per day; None if no roster
    penalty: int | None
    lower_bound: int | None
    items: list[PenaltyItem] = field(default_factory=list)  # every soft miss, in words
    by_rule: dict[Rule, int] = field(default_factory=dict)
    by_clerk: dict[str, int] = field(default_factory=dict)  # requests only; coverage is per day
    conflicts: list[Conflict] = field(default_factory=list)  # why, when infeasible
    stop_reason: StopReason = StopReason.DONE
    # Clerks whose rows still broke a hard rule when the start phase was cut short (status unknown).
    unrepaired: list[str] = field(default_factory=list)
    wall_time: float = 0.0
    first_solution_time: float | None = None
    method: str = ""  # "cp-sat", "lns" or "greedy" (cancelled before improving)
    stats: dict[str, float] = field(default_factory=dict)

    def shift(self, clerk: str, day_index: int) -> str | None:
        assert self.assignment is not None
        return self.assignment[clerk][day_index]


class _Stopper:
    """Stops a CP-SAT search when ``cancel`` is set, from a watcher thread.

    The solution callback alone would only notice between solutions; a proof phase can go
    for seconds without one, so a thread polls the event and calls ``stop_search``.
    """

    def __init__(self, solver: cp_model.CpSolver, cancel: threading.Event | None) -> None:
        self.solver = solver
        self.cancel = cancel
        self.done = threading.Event()
        self.thread: threading.Thread | None = None

    def __enter__(self) -> _Stopper:
        if self.cancel is not None:
            self.thread = threading.Thread(target=self._watch, daemon=True)
            self.thread.start()
        return self

    def _watch(self) -> None:
        assert self.cancel is not None
        while not self.done.is_set():
            if self.cancel.wait(0.05):
                self.solver.stop_search()  # no-op until solve() has started, so keep trying
                if self.done.wait(0.05):
                    return

    def __exit__(self, *exc: object) -> None:
        self.done.set()
        if self.thread is not None:
            self.thread.join()


class _Callback(cp_model.CpSolverSolutionCallback):
    def __init__(self, on_solution: Callable[[int, int], None], cancel: threading.Event | None) -> None:
        super().__init__()
        self.on_solution = on_solution
        self.cancel = cancel

    def on_solution_callback(self) -> None:
        self.on_solution(round(self.objective_value), math.ceil(self.best_objective_bound - 1e-6))
        if self.cancel is not None and self.cancel.is_set():
            self.stop_search()


class _SoftStop(cp_model.CpSolverSolutionCallback):
    """Stops the search ``soft`` seconds after it started, once it has a solution (or on cancel).

    The callback only runs when a solution arrives; the proof that follows the last one can go
    on for the whole time limit, so a timer stops the search once ``soft`` is up.
    """

    def __init__(self, solver: cp_model.CpSolver, soft: float, cancel: threading.Event | None) -> None:
        super().__init__()
        self.solver = solver
        self.until = time.monotonic() + soft
        self.cancel = cancel
        self.timer: threading.Timer | None = None

    def on_solution_callback(self) -> None:
        now = time.monotonic()
        if now >= self.until or (self.cancel is not None and self.cancel.is_set()):
            self.stop_search()
        elif self.timer is None:
            self.timer = threading.Timer(self.until - now, self.solver.stop_search)
            self.timer.daemon = True
            self.timer.start()

    def close(self) -> None:
        if self.timer is not None:
            self.timer.cancel()


def _solver(time_limit: float, workers: int, seed: int, *, deterministic: bool = False) -> cp_model.CpSolver:
    s = cp_model.CpSolver()
    if deterministic:
        # CP-SAT's deterministic time (its own work units, about a second each on a quick
        # machine): one worker, a seed and this limit give the same search on any machine, loaded
        # or not. No wall-clock limit, which would bring the machine's speed back in.
        s.parameters.max_deterministic_time = max(time_limit, 0.01)
    else:
        s.parameters.max_time_in_seconds = max(time_limit, 0.01)
    s.parameters.num_workers = workers
    s.parameters.random_seed = seed
    return s


class _Run:
    """Mutable state of one solve() call."""

    def __init__(
        self,
        ix: ProblemIndex,
        time_limit: float,
        workers: int,
        progress: ProgressCallback | None,
        cancel: threading.Event | None,
        seed: int,
        deterministic: bool = False,
    ) -> None:
        self.ix = ix
        self.deterministic = deterministic
        self.budget = time_limit
        self.spent = 0.0  # deterministic time used so far (deterministic runs only)
        self.t0 = time.monotonic()
        self.cpu0 = time.process_time()  # every thread of the process, CP-SAT's included
        self.deadline = self.t0 + time_limit
        self.workers = workers
        self.progress = progress
        self.cancel = cancel
        self.seed = seed
        self.evaluator = Evaluator(ix)
        self.best_penalty: int | None = None
        self.bound: int | None = None
        self.first_solution_time: float | None = None
        self.lock = threading.Lock()
        self.lns_stats: dict[str, tuple[int, int]] = {}  # neighbourhood kind -> (tried, improved)
        self.repair_stats: dict[str, float] = {}

    def left(self) -> float:
        if self.deterministic:
            return self.budget - self.spent
        return self.deadline - time.monotonic()

    def solver(self, limit: float, seed: int | None = None) -> cp_model.CpSolver:
        return _solver(
            limit, self.workers, self.seed if seed is None else seed, deterministic=self.deterministic
        )

    def charge(self, solver: cp_model.CpSolver) -> float:
        """Count one CP-SAT run's deterministic time against a deterministic budget (the wall
        clock counts itself otherwise); returns it."""
        used = float(solver.deterministic_time)
        if self.deterministic:
            self.spent += used
        return used

    def stopped(self) -> bool:
        return self.left() <= 0 or (self.cancel is not None and self.cancel.is_set())

    def stop_reason(self) -> StopReason:
        """Why an unfinished search stopped (cancel wins when both apply)."""
        if self.cancel is not None and self.cancel.is_set():
            return StopReason.CANCELLED
        return StopReason.TIME_LIMIT

    def report(self, penalty: int, bound: int | None) -> None:
        """Record a roster's penalty and/or a new lower bound; tell the caller if either moved.

        CP-SAT calls this from its own threads (solutions and bounds arrive separately).
        """
        with self.lock:
            self._report(penalty, bound)

    def _report(self, penalty: int, bound: int | None) -> None:
        if self.first_solution_time is None:
            self.first_solution_time = time.monotonic() - self.t0
        changed = False
        if self.best_penalty is None or penalty < self.best_penalty:
            self.best_penalty = penalty
            changed = True
        if bound is not None and (self.bound is None or bound > self.bound):
            self.bound = bound
            changed = True
        if changed and self.progress is not None:
            self.progress(self.best_penalty, self.bound, time.monotonic() - self.t0)

    # -- starting roster -------------------------------------------------------------------

    def repair(self, rows: list[list[int]], i: int, budget: float) -> tuple[bool | None, list[int] | None]:
        """A row for clerk ``i`` that keeps all their hard rules, close to their greedy row.

        Returns (True, row), (False, None) when the clerk's rules cannot hold, or
        (None, None) when ``budget`` seconds (or the whole run) ran out before an answer.
        """
        # Fewest changed cells, but not to the proof: CP-SAT finds a close row in a fraction of
        # the time it takes to prove the closest one, and the improvement phase follows. So the
        # search stops at the first solution after ``soft`` seconds. Plain feasibility (any valid
        # row) gets what is left of the budget when no row turned up.
        soft = min(REPAIR_SOFT, budget / 4)
        steps: tuple[tuple[Literal["distance", "none"], float], ...] = (
            ("distance", budget * 0.6),
            ("none", budget * 0.4),
        )
        for objective, cap in steps:
            # No hint: the row breaks rules, and CP-SAT complains on stderr about an infeasible hint.
            rm = build_model(
                self.ix, rows=rows, free={i: (0, self.ix.n_days - 1)}, objective=objective, hint=False
            )
            solver = self.solver(min(max(self.left(), 0.05), cap))
            # The soft stop is a wall-clock timer: a deterministic run lets the limit end the search.
            cb = (
                _Callback(lambda _o, _b: None, self.cancel)
                if self.deterministic
                else _SoftStop(solver, soft, self.cancel)
            )
            try:
                with _Stopper(solver, self.cancel):
                    status = solver.solve(rm.model, cb)
            finally:
                if isinstance(cb, _SoftStop):
                    cb.close()
                self.charge(solver)
            if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
                return True, rm.rows(solver, rows)[i]
            if status == cp_model.INFEASIBLE:
                return False, None
            if self.stopped():
                break
        return None, None

    def start(self) -> tuple[list[list[int]] | None, list[Conflict], list[str]]:
        """(feasible rows or None, conflicts, ids of clerks still unrepaired when time ran out).

        A clerk whose repair runs out of its budget goes back in the queue with a budget four
        times larger; only the end of the run (time limit or cancel) stops the repairs, never
        one slow clerk.
        """
        ix = self.ix
        conflicts = precheck(ix)
        flagged = {c.clerk for c in conflicts}
        rows = greedy_rows(ix)
        queue = deque(
            c.i for c in ix.clerks if c.id not in flagged and self.evaluator.clerk_violations(c, rows[c.i])
        )
        self.repair_stats["clerks_repaired"] = 0.0
        self.repair_stats["repair_retries"] = 0.0
        tries: dict[int, int] = {}
        while queue:
            if self.stopped():
                break
            i = queue[0]
            n = tries.get(i, 0)
            # A fair share of the time left, growing with each retry of this clerk.
            budget = max(0.1, min(REPAIR_BUDGET * 4**n, self.left() / len(queue) * (1 + n)))
            ok, row = self.repair(rows, i, budget)
            if ok is None:
                if self.stopped():
                    break
                tries[i] = n + 1
                self.repair_stats["repair_retries"] += 1
                queue.rotate(-1)  # the others first: they may be quick
                continue
            queue.popleft()
            if ok:
                assert row is not None
                rows[i] = row
                self.repair_stats["clerks_repaired"] += 1
            else:
                conflict = explain_clerk(ix, i, time_limit=max(min(self.left(), 10.0), 1.0))
                if conflict is not None:
                    conflicts.append(conflict)
        unrepaired = [ix.clerks[i].id for i in queue]
        if conflicts or unrepaired:
            return None, conflicts, unrepaired
        return rows, [], []

    # -- improvement ------------------------------------------------------------------------

    def full(self, rows: list[list[int]]) -> tuple[list[list[int]], bool]:
        """One CP-SAT run on the whole model, hinted with ``rows``. Returns (rows, optimal)."""
        rm = build_model(self.ix, rows=rows)
        solver = self.solver(self.left())
        # The proof needs the strong LP relaxation ("max_lp"); CP-SAT's default portfolio
        # for fewer than 8 workers leaves it out, and then the bound stalls far below the
        # optimum. The other workers run CP-SAT's own LNS from the hint.
        if self.workers == 1:
            solver.parameters.linearization_level = 2
        elif self.workers < 8:
            solver.parameters.subsolvers.append("max_lp")
        if self.progress is not None:

            def on_bound(bound: float) -> None:
                if self.best_penalty is not None:
                    self.report(self.best_penalty, math.ceil(bound - 1e-6))

            solver.best_bound_callback = on_bound
        cb = _Callback(lambda obj, bound: self.report(obj, bound), self.cancel)
        with _Stopper(solver, self.cancel):
            status = solver.solve(rm.model, cb)
        self.charge(solver)
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            new = rm.rows(solver, None)
            bound = math.ceil(solver.best_objective_bound - 1e-6)
            self.bound = max(self.bound or 0, bound)
            return new, status == cp_model.OPTIMAL
        return rows, False

    def lns(self, rows: list[list[int]], penalty: int) -> tuple[list[list[int]], bool]:
        """Large-neighbourhood search: free a block of the roster, re-solve it, keep if not worse.

        Neighbourhoods are sized in cell variables (cells x qualified shifts) and the size
        adapts: a block solved to optimality quickly grows the next one, a block that ran out
        of time shrinks it.
        """
        ix = self.ix
        rng = random.Random(self.seed)
        n_c, n_d = len(ix.clerks), ix.n_days
        if n_c == 0:
            self.bound = penalty  # nobody to roster: the penalty is what it is
            return rows, True
        weight = [len(c.qualified) + 1 for c in ix.clerks]  # variables per free cell
        day_weight = sum(weight)
        by_shift = [[c.i for c in ix.clerks if s in c.qualified] for s in range(ix.n_shifts)]
        target = 1_500.0
        sub_limit = LNS_SUB_LIMIT
        misses: list[int] | None = None  # days with coverage misses; recomputed after a change
        while not self.stopped() and penalty > (self.bound or 0):
            if misses is None:
                ev = self.evaluator.evaluate_rows(rows)
                misses = sorted({ix.day_of[it.day] for it in ev.items if it.clerk is None})
            kind = rng.random()
            name = "clerks" if kind < 0.35 else ("miss-days" if kind < 0.75 and misses else "days")
            if kind < 0.35:
                # Clerks who share a qualification, over a long window: they can swap shifts.
                pool = by_shift[rng.randrange(ix.n_shifts)] or list(range(n_c))
                length = min(n_d, rng.choice((7, 14, 28)))
                per_clerk = length * sum(weight[i] for i in pool) / len(pool)
                k = max(2, min(len(pool), round(target / per_clerk)))
                a = rng.randrange(0, n_d - length + 1)
                free = {i: (a, a + length - 1) for i in rng.sample(pool, k)}
            else:
                # Every clerk over a few days, centred on a coverage miss most of the time.
                length = max(1, min(n_d, round(target / day_weight)))
                if kind < 0.75 and misses:
                    day = rng.choice(misses)
                else:
                    day = rng.randrange(n_d)
                a = min(max(0, day - length // 2), n_d - length)
                if length * day_weight > 2 * target:
                    # Too many clerks for even one day: take a random share of them.
                    k = max(2, round(n_c * target / (length * day_weight)))
                    free = {i: (a, a + length - 1) for i in rng.sample(range(n_c), k)}
                else:
                    free = {i: (a, a + length - 1) for i in range(n_c)}
            rm = build_model(ix, rows=rows, free=free)
            limit = min(self.left(), sub_limit)
            solver = self.solver(limit, rng.randrange(1 << 30))
            started = time.monotonic()
            with _Stopper(solver, self.cancel):
                status = solver.solve(rm.model)
            used = self.charge(solver)
            took = used if self.deterministic else time.monotonic() - started
            tried, won = self.lns_stats.get(name, (0, 0))
            won_now = (
                status in (cp_model.OPTIMAL, cp_model.FEASIBLE) and round(solver.objective_value) < penalty
            )
            self.lns_stats[name] = (tried + 1, won + int(won_now))
            if status == cp_model.OPTIMAL and took < limit / 2:
                target = min(target * 1.2, 50_000)
            elif status != cp_model.OPTIMAL:
                target = max(200.0, target / 1.2)
            if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
                continue
            new_pen = round(solver.objective_value)
            if new_pen <= penalty:
                if new_pen < penalty:
                    misses = None
                rows, penalty = rm.rows(solver, rows), new_pen
                self.report(penalty, None)
            if (
                status == cp_model.OPTIMAL
                and len(free) == n_c
                and all(lo == 0 and hi == n_d - 1 for lo, hi in free.values())
            ):
                self.bound = penalty  # the neighbourhood was the whole problem
                return rows, True
        return rows, False


def solve(
    problem: RosterProblem,
    *,
    time_limit: float = 30.0,
    workers: int = 2,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    seed: int = 0,
    strategy: Literal["auto", "full", "lns"] = "auto",
    deterministic: bool = False,
) -> RosterSolution:
    """Propose a roster that keeps every hard rule and minimises the soft penalty.

    Returns the best roster found when ``time_limit`` (seconds) runs out or ``cancel`` is set.
    ``deterministic``: ``time_limit`` counts CP-SAT's deterministic time instead of seconds and
    one worker searches, so the same problem and seed give the same roster on any machine and
    under any load, whether or not the limit is reached (a cancel still stops it early).
    ``strategy="auto"`` runs CP-SAT on the full model for office sizes and LNS above
    ``FULL_MODEL_LIMIT`` cell variables. Raises ProblemError for malformed input.
    """
    run = _Run(
        ProblemIndex(problem),
        time_limit,
        1 if deterministic else workers,
        progress,
        cancel,
        seed,
        deterministic,
    )
    ix = run.ix
    rows, conflicts, unrepaired = run.start()
    if rows is None:
        status = SolveStatus.UNKNOWN if unrepaired else SolveStatus.INFEASIBLE
        return RosterSolution(
            status,
            None,
            None,
            None,
            conflicts=conflicts,
            stop_reason=run.stop_reason() if unrepaired else StopReason.DONE,
            unrepaired=unrepaired,
            wall_time=time.monotonic() - run.t0,
            method="greedy",
            stats=dict(run.repair_stats),
        )
    start_time = time.monotonic() - run.t0
    start_cpu = time.process_time() - run.cpu0
    penalty = run.evaluator.penalty_rows(rows)
    run.report(penalty, None)
    size = sum(len(c.qualified) for c in ix.clerks) * ix.n_days
    use = strategy if strategy != "auto" else ("full" if size <= FULL_MODEL_LIMIT else "lns")
    optimal = False
    method = "greedy"
    if not run.stopped():
        method = "cp-sat" if use == "full" else "lns"
        if use == "full":
            new, optimal = run.full(rows)
        else:
            new, optimal = run.lns(rows, penalty)
        # Trust but verify: only a roster the evaluator accepts replaces the start.
        ev_new = run.evaluator.evaluate_rows(new, explain=False)
        if ev_new.feasible and ev_new.penalty <= penalty:
            rows = new
        else:
            optimal = False
    ev: Evaluation = run.evaluator.evaluate_rows(rows)
    if ev.penalty == 0 or (run.bound is not None and run.bound >= ev.penalty):
        optimal = True
    if optimal:
        run.bound = ev.penalty
    return RosterSolution(
        status=SolveStatus.OPTIMAL if optimal else SolveStatus.FEASIBLE,
        stop_reason=StopReason.DONE if optimal else run.stop_reason(),
        assignment=ix.assignment_from(rows),
        penalty=ev.penalty,
        lower_bound=run.bound,
        items=ev.items,
        by_rule=ev.by_rule,
        by_clerk=ev.by_clerk,
        wall_time=time.monotonic() - run.t0,
        first_solution_time=run.first_solution_time,
        method=method,
        stats={
            "start_time": start_time,
            "start_cpu": start_cpu,
            "start_penalty": float(penalty),
            "cell_vars": float(size),
            **run.repair_stats,
            **{f"lns_{k}_tried": float(v[0]) for k, v in run.lns_stats.items()},
            **{f"lns_{k}_improved": float(v[1]) for k, v in run.lns_stats.items()},
        },
    )
