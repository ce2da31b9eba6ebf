"""Where prints and exports go: one folder per person, new files only, readable by the owner alone.

Every file the program writes for a person (invoice and plan prints, payroll and schedule
exports, backups) goes through ``write_new``:

- from a form, the person names a file *inside* their exports folder (``form_target``): no
  absolute path, no ``~``, no ``..``, no way out through a symbolic link. In server mode the
  folder is ``~clerkdesk/exports/<login>``; on a person's own machine it is ``exports`` in
  config.toml or ``~/clerkdesk-exports``;
- on the command line the path is the shell user's own (``cli_target``): any folder they can
  write, but the same rules for the file itself;
- the file is new (an existing file is never replaced, even by a race: the data is written to a
  temporary file and hard-linked into place, which fails if the name exists), mode 0600, and
  complete or absent.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path, PurePosixPath

from db.errors import ClerkDeskError
from tui.server import account_home

MAX_PATH = 1000
MAX_PART = 255  # bytes, the usual file-system limit for one name


class ExportError(ClerkDeskError):
    """The file cannot be written there; the message says why (and is safe to show)."""


def default_root(configured: str | None = None) -> Path:
    """A person's exports folder on their own machine: config.toml's ``exports`` or ~/clerkdesk-exports."""
    home = account_home()
    if configured:
        p = Path(configured).expanduser()
        return p if p.is_absolute() else home / p
    return home / "clerkdesk-exports"


def _check_text(text: str) -> str:
    t = text.strip()
    if not t:
        raise ExportError("is required")
    if any(ord(c) < 32 or ord(c) == 127 for c in t):
        raise ExportError("has control characters")
    if len(t) > MAX_PATH:
        raise ExportError(f"is longer than {MAX_PATH} characters")
    return t


def _check_parts(path: PurePosixPath) -> None:
    for part in path.parts:
        if len(part.encode("utf-8", "surrogateescape")) > MAX_PART:
            raise ExportError(f"has a name longer than {MAX_PART} bytes")


def form_target(root: Path, name: str) -> Path:
    """The file a form names, inside ``root``; refuses anything that would leave it."""
    t = _check_text(name)
    p = PurePosixPath(t)
    if p.is_absolute() or t.startswith("~"):
        raise ExportError(f"must be a file name inside your exports folder ({root}), not a path from /")
    if ".." in p.parts:
        raise ExportError("may not contain '..'")
    if t.endswith("/") or p.name in ("", "."):
        raise ExportError("must end with a file name")
    _check_parts(p)
    target = root / p
    _check_new_file(target, root)
    return target


def cli_target(path: Path) -> Path:
    """A file named on the command line: any folder of the shell user's, a new file."""
    t = _check_text(str(path))
    p = Path(t)
    _check_parts(PurePosixPath(t))
    if any(str(p.absolute()).startswith(f"{sys_root}/") for sys_root in ("/proc", "/sys", "/dev")):
        raise ExportError(f"{p} is in a system folder; choose a file in one of your folders")
    if not p.parent.exists():
        raise ExportError(f"folder {p.parent} does not exist")
    _check_new_file(p, None)
    return p


def _check_new_file(target: Path, root: Path | None) -> None:
    # Every existing folder on the way must be a folder (a file in the way gives a clear message).
    for parent in reversed(target.parents):
        if root is not None and not parent.is_relative_to(root):
            continue
        if parent.exists() and not parent.is_dir():
            raise ExportError(f"{parent} is a file, not a folder")
    if target.is_dir():
        raise ExportError(f"{target} is a folder; name the file to write")
    if target.exists() or target.is_symlink():
        raise ExportError(f"{target} exists; choose a new file name")
    if root is not None:
        # A symbolic link inside the folder must not lead out of it.
        existing = target.parent
        while not existing.exists() and existing != root:
            existing = existing.parent
        if existing.exists() and not existing.resolve().is_relative_to(root.resolve()):
            raise ExportError(f"{target.parent} leads outside your exports folder")


def write_new(target: Path, data: bytes | str, *, root: Path | None = None) -> Path:
    """Write ``data`` to the new file ``target`` (0600), whole or not at all; never replaces a file.

    With ``root`` the folders between it and the file are created (0700); without, the file's
    folder must exist.
    """
    content = data.encode("utf-8") if isinstance(data, str) else data
    try:
        if root is not None:
            make_folders(root, target)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name[:200]}.", suffix=".partial")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(content)
                f.flush()
                os.fchmod(f.fileno(), 0o600)
                os.fsync(f.fileno())
            os.link(tmp, target)  # fails with FileExistsError instead of replacing a file
        finally:
            Path(tmp).unlink(missing_ok=True)
    except FileExistsError as e:
        raise ExportError(f"{target} exists; choose a new file name") from e
    except NotADirectoryError as e:
        raise ExportError(f"cannot write {target}: a file is in the way of a folder") from e
    except OSError as e:
        raise ExportError(f"cannot write {target}: {e.strerror or e}") from e
    return target


def make_folders(root: Path, target: Path) -> Path:
    """Create the folders between ``root`` and the new file ``target`` (0700); raises ExportError.

    For a writer that opens the file itself (it still must not replace one)."""
    try:
        _check_new_file(target, root)
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        _check_new_file(target, root)  # again, now that the folders exist (no link out)
    except NotADirectoryError as e:
        raise ExportError(f"cannot write {target}: a file is in the way of a folder") from e
    except OSError as e:
        raise ExportError(f"cannot write {target}: {e.strerror or e}") from e
    return target


def folder_target(root: Path, folder: str, name: str) -> Path:
    """``name`` (made by the program) in the sub-folder ``folder`` a form names (may be empty)."""
    t = folder.strip().rstrip("/")
    return form_target(root, f"{t}/{name}" if t else name)


def free_target(root: Path, folder: str, name: str, limit: int = 999) -> Path:
    """Like ``folder_target`` but, when the name is taken, the first free ``stem-2.ext``, ``stem-3.ext``…"""
    stem, dot, ext = name.rpartition(".") if "." in name else (name, "", "")
    for n in range(1, limit + 1):
        candidate = name if n == 1 else f"{stem}-{n}{dot}{ext}"
        try:
            return folder_target(root, folder, candidate)
        except ExportError as e:
            if "exists" not in str(e):
                raise
    raise ExportError(f"{limit} files named {name} exist already; choose another folder")


def check_folder(root: Path, folder: str) -> str:
    """A sub-folder as a form names it (empty is the exports folder itself); raises ExportError."""
    t = folder.strip()
    if t:
        folder_target(root, t, "x")  # the same rules as for a file in it
    return t
