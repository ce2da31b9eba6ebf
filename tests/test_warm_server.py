"""The warm server (issue 13): `serve --key` hands its terminal to a pre-imported process that
forks the session; without one, or when it refuses, the login starts cold.

Real processes throughout: the server is `clerkdesk server warm` in a scratch service home
(bench.fakehome points the password database's home there), the client runs on a pty like an
SSH login, and the tests read the terminal until the first screen shows (with a deadline).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.warmrun import ROOT, WarmProcess, fakehome_argv, server_home
from db.engine import Database
from tests.conftest import make_office
from tests.ssh.sshd import PtyProcess
from tui import warm_client
from tui.warm_server import parse_request

TIMEOUT = 90  # a loaded 2-CPU machine; the tests wait on the screen, not on the clock
CLERK_HOME = "Good day, Cleo Clerk"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[Path]:
    """A service account's home: server.toml, a database with the test office, keys k1 (cleo)
    and k2 (sam)."""
    # Not under pytest's folder (0700 to root): the peer test connects as another uid.
    work = Path(tempfile.mkdtemp(prefix="clerkdesk-warm-"))
    work.chmod(0o711)
    db_file = work / "office.db"
    shutil.copy(sqlite_template, db_file)
    db = Database(f"sqlite:///{db_file}")
    make_office(db)
    db.dispose()
    h = work / "home"
    keys = server_home(h, db_file, ["cleo", "sam"])
    key_file = os.environ.get("CLERKDESK_AUDIT_KEY_FILE")
    if key_file and Path(key_file).exists():  # the office's chain was written with the test key
        shutil.copy(key_file, h / "data" / "audit.key")
    assert keys == {"cleo": "k1", "sam": "k2"}
    yield h
    shutil.rmtree(work, ignore_errors=True)


def server_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(extra)
    return env


def client_env(**extra: str) -> dict[str, str]:
    env = {"PATH": "/usr/bin:/bin", "TERM": "xterm-256color", "LANG": "C.UTF-8", "HOME": "/nonexistent"}
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def warm(home: Path) -> Iterator[WarmProcess]:
    # The server's own terminal settings must not reach the sessions: each brings its own.
    w = WarmProcess(home, server_env(TERM="dumb", NO_COLOR="1", TEXTUAL_DRIVER="nonsense"))
    yield w
    w.stop()


def login(home: Path, key: str = "k1", **env: str) -> PtyProcess:
    return PtyProcess(fakehome_argv(home, "serve", "--key", key), client_env(**env), rows=30, cols=100)


def session_of(w: WarmProcess, client_pid: int, timeout: float = TIMEOUT) -> int:
    """The session the server forked for ``client_pid`` (from its log)."""
    deadline = time.monotonic() + timeout
    needle = f"client pid {client_pid}, serve --key "
    while time.monotonic() < deadline:
        for line in w.log_text().splitlines():
            if needle in line:
                return int(line.rsplit("session ", 1)[1])
        time.sleep(0.05)
    raise AssertionError(f"no session for client {client_pid} in the log:\n{w.log_text()}")


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_for_log(w: WarmProcess, text: str, timeout: float = TIMEOUT) -> bool:
    """The server logs a session's end when it reaps it, a moment after the session is a zombie."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in w.log_text():
            return True
        time.sleep(0.05)
    return False


def wait_gone(pid: int, timeout: float = TIMEOUT) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.05)
    return False


def listening_inode(w: WarmProcess) -> str:
    # The kernel keeps the name it was bound under (a temporary one, renamed into place); the
    # accepted connections carry it too, so pick the one that listens.
    bound = str(w.socket.parent / f".socket.{w.pid}")
    for line in Path("/proc/net/unix").read_text().splitlines()[1:]:
        parts = line.split()
        if len(parts) >= 8 and parts[7] == bound and parts[3] == "00010000":  # __SO_ACCEPTCON
            return parts[6]
    raise AssertionError(f"{bound} is not a listening socket")


# --------------------------------------------------------------------------- through the warm server


