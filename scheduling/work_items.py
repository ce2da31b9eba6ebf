"""The day's work items (docs/assignment.md): generation, priority, lists, finishing, change marker.

* ``generate_items(day)`` creates the day's items from the tables, idempotently: each item has
  a ``source_key`` (``bill:client:12``, ``chase:invoice:55``, ``verify:coverage:9``,
  ``installment:33``, ``dispute:7``) unique per day, so a second run creates nothing new.
* Open items of earlier days whose reason still holds are carried over: a new item for the day
  with ``carried_from_id`` and the original ``origin_day`` (so its age, and its priority,
  keep rising); the old item becomes ``carried``. An earlier open item whose reason is gone
  (services billed, invoice paid, dispute decided) becomes ``cancelled`` with the note
  "resolved before it was worked" and is counted in the result: nothing is silently dropped.
* Accounts placed with an agency (active placement, or status in collections) get no items.
* Priority = kind + age + amount + due + promise, integer points (docs/assignment.md); every
  row carries the terms so a screen can show them.
* Change marker: one row per day in ``work_days``; its ``marker`` is bumped (in the same
  transaction) by every change of the day's assignments: generate, assign, move, unassign,
  finish, plan apply/undo, publish, away. ``change_marker(day)`` reads it by primary key,
  cheap enough to poll every second.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pendulum
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased

from db import audit
from db.coltypes import Money
from db.errors import ConflictError, NotFound, PermissionDenied, ValidationError
from db.models import (
    Assignment,
    BillTo,
    Client,
    ClientStatus,
    ContactAttempt,
    ContactOutcome,
    Coverage,
    CoverageRank,
    Dispute,
    DisputeStatus,
    DunningEvent,
    DunningLevel,
    EligibilityCheck,
    Installment,
    InstallmentStatus,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    Payer,
    Payment,
    PaymentPlan,
    Placement,
    PlacementStatus,
    PlanStatus,
    ServiceCode,
    ServiceRendered,
    User,
    WorkDay,
    WorkItem,
    WorkKind,
    WorkOutcome,
    WorkStatus,
    name_search_key,
)
from db.money import ZERO, fmt_money, to_money
from db.rights import Action, Actor, require
from db.settings import get_setting, office_timezone
from db.timeutil import now, office_today

# Points of the priority formula (docs/assignment.md).
KIND_POINTS: dict[WorkKind, int] = {
    WorkKind.DISPUTE: 60,
    WorkKind.CHASE: 50,
    WorkKind.INSTALLMENT: 40,
    WorkKind.BILL: 30,
    WorkKind.VERIFY: 20,
}
AGE_POINTS_PER_DAY = 15
AGE_POINTS_MAX = 150
AMOUNT_POINTS_PER = Decimal("25.00")  # one point per $25 at stake
AMOUNT_POINTS_MAX = 200
DUE_POINTS_AT_DUE = 20  # reached on the due date
DUE_POINTS_PER_DAY = 3  # and per day past it
DUE_POINTS_MAX = 200
PROMISE_POINTS = 150  # a broken promise to pay

MAX_DAYS_AHEAD = 14  # generate/plan at most this far ahead of today
MAX_DAYS_BACK = 7  # and at most this far back
MAX_NOTE = 500
CHUNK = 500  # ids per IN (...) list

# Payer kinds that need the clerk's skill; a client-side item needs none.
SKILLED_PAYER_KINDS = frozenset({"insurer", "government", "employer", "other"})
OPEN_INVOICE = (InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID)
CHASED_KINDS = (InvoiceKind.INVOICE, InvoiceKind.STATEMENT, InvoiceKind.FEE)


# --------------------------------------------------------------------------- priority


@dataclass(frozen=True)
class PriorityTerms:
    """The priority formula term by term (integer points)."""

    kind: int
    age: int
    amount: int
    due: int
    promise: int

    @property
    def total(self) -> int:
        return self.kind + self.age + self.amount + self.due + self.promise

    def explain(self) -> str:
        """``"kind 50 + age 30 + amount 40 + due 26 + promise 150 = 296"``."""
        return (
            f"kind {self.kind} + age {self.age} + amount {self.amount} + due {self.due}"
            f" + promise {self.promise} = {self.total}"
        )

    def as_dict(self) -> dict[str, int]:
        return {
            "kind": self.kind,
            "age": self.age,
            "amount": self.amount,
            "due": self.due,
            "promise": self.promise,
        }


def priority_terms(
    kind: WorkKind,
    day: dt.date,
    origin_day: dt.date,
    amount: Decimal,
    due_date: dt.date | None,
    broken_promise: bool,
) -> PriorityTerms:
    """The formula (pure). ``age`` = days from ``origin_day`` to ``day``; ``due`` counts from
    ``due_date`` (nothing before it); ``amount`` is what is at stake on the account."""
    age_days = max(0, (day - origin_day).days)
    age = min(AGE_POINTS_MAX, AGE_POINTS_PER_DAY * age_days)
    amount_pts = min(AMOUNT_POINTS_MAX, int(max(ZERO, amount) // AMOUNT_POINTS_PER))
    due = 0
    if due_date is not None and due_date <= day:
        due = min(DUE_POINTS_MAX, DUE_POINTS_AT_DUE + DUE_POINTS_PER_DAY * (day - due_date).days)
    return PriorityTerms(
        kind=KIND_POINTS[kind],
        age=age,
        amount=amount_pts,
        due=due,
        promise=PROMISE_POINTS if broken_promise else 0,
    )


def _terms_from(data: dict[str, int] | None) -> PriorityTerms:
    d = data or {}
    return PriorityTerms(
        kind=int(d.get("kind", 0)),
        age=int(d.get("age", 0)),
        amount=int(d.get("amount", 0)),
        due=int(d.get("due", 0)),
        promise=int(d.get("promise", 0)),
    )


# --------------------------------------------------------------------------- views


@dataclass(frozen=True)
class ItemRow:
    """One work item with its assignment, for lists, previews and the clerk's day."""

    id: int
    version: int  # pass back to assign/move/unassign/finish (stale → ConflictError)
    day: dt.date
    kind: WorkKind
    status: WorkStatus
    client_id: int
    account_number: str
    client_name: str
    invoice_id: int | None
    invoice_number: str | None
    summary: str  # e.g. "3 unbilled services since 2026-11-20"
    amount: Decimal
    due_date: dt.date | None
    origin_day: dt.date  # first day the item appeared (carried items keep it)
    age_days: int
    priority: int
    terms: PriorityTerms
    effort_minutes: int
    needs: tuple[str, ...]  # skills required, e.g. ("government", "lang:es")
    owner_id: int | None
    owner_login: str | None
    assignee_id: int | None
    assignee_login: str | None
    manual: bool  # assigned by hand: kept through a re-plan
    published: bool  # the clerk sees it
    outcome: WorkOutcome | None
    outcome_note: str
    finished_at_local: str | None  # "HH:MM" office time
    carried: bool  # carried over from an earlier day

    @property
    def finished(self) -> bool:
        return self.outcome is not None


