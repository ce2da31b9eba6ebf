"""CSV imports: every bad row reported by line, nothing imported, --skip-bad, idempotent re-runs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D
from pathlib import Path

import pytest
import sqlalchemy as sa

from billing import clients, imports
from db.errors import PermissionDenied, ValidationError
from db.models import AuditEntry, Client, ContactChange, ServiceCode
from tests.conftest import Office

CODES_BAD = """\
code,description,fee,active
G0008,Administration of influenza virus vaccine,32.00,yes
E0114,"Crutches, underarm, other than wood, adjustable or fixed, pair,
with pads, tips and handgrips",abc,yes
A0428,,350.00,yes
g0008,Duplicate of line 2,1.00,
J1100,"Injection, dexamethasone sodium phosphate, 1 mg",0.60,maybe
T1013,too few cells
S9443,"Lactation classes, non-physician provider, per session",-55.00,no
"""

CODES_GOOD = """\
code,description,fee,active
G0008,Administration of influenza virus vaccine,32.00,yes
E0114,"Crutches, underarm, other than wood, pair",68.00,
J1100,"Injection, dexamethasone sodium phosphate, 1 mg",0.60,no
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def codes(office: Office) -> list[tuple[str, D, bool]]:
    return office.db.read(
        lambda s: [
            (c.code, c.fee, c.active) for c in s.scalars(sa.select(ServiceCode).order_by(ServiceCode.code))
        ]
    )


def test_bad_rows_are_reported_by_line_and_nothing_is_imported(office: Office, tmp_path: Path) -> None:
    path = write(tmp_path, "codes.csv", CODES_BAD)
    with pytest.raises(imports.ImportRefused) as e:
        office.db.write(lambda s: imports.import_codes(office.sup, s, path))
    # Line 3 holds a quoted field over two lines: a row is reported at the line it starts on.
    assert [(b.line, b.message) for b in e.value.bad_rows] == [
        (3, "fee 'abc' is not an amount (e.g. 12.50)"),
        (5, "description is required"),
        (6, "code G0008 is also on line 2"),
        (7, "active must be yes or no"),
        (8, "has 2 cells but the header has 4"),
        (9, "fee must not be negative"),
    ]
    assert str(e.value).startswith("6 bad rows, nothing imported (line 3: fee 'abc' is not an amount")
    assert codes(office) == []


def test_skip_bad_imports_the_good_rows(office: Office, tmp_path: Path) -> None:
    path = write(tmp_path, "codes.csv", CODES_BAD)
    report = office.db.write(lambda s: imports.import_codes(office.sup, s, path, skip_bad=True))
    assert (report.rows, report.created, report.updated, report.unchanged) == (7, 1, 0, 0)
    assert [b.line for b in report.skipped] == [3, 5, 6, 7, 8, 9]
    assert codes(office) == [("G0008", D("32.00"), True)]


def test_codes_import_is_an_idempotent_upsert(office: Office, tmp_path: Path) -> None:
    path = write(tmp_path, "codes.csv", CODES_GOOD)
    first = office.db.write(lambda s: imports.import_codes(office.sup, s, path))
    assert (first.created, first.updated, first.unchanged) == (3, 0, 0)
    audit_rows = office.db.read(lambda s: s.scalar(sa.select(sa.func.count()).select_from(AuditEntry)))
    again = office.db.write(lambda s: imports.import_codes(office.sup, s, path))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert (
        office.db.read(lambda s: s.scalar(sa.select(sa.func.count()).select_from(AuditEntry))) == audit_rows
    )
    changed = write(
        tmp_path, "codes2.csv", CODES_GOOD.replace("68.00", "70.00").replace("0.60,no", "0.60,yes")
    )
    third = office.db.write(lambda s: imports.import_codes(office.sup, s, changed))
    assert (third.created, third.updated, third.unchanged) == (0, 2, 1)
    assert codes(office) == [
        ("E0114", D("70.00"), True),
        ("G0008", D("32.00"), True),
        ("J1100", D("0.60"), True),
    ]


def test_whole_file_problems(office: Office, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="does not exist"):
        office.db.write(lambda s: imports.import_codes(office.sup, s, tmp_path / "nope.csv"))
    header = write(tmp_path, "h.csv", "code,descr,fee\nG0008,x,1\n")
    with pytest.raises(
        ValidationError, match=r"line 1: unknown column\(s\) 'descr'; missing column\(s\) description"
    ):
        office.db.write(lambda s: imports.import_codes(office.sup, s, header))
    binary = tmp_path / "b.csv"
    binary.write_bytes(b"code,description,fee\nG0008,\xff\xfe,1\n")
    with pytest.raises(ValidationError, match="is not UTF-8 text"):
        office.db.write(lambda s: imports.import_codes(office.sup, s, binary))
    empty = write(tmp_path, "e.csv", "")
    with pytest.raises(ValidationError, match="is empty"):
        office.db.write(lambda s: imports.import_codes(office.sup, s, empty))


