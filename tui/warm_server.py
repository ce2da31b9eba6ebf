"""The warm server: one long-lived process per service account that forks a session per login.

A cold `clerkdesk serve` spends most of its start importing SQLAlchemy, declaring the models
and importing Textual and the screens (docs/benchmarks.md). This process does all of that once,
then waits on a Unix socket (``~/.clerkdesk/warm/socket``, folder 0700, socket 0600, peers of
another uid refused by SO_PEERCRED). `serve --key ID` (tui/warm_client.py) hands it the login's
terminal (fds 0, 1, 2), argv, environment and working directory; it forks, and the child takes
that terminal and environment and runs exactly the command line a cold start would
(``tui.cli.main`` with the same argv): the key → person mapping, the cleaned environment, the
refusals, live rights and the audit are the same code. The child opens the database itself:
this process never connects to it, so no connection or pool crosses a fork.

Sessions outlive the server (restarting it for an upgrade ends nobody's work). Before each fork
the server checks that the files of every module it loaded are unchanged; after an upgrade it
refuses (the login starts cold) and exits, for systemd or the administrator to start it again.
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import hashlib
import importlib
import io
import json
import logging
import logging.handlers
import os
import pkgutil
import random
import selectors
import signal
import socket
import struct
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tui.server import ServerConfig, clean_environment
from tui.warm_client import FORWARDED, MAX_MESSAGE, PROTOCOL, SOCKET_NAME, bind_socket, is_serve, warm_dir

LOG_NAME = "warm.log"
PID_NAME = "pid"
LOCK_NAME = "lock"
EXIT_STALE = 75  # EX_TEMPFAIL: the code on disk changed; start again (systemd: Restart=always)
REQUEST_SECONDS = 2.0  # a peer that connects and says nothing does not hold up the others
DEFAULT_MAX_SESSIONS = 200
# Everything a session needs before its first frame, besides what tui.cli imports itself.
PRELOAD = ("tui.cli_server", "tui.app", "sqlalchemy.dialects.sqlite.pysqlite")
PRELOAD_PACKAGES = ("screens",)

log = logging.getLogger("clerkdesk.warm")


class WarmError(Exception):
    """The warm server cannot start; the message says why."""


@dataclass
class Request:
    argv: list[str]
    env: dict[str, str]
    cwd: str


# --------------------------------------------------------------------------- what is loaded


def preload() -> int:
    """Import what every session needs and configure the mappers; the number of modules loaded."""
    for name in PRELOAD:
        importlib.import_module(name)
    for pkg_name in PRELOAD_PACKAGES:
        pkg = importlib.import_module(pkg_name)
        for info in pkgutil.walk_packages(pkg.__path__, prefix=f"{pkg_name}."):
            importlib.import_module(info.name)
    import sqlalchemy.orm

    import db.models  # noqa: F401  (the mappers to configure)

    sqlalchemy.orm.configure_mappers()
    rehearse()
    if threading.active_count() != 1:  # a fork copies only the calling thread
        raise WarmError(f"threads left after warming up: {threading.enumerate()}")
    return len(sys.modules)


def rehearse() -> None:
    """Run a small Textual app headless once: the code a first frame runs is then loaded and
    specialised, and Textual's caches filled, in the server, shared by every session. No database
    and no terminal are involved; nothing of it is left running (checked before any fork)."""
    import asyncio

    from textual.app import App, ComposeResult
    from textual.widgets import DataTable, Footer, Header, Static

    class Rehearsal(App[None]):
        def compose(self) -> ComposeResult:
            yield Header()
            yield Static("warm")
            yield DataTable()
            yield Footer()

        def on_mount(self) -> None:
            table: DataTable[str] = self.query_one(DataTable)
            table.add_columns("a", "b", "c")
            table.add_rows([(f"row {i}", str(i), "text") for i in range(30)])

    async def go() -> None:
        async with Rehearsal().run_test(size=(120, 40)) as pilot:
            await pilot.pause()

    asyncio.run(go())


def loaded_files() -> list[str]:
    """The source files of every loaded module, and the style sheets the app reads at start."""
    files = {f for m in list(sys.modules.values()) if isinstance(f := getattr(m, "__file__", None), str)}
    root = Path(__file__).resolve().parents[1]
    for pkg in ("tui", "screens"):
        files.update(str(p) for p in (root / pkg).rglob("*.tcss"))
    return sorted(files)


def code_stamp(files: list[str]) -> str:
    """Changes when any of ``files`` is replaced, edited or removed (pip writes new files)."""
    h = hashlib.sha256()
    for f in files:
        try:
            st = os.stat(f)
            h.update(f"{f}\0{st.st_mtime_ns}\0{st.st_size}\0{st.st_ino}\n".encode())
        except OSError:
            h.update(f"{f}\0gone\n".encode())
    return h.hexdigest()


# --------------------------------------------------------------------------- the server


class WarmServer:
    def __init__(self, folder: Path, max_sessions: int = DEFAULT_MAX_SESSIONS) -> None:
        self.folder = folder
        self.max_sessions = max_sessions
        self.children: dict[int, socket.socket] = {}  # session pid -> its client's connection
        self.started: dict[int, float] = {}
        self.listener: socket.socket | None = None
        self.selector = selectors.DefaultSelector()
        self.wakeup_r, self.wakeup_w = os.pipe()
        self.lock_fd = -1
        self.files: list[str] = []
        self.stamp = ""
        self.stopping: int | None = None  # the exit code once a stop is decided
        self.server_pid = os.getpid()
        self.socket_ino = -1

    # ---------------------------------------------------------------- start and stop

    def prepare(self) -> None:
        """The private folder, the single-instance lock, the log."""
        self.folder.mkdir(mode=0o700, exist_ok=True)
        st = self.folder.lstat()
        if st.st_uid != os.getuid() or not self.folder.is_dir() or self.folder.is_symlink():
            raise WarmError(f"{self.folder} is not a folder of this account; refusing to use it")
        self.folder.chmod(0o700)
        self.lock_fd = os.open(self.folder / LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(self.lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = (self.folder / PID_NAME).read_text().strip() if (self.folder / PID_NAME).exists() else "?"
            raise WarmError(f"a warm server already runs for this account (pid {pid})") from None
        handler = logging.handlers.WatchedFileHandler(self.folder / LOG_NAME)  # follows logrotate
        handler.setFormatter(logging.Formatter("%(asctime)s %(process)d %(message)s"))
        os.chmod(self.folder / LOG_NAME, 0o600)
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False

    def listen(self) -> None:
        """Bind under a temporary name, then rename: the socket appears only when the server is warm."""
        final = self.folder / SOCKET_NAME
        tmp = self.folder / f".{SOCKET_NAME}.{os.getpid()}"
        tmp.unlink(missing_ok=True)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        old = os.umask(0o177)
        try:
            bind_socket(sock, str(tmp))
        finally:
            os.umask(old)
        os.chmod(tmp, 0o600)
        sock.listen(64)
        sock.setblocking(False)
        os.replace(tmp, final)  # a stale socket of a dead server is replaced here
        self.socket_ino = os.stat(final).st_ino
        self.listener = sock
        (self.folder / PID_NAME).write_text(f"{os.getpid()}\n")

    def install_signals(self) -> None:
        os.set_blocking(self.wakeup_w, False)
        os.set_blocking(self.wakeup_r, False)
        signal.set_wakeup_fd(self.wakeup_w)
        for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, lambda *_: None)  # the wake-up fd carries the signal to the loop
        signal.siginterrupt(signal.SIGCHLD, False)

    def close_listener(self) -> None:
        if self.listener is None:
            return
        with contextlib.suppress(KeyError, ValueError):
            self.selector.unregister(self.listener)
        final = self.folder / SOCKET_NAME
        # Only our own socket: a newer server may have replaced it already.
        with contextlib.suppress(OSError):
            if os.stat(final).st_ino == self.socket_ino:
                final.unlink()
        self.listener.close()
        self.listener = None

    def run(self, warm_up: Callable[[], int] = preload) -> int:
        """Serve until told to stop (SIGTERM, SIGINT) or until the code changes; the exit code."""
        self.prepare()
        t0 = time.perf_counter()
        modules = warm_up()
        self.files = loaded_files()
        self.stamp = code_stamp(self.files)
        # Everything imported so far lives as long as the process: keep the collector off it, so
        # the sessions' collections never write to (and un-share) these pages.
        gc.collect()
        gc.freeze()
        self.install_signals()
        self.listen()
        assert self.listener is not None
        self.selector.register(self.listener, selectors.EVENT_READ, "accept")
        self.selector.register(self.wakeup_r, selectors.EVENT_READ, "signal")
        log.info(
            "warm server ready: %d modules, %d files watched, %.0f ms, python %s, max %d sessions",
            modules, len(self.files), (time.perf_counter() - t0) * 1000, sys.version.split()[0],
            self.max_sessions,
        )  # fmt: skip
        try:
            while self.stopping is None:
                for key, _ in self.selector.select(timeout=60):
                    if key.data == "accept":
                        self.accept()
                    else:
                        self.on_signals()
                self.reap()
        finally:
            if os.getpid() == self.server_pid:
                self.close_listener()
                (self.folder / PID_NAME).unlink(missing_ok=True)
                log.info("warm server stops (%d sessions go on by themselves)", len(self.children))
        return self.stopping or 0

    def on_signals(self) -> None:
        try:
            data = os.read(self.wakeup_r, 512)
        except BlockingIOError:
            return
        for signum in data:
            if signum == signal.SIGCHLD:
                self.reap()
            elif signum in (signal.SIGTERM, signal.SIGINT):
                log.info("signal %d: stopping", signum)
                self.stopping = 0

    # ---------------------------------------------------------------- sessions

    def reap(self) -> None:
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            conn = self.children.pop(pid, None)
            seconds = time.monotonic() - self.started.pop(pid, time.monotonic())
            if os.WIFSIGNALED(status):
                msg: dict[str, int] = {"killed": os.WTERMSIG(status)}
            else:
                msg = {"exit": os.waitstatus_to_exitcode(status)}
            log.info("session %d ended %s after %.0f s", pid, msg, seconds)
            if conn is not None:
                with contextlib.suppress(OSError):
                    conn.send(json.dumps(msg).encode(), socket.MSG_DONTWAIT)
                conn.close()

    def accept(self) -> None:
        assert self.listener is not None
        try:
            conn, _ = self.listener.accept()
        except (BlockingIOError, InterruptedError):
            return
        fds: list[int] = []
        try:
            pid, uid, _gid = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))
            if uid != os.getuid():
                log.warning("refused a client of uid %d (pid %d): not this account", uid, pid)
                conn.close()
                return
            conn.settimeout(REQUEST_SECONDS)
            data, fds, flags, _ = socket.recv_fds(conn, MAX_MESSAGE, 3)
            req = parse_request(data, fds, flags)
            why = self.refusal()
            if req is None or why is not None:
                why = why or "bad request"
                log.warning("refused client pid %d: %s", pid, why)
                with contextlib.suppress(OSError):
                    conn.send(json.dumps({"refused": why}).encode())
                conn.close()
                return
            self.fork_session(conn, fds, req, pid)
        except (OSError, ValueError) as e:
            log.warning("client dropped during the hand-over: %s", e)
            conn.close()
        finally:
            for fd in fds:
                with contextlib.suppress(OSError):
                    os.close(fd)

    def refusal(self) -> str | None:
        """Why this login must start cold, or None."""
        if code_stamp(self.files) != self.stamp:
            log.warning("the code on disk changed since this server started: refusing, and stopping")
            self.stopping = EXIT_STALE
            return "stale code (upgraded since the warm server started)"
        if len(self.children) >= self.max_sessions:
            return f"busy ({len(self.children)} sessions)"
        return None

    def fork_session(self, conn: socket.socket, fds: list[int], req: Request, client_pid: int) -> None:
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                self.become_session(conn, fds)
                code = run_session(conn, req)
            except BaseException:
                with contextlib.suppress(Exception):
                    log.error("session failed before it started:\n%s", traceback.format_exc())
            finally:
                os._exit(code)
        self.children[pid] = conn
        self.started[pid] = time.monotonic()
        log.info("client pid %d, %s: session %d", client_pid, " ".join(req.argv[1:]), pid)
        conn.send(json.dumps({"pid": pid}).encode())

    def become_session(self, conn: socket.socket, fds: list[int]) -> None:
        """In the child: drop everything of the server, take the client's terminal."""
        os.setsid()  # out of the server's process group: its signals are not the session's
        signal.set_wakeup_fd(-1)
        for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        if self.listener is not None:
            self.listener.close()
        self.selector.close()
        for fd in (self.wakeup_r, self.wakeup_w, self.lock_fd):
            with contextlib.suppress(OSError):
                os.close(fd)
        for other in self.children.values():
            other.close()
        for h in list(log.handlers):
            log.removeHandler(h)
            h.close()
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        for target, fd in enumerate(fds):
            os.dup2(fd, target)  # dup2 clears close-on-exec: 0, 1, 2 as a login has them
            os.close(fd)
        fds.clear()
        sys.stdin = sys.__stdin__ = io.TextIOWrapper(  # type: ignore[misc]  # the session's own terminal: Textual reads sys.__stdin__
            io.BufferedReader(io.FileIO(0, "r", closefd=False)), encoding="utf-8", errors="surrogateescape"
        )
        sys.stdout = sys.__stdout__ = io.TextIOWrapper(  # type: ignore[misc]  # the session's own terminal: Textual reads sys.__stdout__
            io.BufferedWriter(io.FileIO(1, "w", closefd=False)), encoding="utf-8", errors="surrogateescape",
            line_buffering=True,
        )  # fmt: skip
        sys.stderr = sys.__stderr__ = io.TextIOWrapper(  # type: ignore[misc]  # the session's own terminal: Textual reads sys.__stderr__
            io.BufferedWriter(io.FileIO(2, "w", closefd=False)), encoding="utf-8", errors="backslashreplace",
            line_buffering=True,
        )  # fmt: skip
        random.seed()  # each session its own random sequence (os.urandom)