def needs_of(payer_kind: str, language: str) -> tuple[str, ...]:
    """The skills an item needs, in ``User.skills`` spelling."""
    out: list[str] = []
    if payer_kind:
        out.append(payer_kind)
    if language:
        out.append(f"lang:{language}")
    return tuple(out)


class ItemSort(enum.StrEnum):
    PRIORITY = "priority"  # priority desc, id
    KIND = "kind"  # kind, priority desc, id
    AGE = "age"  # origin day asc (oldest first), priority desc, id
    AMOUNT = "amount"  # amount desc, id


class AssignedFilter(enum.StrEnum):
    ALL = "all"
    UNASSIGNED = "unassigned"
    ASSIGNED = "assigned"
    OPEN = "open"  # not finished (assigned or not)
    FINISHED = "finished"


# The keyset key of a row under a sort: a tuple of the sort values and the id (opaque to callers).
ItemKey = tuple[object, ...]


@dataclass(frozen=True)
class ItemPage:
    rows: tuple[ItemRow, ...]
    next_after: ItemKey | None  # pass as ``after`` for the next page; None on the last page
    total: int  # rows matching the filter (one count query over the day)


_Owner = aliased(User, name="owner_user")
_Assignee = aliased(User, name="assignee_user")


def _row_select() -> sa.Select[*tuple[Any, ...]]:
    return (
        sa.select(
            WorkItem,
            Client.account_number,
            Client.last_name,
            Client.first_name,
            Client.owner_id,
            _Owner.login,
            Invoice.number,
            Assignment,
            _Assignee.login,
        )
        .join(Client, Client.id == WorkItem.client_id)
        .outerjoin(_Owner, _Owner.id == Client.owner_id)
        .outerjoin(Invoice, Invoice.id == WorkItem.invoice_id)
        .outerjoin(Assignment, Assignment.work_item_id == WorkItem.id)
        .outerjoin(_Assignee, _Assignee.id == Assignment.user_id)
    )


def _to_row(r: Any, tz: str) -> ItemRow:
    wi: WorkItem = r[0]
    asg: Assignment | None = r[7]
    origin = wi.origin_day or wi.day
    finished = None
    if asg is not None and asg.finished_at is not None:
        finished = pendulum.instance(asg.finished_at).in_timezone(tz).format("HH:mm")
    name = f"{r[2]}, {r[3]}".strip(", ")
    return ItemRow(
        id=wi.id,
        version=wi.version,
        day=wi.day,
        kind=wi.kind,
        status=wi.status,
        client_id=wi.client_id,
        account_number=r[1],
        client_name=name,
        invoice_id=wi.invoice_id,
        invoice_number=r[6],
        summary=wi.summary,
        amount=wi.amount,
        due_date=wi.due_date,
        origin_day=origin,
        age_days=max(0, (wi.day - origin).days),
        priority=wi.priority,
        terms=_terms_from(wi.priority_terms),
        effort_minutes=wi.effort_minutes,
        needs=needs_of(wi.payer_kind, wi.language),
        owner_id=r[4],
        owner_login=r[5],
        assignee_id=asg.user_id if asg is not None else None,
        assignee_login=r[8],
        manual=bool(asg.manual) if asg is not None else False,
        published=bool(asg.published) if asg is not None else False,
        outcome=asg.outcome if asg is not None else None,
        outcome_note=asg.outcome_note if asg is not None else "",
        finished_at_local=finished,
        carried=wi.carried_from_id is not None,
    )


def item_rows(session: Session, ids: Iterable[int]) -> dict[int, ItemRow]:
    """Rows for the given item ids (no rights check: for services of this package)."""
    tz = office_timezone(session)
    out: dict[int, ItemRow] = {}
    id_list = sorted(set(ids))
    for i in range(0, len(id_list), CHUNK):
        chunk = id_list[i : i + CHUNK]
        for r in session.execute(_row_select().where(WorkItem.id.in_(chunk))):
            out[r[0].id] = _to_row(r, tz)
    return out


def day_rows(session: Session, day: dt.date, *, open_only: bool = False) -> list[ItemRow]:
    """Every item of a day (for planning; a day holds hundreds to a few thousand)."""
    tz = office_timezone(session)
    stmt = _row_select().where(WorkItem.day == day)
    if open_only:
        stmt = stmt.where(WorkItem.status == WorkStatus.OPEN)
    return [_to_row(r, tz) for r in session.execute(stmt.order_by(WorkItem.priority.desc(), WorkItem.id))]


def _origin() -> sa.ColumnElement[dt.date]:
    return sa.func.coalesce(WorkItem.origin_day, WorkItem.day)


# A sort column: a mapped attribute or an expression such as coalesce(origin_day, day).
_SortCol = sa.ColumnElement[Any] | InstrumentedAttribute[Any]


def _sort_cols(sort: ItemSort) -> list[tuple[_SortCol, bool]]:
    """(column, descending) in order; the id (ascending) always closes the key."""
    pri = (WorkItem.priority, True)
    if sort == ItemSort.KIND:
        return [(WorkItem.kind, False), pri]
    if sort == ItemSort.AGE:
        return [(_origin(), False), pri]
    if sort == ItemSort.AMOUNT:
        return [(WorkItem.amount, True)]
    return [pri]


