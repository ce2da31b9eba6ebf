"""``clerkdesk assign …`` through click's CliRunner: the day from generate to publish, and bad
input refused with one line and exit code 2."""

from __future__ import annotations

import csv
import io
import json

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result

from db.models import Assignment, WorkItem
from db.settings import put_setting
from tests.conftest import Office
from tests.scheduling.assign_setup import build_day
from tui.cli import main


@pytest.fixture
def cli_office(office: Office, db_url: str) -> tuple[Office, str]:
    build_day(office)
    office.db.write(lambda s: put_setting(s, "office.demo", True))  # --as works on demo databases only
    return office, db_url


def run(db_url: str, *args: str, who: str = "sam") -> Result:
    return CliRunner().invoke(main, ["--db", db_url, "--as", who, *args])


def counts(office: Office) -> tuple[int, int]:
    return office.db.read(
        lambda s: (
            int(s.scalar(sa.select(sa.func.count(WorkItem.id))) or 0),
            int(s.scalar(sa.select(sa.func.count(Assignment.id))) or 0),
        )
    )


def test_the_day_from_the_command_line(cli_office: tuple[Office, str]) -> None:
    office, url = cli_office
    res = run(url, "assign", "generate", "--date", "2026-11-16")
    assert res.exit_code == 0, res.output
    assert res.output == (
        "2026-11-16: 5 new items (bill 1, chase 1, verify 1, installment 1, dispute 1), 0 carried over, "
        "0 resolved since, 0 already there, 1 skipped (with an agency)\n"
    )
    res = run(url, "assign", "generate")  # today by default; nothing new
    assert "0 new items, 0 carried over, 0 resolved since, 5 already there" in res.output
    res = run(url, "assign", "auto", "--date", "2026-11-16", "--preview")
    assert res.exit_code == 0, res.output
    assert res.output.splitlines()[0] == (
        "Auto-assign 2026-11-16: 5 moves, 0 unassigned, 0 manual kept, owner kept 100.0 %"
    )
    assert counts(office) == (5, 0)  # a preview changes nothing
    res = run(url, "assign", "auto", "--date", "2026-11-16")
    assert res.exit_code == 0, res.output
    assert "Applied: 5 assigned, 0 unassigned" in res.output
    res = run(url, "assign", "publish", "--date", "2026-11-16")
    assert res.output == "Published 2026-11-16: 5 open items for 3 clerks, 0 unassigned\n"
    res = run(url, "assign", "list", "--date", "2026-11-16", "--format", "json")
    data = json.loads(res.output)
    assert [(d["kind"], d["clerk"], d["priority"]) for d in data] == [
        ("chase", "cleo", 322),
        ("verify", "cleo", 95),
        ("dispute", "carl", 76),
        ("installment", "cora", 63),
        ("bill", "cleo", 40),
    ]
    assert data[0]["terms"] == "kind 50 + age 0 + amount 12 + due 110 + promise 150 = 322"
    res = run(url, "assign", "list", "--format", "csv", "--clerk", "cleo")
    table = list(csv.DictReader(io.StringIO(res.output)))
    assert [(r["kind"], r["amount"]) for r in table] == [
        ("chase", "300.00"),
        ("verify", "250.00"),
        ("bill", "250.00"),
    ]
    res = run(url, "assign", "list")
    assert res.exit_code == 0
    lines = res.output.splitlines()
    assert lines[0].split()[:4] == ["id", "prio", "kind", "account"]
    assert lines[-1] == "5 items"
    res = run(url, "assign", "undo")
    assert res.output == "Undone: 0 back with their clerk, 5 unassigned again\n"


@pytest.mark.parametrize(
    ("date", "why"),
    [
        ("9999-12-31", "date: 9999-12-31 is more than 14 days after today (2026-11-16)"),
        ("2026-02-30", "--date: '2026-02-30' is not a date (use YYYY-MM-DD, today or tomorrow)"),
        ("", "--date: '(empty)' is not a date"),
        ("[Smith]", "--date: '[smith]' is not a date"),
        ("1e309", "--date: '1e309' is not a date"),
    ],
)
def test_bad_dates_are_one_line_and_exit_2(cli_office: tuple[Office, str], date: str, why: str) -> None:
    office, url = cli_office
    for command in (["generate"], ["auto"], ["auto", "--preview"], ["publish"], ["list"]):
        res = run(url, "assign", *command, "--date", date)
        assert res.exit_code == 2, (command, res.output)
        assert why in res.output, (command, res.output)
        assert len(res.output.strip().splitlines()) == 1, res.output
    assert counts(office) == (0, 0)


def test_refusals(cli_office: tuple[Office, str]) -> None:
    office, url = cli_office
    res = run(url, "assign", "generate", who="cleo")
    assert res.exit_code == 1
    assert res.output == "clerkdesk: cleo (clerk) may not assign work\n"
    res = run(url, "assign", "publish")
    assert (res.exit_code, res.output) == (2, "clerkdesk: No work items on 2026-11-16: generate them first\n")
    res = run(url, "assign", "list", "--clerk", "nobody")
    assert (res.exit_code, res.output) == (2, "clerkdesk: No user 'nobody'\n")
    res = run(url, "assign", "undo")
    assert (res.exit_code, res.output) == (2, "clerkdesk: Nothing to undo on 2026-11-16\n")
    res = run(url, "assign", "list", "--format", "xml")
    assert res.exit_code == 2
    assert counts(office) == (0, 0)
