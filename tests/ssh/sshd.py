"""A real OpenSSH server on 127.0.0.1 for the SSH tests, set up the way SPEC §5 describes:
clerks in a group, ``Match Group`` with ``ForceCommand`` running the installed ``clerkdesk``, no
forwarding, no user environment, a login shell of /bin/sh and a home the clerk cannot write.

Everything lives in one temporary folder: host key, client key, authorized keys, config, the
wrapper that ForceCommand runs (it sets CLERKDESK_DB) and the shared SQLite database. The Unix
user and group are created for the test and removed afterwards. Needs root.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import grp
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
from dataclasses import dataclass
from pathlib import Path

SSHD = "/usr/sbin/sshd"
GROUP_PREFIX = "billclerks-test"  # one group per server: parallel test workers never share one
TOOLS = ("ssh", "ssh-keygen", "useradd", "userdel", "groupadd", "groupdel", "usermod", "runuser")


class SshUnavailable(Exception):
    """The SSH tests cannot run on this machine (the message says why)."""


def missing_requirements() -> str | None:
    """Why the SSH tests cannot run here, or None."""
    if os.geteuid() != 0:
        return "the SSH tests need root (they create a Unix user and run sshd)"
    if not os.access(SSHD, os.X_OK):
        return f"{SSHD} not found (apt-get install openssh-server)"
    for tool in TOOLS:
        if shutil.which(tool) is None:
            return f"{tool} not found"
    return None


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
    user: str
    uid: int
    db_path: Path
    client_key: Path
    known_hosts: Path
    wrapper: Path
    log: Path
    group: str
    proc: subprocess.Popen[bytes] | None = None

    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.db_path}"

    def ssh_argv(self, *options: str, command: str | None = None) -> list[str]:
        argv = [
            "ssh",
            "-F",
            "/dev/null",
            "-p",
            str(self.port),
            "-i",
            str(self.client_key),
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
            f"{self.user}@127.0.0.1",
        ]
        if command is not None:
            argv.append(command)
        return argv

    def sshd_log(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""

    def share_database(self) -> None:
        """The database file and its folder are group-writable for the clerks' group (SPEC §5)."""
        gid = grp.getgrnam(self.group).gr_gid
        folder = self.db_path.parent
        os.chown(folder, 0, gid)
        os.chmod(folder, 0o2770)
        for p in folder.iterdir():
            os.chown(p, 0, gid)
            os.chmod(p, 0o660)

    def user_processes(self) -> list[tuple[int, str]]:
        return uid_processes(self.uid)


def _write(path: Path, text: str, mode: int = 0o644) -> None:
    path.write_text(text)
    os.chmod(path, mode)


@contextlib.contextmanager
def ssh_server() -> Iterator[SshServer]:
    """Start sshd with a throwaway clerk account; tear everything down afterwards."""
    # Not under pytest's tmp folder: that is private to root, and sshd reads the authorized keys
    # and the clerk runs the wrapper as the clerk.
    root = Path(tempfile.mkdtemp(prefix="clerkdesk-ssh-"))
    os.chmod(root, 0o755)
    token = secrets.token_hex(3)
    user = f"cdssh_{token}"
    group = f"{GROUP_PREFIX}-{token}"
    created_group = False
    proc: subprocess.Popen[bytes] | None = None
    server: SshServer | None = None
    try:
        _run("groupadd", group)
        created_group = True
        home = root / "home"
        home.mkdir(mode=0o755)  # owned by root: the clerk cannot write their home
        _run("useradd", "-M", "-N", "-g", group, "-d", str(home), "-s", "/bin/sh", user)
        _run("usermod", "-p", "*", user)  # no password, but not locked ("!"), so key login works
        uid = pwd.getpwnam(user).pw_uid
        # The clerk runs the installed clerkdesk: its interpreter and code must be reachable by
        # other users (a Python under /root, as pyenv installs it, is not).
        probe = subprocess.run(
            ["runuser", "-u", user, "--", sys.executable, "-c", "import tui.identity"],
            capture_output=True,
            text=True,
            cwd="/",
        )
        if probe.returncode != 0:
            raise SshUnavailable(
                f"a non-root user cannot run {sys.executable} with ClerkDesk "
                f"({(probe.stderr.strip().splitlines() or ['?'])[-1]}); use a venv made from a system "
                "Python, as .ci/run does"
            )

        _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(root / "host_key"))
        _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(root / "client_key"))
        keys = root / "authorized_keys"
        keys.mkdir(mode=0o755)
        _write(keys / user, (root / "client_key.pub").read_text())
        port = _free_port()
        host_pub = (root / "host_key.pub").read_text().split()
        _write(root / "known_hosts", f"[127.0.0.1]:{port} {host_pub[0]} {host_pub[1]}\n")

        data = root / "data"
        data.mkdir()
        db_path = data / "clerkdesk.db"
        wrapper = root / "clerkdesk-login"
        # ForceCommand runs this whatever the client asked for; it never looks at
        # SSH_ORIGINAL_COMMAND and passes no argument on.
        _write(
            wrapper,
            "#!/bin/sh\n"
            f"CLERKDESK_DB='sqlite:///{db_path}'\n"
            "export CLERKDESK_DB\n"
            f"exec '{clerkdesk_script()}'\n",
            0o755,
        )
        config = root / "sshd_config"
        _write(
            config,
            f"""\
Port {port}
ListenAddress 127.0.0.1
HostKey {root / "host_key"}
PidFile {root / "sshd.pid"}
AuthorizedKeysFile {keys}/%u
AuthenticationMethods publickey
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
AllowGroups {group}
UsePAM no
# The keys live under /tmp (world-writable): only this test server relaxes the ownership check.
StrictModes no
PermitUserEnvironment no
DisableForwarding yes
PrintMotd no
PrintLastLog no
LogLevel VERBOSE

Match Group {group}
    ForceCommand {wrapper}
    PermitTTY yes
    DisableForwarding yes
    AllowTcpForwarding no
    AllowAgentForwarding no
    X11Forwarding no
    PermitTunnel no
""",
        )
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # privilege separation folder
        check = subprocess.run([SSHD, "-t", "-f", str(config)], capture_output=True, text=True)
        if check.returncode != 0:
            raise RuntimeError(f"sshd -t refused the config: {check.stderr}")
        log = root / "sshd.log"
        with log.open("wb") as log_f:
            proc = subprocess.Popen(
                [SSHD, "-D", "-e", "-f", str(config)], stdout=log_f, stderr=subprocess.STDOUT
            )
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
        server = SshServer(
            root=root,
            port=port,
            user=user,
            uid=uid,
            db_path=db_path,
            client_key=root / "client_key",
            known_hosts=root / "known_hosts",
            wrapper=wrapper,
            log=log,
            group=group,
            proc=proc,
        )
        yield server
    finally:
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        with contextlib.suppress(KeyError):
            uid = pwd.getpwnam(user).pw_uid
            for pid, _ in uid_processes(uid):  # anything the test's clerk left running
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        subprocess.run(["userdel", user], capture_output=True)
        if created_group:
            subprocess.run(["groupdel", group], capture_output=True)
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
