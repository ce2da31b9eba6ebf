"""``clerkdesk import …`` and ``clerkdesk invoice list|print``: output, exit codes, bad input."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from billing import invoices, render
from tests.billing.billing_setup import World, make_world
from tests.conftest import Office, mark_demo
from tui.cli import main


@pytest.fixture
def world(office: Office) -> World:
    mark_demo(office.db.url)  # so --as works
    return make_world(office)


def run(db_url: str, login: str, *args: str) -> Result:
    return CliRunner().invoke(main, ["--db", db_url, "--as", login, *args])


def issue_two(w: World) -> tuple[invoices.InvoiceView, ...]:
    w.service("G0008", units=2)
    drafts = w.w(w.clerk, lambda a, s: invoices.build_invoices(a, s, w.client)).drafts
    return w.w(w.clerk, lambda a, s: invoices.issue_drafts(a, s, [d.id for d in drafts]))


def test_import_codes_reports_bad_lines_and_exits_2(world: World, db_url: str, tmp_path: Path) -> None:
    bad = tmp_path / "codes.csv"
    bad.write_text(
        "code,description,fee\nA0428,Ambulance service BLS,350\nE0114,Crutches,lots\n", encoding="utf-8"
    )
    r = run(db_url, "sam", "import", "codes", str(bad))
    assert r.exit_code == 2
    assert f"{bad}: line 3: fee 'lots' is not an amount (e.g. 12.50)" in r.stderr
    assert "1 bad rows" in r.stderr and "nothing imported" in r.stderr
    r = run(db_url, "sam", "import", "codes", "--skip-bad", str(bad))
    assert r.exit_code == 0, r.output
    assert r.stdout == "codes: 2 rows, 1 created, 0 updated, 0 unchanged, 1 bad rows skipped\n"
    assert "skipped line 3" in r.stderr
    r = run(db_url, "sam", "import", "codes", "--skip-bad", str(bad))
    assert r.stdout == "codes: 2 rows, 0 created, 0 updated, 1 unchanged, 1 bad rows skipped\n"


def test_import_bad_usage(world: World, db_url: str, tmp_path: Path) -> None:
    r = run(db_url, "sam", "import", "codes", str(tmp_path / "missing.csv"))
    assert (r.exit_code, r.stderr) == (2, f"clerkdesk: no file {tmp_path / 'missing.csv'}\n")
    r = run(db_url, "sam", "import", "clients", str(tmp_path))
    assert r.exit_code == 2 and "is not a file" in r.stderr
    good = tmp_path / "c.csv"
    good.write_text("code,description,fee\nA0428,Ambulance,350\n", encoding="utf-8")
    r = run(db_url, "cleo", "import", "codes", str(good))
    assert r.exit_code == 1 and "may not change payers or the code catalog" in r.stderr
    r = run(db_url, "sam", "import", "payers", str(good))
    assert r.exit_code == 2


def test_invoice_list_formats(world: World, db_url: str) -> None:
    issue_two(world)
    r = run(db_url, "cleo", "invoice", "list", "--format", "csv")
    assert r.exit_code == 0, r.output
    rows = list(csv.reader(io.StringIO(r.stdout)))
    assert rows[0][:3] == ["number", "kind", "status"]
    assert [(x[0], x[5], x[8]) for x in rows[1:]] == [
        ("INV-000001", "Acme Health", "40.00"),
        ("INV-000002", "García, Ana", "40.00"),
    ]
    r = run(
        db_url, "cleo", "invoice", "list", "--format", "json", "--status", "issued", "--client", "a000001"
    )
    data = json.loads(r.stdout)
    assert [(d["number"], d["kind"], d["total"], d["due_date"]) for d in data] == [
        ("INV-000001", "invoice", "40.00", "2026-12-16"),
        ("INV-000002", "statement", "40.00", "2026-12-16"),
    ]
    r = run(db_url, "cleo", "invoice", "list", "--status", "void")
    assert r.exit_code == 0 and r.stdout.splitlines()[-1] == "0 invoices"
    r = run(db_url, "cleo", "invoice", "list")
    lines = r.stdout.splitlines()
    assert lines[2].startswith("INV-000001 invoice     issued") and lines[-1] == "2 invoices"
    assert all(len(line) <= 132 for line in lines)
    r = run(db_url, "cleo", "invoice", "list", "--format", "xml")
    assert r.exit_code == 2
    r = run(db_url, "cleo", "invoice", "list", "--client", "A999999")
    assert (r.exit_code, r.stderr) == (2, "clerkdesk: no client with account number 'A999999'\n")


def test_invoice_print(world: World, db_url: str, tmp_path: Path) -> None:
    issue_two(world)
    r = run(db_url, "cleo", "invoice", "print", "INV-000001")
    assert r.exit_code == 0
    assert r.stdout == world.r(world.clerk, lambda a, s: render.print_text(a, s, "INV-000001"))
    out = tmp_path / "inv.pdf"
    r = run(db_url, "cleo", "invoice", "print", "inv-000001", "--format", "pdf", "--out", str(out))
    assert r.exit_code == 0 and r.stdout == f"wrote INV-000001 (pdf) to {out}\n"
    assert out.read_bytes() == world.r(world.clerk, lambda a, s: render.print_pdf(a, s, "INV-000001"))
    txt = tmp_path / "inv.txt"
    assert run(db_url, "cleo", "invoice", "print", "INV-000002", "--out", str(txt)).exit_code == 0
    assert txt.read_text(encoding="utf-8").startswith("ClerkDesk Billing Office")


def test_invoice_print_bad_input(world: World, db_url: str, tmp_path: Path) -> None:
    issue_two(world)
    r = run(db_url, "cleo", "invoice", "print", "INV-999999")
    assert (r.exit_code, r.stderr) == (2, "clerkdesk: no invoice numbered 'INV-999999'\n")
    r = run(db_url, "cleo", "invoice", "print", "INV-000001", "--format", "docx")
    assert r.exit_code == 2
    r = run(db_url, "cleo", "invoice", "print", "INV-000001", "--out", str(tmp_path / "no" / "x.txt"))
    assert r.exit_code == 2 and "does not exist" in r.stderr
    assert run(db_url, "cleo", "invoice", "print", "--help").exit_code == 0
