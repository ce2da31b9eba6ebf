"""Deterministic builds (issue 12): with ``deterministic`` the limit counts CP-SAT's deterministic
time, not seconds, so the same problem and seed give the same roster on a quick or a busy
machine, also when the limit cuts the search short. The demo builds its rosters this way."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from db.engine import Database
from scheduling import roster, rostering
from scheduling.roster import SolveStatus, StopReason, solve
from scheduling.roster.generate import generate_size
from tui.demo.context import DemoContext
from tui.demo.schedule import SOLVE_SECONDS, build_schedule
from tui.demo.staff import build_staff


@pytest.mark.parametrize(("size", "limit", "strategy"), [("20x4w", 0.3, "full"), ("12x2w", 0.1, "lns")])
def test_a_deterministic_limit_gives_the_same_roster_twice(size: str, limit: float, strategy: Any) -> None:
    p = generate_size(size, seed=1)
    runs = [solve(p, time_limit=limit, deterministic=True, strategy=strategy) for _ in range(2)]
    a, b = runs
    assert a.assignment is not None and a.assignment == b.assignment
    assert (a.status, a.penalty, a.stop_reason) == (b.status, b.penalty, b.stop_reason)
    if size == "20x4w":  # the limit did cut this one short: the case a wall clock makes vary
        assert a.status is SolveStatus.FEASIBLE and a.stop_reason is StopReason.TIME_LIMIT


@pytest.mark.slow
def test_the_demo_builds_its_rosters_deterministically(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    real, asked = roster.solve, []

    def spy(problem: Any, **kw: Any) -> Any:
        asked.append(kw.get("deterministic"))
        return real(problem, **kw)

    monkeypatch.setattr(roster, "solve", spy)
    ctx = DemoContext.start(db, 1)
    build_staff(ctx)
    build_schedule(ctx)
    assert asked and all(asked)
    monkeypatch.undo()
    week: dt.date = ctx.data["schedule.weeks"][3]
    end = week + dt.timedelta(days=6)
    plan = db.read(lambda s: rostering.plan_build(ctx.supervisor, s, week, end))

    def codes(limit: float) -> dict[tuple[str, dt.date], str]:
        out = rostering.solve_plan(plan, time_limit=limit, workers=1, seed=ctx.seed, deterministic=True)
        return {k: c.code for k, c in out.cells.items() if week <= k[1] <= end}

    first = codes(SOLVE_SECONDS)
    assert first and first == codes(SOLVE_SECONDS)
    assert codes(0.05) == codes(0.05)  # also when the limit ends the search early
