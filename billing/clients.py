"""Clients: register, edit (with contact history), search as you type, account summary.

Account numbers are the ``billing.account_prefix`` setting (default ``A``) and a zero-padded
number from the ``client`` row of ``number_sequences``, taken inside the registering
transaction with the row locked, so numbers are gap-free and never repeat.

Search (``search_clients``) reads one kind of key, chosen from what was typed:

=============  =====================================  ===========================
typed          searches                               order (and ``after`` key)
=============  =====================================  ===========================
``A00012``     account number prefix                  (account_number,)
``413-55``     phone prefix (digits are enough)       (phone, id)
``W12`` (has   member id prefix on any coverage       (member_id, coverage id)
a digit)
anything else  name prefix: ``Last`` or ``Last, F``   (search_name, id)
=============  =====================================  ===========================

Each is a prefix *range* on an indexed column (``key >= p AND key < p || U+10FFFF``), walked
in index order with a row-value keyset (``(key, id) > after``): no OFFSET, no sort, so a page
costs the same on the first and the thousandth page of 200,000 clients.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVarTuple

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from billing.catalog import office_day, pinned_get, setting
from billing.coverage import CoverageView, list_coverages
from db import audit
from db.coltypes import Money
from db.errors import ConflictError, NotFound, ValidationError
from db.models import (
    BillTo,
    Channel,
    Client,
    ClientStatus,
    ContactChange,
    Coverage,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    NumberSequence,
    PayerSide,
    Payment,
    Role,
    ServiceRendered,
    User,
    name_search_key,
)
from db.money import ZERO
from db.rights import Action, Actor, require
from db.text import has_control_chars

# The columns a statement selects: helpers that add clauses give back the same row shape.
_Row = TypeVarTuple("_Row")

CONTACT_FIELDS = (
    "address_line1",
    "address_line2",
    "city",
    "region",
    "postal_code",
    "phone",
    "email",
    "preferred_channel",
)
OTHER_FIELDS = ("first_name", "last_name", "date_of_birth", "language", "notes", "special_concerns")
AUDIT_FIELDS = ("account_number", *OTHER_FIELDS, *CONTACT_FIELDS, "status", "owner_id")

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
LANG_RE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
PHONE_CHARS_RE = re.compile(r"^\+?[\d\s().-]+(\s*(x|ext\.?)\s*\d{1,6})?$", re.IGNORECASE)
ACCOUNT_DIGITS = 6
TOP = "\U0010ffff"  # above every character a name, phone or id contains: ``p + TOP`` ends a prefix range
OPEN_STATUSES = (InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID)
CHARGE_KINDS = (InvoiceKind.INVOICE, InvoiceKind.STATEMENT, InvoiceKind.FEE)


# --------------------------------------------------------------------------- sequences and locks


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def locked(session: Session, stmt: sa.Select[*_Row]) -> sa.Select[*_Row]:
    """``SELECT … FOR UPDATE`` on PostgreSQL; SQLite needs none (BEGIN IMMEDIATE serialises writers)."""
    stmt = stmt.execution_options(populate_existing=True)
    return stmt.with_for_update() if is_postgres(session) else stmt


def take_sequence_value(session: Session, name: str) -> int:
    """The next value of a gap-free counter, inside the caller's transaction.

    The counter row is locked until commit, so concurrent takers queue; if the transaction rolls
    back, so does the increment, and the number is taken again by the next one: no gap, no repeat.
    """
    stmt = locked(session, sa.select(NumberSequence).where(NumberSequence.name == name))
    row = session.scalars(stmt).one_or_none()
    if row is None:
        # First use: two first takers may race to create the row; ON CONFLICT lets both go on
        # to lock the one row that exists.
        values = {"name": name, "next_value": 1}
        if is_postgres(session):
            session.execute(pg_insert(NumberSequence).values(values).on_conflict_do_nothing())
        else:
            session.execute(sqlite_insert(NumberSequence).values(values).on_conflict_do_nothing())
        row = session.scalars(stmt).one()
    value = row.next_value
    row.next_value = value + 1
    session.flush()
    return value


# --------------------------------------------------------------------------- views


@dataclass(frozen=True)
class ClientView:
    id: int
    account_number: str
    first_name: str
    last_name: str
    date_of_birth: dt.date | None
    address_line1: str
    address_line2: str
    city: str
    region: str
    postal_code: str
    phone: str
    email: str
    preferred_channel: Channel
    language: str
    notes: str
    special_concerns: str
    status: ClientStatus
    owner_id: int | None
    owner_login: str
    owner_name: str
    version: int

    @property
    def display_name(self) -> str:
        return f"{self.last_name}, {self.first_name}".strip(", ")

    @property
    def address_lines(self) -> tuple[str, ...]:
        city_line = " ".join(
            p for p in (f"{self.city}," if self.city else "", self.region, self.postal_code) if p
        )
        return tuple(line for line in (self.address_line1, self.address_line2, city_line.strip(" ,")) if line)


@dataclass(frozen=True)
class ClientRow:
    """One search result."""

    id: int
    account_number: str
    display_name: str
    date_of_birth: dt.date | None
    phone: str
    status: ClientStatus
    owner_login: str
    matched: str  # what matched, for the screen: "member W123…", "phone …", or ""


@dataclass(frozen=True)
class ClientPage:
    rows: tuple[ClientRow, ...]
    next_after: tuple[Any, ...] | None  # pass back as ``after``; None on the last page
    field: SearchField  # how the query was read


@dataclass(frozen=True)
class ContactChangeView:
    id: int
    field: str
    old_value: str
    new_value: str
    changed_by: int
    changed_by_login: str
    changed_at: Any  # pendulum DateTime (UTC)


@dataclass(frozen=True)
class AccountSummary:
    """The account screen's header."""

    client: ClientView
    balance: Decimal  # open balance on the client's own bills (statements, fees)
    overdue: Decimal  # the part of ``balance`` past its due date
    payer_balance: Decimal  # open balance on invoices to payers for this client
    credit: Decimal  # unapplied client payments
    open_invoices: int
    unbilled_services: int
    coverages: tuple[CoverageView, ...]  # in force today, primary first
    warnings: tuple[str, ...]  # stale or missing eligibility, no coverage, missing data


