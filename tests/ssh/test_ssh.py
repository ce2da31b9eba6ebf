"""ClerkDesk behind a real OpenSSH server (SPEC §5 "Over SSH", §6).

sshd runs on 127.0.0.1 with ``Match Group`` + ``ForceCommand`` running the installed
``clerkdesk``; a throwaway Unix clerk logs in with a key. Skipped when sshd or root is not
available, unless CLERKDESK_REQUIRE_SSH=1 (CI), which turns the skip into a failure.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from db.engine import Database
from db.models import Role, User
from scheduling import staff
from tests.conftest import make_office
from tests.ssh.sshd import (
    PtyProcess,
    SshServer,
    SshUnavailable,
    missing_requirements,
    plain,
    ssh_server,
    wait_for_no_processes,
)

pytestmark = [pytest.mark.ssh, pytest.mark.slow]

REFUSAL = "clerkdesk: ClerkDesk needs a terminal (stdin and stdout must be a TTY)"
TIMEOUT = 120  # generous: every login starts a Python interpreter on a possibly busy machine


@pytest.fixture(scope="module")
def server() -> Iterator[SshServer]:
    reason = missing_requirements()
    if reason:
        if os.environ.get("CLERKDESK_REQUIRE_SSH") == "1":
            pytest.fail(f"CLERKDESK_REQUIRE_SSH=1 but the SSH tests cannot run: {reason}")
        pytest.skip(reason)
    try:
        with ssh_server() as s:
            yield s
    except SshUnavailable as e:
        if os.environ.get("CLERKDESK_REQUIRE_SSH") == "1":
            pytest.fail(f"CLERKDESK_REQUIRE_SSH=1 but the SSH tests cannot run: {e}")
        pytest.skip(str(e))


@pytest.fixture
def office_url(server: SshServer, sqlite_template: Path) -> str:
    """A fresh office in the shared database file the clerk's login uses."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{server.db_path}{suffix}").unlink(missing_ok=True)
    shutil.copy(sqlite_template, server.db_path)
    database = Database(server.db_url)
    make_office(database)
    database.dispose()
    server.share_database()
    return server.db_url


def client_env() -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/root"),
        "TERM": "xterm-256color",
        "LANG": "C.UTF-8",
    }


def users(url: str) -> list[tuple[str, bool]]:
    con = sqlite3.connect(url.removeprefix("sqlite:///"))
    try:
        return [(r[0], bool(r[1])) for r in con.execute("SELECT login, active FROM users ORDER BY id")]
    finally:
        con.close()


def ssh_no_tty(
    server: SshServer, *options: str, command: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        server.ssh_argv("-T", *options, command=command),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env=client_env(),
    )


# --------------------------------------------------------------------------- without a terminal


def test_without_a_tty_clerkdesk_refuses_at_once(server: SshServer, office_url: str) -> None:
    # Without ForceCommand this login would start the clerk's /bin/sh, read the empty stdin and
    # exit 0; the refusal and exit code 2 come from clerkdesk itself.
    proc = ssh_no_tty(server)
    assert proc.returncode == 2, (proc.stdout, proc.stderr, server.sshd_log())
    assert REFUSAL in proc.stderr
    assert proc.stdout == ""
    assert f"Accepted publickey for {server.user}" in server.sshd_log()


@pytest.mark.parametrize(
    "command",
    [
        "rm -rf /",
        "touch {canary}; clerkdesk --as sam user add mallory --name Mallory --role supervisor",
    ],
    ids=["rm -rf", "touch and add a supervisor"],
)
def test_the_requested_command_is_ignored(server: SshServer, office_url: str, command: str) -> None:
    canary = server.db_path.parent / "canary"
    before = users(office_url)
    proc = ssh_no_tty(server, command=command.format(canary=canary))
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert REFUSAL in proc.stderr
    assert not canary.exists()
    assert users(office_url) == before
    assert server.wrapper.exists() and Path("/bin/sh").exists()


