"""ClerkDesk in server mode behind a real OpenSSH server (docs/deploy.md, issue 11).

One Unix service account owns the database; a clerk and a supervisor each log in to it with
their own key, which ``authorized_keys`` pins to ``clerkdesk serve --key ID``. Skipped when sshd
or root is not available, unless CLERKDESK_REQUIRE_SSH=1 (CI), which turns the skip into a failure.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import stat
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ssh.sshd import (
    PtyProcess,
    SshServer,
    SshUnavailable,
    cannot_run,
    missing_requirements,
    plain,
    ssh_server,
    wait_for_no_processes,
)

pytestmark = [pytest.mark.ssh, pytest.mark.slow]

REFUSAL = "clerkdesk: ClerkDesk needs a terminal (stdin and stdout must be a TTY)"
TIMEOUT = 120  # generous: every login starts a Python interpreter on a possibly busy machine
CLERK_HOME = "Good day, Cleo Clerk"
SUPERVISOR_HOME = "Sam Super (supervisor)"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshServer]:
    reason = missing_requirements()
    if reason:
        cannot_run(reason)
    try:
        with ssh_server() as s:
            # The office, set up by the service account as docs/deploy.md says.
            for args in (
                ("user", "add", "sam", "--name", "Sam Super", "--role", "supervisor"),
                ("user", "add", "cleo", "--name", "Cleo Clerk", "--role", "clerk"),
            ):
                done = s.as_service(*args)
                assert done.returncode == 0, done.stdout + done.stderr
            for who, login in (("clerk", "cleo"), ("supervisor", "sam")):
                pub = Path(f"{s.keys[who]}.pub").read_text()
                added = s.as_service("ssh-key", "add", login, "-", stdin=pub)
                assert added.returncode == 0, added.stdout + added.stderr
                m = re.search(r"added key (k\d+) for", added.stdout)
                assert m, added.stdout
                s.key_ids[who] = m.group(1)
            template = s.root / "office-template.db"
            shutil.copy(s.db_path, template)  # root's copy, restored before each test
            yield s
    except SshUnavailable as e:
        cannot_run(str(e))


@pytest.fixture
def office(server: SshServer) -> SshServer:
    """A fresh copy of the office database, the service account's alone (0600)."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{server.db_path}{suffix}").unlink(missing_ok=True)
    shutil.copy(server.root / "office-template.db", server.db_path)
    os.chown(server.db_path, server.service_uid, -1)
    os.chmod(server.db_path, 0o600)
    return server


def client_env() -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/root"),
        "TERM": "xterm-256color",
        "LANG": "C.UTF-8",
    }


def users(server: SshServer) -> list[tuple[str, str, bool]]:
    con = sqlite3.connect(f"file:{server.db_path}?mode=ro", uri=True)
    try:
        return [
            (r[0], r[1], bool(r[2])) for r in con.execute("SELECT login, role, active FROM users ORDER BY id")
        ]
    finally:
        con.close()


def ssh_no_tty(
    server: SshServer, who: str, *options: str, command: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        server.ssh_argv(who, "-T", *options, command=command),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env=client_env(),
    )


def open_session(server: SshServer, who: str, *options: str, command: str | None = None) -> PtyProcess:
    return PtyProcess(server.ssh_argv(who, "-tt", *options, command=command), client_env(), rows=30, cols=100)


# --------------------------------------------------------------------------- the set-up itself


def test_authorized_keys_pins_each_key_to_serve(office: SshServer) -> None:
    lines = (office.home / ".ssh" / "authorized_keys").read_text().splitlines()
    mine = [ln for ln in lines if ln.startswith("command=")]
    assert [re.search(r"--key (k\d+)", ln).group(1) for ln in mine] == [  # type: ignore[union-attr]
        office.key_ids["clerk"],
        office.key_ids["supervisor"],
    ]
    for ln in mine:
        assert re.match(r'command="/[^"]+/clerkdesk serve --key k\d+",restrict,pty ssh-ed25519 ', ln), ln


def test_the_clerks_own_unix_account_cannot_read_the_database(office: SshServer) -> None:
    st = office.db_path.stat()
    assert st.st_uid == office.service_uid and stat.S_IMODE(st.st_mode) == 0o600
    for folder in (office.home, office.db_path.parent):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    read = office.as_own_account("cat", str(office.db_path))
    assert read.returncode != 0 and "Permission denied" in read.stderr
    listing = office.as_own_account("ls", str(office.home))
    assert listing.returncode != 0 and "Permission denied" in listing.stderr
    import sys

    probe = office.as_own_account(
        sys.executable, "-c", f"import sqlite3; sqlite3.connect({str(office.db_path)!r}).execute('select 1')"
    )
    assert probe.returncode != 0 and "unable to open database file" in probe.stderr


