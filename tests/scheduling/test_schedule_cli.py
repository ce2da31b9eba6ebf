"""``clerkdesk schedule …`` and ``clerkdesk timeoff …`` through click's CliRunner."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from scheduling import shifts, timeoff
from tests.conftest import Office, mark_demo
from tests.scheduling.test_shifts import MON, SUN, TUE, WED, cells, setup_schedule
from tui.cli import main


@pytest.fixture
def cli_office(office: Office, db_url: str) -> tuple[Office, str]:
    setup_schedule(office)
    mark_demo(db_url)  # --as works on recorded demo databases only
    return office, db_url


def run(db_url: str, *args: str, who: str = "sam") -> Result:
    return CliRunner().invoke(main, ["--db", db_url, "--as", who, *args])


RANGE = ["--from", "2026-11-16", "--to", "2026-11-22"]


BAD_DATES = [
    (["--from", "2026-13-01", "--to", "2026-12-31"], "'2026-13-01' is not a valid date (YYYY-MM-DD)"),
    (["--from", "2026-11-16", "--to", "16/11/2026"], "'16/11/2026' is not a valid date (YYYY-MM-DD)"),
    (["--from", "2026-11-22", "--to", "2026-11-16"], "to: 2026-11-16 is before 2026-11-22"),
    (["--from", "2026-01-01", "--to", "2026-07-03"], "the range is 184 days; at most 26 weeks (182 days)"),
    (["--from", "2026-11-16"], "Missing option '--to'"),
]


def test_bad_dates_exit_2_and_change_nothing(cli_office: tuple[Office, str]) -> None:
    office, url = cli_office
    for command in (
        ["schedule", "build"],
        ["schedule", "publish"],
        ["schedule", "export"],
        ["schedule", "check"],
    ):
        for dates, why in BAD_DATES:
            res = run(url, *command, *dates)
            assert res.exit_code == 2, (command, dates, res.output)
            assert why in res.output, (command, dates, res.output)
    assert cells(office.db) == set()


def test_26_weeks_exactly_is_accepted(cli_office: tuple[Office, str]) -> None:
    _, url = cli_office
    res = run(url, "schedule", "export", "--from", "2026-01-05", "--to", "2026-07-05", "--format", "csv")
    assert res.exit_code == 0, res.output
    assert res.stdout.splitlines()[0].split(",")[-2] == "Sun 7/5"


def test_build_publish_and_export(cli_office: tuple[Office, str]) -> None:
    office, url = cli_office
    built = run(url, "schedule", "build", *RANGE, "--time-limit", "5", "--workers", "1")
    assert built.exit_code == 0, built.output
    out = built.stdout.splitlines()
    assert out[0] == "roster 2026-11-16 .. 2026-11-22: optimal, penalty 0"
    assert out[1] == "The best roster possible: no roster keeps every rule with a lower penalty."
    assert out[2].startswith("  2026-11-16 .. 2026-11-22: optimal, penalty 0, ")
    assert out[2].endswith(" s, 0 fixed cells kept")
    assert out[3] == "draft shifts: 12 created, 0 changed, 0 removed"
    assert "week of 2026-11-16: penalty" in built.stderr  # progress lines
    assert {c[3] for c in cells(office.db)} == {"draft"}

    clerk_view = run(url, "schedule", "export", *RANGE, "--format", "csv", who="cleo")
    assert clerk_view.exit_code == 0
    assert all(
        line.count(",") == 8 and "E" not in line.split(",", 1)[1][:-5]
        for line in clerk_view.stdout.splitlines()[1:]
    )

    pub = run(url, "schedule", "publish", *RANGE)
    assert pub.exit_code == 0, pub.output
    assert pub.stdout == "published 12 shifts 2026-11-16 .. 2026-11-22 (0 were already published)\n"
    assert {c[3] for c in cells(office.db)} == {"published"}

    md = run(url, "schedule", "export", *RANGE, "--format", "md", "--published-only")
    assert md.exit_code == 0, md.output
    lines = md.stdout.splitlines()
    assert lines[0].startswith("| name       | Mon 11/16   |")
    assert len(lines) == 5 and "*" not in md.stdout
    codes = [c.strip() for line in lines[2:] for c in line.strip("|").split("|")[1:8]]
    assert sorted(c for c in codes if c) == ["E"] * 6 + ["L"] * 6

    check = run(url, "schedule", "check", *RANGE)
    assert check.exit_code == 0, check.output
    assert check.stdout == "2026-11-16 .. 2026-11-22: 0 rule breaks, penalty 0\n"


def test_export_to_a_file_refuses_to_overwrite(cli_office: tuple[Office, str], tmp_path: Path) -> None:
    _, url = cli_office
    target = tmp_path / "week.txt"
    res = run(url, "schedule", "export", *RANGE, "--output", str(target))
    assert res.exit_code == 0, res.output
    assert target.read_text().startswith("name ")
    again = run(url, "schedule", "export", *RANGE, "--output", str(target))
    assert again.exit_code == 2 and "exists" in again.output


def test_a_week_that_cannot_be_built_fails_with_the_reason(cli_office: tuple[Office, str]) -> None:
    office, url = cli_office
    office.db.write(lambda s: shifts.set_rule(office.sup, s, login="carl", max_shifts={"L": 0}))
    office.db.write(lambda s: shifts.set_cell(office.sup, s, "carl", TUE, "L", expected_version=None))
    res = run(url, "schedule", "build", *RANGE, "--time-limit", "3", "--workers", "1")
    assert res.exit_code == 1, res.output
    assert "roster 2026-11-16 .. 2026-11-22: infeasible, penalty -" in res.stdout
    assert "\nNo roster satisfies every rule: Carl Clerk: " in res.stdout
    assert "no roster for 2026-11-16 .. 2026-11-22 (the grid was left as it was):" in res.stdout
    assert "Carl Clerk: " in res.stdout and "not qualified for Late" in res.stdout
    check = run(url, "schedule", "check", *RANGE)
    assert check.exit_code == 1
    assert "  ! Carl Clerk: not qualified for Late (Tue 17 Nov)" in check.stdout


def test_clerks_cannot_build_or_publish(cli_office: tuple[Office, str]) -> None:
    office, url = cli_office
    for args in (
        ["schedule", "build", *RANGE],
        ["schedule", "publish", *RANGE],
        ["schedule", "check", *RANGE],
    ):
        res = run(url, *args, who="cleo")
        assert res.exit_code == 1, res.output
        assert "may not edit the schedule" in res.output
    assert cells(office.db) == set()


def test_timeoff_commands(cli_office: tuple[Office, str]) -> None:
    office, url = cli_office
    a = office.db.write(lambda s: timeoff.request_time_off(office.clerk, s, TUE, WED, "wedding"))
    b = office.db.write(
        lambda s: timeoff.request_time_off(
            office.clerk2, s, MON + dt.timedelta(days=9), SUN + dt.timedelta(days=7)
        )
    )

    listed = run(url, "timeoff", "list", "--status", "requested")
    assert listed.exit_code == 0, listed.output
    assert [line.split()[:3] for line in listed.stdout.splitlines()[2:]] == [
        [str(a.id), "cleo", "2026-11-17"],
        [str(b.id), "carl", "2026-11-25"],
    ]
    no_reason = run(url, "timeoff", "decline", str(b.id))
    assert no_reason.exit_code == 2 and "--reason" in no_reason.output
    blank = run(url, "timeoff", "decline", str(b.id), "--reason", " ")
    assert blank.exit_code == 2 and "reason" in blank.output
    declined = run(url, "timeoff", "decline", str(b.id), "--reason", "year-end close")
    assert declined.exit_code == 0 and declined.stdout == f"declined #{b.id}: carl 2026-11-25 .. 2026-11-29\n"

    office.db.write(lambda s: shifts.set_cell(office.sup, s, "cleo", WED, "E", expected_version=None))
    approved = run(url, "timeoff", "approve", str(a.id))
    assert approved.exit_code == 0, approved.output
    assert approved.stdout == (
        f"approved #{a.id}: cleo off 2026-11-17 .. 2026-11-18 (2 days)\n"
        "note: cleo is scheduled on 2026-11-18; change those shifts (schedule check shows them)\n"
    )
    assert run(url, "timeoff", "approve", "999").exit_code == 2
    assert run(url, "timeoff", "approve", str(a.id), who="carl").exit_code == 1
    mine = run(url, "timeoff", "list", who="cleo")
    assert mine.exit_code == 0 and "carl" not in mine.stdout and "approved" in mine.stdout
    assert SUN.isoformat() not in mine.stdout