def _key_of(row: ItemRow, sort: ItemSort) -> ItemKey:
    if sort == ItemSort.KIND:
        return (row.kind.value, row.priority, row.id)
    if sort == ItemSort.AGE:
        return (row.origin_day, row.priority, row.id)
    if sort == ItemSort.AMOUNT:
        return (row.amount, row.id)
    return (row.priority, row.id)


def _after(cols: list[tuple[_SortCol, bool]], key: ItemKey) -> sa.ColumnElement[bool]:
    """Rows strictly after ``key`` in the order of ``cols`` then id ascending."""
    if len(key) != len(cols) + 1:
        raise ValidationError("The page key does not match the sort; reload the list.")
    cond: sa.ColumnElement[bool] = WorkItem.id > key[-1]
    for (col, desc), value in reversed(list(zip(cols, key[:-1], strict=True))):
        beyond = col < value if desc else col > value
        cond = sa.or_(beyond, sa.and_(col == value, cond))
    return cond


def _filters(
    day: dt.date, filter_text: str, assigned: AssignedFilter, user_id: int | None
) -> list[sa.ColumnElement[bool]]:
    where: list[sa.ColumnElement[bool]] = [WorkItem.day == day]
    text = " ".join(filter_text.split())[:80]
    if text:
        folded = name_search_key(text, "")
        low = text.casefold()
        options: list[sa.ColumnElement[bool]] = [
            Client.search_name.contains(folded, autoescape=True),
            sa.func.lower(Client.account_number).startswith(low, autoescape=True),
            sa.func.lower(_Assignee.login).startswith(low, autoescape=True),
        ]
        kinds = [k for k in WorkKind if k.value.startswith(low)]
        if kinds:
            options.append(WorkItem.kind.in_(kinds))
        where.append(sa.or_(*options))
    if assigned == AssignedFilter.UNASSIGNED:
        where.append(Assignment.id.is_(None))
    elif assigned == AssignedFilter.ASSIGNED:
        where.append(Assignment.id.is_not(None))
    elif assigned == AssignedFilter.OPEN:
        where.append(WorkItem.status == WorkStatus.OPEN)
    elif assigned == AssignedFilter.FINISHED:
        where.append(Assignment.finished_at.is_not(None))
    if user_id is not None:
        where.append(Assignment.user_id == user_id)
    return where


def list_items(
    actor: Actor,
    session: Session,
    day: dt.date,
    *,
    after: ItemKey | None = None,
    limit: int = 50,
    filter_text: str = "",
    sort: ItemSort = ItemSort.PRIORITY,
    assigned: AssignedFilter = AssignedFilter.ALL,
    user_id: int | None = None,
) -> ItemPage:
    """One page of the day's items (VIEW). Keyset paging (never OFFSET) by the sort key.

    ``filter_text`` matches the client's folded name (anywhere), a prefix of the account
    number or of the assignee's login, or a kind. ``user_id`` keeps one clerk's items."""
    require(actor, Action.VIEW)
    sort = ItemSort(sort)
    assigned = AssignedFilter(assigned)
    limit = max(1, min(int(limit), 500))
    where = _filters(day, filter_text, assigned, user_id)
    cols = _sort_cols(sort)
    stmt = _row_select().where(*where)
    if after is not None:
        stmt = stmt.where(_after(cols, tuple(after)))
    order = [c.desc() if desc else c.asc() for c, desc in cols] + [WorkItem.id.asc()]
    tz = office_timezone(session)
    got = [_to_row(r, tz) for r in session.execute(stmt.order_by(*order).limit(limit + 1))]
    rows = got[:limit]
    next_after = _key_of(rows[-1], sort) if len(got) > limit else None
    count_stmt = (
        sa.select(sa.func.count(WorkItem.id))
        .select_from(WorkItem)
        .join(Client, Client.id == WorkItem.client_id)
        .outerjoin(Assignment, Assignment.work_item_id == WorkItem.id)
        .outerjoin(_Assignee, _Assignee.id == Assignment.user_id)
        .where(*where)
    )
    total = int(session.scalar(count_stmt) or 0)
    return ItemPage(tuple(rows), next_after, total)


def get_item(actor: Actor, session: Session, item_id: int) -> ItemRow:
    """One item (VIEW); NotFound if it does not exist."""
    require(actor, Action.VIEW)
    row = item_rows(session, [item_id]).get(item_id)
    if row is None:
        raise NotFound(f"No work item #{item_id}")
    return row


# --------------------------------------------------------------------------- the day row and marker


def ensure_day(session: Session, day: dt.date) -> WorkDay:
    """The day's row, created if missing (safe against a concurrent creator)."""
    row = session.get(WorkDay, day)
    if row is None:
        ins = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        session.execute(
            ins(WorkDay)
            .values(day=day, marker=0, away_user_ids=[])
            .on_conflict_do_nothing(index_elements=["day"])
        )
        row = session.get(WorkDay, day)
        assert row is not None
    return row


def bump_marker(session: Session, day: dt.date) -> int:
    """+1 on the day's change marker, in SQL (two writers never lose an increment)."""
    ensure_day(session, day)
    session.flush()
    session.execute(
        sa.update(WorkDay)
        .where(WorkDay.day == day)
        .values(marker=WorkDay.marker + 1)
        .execution_options(synchronize_session=False)
    )
    loaded = session.identity_map.get(session.identity_key(WorkDay, day))
    if loaded is not None:
        session.expire(loaded, ["marker"])
    return int(session.scalar(sa.select(WorkDay.marker).where(WorkDay.day == day)) or 0)


def change_marker(actor: Actor, session: Session, day: dt.date) -> int:
    """The day's change counter (0 before anything happened). One primary-key read: poll it
    (about once a second, in a worker) and reload when it differs from the last value seen."""
    require(actor, Action.VIEW)
    return int(session.scalar(sa.select(WorkDay.marker).where(WorkDay.day == day)) or 0)


