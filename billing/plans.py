"""Payment plans (docs/payments.md): schedule, states, refresh, cancel, printable agreement.

* Amount financed = the client's open balance on their own bills at the moment the plan is
  made. Items on dispute hold are NOT financed (the dispute may waive them; financing them
  would bake a contested amount into a contract). A client with account credit must have it
  applied first, so the plan never finances money the office already holds.
* Installments: ``db.money.split_evenly`` (1000.00 / 3 → 333.33, 333.33, 333.34); dates weekly,
  every two weeks, or monthly on the first due date's day of month, clamped to the month's
  end (Jan 31 → Feb 28/29 → Mar 31: each date is computed from the first, never chained).
* The plan is account-level: every client-side payment (and credit application) made while
  the plan is open pays installments in due-date order, as well as the invoices themselves.
* States, recomputed by ``refresh_plan_states`` (nightly and when an account opens) and after
  every payment: an installment not fully paid more than ``billing.plan_grace_days`` after
  its due date is *missed*; one missed → ``late``; ``billing.plan_default_after_missed``
  missed → ``defaulted``; everything paid → ``completed``. A late plan that catches up is
  ``active`` again; a defaulted plan stays defaulted until paid off (or cancelled by a
  supervisor). Only an ``active`` plan pauses dunning (``has_current_plan``).
* One open plan (active, late or defaulted) per client.
"""

from __future__ import annotations

import calendar
import datetime as dt
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import pendulum
import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from billing import ledger
from db import audit
from db.errors import ConflictError, NotFound, ValidationError
from db.models import (
    Client,
    ClientStatus,
    Installment,
    InstallmentStatus,
    PayerSide,
    PaymentPlan,
    PlanInterval,
    PlanStatus,
    User,
)
from db.money import ZERO, fmt_money, split_evenly
from db.rights import Action, Actor, require
from db.settings import get_setting, office_timezone
from db.timeutil import office_today

MAX_INSTALLMENTS = 120
MAX_FIRST_DUE_DAYS = 366  # a first due date further out is almost surely a typo
WIDTH = 80  # the printed agreement
REFRESH_CHUNK = 500

INTERVAL_WORDS: dict[PlanInterval, str] = {
    PlanInterval.WEEKLY: "weekly",
    PlanInterval.BIWEEKLY: "every two weeks",
    PlanInterval.MONTHLY: "monthly",
}


# --------------------------------------------------------------------------- schedule (pure)


