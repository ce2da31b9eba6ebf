"""Per-clerk output for any range of office days ; docs/reports.md defines each figure.

Every figure is a grouped SQL aggregate over an index that leads with the date or instant that
decides the period (migration 0006), so a month over millions of invoices is a few index range
scans. Hours worked come from the timecard rules themselves (``scheduling.timecards``), so the
report and the timecards never disagree.

Periods are office days, inclusive. Figures kept as a calendar date (issue date, received date,
the list's day) compare dates; figures kept as an instant (contacts, disputes, clock events)
take the instants from local midnight of the first day to local midnight after the last, in
the office time zone, so a DST day is 23 or 25 hours long and nothing falls between two days.

Rights: a supervisor (``REPORTS_TEAM``) sees everybody and the team totals; anyone else sees
only their own row, and asking for another person's figures is refused.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pendulum
import sqlalchemy as sa
from sqlalchemy.orm import Session

from db.errors import NotFound, PermissionDenied, ValidationError
from db.models import (
    Allocation,
    Assignment,
    ClockEvent,
    ContactAttempt,
    Dispute,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    Payment,
    Role,
    Timecard,
    TimecardStatus,
    User,
    WorkItem,
    WorkKind,
    WorkOutcome,
)
from db.money import ZERO, to_money
from db.rights import Action, Actor, require
from db.settings import get_setting, office_timezone
from db.timeutil import local_instant, now
from scheduling.clock import MARGIN, Punch, ShiftSlot, attribute_days, published_shifts, shift_slot
from scheduling.timecards import compute_day, time_rules

MAX_DAYS = 400  # a range longer than this is refused: hours need every clock event in it
BILLED_KINDS = (InvoiceKind.INVOICE, InvoiceKind.STATEMENT)
NOT_BILLED = (InvoiceStatus.DRAFT, InvoiceStatus.VOID)
SIGNED = (TimecardStatus.SIGNED, TimecardStatus.EXPORTED)
KINDS: tuple[WorkKind, ...] = tuple(WorkKind)
TEAM_LOGIN = "TEAM"


# --------------------------------------------------------------------------- periods


@dataclass(frozen=True)
class ReportPeriod:
    """A report period: ``kind`` day | week | month | range, office days inclusive."""

    kind: str
    start: dt.date
    end: dt.date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def label(self) -> str:
        if self.kind == "day":
            return self.start.strftime("%a %d %b %Y")
        if self.kind == "month":
            return self.start.strftime("%B %Y")
        if self.kind == "week":
            return f"week {self.start.isoformat()} – {self.end.isoformat()}"
        return f"{self.start.isoformat()} – {self.end.isoformat()}"

    @property
    def slug(self) -> str:
        """For file names: ``2026-11``, ``2026-11-16``, ``2026-11-16_2026-11-22``."""
        if self.kind == "month":
            return self.start.strftime("%Y-%m")
        if self.kind == "day":
            return self.start.isoformat()
        return f"{self.start.isoformat()}_{self.end.isoformat()}"


PERIOD_KINDS = ("day", "week", "month")


def period_of(kind: str, day: dt.date, week_start: int = 0) -> ReportPeriod:
    """The day, week (starting on ``week_start``, 0 = Monday) or calendar month holding ``day``."""
    if kind == "day":
        return ReportPeriod("day", day, day)
    if kind == "week":
        start = day - dt.timedelta(days=(day.weekday() - week_start) % 7)
        return ReportPeriod("week", start, start + dt.timedelta(days=6))
    if kind == "month":
        start = day.replace(day=1)
        nxt = (start + dt.timedelta(days=32)).replace(day=1)
        return ReportPeriod("month", start, nxt - dt.timedelta(days=1))
    raise ValueError(f"unknown period kind {kind!r}")


def step(period: ReportPeriod, n: int, week_start: int = 0) -> ReportPeriod:
    """The period ``n`` periods after (negative: before) this one, of the same kind."""
    if period.kind == "day":
        return period_of("day", period.start + dt.timedelta(days=n))
    if period.kind == "week":
        return period_of("week", period.start + dt.timedelta(days=7 * n), week_start)
    if period.kind == "month":
        index = period.start.year * 12 + period.start.month - 1 + n
        return period_of("month", dt.date(index // 12, index % 12 + 1, 1))
    length = dt.timedelta(days=period.days * n)
    return ReportPeriod("range", period.start + length, period.end + length)


def week_start_of(session: Session) -> int:
    """Weeks in reports start on the pay week's weekday, so a week's hours match its timecard."""
    return int(get_setting(session, "time.period_start_weekday"))


def check_range(start: dt.date, end: dt.date) -> None:
    if end < start:
        raise ValidationError.from_fields({"to": f"{end.isoformat()} is before {start.isoformat()}"})
    if (end - start).days + 1 > MAX_DAYS:
        raise ValidationError.from_fields({"to": f"a report covers at most {MAX_DAYS} days"})


def instants(start: dt.date, end: dt.date, tz: str) -> tuple[pendulum.DateTime, pendulum.DateTime]:
    """[local midnight of ``start``, local midnight after ``end``) as UTC instants."""
    lo = local_instant(start, dt.time(0), tz).in_timezone("UTC")
    hi = local_instant(end + dt.timedelta(days=1), dt.time(0), tz).in_timezone("UTC")
    return lo, hi


# --------------------------------------------------------------------------- figures


@dataclass(frozen=True)
class FigureDef:
    key: str
    label: str  # column heading on screen
    kind: str  # int | money | minutes | rate | money_rate
    drill: str  # which rows are behind it (see ``drill``)
    help: str
    name: str = ""  # the full name, where there is room

    @property
    def title(self) -> str:
        return self.name or self.label


FIGURES: tuple[FigureDef, ...] = (
    FigureDef(
        "clients_billed",
        "Clients",
        "int",
        "invoices",
        "distinct clients on the invoices issued",
        name="Clients billed",
    ),
    FigureDef(
        "invoices_issued",
        "Issued",
        "int",
        "invoices",
        "invoices and statements issued (not void)",
        name="Invoices issued",
    ),
    FigureDef(
        "amount_billed", "Billed", "money", "invoices", "total of the invoices issued", name="Amount billed"
    ),
    FigureDef(
        "invoices_paid",
        "Paid",
        "int",
        "paid",
        "invoices settled by a payment this person posted",
        name="Invoices paid",
    ),
    FigureDef(
        "collected",
        "Collected",
        "money",
        "payments",
        "payments posted, by received date",
        name="Money collected",
    ),
    FigureDef(
        "items_assigned",
        "Assigned",
        "int",
        "items",
        "work items on the published lists",
        name="Items assigned",
    ),
    FigureDef(
        "items_done", "Done", "int", "items_done", "work items finished, not skipped", name="Items done"
    ),
    FigureDef("contacts", "Contacts", "int", "contacts", "contact attempts logged", name="Contacts made"),
    FigureDef(
        "disputes_opened", "Disp.open", "int", "disputes_opened", "disputes opened", name="Disputes opened"
    ),
    FigureDef(
        "disputes_decided", "Disp.dec", "int", "disputes_decided", "disputes decided", name="Disputes decided"
    ),
    FigureDef(
        "worked_minutes", "Hours", "minutes", "hours", "hours worked (timecard rules)", name="Hours worked"
    ),
    FigureDef(
        "items_per_hour",
        "Items/h",
        "rate",
        "items_done",
        "work items done per hour worked",
        name="Items done per hour",
    ),
    FigureDef(
        "invoices_per_hour",
        "Inv/h",
        "rate",
        "invoices",
        "invoices issued per hour worked",
        name="Invoices per hour",
    ),
    FigureDef(
        "collected_per_hour",
        "Coll/h",
        "money_rate",
        "payments",
        "money collected per hour worked",
        name="Collected per hour",
    ),
)
FIGURE_BY_KEY = {f.key: f for f in FIGURES}


def _per_hour(amount: int | Decimal, minutes: int) -> Decimal | None:
    if minutes <= 0:
        return None
    return (Decimal(amount) * 60 / Decimal(minutes)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class KindCount:
    kind: str
    assigned: int
    done: int


@dataclass(frozen=True)
class ClerkOutput:
    user_id: int | None  # None for the team total
    login: str
    name: str
    clients_billed: int = 0
    invoices_issued: int = 0
    amount_billed: Decimal = ZERO
    invoices_paid: int = 0
    collected: Decimal = ZERO
    items_assigned: int = 0
    items_done: int = 0
    by_kind: tuple[KindCount, ...] = ()
    contacts: int = 0
    disputes_opened: int = 0
    disputes_decided: int = 0
    worked_minutes: int = 0
    signed_minutes: int = 0  # the part of worked_minutes on signed (or exported) timecards

    @property
    def items_per_hour(self) -> Decimal | None:
        return _per_hour(self.items_done, self.worked_minutes)

    @property
    def invoices_per_hour(self) -> Decimal | None:
        return _per_hour(self.invoices_issued, self.worked_minutes)

    @property
    def collected_per_hour(self) -> Decimal | None:
        return _per_hour(self.collected, self.worked_minutes)

    def value(self, key: str) -> int | Decimal | None:
        if key not in FIGURE_BY_KEY:
            raise KeyError(key)
        figure = getattr(self, key)
        if figure is None or isinstance(figure, int | Decimal):
            return figure
        raise TypeError(f"{key} is not a figure: {figure!r}")

    def has_output(self) -> bool:
        """Anything besides hours (hours alone do not put a supervisor in the table)."""
        return any(
            self.value(f.key) for f in FIGURES if f.kind in ("int", "money") and f.key != "worked_minutes"
        )


@dataclass(frozen=True)
class OutputReport:
    start: dt.date
    end: dt.date
    tz: str
    rows: tuple[ClerkOutput, ...]  # by name, then login
    team: ClerkOutput | None  # None when the reader sees only their own row


@dataclass
class _Acc:
    clients: int = 0
    issued: int = 0
    billed: Decimal = ZERO
    paid: int = 0
    collected: Decimal = ZERO
    kinds: dict[str, list[int]] = field(default_factory=dict)  # kind → [assigned, done]
    contacts: int = 0
    opened: int = 0
    decided: int = 0
    worked: int = 0
    signed: int = 0


def _money(value: Any) -> Decimal:
    return to_money(value) if value is not None else ZERO


def _invoice_filter(start: dt.date, end: dt.date) -> sa.ColumnElement[bool]:
    return sa.and_(
        Invoice.issue_date >= start,
        Invoice.issue_date <= end,
        Invoice.issued_by.is_not(None),
        Invoice.kind.in_(BILLED_KINDS),
        Invoice.status.not_in(NOT_BILLED),
    )


def _settling() -> sa.ColumnElement[bool]:
    """The allocation is the invoice's last one and the invoice is paid: this payment settled it."""
    # Both as correlated look-ups (by primary key, by the allocation's invoice index): joined, the
    # planner starts from every paid invoice of the office instead of the period's payments.
    later = sa.orm.aliased(Allocation)
    paid = sa.orm.aliased(Invoice)
    return sa.and_(
        sa.exists().where(paid.id == Allocation.invoice_id, paid.status == InvoiceStatus.PAID),
        ~sa.exists().where(later.invoice_id == Allocation.invoice_id, later.id > Allocation.id),
    )