def bump_item(session: Session, item_id: int, seen_version: int, **values: Any) -> bool:
    """Compare-and-set: +1 on the item's version (and set ``values``) only if nobody changed
    it since ``seen_version``. False: someone did (the caller explains and refuses)."""
    res = session.execute(
        sa.update(WorkItem)
        .where(WorkItem.id == item_id, WorkItem.version == seen_version)
        .values(version=WorkItem.version + 1, **values)
        .execution_options(synchronize_session=False)
    )
    assert isinstance(res, sa.CursorResult)  # an UPDATE's result: it has a row count
    ok = bool(res.rowcount)
    loaded = session.identity_map.get(session.identity_key(WorkItem, item_id))
    if loaded is not None:
        session.expire(loaded)
    return ok


def stale_message(session: Session, item_id: int, seen_version: int) -> str:
    """Why an item's version moved on, in words (for a ConflictError)."""
    row = item_rows(session, [item_id]).get(item_id)
    if row is None:
        return f"Work item #{item_id} no longer exists."
    who = f"{row.client_name} ({row.kind.value})"
    if row.outcome is not None:
        return f"{who} was already finished ({OUTCOME_LABELS[row.outcome]}) by {row.assignee_login}: reload."
    if row.assignee_login is None:
        return f"{who} was unassigned meanwhile: reload."
    return f"{who} was changed meanwhile and is now with {row.assignee_login}: reload."


# --------------------------------------------------------------------------- generation


@dataclass
class _Candidate:
    kind: WorkKind
    client_id: int
    key: str
    invoice_id: int | None = None
    amount: Decimal = ZERO
    due_date: dt.date | None = None
    payer_kind: str = ""
    summary: str = ""
    broken_promise: bool = False
    extra: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class GenerationResult:
    day: dt.date
    created: dict[WorkKind, int]  # new items by kind (carried ones not included)
    carried: int  # open items of earlier days carried to this day
    resolved: int  # open items of earlier days whose reason is gone (cancelled, noted)
    existing: int  # candidates already on the day (a second run: everything)
    excluded_agency: int  # candidates skipped because the account is with an agency
    marker: int

    @property
    def total_created(self) -> int:
        return sum(self.created.values())


def check_day(session: Session, day: dt.date, *, past_ok: bool = False) -> dt.date:
    """Refuse a day too far from today (a typo such as 9999-12-31) with a one-line message;
    ``past_ok`` lets any earlier day through (reading history)."""
    today = office_today(office_timezone(session))
    if not isinstance(day, dt.date):
        raise ValidationError.from_fields({"date": "not a date"})
    if isinstance(day, dt.datetime):
        day = day.date()
    if day > today + dt.timedelta(days=MAX_DAYS_AHEAD):
        raise ValidationError.from_fields(
            {
                "date": f"{day.isoformat()} is more than {MAX_DAYS_AHEAD} days after today ({today.isoformat()})"
            }
        )
    if not past_ok and day < today - dt.timedelta(days=MAX_DAYS_BACK):
        raise ValidationError.from_fields(
            {
                "date": f"{day.isoformat()} is more than {MAX_DAYS_BACK} days before today ({today.isoformat()})"
            }
        )
    return dt.date(day.year, day.month, day.day)


def _agency_clients(session: Session) -> set[int]:
    placed = session.scalars(sa.select(Placement.client_id).where(Placement.status == PlacementStatus.ACTIVE))
    status = session.scalars(sa.select(Client.id).where(Client.status == ClientStatus.IN_COLLECTIONS))
    return set(placed) | set(status)


def _unbilled_clients() -> sa.Select[*tuple[Any, ...]]:
    return (
        sa.select(ServiceRendered.client_id)
        .where(ServiceRendered.billed.is_(False), ServiceRendered.voided.is_(False))
        .distinct()
    )


def _primary_payer_kinds(
    session: Session, day: dt.date, client_ids: sa.Select[*tuple[Any, ...]]
) -> dict[int, str]:
    rows = session.execute(
        sa.select(Coverage.client_id, Payer.kind)
        .join(Payer, Payer.id == Coverage.payer_id)
        .where(
            Coverage.client_id.in_(client_ids),
            Coverage.active.is_(True),
            Coverage.rank == CoverageRank.PRIMARY,
            Coverage.effective_from <= day,
            sa.or_(Coverage.effective_to.is_(None), Coverage.effective_to >= day),
        )
        .order_by(Coverage.client_id, Coverage.id)
    )
    out: dict[int, str] = {}
    for client_id, kind in rows:
        out.setdefault(client_id, str(kind.value))
    return out


def _bill(session: Session, day: dt.date, due_days: int) -> tuple[list[_Candidate], dict[int, Decimal]]:
    amount = sa.type_coerce(sa.func.sum(ServiceCode.fee * ServiceRendered.units), Money)
    rows = session.execute(
        sa.select(
            ServiceRendered.client_id,
            sa.func.count(ServiceRendered.id),
            sa.func.min(ServiceRendered.service_date),
            amount,
        )
        .join(ServiceCode, ServiceCode.id == ServiceRendered.service_code_id)
        .where(
            ServiceRendered.billed.is_(False),
            ServiceRendered.voided.is_(False),
            ServiceRendered.service_date <= day,
        )
        .group_by(ServiceRendered.client_id)
    ).all()
    kinds = _primary_payer_kinds(session, day, _unbilled_clients())
    out: list[_Candidate] = []
    unbilled: dict[int, Decimal] = {}
    for client_id, count, oldest, total in rows:
        total = to_money(total or ZERO)
        unbilled[client_id] = total
        word = "service" if count == 1 else "services"
        out.append(
            _Candidate(
                kind=WorkKind.BILL,
                client_id=client_id,
                key=f"bill:client:{client_id}",
                amount=total,
                due_date=oldest + dt.timedelta(days=due_days),
                payer_kind=kinds.get(client_id, ""),
                summary=f"{count} unbilled {word} since {oldest.isoformat()}",
            )
        )
    return out, unbilled


