"""`clerkdesk report output`: formats with the report's exact figures, byte-stable, rights, bad input."""

from __future__ import annotations

import csv
import hashlib
import io
import json

import sqlalchemy as sa
from click.testing import CliRunner, Result

from db.models import AuditEntry
from tests.conftest import Office, mark_demo
from tests.reports.test_output import generate
from tui.cli import main

RANGE = ["--from", "2026-10-26", "--to", "2026-11-08"]


def run(db_url: str, *args: str, who: str = "sam") -> Result:
    return CliRunner().invoke(main, ["--db", db_url, "--as", who, *args])


def _setup(office: Office) -> None:
    mark_demo(office.db.url)
    generate(office)


def test_formats_carry_the_same_figures(db_url: str, office: Office) -> None:
    _setup(office)
    import datetime as dt

    from reports.output import output_report

    rep = office.db.read(lambda s: output_report(office.sup, s, dt.date(2026, 10, 26), dt.date(2026, 11, 8)))
    assert rep.team is not None
    out = run(db_url, "report", "output", *RANGE, "--format", "json")
    assert out.exit_code == 0, out.output
    doc = json.loads(out.output)
    assert doc["from"] == "2026-10-26" and doc["timezone"] == "America/New_York"
    assert doc["team"]["collected"] == f"{rep.team.collected:.2f}"
    assert doc["team"]["contacts"] == rep.team.contacts
    assert [r["login"] for r in doc["rows"]] == [r.login for r in rep.rows]
    carl = next(r for r in rep.rows if r.login == "carl")
    jcarl = next(r for r in doc["rows"] if r["login"] == "carl")
    assert jcarl["worked_hours"] == f"{carl.worked_minutes / 60:.2f}"
    assert jcarl["by_kind"]["bill"] == {"assigned": carl.by_kind[0].assigned, "done": carl.by_kind[0].done}

    out = run(db_url, "report", "output", *RANGE, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out.output)))
    assert rows[-1]["login"] == "TEAM" and rows[-1]["amount_billed"] == f"{rep.team.amount_billed:.2f}"
    assert {r["login"] for r in rows[:-1]} == {r.login for r in rep.rows}
    assert out.output.splitlines()[0].startswith("from,to,login,name,clients_billed,invoices_issued,")

    md = run(db_url, "report", "output", *RANGE, "--format", "md").output
    assert md.startswith("# Output per clerk, 2026-10-26 to 2026-11-08 (office days, America/New_York)")
    assert "| TEAM" in md and f"${rep.team.collected:,.2f}" in md
    text = run(db_url, "report", "output", *RANGE).output
    assert "Team total" in text and f"${rep.team.amount_billed:,.2f}" in text


def test_byte_stable_and_read_only(db_url: str, office: Office) -> None:
    _setup(office)
    audit_before = office.db.read(lambda s: s.scalar(sa.select(sa.func.count()).select_from(AuditEntry)))
    for fmt in ("text", "md", "csv", "json"):
        a = run(db_url, "report", "output", *RANGE, "--format", fmt)
        b = run(db_url, "report", "output", *RANGE, "--format", fmt)
        assert a.exit_code == b.exit_code == 0
        assert hashlib.sha256(a.output.encode()).digest() == hashlib.sha256(b.output.encode()).digest()
    audit_after = office.db.read(lambda s: s.scalar(sa.select(sa.func.count()).select_from(AuditEntry)))
    assert audit_after == audit_before  # an export never changes anything


def test_a_clerk_gets_only_their_own_row(db_url: str, office: Office) -> None:
    _setup(office)
    out = run(db_url, "report", "output", *RANGE, "--format", "csv", who="cleo")
    assert out.exit_code == 0
    assert [r["login"] for r in csv.DictReader(io.StringIO(out.output))] == ["cleo"]
    out = run(db_url, "report", "output", *RANGE, "--clerk", "carl", who="cleo")
    assert out.exit_code == 1
    assert "cleo may see only their own figures" in out.output
    one = run(db_url, "report", "output", *RANGE, "--clerk", "carl", "--format", "csv")
    assert [r["login"] for r in csv.DictReader(io.StringIO(one.output))] == ["carl"]


def test_bad_input_is_one_clear_line_exit_2(db_url: str, office: Office) -> None:
    _setup(office)
    cases = [
        (["--from", "2026-13-01", "--to", "2026-11-08"], "--from must be a date YYYY-MM-DD"),
        (["--from", "[Smith]", "--to", "2026-11-08"], "--from must be a date YYYY-MM-DD, not '[Smith]'"),
        (["--from", "2026-11-01", "--to", "1e309"], "--to must be a date YYYY-MM-DD"),
        (["--from", "2026-11-08", "--to", "2026-11-01"], "2026-11-01 is before 2026-11-08"),
        (["--from", "2020-01-01", "--to", "2026-11-01"], "at most 400 days"),
        ([*RANGE, "--clerk", "nobody"], "no user 'nobody'"),
    ]
    for args, message in cases:
        out = run(db_url, "report", "output", *args)
        assert out.exit_code == 2, (args, out.output)
        assert message in out.output, (args, out.output)
        assert len(out.output.strip().splitlines()) == 1, out.output
    out = run(db_url, "report", "output", *RANGE, "--format", "pdf")
    assert out.exit_code == 2 and "pdf" in out.output


def test_report_aging_is_the_aging_command_in_every_format(db_url: str, office: Office) -> None:
    _setup(office)
    for fmt in ("text", "md", "csv", "json"):
        a = run(db_url, "report", "aging", "--as-of", "2026-11-16", "--format", fmt)
        b = run(db_url, "aging", "--as-of", "2026-11-16", "--format", fmt)
        assert a.exit_code == 0 and b.exit_code == 0, (a.output, b.output)
        assert a.stdout == b.stdout
    md = run(db_url, "report", "aging", "--format", "md").stdout
    assert md.startswith("## aging as of ") and "|--" in md
    bad = run(db_url, "report", "aging", "--format", "xml")
    assert bad.exit_code == 2 and "Invalid value for '--format'" in bad.output