def add_months(day: dt.date, months: int) -> dt.date:
    """Same day of month ``months`` later, clamped to the month's last day."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def due_dates(first_due: dt.date, count: int, interval: PlanInterval) -> list[dt.date]:
    if interval == PlanInterval.WEEKLY:
        return [first_due + dt.timedelta(weeks=i) for i in range(count)]
    if interval == PlanInterval.BIWEEKLY:
        return [first_due + dt.timedelta(weeks=2 * i) for i in range(count)]
    return [add_months(first_due, i) for i in range(count)]


@dataclass(frozen=True)
class ScheduleLine:
    seq: int
    due_date: dt.date
    amount: Decimal


def build_schedule(
    amount: Decimal, count: int, interval: PlanInterval, first_due: dt.date
) -> tuple[ScheduleLine, ...]:
    """Installments that sum exactly to ``amount``; the remainder is on the last one."""
    parts = split_evenly(amount, count)
    dates = due_dates(first_due, count, interval)
    return tuple(ScheduleLine(i + 1, d, a) for i, (d, a) in enumerate(zip(dates, parts, strict=True)))


# --------------------------------------------------------------------------- states (pure)


def installment_status(
    amount: Decimal, paid: Decimal, due: dt.date, as_of: dt.date, grace_days: int
) -> InstallmentStatus:
    if paid >= amount:
        return InstallmentStatus.PAID
    if as_of > due + dt.timedelta(days=grace_days):
        return InstallmentStatus.MISSED
    return InstallmentStatus.PARTIAL if paid > 0 else InstallmentStatus.DUE


def next_plan_status(
    current: PlanStatus, statuses: Sequence[InstallmentStatus], default_after: int
) -> PlanStatus:
    if current in (PlanStatus.COMPLETED, PlanStatus.CANCELLED):
        return current
    if all(s == InstallmentStatus.PAID for s in statuses):
        return PlanStatus.COMPLETED
    if current == PlanStatus.DEFAULTED:
        return current  # only paying it off ends a default
    missed = sum(1 for s in statuses if s == InstallmentStatus.MISSED)
    if missed >= max(1, default_after):
        return PlanStatus.DEFAULTED
    return PlanStatus.LATE if missed else PlanStatus.ACTIVE


# --------------------------------------------------------------------------- views


@dataclass(frozen=True)
class InstallmentView:
    id: int
    seq: int
    due_date: dt.date
    amount: Decimal
    paid_amount: Decimal
    status: InstallmentStatus

    @property
    def remaining(self) -> Decimal:
        return self.amount - self.paid_amount


@dataclass(frozen=True)
class PlanView:
    id: int
    number: str  # "PP-000012", printed on the agreement
    client_id: int
    account_number: str
    client_name: str
    amount_financed: Decimal
    installment_count: int
    interval: PlanInterval
    first_due: dt.date
    status: PlanStatus
    created_by: str  # login
    agreed_on: dt.date  # office date the plan was made
    version: int
    installments: tuple[InstallmentView, ...]

    @property
    def paid_total(self) -> Decimal:
        return sum((i.paid_amount for i in self.installments), ZERO)

    @property
    def remaining(self) -> Decimal:
        return self.amount_financed - self.paid_total

    @property
    def missed_count(self) -> int:
        return sum(1 for i in self.installments if i.status == InstallmentStatus.MISSED)

    @property
    def next_due(self) -> InstallmentView | None:
        """The earliest installment not fully paid."""
        return next((i for i in self.installments if i.status != InstallmentStatus.PAID), None)


@dataclass(frozen=True)
class PlanPreview:
    client_id: int
    account_number: str
    amount_financed: Decimal
    excluded_disputed: Decimal  # open balance on dispute hold, not financed
    schedule: tuple[ScheduleLine, ...]


@dataclass(frozen=True)
class PlanChange:
    plan_id: int
    account_number: str
    before: PlanStatus
    after: PlanStatus
    missed: int


@dataclass(frozen=True)
class RefreshResult:
    as_of: dt.date
    checked: int
    changes: tuple[PlanChange, ...]  # plans whose state or installment statuses moved


def plan_number(plan_id: int) -> str:
    return f"PP-{plan_id:06d}"


def _office_date(instant: dt.datetime, tz: str) -> dt.date:
    local = pendulum.instance(instant).in_timezone(tz)
    return dt.date(local.year, local.month, local.day)


def _view(session: Session, plan: PaymentPlan) -> PlanView:
    client = session.get(Client, plan.client_id)
    assert client is not None
    login = session.scalar(sa.select(User.login).where(User.id == plan.created_by)) or ""
    return PlanView(
        id=plan.id,
        number=plan_number(plan.id),
        client_id=plan.client_id,
        account_number=client.account_number,
        client_name=client.display_name,
        amount_financed=plan.amount_financed,
        installment_count=plan.installment_count,
        interval=plan.interval,
        first_due=plan.first_due,
        status=plan.status,
        created_by=login,
        agreed_on=_office_date(plan.created_at, office_timezone(session)),
        version=plan.version,
        installments=tuple(
            InstallmentView(i.id, i.seq, i.due_date, i.amount, i.paid_amount, i.status)
            for i in plan.installments
        ),
    )


# --------------------------------------------------------------------------- helpers shared with payments


def plan_settings(session: Session) -> tuple[int, int]:
    """(grace days, missed installments that mean default)."""
    return (
        int(get_setting(session, "billing.plan_grace_days")),
        int(get_setting(session, "billing.plan_default_after_missed")),
    )


def lock_open_plan(session: Session, client_id: int) -> PaymentPlan | None:
    """The client's open plan, locked for this transaction (PostgreSQL), or None."""
    stmt = (
        sa.select(PaymentPlan)
        .where(PaymentPlan.client_id == client_id, PaymentPlan.status.in_(ledger.OPEN_PLAN_STATUSES))
        .order_by(PaymentPlan.id)
        .limit(1)
    )
    plan = session.scalars(ledger.for_update(session, stmt)).first()
    if plan is not None:
        # Installments are changed only under the plan's lock, so reload them after taking it.
        session.refresh(plan, ["installments"])
    return plan


@dataclass(frozen=True)
class _Moved:
    change: PlanChange
    before: dict[str, object]
    after: dict[str, object]