# --------------------------------------------------------------------------- without a terminal


def test_without_a_tty_clerkdesk_refuses_at_once(office: SshServer) -> None:
    proc = ssh_no_tty(office, "clerk")
    assert proc.returncode == 2, (proc.stdout, proc.stderr, office.sshd_log())
    assert REFUSAL in proc.stderr
    assert proc.stdout == ""
    assert f"Accepted publickey for {office.service}" in office.sshd_log()


@pytest.mark.parametrize(
    "command",
    [
        "rm -rf ~",
        "touch {canary}; clerkdesk --as sam user add mallory --name Mallory --role supervisor",
    ],
    ids=["rm -rf", "touch and add a supervisor"],
)
def test_the_requested_command_is_ignored(office: SshServer, command: str) -> None:
    canary = office.root / "canary"
    before = users(office)
    proc = ssh_no_tty(office, "clerk", command=command.format(canary=canary))
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert REFUSAL in proc.stderr
    assert not canary.exists()
    assert users(office) == before
    assert office.db_path.exists() and (office.home / ".ssh" / "authorized_keys").exists()


def test_a_file_transfer_subsystem_gets_the_forced_command_too(office: SshServer) -> None:
    proc = ssh_no_tty(office, "clerk", "-s", command="sftp")  # what sftp and scp -s ask for
    # serve ran instead of the sftp server and refused (exit 2: no terminal; its message goes to
    # the subsystem channel's stderr, which the client does not show): no file was served.
    assert proc.returncode == 2, (proc.stdout, proc.stderr, office.sshd_log()[-2000:])
    assert proc.stdout == ""
    assert "Starting session: forced-command (key-option)" in office.sshd_log()
    assert "subsystem request for sftp" not in office.sshd_log().split("Starting session")[-1]


def test_forwarding_is_refused(office: SshServer) -> None:
    # -W asks sshd to open a TCP connection for us: `restrict` must refuse it.
    proc = ssh_no_tty(office, "clerk", "-W", f"127.0.0.1:{office.port}")
    assert proc.returncode == 255
    assert "stdio forwarding failed" in proc.stderr or "administratively prohibited" in proc.stderr


# --------------------------------------------------------------------------- with a terminal


def _session_text(term: PtyProcess, until: str) -> tuple[bool, str]:
    seen = term.read_until(lambda t: until in t, TIMEOUT)
    return seen, plain(term.text)


def test_each_key_is_its_owner_whatever_the_client_claims(office: SshServer) -> None:
    # The clerk's key, with a command asking to be sam and an environment pointing elsewhere.
    decoy = office.root / "decoy.db"
    term = open_session(
        office,
        "clerk",
        "-o",
        f"SetEnv=CLERKDESK_DB=sqlite:///{decoy} CLERKDESK_CONFIG=/nonexistent",
        command="clerkdesk --as sam",
    )
    try:
        seen, text = _session_text(term, CLERK_HOME)
        assert seen, text[-3000:] + office.sshd_log()
        assert "Cleo Clerk (clerk)" in text and "Sam Super" not in text
    finally:
        term.close()
    assert not decoy.exists()
    term = open_session(office, "supervisor")
    try:
        seen, text = _session_text(term, SUPERVISOR_HOME)
        assert seen, text[-3000:]
    finally:
        term.close()


def test_clerkdesk_now_is_refused_in_server_mode(office: SshServer) -> None:
    term = open_session(office, "clerk", "-o", "SetEnv=CLERKDESK_NOW=2020-01-01T09:00:00Z")
    try:
        seen, text = _session_text(term, "CLERKDESK_NOW is refused in server mode")
        code = term.wait(timeout=TIMEOUT)
    finally:
        term.close()
    assert seen, text
    assert code == 2


def test_as_is_refused_for_the_service_account_too(office: SshServer) -> None:
    done = office.as_service("--as", "cleo", "user", "list")
    assert done.returncode == 2
    assert "--as is refused in server mode" in done.stderr