def _done() -> sa.ColumnElement[bool]:
    return sa.and_(Assignment.outcome.is_not(None), Assignment.outcome != WorkOutcome.SKIPPED)


def _aggregate(
    session: Session, start: dt.date, end: dt.date, tz: str, only: int | None
) -> tuple[dict[int, _Acc], int]:
    """Every figure but hours, per person; and the team's distinct clients billed."""
    acc: dict[int, _Acc] = defaultdict(_Acc)
    lo, hi = instants(start, end, tz)

    def who(col: Any) -> sa.ColumnElement[bool]:
        return col == only if only is not None else sa.true()

    inv = _invoice_filter(start, end) & who(Invoice.issued_by)
    for uid, clients, count, total in session.execute(
        sa.select(
            Invoice.issued_by,
            sa.func.count(sa.distinct(Invoice.client_id)),
            sa.func.count(),
            sa.func.sum(Invoice.total),
        )
        .where(inv)
        .group_by(Invoice.issued_by)
    ):
        if uid is None:  # an issued invoice always names who issued it
            continue
        a = acc[uid]
        a.clients, a.issued, a.billed = int(clients), int(count), _money(total)
    team_clients = 0
    if only is None:  # the team's distinct clients: a client billed by two clerks counts once
        team_clients = int(
            session.scalar(sa.select(sa.func.count(sa.distinct(Invoice.client_id))).where(inv)) or 0
        )
    pay = (Payment.received_on >= start) & (Payment.received_on <= end) & who(Payment.posted_by)
    for uid, total in session.execute(
        sa.select(Payment.posted_by, sa.func.sum(Payment.amount)).where(pay).group_by(Payment.posted_by)
    ):
        acc[uid].collected = _money(total)
    for uid, count in session.execute(
        sa.select(Payment.posted_by, sa.func.count(sa.distinct(Allocation.invoice_id)))
        .join(Allocation, Allocation.payment_id == Payment.id)
        # The period's payments first (received-date index), then their allocations by payment.
        .where(
            pay, Allocation.payment_id.in_(sa.select(Payment.id).where(pay).scalar_subquery()), _settling()
        )
        .group_by(Payment.posted_by)
    ):
        acc[uid].paid = int(count)
    done = sa.case((_done(), 1), else_=0)
    for uid, kind, assigned, n_done in session.execute(
        sa.select(Assignment.user_id, WorkItem.kind, sa.func.count(), sa.func.sum(done))
        .join(WorkItem, WorkItem.id == Assignment.work_item_id)
        .where(
            Assignment.day >= start,
            Assignment.day <= end,
            Assignment.published.is_(True),
            who(Assignment.user_id),
        )
        .group_by(Assignment.user_id, WorkItem.kind)
    ):
        acc[uid].kinds[WorkKind(kind).value] = [int(assigned), int(n_done or 0)]
    for uid, count in session.execute(
        sa.select(ContactAttempt.made_by, sa.func.count())
        .where(ContactAttempt.at >= lo, ContactAttempt.at < hi, who(ContactAttempt.made_by))
        .group_by(ContactAttempt.made_by)
    ):
        acc[uid].contacts = int(count)
    for uid, count in session.execute(
        sa.select(Dispute.opened_by, sa.func.count())
        .where(Dispute.opened_at >= lo, Dispute.opened_at < hi, who(Dispute.opened_by))
        .group_by(Dispute.opened_by)
    ):
        acc[uid].opened = int(count)
    for uid, count in session.execute(
        sa.select(Dispute.decided_by, sa.func.count())
        .where(
            Dispute.decided_at >= lo,
            Dispute.decided_at < hi,
            Dispute.decided_by.is_not(None),
            who(Dispute.decided_by),
        )
        .group_by(Dispute.decided_by)
    ):
        if uid is not None:  # the query keeps decided_by IS NOT NULL
            acc[uid].decided = int(count)
    return acc, team_clients


