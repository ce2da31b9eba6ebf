"""Why the SSH tests would not run, said exactly: a venv whose Python the throwaway test user
cannot execute (made from a pyenv Python under /root), skipped or, with CLERKDESK_REQUIRE_SSH=1,
failed. No sshd needed: these run everywhere (no ssh marker)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ssh.sshd import FIX_VENV, cannot_run, interpreter_problem


@pytest.fixture
def place() -> Iterator[Path]:
    """A folder every user may enter (pytest's own tmp folder is root's alone)."""
    root = Path(tempfile.mkdtemp(prefix="clerkdesk-interp-"))
    root.chmod(0o755)
    yield root
    shutil.rmtree(root)


def python_in(folder: Path, folder_mode: int = 0o755, file_mode: int = 0o755) -> Path:
    folder.mkdir(parents=True)
    exe = folder / "python3.11"
    exe.write_text("#!/bin/sh\n")
    exe.chmod(file_mode)
    folder.chmod(folder_mode)
    return exe


def venv_link(place: Path, target: Path) -> str:
    (place / "venv" / "bin").mkdir(parents=True)
    link = place / "venv" / "bin" / "python"
    link.symlink_to(target)
    return str(link)


def test_a_python_everyone_may_run_is_fine(place: Path) -> None:
    assert interpreter_problem(venv_link(place, python_in(place / "usr" / "bin"))) is None


def test_a_venv_pointing_into_a_private_folder_says_which_folder_and_how_to_fix(place: Path) -> None:
    real = python_in(place / "root" / ".pyenv" / "bin")
    (place / "root").chmod(0o700)  # as /root is
    try:
        link = venv_link(place, real)
        problem = interpreter_problem(link)
    finally:
        (place / "root").chmod(0o755)
    assert problem is not None
    assert f"the test user cannot execute this venv's Python {link} (that is {real})" in problem
    assert f"the folder {place / 'root'} (mode 0700) does not let other users in" in problem
    assert "under /root (pyenv)" in problem
    assert problem.endswith(FIX_VENV)
    assert "/usr/bin/python3 -m venv .venv" in FIX_VENV


def test_a_python_only_its_owner_may_execute(place: Path) -> None:
    real = python_in(place / "opt", file_mode=0o750)
    problem = interpreter_problem(str(real))
    assert problem is not None and "it has mode 0750 (not executable by other users)" in problem


def test_this_interpreter_is_checked_against_its_real_path() -> None:
    """The running interpreter: the answer agrees with the mode bits of its real path."""
    import sys

    real = Path(os.path.realpath(sys.executable))
    private = [p for p in real.parents if not p.stat().st_mode & 0o001]
    assert (interpreter_problem(sys.executable) is None) == (
        not private and bool(real.stat().st_mode & 0o001)
    )


def test_skipped_unless_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLERKDESK_REQUIRE_SSH", raising=False)
    with pytest.raises(pytest.skip.Exception, match="the reason"):
        cannot_run("the reason")
    monkeypatch.setenv("CLERKDESK_REQUIRE_SSH", "1")
    with pytest.raises(
        pytest.fail.Exception, match="CLERKDESK_REQUIRE_SSH=1 but the SSH tests cannot run: the reason"
    ):
        cannot_run("the reason")
