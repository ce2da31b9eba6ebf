"""The app leaves when its terminal vanishes without a SIGHUP (issue 12): before, Textual's input
thread spun on the end of file of stdin for ever, at full CPU. The real program runs in a
pseudo-terminal that is not its controlling terminal (so closing it sends no signal)."""

from __future__ import annotations

import fcntl
import os
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from tests.conftest import Office, mark_demo
from tui.app import terminal_gone

ROOT = Path(__file__).resolve().parents[2]


def test_terminal_gone_sees_a_closed_pty_and_not_an_open_one() -> None:
    master, slave = os.openpty()
    try:
        assert terminal_gone(slave) is False
        os.write(master, b"x")  # pending input is not a hang-up
        assert terminal_gone(slave) is False
        os.close(master)
        master = -1
        assert terminal_gone(slave) is True
    finally:
        os.close(slave)
        if master >= 0:
            os.close(master)


@pytest.mark.slow
def test_the_app_exits_when_its_terminal_vanishes(office: Office, db_url: str, tmp_path: Path) -> None:
    mark_demo(office.db.url)  # so that --as works
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    env = dict(os.environ, TERM="xterm-256color", XDG_CONFIG_HOME=str(tmp_path / "config"))
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui", "--db", db_url, "--as", "cleo"],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        start_new_session=True,  # no controlling terminal: closing the pty sends no SIGHUP
        cwd=ROOT,
        env=env,
    )
    os.close(slave)
    try:
        seen = b""
        deadline = time.monotonic() + 60
        while b"Cleo Clerk" not in seen:  # the app is up and drawing
            assert time.monotonic() < deadline, seen[-500:]
            ready, _, _ = select.select([master], [], [], 1)
            if ready:
                seen += os.read(master, 65536)
        os.close(master)
        master = -1
        assert proc.wait(timeout=30) == 1
    finally:
        if master >= 0:
            os.close(master)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
