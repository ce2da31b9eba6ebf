"""A real OpenSSH server on 127.0.0.1 for the SSH tests, set up as docs/deploy.md describes
server mode: one Unix service account owns the database; people log in to it with their own
keys, each pinned in its ``authorized_keys`` (written by ``clerkdesk ssh-key add``) to
``clerkdesk serve --key ID`` with ``restrict,pty``.

Everything lives in one temporary folder: the host key, the two client keys (a clerk's and a
supervisor's), the config and the service account's home (with the database). A second Unix
account stands for the clerk's own login on the machine (it must not be able to read the data).
Both accounts are created for the test and removed afterwards. Needs root.

The server deliberately accepts ``CLERKDESK_*`` variables from clients (``AcceptEnv``), as a
careless administrator might, to show that ``serve`` does not trust them.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import pwd
import re
import secrets
import select
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import termios
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

import pytest

SSHD = "/usr/sbin/sshd"
TOOLS = ("ssh", "ssh-keygen", "useradd", "userdel", "usermod", "runuser")


class SshUnavailable(Exception):
    """The SSH tests cannot run on this machine (the message says why)."""


FIX_VENV = "rm -rf .venv && /usr/bin/python3 -m venv .venv && .venv/bin/pip install -e '.[test]'"


def interpreter_problem(executable: str) -> str | None:
    """Why a new Unix user (neither owner nor in the group of anything) cannot execute the
    interpreter ``executable`` resolves to, or None. The throwaway users of these tests run the
    venv's ``clerkdesk``; a venv made from a Python under /root (pyenv) points into a folder
    that only root may enter. Mode bits only: as root, os.access would always say yes."""
    real = Path(os.path.realpath(executable))
    blocked: str | None = None
    for folder in reversed(real.parents):  # "/" first
        try:
            mode = folder.stat().st_mode
        except OSError as e:
            return f"cannot look at {folder}: {e}"
        if not mode & stat.S_IXOTH:
            blocked = f"the folder {folder} (mode {stat.S_IMODE(mode):04o}) does not let other users in"
            break
    if blocked is None:
        mode = real.stat().st_mode
        if mode & stat.S_IXOTH:
            return None
        blocked = f"it has mode {stat.S_IMODE(mode):04o} (not executable by other users)"
    shown = executable if str(real) == executable else f"{executable} (that is {real})"
    return (
        f"the test user cannot execute this venv's Python {shown}: {blocked}. A venv made from a "
        f"Python under /root (pyenv) cannot be run by other users. Make the venv from the system "
        f"Python, as .ci/run does: {FIX_VENV}"
    )


def cannot_run(reason: str) -> NoReturn:
    """Skip the SSH tests for ``reason``; fail instead when CLERKDESK_REQUIRE_SSH=1 (CI)."""
    if os.environ.get("CLERKDESK_REQUIRE_SSH") == "1":
        pytest.fail(f"CLERKDESK_REQUIRE_SSH=1 but the SSH tests cannot run: {reason}")
    pytest.skip(reason)


def missing_requirements(executable: str = sys.executable) -> str | None:
    """Why the SSH tests cannot run here, or None."""
    if os.geteuid() != 0:
        return "the SSH tests need root (they create Unix users and run sshd)"
    if not os.access(SSHD, os.X_OK):
        return f"{SSHD} not found (apt-get install openssh-server)"
    for tool in TOOLS:
        if shutil.which(tool) is None:
            return f"{tool} not found"
    return interpreter_problem(executable)


def clerkdesk_script() -> Path:
    """The ``clerkdesk`` console script of the interpreter running the tests."""
    return Path(sys.executable).parent / "clerkdesk"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(*argv: str) -> None:
    subprocess.run(argv, check=True, capture_output=True, text=True)


def uid_processes(uid: int) -> list[tuple[int, str]]:
    """(pid, command line) of every process of ``uid``."""
    out: list[tuple[int, str]] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        m = re.search(r"^Uid:\s+(\d+)", status, re.M)
        zombie = re.search(r"^State:\s+Z", status, re.M)
        if m and int(m.group(1)) == uid and not zombie:
            out.append((int(entry.name), cmd))
    return out


def wait_for_no_processes(uid: int, timeout: float, match: str = "") -> list[tuple[int, str]]:
    """Wait until ``uid`` has no live process (whose command line contains ``match``); return the rest."""
    deadline = time.monotonic() + timeout
    while True:
        left = [p for p in uid_processes(uid) if match in p[1]]
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.2)


@dataclass
class SshServer:
    root: Path
    port: int
    service: str  # the service account people SSH to
    service_uid: int
    home: Path
    own_account: str  # the clerk's own Unix login on the machine (not a way into the app)
    keys: dict[str, Path]  # "clerk" / "supervisor" -> private key file (the client side)
    known_hosts: Path
    log: Path
    proc: subprocess.Popen[bytes] | None = None
    key_ids: dict[str, str] = field(default_factory=dict)

    @property
    def db_path(self) -> Path:
        return self.home / "data" / "clerkdesk.db"

    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.db_path}"

    def ssh_argv(self, who: str, *options: str, command: str | None = None) -> list[str]:
        argv = [
            "ssh",
            "-F",
            "/dev/null",
            "-p",
            str(self.port),
            "-i",
            str(self.keys[who]),
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "BatchMode=yes",
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            f"UserKnownHostsFile={self.known_hosts}",
            "-o",
            "ConnectTimeout=20",
            "-o",
            "LogLevel=ERROR",
            *options,
            f"{self.service}@127.0.0.1",
        ]
        if command is not None:
            argv.append(command)
        return argv

    def as_service(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        """``clerkdesk ARGS`` run by the service account, as its administrator would (sudo -u)."""
        return subprocess.run(
            [
                "runuser",
                "-u",
                self.service,
                "--",
                "env",
                "-i",
                "PATH=/usr/bin:/bin",
                "LANG=C.UTF-8",
                str(clerkdesk_script()),
                *args,
            ],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            cwd="/",
        )

    def as_own_account(self, *argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["runuser", "-u", self.own_account, "--", *argv],
            capture_output=True,
            text=True,
            timeout=60,
            cwd="/",
        )

    def sshd_log(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""

    def service_processes(self) -> list[tuple[int, str]]:
        return uid_processes(self.service_uid)


def _write(path: Path, text: str, mode: int = 0o644) -> None:
    path.write_text(text)
    os.chmod(path, mode)


def _checked(proc: subprocess.CompletedProcess[str], what: str) -> str:
    if proc.returncode != 0:
        raise RuntimeError(f"{what} failed ({proc.returncode}): {proc.stdout}{proc.stderr}")
    return proc.stdout


@contextlib.contextmanager
def ssh_server() -> Iterator[SshServer]:
    """Start sshd in front of a throwaway ClerkDesk service account; tear everything down afterwards."""
    # Not under pytest's tmp folder: that is private to root, and the service account must
    # reach its home below this folder.
    root = Path(tempfile.mkdtemp(prefix="clerkdesk-ssh-"))
    os.chmod(root, 0o755)
    token = secrets.token_hex(3)
    service = f"cdsvc_{token}"
    own = f"cdown_{token}"
    created: list[str] = []
    proc: subprocess.Popen[bytes] | None = None
    try:
        home = root / "home"
        _run("useradd", "-M", "-U", "-d", str(home), "-s", "/bin/sh", service)
        created.append(service)
        _run("usermod", "-p", "*", service)  # no password, but not locked ("!"), so key login works
        _run("useradd", "-M", "-U", "-d", "/nonexistent", "-s", "/bin/sh", own)
        created.append(own)
        uid = pwd.getpwnam(service).pw_uid
        home.mkdir(mode=0o700)
        os.chown(home, uid, pwd.getpwnam(service).pw_gid)
        # The service account runs the installed clerkdesk: its interpreter and code must be
        # reachable by other users (a Python under /root, as pyenv installs it, is not).
        probe = subprocess.run(
            ["runuser", "-u", service, "--", sys.executable, "-c", "import tui.identity"],
            capture_output=True,
            text=True,
            cwd="/",
        )
        if probe.returncode != 0:
            raise SshUnavailable(
                f"the test user cannot run {sys.executable} with ClerkDesk "
                f"({(probe.stderr.strip().splitlines() or ['?'])[-1]}): the interpreter and the code "
                f"must be readable by other users. Make the venv from the system Python, as .ci/run "
                f"does: {FIX_VENV}"
            )

        _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(root / "host_key"))
        keys: dict[str, Path] = {}
        for who in ("clerk", "supervisor"):
            keys[who] = root / f"{who}_key"
            _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"{who}@laptop", "-f", str(keys[who]))
        port = _free_port()
        host_pub = (root / "host_key.pub").read_text().split()
        _write(root / "known_hosts", f"[127.0.0.1]:{port} {host_pub[0]} {host_pub[1]}\n")
        log = root / "sshd.log"
        server = SshServer(
            root=root,
            port=port,
            service=service,
            service_uid=uid,
            home=home,
            own_account=own,
            keys=keys,
            known_hosts=root / "known_hosts",
            log=log,
        )
        _checked(server.as_service("server", "init"), "clerkdesk server init")

        config = root / "sshd_config"
        _write(
            config,
            f"""\
