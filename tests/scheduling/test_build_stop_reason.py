"""Why a build ended, in words (issue 12): the engine's stop reason reaches the build's result
and the ``clerkdesk schedule build`` output."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from click.testing import CliRunner

from scheduling import roster, rostering, shifts
from scheduling.roster import SolveStatus, StopReason
from tests.conftest import Office, mark_demo
from tests.tui.test_schedule_screens import NEXT, setup_office
from tui.cli import main

END = NEXT + dt.timedelta(days=6)


def time_runs_out(monkeypatch: pytest.MonkeyPatch) -> None:
    """The solver answers as when its time runs out with a roster in hand (a real roster, so the
    rest of the build is as usual; only the clock is taken out of the test)."""
    real = roster.solve

    def solve(problem: Any, **kw: Any) -> Any:
        sol = real(problem, **kw)
        sol.status, sol.stop_reason = SolveStatus.FEASIBLE, StopReason.TIME_LIMIT
        return sol

    monkeypatch.setattr(roster, "solve", solve)


def test_words_for_every_ending() -> None:
    w = rostering.stop_words
    assert (
        w(SolveStatus.FEASIBLE, StopReason.TIME_LIMIT)
        == "Time ran out; this is the best roster found so far."
    )
    assert w(SolveStatus.FEASIBLE, StopReason.CANCELLED) == "Stopped; this is the best roster found so far."
    assert w(SolveStatus.OPTIMAL, StopReason.DONE).startswith("The best roster possible")
    assert w(SolveStatus.INFEASIBLE, StopReason.DONE, ("a", "b")) == "No roster satisfies every rule: a; b."
    assert w(SolveStatus.UNKNOWN, StopReason.TIME_LIMIT).startswith("Time ran out before any roster")
    assert w(SolveStatus.UNKNOWN, StopReason.CANCELLED).startswith("Stopped before any roster")


def test_the_stop_reason_reaches_the_build_result(office: Office, monkeypatch: pytest.MonkeyPatch) -> None:
    setup_office(office)
    sup = office.sup
    done = office.db.write(lambda s: rostering.build_roster(sup, s, NEXT, END, time_limit=5, workers=1))
    assert done.stop_reason is StopReason.DONE and done.words.startswith("The best roster possible")
    time_runs_out(monkeypatch)
    cut = office.db.write(lambda s: rostering.build_roster(sup, s, NEXT, END, time_limit=5, workers=1))
    assert [w.stop_reason for w in cut.weeks] == [StopReason.TIME_LIMIT]
    assert cut.words == "Time ran out; this is the best roster found so far."


def test_cli_build_says_why_it_stopped(office: Office, db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    setup_office(office)
    mark_demo(db_url)
    args = ["--db", db_url, "--as", "sam", "schedule", "build", "--from", str(NEXT), "--to", str(END)]
    time_runs_out(monkeypatch)
    res = CliRunner().invoke(main, [*args, "--time-limit", "5", "--workers", "1"])
    assert res.exit_code == 0, res.output
    assert res.stdout.splitlines()[1] == "Time ran out; this is the best roster found so far."
    monkeypatch.undo()
    # cleo may not work but Sundays, yet must work 32 hours: no roster keeps every rule.
    office.db.write(
        lambda s: shifts.set_rule(office.sup, s, login="cleo", min_minutes=1920, fixed_days_off=range(6))
    )
    res = CliRunner().invoke(main, [*args, "--time-limit", "5", "--workers", "1"])
    assert res.exit_code == 1, res.output
    line = res.stdout.splitlines()[1]
    assert line.startswith("No roster satisfies every rule: ") and "Cleo" in line, res.stdout
