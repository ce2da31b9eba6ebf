"""A scratch server-mode home and a warm server in it, for the warm-server benchmarks (and tests).

``server_home`` makes HOME a ClerkDesk server over an existing database (what `server init`
and `ssh-key add` would write, done in-process because those commands refuse root and use the
real home); ``WarmProcess`` runs `clerkdesk server warm` in it through bench.fakehome.
"""

from __future__ import annotations

import base64
import os
import shutil
import struct
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
PROGRAM = "/opt/clerkdesk/.venv/bin/clerkdesk"


def ed25519(seed: int) -> str:
    """A well-formed ed25519 public key line (nobody logs in with it: `serve` gets the key id)."""
    blob = struct.pack(">I", 11) + b"ssh-ed25519" + struct.pack(">I", 32) + bytes([seed % 256]) * 32
    return f"ssh-ed25519 {base64.b64encode(blob).decode()} bench\n"


def server_home(home: Path, db_file: Path | None, logins: list[str]) -> dict[str, str]:
    """Make ``home`` a server whose database is a copy of ``db_file`` (or the one already there);
    a key per login. Returns login -> key id."""
    from tui import server

    home.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{home / 'data' / 'clerkdesk.db'}"
    real_root, real_home = server.running_as_root, server.account_home
    server.running_as_root = lambda: False  # type: ignore[assignment]
    server.account_home = lambda: home  # type: ignore[assignment]
    try:
        cfg = server.init_server(url, home=home)
        if db_file is not None:
            shutil.copy(db_file, home / "data" / "clerkdesk.db")
            if (db_file.parent / "audit.key").exists():  # the chain's key goes with the database
                shutil.copy(db_file.parent / "audit.key", home / "data" / "audit.key")
        engine = sa.create_engine(url)
        with engine.connect() as con:
            ids = dict(con.execute(sa.text("SELECT login, id FROM users")).all())
        engine.dispose()
        reg = server.load_registry(cfg)
        have = {k.login: k.id for k in reg.keys}
        for i, login in enumerate(logins):
            if login not in have:
                have[login] = server.add_key(cfg, login, int(ids[login]), ed25519(i + 1), PROGRAM).id
        return have
    finally:
        server.running_as_root, server.account_home = real_root, real_home  # type: ignore[assignment]


def fakehome_argv(home: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "bench.fakehome", str(home), *args]


class WarmProcess:
    """`clerkdesk server warm` for ``home``, started and waited for (its socket appears when warm)."""

    def __init__(self, home: Path, env: dict[str, str], *args: str, timeout: float = 120) -> None:
        self.home = home
        self.socket = home / ".clerkdesk" / "warm" / "socket"
        self.log = home / ".clerkdesk" / "warm" / "warm.log"
        self.socket.unlink(missing_ok=True)
        self.proc = subprocess.Popen(
            fakehome_argv(home, "server", "warm", *args),
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while not self.socket.exists():
            if self.proc.poll() is not None:
                out = self.proc.stdout.read().decode() if self.proc.stdout else ""
                raise RuntimeError(f"the warm server exited with {self.proc.returncode}: {out}")
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError("the warm server did not come up")
            time.sleep(0.02)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def children(self) -> list[int]:
        """The sessions it has forked and not reaped."""
        kids = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(stat[1]) == self.proc.pid and stat[0] != "Z":
                    kids.append(int(entry.name))
        return kids

    def log_text(self) -> str:
        try:
            return self.log.read_text()
        except OSError:
            return ""

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()
        return self.proc.returncode


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