def test_imports_need_a_supervisor(office: Office, tmp_path: Path) -> None:
    path = write(tmp_path, "codes.csv", CODES_GOOD)
    with pytest.raises(PermissionDenied):
        office.db.write(lambda s: imports.import_codes(office.clerk, s, path))
    assert codes(office) == []
    people = write(tmp_path, "clients.csv", CLIENTS_CSV)
    with pytest.raises(PermissionDenied) as refused:
        office.db.write(lambda s: imports.import_clients(office.clerk, s, people))
    assert str(refused.value) == "cleo (clerk) may not import clients: a supervisor imports"


CLIENTS_CSV = """\
account_number,first_name,last_name,date_of_birth,address_line1,city,region,postal_code,phone,email,language,owner
,Ana,García,1980-01-02,5 Elm St,Springfield,MA,01103,(413) 555-0142,ana@example.com,es,cleo
A000050,Bo,Tran,1990-05-05,9 Oak St,Holyoke,MA,01040,413-555-0100,,vi,
,Cy,Li,,1 Pine St,Agawam,MA,01001,,,zh,
,Di,Ma,1975-13-01,2 Elm St,Ludlow,MA,01056,,,en,
,Ed,Ng,1966-06-06,3 Elm St,Ludlow,MA,01056,,,en,nobody
,ana,GARCIA,1980-01-02,5 Elm St,Springfield,MA,01103,,,es,
, ,Oz,1970-07-07,4 Elm St,Ludlow,MA,01056,,,en,
"""


def test_clients_import_reports_bad_rows(office: Office, tmp_path: Path) -> None:
    path = write(tmp_path, "clients.csv", CLIENTS_CSV)
    with pytest.raises(imports.ImportRefused) as e:
        office.db.write(lambda s: imports.import_clients(office.sup, s, path))
    assert [(b.line, b.message) for b in e.value.bad_rows] == [
        (4, "date_of_birth is needed when there is no account_number (to find the client on a re-run)"),
        (5, "date_of_birth '1975-13-01' is not a date (YYYY-MM-DD)"),
        (6, "owner 'nobody' is not an active member of staff"),
        (7, "client the same client is also on line 2"),
        (8, "first_name is required"),
    ]
    assert office.db.read(lambda s: s.scalar(sa.select(sa.func.count()).select_from(Client))) == 0


def test_clients_import_upserts_and_keeps_contact_history(office: Office, tmp_path: Path) -> None:
    path = write(tmp_path, "clients.csv", CLIENTS_CSV)
    report = office.db.write(lambda s: imports.import_clients(office.sup, s, path, skip_bad=True))
    assert (report.created, report.updated, report.unchanged, len(report.skipped)) == (2, 0, 0, 5)
    ana = office.db.read(lambda s: clients.search_clients(office.sup, s, "garcia")).rows[0]
    bo = office.db.read(lambda s: clients.get_client_by_account(office.sup, s, "a000050"))
    assert (ana.account_number, ana.owner_login, ana.phone) == ("A000001", "cleo", "413-555-0142")
    assert (bo.first_name, bo.language, bo.date_of_birth) == ("Bo", "vi", dt.date(1990, 5, 5))
    # An imported number in the office's own format is never handed out again.
    new = office.db.write(
        lambda s: clients.register_client(office.clerk, s, first_name="Fay", last_name="Wu")
    )
    assert new.account_number == "A000051"
    # Re-run: nothing changes. Then a new phone for Bo: an update with contact history.
    again = office.db.write(lambda s: imports.import_clients(office.sup, s, path, skip_bad=True))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    moved = write(tmp_path, "c2.csv", CLIENTS_CSV.replace("413-555-0100", "774-555-0111"))
    third = office.db.write(lambda s: imports.import_clients(office.sup, s, moved, skip_bad=True))
    assert (third.created, third.updated, third.unchanged) == (0, 1, 1)
    history = office.db.read(
        lambda s: [(c.field, c.old_value, c.new_value) for c in s.scalars(sa.select(ContactChange))]
    )
    assert history == [("phone", "413-555-0100", "774-555-0111")]