def test_a_login_through_the_warm_server_shows_my_day_and_quits(warm: WarmProcess, home: Path) -> None:
    p = login(home, COLORTERM="truecolor")
    try:
        assert p.read_until(lambda t: CLERK_HOME in t, TIMEOUT), p.text[-2000:]
        child = session_of(warm, p.proc.pid)
        assert child != p.proc.pid and alive(child)
        # The session's terminal is the client's own pty, and it holds none of the server's sockets.
        fd0 = os.readlink(f"/proc/{child}/fd/0")
        assert fd0 == os.readlink(f"/proc/{p.proc.pid}/fd/0") and fd0.startswith("/dev/pts/")
        inode = listening_inode(warm)
        held = {os.readlink(f"/proc/{child}/fd/{fd}") for fd in os.listdir(f"/proc/{child}/fd")}
        assert f"socket:[{inode}]" not in held
        assert any(h.endswith("clerkdesk.db") for h in held)  # the session opened the database ...
        server_fds = {os.readlink(f"/proc/{warm.pid}/fd/{fd}") for fd in os.listdir(f"/proc/{warm.pid}/fd")}
        assert not any("clerkdesk.db" in h for h in server_fds)  # ... the server never did
        # The client's COLORTERM, not the server's NO_COLOR/TERM=dumb: 24-bit colour escapes.
        assert "\x1b[38;2;" in p.text
        p.proc.stdin = None
        os.write(p.master, b"\x11")  # ctrl+q
        assert p.wait(TIMEOUT) == 0
        assert wait_gone(child)
        assert wait_for_log(warm, f"session {child} ended {{'exit': 0}}"), warm.log_text()
    finally:
        p.close()


def test_each_session_has_its_clients_environment(warm: WarmProcess, home: Path) -> None:
    p = login(home, NO_COLOR="1")
    try:
        assert p.read_until(lambda t: CLERK_HOME in t, TIMEOUT), p.text[-2000:]
        session_of(warm, p.proc.pid)
        assert "\x1b[38;2;" not in p.text and "\x1b[38;5;" not in p.text  # no colour at all
        os.write(p.master, b"\x11")
        assert p.wait(TIMEOUT) == 0
    finally:
        p.close()


def test_a_crashed_session_ends_its_client_alike_and_the_server_goes_on(
    warm: WarmProcess, home: Path
) -> None:
    p = login(home)
    try:
        assert p.read_until(lambda t: CLERK_HOME in t, TIMEOUT), p.text[-2000:]
        child = session_of(warm, p.proc.pid)
        os.kill(child, signal.SIGKILL)
        assert p.wait(TIMEOUT) == -signal.SIGKILL  # sshd would report the same signal
    finally:
        p.close()
    assert warm.proc.poll() is None
    again = login(home, "k2")  # and the next login is served
    try:
        assert again.read_until(lambda t: "Sam Super" in t, TIMEOUT), again.text[-2000:]
        session_of(warm, again.proc.pid)
        os.write(again.master, b"\x11")
        assert again.wait(TIMEOUT) == 0
    finally:
        again.close()


def test_the_session_ends_when_its_client_dies(warm: WarmProcess, home: Path) -> None:
    p = login(home)
    try:
        assert p.read_until(lambda t: CLERK_HOME in t, TIMEOUT), p.text[-2000:]
        child = session_of(warm, p.proc.pid)
        p.proc.kill()  # the client is gone without a word (its pty stays open here)
        p.proc.wait()
        assert wait_gone(child), f"session {child} outlived its client"
    finally:
        p.close()


# --------------------------------------------------------------------------- cold start


def copy_home(home: Path, dest: Path) -> Path:
    """Another service home with a copy of the office (and no warm server)."""
    shutil.copytree(home, dest, symlinks=True, ignore=shutil.ignore_patterns("warm"))
    toml = dest / ".clerkdesk" / "server.toml"
    toml.write_text(toml.read_text().replace(str(home), str(dest)))
    return dest


def test_without_a_warm_server_the_login_starts_cold(home: Path, tmp_path: Path) -> None:
    cold_home = copy_home(home, tmp_path / "cold")
    assert not (cold_home / ".clerkdesk" / "warm" / "socket").exists()
    p = login(cold_home)
    try:
        assert p.read_until(lambda t: CLERK_HOME in t, TIMEOUT), p.text[-2000:]
        os.write(p.master, b"\x11")
        assert p.wait(TIMEOUT) == 0
    finally:
        p.close()


