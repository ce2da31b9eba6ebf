"""CSV imports of the code catalog and of clients (``clerkdesk import codes|clients FILE``).

Both read UTF-8 CSV with a header row (a byte-order mark is fine) in two passes: the first
validates every row and reports each bad one by its line number in the file and why; the
second applies the good rows. If any row is bad nothing is imported, unless ``skip_bad``,
which imports the good rows and reports the bad ones. A re-run of the same file changes
nothing: rows are matched to what exists (upsert) and unchanged rows are counted, not written.

Codes (key: ``code``)::

    code,description,fee[,active]
    G0008,Administration of influenza virus vaccine,32.00,yes

Clients (key: ``account_number`` when given; else last name + first name + date of birth,
which must then name at most one client)::

    account_number,first_name,last_name,date_of_birth,address_line1,address_line2,city,region,
    postal_code,phone,email,preferred_channel,language,notes,special_concerns,owner

Only ``first_name`` and ``last_name`` columns are required; a column left out is left alone
on update. ``owner`` is a staff login. Changes to contact fields go to the contact history.
Importing needs a supervisor (``Action.CATALOG_EDIT``).
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import sqlalchemy as sa
from sqlalchemy.orm import Session

from billing.catalog import CODE_FIELDS, normalize_code, office_day, setting, validate_code_fields
from billing.clients import (
    CONTACT_FIELDS,
    OTHER_FIELDS,
    _validate,
    edit_client,
    register_client,
)
from db import audit
from db.errors import PermissionDenied, ValidationError
from db.models import Client, NumberSequence, ServiceCode, User, name_search_key
from db.rights import Action, Actor, require

TRUE = {"yes", "y", "true", "1", ""}
FALSE = {"no", "n", "false", "0"}
CODE_COLUMNS = ("code", "description", "fee", "active")
CLIENT_COLUMNS = ("account_number", *OTHER_FIELDS, *CONTACT_FIELDS, "owner")
MAX_SHOWN = 20


@dataclass(frozen=True)
class BadRow:
    line: int  # line number in the file (the header is line 1)
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass(frozen=True)
class ImportReport:
    what: str  # "codes" or "clients"
    rows: int  # data rows read
    created: int
    updated: int
    unchanged: int
    skipped: tuple[BadRow, ...]  # bad rows left out (only with skip_bad)

    @property
    def summary(self) -> str:
        text = f"{self.what}: {self.rows} rows, {self.created} created, {self.updated} updated, {self.unchanged} unchanged"
        if self.skipped:
            text += f", {len(self.skipped)} bad rows skipped"
        return text


class ImportRefused(ValidationError):
    """Some rows are bad and ``skip_bad`` was not given: nothing was imported."""

    def __init__(self, what: str, bad: list[BadRow]) -> None:
        shown = "; ".join(str(b) for b in bad[:MAX_SHOWN])
        more = f"; and {len(bad) - MAX_SHOWN} more" if len(bad) > MAX_SHOWN else ""
        super().__init__(
            f"{len(bad)} bad rows, nothing imported ({shown}{more})",
            {f"line {b.line}": b.message for b in bad},
        )
        self.what = what
        self.bad_rows = tuple(bad)


Opener = Callable[[], TextIO]


def _opener(source: Path | str) -> Opener:
    path = Path(source)
    if not path.is_file():
        raise ValidationError.from_fields({"file": f"{path} does not exist or is not a file"})

    def open_it() -> TextIO:
        return path.open(newline="", encoding="utf-8-sig")

    return open_it


def _rows(
    open_it: Opener, allowed: tuple[str, ...], required: tuple[str, ...]
) -> Iterator[tuple[int, dict[str, str] | str]]:
    """(line number, row) pairs; a row that cannot be read at all comes as (line, why)."""
    try:
        with open_it() as fh:
            reader = csv.reader(fh)
            try:
                header = next(reader)
            except StopIteration:
                raise ValidationError.from_fields({"file": "is empty (a header row is needed)"}) from None
            names = [h.strip().lower() for h in header]
            unknown = [n for n in names if n not in allowed]
            missing = [r for r in required if r not in names]
            dupes = sorted({n for n in names if names.count(n) > 1})
            if unknown or missing or dupes:
                why = []
                if unknown:
                    why.append(f"unknown column(s) {', '.join(map(repr, unknown))}")
                if missing:
                    why.append(f"missing column(s) {', '.join(missing)}")
                if dupes:
                    why.append(f"repeated column(s) {', '.join(dupes)}")
                raise ValidationError.from_fields(
                    {"header": f"line 1: {'; '.join(why)} (columns are: {', '.join(allowed)})"}
                )
            start = reader.line_num + 1
            for cells in reader:
                line, start = start, reader.line_num + 1
                if not any(c.strip() for c in cells):
                    continue  # blank line
                if len(cells) != len(names):
                    yield line, f"has {len(cells)} cells but the header has {len(names)}"
                    continue
                yield line, {n: c for n, c in zip(names, cells, strict=True)}
    except UnicodeDecodeError as e:
        raise ValidationError.from_fields(
            {"file": f"is not UTF-8 text ({e.reason} at byte {e.start})"}
        ) from None
    except csv.Error as e:
        raise ValidationError.from_fields({"file": f"is not valid CSV: {e}"}) from None


def _why(errors: dict[str, str]) -> str:
    return "; ".join(f"{k} {v}" for k, v in errors.items())


def _finish(what: str, bad: list[BadRow], skip_bad: bool) -> None:
    if bad and not skip_bad:
        raise ImportRefused(what, bad)


# --------------------------------------------------------------------------- codes


def import_codes(
    actor: Actor, session: Session, source: Path | str, *, skip_bad: bool = False
) -> ImportReport:
    """Upsert the service code catalog from a CSV file (see the module notes)."""
    require(actor, Action.CATALOG_EDIT)
    open_it = _opener(source)
    bad: list[BadRow] = []
    good: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    rows = 0
    for line, row in _rows(open_it, CODE_COLUMNS, ("code", "description", "fee")):
        rows += 1
        if isinstance(row, str):
            bad.append(BadRow(line, row))
            continue
        errors: dict[str, str] = {}
        fee = validate_code_fields(row["code"], row["description"], row["fee"], errors)
        if not row["fee"].strip():
            errors["fee"] = "is required"
        active_text = row.get("active", "").strip().lower()
        if active_text not in TRUE | FALSE:
            errors["active"] = "must be yes or no"
        code = normalize_code(row["code"])
        if code in seen:
            errors["code"] = f"{code} is also on line {seen[code]}"
        if errors:
            bad.append(BadRow(line, _why(errors)))
            continue
        seen[code] = line
        good.append(
            {
                "code": code,
                "description": row["description"].strip(),
                "fee": fee,
                "active": active_text in TRUE,
                "has_active": "active" in row,
            }
        )
    _finish("codes", bad, skip_bad)

    created = updated = unchanged = 0
    existing = {
        c.code: c for c in session.scalars(sa.select(ServiceCode).where(ServiceCode.code.in_(list(seen))))
    }
    for g in good:
        row_obj = existing.get(g["code"])
        if row_obj is None:
            sc = ServiceCode(code=g["code"], description=g["description"], fee=g["fee"], active=g["active"])
            session.add(sc)
            session.flush()
            audit.record(
                session, actor, "service_code", sc.id, "import", None, audit.snapshot(sc, CODE_FIELDS)
            )
            created += 1
            continue
        before = audit.snapshot(row_obj, CODE_FIELDS)
        row_obj.description = g["description"]
        row_obj.fee = g["fee"]
        if g["has_active"]:
            row_obj.active = g["active"]
        after = audit.snapshot(row_obj, CODE_FIELDS)
        if after == before:
            unchanged += 1
        else:
            session.flush()
            audit.record(session, actor, "service_code", row_obj.id, "import", before, after)
            updated += 1
    session.flush()
    return ImportReport("codes", rows, created, updated, unchanged, tuple(bad))


# --------------------------------------------------------------------------- clients


def _parse_date(text: str, errors: dict[str, str]) -> dt.date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        errors["date_of_birth"] = f"{text!r} is not a date (YYYY-MM-DD)"
        return None


def _bump_sequence(session: Session, account_number: str) -> None:
    """An imported number in our own format must never be handed out again by registration."""
    prefix = re.escape(str(setting(session, "billing.account_prefix")))
    m = re.fullmatch(rf"{prefix}(\d+)", account_number)
    if not m:
        return
    n = int(m.group(1))
    seq = session.get(NumberSequence, "client")
    if seq is None:
        session.add(NumberSequence(name="client", next_value=n + 1))
    elif seq.next_value <= n:
        seq.next_value = n + 1
    session.flush()


def import_clients(
    actor: Actor, session: Session, source: Path | str, *, skip_bad: bool = False
) -> ImportReport:
    """Upsert clients from a CSV file (see the module notes)."""
    if not actor.can(Action.CATALOG_EDIT):  # the catalog right, but say what was refused
        raise PermissionDenied(
            f"{actor.login} ({actor.role.value}) may not import clients: a supervisor imports"
        )
    require(actor, Action.CLIENT_EDIT)
    open_it = _opener(source)
    today = office_day(session)
    logins = {u.login: u for u in session.scalars(sa.select(User))}
    bad: list[BadRow] = []
    good: list[tuple[int, dict[str, Any], int | None]] = []  # (line, data, existing client id)
    seen_keys: dict[Any, int] = {}
    rows = 0
    for line, row in _rows(open_it, CLIENT_COLUMNS, ("first_name", "last_name")):
        rows += 1
        if isinstance(row, str):
            bad.append(BadRow(line, row))
            continue
        errors: dict[str, str] = {}
        raw: dict[str, Any] = {
            k: v for k, v in row.items() if k not in ("account_number", "owner", "date_of_birth")
        }
        if "date_of_birth" in row:
            raw["date_of_birth"] = _parse_date(row["date_of_birth"], errors)
        if "preferred_channel" in raw and not raw["preferred_channel"].strip():
            raw["preferred_channel"] = "phone"
        data = _validate(raw, errors, today)
        owner_login = row.get("owner", "").strip()
        if owner_login:
            user = logins.get(owner_login)
            if user is None or not user.active:
                errors["owner"] = f"{owner_login!r} is not an active member of staff"
            else:
                data["owner_id"] = user.id
        account = row.get("account_number", "").strip().upper()
        if account and not re.fullmatch(r"[A-Z0-9-]{1,20}", account):
            errors["account_number"] = "must be 1-20 letters, digits or '-'"
        existing_id: int | None = None
        key: Any = None
        if not errors:
            if account:
                key = ("acct", account)
                existing_id = session.scalar(sa.select(Client.id).where(Client.account_number == account))
            elif data.get("date_of_birth") is None:
                errors["date_of_birth"] = (
                    "is needed when there is no account_number (to find the client on a re-run)"
                )
            else:
                skey = name_search_key(data["last_name"], data["first_name"])
                key = ("name", skey, data["date_of_birth"])
                ids = session.scalars(
                    sa.select(Client.id)
                    .where(Client.search_name == skey, Client.date_of_birth == data["date_of_birth"])
                    .limit(2)
                ).all()
                if len(ids) > 1:
                    errors["client"] = (
                        "several clients have this name and date of birth; give the account_number"
                    )
                existing_id = ids[0] if ids else None
        if key is not None and key in seen_keys and not errors:
            errors["client"] = f"the same client is also on line {seen_keys[key]}"
        if errors:
            bad.append(BadRow(line, _why(errors)))
            continue
        seen_keys[key] = line
        if account:
            data["account_number"] = account
        good.append((line, data, existing_id))
    _finish("clients", bad, skip_bad)

    created = updated = unchanged = 0
    for _line, data, existing_id in good:
        account = data.pop("account_number", None)
        if existing_id is None:
            if account:
                _bump_sequence(session, account)
            register_client(actor, session, allow_duplicate=True, account_number=account, **data)
            created += 1
            continue
        client = session.get(Client, existing_id)
        assert client is not None
        changes = {k: v for k, v in data.items() if getattr(client, k) != v}
        if not changes:
            unchanged += 1
            continue
        edit_client(actor, session, existing_id, expected_version=None, changes=changes)
        updated += 1
    session.flush()
    return ImportReport("clients", rows, created, updated, unchanged, tuple(bad))
