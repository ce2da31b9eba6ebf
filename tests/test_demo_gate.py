"""The demo gate (issue 11): --as and CLERKDESK_NOW work only on a demo `clerkdesk demo` recorded
outside the database; a row in the database (``office.demo``) grants nothing."""

from __future__ import annotations

import os
import pwd
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from db import timeutil
from db.settings import put_setting
from tests.conftest import Office, backend, mark_demo
from tui.cli import main
from tui.demos import is_recorded_demo, record_path

NOW = "2030-02-03T04:05:06+00:00"


def run(db_url: str, *args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, ["--db", db_url, *args], env=env)


def test_flipping_office_demo_in_the_database_grants_nothing(office: Office, db_url: str) -> None:
    # What an attacker with write access to the file did: sqlite3 ... UPDATE settings.
    office.db.write(lambda s: put_setting(s, "office.demo", True))
    result = run(db_url, "--as", "sam", "user", "add", "evil", "--name", "Evil", "--role", "supervisor")
    assert result.exit_code == 2
    assert "--as only works on a demo database built by `clerkdesk demo`" in result.output
    assert "evil" not in run_list(office)


def run_list(office: Office) -> list[str]:
    from scheduling import staff

    return [u.login for u in office.db.read(lambda s: staff.list_users(office.sup, s, include_inactive=True))]


def test_a_recorded_demo_allows_as(office: Office, db_url: str) -> None:
    mark_demo(db_url)
    result = run(db_url, "--as", "cleo", "user", "list")
    assert result.exit_code == 0, result.output
    assert oct(record_path().stat().st_mode & 0o777) == "0o600"


def test_a_record_others_can_write_is_ignored(office: Office, db_url: str) -> None:
    mark_demo(db_url)
    record_path().chmod(0o666)
    assert not is_recorded_demo(db_url)
    assert run(db_url, "--as", "cleo", "user", "list").exit_code == 2


@pytest.mark.skipif(backend() != "sqlite", reason="file ownership is a SQLite matter")
def test_a_recorded_sqlite_file_of_someone_else_or_writable_by_others_is_no_demo(
    office: Office, db_url: str
) -> None:
    mark_demo(db_url)
    path = Path(db_url.removeprefix("sqlite:///"))
    path.chmod(0o664)  # the old shared-office mode: a group member could have rewritten it
    assert not is_recorded_demo(db_url)
    path.chmod(0o600)
    assert is_recorded_demo(db_url)
    if os.getuid() == 0:
        os.chown(path, pwd.getpwnam("nobody").pw_uid, -1)
        assert not is_recorded_demo(db_url)
        os.chown(path, 0, -1)


def test_clerkdesk_now_only_on_a_recorded_demo(office: Office, db_url: str) -> None:
    refused = run(db_url, "user", "list", env={"CLERKDESK_NOW": NOW})
    assert refused.exit_code == 2
    assert "CLERKDESK_NOW only works on a demo database built by `clerkdesk demo`" in refused.output
    assert timeutil._env_clock_allowed is False
    mark_demo(db_url)
    ok = run(db_url, "--as", "cleo", "user", "list", env={"CLERKDESK_NOW": NOW})
    assert ok.exit_code == 0, ok.output
    assert timeutil._env_clock_allowed is True  # (reset after each test by tests/conftest.py)


def test_the_demo_command_will_not_adopt_a_database_it_did_not_build(office: Office, db_url: str) -> None:
    office.db.write(lambda s: put_setting(s, "office.demo", True))
    result = CliRunner().invoke(main, ["demo", "--no-open", "--db", db_url])
    assert result.exit_code == 2
    assert "is not a demo database `clerkdesk demo` built for you" in result.output
    assert not is_recorded_demo(db_url)
