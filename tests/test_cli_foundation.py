"""The foundation's command line: help everywhere, user add/list/deactivate, backup, db, and
bad input refused with exit 2, one readable line, no traceback and no change in the database."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result

from db.engine import Database
from db.models import AuditEntry, Team, User
from tests.conftest import Office, make_office, mark_demo
from tui.cli import main

CLERKDESK = Path(sys.executable).parent / "clerkdesk"


def run(db_url: str, *args: str, login: str = "sam") -> Result:
    return CliRunner().invoke(main, ["--db", db_url, "--as", login, *args])


def clean_exit(result: Result) -> bool:
    """Exited through click/sys.exit, not through an uncaught exception (a traceback)."""
    return result.exception is None or isinstance(result.exception, SystemExit)


@pytest.fixture
def demo_office(office: Office) -> Office:
    """The conftest office, marked as a demo so that --as picks the acting user."""
    mark_demo(office.db.url)
    return office


def state(db: Database) -> tuple[Any, ...]:
    def read(s: sa.orm.Session) -> tuple[Any, ...]:
        users = s.execute(
            sa.select(
                User.login, User.name, User.role, User.active, User.contracted_minutes, User.skills
            ).order_by(User.id)
        ).all()
        teams = s.scalars(sa.select(Team.name).order_by(Team.id)).all()
        audits = s.scalar(sa.select(sa.func.count()).select_from(AuditEntry))
        return (tuple(map(tuple, users)), tuple(teams), audits)

    return db.read(read)


# --------------------------------------------------------------------------- help


FOUNDATION_COMMANDS = [
    [],
    ["db"],
    ["db", "upgrade"],
    ["db", "current"],
    ["user"],
    ["user", "add"],
    ["user", "list"],
    ["user", "deactivate"],
    ["audit"],
    ["audit", "verify"],
    ["backup"],
    ["demo"],
]


@pytest.mark.parametrize("path", FOUNDATION_COMMANDS, ids=lambda p: " ".join(p) or "clerkdesk")
def test_foundation_command_help(path: list[str]) -> None:
    result = CliRunner().invoke(main, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Usage: ")
    assert len(result.output.splitlines()) >= 3


def _all_commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = []
    for name, cmd in group.commands.items():
        out.append((*prefix, name))
        if isinstance(cmd, click.Group):
            out.extend(_all_commands(cmd, (*prefix, name)))
    return out


def test_every_registered_command_has_help() -> None:
    commands = _all_commands(main)
    assert ("user", "add") in commands
    for path in commands:
        result = CliRunner().invoke(main, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert "Usage: " in result.output, path
        cmd: Any = main
        for part in path:
            cmd = cmd.commands[part]
        assert (cmd.help or cmd.short_help or "").strip(), f"{' '.join(path)} has no help text"


# --------------------------------------------------------------------------- user add / list / deactivate


def test_user_add(demo_office: Office, db_url: str) -> None:
    result = run(
        db_url,
        "user",
        "add",
        "dana",
        "--name",
        "Dana Diaz",
        "--role",
        "clerk",
        "--team",
        "Collections",
        "--skills",
        "lang:es, insurer",
        "--hours",
        "32",
        "--email",
        "dana@example.org",
    )
    assert result.exit_code == 0, result.output
    assert result.output == "added clerk dana (Dana Diaz)\n"
    user = demo_office.db.read(lambda s: s.scalars(sa.select(User).where(User.login == "dana")).one())
    assert (user.name, user.role.value, user.contracted_minutes, user.skills, user.email, user.active) == (
        "Dana Diaz",
        "clerk",
        1920,
        ["insurer", "lang:es"],
        "dana@example.org",
        True,
    )
    team = demo_office.db.read(lambda s: s.get(Team, user.team_id))
    assert team.name == "Collections"  # created on first use


def test_user_add_supervisor_with_existing_team(demo_office: Office, db_url: str) -> None:
    result = run(
        db_url, "user", "add", "vic", "--name", "Vic Vance", "--role", "supervisor", "--team", "Public"
    )
    assert result.exit_code == 0, result.output
    _, teams, _ = state(demo_office.db)
    assert teams == ("Insurance", "Public")


def test_user_list_text(demo_office: Office, db_url: str) -> None:
    result = run(db_url, "user", "list")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["login", "name", "role", "team", "skills", "hours/wk", "active"]
    body = "\n".join(lines[2:])
    for login in ("sam", "pat", "cleo", "carl", "cora"):
        assert login in body
    carl = next(line for line in lines if line.startswith("carl"))
    assert carl.split() == ["carl", "Carl", "Clerk", "clerk", "Public", "employer,government", "32:00", "yes"]


def test_user_list_json(demo_office: Office, db_url: str) -> None:
    result = run(db_url, "user", "list", "--format", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    by_login = {r["login"]: r for r in rows}
    assert set(by_login) == {"sam", "pat", "cleo", "carl", "cora"}
    assert by_login["cleo"] == {
        "login": "cleo",
        "name": "Cleo Clerk",
        "role": "clerk",
        "team": "Insurance",
        "skills": ["insurer", "lang:es"],
        "hours": 40.0,
        "active": True,
        "hire_date": "2026-11-16",
        "termination_date": None,
    }
    # supervisors first
    assert [r["role"] for r in rows][:2] == ["supervisor", "supervisor"]


def test_user_deactivate(demo_office: Office, db_url: str) -> None:
    result = run(db_url, "user", "deactivate", "carl", "--date", "2026-11-20")
    assert result.exit_code == 0, result.output
    assert result.output == "deactivated carl as of 2026-11-20\n"
    listed = json.loads(run(db_url, "user", "list", "--format", "json").output)
    assert "carl" not in {r["login"] for r in listed}
    everyone = json.loads(run(db_url, "user", "list", "--format", "json", "--all").output)
    carl = next(r for r in everyone if r["login"] == "carl")
    assert (carl["active"], carl["termination_date"]) == (False, "2026-11-20")
    text = run(db_url, "user", "list", "--all").output
    assert "no (2026-11-20)" in text


def test_clerk_cannot_add_users(demo_office: Office, db_url: str) -> None:
    before = state(demo_office.db)
    result = run(db_url, "user", "add", "eve", "--name", "Eve", "--role", "clerk", login="cleo")
    assert result.exit_code == 1
    assert result.output.strip() == "clerkdesk: cleo (clerk) may not manage staff"
    assert state(demo_office.db) == before


# --------------------------------------------------------------------------- bad input


BAD_ADD: dict[str, list[str]] = {
    "login with !": ["Bob!", "--name", "Bob", "--role", "clerk"],
    "upper-case login": ["Bob", "--name", "Bob", "--role", "clerk"],
    "empty login": ["", "--name", "Bob", "--role", "clerk"],
    "login of 40 chars": ["x" * 40, "--name", "Bob", "--role", "clerk"],
    "login starting with a digit": ["1bob", "--name", "Bob", "--role", "clerk"],
    "login looking like an option": ["--name", "Bob", "--role", "clerk", "--", "--evil"],
    "option-like login without --": ["--evil", "--name", "Bob", "--role", "clerk"],
    "shell in login": ["$(rm -rf)", "--name", "Bob", "--role", "clerk"],
    "login with space": ["bob smith", "--name", "Bob", "--role", "clerk"],
    "empty name": ["bob", "--name", "", "--role", "clerk"],
    "blank name": ["bob", "--name", "   ", "--role", "clerk"],
    "control chars in name": ["bob", "--name", "Bob\x1b[31m", "--role", "clerk"],
    "name too long": ["bob", "--name", "B" * 121, "--role", "clerk"],
    "no name": ["bob", "--role", "clerk"],
    "hours -1": ["bob", "--name", "Bob", "--role", "clerk", "--hours", "-1"],
    "hours 100": ["bob", "--name", "Bob", "--role", "clerk", "--hours", "100"],
    "hours not a number": ["bob", "--name", "Bob", "--role", "clerk", "--hours", "lots"],
    "unknown role": ["bob", "--name", "Bob", "--role", "admin"],
    "no role": ["bob", "--name", "Bob"],
    "unknown skill": ["bob", "--name", "Bob", "--role", "clerk", "--skills", "insurer,telepathy"],
    "bad language skill": ["bob", "--name", "Bob", "--role", "clerk", "--skills", "lang:english"],
    "bad email": ["bob", "--name", "Bob", "--role", "clerk", "--email", "not-an-email"],
    "duplicate login": ["cleo", "--name", "Another Cleo", "--role", "clerk"],
}


@pytest.mark.parametrize("args", BAD_ADD.values(), ids=BAD_ADD.keys())
def test_user_add_bad_input_exit_2_and_no_change(demo_office: Office, db_url: str, args: list[str]) -> None:
    before = state(demo_office.db)
    result = run(db_url, "user", "add", *args)
    assert result.exit_code == 2, result.output
    assert clean_exit(result)
    assert "Traceback" not in result.output
    assert result.output.strip()  # says why
    assert state(demo_office.db) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["Bob!", "--name", "Bob", "--role", "clerk"], "login: must be a Unix login"),
        (["bob", "--name", "", "--role", "clerk"], "name: is required"),
        (["bob", "--name", "Bob", "--role", "clerk", "--skills", "telepathy"], "unknown skill 'telepathy'"),
        (["bob", "--name", "Bob", "--role", "clerk", "--hours", "100"], "100.0 is not in the range 0<=x<=80"),
        (["bob", "--name", "Bob", "--role", "admin"], "'admin' is not one of 'clerk', 'supervisor'"),
        (["cleo", "--name", "Cleo", "--role", "clerk"], "user 'cleo' already exists"),
    ],
)
def test_user_add_messages_say_what_is_wrong(
    demo_office: Office, db_url: str, args: list[str], message: str
) -> None:
    result = run(db_url, "user", "add", *args)
    assert message in result.output


def test_user_add_several_faults_reported_together(demo_office: Office, db_url: str) -> None:
    result = run(db_url, "user", "add", "Bob!", "--name", " ", "--role", "clerk", "--skills", "x")
    assert result.exit_code == 2
    assert "login:" in result.output and "name:" in result.output and "skills:" in result.output


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["zed"], 2, "no ClerkDesk user 'zed'"),
        (["sam"], 1, "cannot deactivate yourself"),
        (["carl", "--date", "2020-01-01"], 2, "is before the hire date"),
        (["carl", "--date", "next week"], 2, "Invalid value for '--date'"),
    ],
)
def test_user_deactivate_refusals(
    demo_office: Office, db_url: str, args: list[str], code: int, message: str
) -> None:
    before = state(demo_office.db)
    result = run(db_url, "user", "deactivate", *args)
    assert result.exit_code == code, result.output
    assert message in result.output
    assert clean_exit(result)
    assert state(demo_office.db) == before


def test_user_deactivate_twice(demo_office: Office, db_url: str) -> None:
    assert run(db_url, "user", "deactivate", "carl").exit_code == 0
    before = state(demo_office.db)
    again = run(db_url, "user", "deactivate", "carl")
    assert again.exit_code == 1
    assert "already deactivated" in again.output
    assert state(demo_office.db) == before


# --------------------------------------------------------------------------- backup


@pytest.fixture
def sqlite_office(tmp_path: Path, sqlite_template: Path) -> tuple[str, Path]:
    """A SQLite office whatever the test backend: backup copies SQLite files."""
    path = tmp_path / "office.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite:///{path}"
    database = Database(url)
    make_office(database)
    database.dispose()
    return url, path


def test_backup_makes_a_consistent_copy(sqlite_office: tuple[str, Path], tmp_path: Path) -> None:
    url, _ = sqlite_office
    target = tmp_path / "copy.db"
    result = CliRunner().invoke(main, ["--db", url, "backup", str(target)])
    assert result.exit_code == 0, result.output
    assert f"-> {target}" in result.output
    con = sqlite3.connect(target)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        logins = [r[0] for r in con.execute("SELECT login FROM users ORDER BY id")]
    finally:
        con.close()
    assert logins == ["sam", "pat", "cleo", "carl", "cora"]
    # the copy is a working ClerkDesk database
    listed = CliRunner().invoke(main, ["--db", f"sqlite:///{target}", "audit", "verify"])
    assert listed.exit_code == 0, listed.output
    assert "audit chain intact: 7 rows" in listed.output


def test_backup_refuses_to_overwrite(sqlite_office: tuple[str, Path], tmp_path: Path) -> None:
    url, _ = sqlite_office
    target = tmp_path / "existing.db"
    target.write_bytes(b"precious")
    result = CliRunner().invoke(main, ["--db", url, "backup", str(target)])
    assert result.exit_code == 2
    assert "exists; choose a new file name" in result.output
    assert target.read_bytes() == b"precious"


def test_backup_refuses_a_missing_folder(sqlite_office: tuple[str, Path], tmp_path: Path) -> None:
    url, _ = sqlite_office
    target = tmp_path / "no" / "such" / "folder" / "copy.db"
    result = CliRunner().invoke(main, ["--db", url, "backup", str(target)])
    assert result.exit_code == 2
    assert "does not exist" in result.output
    assert not (tmp_path / "no").exists()


def test_backup_refuses_a_missing_database(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["--db", f"sqlite:///{tmp_path}/none.db", "backup", str(tmp_path / "c.db")]
    )
    assert result.exit_code == 2
    assert "no database file" in result.output
    assert not (tmp_path / "c.db").exists()


def test_backup_on_postgresql_prints_the_pg_dump_hint(tmp_path: Path) -> None:
    url = "postgresql://clerk:s3cret@db.example:5432/office"
    result = CliRunner().invoke(main, ["--db", url, "backup", str(tmp_path / "x.dump")])
    assert result.exit_code == 2
    assert (
        "pg_dump --format=custom --file=PATH postgresql://clerk:***@db.example:5432/office" in result.output
    )
    assert "s3cret" not in result.output
    assert not (tmp_path / "x.dump").exists()


# --------------------------------------------------------------------------- no terminal, bad URLs


def test_clerkdesk_without_a_terminal_exits_at_once(tmp_path: Path) -> None:
    env = {**os.environ, "CLERKDESK_DB": f"sqlite:///{tmp_path}/never-created.db"}
    # stdin is a pipe that stays open and silent: a program waiting for input would hang here.
    proc = subprocess.Popen(
        [str(CLERKDESK)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        proc.wait(timeout=120)  # only Python start-up, however busy the machine; stdin stays open
        assert proc.stdout is not None and proc.stderr is not None and proc.stdin is not None
        out, err = proc.stdout.read(), proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for f in (proc.stdin, proc.stdout, proc.stderr):
            if f is not None:
                f.close()
    assert proc.returncode == 2
    assert err.strip() == "clerkdesk: ClerkDesk needs a terminal (stdin and stdout must be a TTY)"
    assert out == ""
    assert not (tmp_path / "never-created.db").exists()  # refused before touching the database


def test_clerkdesk_with_a_terminal_stdin_but_piped_stdout_is_refused(tmp_path: Path) -> None:
    primary, secondary = os.openpty()
    try:
        env = {**os.environ, "CLERKDESK_DB": f"sqlite:///{tmp_path}/x.db"}
        proc = subprocess.run(
            [str(CLERKDESK)], stdin=secondary, capture_output=True, text=True, env=env, timeout=60
        )
    finally:
        os.close(primary)
        os.close(secondary)
    assert proc.returncode == 2
    assert "needs a terminal" in proc.stderr


def test_clerkdesk_in_the_cli_runner_has_no_terminal(demo_office: Office, db_url: str) -> None:
    result = run(db_url)
    assert result.exit_code == 2
    assert "needs a terminal" in result.output


@pytest.mark.parametrize(
    ("url", "codes", "message"),
    [
        ("nonsense://x", {2}, "bad database URL"),
        ("not a url", {2}, "bad database URL"),
        ("mysql://u@h/x", {2}, "no driver"),
        ("postgresql://nobody@127.0.0.1:1/x", {1}, "cannot use the database"),
        ("sqlite:////proc/clerkdesk-test/x.db", {1, 2}, ""),
        ("sqlite:///{tmp}/a-file/x.db", {1, 2}, ""),
    ],
)
def test_bad_database_url_gives_a_message_not_a_traceback(
    tmp_path: Path, url: str, codes: set[int], message: str
) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    result = CliRunner().invoke(main, ["--db", url.format(tmp=tmp_path), "user", "list"])
    assert result.exit_code in codes, result.output
    assert clean_exit(result), repr(result.exception)
    assert result.output.startswith("clerkdesk: ")
    assert message in result.output
    assert len(result.output.strip().splitlines()) <= 2


def test_bad_database_url_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLERKDESK_DB", "nonsense://x")
    result = CliRunner().invoke(main, ["user", "list"])
    assert result.exit_code == 2
    assert "bad database URL 'nonsense://x'" in result.output
