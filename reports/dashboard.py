"""Figures for the two home screens: the supervisor's dashboard and the clerk's "my day".

Plain read queries, counted in the database (never by loading rows into Python), so the
dashboard stays instant on an office with hundreds of thousands of rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pendulum
import sqlalchemy as sa
from sqlalchemy.orm import Session

from billing.coverage import eligibility_status
from db.models import (
    Assignment,
    BillTo,
    Client,
    ClockEvent,
    ClockKind,
    Coverage,
    CoverageRequirement,
    Dispute,
    DisputeReason,
    DisputeStatus,
    Holiday,
    Installment,
    InstallmentStatus,
    Invoice,
    InvoiceStatus,
    Payer,
    RequestStatus,
    ServiceRendered,
    Shift,
    ShiftStatus,
    ShiftType,
    Timecard,
    TimecardStatus,
    TimeOffRequest,
    User,
    WorkItem,
    WorkOutcome,
    WorkStatus,
)
from db.rights import Action, Actor, require
from db.settings import get_setting, office_timezone
from db.timeutil import now

OPEN_INVOICE = (InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID)


@dataclass(frozen=True)
class OnShift:
    user_id: int
    login: str
    name: str
    shift_code: str
    starts: str  # local "07:00"
    ends: str
    clocked_in_at: str | None  # local "07:03" or None
    late_minutes: int  # beyond grace, for a clerk who clocked in late; 0 otherwise
    state: str  # what the supervisor reads: "not clocked in (shift began 07:00)", "in since 07:03", …
    on_now: bool  # clocked in (or on a break) right now
    not_in: bool  # the shift is running (past the grace) and there is no clock-in
    items_total: int  # today's published list
    items_done: int  # finished with an outcome other than skipped
    items_open: int  # no outcome yet
    minutes_left: int  # effort of the open items
    shift_minutes_left: int  # from now to the end of the shift (the whole shift before it starts)

    @property
    def behind(self) -> bool:
        """More open work than shift left."""
        return self.minutes_left > self.shift_minutes_left


@dataclass(frozen=True)
class CoverageGap:
    shift_code: str
    shift_name: str
    required: int
    published: int

    @property
    def short(self) -> int:
        return max(self.required - self.published, 0)


@dataclass(frozen=True)
class InboxItem:
    """One decision waiting for a supervisor, and where it is taken."""

    kind: str  # timecard | dispute | time_off | override
    ref: int  # timecard user id, dispute id, request id, coverage id
    who: str
    what: str
    since: str  # local date or date-time
    period_start: dt.date | None = None  # for a timecard


@dataclass(frozen=True)
class Dashboard:
    today: dt.date
    office_time: str
    on_shift: list[OnShift]
    clients_to_bill: int
    unbilled_services: int
    overdue_invoices: int
    installments_due: int
    items_open: int
    items_unassigned: int
    items_done: int
    timecards_to_sign: int
    disputes_open: int
    time_off_pending: int
    overrides_waiting: int = 0
    coverage_gaps: tuple[CoverageGap, ...] = ()
    inbox: tuple[InboxItem, ...] = ()  # at most INBOX_LIMIT of each kind, oldest first

    @property
    def pending_approvals(self) -> int:
        return self.timecards_to_sign + self.disputes_open + self.time_off_pending + self.overrides_waiting

    @property
    def late_arrivals(self) -> list[OnShift]:
        """Clocked in late (beyond the grace)."""
        return [p for p in self.on_shift if p.late_minutes > 0]

    @property
    def not_clocked_in(self) -> list[OnShift]:
        """Shift running past the grace, no clock-in: not "late N minutes", just not in."""
        return [p for p in self.on_shift if p.not_in]

    @property
    def on_now(self) -> list[OnShift]:
        return [p for p in self.on_shift if p.on_now]


INBOX_LIMIT = 50  # rows of each kind in the inbox; the counters carry the totals


def _count(session: Session, stmt: sa.Select[int]) -> int:
    return int(session.scalar(stmt) or 0)


def _minutes(a: pendulum.DateTime, b: pendulum.DateTime) -> int:
    return int((b - a).total_seconds() // 60)


def _state(
    shift: Shift,
    events: list[tuple[ClockKind, pendulum.DateTime]],
    at: pendulum.DateTime,
    grace: int,
    tz: str,
) -> tuple[str, bool, bool, int, str | None]:
    """(state text, on now, not in, late minutes, first clock-in "HH:mm") for one shift."""

    def hm(t: pendulum.DateTime) -> str:
        return t.in_timezone(tz).format("HH:mm")

    began = hm(shift.starts_at)
    ins = [t for k, t in events if k == ClockKind.IN]
    if not ins:
        if at < shift.starts_at:
            return f"starts {began}", False, False, 0, None
        if at >= shift.ends_at:
            return f"no clock-in (shift {began}–{hm(shift.ends_at)})", False, False, 0, None
        if at <= shift.starts_at.add(minutes=grace):
            return f"due at {began}", False, False, 0, None
        return f"not clocked in (shift began {began})", False, True, 0, None
    first = ins[0]
    late = _minutes(shift.starts_at, first.replace(second=0, microsecond=0))
    late = late if late > grace else 0
    kind, last_at = events[-1]
    on_now = kind in (ClockKind.IN, ClockKind.BREAK_END, ClockKind.BREAK_START)
    lateness = f", late {late} min" if late else ""
    if kind == ClockKind.OUT:
        text = f"clocked out {hm(last_at)} (in {hm(first)}{lateness})"
    elif kind == ClockKind.BREAK_START:
        text = f"on break since {hm(last_at)} (in {hm(first)}{lateness})"
    else:
        text = f"in since {hm(first)}{lateness}"
    return text, on_now, False, late, hm(first)


def _coverage_gaps(session: Session, today: dt.date) -> tuple[CoverageGap, ...]:
    """Shift types below their minimum today: published shifts against the coverage wanted (a
    requirement for the date wins over the weekday's; none on a holiday)."""
    if session.scalar(sa.select(Holiday.id).where(Holiday.day == today)) is not None:
        return ()
    wanted: dict[int, int] = {}
    for type_id, weekday, required in session.execute(
        sa.select(
            CoverageRequirement.shift_type_id, CoverageRequirement.weekday, CoverageRequirement.required
        ).where((CoverageRequirement.on_date == today) | (CoverageRequirement.weekday == today.weekday()))
    ):
        if weekday is None or type_id not in wanted:  # the date's own requirement wins
            wanted[type_id] = required
    if not wanted:
        return ()
    have = dict(
        session.execute(
            sa.select(Shift.shift_type_id, sa.func.count())
            .where(Shift.day == today, Shift.status == ShiftStatus.PUBLISHED)
            .group_by(Shift.shift_type_id)
        ).all()
    )
    out = []
    for t in session.scalars(
        sa.select(ShiftType).where(ShiftType.id.in_(wanted)).order_by(ShiftType.start_time)
    ):
        gap = CoverageGap(t.code, t.name, wanted[t.id], int(have.get(t.id, 0)))
        if gap.short:
            out.append(gap)
    return tuple(out)


def _overrides(session: Session, today: dt.date, tz: str) -> list[InboxItem]:
    """Coverages whose draft invoices cannot be issued without a supervisor's override: the
    eligibility check is missing, stale, pending or negative and no override is in force."""
    drafts = session.execute(
        sa.select(Invoice.coverage_id, sa.func.min(Invoice.created_at), sa.func.count())
        .where(
            Invoice.status == InvoiceStatus.DRAFT,
            Invoice.bill_to == BillTo.PAYER,
            Invoice.coverage_id.is_not(None),
        )
        .group_by(Invoice.coverage_id)
        .order_by(sa.func.min(Invoice.created_at))
        .limit(INBOX_LIMIT * 4)
    ).all()
    out: list[InboxItem] = []
    for cov_id, since, count in drafts:
        if cov_id is None:  # the query keeps coverage_id IS NOT NULL
            continue
        status = eligibility_status(session, cov_id, today)
        if status.ok_to_bill:
            continue
        row = session.execute(
            sa.select(
                Payer.name, Coverage.member_id, Client.last_name, Client.first_name, Client.account_number
            )
            .join(Coverage, Coverage.payer_id == Payer.id)
            .join(Client, Client.id == Coverage.client_id)
            .where(Coverage.id == cov_id)
        ).one()
        payer, member, last, first, account = row
        out.append(
            InboxItem(
                "override",
                cov_id,
                f"{last}, {first} ({account})",
                f"{payer}, member {member}: {status.message}; {count} draft invoice(s) waiting",
                since.in_timezone(tz).format("YYYY-MM-DD"),
            )
        )
        if len(out) >= INBOX_LIMIT:
            break
    return out


def _inbox(session: Session, today: dt.date, tz: str) -> list[InboxItem]:
    names = {
        uid: (login, name) for uid, login, name in session.execute(sa.select(User.id, User.login, User.name))
    }

    def who(uid: int | None) -> str:
        return f"{names[uid][1]} ({names[uid][0]})" if uid in names else "?"

    items: list[InboxItem] = []
    for uid, start, end, submitted in session.execute(
        sa.select(Timecard.user_id, Timecard.period_start, Timecard.period_end, Timecard.submitted_at)
        .where(Timecard.status == TimecardStatus.SUBMITTED)
        .order_by(Timecard.submitted_at, Timecard.id)
        .limit(INBOX_LIMIT)
    ):
        items.append(
            InboxItem(
                "timecard",
                uid,
                who(uid),
                f"timecard {start:%d %b} – {end:%d %b %Y} to sign",
                submitted.in_timezone(tz).format("YYYY-MM-DD HH:mm") if submitted else "",
                period_start=start,
            )
        )
    for d_id, opened_by, opened_at, reason, number in session.execute(
        sa.select(Dispute.id, Dispute.opened_by, Dispute.opened_at, Dispute.reason, Invoice.number)
        .join(Invoice, Invoice.id == Dispute.invoice_id)
        .where(Dispute.status == DisputeStatus.OPEN)
        .order_by(Dispute.opened_at, Dispute.id)
        .limit(INBOX_LIMIT)
    ):
        items.append(
            InboxItem(
                "dispute",
                d_id,
                who(opened_by),
                f"dispute on {number or 'a draft'}: {DisputeReason(reason).value.replace('_', ' ')}",
                opened_at.in_timezone(tz).format("YYYY-MM-DD HH:mm"),
            )
        )
    for r_id, uid, start, end, created in session.execute(
        sa.select(
            TimeOffRequest.id,
            TimeOffRequest.user_id,
            TimeOffRequest.start_date,
            TimeOffRequest.end_date,
            TimeOffRequest.created_at,
        )
        .where(TimeOffRequest.status == RequestStatus.REQUESTED)
        .order_by(TimeOffRequest.created_at, TimeOffRequest.id)
        .limit(INBOX_LIMIT)
    ):
        span = start.isoformat() if start == end else f"{start.isoformat()} – {end.isoformat()}"
        items.append(
            InboxItem(
                "time_off", r_id, who(uid), f"time off {span}", created.in_timezone(tz).format("YYYY-MM-DD")
            )
        )
    items.extend(_overrides(session, today, tz))
    return items


def dashboard(actor: Actor, session: Session) -> Dashboard:
    require(actor, Action.REPORTS_TEAM)
    tz = office_timezone(session)
    at = now()
    local_now = at.in_timezone(tz)
    today = local_now.date()
    grace = int(get_setting(session, "time.grace_minutes"))

    shifts = session.execute(
        sa.select(Shift, User, ShiftType)
        .join(User, User.id == Shift.user_id)
        .join(ShiftType, ShiftType.id == Shift.shift_type_id)
        .where(Shift.day == today, Shift.status == ShiftStatus.PUBLISHED)
        .order_by(Shift.starts_at, User.name)
    ).all()
    # Grouped queries for everyone on shift (never one query per clerk: 200 clerks would mean
    # hundreds of round trips). A clock-in up to 2 h early still counts for today's shift.
    user_ids = [user.id for _, user, _ in shifts]
    events: dict[int, list[tuple[ClockKind, pendulum.DateTime]]] = {}
    lists: dict[int, tuple[int, int, int, int]] = {}
    if shifts:
        window_start = min(sh.starts_at for sh, _, _ in shifts).subtract(hours=2)
        window_end = max(sh.ends_at for sh, _, _ in shifts)
        for uid, kind, when in session.execute(
            sa.select(ClockEvent.user_id, ClockEvent.kind, ClockEvent.at)
            .where(
                ClockEvent.user_id.in_(user_ids),
                ClockEvent.voided.is_(False),
                ClockEvent.at >= window_start,
                ClockEvent.at < window_end,
                ClockEvent.at <= at,
            )
            .order_by(ClockEvent.at, ClockEvent.id)
        ):
            events.setdefault(uid, []).append((kind, when))
        done = sa.and_(Assignment.outcome.is_not(None), Assignment.outcome != WorkOutcome.SKIPPED)
        lists = {
            uid: (int(total), int(n_done or 0), int(n_open or 0), int(left or 0))
            for uid, total, n_done, n_open, left in session.execute(
                sa.select(
                    Assignment.user_id,
                    sa.func.count(Assignment.id),
                    sa.func.sum(sa.case((done, 1), else_=0)),
                    sa.func.sum(sa.case((Assignment.outcome.is_(None), 1), else_=0)),
                    sa.func.sum(sa.case((Assignment.outcome.is_(None), WorkItem.effort_minutes), else_=0)),
                )
                .join(WorkItem, WorkItem.id == Assignment.work_item_id)
                .where(
                    Assignment.user_id.in_(user_ids), Assignment.day == today, Assignment.published.is_(True)
                )
                .group_by(Assignment.user_id)
            ).all()
        }
    on_shift: list[OnShift] = []
    for shift, user, stype in shifts:
        mine = [(k, t) for k, t in events.get(user.id, []) if t >= shift.starts_at.subtract(hours=2)]
        state, on_now, not_in, late, first_in = _state(shift, mine, at, grace, tz)
        total, n_done, n_open, left = lists.get(user.id, (0, 0, 0, 0))
        shift_left = max(0, _minutes(max(at, shift.starts_at), shift.ends_at))
        on_shift.append(
            OnShift(
                user_id=user.id,
                login=user.login,
                name=user.name,
                shift_code=stype.code,
                starts=shift.starts_at.in_timezone(tz).format("HH:mm"),
                ends=shift.ends_at.in_timezone(tz).format("HH:mm"),
                clocked_in_at=first_in,
                late_minutes=late,
                state=state,
                on_now=on_now,
                not_in=not_in,
                items_total=total,
                items_done=n_done,
                items_open=n_open,
                minutes_left=left,
                shift_minutes_left=shift_left,
            )
        )

    inbox = _inbox(session, today, tz)
    unbilled = ServiceRendered.billed.is_(False) & ServiceRendered.voided.is_(False)
    return Dashboard(
        today=today,
        office_time=local_now.format("ddd D MMM YYYY HH:mm zz"),
        on_shift=on_shift,
        clients_to_bill=_count(
            session, sa.select(sa.func.count(sa.distinct(ServiceRendered.client_id))).where(unbilled)
        ),
        unbilled_services=_count(
            session, sa.select(sa.func.count()).select_from(ServiceRendered).where(unbilled)
        ),
        overdue_invoices=_count(
            session,
            sa.select(sa.func.count())
            .select_from(Invoice)
            .where(Invoice.status.in_(OPEN_INVOICE), Invoice.due_date < today),
        ),
        installments_due=_count(
            session,
            sa.select(sa.func.count())
            .select_from(Installment)
            .where(
                Installment.status.in_((InstallmentStatus.DUE, InstallmentStatus.PARTIAL)),
                Installment.due_date <= today,
            ),
        ),
        items_open=_count(
            session,
            sa.select(sa.func.count())
            .select_from(WorkItem)
            .where(WorkItem.day == today, WorkItem.status == WorkStatus.OPEN),
        ),
        items_unassigned=_count(
            session,
            sa.select(sa.func.count())
            .select_from(WorkItem)
            .outerjoin(Assignment, Assignment.work_item_id == WorkItem.id)
            .where(WorkItem.day == today, WorkItem.status == WorkStatus.OPEN, Assignment.id.is_(None)),
        ),
        items_done=_count(
            session,
            sa.select(sa.func.count())
            .select_from(WorkItem)
            .where(WorkItem.day == today, WorkItem.status == WorkStatus.DONE),
        ),
        timecards_to_sign=_count(
            session,
            sa.select(sa.func.count())
            .select_from(Timecard)
            .where(Timecard.status == TimecardStatus.SUBMITTED),
        ),
        disputes_open=_count(
            session,
            sa.select(sa.func.count()).select_from(Dispute).where(Dispute.status == DisputeStatus.OPEN),
        ),
        time_off_pending=_count(
            session,
            sa.select(sa.func.count())
            .select_from(TimeOffRequest)
            .where(TimeOffRequest.status == RequestStatus.REQUESTED),
        ),
        overrides_waiting=sum(1 for i in inbox if i.kind == "override"),
        coverage_gaps=_coverage_gaps(session, today),
        inbox=tuple(inbox),
    )


@dataclass(frozen=True)
class MyDay:
    today: dt.date
    office_time: str
    shift: str | None  # "E 07:00–15:00" or None
    next_shift: str | None  # the next published shift after today
    clock_state: (
        str  # "not clocked in", "clocked in since 07:02", "on break since 12:01", "clocked out at 15:04"
    )
    items_total: int
    items_done: int
    timecard_status: str | None
    owned_clients: int


def _shift_text(shift: Shift, stype: ShiftType, tz: str) -> str:
    start = shift.starts_at.in_timezone(tz)
    end = shift.ends_at.in_timezone(tz)
    return f"{stype.code} {stype.name} {start.format('ddd D MMM HH:mm')}–{end.format('HH:mm')}"


def my_day(actor: Actor, session: Session) -> MyDay:
    require(actor, Action.VIEW)
    tz = office_timezone(session)
    local_now = now().in_timezone(tz)
    today = local_now.date()
    published = (Shift.user_id == actor.user_id) & (Shift.status == ShiftStatus.PUBLISHED)
    row = session.execute(
        sa.select(Shift, ShiftType).join(ShiftType).where(published, Shift.day == today)
    ).first()
    nxt = session.execute(
        sa.select(Shift, ShiftType)
        .join(ShiftType)
        .where(published, Shift.day > today)
        .order_by(Shift.day)
        .limit(1)
    ).first()
    last = session.scalars(
        sa.select(ClockEvent)
        .where(ClockEvent.user_id == actor.user_id, ClockEvent.voided.is_(False))
        # Two punches in the same second (a frozen test clock, a fast double key): the later
        # row is the later event, as in scheduling.clock.
        .order_by(ClockEvent.at.desc(), ClockEvent.id.desc())
        .limit(1)
    ).first()
    state = "not clocked in"
    if last is not None:
        at = last.at.in_timezone(tz)
        when = at.format("HH:mm") if at.date() == today else at.format("ddd D MMM HH:mm")
        state = {
            ClockKind.IN: f"clocked in since {when}",
            ClockKind.BREAK_END: f"clocked in (back from break at {when})",
            ClockKind.BREAK_START: f"on break since {when}",
            ClockKind.OUT: f"clocked out at {when}",
        }[last.kind]
    total, done = session.execute(
        sa.select(sa.func.count(Assignment.id), sa.func.count(Assignment.finished_at)).where(
            Assignment.user_id == actor.user_id, Assignment.day == today, Assignment.published.is_(True)
        )
    ).one()
    card = session.scalars(
        sa.select(Timecard.status)
        # The card of the period that contains today, not the last one signed.
        .where(
            Timecard.user_id == actor.user_id, Timecard.period_start <= today, Timecard.period_end >= today
        )
        .limit(1)
    ).first()
    owned = _count(
        session, sa.select(sa.func.count()).select_from(Client).where(Client.owner_id == actor.user_id)
    )
    return MyDay(
        today=today,
        office_time=local_now.format("ddd D MMM YYYY HH:mm zz"),
        shift=_shift_text(row[0], row[1], tz) if row else None,
        next_shift=_shift_text(nxt[0], nxt[1], tz) if nxt else None,
        clock_state=state,
        items_total=int(total),
        items_done=int(done),
        timecard_status=card.value if card else None,
        owned_clients=owned,
    )
