"""The layering rules (docs/architecture.md): the domain never imports Textual, screens
never talk SQL. Checked twice: by import-linter (the contracts in pyproject.toml) and by a direct
scan of every import statement, including imports inside functions."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = ("db", "billing", "scheduling", "reports")


def _modules(package: str) -> list[Path]:
    return sorted(p for p in (ROOT / package).rglob("*.py") if "__pycache__" not in p.parts)


def _imported(path: Path) -> set[str]:
    """Top-level names of every module the file imports (absolute imports only; relative are local)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute | ast.Name)
            and getattr(node.func, "attr", getattr(node.func, "id", "")) in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            names.add(node.args[0].value.split(".")[0])
    return names


def test_lint_imports_passes() -> None:
    exe = Path(sys.executable).parent / "lint-imports"
    if not exe.exists():
        pytest.fail(f"import-linter is not installed next to {sys.executable} (pip install -e '.[test]')")
    proc = subprocess.run([str(exe)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 broken" in proc.stdout
    assert "Domain packages never import Textual KEPT" in proc.stdout
    assert "Screens never talk SQL KEPT" in proc.stdout
    assert "UI layers: the app above the screens above the screen kit KEPT" in proc.stdout


def _imported_modules(path: Path) -> set[str]:
    """Full dotted names the file imports, including under TYPE_CHECKING and inside functions."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_screens_and_kit_never_import_the_app() -> None:
    """The app imports the screens; a screen or the kit under it (tui.widgets, tui.nav,
    tui.exports) importing the app back, even only for type checking, closes an import circle."""
    kit = [*_modules("tui/widgets"), ROOT / "tui" / "nav.py", ROOT / "tui" / "exports.py"]
    top = {"tui.app", "tui.cli", "tui.__main__"}
    offenders = {
        str(p.relative_to(ROOT)): sorted(
            m for m in _imported_modules(p) if m in top or m.startswith("tui.cli")
        )
        for p in _modules("screens") + kit
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_app_is_what_screens_expect() -> None:
    """Screens see the app through the OfficeApp protocol; the real app must have each member."""
    from tui.app import ClerkDeskApp
    from tui.widgets.base import OfficeApp

    members = set(OfficeApp.__annotations__) | {
        n for n in vars(OfficeApp) if not n.startswith("_") and callable(getattr(OfficeApp, n))
    }
    init_src = ast.unparse(ast.parse((ROOT / "tui" / "app.py").read_text(encoding="utf-8")))
    missing = sorted(m for m in members if not hasattr(ClerkDeskApp, m) and f"self.{m} =" not in init_src)
    assert missing == []


@pytest.mark.parametrize("package", DOMAIN)
def test_domain_never_imports_textual(package: str) -> None:
    files = _modules(package)
    assert files, f"no modules under {package}/"
    offenders = {
        str(p.relative_to(ROOT)): sorted(_imported(p) & {"textual", "rich"})
        for p in files
        if _imported(p) & {"textual", "rich"}
    }
    assert offenders == {}


def test_screens_never_import_sqlalchemy() -> None:
    files = _modules("screens")
    assert files
    offenders = {
        str(p.relative_to(ROOT)): sorted(_imported(p) & {"sqlalchemy", "psycopg", "sqlite3"})
        for p in files
        if _imported(p) & {"sqlalchemy", "psycopg", "sqlite3"}
    }
    assert offenders == {}


def test_the_scan_sees_imports_inside_functions(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import os\n"
        "def f():\n"
        "    from textual.app import App\n"
        "    import sqlalchemy.orm\n"
        "    importlib.import_module('rich.text')\n"
        "from . import sibling\n"
    )
    assert _imported(sample) == {"os", "textual", "sqlalchemy", "rich"}