def _verify(session: Session, day: dt.date, limit: int, unbilled: dict[int, Decimal]) -> list[_Candidate]:
    """Coverages in force on the day, of clients with unbilled services (billing needs a fresh
    check), whose last check is older than the office limit or missing."""
    last = sa.func.max(EligibilityCheck.checked_on)
    rows = session.execute(
        sa.select(Coverage.id, Coverage.client_id, Payer.kind, Payer.name, last)
        .join(Payer, Payer.id == Coverage.payer_id)
        .outerjoin(EligibilityCheck, EligibilityCheck.coverage_id == Coverage.id)
        .where(
            Coverage.client_id.in_(_unbilled_clients()),
            Coverage.active.is_(True),
            Coverage.effective_from <= day,
            sa.or_(Coverage.effective_to.is_(None), Coverage.effective_to >= day),
        )
        .group_by(Coverage.id, Coverage.client_id, Payer.kind, Payer.name)
        .having(sa.or_(last.is_(None), last < day - dt.timedelta(days=limit)))
    ).all()
    out: list[_Candidate] = []
    for cov_id, client_id, kind, payer_name, checked in rows:
        if checked is None:
            summary, due = f"{payer_name}: eligibility never checked", day
        else:
            summary = (
                f"{payer_name}: eligibility last checked {checked.isoformat()} ({(day - checked).days} days)"
            )
            due = checked + dt.timedelta(days=limit + 1)
        out.append(
            _Candidate(
                kind=WorkKind.VERIFY,
                client_id=client_id,
                key=f"verify:coverage:{cov_id}",
                amount=unbilled.get(client_id, ZERO),
                due_date=due,
                payer_kind=str(kind.value),
                summary=summary,
            )
        )
    return out


def _balance() -> sa.ColumnElement[Decimal]:
    return sa.type_coerce(Invoice.total - Invoice.amount_paid - Invoice.amount_adjusted, Money)


def _broken_promises(session: Session, day: dt.date, window: int) -> dict[int, str]:
    """Client id → a sentence, for the latest promise of each client whose date has passed
    (within the window) without payments of the promised amount since the promise was made."""
    latest = (
        sa.select(ContactAttempt.client_id, sa.func.max(ContactAttempt.id).label("cid"))
        .where(ContactAttempt.outcome == ContactOutcome.PROMISE_TO_PAY)
        .group_by(ContactAttempt.client_id)
        .subquery()
    )
    rows = session.execute(
        sa.select(ContactAttempt)
        .join(latest, latest.c.cid == ContactAttempt.id)
        .where(
            ContactAttempt.promise_date.is_not(None),
            ContactAttempt.promise_date < day,
            ContactAttempt.promise_date >= day - dt.timedelta(days=window),
        )
    ).scalars()
    tz = office_timezone(session)
    out: dict[int, str] = {}
    for att in rows:
        made = pendulum.instance(att.at).in_timezone(tz).date()
        paid = session.scalar(
            sa.select(sa.type_coerce(sa.func.coalesce(sa.func.sum(Payment.amount), 0), Money)).where(
                Payment.client_id == att.client_id,
                Payment.received_on >= made,
                Payment.received_on <= att.promise_date,
            )
        )
        paid = to_money(paid or ZERO)
        promised = att.promise_amount
        if (promised is None and paid > ZERO) or (promised is not None and paid >= promised):
            continue
        what = fmt_money(promised) if promised is not None else "a payment"
        assert att.promise_date is not None
        out[att.client_id] = f"promise of {what} by {att.promise_date.isoformat()} broken"
    return out


def _chase(session: Session, day: dt.date, window: int) -> list[_Candidate]:
    levels = list(
        session.scalars(sa.select(DunningLevel).order_by(DunningLevel.days_overdue, DunningLevel.level))
    )
    base = (
        sa.select(
            Invoice.id,
            Invoice.client_id,
            Invoice.number,
            Invoice.due_date,
            _balance(),
            Invoice.bill_to,
            Payer.kind,
        )
        .outerjoin(Payer, Payer.id == Invoice.payer_id)
        .where(
            Invoice.status.in_(OPEN_INVOICE),
            Invoice.kind.in_(CHASED_KINDS),
            Invoice.dispute_hold.is_(False),
            Invoice.due_date < day,
            _balance() > ZERO,
        )
    )
    # Due for a dunning step: some level whose days have passed has not fired for the invoice.
    if levels:
        steps = [
            sa.and_(
                Invoice.due_date <= day - dt.timedelta(days=lv.days_overdue),
                ~sa.exists().where(DunningEvent.invoice_id == Invoice.id, DunningEvent.level_id == lv.id),
            )
            for lv in levels
        ]
        due_stmt = base.where(sa.or_(*steps))
    else:
        due_stmt = base  # no levels configured: every overdue invoice is to chase
    # An active plan pauses dunning of the client's own bills.
    planned = set(
        session.scalars(sa.select(PaymentPlan.client_id).where(PaymentPlan.status == PlanStatus.ACTIVE))
    )
    out: dict[int, _Candidate] = {}

    def candidate(row: Any, reason: str) -> _Candidate:
        inv_id, client_id, number, due, bal, bill_to, pkind = row
        kind = str(pkind.value) if bill_to == BillTo.PAYER and pkind is not None else ""
        overdue = (day - due).days
        return _Candidate(
            kind=WorkKind.CHASE,
            client_id=client_id,
            key=f"chase:invoice:{inv_id}",
            invoice_id=inv_id,
            amount=to_money(bal),
            due_date=due,
            payer_kind=kind,
            summary=f"{number} {overdue} days overdue, {fmt_money(to_money(bal))} open{reason}",
        )

    due_rows = [r for r in session.execute(due_stmt) if not (r[5] == BillTo.CLIENT and r[1] in planned)]
    fired: dict[int, set[int]] = {}
    ids = [r[0] for r in due_rows]
    for i in range(0, len(ids), CHUNK):
        for inv_id, level_id in session.execute(
            sa.select(DunningEvent.invoice_id, DunningEvent.level_id).where(
                DunningEvent.invoice_id.in_(ids[i : i + CHUNK])
            )
        ):
            fired.setdefault(inv_id, set()).add(level_id)
    for row in due_rows:
        due = row[3]
        assert due is not None  # the query keeps due_date < day: never NULL
        overdue = (day - due).days
        pending = [
            lv for lv in levels if lv.days_overdue <= overdue and lv.id not in fired.get(row[0], set())
        ]
        reason = f", {pending[-1].name} due" if pending else ""
        out[row[0]] = candidate(row, reason)
    # A broken promise: chase the client's oldest open bill of their own.
    promises = _broken_promises(session, day, window)
    if promises:
        ids = sorted(promises)
        for i in range(0, len(ids), CHUNK):
            for row in session.execute(
                base.where(
                    Invoice.client_id.in_(ids[i : i + CHUNK]), Invoice.bill_to == BillTo.CLIENT
                ).order_by(Invoice.client_id, Invoice.due_date, Invoice.id)
            ):
                client_id = row[1]
                if client_id not in promises:
                    continue
                c = out.get(row[0]) or candidate(row, "")
                c.broken_promise = True
                c.summary = f"{c.summary}; {promises.pop(client_id)}"
                out[row[0]] = c
    return list(out.values())


