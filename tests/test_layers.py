"""The vocabulary modules screens import directly (enums, money, time, rights, errors) stay free of
SQLAlchemy, so a screen that only shows and parses values does not load the ORM. Each module is
imported in a fresh interpreter: in this process the ORM is long loaded by other tests."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
VOCABULARY = ("db.enums", "db.money", "db.timeutil", "db.rights", "db.errors")


def _loaded_after_import(module: str) -> list[str]:
    code = (
        f"import sys, {module}\n"
        "print('\\n'.join(sorted(m for m in sys.modules if m.split('.')[0] == 'sqlalchemy' or m == 'db.models')))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return done.stdout.split()


@pytest.mark.parametrize("module", VOCABULARY)
def test_vocabulary_module_does_not_load_sqlalchemy(module: str) -> None:
    assert _loaded_after_import(module) == []


def test_old_names_for_column_types_still_resolve() -> None:
    # Migrations written before db.coltypes existed name db.money.Money and db.timeutil.UTCDateTime.
    import db.coltypes
    import db.money
    import db.timeutil

    assert db.money.Money is db.coltypes.Money
    assert db.timeutil.UTCDateTime is db.coltypes.UTCDateTime
    with pytest.raises(AttributeError):
        _ = db.money.NoSuchThing  # type: ignore[attr-defined]  # the shim must not swallow typos


def test_domain_models_still_export_the_enums() -> None:
    import db.enums
    import db.models

    assert db.models.InvoiceStatus is db.enums.InvoiceStatus


def test_screens_take_enums_from_db_enums() -> None:
    """No screen names db.models (import-linter checks it too; this also sees imports in functions)."""
    offenders = []
    for path in sorted((ROOT / "screens").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module in ("db.models", "db.coltypes", "db.base"):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
            elif isinstance(node, ast.Import) and any(a.name == "db.models" for a in node.names):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []
