"""Run a program in a detached tmux pane and watch its screen: shared by the start-up and
memory benchmarks. Each pane gets its own session name (``clerkdesk-bench-<pid>-<n>``)."""

from __future__ import annotations

import itertools
import os
import re
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_names = itertools.count()
# A tmux server of our own: no interference with anyone's sessions, and `close_server()` ends it.
SOCKET = f"clerkdesk-bench-{os.getpid()}"


def tmux(*args: str, **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["tmux", "-L", SOCKET, *args], text=True, **kw)  # type: ignore[call-overload, no-any-return]


def start_server(env: dict[str, str] | None = None) -> None:
    """The private server with one idle session, so that it does not exit (and race the next
    pane's start) whenever the last measured pane closes. Panes get the server's environment
    (tmux hands a new session only a few of its client's variables), so give it ``env``."""
    tmux("new-session", "-d", "-s", "keepalive", "sleep 86400", check=True, env=env)


def close_server() -> None:
    tmux("kill-server", capture_output=True, check=False)
    # tmux can leave the socket file of a killed server behind
    sock = Path(os.environ.get("TMUX_TMPDIR", "/tmp"), f"tmux-{os.getuid()}", SOCKET)
    sock.unlink(missing_ok=True)


@dataclass(frozen=True)
class Case:
    """A program to start and the regular expression its finished first screen matches."""

    name: str
    argv: tuple[str, ...]
    ready: str


def cases(db_url: str, supervisor: str, clerk: str) -> dict[str, Case]:
    py = sys.executable
    app = (py, "-m", "tui", "--db", db_url, "--as")
    return {
        "bare": Case("bare Textual app", (py, "-m", "bench.bare_app"), r"bare row 7"),
        # The summary line and the on-shift rows arrive in one callback; wait for both (the
        # counters' last, "Approvals inbox", and the first row under the on-shift header).
        "dashboard": Case(
            "supervisor dashboard", (*app, supervisor), r"(?s)Approvals inbox: \d+.*Done/list[^\n]*\n +\S"
        ),
        "myday": Case("clerk my day", (*app, clerk), r"You own \d+ accounts|you own \d+ accounts"),
    }


def bench_env(home: Path) -> dict[str, str]:
    """The app's config and data directories in a scratch folder: no personal config."""
    env = dict(os.environ)
    env.update(
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_DATA_HOME=str(home / "data"),
        TERM="xterm-256color",
    )
    env.pop("NO_COLOR", None)
    return env


class Pane:
    def __init__(self, argv: Sequence[str], env: dict[str, str], size: tuple[int, int] = (120, 40)) -> None:
        self.name = f"clerkdesk-bench-{os.getpid()}-{next(_names)}"
        cmd = "exec " + shlex.join(argv)
        self.started = time.perf_counter()
        tmux(
            "new-session",
            "-d",
            "-s",
            self.name,
            "-x",
            str(size[0]),
            "-y",
            str(size[1]),
            cmd,
            cwd=ROOT,
            env=env,
            check=True,
        )

    def screen(self) -> str:
        out = tmux("capture-pane", "-p", "-t", self.name, capture_output=True, check=False)
        return out.stdout

    def wait_for(self, pattern: str, timeout: float = 60.0, poll: float = 0.01) -> float:
        """Seconds from start until the screen matches ``pattern``."""
        rx = re.compile(pattern)
        while True:
            if rx.search(self.screen()):
                return time.perf_counter() - self.started
            if time.perf_counter() - self.started > timeout:
                raise TimeoutError(
                    f"{self.name}: no {pattern!r} on screen after {timeout} s:\n{self.screen()}"
                )
            time.sleep(poll)

    @property
    def pid(self) -> int:
        out = tmux("display-message", "-p", "-t", self.name, "#{pane_pid}", capture_output=True, check=True)
        return int(out.stdout.strip())

    def cpu_seconds(self) -> float:
        """User + system CPU time the pane's process has used so far (less load-sensitive than
        the wall clock on a shared machine)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def close(self) -> None:
        tmux("kill-session", "-t", self.name, capture_output=True, check=False)


def demo_database(db_url: str | None, home: Path) -> str:
    """The given URL, or a demo office built once in ``home`` (about 15 s)."""
    if db_url:
        return db_url
    path = home / "demo.db"
    url = f"sqlite:///{path}"
    if not path.exists():
        print(f"building a demo office in {path} ...", file=sys.stderr)
        subprocess.run(
            [sys.executable, "-m", "tui", "demo", "--no-open", "--db", url],
            cwd=ROOT,
            env=bench_env(home),
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return url


def scratch_home(given: str | None) -> Path:
    if given:
        p = Path(given)
        p.mkdir(parents=True, exist_ok=True)
        return p
    return Path(tempfile.mkdtemp(prefix="clerkdesk-bench-"))
