"""The day's work items (SPEC §3.10): generation, priority, lists, finishing, change marker.

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
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.orm import Session

from db.models import WorkKind, WorkOutcome, WorkStatus
from db.rights import Actor

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
        raise NotImplementedError

    def explain(self) -> str:
        """``"kind 50 + age 30 + amount 40 + due 26 + promise 150 = 296"``."""
        raise NotImplementedError


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
    raise NotImplementedError


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
        raise NotImplementedError


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

    ``filter_text`` matches a prefix of the client's folded name or account number, the kind,
    or the assignee's login. ``user_id`` keeps one clerk's items. Carried/cancelled items of
    earlier days are not on the day."""
    raise NotImplementedError


def get_item(actor: Actor, session: Session, item_id: int) -> ItemRow:
    """One item (VIEW); NotFound if it does not exist."""
    raise NotImplementedError


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
        raise NotImplementedError


def generate_items(actor: Actor, session: Session, day: dt.date) -> GenerationResult:
    """Create the day's items (WORK_ASSIGN), idempotently. Refused (ValidationError) for a day
    outside today − MAX_DAYS_BACK … today + MAX_DAYS_AHEAD, or earlier than a day that already
    has items (carrying runs forward only)."""
    raise NotImplementedError


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


def day_status(actor: Actor, session: Session, day: dt.date) -> DayStatus:
    """Counts and state of the day (VIEW)."""
    raise NotImplementedError


def change_marker(actor: Actor, session: Session, day: dt.date) -> int:
    """The day's change counter (0 before anything happened). One primary-key read: poll it
    (about once a second, in a worker) and reload when it differs from the last value seen."""
    raise NotImplementedError


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
    raise NotImplementedError


OUTCOME_LABELS: dict[WorkOutcome, str] = {
    WorkOutcome.DONE: "done",
    WorkOutcome.NO_ANSWER: "no answer",
    WorkOutcome.PROMISE_TO_PAY: "promise to pay",
    WorkOutcome.ESCALATED: "escalated",
    WorkOutcome.SKIPPED: "skipped",
}


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
    raise NotImplementedError


def reopen_item(actor: Actor, session: Session, item_id: int, version: int) -> ItemRow:
    """Undo a finish by mistake (the item's clerk, or a supervisor), same day only."""
    raise NotImplementedError
