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

from db.models import (
    Assignment,
    Client,
    ClockEvent,
    ClockKind,
    Dispute,
    DisputeStatus,
    Installment,
    InstallmentStatus,
    Invoice,
    InvoiceStatus,
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
    WorkStatus,
)
from db.rights import Action, Actor, require
from db.settings import get_setting, office_timezone
from db.timeutil import now

OPEN_INVOICE = (InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID)


@dataclass(frozen=True)
class OnShift:
    login: str
    name: str
    shift_code: str
    starts: str  # local "07:00"
    ends: str
    clocked_in_at: str | None  # local "07:03" or None
    late_minutes: int  # beyond grace; 0 when on time or not yet due
    items_total: int
    items_done: int


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

    @property
    def pending_approvals(self) -> int:
        return self.timecards_to_sign + self.disputes_open + self.time_off_pending

    @property
    def late_arrivals(self) -> list[OnShift]:
        return [p for p in self.on_shift if p.late_minutes > 0]


def _count(session: Session, stmt: sa.Select[tuple[int]]) -> int:
    return int(session.scalar(stmt) or 0)


def dashboard(actor: Actor, session: Session) -> Dashboard:
    require(actor, Action.REPORTS_TEAM)
    tz = office_timezone(session)
    local_now = now().in_timezone(tz)
    today = local_now.date()
    grace = int(get_setting(session, "time.grace_minutes"))

    shifts = session.execute(
        sa.select(Shift, User, ShiftType)
        .join(User, User.id == Shift.user_id)
        .join(ShiftType, ShiftType.id == Shift.shift_type_id)
        .where(Shift.day == today, Shift.status == ShiftStatus.PUBLISHED)
        .order_by(Shift.starts_at, User.name)
    ).all()
    # Two grouped queries for everyone on shift (never one query per clerk: 200 clerks would
    # mean 400 round trips). A clock-in up to 2 h early still counts for today's shift.
    user_ids = [user.id for _, user, _ in shifts]
    first_ins: dict[int, pendulum.DateTime] = {}
    counts: dict[int, tuple[int, int]] = {}
    if shifts:
        window_start = min(sh.starts_at for sh, _, _ in shifts).subtract(hours=2)
        window_end = max(sh.ends_at for sh, _, _ in shifts)
        first_ins = dict(
            session.execute(
                sa.select(ClockEvent.user_id, sa.func.min(ClockEvent.at))
                .where(
                    ClockEvent.user_id.in_(user_ids),
                    ClockEvent.kind == ClockKind.IN,
                    ClockEvent.voided.is_(False),
                    ClockEvent.at >= window_start,
                    ClockEvent.at < window_end,
                )
                .group_by(ClockEvent.user_id)
            ).all()
        )
        counts = {
            uid: (int(total), int(done))
            for uid, total, done in session.execute(
                sa.select(
                    Assignment.user_id, sa.func.count(Assignment.id), sa.func.count(Assignment.finished_at)
                )
                .where(
                    Assignment.user_id.in_(user_ids), Assignment.day == today, Assignment.published.is_(True)
                )
                .group_by(Assignment.user_id)
            ).all()
        }
    on_shift: list[OnShift] = []
    for shift, user, stype in shifts:
        first_in = first_ins.get(user.id)  # min() keeps the column's type: an aware UTC instant
        if first_in is not None and first_in < shift.starts_at.subtract(hours=2):
            first_in = None
        late = 0
        if first_in is not None:
            diff = int((first_in - shift.starts_at).total_seconds() // 60)
            late = diff if diff > grace else 0
        elif local_now > shift.starts_at.add(minutes=grace):
            late = int((local_now - shift.starts_at).total_seconds() // 60)
        total, done = counts.get(user.id, (0, 0))
        on_shift.append(
            OnShift(
                login=user.login,
                name=user.name,
                shift_code=stype.code,
                starts=shift.starts_at.in_timezone(tz).format("HH:mm"),
                ends=shift.ends_at.in_timezone(tz).format("HH:mm"),
                clocked_in_at=first_in.in_timezone(tz).format("HH:mm") if first_in else None,
                late_minutes=late,
                items_total=total,
                items_done=done,
            )
        )

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
        .order_by(ClockEvent.at.desc())
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