def test_forwarding_is_refused(server: SshServer, office_url: str) -> None:
    # -W asks sshd to open a TCP connection for us: DisableForwarding must refuse it.
    proc = ssh_no_tty(server, "-W", f"127.0.0.1:{server.port}")
    assert proc.returncode == 255
    assert "stdio forwarding failed" in proc.stderr or "administratively prohibited" in proc.stderr
    assert "refused" in server.sshd_log().lower() or "prohibited" in server.sshd_log().lower(), (
        server.sshd_log()
    )


# --------------------------------------------------------------------------- with a terminal


def test_with_a_tty_an_unknown_unix_user_is_told_so(server: SshServer, office_url: str) -> None:
    term = PtyProcess(server.ssh_argv("-tt"), client_env())
    try:
        seen = term.read_until(lambda t: "is not a ClerkDesk user" in t, TIMEOUT)
        code = term.wait(timeout=TIMEOUT)
    finally:
        term.close()
    text = plain(term.text)
    assert seen, text + server.sshd_log()
    assert f"'{server.user}' is not a ClerkDesk user; ask a supervisor to add you" in text
    assert code == 2
    assert wait_for_no_processes(server.uid, 20) == []


def test_with_a_tty_a_deactivated_clerk_is_refused(server: SshServer, office_url: str) -> None:
    db = Database(office_url)
    try:
        sup = db.read(lambda s: staff.resolve_actor(s, "sam"))
        db.write(lambda s: staff.add_user(sup, s, login=server.user, name="Tess Terminal", role=Role.CLERK))
        db.write(lambda s: staff.deactivate_user(sup, s, server.user))
    finally:
        db.dispose()
    server.share_database()
    term = PtyProcess(server.ssh_argv("-tt"), client_env())
    try:
        seen = term.read_until(lambda t: "is deactivated" in t, TIMEOUT)
        code = term.wait(timeout=TIMEOUT)
    finally:
        term.close()
    assert seen, plain(term.text)
    assert code == 2


def _clerkdesk_running(server: SshServer) -> list[tuple[int, str]]:
    return [p for p in server.user_processes() if "clerkdesk" in p[1]]


def test_a_clerk_gets_the_app_and_a_dropped_connection_ends_it(server: SshServer, office_url: str) -> None:
    db = Database(office_url)
    try:
        sup = db.read(lambda s: staff.resolve_actor(s, "sam"))
        db.write(lambda s: staff.add_user(sup, s, login=server.user, name="Tess Terminal", role=Role.CLERK))
    finally:
        db.dispose()
    server.share_database()

    term = PtyProcess(server.ssh_argv("-tt"), client_env(), rows=30, cols=100)
    try:
        started = term.read_until(lambda t: "Good day, Tess Terminal" in t and "My list" in t, TIMEOUT)
        assert started, plain(term.text)[-3000:] + server.sshd_log()
        running = _clerkdesk_running(server)
        assert running, server.user_processes()

        # The connection drops (the laptop lid closes): kill the ssh client outright.
        term.proc.kill()
        term.proc.wait(timeout=30)
        t0 = time.monotonic()
        left = wait_for_no_processes(server.uid, 20)
        gone_after = time.monotonic() - t0
    finally:
        term.close()
    assert left == [], f"still running for {server.user} after {gone_after:.1f} s: {left}"
    print(f"server-side processes gone {gone_after:.1f} s after the connection dropped")

    # It let go of the database cleanly: intact, and a writer gets the lock at once.
    con = sqlite3.connect(server.db_path, timeout=1)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        con.close()
    db = Database(office_url)
    try:
        sup = db.read(lambda s: staff.resolve_actor(s, "sam"))
        db.write(lambda s: staff.edit_user(sup, s, server.user, name="Tess T."))
        assert db.read(lambda s: s.scalar(sa.select(User.name).where(User.login == server.user))) == "Tess T."
    finally:
        db.dispose()