def _settle(session: Session, plan: PaymentPlan, as_of: dt.date) -> _Moved | None:
    """Recompute installment statuses and the plan's state as of a day (no audit yet)."""
    if plan.status not in ledger.OPEN_PLAN_STATUSES:
        return None
    grace, default_after = plan_settings(session)
    statuses = [
        installment_status(i.amount, i.paid_amount, i.due_date, as_of, grace) for i in plan.installments
    ]
    new_status = next_plan_status(plan.status, statuses, default_after)
    moved = {i.seq: (i.status, s) for i, s in zip(plan.installments, statuses, strict=True) if i.status != s}
    if new_status == plan.status and not moved:
        return None
    before: dict[str, object] = {
        "status": plan.status,
        "installments": {str(k): v[0] for k, v in moved.items()},
    }
    after: dict[str, object] = {
        "status": new_status,
        "installments": {str(k): v[1] for k, v in moved.items()},
        "as_of": as_of,
    }
    old = plan.status
    for inst, s in zip(plan.installments, statuses, strict=True):
        inst.status = s
    plan.status = new_status
    account = session.scalar(sa.select(Client.account_number).where(Client.id == plan.client_id)) or ""
    missed = sum(1 for s in statuses if s == InstallmentStatus.MISSED)
    return _Moved(PlanChange(plan.id, account, old, new_status, missed), before, after)


def _record(actor: Actor, session: Session, moved: _Moved) -> None:
    audit.record(session, actor, "payment_plan", moved.change.plan_id, "state", moved.before, moved.after)


def settle_plan(actor: Actor, session: Session, plan: PaymentPlan, as_of: dt.date) -> PlanChange | None:
    """Move one plan to its state as of a day and audit it (the caller holds the plan's lock)."""
    moved = _settle(session, plan, as_of)
    if moved is None:
        return None
    session.flush()
    _record(actor, session, moved)
    return moved.change


def has_current_plan(session: Session, client_id: int) -> bool:
    """True when the client has an active (not late, not defaulted) plan: dunning pauses.

    The state is as of the last refresh or payment; a dunning run should call
    ``refresh_plan_states`` for its day first.
    """
    return (
        session.scalar(
            sa.select(PaymentPlan.id)
            .where(PaymentPlan.client_id == client_id, PaymentPlan.status == PlanStatus.ACTIVE)
            .limit(1)
        )
        is not None
    )


# --------------------------------------------------------------------------- services


def _validate_terms(
    session: Session, count: object, interval: object, first_due: object
) -> tuple[dict[str, str], int, PlanInterval | None, dt.date | None]:
    errors: dict[str, str] = {}
    n = 0
    if isinstance(count, bool) or not isinstance(count, int):
        errors["count"] = "must be a whole number of installments"
    elif not 1 <= count <= MAX_INSTALLMENTS:
        errors["count"] = f"must be between 1 and {MAX_INSTALLMENTS}"
    else:
        n = count
    iv: PlanInterval | None = None
    try:
        iv = PlanInterval(str(interval))  # not a str (None, a number): refused like a wrong word
    except ValueError:
        errors["interval"] = "must be weekly, biweekly or monthly"
    day: dt.date | None = None
    if not isinstance(first_due, dt.date) or isinstance(first_due, dt.datetime):
        errors["first_due"] = "must be a date"
    else:
        today = office_today(office_timezone(session))
        if first_due < today:
            errors["first_due"] = f"is in the past (today is {today.isoformat()})"
        elif first_due > today + dt.timedelta(days=MAX_FIRST_DUE_DAYS):
            errors["first_due"] = "is more than a year away"
        else:
            day = first_due
    return errors, n, iv, day


def _financeable(session: Session, client_id: int, *, lock: bool) -> tuple[Decimal, Decimal]:
    """(open balance that can be financed, balance on dispute hold)."""
    stmt = ledger.open_invoices(PayerSide.CLIENT, client_id=client_id)
    if lock:
        # Lock the bills being financed so a payment cannot slip in between reading and saving.
        session.scalars(ledger.for_update(session, stmt)).all()
    total = ledger.client_balance(session, client_id, include_disputed=True)
    free = ledger.client_balance(session, client_id, include_disputed=False)
    return free, total - free


def preview_plan(
    actor: Actor,
    session: Session,
    *,
    client_id: int,
    count: int,
    interval: PlanInterval | str,
    first_due: dt.date,
) -> PlanPreview:
    """What ``create_plan`` would make (for the confirmation screen). Changes nothing."""
    require(actor, Action.PLAN_CREATE)
    return _prepare(session, client_id, count, interval, first_due, lock=False)