def worked_by_day(
    session: Session, user_ids: Sequence[int], start: dt.date, end: dt.date
) -> dict[int, dict[dt.date, tuple[int, bool]]]:
    """Per person and day: (worked minutes, on a signed card), by the timecard's own rules
    (``scheduling.timecards.compute_day``): a day's work belongs to the day of its clock-in,
    breaks are unpaid, an open segment counts nothing yet. Only the columns the rules need are
    read, and only days with punches are computed, so a month of 200 clerks stays cheap.
    Signed cards are frozen (clock changes are refused), so their days cannot change."""
    ids = sorted(set(user_ids))
    if not ids:
        return {}
    rules = time_rules(session)
    tz = rules.tz
    lo, hi = instants(start, end, tz)
    shifts: dict[int, list[ShiftSlot]] = defaultdict(list)
    for sh in published_shifts(session, ids, start - dt.timedelta(days=3), end + dt.timedelta(days=3)):
        shifts[sh.user_id].append(shift_slot(sh))
    punches: dict[int, list[Punch]] = defaultdict(list)
    for pid, uid, kind, at, source in session.execute(
        sa.select(ClockEvent.id, ClockEvent.user_id, ClockEvent.kind, ClockEvent.at, ClockEvent.source)
        .where(
            ClockEvent.user_id.in_(ids),
            ClockEvent.voided.is_(False),
            ClockEvent.at >= lo - MARGIN,
            ClockEvent.at < hi + MARGIN,
        )
        .order_by(ClockEvent.at, ClockEvent.id)
    ):
        punches[uid].append(Punch(id=pid, kind=kind, at=at, source=source))
    signed: dict[int, list[tuple[dt.date, dt.date]]] = defaultdict(list)
    for uid, p_start, p_end in session.execute(
        sa.select(Timecard.user_id, Timecard.period_start, Timecard.period_end).where(
            Timecard.user_id.in_(ids),
            Timecard.status.in_(SIGNED),
            Timecard.period_start <= end,
            Timecard.period_end >= start,
        )
    ):
        signed[uid].append((p_start, p_end))
    as_of = now()
    out: dict[int, dict[dt.date, tuple[int, bool]]] = {}
    for uid in ids:
        by_day: dict[dt.date, list[Punch]] = defaultdict(list)
        for p, day in attribute_days(punches.get(uid, ()), shifts.get(uid, []), tz):
            if start <= day <= end:
                by_day[day].append(p)
        shift_of = {sl.day: sl for sl in shifts.get(uid, [])}
        days: dict[dt.date, tuple[int, bool]] = {}
        for day, day_punches in by_day.items():
            worked = compute_day(day, shift_of.get(day), day_punches, False, rules, as_of).worked_minutes
            if worked:
                days[day] = (worked, any(a <= day <= b for a, b in signed.get(uid, ())))
        out[uid] = days
    return out