def test_upgraded_code_is_not_forked(home: Path, tmp_path: Path) -> None:
    """A file of a loaded module changes (pip install --upgrade): the login starts cold and the
    server stops, to be started again on the new code."""
    home = copy_home(home, tmp_path / "upgraded")
    w = WarmProcess(home, server_env())
    sheet = ROOT / "tui" / "styles.tcss"
    before = sheet.stat()
    try:
        os.utime(sheet, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000_000))
        p = login(home)
        try:
            assert p.read_until(lambda t: CLERK_HOME in t, TIMEOUT), p.text[-2000:]
            assert f"refused client pid {p.proc.pid}: stale code" in w.log_text()
            assert f"client pid {p.proc.pid}, serve" not in w.log_text()
            os.write(p.master, b"\x11")
            assert p.wait(TIMEOUT) == 0
        finally:
            p.close()
        assert w.proc.wait(TIMEOUT) == 75
        assert "the code on disk changed" in w.log_text()
        assert not w.socket.exists()
    finally:
        os.utime(sheet, ns=(before.st_atime_ns, before.st_mtime_ns))
        w.stop()


def test_beyond_max_sessions_a_login_starts_cold(home: Path, tmp_path: Path) -> None:
    home = copy_home(home, tmp_path / "busy")
    w = WarmProcess(home, server_env(), "--max-sessions", "1")
    first = login(home)
    second: PtyProcess | None = None
    try:
        assert first.read_until(lambda t: CLERK_HOME in t, TIMEOUT), first.text[-2000:]
        session_of(w, first.proc.pid)
        second = login(home, "k2")
        assert second.read_until(lambda t: "Sam Super" in t, TIMEOUT), second.text[-2000:]
        assert f"refused client pid {second.proc.pid}: busy (1 sessions)" in w.log_text()
        for p in (first, second):
            os.write(p.master, b"\x11")
            assert p.wait(TIMEOUT) == 0
    finally:
        first.close()
        if second is not None:
            second.close()
        w.stop()


# --------------------------------------------------------------------------- the client, small and cheap


