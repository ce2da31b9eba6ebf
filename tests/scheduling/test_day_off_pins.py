"""Pinned days off (issue 12): stored per clerk and day, kept by the builder (CP-SAT and the
greedy start), flagged by the evaluator when a shift sits on one."""

from __future__ import annotations

import datetime as dt

import pytest

from db.errors import ConflictError
from scheduling import rostering, shifts
from scheduling.roster import Rule, evaluate
from scheduling.roster.greedy import greedy_rows
from scheduling.roster.problem import OFF, ProblemIndex
from tests.conftest import Office
from tests.tui.test_schedule_screens import NEXT, NEXT_DAYS, setup_office


def test_pin_and_unpin_a_day_off(office: Office) -> None:
    setup_office(office)
    sup = office.sup
    office.db.write(lambda s: shifts.set_cell(sup, s, "cleo", NEXT, "E", expected_version=None))
    cell = office.db.read(lambda s: shifts.schedule_grid(sup, s, NEXT, NEXT)).rows
    version = next(r for r in cell if r.login == "cleo").cells[0].version
    with pytest.raises(ConflictError):  # the editor saw an empty cell: someone changed it since
        office.db.write(lambda s: shifts.pin_day_off(sup, s, "cleo", NEXT, True, expected_version=None))
    res = office.db.write(lambda s: shifts.pin_day_off(sup, s, "cleo", NEXT, True, expected_version=version))
    assert [(c.code, c.pinned) for c in res.cells] == [(None, True)]
    grid = office.db.read(lambda s: shifts.schedule_grid(sup, s, NEXT, NEXT))
    mine = next(r for r in grid.rows if r.login == "cleo").cells[0]
    assert (mine.code, mine.pinned) == (None, True)
    res = office.db.write(lambda s: shifts.pin_day_off(sup, s, "cleo", NEXT, False, expected_version=None))
    assert [(c.code, c.pinned) for c in res.cells] == [(None, False)]


def test_the_builder_and_its_greedy_start_keep_pinned_days_empty(office: Office) -> None:
    setup_office(office)
    sup = office.sup
    for d in NEXT_DAYS[:3]:
        office.db.write(lambda s, d=d: shifts.pin_day_off(sup, s, "cleo", d, True, expected_version=None))
    end = NEXT + dt.timedelta(days=6)
    problem = office.db.read(lambda s: rostering.build_problem(sup, s, NEXT, end))
    ix = ProblemIndex(problem)
    rows = greedy_rows(ix)
    cleo = ix.clerks[ix.clerk_of["cleo"]]
    assert rows[cleo.i][:3] == [OFF] * 3
    result = office.db.write(lambda s: rostering.build_roster(sup, s, NEXT, end, time_limit=5, workers=1))
    assert result.created
    grid = office.db.read(lambda s: shifts.schedule_grid(sup, s, NEXT, end))
    row = next(r for r in grid.rows if r.login == "cleo")
    assert [c.code for c in row.cells[:3]] == [None] * 3
    assert any(c.code for c in row.cells[3:])


def test_the_evaluator_flags_a_shift_on_a_pinned_day(office: Office) -> None:
    setup_office(office)
    sup = office.sup
    office.db.write(lambda s: shifts.pin_day_off(sup, s, "cleo", NEXT, True, expected_version=None))
    end = NEXT + dt.timedelta(days=6)
    problem = office.db.read(lambda s: rostering.build_problem(sup, s, NEXT, end))
    assignment = {c.id: [None] * 7 for c in problem.staff}
    assignment["cleo"][0] = "E"
    ev = evaluate(problem, assignment)
    assert any(v.rule == Rule.FIXED_DAY_OFF and v.clerk == "cleo" for v in ev.violations)