def _row(user: User | None, a: _Acc, *, login: str = "", name: str = "") -> ClerkOutput:
    kinds = tuple(KindCount(k.value, *a.kinds.get(k.value, [0, 0])) for k in KINDS)
    return ClerkOutput(
        user_id=user.id if user else None,
        login=user.login if user else login,
        name=user.name if user else name,
        clients_billed=a.clients,
        invoices_issued=a.issued,
        amount_billed=a.billed,
        invoices_paid=a.paid,
        collected=a.collected,
        items_assigned=sum(k.assigned for k in kinds),
        items_done=sum(k.done for k in kinds),
        by_kind=kinds,
        contacts=a.contacts,
        disputes_opened=a.opened,
        disputes_decided=a.decided,
        worked_minutes=a.worked,
        signed_minutes=a.signed,
    )


def _user_by_login(session: Session, login: str) -> User:
    user = session.scalars(sa.select(User).where(User.login == login)).first()
    if user is None:
        raise NotFound(f"no user {login!r}")
    return user


def _subject(actor: Actor, session: Session, login: str | None) -> User | None:
    """Whose figures: None = everybody (supervisors only); a clerk always gets only their own."""
    require(actor, Action.VIEW)
    if actor.can(Action.REPORTS_TEAM):
        return _user_by_login(session, login) if login else None
    if login and login != actor.login:
        raise PermissionDenied(f"{actor.login} may see only their own figures, not {login}'s")
    user = session.get(User, actor.user_id)
    if user is None:
        raise NotFound(f"no user {actor.login!r}")
    return user