class SearchField(enum.StrEnum):
    AUTO = "auto"
    NAME = "name"
    ACCOUNT = "account"
    PHONE = "phone"
    MEMBER = "member"


class DuplicateClientWarning(ConflictError):
    """Same name and date of birth as an existing client: show it, then register with
    ``allow_duplicate=True`` if it really is a different person."""

    def __init__(self, message: str, matches: tuple[ClientRow, ...]) -> None:
        super().__init__(message)
        self.matches = matches


def _owner_bits(c: Client) -> tuple[str, str]:
    return (c.owner.login, c.owner.name) if c.owner else ("", "")


def client_view(c: Client) -> ClientView:
    login, name = _owner_bits(c)
    return ClientView(
        id=c.id,
        account_number=c.account_number,
        first_name=c.first_name,
        last_name=c.last_name,
        date_of_birth=c.date_of_birth,
        address_line1=c.address_line1,
        address_line2=c.address_line2,
        city=c.city,
        region=c.region,
        postal_code=c.postal_code,
        phone=c.phone,
        email=c.email,
        preferred_channel=c.preferred_channel,
        language=c.language,
        notes=c.notes,
        special_concerns=c.special_concerns,
        status=c.status,
        owner_id=c.owner_id,
        owner_login=login,
        owner_name=name,
        version=c.version,
    )


def _row(c: Client, owner_login: str | None, matched: str = "") -> ClientRow:
    return ClientRow(
        id=c.id,
        account_number=c.account_number,
        display_name=c.display_name,
        date_of_birth=c.date_of_birth,
        phone=c.phone,
        status=c.status,
        owner_login=owner_login or "",
        matched=matched,
    )


# --------------------------------------------------------------------------- validation


