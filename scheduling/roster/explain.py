"""Why a problem has no roster, in words a supervisor understands.

Every hard rule belongs to one clerk and coverage is soft, so a problem is infeasible exactly
when some clerk's own rules cannot hold together. For each such clerk we build a one-clerk
model in which every rule (and every fixed cell or fixed day off) hangs on an assumption
literal, take CP-SAT's ``sufficient_assumptions_for_infeasibility``, shrink that core by
deletion to a minimal set, and render it as one sentence. Cheap arithmetic pre-checks run
first because they can quote numbers ("can work at most 144 h").
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from ortools.sat.python import cp_model

from scheduling.roster.model import RuleKey, build_model
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
class Conflict:
    """Rules of one clerk that cannot all hold. ``message`` is ready to show."""

    clerk: str
    rules: tuple[Rule, ...]
    message: str
    days: tuple[date, ...] = ()  # dates named in the message (fixed cells, fixed days off)


def _join(parts: Sequence[str]) -> str:
    if len(parts) == 1:
        return f"{parts[0]} cannot hold"
    if len(parts) == 2:
        return f"{parts[0]} and {parts[1]} cannot both hold"
    return f"{', '.join(parts[:-1])} and {parts[-1]} cannot all hold"


def _trailing(c: ClerkIndex) -> tuple[bool, int, bool] | None:
    """(works, length, start known) of the last history run, or None without history."""
    if not c.history:
        return None
    kind = c.history[-1] != OFF
    n = 1
    while n < len(c.history) and (c.history[-n - 1] != OFF) == kind:
        n += 1
    return kind, n, n < len(c.history)


def describe(ix: ProblemIndex, c: ClerkIndex, key: RuleKey) -> str:
    """One rule of one clerk as a short phrase."""
    rule, detail = key
    r = c.rules
    trail = _trailing(c)
    if rule is Rule.FIXED_DAY_OFF:
        assert isinstance(detail, int)
        return f"fixed day off on {fmt_day(ix.days[detail])}"
    if rule is Rule.FIXED_ASSIGNMENT:
        assert isinstance(detail, int)
        v = c.fixed_cells[detail]
        what = "off" if v == OFF else f"to {ix.shifts[v].name}"
        return f"fixed {what} on {fmt_day(ix.days[detail])}"
    if rule is Rule.MIN_MINUTES:
        return f"at least {fmt_minutes(r.min_minutes)} of work in the period"
    if rule is Rule.MAX_MINUTES:
        return f"at most {fmt_minutes(r.max_minutes or 0)} of work in the period"
    if rule is Rule.MAX_SHIFTS:
        assert isinstance(detail, int)
        return f"at most {plural(c.max_count[detail] or 0, ix.shifts[detail].name + ' shift')}"
    if rule is Rule.MIN_CONSECUTIVE_WORK:
        text = f"minimum {r.min_consecutive_work} consecutive working days"
        if trail and trail[0] and trail[2]:
            text += f" (worked the last {plural(trail[1], 'day')} before the period)"
        return text
    if rule is Rule.MAX_CONSECUTIVE_WORK:
        text = f"maximum {r.max_consecutive_work} consecutive working days"
        if trail and trail[0]:
            text += f" (worked the last {plural(trail[1], 'day')} before the period)"
        return text
    if rule is Rule.MIN_CONSECUTIVE_OFF:
        text = f"minimum {r.min_consecutive_off} consecutive days off"
        if trail and not trail[0] and trail[2]:
            text += f" (off the last {plural(trail[1], 'day')} before the period)"
        elif trail and trail[0]:
            text += " (worked the day before the period)"
        return text
    if rule is Rule.MAX_WEEKENDS:
        return f"at most {plural(r.max_weekends or 0, 'working weekend')}"
    if rule is Rule.FORBIDDEN_SEQUENCE:
        assert isinstance(detail, tuple)
        a, b = detail
        if (a, b) in ix.short_rest and not any(
            (ix.shifts[a].code, ix.shifts[b].code) == pair for pair in r.forbidden_sequences
        ):
            rest = ix.short_rest[(a, b)]
            how = "they overlap" if rest < 0 else f"only {fmt_minutes(rest)} between them"
            return (
                f"at least {fmt_minutes(ix.min_rest)} rest before a {ix.shifts[b].name} "
                f"after a {ix.shifts[a].name} ({how})"
            )
        text = f"no {ix.shifts[b].name} the day after {ix.shifts[a].name}"
        if c.history and c.history[-1] == a:
            text += f" (worked {ix.shifts[a].name} the day before the period)"
        return text
    return rule.value.replace("_", " ")


def precheck(ix: ProblemIndex) -> list[Conflict]:
    """Arithmetic checks that need no solver; at most one conflict per clerk."""
    out: list[Conflict] = []
    for c in ix.clerks:
        msg = _precheck_clerk(ix, c)
        if msg is not None:
            out.append(Conflict(c.id, msg[0], f"{c.name}: {msg[1]}"))
    return out


def _precheck_clerk(ix: ProblemIndex, c: ClerkIndex) -> tuple[tuple[Rule, ...], str] | None:
    r = c.rules
    for d, v in sorted(c.fixed_cells.items()):
        if v == OFF:
            continue
        if c.max_count[v] == 0:
            return (
                (Rule.FIXED_ASSIGNMENT, Rule.NOT_QUALIFIED),
                f"fixed to {ix.shifts[v].name} on {fmt_day(ix.days[d])} "
                f"but not qualified for {ix.shifts[v].name}",
            )
        if d in c.fixed_off:
            return (
                (Rule.FIXED_ASSIGNMENT, Rule.FIXED_DAY_OFF),
                f"fixed to {ix.shifts[v].name} on {fmt_day(ix.days[d])}, which is a fixed day off",
            )
    if r.max_minutes is not None and r.min_minutes > r.max_minutes:
        return (
            (Rule.MIN_MINUTES, Rule.MAX_MINUTES),
            f"minimum {fmt_minutes(r.min_minutes)} is above the maximum {fmt_minutes(r.max_minutes)}",
        )
    fixed_work = [(d, v) for d, v in c.fixed_cells.items() if v != OFF]
    fixed_minutes = sum(ix.minutes[v] for _, v in fixed_work)
    if r.max_minutes is not None and fixed_minutes > r.max_minutes:
        return (
            (Rule.FIXED_ASSIGNMENT, Rule.MAX_MINUTES),
            f"fixed shifts already add up to {fmt_minutes(fixed_minutes)}, "
            f"above the maximum {fmt_minutes(r.max_minutes)}",
        )
    fixed_counts = [0] * ix.n_shifts
    for _, v in fixed_work:
        fixed_counts[v] += 1
    for s, n in enumerate(fixed_counts):
        limit = c.max_count[s]
        if limit is not None and n > limit:
            return (
                (Rule.FIXED_ASSIGNMENT, Rule.MAX_SHIFTS),
                f"fixed to {plural(n, ix.shifts[s].name + ' shift')}, at most {limit} allowed",
            )
    # Most minutes reachable: fixed shifts plus the longest allowed shifts on the open days.
    open_days = sum(1 for d in range(ix.n_days) if d not in c.fixed_off and d not in c.fixed_cells)
    best = fixed_minutes
    left = open_days
    for s in sorted(c.qualified, key=lambda s: -ix.minutes[s]):
        limit = c.max_count[s]
        take = left if limit is None else min(left, max(limit - fixed_counts[s], 0))
        best += take * ix.minutes[s]
        left -= take
    if best < r.min_minutes:
        quals = ", ".join(f"{ix.shifts[s].name} {fmt_minutes(ix.minutes[s])}" for s in c.qualified)
        return (
            (Rule.MIN_MINUTES,),
            f"needs at least {fmt_minutes(r.min_minutes)} but can work at most {fmt_minutes(best)} "
            f"({plural(open_days, 'open day')}; qualified for {quals or 'no shift'})",
        )
    return None


def _infeasible(model: cp_model.CpModel, lits: Sequence[cp_model.IntVar], time_limit: float) -> bool:
    """True only when proven infeasible; a timeout keeps the literal in the core (safe side)."""
    model.clear_assumptions()
    model.add_assumptions(lits)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(time_limit, 0.05)
    solver.parameters.num_workers = 1  # deterministic cores; these one-clerk models are tiny
    return solver.solve(model) == cp_model.INFEASIBLE


def explain_clerk(ix: ProblemIndex, i: int, *, time_limit: float = 5.0) -> Conflict | None:
    """A minimal set of one clerk's rules that cannot hold together, or None if they can."""
    c = ix.clerks[i]
    deadline = time.monotonic() + time_limit
    rm = build_model(
        ix,
        rows=[[OFF] * ix.n_days for _ in ix.clerks],
        free={i: (0, ix.n_days - 1)},
        explain=True,
        objective="none",
        hint=False,
    )
    key_of = {lit.index: key for lit, _, key in rm.assumptions}
    lits = [lit for lit, _, _ in rm.assumptions]
    model = rm.model
    model.add_assumptions(lits)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit
    solver.parameters.num_workers = 1
    status = solver.solve(model)
    if status != cp_model.INFEASIBLE:
        return None
    core_idx = set(solver.sufficient_assumptions_for_infeasibility())
    core = [lit for lit in lits if lit.index in core_idx] or lits
    # Deletion: drop each literal whose removal keeps the rest infeasible.
    k = 0
    while k < len(core) and time.monotonic() < deadline:
        trial = core[:k] + core[k + 1 :]
        if trial and _infeasible(model, trial, deadline - time.monotonic()):
            core = trial
        else:
            k += 1
    keys = [key_of[lit.index] for lit in core]
    keys.sort(
        key=lambda key: (
            key[0] not in (Rule.FIXED_DAY_OFF, Rule.FIXED_ASSIGNMENT),
            key[1] if isinstance(key[1], int) else -1,
            key[0].value,
        )
    )
    days = tuple(
        ix.days[k[1]]
        for k in keys
        if k[0] in (Rule.FIXED_DAY_OFF, Rule.FIXED_ASSIGNMENT) and isinstance(k[1], int)
    )
    phrases = [describe(ix, c, key) for key in keys]
    rules = tuple(dict.fromkeys(key[0] for key in keys))
    return Conflict(c.id, rules, f"{c.name}: {_join(phrases)}", days)


def explain(problem: RosterProblem | ProblemIndex, *, time_limit: float = 30.0) -> list[Conflict]:
    """Every clerk whose hard rules cannot all hold, each with the rules that clash.

    An empty list means the problem is feasible: a roster keeping every hard rule exists.
    """
    ix = problem if isinstance(problem, ProblemIndex) else ProblemIndex(problem)
    deadline = time.monotonic() + time_limit
    out = precheck(ix)
    flagged = {c.clerk for c in out}
    for c in ix.clerks:
        if c.id in flagged:
            continue
        left = deadline - time.monotonic()
        if left <= 0:
            break
        conflict = explain_clerk(ix, c.i, time_limit=min(left, 5.0))
        if conflict is not None:
            out.append(conflict)
    return out