def _installments(session: Session, day: dt.date) -> list[_Candidate]:
    rows = session.execute(
        sa.select(Installment, PaymentPlan.client_id, PaymentPlan.installment_count)
        .join(PaymentPlan, PaymentPlan.id == Installment.plan_id)
        .where(
            PaymentPlan.status.in_((PlanStatus.ACTIVE, PlanStatus.LATE)),
            Installment.status.in_(
                (InstallmentStatus.DUE, InstallmentStatus.PARTIAL, InstallmentStatus.MISSED)
            ),
            Installment.due_date <= day,
        )
    ).all()
    out: list[_Candidate] = []
    for inst, client_id, count in rows:
        left = to_money(inst.amount - inst.paid_amount)
        when = "due today" if inst.due_date == day else f"due {inst.due_date.isoformat()}"
        out.append(
            _Candidate(
                kind=WorkKind.INSTALLMENT,
                client_id=client_id,
                key=f"installment:{inst.id}",
                amount=left,
                due_date=inst.due_date,
                summary=f"installment {inst.seq} of {count}, {fmt_money(left)} {when}",
            )
        )
    return out


def _disputes(session: Session, day: dt.date, answer_days: int) -> list[_Candidate]:
    rows = session.execute(
        sa.select(Dispute, Invoice.client_id, Invoice.number, _balance(), Invoice.bill_to, Payer.kind)
        .join(Invoice, Invoice.id == Dispute.invoice_id)
        .outerjoin(Payer, Payer.id == Invoice.payer_id)
        .where(Dispute.status == DisputeStatus.OPEN)
    ).all()
    tz = office_timezone(session)
    out: list[_Candidate] = []
    for disp, client_id, number, bal, bill_to, pkind in rows:
        opened = pendulum.instance(disp.opened_at).in_timezone(tz).date()
        if opened > day:
            continue
        out.append(
            _Candidate(
                kind=WorkKind.DISPUTE,
                client_id=client_id,
                key=f"dispute:{disp.id}",
                invoice_id=disp.invoice_id,
                amount=to_money(bal),
                due_date=opened + dt.timedelta(days=answer_days),
                payer_kind=str(pkind.value) if bill_to == BillTo.PAYER and pkind is not None else "",
                summary=f"dispute on {number} ({disp.reason.value.replace('_', ' ')}) opened {opened.isoformat()}",
            )
        )
    return out


def candidates(session: Session, day: dt.date) -> tuple[dict[str, _Candidate], int]:
    """Everything that needs a clerk on ``day`` (key → candidate) and how many candidates were
    left out because the account is with an agency."""
    due_days = int(get_setting(session, "work.bill_due_days"))
    limit = int(get_setting(session, "billing.eligibility_max_age_days"))
    window = int(get_setting(session, "work.promise_window_days"))
    answer = int(get_setting(session, "work.dispute_answer_days"))
    bills, unbilled = _bill(session, day, due_days)
    found = (
        bills
        + _verify(session, day, limit, unbilled)
        + _chase(session, day, window)
        + _installments(session, day)
        + _disputes(session, day, answer)
    )
    agency = _agency_clients(session)
    out: dict[str, _Candidate] = {}
    excluded = 0
    for c in found:
        if c.client_id in agency:
            excluded += 1
            continue
        out[c.key] = c
    return out, excluded


def _efforts(session: Session) -> dict[WorkKind, int]:
    raw = get_setting(session, "work.effort_minutes") or {}
    defaults = {"bill": 15, "chase": 10, "verify": 8, "installment": 5, "dispute": 20}
    return {k: max(0, int(raw.get(k.value, defaults[k.value]))) for k in WorkKind}


def _client_bits(session: Session, ids: Sequence[int]) -> dict[int, str]:
    """Client id → language (lower case)."""
    out: dict[int, str] = {}
    for i in range(0, len(ids), CHUNK):
        for cid, lang in session.execute(
            sa.select(Client.id, Client.language).where(Client.id.in_(ids[i : i + CHUNK]))
        ):
            out[cid] = (lang or "").strip().lower()
    return out