def normalize_phone(text: str) -> str:
    """North American numbers become ``413-555-0142`` (so digits typed in search find them);
    others are kept as typed, trimmed. An extension is kept: ``413-555-0142 x12``."""
    text = " ".join(text.strip().split())
    if not text:
        return ""
    m = re.match(r"^(.*?)\s*(?:x|ext\.?)\s*(\d{1,6})$", text, flags=re.IGNORECASE)
    main, ext = (m.group(1), m.group(2)) if m else (text, "")
    international = main.startswith("+") and not main.startswith("+1")
    digits = re.sub(r"\D", "", main)
    if not international and len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    out = f"{digits[:3]}-{digits[3:6]}-{digits[6:]}" if not international and len(digits) == 10 else main
    return f"{out} x{ext}" if ext else out


def _phone_prefix(query: str) -> str:
    """What a typed phone fragment looks like at the start of a stored phone."""
    q = query.strip()
    if q.startswith("+") and not q.startswith("+1"):
        return q
    digits = re.sub(r"\D", "", q)
    if digits.startswith("1"):  # the country code: no North American area code starts with 1
        digits = digits[1:]
    parts = [digits[:3], digits[3:6], digits[6:10]]
    return "-".join(p for p in parts if p)


def _check_name(value: str, field: str, errors: dict[str, str], *, required: bool) -> None:
    if required and not value.strip():
        errors[field] = "is required"
    elif len(value.strip()) > 80:
        errors[field] = "is longer than 80 characters"
    elif has_control_chars(value):
        errors[field] = "has control characters"


def _check_len(
    value: str, field: str, limit: int, errors: dict[str, str], *, multiline: bool = False
) -> None:
    if len(value) > limit:
        errors[field] = f"is longer than {limit} characters"
    elif has_control_chars(value, allow="\n\t" if multiline else ""):
        errors[field] = "has control characters"


def _validate(data: dict[str, Any], errors: dict[str, str], today: dt.date) -> dict[str, Any]:
    """Check and normalise the given fields (only those present); returns the cleaned values."""
    out: dict[str, Any] = {}
    if "first_name" in data:
        # Payers reject claims without a first name: required here, in the form and in imports.
        _check_name(data["first_name"], "first_name", errors, required=True)
        out["first_name"] = " ".join(data["first_name"].split())
    if "last_name" in data:
        _check_name(data["last_name"], "last_name", errors, required=True)
        out["last_name"] = " ".join(data["last_name"].split())
    if "date_of_birth" in data:
        dob = data["date_of_birth"]
        if dob is not None:
            if not isinstance(dob, dt.date):
                errors["date_of_birth"] = "is not a date"
            elif dob > today:
                errors["date_of_birth"] = "is in the future"
            elif dob.year < 1900:
                errors["date_of_birth"] = "is before 1900"
        out["date_of_birth"] = dob
    for field, limit in (
        ("address_line1", 200),
        ("address_line2", 200),
        ("city", 100),
        ("region", 40),
        ("postal_code", 20),
    ):
        if field in data:
            _check_len(data[field], field, limit, errors)
            out[field] = " ".join(data[field].split())
    if "phone" in data:
        phone = data["phone"].strip()
        if phone:
            digits = re.sub(r"\D", "", phone)
            if not PHONE_CHARS_RE.match(phone) or not (7 <= len(digits) <= 20):
                errors["phone"] = "is not a phone number (7 to 15 digits, e.g. 413-555-0142)"
            elif len(phone) > 40:
                errors["phone"] = "is longer than 40 characters"
        out["phone"] = normalize_phone(phone) if "phone" not in errors else phone
    if "email" in data:
        email = data["email"].strip()
        if email and (len(email) > 200 or not EMAIL_RE.match(email)):
            errors["email"] = "is not an e-mail address"
        out["email"] = email
    if "preferred_channel" in data:
        try:
            out["preferred_channel"] = Channel(data["preferred_channel"])
        except ValueError:
            errors["preferred_channel"] = "must be one of " + ", ".join(c.value for c in Channel)
    if "language" in data:
        lang = (data["language"] or "en").strip()
        if not LANG_RE.match(lang):
            errors["language"] = "must be a language code such as en, es, vi, zh"
        out["language"] = lang
    for field in ("notes", "special_concerns"):
        if field in data:
            _check_len(data[field], field, 4000, errors, multiline=True)
            out[field] = data[field].strip()
    return out