class FakeServer:
    """A stand-in on the socket that answers every hand-over with ``replies`` (the protocol only)."""

    def __init__(self, path: Path, replies: list[dict[str, object]]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.sock.bind(str(path))
        self.sock.listen(4)
        self.requests: list[dict[str, object]] = []
        self.fd_counts: list[int] = []
        self.replies = replies
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                conn, _ = self.sock.accept()
                with conn:
                    data, fds, _flags, _ = socket.recv_fds(conn, 1 << 20, 8)
                    self.requests.append(json.loads(data))
                    self.fd_counts.append(len(fds))
                    for fd in fds:
                        os.close(fd)
                    for r in self.replies:
                        conn.send(json.dumps(r).encode())

    def close(self) -> None:
        self.sock.close()


def client(home: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-X", "importtime", *fakehome_argv(home, *args)[1:]],
        cwd=ROOT, env=env or client_env(), stdin=subprocess.DEVNULL, capture_output=True, text=True,
        timeout=TIMEOUT,
    )  # fmt: skip


def imported(stderr: str) -> set[str]:
    return {ln.split("|")[-1].strip() for ln in stderr.splitlines() if ln.startswith("import time:")}


def test_the_client_hands_over_and_imports_almost_nothing(tmp_path: Path) -> None:
    fake = FakeServer(tmp_path / ".clerkdesk" / "warm" / "socket", [{"pid": 1}, {"exit": 7}])
    try:
        done = client(tmp_path, "serve", "--key", "k9", env=client_env(CLERKDESK_NOW="2020-01-01"))
    finally:
        fake.close()
    assert done.returncode == 7, done.stderr[-2000:]
    mods = imported(done.stderr)
    assert "tui.warm_client" in mods
    for heavy in ("sqlalchemy", "textual", "click", "rich", "tui.cli", "db"):
        assert heavy not in mods, heavy
    (req,) = fake.requests
    assert fake.fd_counts == [3]
    assert req["argv"] == ["clerkdesk", "serve", "--key", "k9"]
    env = req["env"]
    assert isinstance(env, dict) and env["TERM"] == "xterm-256color"
    assert env["CLERKDESK_NOW"] == "2020-01-01"  # passed on as is: serve refuses it, warm or cold


def test_a_refusal_or_no_server_means_the_cold_start(tmp_path: Path) -> None:
    """The cold `serve` runs, which here (no server.toml, no terminal) says so and exits 2."""
    fake = FakeServer(tmp_path / ".clerkdesk" / "warm" / "socket", [{"refused": "busy"}])
    try:
        refused = client(tmp_path, "serve", "--key", "k1")
    finally:
        fake.close()
    assert refused.returncode == 2
    assert "not a ClerkDesk server" in refused.stderr
    assert "sqlalchemy" in imported(refused.stderr)  # the cold path did run
    # The server is gone, its socket file left behind: connecting is refused at once.
    start = time.monotonic()
    stale = client(tmp_path, "serve", "--key", "k1")
    assert stale.returncode == 2 and "not a ClerkDesk server" in stale.stderr
    assert (tmp_path / ".clerkdesk" / "warm" / "socket").exists()
    assert time.monotonic() - start < TIMEOUT


def test_connect_gives_up_on_a_stale_or_missing_socket(tmp_path: Path) -> None:
    path = tmp_path / "socket"
    assert warm_client.connect(str(path)) is None
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.bind(str(path))
    s.close()  # bound, never listened, no one behind it
    t0 = time.monotonic()
    assert warm_client.connect(str(path)) is None
    assert time.monotonic() - t0 < 1


def test_only_serve_sessions_are_accepted() -> None:
    fds = [0, 1, 2]
    ok = {"v": 1, "argv": ["clerkdesk", "serve", "--key", "k1"], "env": {}, "cwd": "/"}
    assert parse_request(json.dumps(ok).encode(), fds, 0) is not None
    for bad in (
        {**ok, "argv": ["clerkdesk", "user", "add", "evil", "--role", "supervisor"]},
        {**ok, "argv": ["clerkdesk", "--db", "x", "serve", "--key", "k1"]},
        {**ok, "v": 2},
        {**ok, "env": {"A": 1}},
    ):
        assert parse_request(json.dumps(bad).encode(), fds, 0) is None
    assert parse_request(json.dumps(ok).encode(), [0, 1], 0) is None
    assert parse_request(json.dumps(ok).encode(), fds, socket.MSG_CTRUNC) is None


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to connect as another uid")
def test_a_peer_of_another_uid_is_refused(warm: WarmProcess) -> None:
    folder = warm.socket.parent
    # The folder (0700) and socket (0600) already keep other accounts out; open them to check
    # the second wall: the server's SO_PEERCRED check.
    for p, m in (
        (warm.home, 0o711),
        (warm.home / ".clerkdesk", 0o711),
        (folder, 0o711),
        (warm.socket, 0o666),
    ):
        os.chmod(p, m)
    try:
        probe = (
            "import json, socket, sys\n"
            "s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)\n"
            "s.connect(sys.argv[1])\n"
            "req = {'v': 1, 'argv': ['clerkdesk', 'serve', '--key', 'k1'], 'env': {}, 'cwd': '/'}\n"
            "try:\n"
            "    socket.send_fds(s, [json.dumps(req).encode()], [0, 1, 2])\n"
            "    print(repr(s.recv(4096)))\n"
            "except OSError as e:\n"
            "    print('closed', e)\n"
        )
        out = subprocess.run(
            ["/usr/bin/python3", "-c", probe, str(warm.socket)],
            user=65534, group=65534, extra_groups=[], cwd="/",
            capture_output=True, text=True, timeout=TIMEOUT,
        )  # fmt: skip
    finally:
        for p in (warm.home, warm.home / ".clerkdesk", folder):
            os.chmod(p, 0o700)
        os.chmod(warm.socket, 0o600)
    assert out.stdout.strip() in ("b''", "") or out.stdout.startswith("closed"), out.stdout + out.stderr
    assert "'pid'" not in out.stdout
    assert "refused a client of uid 65534" in warm.log_text()


def test_a_socket_deeper_than_sun_path_still_binds_and_connects(tmp_path: Path) -> None:
    """A home folder deep enough that the socket path passes AF_UNIX's 108 bytes (a pytest temp
    folder was): the server still listens and a client still reaches it."""
    import socket

    from tui.warm_client import bind_socket, connect

    deep = tmp_path.joinpath(*["a-rather-long-folder-name"] * 6)
    deep.mkdir(parents=True)
    path = str(deep / "socket")
    assert len(path) > 108
    server = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    bind_socket(server, path)
    server.listen(1)
    client = connect(path)
    assert client is not None
    peer, _ = server.accept()
    client.send(b"hello")
    assert peer.recv(16) == b"hello"
    for s in (client, peer, server):
        s.close()