def _prepare(
    session: Session,
    client_id: int,
    count: object,
    interval: object,
    first_due: object,
    *,
    lock: bool,
) -> PlanPreview:
    errors, n, iv, day = _validate_terms(session, count, interval, first_due)
    # Lock the client row: two clerks making a plan for the same client at once are serialised.
    client = session.get(Client, client_id, with_for_update=lock and _is_pg(session))
    if client is None:
        raise NotFound(f"no client with id {client_id}")
    if client.status == ClientStatus.CLOSED:
        errors["client"] = f"account {client.account_number} is closed"
    if errors:
        raise ValidationError.from_fields(errors)
    assert iv is not None and day is not None
    existing = session.scalar(
        sa.select(PaymentPlan.id).where(
            PaymentPlan.client_id == client_id, PaymentPlan.status.in_(ledger.OPEN_PLAN_STATUSES)
        )
    )
    if existing is not None:
        raise ConflictError(
            f"account {client.account_number} already has an open payment plan ({plan_number(existing)}); "
            "a supervisor must cancel it before a new one is made"
        )
    credit = ledger.account_credit(session, PayerSide.CLIENT, client_id=client_id)
    if credit > 0:
        raise ValidationError.from_fields(
            {"client": f"has {fmt_money(credit)} account credit; apply it to the open bills first"}
        )
    amount, disputed = _financeable(session, client_id, lock=lock)
    if amount <= 0:
        why = "owes nothing on their own bills"
        if disputed > 0:
            why += f" apart from {fmt_money(disputed)} on dispute hold, which is not financed"
        raise ValidationError.from_fields({"client": why})
    schedule = build_schedule(amount, n, iv, day)
    if min(line.amount for line in schedule) <= 0:
        raise ValidationError.from_fields(
            {"count": f"{n} installments of {fmt_money(amount)} would be less than one cent each"}
        )
    return PlanPreview(client.id, client.account_number, amount, disputed, schedule)