def _owner(session: Session, owner_id: int | None, errors: dict[str, str]) -> User | None:
    if owner_id is None:
        return None
    user = session.get(User, owner_id)
    if user is None or not user.active:
        errors["owner"] = "must be an active member of staff"
        return None
    return user


def _today(session: Session) -> dt.date:
    return office_day(session)


# --------------------------------------------------------------------------- register and edit


def get_client_row(session: Session, client_id: int) -> Client:
    client = pinned_get(session, Client, client_id)
    if client is None:
        raise NotFound(f"no client with id {client_id}")
    return client


def find_client(session: Session, account_number: str) -> Client:
    client = session.scalars(
        sa.select(Client).where(Client.account_number == account_number.strip().upper())
    ).one_or_none()
    if client is None:
        raise NotFound(f"no client with account number {account_number.strip()!r}")
    return client


def possible_duplicates(
    session: Session,
    last_name: str,
    first_name: str,
    date_of_birth: dt.date | None,
    *,
    skip_id: int | None = None,
) -> tuple[ClientRow, ...]:
    """Clients with the same (folded) name and date of birth."""
    if date_of_birth is None:
        return ()
    stmt = (
        sa.select(Client, User.login)
        .outerjoin(User, User.id == Client.owner_id)
        .where(
            Client.search_name == name_search_key(last_name, first_name),
            Client.date_of_birth == date_of_birth,
        )
        .order_by(Client.id)
        .limit(10)
    )
    if skip_id is not None:
        stmt = stmt.where(Client.id != skip_id)
    return tuple(_row(c, login) for c, login in session.execute(stmt))


def next_account_number(session: Session) -> str:
    prefix = str(setting(session, "billing.account_prefix"))
    return f"{prefix}{take_sequence_value(session, 'client'):0{ACCOUNT_DIGITS}d}"


def register_client(
    actor: Actor,
    session: Session,
    *,
    first_name: str,
    last_name: str,
    date_of_birth: dt.date | None = None,
    address_line1: str = "",
    address_line2: str = "",
    city: str = "",
    region: str = "",
    postal_code: str = "",
    phone: str = "",
    email: str = "",
    preferred_channel: Channel | str = Channel.PHONE,
    language: str = "en",
    notes: str = "",
    special_concerns: str = "",
    owner_id: int | None = None,
    allow_duplicate: bool = False,
    account_number: str | None = None,
) -> ClientView:
    """Register a new client and give them the next account number.

    Raises ``DuplicateClientWarning`` when a client with the same name and date of birth
    exists, unless ``allow_duplicate``. The owner defaults to the registering clerk
    (continuity); ``account_number`` is only for imports that carry the office's old numbers.
    """
    require(actor, Action.CLIENT_EDIT)
    errors: dict[str, str] = {}
    data = _validate(
        {
            "first_name": first_name,
            "last_name": last_name,
            "date_of_birth": date_of_birth,
            "address_line1": address_line1,
            "address_line2": address_line2,
            "city": city,
            "region": region,
            "postal_code": postal_code,
            "phone": phone,
            "email": email,
            "preferred_channel": preferred_channel,
            "language": language,
            "notes": notes,
            "special_concerns": special_concerns,
        },
        errors,
        _today(session),
    )
    if owner_id is None and actor.role == Role.CLERK:
        owner_id = actor.user_id
    owner = _owner(session, owner_id, errors)
    if account_number is not None:
        account_number = account_number.strip().upper()
        if not re.match(r"^[A-Z0-9-]{1,20}$", account_number):
            errors["account_number"] = "must be 1-20 letters, digits or '-'"
        elif session.scalar(sa.select(Client.id).where(Client.account_number == account_number)):
            errors["account_number"] = f"{account_number} is already taken"
    if errors:
        raise ValidationError.from_fields(errors)
    if not allow_duplicate:
        dupes = possible_duplicates(session, data["last_name"], data["first_name"], data["date_of_birth"])
        if dupes:
            accounts = ", ".join(d.account_number for d in dupes)
            raise DuplicateClientWarning(
                f"{dupes[0].display_name}, born {data['date_of_birth']}, is already registered "
                f"({accounts}); check it is not the same person, then register anyway",
                dupes,
            )
    client = Client(
        account_number=account_number or next_account_number(session),
        search_name=name_search_key(data["last_name"], data["first_name"]),
        owner=owner,
        **data,
    )
    session.add(client)
    session.flush()
    audit.record(session, actor, "client", client.id, "create", None, audit.snapshot(client, AUDIT_FIELDS))
    return client_view(client)