def test_deactivation_closes_an_open_session_within_5_seconds(office: SshServer) -> None:
    term = open_session(office, "clerk")
    try:
        seen, text = _session_text(term, CLERK_HOME)
        assert seen, text[-3000:] + office.sshd_log()
        done = office.as_service("user", "deactivate", "cleo")
        assert done.returncode == 0, done.stderr
        t0 = time.monotonic()  # the deactivation has committed by now
        closed = term.read_until(lambda t: "cleo has been deactivated" in t, 10)
        code = term.proc.wait(timeout=10)
        took = time.monotonic() - t0
    finally:
        term.close()
    assert closed, plain(term.text)[-2000:]
    assert took < 5, f"the session stayed open {took:.1f} s after the deactivation"
    assert code == 1
    print(f"deactivated clerk's session closed {took:.1f} s after the deactivation committed")
    assert wait_for_no_processes(office.service_uid, 20, match="serve") == []
    # ... and the next login is refused with a message.
    term = open_session(office, "clerk")
    try:
        refused = term.read_until(lambda t: "is deactivated" in t, TIMEOUT)
        assert term.wait(timeout=TIMEOUT) == 2
    finally:
        term.close()
    assert refused, plain(term.text)


def test_a_dropped_connection_ends_the_app(office: SshServer) -> None:
    term = open_session(office, "clerk")
    try:
        seen, text = _session_text(term, CLERK_HOME)
        assert seen, text[-3000:] + office.sshd_log()
        assert [p for p in office.service_processes() if "serve" in p[1]]
        # The connection drops (the laptop lid closes): kill the ssh client outright.
        term.proc.kill()
        term.proc.wait(timeout=30)
        t0 = time.monotonic()
        left = wait_for_no_processes(office.service_uid, 20)
        gone_after = time.monotonic() - t0
    finally:
        term.close()
    assert left == [], f"still running for {office.service} after {gone_after:.1f} s: {left}"
    print(f"server-side processes gone {gone_after:.1f} s after the connection dropped")
    con = sqlite3.connect(office.db_path, timeout=1)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        con.close()


def test_a_removed_key_no_longer_gets_in(office: SshServer) -> None:
    removed = office.as_service("ssh-key", "remove", office.key_ids["clerk"])
    assert removed.returncode == 0, removed.stderr
    try:
        proc = ssh_no_tty(office, "clerk")
        assert proc.returncode == 255
        assert "Permission denied" in proc.stderr
    finally:
        pub = Path(f"{office.keys['clerk']}.pub").read_text()
        again = office.as_service("ssh-key", "add", "cleo", "-", stdin=pub)
        assert again.returncode == 0, again.stderr
        office.key_ids["clerk"] = re.search(r"added key (k\d+)", again.stdout).group(1)  # type: ignore[union-attr]


# --------------------------------------------------------------------------- through the warm server


@pytest.fixture
def warm_server(office: SshServer) -> Iterator[subprocess.Popen[bytes]]:
    """`clerkdesk server warm` run by the service account (docs/deploy.md), up when its socket is."""
    from tests.ssh.sshd import clerkdesk_script

    sock = office.home / ".clerkdesk" / "warm" / "socket"
    proc = subprocess.Popen(
        ["runuser", "-u", office.service, "--", "env", "-i", "PATH=/usr/bin:/bin", "LANG=C.UTF-8",
         str(clerkdesk_script()), "server", "warm"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd="/",
    )  # fmt: skip
    deadline = time.monotonic() + TIMEOUT
    while not sock.exists():
        assert proc.poll() is None, proc.stdout.read() if proc.stdout else proc.returncode
        assert time.monotonic() < deadline, "the warm server did not come up"
        time.sleep(0.05)
    yield proc
    proc.terminate()
    proc.wait(timeout=30)
    if proc.stdout:
        proc.stdout.close()


def test_a_login_through_the_warm_server(office: SshServer, warm_server: subprocess.Popen[bytes]) -> None:
    log = office.home / ".clerkdesk" / "warm" / "warm.log"
    key = office.key_ids["clerk"]
    # The same refusals as a cold start: the session runs the same `serve`.
    term = open_session(office, "clerk", "-o", "SetEnv=CLERKDESK_NOW=2020-01-01T09:00:00Z")
    try:
        seen, text = _session_text(term, "CLERKDESK_NOW is refused in server mode")
        assert term.wait(timeout=TIMEOUT) == 2
    finally:
        term.close()
    assert seen, text
    term = open_session(office, "clerk", command="clerkdesk --as sam")
    try:
        seen, text = _session_text(term, CLERK_HOME)
        assert seen, text[-3000:] + log.read_text()
        assert "Sam Super" not in text
        sessions = re.findall(rf"serve --key {key}: session (\d+)", log.read_text())
        assert len(sessions) == 2, log.read_text()
        term.proc.kill()  # the connection drops
        term.proc.wait(timeout=30)
        # A session is a fork of the warm server (same command line): wait until the server
        # is the account's only process, the client and the session both gone.
        deadline = time.monotonic() + 20
        while len(left := office.service_processes()) > 1 and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        term.close()
    assert len(left) == 1 and "server warm" in left[0][1], left
    assert warm_server.poll() is None