def parse_request(data: bytes, fds: list[int], flags: int) -> Request | None:
    if flags & (socket.MSG_CTRUNC | socket.MSG_TRUNC) or len(fds) != 3 or not data:
        return None
    try:
        msg = json.loads(data)
    except ValueError:
        return None
    if not isinstance(msg, dict) or msg.get("v") != PROTOCOL:
        return None
    argv, env, cwd = msg.get("argv"), msg.get("env"), msg.get("cwd")
    if not (isinstance(argv, list) and all(isinstance(a, str) for a in argv) and is_serve(argv)):
        return None  # the warm server opens sessions, it runs no other command
    if not (isinstance(env, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in env.items())):
        return None
    if not isinstance(cwd, str):
        return None
    return Request(argv=argv, env=env, cwd=cwd)


# --------------------------------------------------------------------------- in the session


def watch_client(conn: socket.socket, done: threading.Event) -> None:
    """Signals the client forwards, delivered to this process; its end of file is a hang-up
    (unless the session is ``done`` and the client left because it said so)."""
    allowed = {int(s) for s in FORWARDED}

    def loop() -> None:
        while True:
            try:
                data = conn.recv(MAX_MESSAGE)
            except OSError:
                data = b""
            if not data:
                if not done.is_set():
                    os.kill(os.getpid(), signal.SIGHUP)  # as when an SSH connection drops
                return
            try:
                signum = json.loads(data).get("signal")
            except (ValueError, AttributeError):
                continue
            if signum in allowed:
                os.kill(os.getpid(), signum)

    threading.Thread(target=loop, name="warm-client", daemon=True).start()