_UNSET: Any = object()


def edit_client(
    actor: Actor,
    session: Session,
    client_id: int,
    *,
    expected_version: int | None,
    changes: dict[str, Any],
) -> ClientView:
    """Change a client's data. ``changes`` maps field → new value (fields of ``OTHER_FIELDS``,
    ``CONTACT_FIELDS``, ``owner_id``). Every contact-field change is kept in the contact history
    (old value, new value, who, when). A stale ``expected_version`` raises ``ConflictError``.
    Changing the owner (moving the account to another clerk) is a supervisor's decision.
    """
    require(actor, Action.CLIENT_EDIT)
    client = get_client_row(session, client_id)
    if expected_version is not None and client.version != expected_version:
        raise ConflictError(
            f"{client.account_number} was changed by someone else since you opened it; reload and try again"
        )
    unknown = set(changes) - set(OTHER_FIELDS) - set(CONTACT_FIELDS) - {"owner_id"}
    if unknown:
        raise ValidationError.from_fields({f: "cannot be changed here" for f in sorted(unknown)})
    errors: dict[str, str] = {}
    data = _validate(changes, errors, _today(session))
    owner: Any = _UNSET
    if "owner_id" in changes and changes["owner_id"] != client.owner_id:
        require(actor, Action.WORK_ASSIGN)
        owner = _owner(session, changes["owner_id"], errors)
    if errors:
        raise ValidationError.from_fields(errors)
    before = audit.snapshot(client, AUDIT_FIELDS)
    history: list[tuple[str, str, str]] = []
    for field, value in data.items():
        old = getattr(client, field)
        if old == value:
            continue
        if field in CONTACT_FIELDS:
            history.append((field, _text(old), _text(value)))
        setattr(client, field, value)
    if owner is not _UNSET:
        client.owner = owner
    if "first_name" in data or "last_name" in data:
        client.search_name = name_search_key(client.last_name, client.first_name)
    for field, old_text, new_text in history:
        session.add(
            ContactChange(
                client_id=client.id,
                field=field,
                old_value=old_text,
                new_value=new_text,
                changed_by=actor.user_id,
            )
        )
    try:
        session.flush()
    except StaleDataError:
        raise ConflictError(
            f"{client.account_number} was changed by someone else at the same time; reload and try again"
        ) from None
    after = audit.snapshot(client, AUDIT_FIELDS)
    if after != before:
        audit.record(session, actor, "client", client.id, "update", before, after)
    return client_view(client)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, enum.Enum):
        return str(value.value)
    return str(value)


def contact_history(
    actor: Actor, session: Session, client_id: int, *, limit: int = 200
) -> tuple[ContactChangeView, ...]:
    """Contact-data corrections, newest first."""
    require(actor, Action.VIEW)
    rows = session.execute(
        sa.select(ContactChange, User.login)
        .join(User, User.id == ContactChange.changed_by)
        .where(ContactChange.client_id == client_id)
        .order_by(ContactChange.changed_at.desc(), ContactChange.id.desc())
        .limit(max(1, min(limit, 1000)))
    ).all()
    return tuple(
        ContactChangeView(r.id, r.field, r.old_value, r.new_value, r.changed_by, login, r.changed_at)
        for r, login in rows
    )


def get_client(actor: Actor, session: Session, client_id: int) -> ClientView:
    require(actor, Action.VIEW)
    return client_view(get_client_row(session, client_id))