def generate_items(actor: Actor, session: Session, day: dt.date) -> GenerationResult:
    """Create the day's items (WORK_ASSIGN), idempotently. Refused (ValidationError) for a day
    outside today − MAX_DAYS_BACK … today + MAX_DAYS_AHEAD, or earlier than a day that already
    has items (carrying runs forward only)."""
    require(actor, Action.WORK_ASSIGN)
    day = check_day(session, day)
    later = session.scalar(sa.select(sa.func.max(WorkItem.day)).where(WorkItem.day > day))
    if later is not None:
        raise ValidationError.from_fields(
            {"date": f"work for a later day ({later.isoformat()}) exists already; items carry forward only"}
        )
    wd = ensure_day(session, day)
    found, excluded = candidates(session, day)
    efforts = _efforts(session)
    office_lang = str(get_setting(session, "work.office_language")).strip().lower()
    langs = _client_bits(session, sorted({c.client_id for c in found.values()}))
    existing_keys = set(
        session.scalars(
            sa.select(WorkItem.source_key).where(WorkItem.day == day, WorkItem.source_key.is_not(None))
        )
    )
    earlier = list(
        session.scalars(
            sa.select(WorkItem)
            .where(WorkItem.day < day, WorkItem.status == WorkStatus.OPEN)
            .order_by(WorkItem.id)
        )
    )
    earlier_by_key: dict[str, WorkItem] = {}
    unkeyed: list[WorkItem] = []
    for item in earlier:
        if item.source_key is None:
            unkeyed.append(item)
        else:
            earlier_by_key[item.source_key] = item  # the latest open one wins (ids ascend)

    created = {k: 0 for k in WorkKind}
    carried = resolved = existing = 0
    new_items: list[WorkItem] = []
    for key in sorted(found):
        c = found[key]
        old = earlier_by_key.pop(key, None)
        if key in existing_keys:
            existing += 1
            if old is not None:
                old.status = WorkStatus.CARRIED
                old.version += 1
            continue
        origin = day
        if old is not None:
            origin = old.origin_day or old.day
        lang = langs.get(c.client_id, "")
        terms = priority_terms(c.kind, day, origin, c.amount, c.due_date, c.broken_promise)
        item = WorkItem(
            day=day,
            kind=c.kind,
            client_id=c.client_id,
            invoice_id=c.invoice_id,
            priority=terms.total,
            priority_terms=terms.as_dict(),
            effort_minutes=efforts[c.kind],
            due_date=c.due_date,
            payer_kind=c.payer_kind if c.payer_kind in SKILLED_PAYER_KINDS else "",
            language="" if lang in ("", office_lang) else lang,
            status=WorkStatus.OPEN,
            carried_from_id=old.id if old is not None else None,
            source_key=key,
            origin_day=origin,
            amount=c.amount,
            summary=c.summary[:200],
            version=1,
        )
        new_items.append(item)
        if old is not None:
            old.status = WorkStatus.CARRIED
            old.version += 1
            carried += 1
        else:
            created[c.kind] += 1
    # Items of earlier days whose reason is gone: closed with a note, and counted.
    for old in earlier_by_key.values():
        old.status = WorkStatus.CANCELLED
        old.note = f"resolved before it was worked: no longer due on {day.isoformat()}"
        old.version += 1
        resolved += 1
    # Legacy items without a key are carried as they are (nothing is dropped).
    for old in unkeyed:
        origin = old.origin_day or old.day
        terms = priority_terms(old.kind, day, origin, old.amount or ZERO, old.due_date, False)
        new_items.append(
            WorkItem(
                day=day,
                kind=old.kind,
                client_id=old.client_id,
                invoice_id=old.invoice_id,
                priority=terms.total,
                priority_terms=terms.as_dict(),
                effort_minutes=old.effort_minutes,
                due_date=old.due_date,
                payer_kind=old.payer_kind,
                language=old.language,
                status=WorkStatus.OPEN,
                carried_from_id=old.id,
                origin_day=origin,
                amount=old.amount or ZERO,
                summary=old.summary,
                version=1,
            )
        )
        old.status = WorkStatus.CARRIED
        old.version += 1
        carried += 1
    session.add_all(new_items)
    wd.generated_at = now()
    session.flush()
    marker = bump_marker(session, day)
    result = GenerationResult(
        day=day,
        created=created,
        carried=carried,
        resolved=resolved,
        existing=existing,
        excluded_agency=excluded,
        marker=marker,
    )
    audit.record(
        session,
        actor,
        "work_day",
        day.isoformat(),
        "generate",
        None,
        {
            "created": {k.value: n for k, n in created.items() if n},
            "carried": carried,
            "resolved": resolved,
            "existing": existing,
            "excluded_agency": excluded,
        },
    )
    return result


# --------------------------------------------------------------------------- the day


@dataclass(frozen=True)
class DayStatus:
    day: dt.date
    generated: bool
    published: bool
    published_at_local: str | None  # "YYYY-MM-DD HH:MM" office time
    total: int
    unassigned: int
    assigned_open: int
    finished: int
    marker: int
    undo: str | None  # what one-step undo would revert ("auto-assign at 08:12"), None if nothing


def _local(at: pendulum.DateTime | None, tz: str, fmt: str = "YYYY-MM-DD HH:mm") -> str | None:
    if at is None:
        return None
    return pendulum.instance(at).in_timezone(tz).format(fmt)


def day_status(actor: Actor, session: Session, day: dt.date) -> DayStatus:
    """Counts and state of the day (VIEW)."""
    require(actor, Action.VIEW)
    tz = office_timezone(session)
    wd = session.get(WorkDay, day)
    on_day = WorkItem.day == day
    total = int(
        session.scalar(
            sa.select(sa.func.count(WorkItem.id)).where(on_day, WorkItem.status != WorkStatus.CANCELLED)
        )
        or 0
    )
    unassigned = int(
        session.scalar(
            sa.select(sa.func.count(WorkItem.id))
            .outerjoin(Assignment, Assignment.work_item_id == WorkItem.id)
            .where(on_day, WorkItem.status == WorkStatus.OPEN, Assignment.id.is_(None))
        )
        or 0
    )
    assigned_open = int(
        session.scalar(
            sa.select(sa.func.count(Assignment.id))
            .join(WorkItem, WorkItem.id == Assignment.work_item_id)
            .where(on_day, WorkItem.status == WorkStatus.OPEN)
        )
        or 0
    )
    finished = int(
        session.scalar(
            sa.select(sa.func.count(Assignment.id))
            .join(WorkItem, WorkItem.id == Assignment.work_item_id)
            .where(on_day, Assignment.finished_at.is_not(None))
        )
        or 0
    )
    undo = None
    if wd is not None and wd.undo and not wd.undo.get("undone"):
        undo = f"{wd.undo.get('label', 'plan')} at {wd.undo.get('at_local', '')}".strip()
    return DayStatus(
        day=day,
        generated=wd is not None and wd.generated_at is not None,
        published=wd is not None and wd.published_at is not None,
        published_at_local=_local(wd.published_at if wd else None, tz),
        total=total,
        unassigned=unassigned,
        assigned_open=assigned_open,
        finished=finished,
        marker=int(wd.marker) if wd is not None else 0,
        undo=undo,
    )