def output_report(
    actor: Actor, session: Session, start: dt.date, end: dt.date, login: str | None = None
) -> OutputReport:
    """Per-person output for office days ``start``..``end`` (inclusive) and the team total.

    A supervisor sees every clerk employed in the range (and anyone else with output in it), or
    one person with ``login``; anyone else sees only their own row and no team total."""
    subject = _subject(actor, session, login)
    check_range(start, end)
    tz = office_timezone(session)
    acc, team_clients = _aggregate(session, start, end, tz, subject.id if subject else None)
    if subject is not None:
        users = [subject]
    else:
        employed = (User.hire_date <= end) & (
            User.termination_date.is_(None) | (User.termination_date >= start)
        )
        users = list(
            session.scalars(
                sa.select(User).where((employed & (User.role == Role.CLERK)) | User.id.in_(sorted(acc)))
            )
        )
    worked = worked_by_day(session, [u.id for u in users], start, end)
    for u in users:
        a = acc[u.id]
        for minutes, on_signed in worked.get(u.id, {}).values():
            a.worked += minutes
            a.signed += minutes if on_signed else 0
    users.sort(key=lambda u: (u.name.casefold(), u.login))
    rows = tuple(_row(u, acc[u.id]) for u in users)
    team = None
    if subject is None and actor.can(Action.REPORTS_TEAM):
        t = _Acc(clients=team_clients)
        for r in rows:
            t.issued += r.invoices_issued
            t.billed += r.amount_billed
            t.paid += r.invoices_paid
            t.collected += r.collected
            for k in r.by_kind:
                cur = t.kinds.setdefault(k.kind, [0, 0])
                cur[0] += k.assigned
                cur[1] += k.done
            t.contacts += r.contacts
            t.opened += r.disputes_opened
            t.decided += r.disputes_decided
            t.worked += r.worked_minutes
            t.signed += r.signed_minutes
        team = _row(None, t, login=TEAM_LOGIN, name="Team total")
    return OutputReport(start=start, end=end, tz=tz, rows=rows, team=team)


def current_period(session: Session, kind: str) -> ReportPeriod:
    """The day, week or month holding the office's today."""
    from db.timeutil import office_today

    today = office_today(office_timezone(session))
    return period_of(kind, dt.date(today.year, today.month, today.day), week_start_of(session))


def trend_reports(
    actor: Actor, session: Session, period: ReportPeriod, count: int = 8, login: str | None = None
) -> tuple[tuple[ReportPeriod, ...], tuple[OutputReport, ...]]:
    """The reports of the last ``count`` periods ending with ``period`` (oldest first): every
    figure's trend at once, so a screen can switch figures without asking again."""
    if not 1 <= count <= 31:
        raise ValidationError.from_fields({"count": "between 1 and 31 periods"})
    ws = week_start_of(session)
    periods = tuple(step(period, -i, ws) for i in reversed(range(count)))
    return periods, tuple(output_report(actor, session, p.start, p.end, login) for p in periods)