def get_client_by_account(actor: Actor, session: Session, account_number: str) -> ClientView:
    require(actor, Action.VIEW)
    return client_view(find_client(session, account_number))


# --------------------------------------------------------------------------- search


def classify_query(session: Session, query: str) -> SearchField:
    q = query.strip()
    if not q:
        return SearchField.NAME
    prefix = re.escape(str(setting(session, "billing.account_prefix")))
    if re.fullmatch(rf"{prefix}\d+", q, flags=re.IGNORECASE):
        return SearchField.ACCOUNT
    if re.fullmatch(r"\+?[\d\s().-]+", q) and len(re.sub(r"\D", "", q)) >= 3:
        return SearchField.PHONE
    if re.search(r"\d", q) and re.fullmatch(r"[A-Za-z0-9 -]+", q):
        return SearchField.MEMBER
    return SearchField.NAME


def _key(session: Session, col: Any) -> Any:
    # The search indexes are built with COLLATE "C" on PostgreSQL; comparing and ordering under
    # the same collation lets the planner walk them. SQLite compares bytes anyway.
    return col.collate("C") if is_postgres(session) else col


def search_clients(
    actor: Actor,
    session: Session,
    query: str = "",
    *,
    field: SearchField | str = SearchField.AUTO,
    after: tuple[Any, ...] | None = None,
    limit: int = 50,
    statuses: Collection[ClientStatus] | None = None,
    owner_id: int | None = None,
) -> ClientPage:
    """One page of clients matching what was typed, in key order (see the module notes).

    ``after`` is the ``next_after`` of the previous page; an empty query lists everyone by name.
    """
    require(actor, Action.VIEW)
    limit = max(1, min(limit, 500))
    f = SearchField(field)
    if f == SearchField.AUTO:
        f = classify_query(session, query)
    q = query.strip()
    stmt: sa.Select[*tuple[Any, ...]]
    if f == SearchField.MEMBER:
        member = " ".join(q.upper().split())
        key = _key(session, Coverage.member_id)
        stmt = (
            sa.select(Client, User.login, Coverage.member_id, Coverage.id)
            .join(Coverage, Coverage.client_id == Client.id)
            .where(key >= member, key < member + TOP)
            .order_by(key, Coverage.id)
        )
        if after is not None:
            stmt = stmt.where(sa.tuple_(key, Coverage.id) > sa.tuple_(*after))
    elif f == SearchField.ACCOUNT:
        acct = q.upper()
        # Account numbers are letters and digits only: a range is an exact prefix in any collation,
        # so the unique index on account_number serves it as is.
        stmt = (
            sa.select(Client, User.login)
            .where(Client.account_number >= acct, Client.account_number < acct + TOP)
            .order_by(Client.account_number)
        )
        if after is not None:
            stmt = stmt.where(Client.account_number > after[0])
    elif f == SearchField.PHONE:
        p = _phone_prefix(q)
        key = _key(session, Client.phone)
        stmt = sa.select(Client, User.login).where(key >= p, key < p + TOP).order_by(key, Client.id)
        if after is not None:
            stmt = stmt.where(sa.tuple_(key, Client.id) > sa.tuple_(*after))
    else:
        # "Last, First" and "Last First" both become the folded "last first" prefix.
        p = name_search_key(*q.split(",", 1)) if "," in q else name_search_key(q, "")
        key = _key(session, Client.search_name)
        stmt = sa.select(Client, User.login).order_by(key, Client.id)
        if p:
            stmt = stmt.where(key >= p, key < p + TOP)
        if after is not None:
            stmt = stmt.where(sa.tuple_(key, Client.id) > sa.tuple_(*after))
    stmt = stmt.outerjoin(User, User.id == Client.owner_id)
    if statuses:
        stmt = stmt.where(Client.status.in_(list(statuses)))
    if owner_id is not None:
        stmt = stmt.where(Client.owner_id == owner_id)
    rows = session.execute(stmt.limit(limit + 1)).all()
    page = rows[:limit]
    out: list[ClientRow] = []
    for r in page:
        c, login = r[0], r[1]
        matched = ""
        if f == SearchField.MEMBER:
            matched = f"member {r[2]}"
        elif f == SearchField.PHONE:
            matched = f"phone {c.phone}"
        out.append(_row(c, login, matched))
    next_after: tuple[Any, ...] | None = None
    if len(rows) > limit and page:
        last = page[-1]
        c = last[0]
        if f == SearchField.MEMBER:
            next_after = (last[2], last[3])
        elif f == SearchField.ACCOUNT:
            next_after = (c.account_number,)
        elif f == SearchField.PHONE:
            next_after = (c.phone, c.id)
        else:
            next_after = (c.search_name, c.id)
    return ClientPage(tuple(out), next_after, f)


