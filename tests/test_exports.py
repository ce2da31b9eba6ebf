"""Prints and exports (issue 11): one folder per person, no way out of it from a form, new files
only (never replacing one), mode 0600, whole or not at all."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tui.exports import ExportError, cli_target, folder_target, form_target, free_target, write_new


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "exports" / "cleo"


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("", "is required"),
        ("   ", "is required"),
        ("../x.csv", "may not contain '..'"),
        ("a/../../x.csv", "may not contain '..'"),
        ("/etc/cron.d/x", "must be a file name inside your exports folder"),
        ("~/x.csv", "must be a file name inside your exports folder"),
        ("~root/x.csv", "must be a file name inside your exports folder"),
        ("a\nb.csv", "has control characters"),
        ("a\x1b[2Jb.csv", "has control characters"),
        ("x" * 1001, "is longer than 1000 characters"),
        ("x" * 256 + ".csv", "has a name longer than 255 bytes"),
        ("sub/", "must end with a file name"),
        (".", "must end with a file name"),
    ],
)
def test_a_form_cannot_name_a_file_outside_the_folder(root: Path, name: str, why: str) -> None:
    with pytest.raises(ExportError, match=why.replace("(", r"\(").replace("[", r"\[")):
        form_target(root, name)


def test_a_form_names_a_file_in_the_folder_or_a_sub_folder(root: Path) -> None:
    assert form_target(root, "pay.csv") == root / "pay.csv"
    assert form_target(root, " payroll/2026/pay.csv ") == root / "payroll" / "2026" / "pay.csv"
    assert folder_target(root, "prints/", "INV-1.txt") == root / "prints" / "INV-1.txt"
    assert folder_target(root, "", "INV-1.txt") == root / "INV-1.txt"


def test_an_existing_file_is_never_replaced(root: Path) -> None:
    root.mkdir(parents=True)
    (root / "pay.csv").write_text("keep me")
    with pytest.raises(ExportError, match=r"pay.csv exists; choose a new file name"):
        form_target(root, "pay.csv")
    # Even when it appears between the check and the write (another session, same name).
    with pytest.raises(ExportError, match="exists; choose a new file name"):
        write_new(root / "pay.csv", "new", root=root)
    assert (root / "pay.csv").read_text() == "keep me"
    assert sorted(p.name for p in root.iterdir()) == ["pay.csv"]  # no temporary file left


def test_a_file_in_the_way_of_a_folder(root: Path) -> None:
    root.mkdir(parents=True)
    (root / "prints").write_text("I am a file")
    with pytest.raises(ExportError, match=r"prints is a file, not a folder"):
        form_target(root, "prints/INV-1.txt")
    (root / "sub").mkdir()
    with pytest.raises(ExportError, match="is a folder; name the file"):
        form_target(root, "sub")


def test_a_symbolic_link_cannot_lead_out(root: Path, tmp_path: Path) -> None:
    root.mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "out").symlink_to(outside)
    with pytest.raises(ExportError, match="leads outside your exports folder"):
        form_target(root, "out/x.csv")
    (root / "link.csv").symlink_to(outside / "target.csv")  # a dangling link is a name taken
    with pytest.raises(ExportError, match="exists"):
        form_target(root, "link.csv")
    assert list(outside.iterdir()) == []


def test_written_files_are_private_new_and_whole(root: Path) -> None:
    target = form_target(root, "payroll/pay.csv")
    written = write_new(target, "login,hours\ncleo,7.50\n", root=root)
    assert written == root / "payroll" / "pay.csv"
    assert written.read_text() == "login,hours\ncleo,7.50\n"
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    assert stat.S_IMODE(root.stat().st_mode) == 0o700
    assert stat.S_IMODE((root / "payroll").stat().st_mode) == 0o700
    assert write_new(root / "b.pdf", b"%PDF-1.4", root=root).read_bytes() == b"%PDF-1.4"


def test_a_taken_print_name_gets_a_number(root: Path) -> None:
    root.mkdir(parents=True)
    first = write_new(free_target(root, "", "INV-1.txt"), "one", root=root)
    second = write_new(free_target(root, "", "INV-1.txt"), "two", root=root)
    assert (first.name, second.name) == ("INV-1.txt", "INV-1-2.txt")
    assert first.read_text() == "one"


def test_command_line_paths(tmp_path: Path) -> None:
    assert cli_target(tmp_path / "a.csv") == tmp_path / "a.csv"
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(ExportError, match="a-file is a file, not a folder"):
        cli_target(tmp_path / "a-file" / "b.csv")
    with pytest.raises(ExportError, match="exists; choose a new file name"):
        cli_target(tmp_path / "a-file")
    with pytest.raises(ExportError, match="does not exist"):
        cli_target(tmp_path / "no" / "b.csv")
    for system in ("/proc/self/x", "/sys/kernel/x", "/dev/shm/x"):
        with pytest.raises(ExportError, match="system folder"):
            cli_target(Path(system))
    with pytest.raises(ExportError, match="longer than 255 bytes"):
        cli_target(tmp_path / ("x" * 300))


def test_a_write_that_fails_leaves_nothing(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root.mkdir(parents=True)

    def full(*_a: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "link", full)
    with pytest.raises(ExportError, match=r"cannot write .*No space left on device"):
        write_new(root / "x.csv", "data", root=root)
    assert list(root.iterdir()) == []
