"""Identity at start-up (docs/architecture.md, "Identity and rights"): the Unix account of the process, never a claim; ``--as`` only
on a demo database; unknown and deactivated users refused with a clear message and exit 2."""

from __future__ import annotations

import os
import pwd

import pytest
from click.testing import CliRunner, Result

from db.errors import NotFound, PermissionDenied
from db.models import Role
from scheduling import staff
from tests.conftest import Office, mark_demo
from tui.cli import main
from tui.identity import ROOT, identify, unix_login

NOBODY = pwd.getpwnam("nobody")


def run(db_url: str, *args: str) -> Result:
    return CliRunner().invoke(main, ["--db", db_url, *args])


@pytest.fixture
def as_nobody(monkeypatch: pytest.MonkeyPatch) -> None:
    """The process runs as the Unix user 'nobody', while $USER and friends claim a supervisor."""
    monkeypatch.setattr(os, "getuid", lambda: NOBODY.pw_uid)
    monkeypatch.setenv("USER", "sam")
    monkeypatch.setenv("LOGNAME", "sam")
    monkeypatch.setenv("SSH_ORIGINAL_COMMAND", "clerkdesk --as sam user add x --name X --role supervisor")


def test_unix_login_comes_from_the_real_uid(as_nobody: None) -> None:
    assert unix_login() == "nobody"


# --------------------------------------------------------------------------- --as


def test_as_is_refused_outside_a_demo_database(office: Office, db_url: str) -> None:
    result = run(db_url, "--as", "sam", "user", "list")
    assert result.exit_code == 2
    assert "--as only works on a demo database" in result.output
    assert "Traceback" not in result.output


def test_as_is_accepted_on_a_demo_database(office: Office, db_url: str) -> None:
    mark_demo(db_url)
    result = run(db_url, "--as", "cleo", "user", "list", "--format", "json")
    assert result.exit_code == 0, result.output
    # As the clerk: supervisor-only commands are refused, so --as really picked the clerk.
    refused = run(db_url, "--as", "cleo", "user", "add", "eve", "--name", "Eve", "--role", "clerk")
    assert refused.exit_code == 1
    assert "cleo (clerk) may not manage staff" in refused.output
    ok = run(db_url, "--as", "sam", "user", "add", "eve", "--name", "Eve", "--role", "clerk")
    assert ok.exit_code == 0, ok.output


def test_as_an_unknown_user_on_a_demo_database(office: Office, db_url: str) -> None:
    mark_demo(db_url)
    result = run(db_url, "--as", "zed", "user", "list")
    assert result.exit_code == 2
    assert "'zed' is not a ClerkDesk user" in result.output


# --------------------------------------------------------------------------- the Unix account


def test_unknown_unix_user_is_refused_naming_the_user(office: Office, db_url: str, as_nobody: None) -> None:
    result = run(db_url, "user", "list")
    assert result.exit_code == 2
    assert "'nobody' is not a ClerkDesk user" in result.output
    assert "sam" not in result.output  # $USER=sam was ignored


def test_deactivated_unix_user_is_refused(office: Office, db_url: str, as_nobody: None) -> None:
    office.db.write(lambda s: staff.add_user(office.sup, s, login="nobody", name="No Body", role=Role.CLERK))
    assert run(db_url, "user", "list").exit_code == 0
    office.db.write(lambda s: staff.deactivate_user(office.sup, s, "nobody"))
    result = run(db_url, "user", "list")
    assert result.exit_code == 2
    assert "'nobody' is deactivated" in result.output


def test_identity_is_the_uid_not_user_env(office: Office, db_url: str, as_nobody: None) -> None:
    office.db.write(lambda s: staff.add_user(office.sup, s, login="nobody", name="No Body", role=Role.CLERK))
    # $USER says sam (a supervisor); the process is nobody (a clerk): a supervisor command is refused.
    result = run(db_url, "user", "add", "eve", "--name", "Eve", "--role", "clerk")
    assert result.exit_code == 1
    assert "nobody (clerk) may not manage staff" in result.output
    actor = office.db.read(lambda s: identify(s, None))
    assert (actor.login, actor.role) == ("nobody", Role.CLERK)


def test_identify_refuses_as_on_a_real_database(office: Office) -> None:
    with pytest.raises(PermissionDenied, match="--as only works on a demo database"):
        office.db.read(lambda s: identify(s, "sam"))


def test_identify_with_as_on_a_demo_database(office: Office) -> None:
    actor = office.db.read(lambda s: identify(s, "cleo", demo=True))
    assert (actor.login, actor.role, actor.user_id) == ("cleo", Role.CLERK, office.clerk.user_id)


# --------------------------------------------------------------------------- root


@pytest.mark.skipif(os.getuid() != 0, reason="needs to run as root")
def test_root_is_the_administrator_for_commands_but_not_for_the_app(office: Office) -> None:
    # Administrative commands (user add on a fresh install) may run as root ...
    assert office.db.read(lambda s: identify(s, None, allow_root=True)) == ROOT
    # ... but the app itself never opens for an account that is not a ClerkDesk user.
    with pytest.raises(NotFound, match="'root' is not a ClerkDesk user"):
        office.db.read(lambda s: identify(s, None, allow_root=False))


def test_a_root_process_that_is_a_clerkdesk_user_acts_as_that_user(
    office: Office, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "getuid", lambda: 0)
    office.db.write(lambda s: staff.add_user(office.sup, s, login="root", name="Rita Root", role=Role.CLERK))
    actor = office.db.read(lambda s: identify(s, None, allow_root=True))
    assert (actor.login, actor.role) == ("root", Role.CLERK)


# --------------------------------------------------------------------------- no terminal


def test_the_app_refuses_to_start_without_a_terminal(office: Office, db_url: str, as_nobody: None) -> None:
    # CliRunner's stdin is not a TTY: the refusal comes before any identity or database work,
    # whatever SSH_ORIGINAL_COMMAND asks for.
    result = run(db_url)
    assert result.exit_code == 2
    assert "needs a terminal" in result.output