# --------------------------------------------------------------------------- the clerk's day


@dataclass(frozen=True)
class MyDay:
    """A clerk's published list for a day, in priority order (open first, then finished)."""

    day: dt.date
    user_id: int
    published: bool  # False: the supervisor has not published the day yet (items empty)
    items: tuple[ItemRow, ...]
    done: int
    total: int
    done_minutes: int
    total_minutes: int
    marker: int


def my_day(actor: Actor, session: Session, day: dt.date | None = None, user_id: int | None = None) -> MyDay:
    """The actor's own published list (VIEW); ``user_id`` of another clerk needs WORK_ASSIGN.
    ``day`` defaults to the office's today."""
    require(actor, Action.VIEW)
    if user_id is not None and user_id != actor.user_id:
        require(actor, Action.WORK_ASSIGN)
    uid = actor.user_id if user_id is None else user_id
    tz = office_timezone(session)
    if day is None:
        day = office_today(tz)
    wd = session.get(WorkDay, day)
    rows = [
        _to_row(r, tz)
        for r in session.execute(
            _row_select()
            .where(WorkItem.day == day, Assignment.user_id == uid, Assignment.published.is_(True))
            .order_by(Assignment.finished_at.is_not(None), WorkItem.priority.desc(), WorkItem.id)
        )
    ]
    done = [r for r in rows if r.finished]
    return MyDay(
        day=day,
        user_id=uid,
        published=wd is not None and wd.published_at is not None,
        items=tuple(rows),
        done=len(done),
        total=len(rows),
        done_minutes=sum(r.effort_minutes for r in done),
        total_minutes=sum(r.effort_minutes for r in rows),
        marker=int(wd.marker) if wd is not None else 0,
    )


OUTCOME_LABELS: dict[WorkOutcome, str] = {
    WorkOutcome.DONE: "done",
    WorkOutcome.NO_ANSWER: "no answer",
    WorkOutcome.PROMISE_TO_PAY: "promise to pay",
    WorkOutcome.ESCALATED: "escalated",
    WorkOutcome.SKIPPED: "skipped",
}


def _audit_item(row: ItemRow) -> dict[str, Any]:
    return {
        "user": row.assignee_login,
        "manual": row.manual,
        "published": row.published,
        "outcome": row.outcome.value if row.outcome else None,
        "note": row.outcome_note,
        "version": row.version,
    }


def _own_or_supervisor(actor: Actor, asg: Assignment | None, what: str) -> None:
    if actor.can(Action.WORK_ASSIGN):
        return
    if asg is None or asg.user_id != actor.user_id or not asg.published:
        raise PermissionDenied(f"{actor.login} may not {what} another clerk's item")


def finish_item(
    actor: Actor,
    session: Session,
    item_id: int,
    version: int,
    outcome: WorkOutcome | str,
    note: str = "",
) -> ItemRow:
    """Finish an item with an outcome (WORK_FINISH). A clerk finishes only their own published
    items (PermissionDenied otherwise); a supervisor may finish any assigned item. ``skipped``
    needs a reason in ``note`` (ValidationError). A stale ``version`` (moved, unassigned or
    finished meanwhile) raises ConflictError saying what happened."""
    require(actor, Action.WORK_FINISH)
    errors: dict[str, str] = {}
    try:
        out = WorkOutcome(outcome)
    except ValueError:
        errors["outcome"] = f"unknown outcome {str(outcome)[:40]!r}; one of " + ", ".join(
            o.value for o in WorkOutcome
        )
        out = WorkOutcome.DONE
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        errors["note"] = f"at most {MAX_NOTE} characters"
    if out == WorkOutcome.SKIPPED and not note and "outcome" not in errors:
        errors["note"] = "say why the item is skipped"
    item = session.get(WorkItem, item_id)
    if item is None:
        raise NotFound(f"No work item #{item_id}")
    asg = session.scalar(sa.select(Assignment).where(Assignment.work_item_id == item_id))
    if item.version != version:
        raise ConflictError(stale_message(session, item_id, version))
    _own_or_supervisor(actor, asg, "finish")
    if errors:
        raise ValidationError.from_fields(errors)
    if asg is None:
        raise ValidationError("Assign the item to a clerk before finishing it.")
    if asg.outcome is not None or item.status != WorkStatus.OPEN:
        raise ConflictError(stale_message(session, item_id, version))
    before = item_rows(session, [item_id])[item_id]
    if not bump_item(session, item_id, version, status=WorkStatus.DONE):
        raise ConflictError(stale_message(session, item_id, version))
    asg.outcome = out
    asg.outcome_note = note
    asg.finished_at = now()
    session.flush()
    bump_marker(session, item.day)
    after = item_rows(session, [item_id])[item_id]
    audit.record(session, actor, "work_item", item_id, "finish", _audit_item(before), _audit_item(after))
    return after


def reopen_item(actor: Actor, session: Session, item_id: int, version: int) -> ItemRow:
    """Undo a finish by mistake (the item's clerk, or a supervisor), same day only."""
    require(actor, Action.WORK_FINISH)
    item = session.get(WorkItem, item_id)
    if item is None:
        raise NotFound(f"No work item #{item_id}")
    asg = session.scalar(sa.select(Assignment).where(Assignment.work_item_id == item_id))
    if item.version != version:
        raise ConflictError(stale_message(session, item_id, version))
    _own_or_supervisor(actor, asg, "reopen")
    if asg is None or asg.outcome is None:
        raise ValidationError("The item is not finished.")
    if item.day != office_today(office_timezone(session)):
        raise ValidationError("Only today's items can be reopened.")
    before = item_rows(session, [item_id])[item_id]
    if not bump_item(session, item_id, version, status=WorkStatus.OPEN):
        raise ConflictError(stale_message(session, item_id, version))
    asg.outcome = None
    asg.outcome_note = ""
    asg.finished_at = None
    session.flush()
    bump_marker(session, item.day)
    after = item_rows(session, [item_id])[item_id]
    audit.record(session, actor, "work_item", item_id, "reopen", _audit_item(before), _audit_item(after))
    return after