def _is_pg(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def create_plan(
    actor: Actor,
    session: Session,
    *,
    client_id: int,
    count: int,
    interval: PlanInterval | str,
    first_due: dt.date,
) -> PlanView:
    """Finance the client's current open balance in ``count`` installments."""
    require(actor, Action.PLAN_CREATE)
    prep = _prepare(session, client_id, count, interval, first_due, lock=True)
    plan = PaymentPlan(
        client_id=client_id,
        amount_financed=prep.amount_financed,
        installment_count=len(prep.schedule),
        interval=PlanInterval(interval),
        first_due=prep.schedule[0].due_date,
        status=PlanStatus.ACTIVE,
        created_by=actor.user_id,
    )
    session.add(plan)
    session.flush()
    for line in prep.schedule:
        session.add(Installment(plan_id=plan.id, seq=line.seq, due_date=line.due_date, amount=line.amount))
    session.flush()
    session.refresh(plan, ["installments"])
    audit.record(
        session,
        actor,
        "payment_plan",
        plan.id,
        "create",
        None,
        {
            "client_id": client_id,
            "amount_financed": plan.amount_financed,
            "interval": plan.interval,
            "excluded_disputed": prep.excluded_disputed,
            "installments": [[line.seq, line.due_date, line.amount] for line in prep.schedule],
        },
    )
    return _view(session, plan)


def cancel_plan(
    actor: Actor, session: Session, plan_id: int, *, reason: str, expected_version: int | None = None
) -> PlanView:
    """Supervisor only: end an open plan (e.g. a default, or to make a new plan)."""
    require(actor, Action.PLAN_CANCEL)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError.from_fields({"reason": "is required"})
    if len(reason) > 500:
        raise ValidationError.from_fields({"reason": "is longer than 500 characters"})
    plan = session.scalars(
        ledger.for_update(session, sa.select(PaymentPlan).where(PaymentPlan.id == plan_id))
    ).one_or_none()
    if plan is None:
        raise NotFound(f"no payment plan {plan_number(plan_id)}")
    if expected_version is not None and plan.version != expected_version:
        raise ConflictError(f"{plan_number(plan_id)} was changed by someone else; reload and try again")
    if plan.status not in ledger.OPEN_PLAN_STATUSES:
        raise ConflictError(
            f"{plan_number(plan_id)} is {plan.status.value}; only an open plan can be cancelled"
        )
    before = {"status": plan.status}
    plan.status = PlanStatus.CANCELLED
    session.flush()
    audit.record(
        session, actor, "payment_plan", plan.id, "cancel", before, {"status": plan.status, "reason": reason}
    )
    return _view(session, plan)


def refresh_plan_states(
    actor: Actor, session: Session, as_of: dt.date | None = None, *, client_id: int | None = None
) -> RefreshResult:
    """Move open plans to their state as of a day (nightly job; when an account opens).

    Idempotent: a second run for the same day changes nothing and writes no audit rows.
    """
    # Bookkeeping any staff member may trigger by opening an account; plans are clerks' work.
    require(actor, Action.PLAN_CREATE)
    today = office_today(office_timezone(session))
    day = as_of or today
    if isinstance(day, dt.datetime) or not isinstance(day, dt.date):
        raise ValidationError.from_fields({"as_of": "must be a date"})
    if day > today:
        raise ValidationError.from_fields({"as_of": f"is in the future (today is {today.isoformat()})"})
    moved: list[_Moved] = []
    checked = 0
    last_id = 0
    while True:
        stmt = (
            sa.select(PaymentPlan)
            .where(PaymentPlan.status.in_(ledger.OPEN_PLAN_STATUSES), PaymentPlan.id > last_id)
            .order_by(PaymentPlan.id)
            .limit(REFRESH_CHUNK)
            .options(selectinload(PaymentPlan.installments))
        )
        if client_id is not None:
            stmt = stmt.where(PaymentPlan.client_id == client_id)
        plans = session.scalars(ledger.for_update(session, stmt)).all()
        if not plans:
            break
        for plan in plans:
            checked += 1
            m = _settle(session, plan, day)
            if m is not None:
                moved.append(m)
        last_id = plans[-1].id
    session.flush()
    # Audit last: the audit head is a lock too, and every writer takes it after its row locks.
    for m in moved:
        _record(actor, session, m)
    return RefreshResult(day, checked, tuple(m.change for m in moved))


def get_plan(actor: Actor, session: Session, plan_id: int) -> PlanView:
    require(actor, Action.VIEW)
    plan = session.get(PaymentPlan, plan_id)
    if plan is None:
        raise NotFound(f"no payment plan {plan_number(plan_id)}")
    return _view(session, plan)


def current_plan(actor: Actor, session: Session, client_id: int) -> PlanView | None:
    """The client's open plan (active, late or defaulted), if any."""
    require(actor, Action.VIEW)
    plan = session.scalars(
        sa.select(PaymentPlan)
        .where(PaymentPlan.client_id == client_id, PaymentPlan.status.in_(ledger.OPEN_PLAN_STATUSES))
        .order_by(PaymentPlan.id.desc())
        .limit(1)
    ).first()
    return _view(session, plan) if plan is not None else None


def client_plans(actor: Actor, session: Session, client_id: int) -> tuple[PlanView, ...]:
    """Every plan the client ever had, newest first."""
    require(actor, Action.VIEW)
    plans = session.scalars(
        sa.select(PaymentPlan).where(PaymentPlan.client_id == client_id).order_by(PaymentPlan.id.desc())
    ).all()
    return tuple(_view(session, p) for p in plans)


# --------------------------------------------------------------------------- the agreement


@dataclass(frozen=True)
class AgreementDoc:
    office_name: str
    office_address: str
    office_phone: str
    payment_methods: str
    currency_symbol: str
    plan: PlanView
    client_address: tuple[str, ...]
    grace_days: int
    default_after: int


def agreement_doc(actor: Actor, session: Session, plan_id: int) -> AgreementDoc:
    require(actor, Action.VIEW)
    view = get_plan(actor, session, plan_id)
    client = session.get(Client, view.client_id)
    assert client is not None
    region = " ".join(p for p in (client.region, client.postal_code) if p)
    city_line = ", ".join(p for p in (client.city, region) if p)
    address = tuple(p for p in (client.address_line1, client.address_line2, city_line) if p)
    grace, default_after = plan_settings(session)
    return AgreementDoc(
        office_name=str(get_setting(session, "office.name")),
        office_address=str(get_setting(session, "office.address")),
        office_phone=str(get_setting(session, "office.phone")),
        payment_methods=str(get_setting(session, "office.payment_methods")),
        currency_symbol=str(get_setting(session, "office.currency_symbol")),
        plan=view,
        client_address=address,
        grace_days=grace,
        default_after=default_after,
    )


def _field(label: str, value: str) -> str:
    """``label`` in an 18-column margin; a value too long for the line is cut with "…"."""
    line = f"{label:<18}{value}"
    return line if len(line) <= WIDTH else line[: WIDTH - 1] + "…"


def _wrap(text: str, indent: str = "") -> list[str]:
    out: list[str] = []
    for para in text.splitlines() or [""]:
        out.extend(textwrap.wrap(para, WIDTH, initial_indent=indent, subsequent_indent=indent) or [""])
    return out


def render_agreement(doc: AgreementDoc) -> str:
    """The plan agreement as fixed 80-column text; the same data always gives the same text."""
    p = doc.plan
    sym = doc.currency_symbol
    money = [fmt_money(i.amount, sym) for i in p.installments]
    total = fmt_money(p.amount_financed, sym)
    width = max(len(m) for m in [*money, total, "Amount"])
    rule = "=" * WIDTH
    lines = [rule, "PAYMENT PLAN AGREEMENT".center(WIDTH).rstrip(), rule]
    lines.append(doc.office_name[:WIDTH])
    if doc.office_address:
        lines.extend(_wrap(doc.office_address))
    if doc.office_phone:
        lines.append(f"Phone: {doc.office_phone}"[:WIDTH])
    lines.append("")
    lines.append(f"{'Plan number:':<18}{p.number:<28}{'Agreement date:':<16}{p.agreed_on.isoformat()}")
    lines.append(_field("Account:", p.account_number))
    lines.append(_field("Client:", p.client_name))
    for addr in doc.client_address:
        lines.append(_field("", addr))
    lines.append("")
    lines.append(f"{'Amount financed:':<18}{total}")
    lines.append(
        f"{'Installments:':<18}{p.installment_count}, {INTERVAL_WORDS[p.interval]}, "
        f"first due {p.first_due.isoformat()}"
    )
    lines.append("")
    lines.append(f"  {'No.':>4}  {'Due date':<10}  {'Amount':>{width}}")
    lines.append(f"  {'-' * 4}  {'-' * 10}  {'-' * width}")
    for inst, m in zip(p.installments, money, strict=True):
        lines.append(f"  {inst.seq:>4}  {inst.due_date.isoformat():<10}  {m:>{width}}")
    lines.append(f"  {'':>4}  {'':<10}  {'-' * width}")
    lines.append(f"  {'Total':<16}  {total:>{width}}")
    lines.append("")
    terms = (
        f"The client named above agrees to pay the amount financed in the {p.installment_count} "
        "installments listed. Every payment received is applied to the installments in order of "
        "their due dates. While the plan is current, no payment demands are sent for the "
        f"balances it covers. An installment not paid in full within {doc.grace_days} days after "
        f"its due date is missed and the plan is late; after {doc.default_after} missed "
        "installments the plan is in default, the whole remaining balance is due at once and "
        "normal collection resumes."
    )
    lines.extend(_wrap(terms))
    if doc.payment_methods:
        lines.append("")
        lines.extend(_wrap(f"How to pay: {doc.payment_methods}"))
    lines.append("")
    lines.append("")
    lines.append("Client signature: ______________________________   Date: ______________")
    lines.append("")
    lines.append("For the office:   ______________________________   Date: ______________")
    return "\n".join(line.rstrip() for line in lines) + "\n"


def render_agreement_pdf(doc: AgreementDoc) -> bytes:
    """The same lines as the text agreement on US Letter in Courier; deterministic bytes."""
    from fpdf import FPDF  # only when a PDF is asked for

    text = render_agreement(doc)
    pdf = FPDF(orientation="portrait", unit="mm", format="letter")
    # A fixed creation date (the agreement's own) keeps the bytes identical on every print.
    agreed = dt.datetime.combine(doc.plan.agreed_on, dt.time(12, 0), tzinfo=dt.UTC)
    pdf.set_creation_date(agreed)
    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("Courier", size=9)
    for line in text.splitlines():
        # Core PDF fonts are Latin-1; anything else prints as "?" rather than failing.
        safe = line.replace("…", "...").encode("latin-1", "replace").decode("latin-1")
        pdf.cell(w=0, h=4.2, text=safe, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def agreement_text(actor: Actor, session: Session, plan_id: int) -> str:
    return render_agreement(agreement_doc(actor, session, plan_id))


def agreement_pdf(actor: Actor, session: Session, plan_id: int) -> bytes:
    return render_agreement_pdf(agreement_doc(actor, session, plan_id))