def series(reports: Sequence[OutputReport], figure: str) -> dict[str, tuple[float, ...]]:
    """Each login's ``figure`` over the reports (0 where a person has no row); ``TEAM`` too."""
    out: dict[str, list[float]] = {}
    for i, rep in enumerate(reports):
        for r in (*rep.rows, *((rep.team,) if rep.team else ())):
            out.setdefault(r.login, [0.0] * len(reports))[i] = float(r.value(figure) or 0)
    return {k: tuple(v) for k, v in out.items()}


def trend(
    actor: Actor,
    session: Session,
    period: ReportPeriod,
    figure: str,
    count: int = 8,
    login: str | None = None,
) -> tuple[tuple[ReportPeriod, ...], dict[str, tuple[float, ...]]]:
    """The last ``count`` periods ending with ``period``: each person's ``figure`` per period
    (oldest first), for sparklines. Keys are logins (``TEAM`` for the team when visible)."""
    if figure not in FIGURE_BY_KEY:
        raise ValidationError.from_fields({"figure": f"unknown figure {figure!r}"})
    periods, reports = trend_reports(actor, session, period, count, login)
    return periods, series(reports, figure)


# --------------------------------------------------------------------------- drill-down


@dataclass(frozen=True)
class DrillPage:
    """The rows behind one figure, one page, keyset-paged: ``next_after`` continues it."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, tuple[str, ...]], ...]
    next_after: Any


DRILL_COLUMNS: dict[str, tuple[str, ...]] = {
    "invoices": ("Issued", "Number", "Account", "Client", "Bill to", "Status", "Total", "By"),
    "payments": ("Received", "Amount", "Method", "From", "Reference", "Posted", "By"),
    "paid": ("Paid on", "Invoice", "Total", "Issued by", "Payment", "Ref.", "Posted by"),
    "items": ("Day", "Kind", "Account", "Client", "Outcome", "Finished", "Clerk"),
    "items_done": ("Day", "Kind", "Account", "Client", "Outcome", "Finished", "Clerk"),
    "contacts": ("At", "Account", "Client", "Channel", "Direction", "Outcome", "By"),
    "disputes_opened": ("Opened", "Invoice", "Reason", "Status", "Opened by", "Decided", "Decided by"),
    "disputes_decided": ("Opened", "Invoice", "Reason", "Status", "Opened by", "Decided", "Decided by"),
    "hours": ("Day", "Clerk", "Worked", "Timecard"),
}
DRILLS = tuple(DRILL_COLUMNS)


def _after(cols: Sequence[Any], after: Sequence[Any] | None) -> sa.ColumnElement[bool]:
    """Keyset condition (a, b) > (x, y), written out so every database plans it the same way."""
    if after is None:
        return sa.true()
    (c1, c2), (v1, v2) = cols, after
    return sa.or_(c1 > v1, sa.and_(c1 == v1, c2 > v2))


def _page(rows: list[Any], limit: int, key: Any) -> tuple[list[Any], Any]:
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (key(rows[-1]) if more and rows else None)


def _fmt(value: Decimal | None, symbol: str) -> str:
    from db.money import fmt_money

    return fmt_money(value, symbol) if value is not None else ""


def _logins(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    return dict(session.execute(sa.select(User.id, User.login).where(User.id.in_(wanted))).all())


def drill(
    actor: Actor,
    session: Session,
    figure: str,
    start: dt.date,
    end: dt.date,
    login: str | None = None,
    *,
    after: Any = None,
    limit: int = 50,
) -> DrillPage:
    """The rows behind ``figure`` for one person (``login``) or everybody, paged by key."""
    from db.models import Client, Payer

    if figure not in FIGURE_BY_KEY and figure not in DRILLS:
        raise ValidationError.from_fields({"figure": f"unknown figure {figure!r}"})
    kind = FIGURE_BY_KEY[figure].drill if figure in FIGURE_BY_KEY else figure
    subject = _subject(actor, session, login)
    check_range(start, end)
    limit = max(1, min(limit, 500))
    tz = office_timezone(session)
    symbol = str(get_setting(session, "office.currency_symbol"))
    lo, hi = instants(start, end, tz)
    uid = subject.id if subject else None
    whom = f" — {subject.login}" if subject else " — everybody"

    def who(col: Any) -> sa.ColumnElement[bool]:
        return col == uid if uid is not None else sa.true()

    def local(at: pendulum.DateTime | None) -> str:
        return at.in_timezone(tz).format("YYYY-MM-DD HH:mm") if at is not None else ""

    client_name = (Client.last_name + ", " + Client.first_name).label("client")
    if kind == "invoices":
        stmt = (
            sa.select(Invoice, Client.account_number, client_name)
            .join(Client, Client.id == Invoice.client_id)
            .where(_invoice_filter(start, end), who(Invoice.issued_by))
            .where(_after((Invoice.issue_date, Invoice.id), after))
            .order_by(Invoice.issue_date, Invoice.id)
            .limit(limit + 1)
        )
        rows, nxt = _page(list(session.execute(stmt)), limit, lambda r: (r[0].issue_date, r[0].id))
        names = _logins(session, (r[0].issued_by for r in rows))
        return DrillPage(
            f"Invoices issued{whom}",
            DRILL_COLUMNS[kind],
            tuple(
                (
                    (inv.issue_date, inv.id),
                    (
                        inv.issue_date.isoformat(),
                        inv.number or "",
                        acct,
                        name,
                        inv.bill_to.value,
                        inv.status.value,
                        _fmt(inv.total, symbol),
                        names.get(inv.issued_by or 0, ""),
                    ),
                )
                for inv, acct, name in rows
            ),
            nxt,
        )
    pay = (Payment.received_on >= start) & (Payment.received_on <= end) & who(Payment.posted_by)
    if kind == "payments":
        pay_stmt = (
            sa.select(Payment, Client.account_number, Payer.name)
            .outerjoin(Client, Client.id == Payment.client_id)
            .outerjoin(Payer, Payer.id == Payment.payer_id)
            .where(pay, _after((Payment.received_on, Payment.id), after))
            .order_by(Payment.received_on, Payment.id)
            .limit(limit + 1)
        )
        rows, nxt = _page(list(session.execute(pay_stmt)), limit, lambda r: (r[0].received_on, r[0].id))
        names = _logins(session, (r[0].posted_by for r in rows))
        return DrillPage(
            f"Money collected{whom}",
            DRILL_COLUMNS[kind],
            tuple(
                (
                    (p.received_on, p.id),
                    (
                        p.received_on.isoformat(),
                        _fmt(p.amount, symbol),
                        p.method.value,
                        payer or acct or "",
                        p.reference,
                        local(p.posted_at),
                        names.get(p.posted_by, ""),
                    ),
                )
                for p, acct, payer in rows
            ),
            nxt,
        )
    if kind == "paid":
        alloc_stmt = (
            sa.select(Allocation.id, Payment, Invoice)
            .join(Payment, Payment.id == Allocation.payment_id)
            .join(Invoice, Invoice.id == Allocation.invoice_id)
            .where(pay, _settling(), _after((Payment.received_on, Allocation.id), after))
            .order_by(Payment.received_on, Allocation.id)
            .limit(limit + 1)
        )
        rows, nxt = _page(list(session.execute(alloc_stmt)), limit, lambda r: (r[1].received_on, r[0]))
        names = _logins(session, [i for r in rows for i in (r[1].posted_by, r[2].issued_by)])
        return DrillPage(
            f"Invoices paid{whom}",
            DRILL_COLUMNS[kind],
            tuple(
                (
                    (p.received_on, alloc_id),
                    (
                        p.received_on.isoformat(),
                        inv.number or "",
                        _fmt(inv.total, symbol),
                        names.get(inv.issued_by or 0, ""),
                        _fmt(p.amount, symbol),
                        p.reference,
                        names.get(p.posted_by, ""),
                    ),
                )
                for alloc_id, p, inv in rows
            ),
            nxt,
        )
    if kind in ("items", "items_done"):
        cond = (
            (Assignment.day >= start)
            & (Assignment.day <= end)
            & Assignment.published.is_(True)
            & who(Assignment.user_id)
        )
        if kind == "items_done":
            cond = cond & _done()
        work_stmt = (
            sa.select(Assignment, WorkItem.kind, Client.account_number, client_name)
            .join(WorkItem, WorkItem.id == Assignment.work_item_id)
            .join(Client, Client.id == WorkItem.client_id)
            .where(cond, _after((Assignment.day, Assignment.id), after))
            .order_by(Assignment.day, Assignment.id)
            .limit(limit + 1)
        )
        rows, nxt = _page(list(session.execute(work_stmt)), limit, lambda r: (r[0].day, r[0].id))
        names = _logins(session, (r[0].user_id for r in rows))
        title = "Work items done" if kind == "items_done" else "Work items assigned"
        return DrillPage(
            f"{title}{whom}",
            DRILL_COLUMNS[kind],
            tuple(
                (
                    (a.day, a.id),
                    (
                        a.day.isoformat(),
                        WorkKind(k).value,
                        acct,
                        name,
                        a.outcome.value if a.outcome else "open",
                        local(a.finished_at),
                        names.get(a.user_id, ""),
                    ),
                )
                for a, k, acct, name in rows
            ),
            nxt,
        )
    if kind == "contacts":
        contact_stmt = (
            sa.select(ContactAttempt, Client.account_number, client_name)
            .join(Client, Client.id == ContactAttempt.client_id)
            .where(
                ContactAttempt.at >= lo,
                ContactAttempt.at < hi,
                who(ContactAttempt.made_by),
                _after((ContactAttempt.at, ContactAttempt.id), after),
            )
            .order_by(ContactAttempt.at, ContactAttempt.id)
            .limit(limit + 1)
        )
        rows, nxt = _page(list(session.execute(contact_stmt)), limit, lambda r: (r[0].at, r[0].id))
        names = _logins(session, (r[0].made_by for r in rows))
        return DrillPage(
            f"Contacts made{whom}",
            DRILL_COLUMNS[kind],
            tuple(
                (
                    (c.at, c.id),
                    (
                        local(c.at),
                        acct,
                        name,
                        c.channel.value,
                        c.direction.value,
                        c.outcome.value,
                        names.get(c.made_by, ""),
                    ),
                )
                for c, acct, name in rows
            ),
            nxt,
        )
    if kind in ("disputes_opened", "disputes_decided"):
        opened = kind == "disputes_opened"
        at_col = Dispute.opened_at if opened else Dispute.decided_at
        by_col = Dispute.opened_by if opened else Dispute.decided_by
        dispute_stmt = (
            sa.select(Dispute, Invoice.number)
            .join(Invoice, Invoice.id == Dispute.invoice_id)
            .where(
                at_col >= lo,
                at_col < hi,
                by_col.is_not(None),
                who(by_col),
                _after((at_col, Dispute.id), after),
            )
            .order_by(at_col, Dispute.id)
            .limit(limit + 1)
        )
        rows, nxt = _page(
            list(session.execute(dispute_stmt)),
            limit,
            lambda r: (r[0].opened_at if opened else r[0].decided_at, r[0].id),
        )
        names = _logins(session, [i for r in rows for i in (r[0].opened_by, r[0].decided_by)])
        return DrillPage(
            f"Disputes {'opened' if opened else 'decided'}{whom}",
            DRILL_COLUMNS[kind],
            tuple(
                (
                    (d.opened_at if opened else d.decided_at, d.id),
                    (
                        local(d.opened_at),
                        number or "",
                        d.reason.value,
                        d.status.value,
                        names.get(d.opened_by, ""),
                        local(d.decided_at),
                        names.get(d.decided_by or 0, ""),
                    ),
                )
                for d, number in rows
            ),
            nxt,
        )
    # hours: one row per person and day worked, computed by the timecard rules (bounded by the
    # range: at most MAX_DAYS days per person), paged by (day, login).
    if subject is not None:
        login_of = {subject.id: subject.login}
    else:  # the report's own rows, so the days add up to the team's hours
        login_of = {r.user_id: r.login for r in output_report(actor, session, start, end).rows if r.user_id}
    worked = worked_by_day(session, list(login_of), start, end)
    flat = sorted(
        (
            (day, login_of[u], minutes, on_signed)
            for u, days in worked.items()
            for day, (minutes, on_signed) in days.items()
        ),
    )
    if after is not None:
        flat = [r for r in flat if (r[0], r[1]) > tuple(after)]
    page, nxt = _page(flat, limit, lambda r: (r[0], r[1]))
    return DrillPage(
        f"Hours worked{whom}",
        DRILL_COLUMNS[kind],
        tuple(
            (
                (day, who_login),
                (day.isoformat(), who_login, hours_text(minutes), "signed" if on_signed else "not signed"),
            )
            for day, who_login, minutes, on_signed in page
        ),
        nxt,
    )


def hours_text(minutes: int) -> str:
    """``125`` → ``2:05``."""
    h, m = divmod(minutes, 60)
    return f"{h}:{m:02d}"