Port {port}
ListenAddress 127.0.0.1
HostKey {root / "host_key"}
PidFile {root / "sshd.pid"}
AuthorizedKeysFile .ssh/authorized_keys
AuthenticationMethods publickey
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
AllowUsers {service}
UsePAM no
StrictModes yes
PermitUserEnvironment no
# As on a stock server: the key's command= must win over a file-transfer request.
Subsystem sftp internal-sftp
# Careless on purpose: clients may send these; `clerkdesk serve` must not trust them.
AcceptEnv LANG LC_* CLERKDESK_*
PrintMotd no
PrintLastLog no
LogLevel VERBOSE
""",
        )
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # privilege separation folder
        check = subprocess.run([SSHD, "-t", "-f", str(config)], capture_output=True, text=True)
        if check.returncode != 0:
            raise RuntimeError(f"sshd -t refused the config: {check.stderr}")
        with log.open("wb") as log_f:
            proc = subprocess.Popen(
                [SSHD, "-D", "-e", "-f", str(config)], stdout=log_f, stderr=subprocess.STDOUT
            )
        server.proc = proc
        deadline = time.monotonic() + 20
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"sshd exited with {proc.returncode}: {log.read_text(errors='replace')}")
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"sshd did not listen on {port}: {log.read_text(errors='replace')}")
            time.sleep(0.05)
        yield server
    finally:
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for user in created:
            with contextlib.suppress(KeyError):
                user_uid = pwd.getpwnam(user).pw_uid
                for pid, _ in uid_processes(user_uid):  # anything the test's accounts left running
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
            subprocess.run(["userdel", user], capture_output=True)
            subprocess.run(["groupdel", user], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


# --------------------------------------------------------------------------- a terminal for ssh -tt

ANSI = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[PX^_][^\x1b]*\x1b\\|[@-Z\\-_])")


def plain(text: str) -> str:
    """Terminal output without escape sequences."""
    return ANSI.sub("", text)


def _controlling_tty() -> None:
    """In the child: a new session whose controlling terminal is the pty (stdin), as in a login."""
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class PtyProcess:
    """A process on the far side of a pseudo-terminal of a given size, like a person's terminal."""

    def __init__(self, argv: list[str], env: dict[str, str], rows: int = 30, cols: int = 100) -> None:
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.proc = subprocess.Popen(
            argv,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            close_fds=True,
            preexec_fn=_controlling_tty,
        )
        os.close(slave)
        self.raw = b""

    @property
    def text(self) -> str:
        return self.raw.decode("utf-8", errors="replace")

    def read_until(self, done: Callable[[str], bool], timeout: float) -> bool:
        """Read output until ``done(plain text so far)`` holds, the process ends, or time runs out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if done(plain(self.text)):
                return True
            ready, _, _ = select.select([self.master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError as e:
                    if e.errno != errno.EIO:
                        raise
                    chunk = b""
                if not chunk:  # the other side is closed
                    return done(plain(self.text))
                self.raw += chunk
            elif self.proc.poll() is not None:
                return done(plain(self.text))
        return done(plain(self.text))

    def wait(self, timeout: float) -> int:
        self.read_until(lambda _t: False, timeout=0.5)
        return self.proc.wait(timeout=timeout)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        with contextlib.suppress(OSError):
            os.close(self.master)


def is_executable_by_others(path: Path) -> bool:
    return bool(path.stat().st_mode & stat.S_IXOTH)