def exit_code(e: SystemExit) -> int:
    if e.code is None:
        return 0
    if isinstance(e.code, int):
        return e.code
    print(e.code, file=sys.stderr)
    return 1


def run_session(conn: socket.socket, req: Request) -> int:
    """What `clerkdesk ARGV` would do in a fresh process, in this forked one."""
    os.environ.clear()
    os.environ.update(req.env)
    try:
        os.chdir(req.cwd)
    except OSError:
        os.chdir("/")
    sys.argv = list(req.argv)
    conn.settimeout(None)
    done = threading.Event()
    watch_client(conn, done)
    gc.disable()  # as tui/__main__.py does for a cold start; the app turns it on again
    from tui.cli import main

    code = 0
    try:
        main(args=req.argv[1:], prog_name="clerkdesk")
    except SystemExit as e:
        code = exit_code(e)
    except KeyboardInterrupt:
        code = 130
    except BaseException:
        traceback.print_exc()
        code = 1
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    done.set()
    with contextlib.suppress(OSError):
        conn.send(json.dumps({"exit": code}).encode())
    return code


def clean_server_environment(cfg: ServerConfig) -> None:
    """The server's own environment before Textual is imported (it reads TEXTUAL_* then): what a
    cold `serve` keeps, minus any terminal (each session brings its own)."""
    keep = clean_environment(cfg)
    for k in ("TERM", "COLORTERM", "NO_COLOR"):
        keep.pop(k, None)
    os.environ.clear()
    os.environ.update(keep)


def serve_warm(cfg: ServerConfig, max_sessions: int, warm_up: Callable[[], int] = preload) -> int:
    """`clerkdesk server warm`: the exit code."""
    clean_server_environment(cfg)
    os.chdir(cfg.home)
    os.umask(0o077)
    server = WarmServer(Path(warm_dir()), max_sessions=max_sessions)
    return server.run(warm_up)