# --------------------------------------------------------------------------- account summary


def account_summary(actor: Actor, session: Session, client_id: int) -> AccountSummary:
    """Balance, coverage and eligibility for the account screen's header (a handful of queries)."""
    require(actor, Action.VIEW)
    client = get_client_row(session, client_id)
    today = _today(session)
    # One grouped query on the client's own invoices. A separate "due_date < today" query
    # tempted SQLite's planner onto the (status, due_date) index, scanning every open invoice
    # of the office: 5.8 s at 2M invoices, against milliseconds through the client index.
    open_balance = Invoice.total - Invoice.amount_paid - Invoice.amount_adjusted
    sums: dict[BillTo, tuple[Decimal, Decimal, int]] = {}
    for bill_to, bal, late, n in session.execute(
        sa.select(
            Invoice.bill_to,
            sa.type_coerce(sa.func.coalesce(sa.func.sum(open_balance), 0), Money),
            sa.type_coerce(
                sa.func.coalesce(sa.func.sum(sa.case((Invoice.due_date < today, open_balance), else_=0)), 0),
                Money,
            ),
            # Open bills: a $0.00 invoice (a payer that owes nothing) is not one.
            sa.func.coalesce(sa.func.sum(sa.case((open_balance > ZERO, 1), else_=0)), 0),
        )
        .where(
            Invoice.client_id == client_id,
            Invoice.status.in_(OPEN_STATUSES),
            Invoice.kind.in_(CHARGE_KINDS),
        )
        .group_by(Invoice.bill_to)
    ):
        sums[BillTo(bill_to)] = (bal, late, int(n))
    balance, overdue, own_count = sums.get(BillTo.CLIENT, (ZERO, ZERO, 0))
    payer_balance, _, payer_count = sums.get(BillTo.PAYER, (ZERO, ZERO, 0))
    open_count = own_count + payer_count
    credit = session.scalar(
        sa.select(sa.type_coerce(sa.func.coalesce(sa.func.sum(Payment.unapplied), 0), Money)).where(
            Payment.side == PayerSide.CLIENT, Payment.client_id == client_id
        )
    )
    unbilled = (
        session.scalar(
            sa.select(sa.func.count()).where(
                ServiceRendered.client_id == client_id,
                ServiceRendered.billed.is_(False),
                ServiceRendered.voided.is_(False),
            )
        )
        or 0
    )
    coverages = list_coverages(actor, session, client_id, include_ended=False)
    warnings: list[str] = []
    for cov in coverages:
        if not cov.eligibility.ok_to_bill or cov.eligibility.override_until is not None:
            warnings.append(f"{cov.rank.value} {cov.payer_name}: {cov.eligibility.message}")
    if not coverages:
        warnings.append("no coverage in force: services are billed to the client at the catalog fee")
    if client.date_of_birth is None:
        warnings.append("date of birth missing (needed on invoices to payers)")
    if not (client.address_line1 and client.city):
        warnings.append("address incomplete (needed to send statements)")
    return AccountSummary(
        client=client_view(client),
        balance=balance,
        overdue=overdue,
        payer_balance=payer_balance,
        credit=credit if credit is not None else ZERO,
        open_invoices=open_count,
        unbilled_services=unbilled,
        coverages=coverages,
        warnings=tuple(warnings),
    )
