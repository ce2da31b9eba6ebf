"""Dunning (docs/collections.md): reminder levels as data, a previewed run, letters.

* Levels are rows (``DunningLevel``): level number, name, days overdue, channel, letter text,
  optional fee. Supervisors edit them (``Action.DUNNING_RUN``). A retired level never fires.
* Only the clients' own bills (statements, client invoices) are dunned; payers are chased by
  work items, and fee invoices carry no further fees.
* A run on day D looks at every open client-side invoice past due on D. The level to fire is
  the highest active level whose days overdue is reached and which is above the highest level
  that already fired for that invoice; each (invoice, level) fires once (unique constraint),
  however often a run is repeated. The amount dunned is the balance left (a partly paid
  invoice is dunned for the rest).
* Skipped, with the reason in the preview: invoice on dispute hold, account in a current
  (active) payment plan, account placed with an agency, dunning paused for the account or the
  invoice. When the hold ends, the next run fires the next level: dunning resumes where it was.
* ``preview_run`` (everything) and ``preview_page`` (one page by key, for screens) write
  nothing; ``apply_run`` recomputes the same rows, records a ``DunningRun`` with one
  ``DunningEvent`` per fired level, issues one fee invoice per fired level with a fee, and
  audits the run. One letter per account per run lists its items. Rows are in account number,
  then invoice id order.
"""

from __future__ import annotations

import datetime as dt
import enum
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pendulum
import sqlalchemy as sa
from sqlalchemy.orm import Session

from billing import ledger
from billing.catalog import office_day, setting
from billing.invoices import next_number
from billing.plans import refresh_plan_states
from db import audit
from db.errors import NotFound, ValidationError
from db.models import (
    BillTo,
    Channel,
    Client,
    DunningEvent,
    DunningLevel,
    DunningPause,
    DunningRun,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
    PaymentPlan,
    Placement,
    PlacementStatus,
    PlanStatus,
    User,
    name_search_key,
)
from db.money import ZERO, fmt_money, to_money
from db.rights import Action, Actor, require
from db.settings import office_timezone
from db.timeutil import now

DUNNED_KINDS: tuple[InvoiceKind, ...] = (InvoiceKind.STATEMENT, InvoiceKind.INVOICE)
MAX_LEVEL = 20
MAX_DAYS = 3650
MAX_LETTER = 4000
PAY_WITHIN_DAYS = 14  # the letter's "pay by": this many days after the run
WIDTH = 80


class SkipReason(enum.StrEnum):
    DISPUTED = "disputed"
    CURRENT_PLAN = "current_plan"
    AGENCY = "agency"
    PAUSED = "paused"


SKIP_TEXT: dict[SkipReason, str] = {
    SkipReason.DISPUTED: "invoice on dispute hold",
    SkipReason.CURRENT_PLAN: "account in a current payment plan",
    SkipReason.AGENCY: "account placed with an agency",
    SkipReason.PAUSED: "dunning paused",
}


@dataclass(frozen=True)
class LevelView:
    id: int
    level: int
    name: str
    days_overdue: int
    channel: Channel
    letter_text: str
    fee: Decimal
    active: bool


@dataclass(frozen=True)
class PreviewRow:
    """One invoice in a run: the level it gets (and its fee), or why it is skipped."""

    client_id: int
    account_number: str
    client_name: str
    invoice_id: int
    invoice_number: str
    due_date: dt.date
    days_overdue: int
    balance: Decimal  # what the letter asks for (the rest of a partly paid invoice)
    level: int  # the level that fires, or would fire when the skip ends
    level_name: str
    channel: Channel
    fee: Decimal
    skipped: SkipReason | None = None
    skip_detail: str = ""  # e.g. "paused until 2026-12-31: hardship"

    @property
    def fires(self) -> bool:
        return self.skipped is None

    @property
    def why(self) -> str:
        """The preview's reason text ("" when the level fires)."""
        if self.skipped is None:
            return ""
        base = SKIP_TEXT[self.skipped]
        return f"{base} ({self.skip_detail})" if self.skip_detail else base


@dataclass(frozen=True)
class DunningPreview:
    as_of: dt.date
    rows: tuple[PreviewRow, ...]  # by account number, then due date

    @property
    def firing(self) -> tuple[PreviewRow, ...]:
        return tuple(r for r in self.rows if r.fires)

    @property
    def skipped(self) -> tuple[PreviewRow, ...]:
        return tuple(r for r in self.rows if not r.fires)

    @property
    def fees(self) -> Decimal:
        return sum((r.fee for r in self.firing), Decimal("0.00"))


@dataclass(frozen=True)
class PreviewKey:
    """Keyset cursor of ``preview_page``: (account number, invoice id)."""

    account_number: str
    invoice_id: int


@dataclass(frozen=True)
class PreviewPage:
    as_of: dt.date
    rows: tuple[PreviewRow, ...]
    next_after: PreviewKey | None


@dataclass(frozen=True)
class FiredEvent:
    event_id: int
    invoice_id: int
    invoice_number: str
    client_id: int
    level: int
    balance_dunned: Decimal
    fee_invoice_number: str  # "" without a fee


@dataclass(frozen=True)
class RunResult:
    run_id: int
    as_of: dt.date
    fired: tuple[FiredEvent, ...]  # empty when a repeated run found nothing new
    skipped: tuple[PreviewRow, ...]
    letters: int  # accounts written to


@dataclass(frozen=True)
class LetterItem:
    invoice_number: str
    issue_date: dt.date
    due_date: dt.date
    amount_due: Decimal
    level: int
    fee_invoice_number: str
    fee: Decimal


@dataclass(frozen=True)
class LetterDoc:
    """A payment demand to one account from one run."""

    run_id: int
    office_name: str
    letter_date: dt.date
    client_id: int
    account_number: str
    client_name: str
    address_lines: tuple[str, ...]
    channel: Channel
    level: int  # the highest level in the letter
    level_name: str
    body: str  # the level's letter text with {name}, {amount}, {due_date} filled in
    items: tuple[LetterItem, ...]
    amount_due: Decimal  # items plus their fees
    pay_by: dt.date
    payment_methods: tuple[str, ...]


@dataclass(frozen=True)
class PauseView:
    id: int
    client_id: int
    invoice_id: int | None
    invoice_number: str
    reason: str
    until: dt.date
    created_by_login: str


@dataclass(frozen=True)
class RunRow:
    id: int
    as_of: dt.date
    run_by_login: str
    events: int
    created_at: dt.datetime


def _level_view(lv: DunningLevel) -> LevelView:
    return LevelView(lv.id, lv.level, lv.name, lv.days_overdue, lv.channel, lv.letter_text, lv.fee, lv.active)


def list_levels(actor: Actor, session: Session, *, include_retired: bool = False) -> tuple[LevelView, ...]:
    """Levels by level number."""
    require(actor, Action.VIEW)
    stmt = sa.select(DunningLevel).order_by(DunningLevel.level)
    if not include_retired:
        stmt = stmt.where(DunningLevel.active.is_(True))
    return tuple(_level_view(lv) for lv in session.scalars(stmt))


def _clean(text: str) -> str:
    return "".join(c for c in text if c in "\n\t" or (ord(c) >= 32 and ord(c) != 127))


def set_level(
    actor: Actor,
    session: Session,
    *,
    level: int,
    name: str,
    days_overdue: int,
    letter_text: str,
    fee: Decimal | str = "0.00",
    channel: Channel | str = Channel.LETTER,
    active: bool = True,
) -> LevelView:
    """Create or change the level with this number (supervisors). Days overdue must rise with
    the level number, so a higher level is never reached before a lower one."""
    require(actor, Action.DUNNING_RUN)
    errors: dict[str, str] = {}
    try:
        level_no = int(level)
        if not 1 <= level_no <= MAX_LEVEL:
            errors["level"] = f"must be 1 to {MAX_LEVEL}"
    except (TypeError, ValueError):
        errors["level"] = f"{level!r} is not a whole number"
        level_no = 0
    try:
        days = int(days_overdue)
        if not 1 <= days <= MAX_DAYS:
            errors["days_overdue"] = f"must be 1 to {MAX_DAYS} days"
    except (TypeError, ValueError):
        errors["days_overdue"] = f"{days_overdue!r} is not a whole number of days"
        days = 0
    name_ = " ".join(str(name).split())
    if not name_:
        errors["name"] = "is required"
    elif len(name_) > 80:
        errors["name"] = "is longer than 80 characters"
    text = _clean(str(letter_text)).strip()
    if not text:
        errors["letter_text"] = "is required: what the letter says"
    elif len(text) > MAX_LETTER:
        errors["letter_text"] = f"is longer than {MAX_LETTER} characters"
    try:
        fee_ = to_money(fee if fee not in (None, "") else "0")
        if fee_ < 0:
            errors["fee"] = "may not be negative"
        elif fee_ > Decimal("10000"):
            errors["fee"] = "is more than 10,000.00"
    except (ValueError, TypeError, ArithmeticError):
        errors["fee"] = f"{fee!r} is not an amount"
        fee_ = ZERO
    try:
        channel_ = Channel(channel)
    except ValueError:
        errors["channel"] = "must be one of " + ", ".join(c.value for c in Channel)
        channel_ = Channel.LETTER
    if not errors and active:
        others = session.execute(
            sa.select(DunningLevel.level, DunningLevel.days_overdue).where(
                DunningLevel.active.is_(True), DunningLevel.level != level_no
            )
        ).all()
        for other, other_days in others:
            if (other < level_no and other_days >= days) or (other > level_no and other_days <= days):
                errors["days_overdue"] = (
                    f"level {other} is at {other_days} days; days overdue must rise with the level"
                )
                break
    if errors:
        raise ValidationError.from_fields(errors)
    row = session.scalar(sa.select(DunningLevel).where(DunningLevel.level == level_no))
    before = None
    if row is None:
        row = DunningLevel(level=level_no)
        session.add(row)
    else:
        before = {
            c: getattr(row, c) for c in ("name", "days_overdue", "channel", "letter_text", "fee", "active")
        }
    row.name, row.days_overdue, row.channel, row.letter_text, row.fee, row.active = (
        name_,
        days,
        channel_,
        text,
        fee_,
        bool(active),
    )
    session.flush()
    after = {c: getattr(row, c) for c in ("name", "days_overdue", "channel", "letter_text", "fee", "active")}
    audit.record(session, actor, "dunning_level", row.level, "set", before, after)
    return _level_view(row)


def _resolve_day(session: Session, as_of: dt.date | None) -> dt.date:
    today = office_day(session)
    day = as_of if as_of is not None else today
    if isinstance(day, dt.date) and not isinstance(day, dt.datetime):
        day = dt.date(day.year, day.month, day.day)  # plain date: pendulum's subtraction is slow
    if isinstance(day, dt.datetime) or not isinstance(day, dt.date):
        raise ValidationError.from_fields({"as_of": "must be a date"})
    if day > today:
        raise ValidationError.from_fields({"as_of": f"is in the future (today is {today.isoformat()})"})
    return day


@dataclass(frozen=True)
class _Level:
    id: int
    level: int
    name: str
    days_overdue: int
    channel: Channel
    fee: Decimal


@dataclass(frozen=True)
class _Pending:
    row: PreviewRow
    level_id: int


def _levels(session: Session) -> list[DunningLevel]:
    return list(
        session.scalars(
            sa.select(DunningLevel).where(DunningLevel.active.is_(True)).order_by(DunningLevel.level)
        )
    )


def _candidates(
    session: Session,
    day: dt.date,
    levels: Sequence[DunningLevel],
    *,
    after: PreviewKey | None = None,
    limit: int | None = None,
    filter_text: str = "",
) -> list[Any]:
    """Open client-side items past the lowest level's days, by (account number, invoice id)."""
    min_days = min(lv.days_overdue for lv in levels)
    top = (
        sa.select(sa.func.coalesce(sa.func.max(DunningLevel.level), 0))
        .join(DunningEvent, DunningEvent.level_id == DunningLevel.id)
        .where(DunningEvent.invoice_id == Invoice.id)
        .correlate(Invoice)
        .scalar_subquery()
    )
    bal = ledger.balance_expr()
    stmt = (
        sa.select(
            Invoice.id,
            Invoice.number,
            Invoice.client_id,
            Invoice.due_date,
            bal,
            Invoice.dispute_hold,
            top,
            Client.account_number,
            Client.last_name,
            Client.first_name,
        )
        .join(Client, Client.id == Invoice.client_id)
        .where(
            Invoice.bill_to == BillTo.CLIENT,
            Invoice.kind.in_(DUNNED_KINDS),
            Invoice.status.in_(ledger.OPEN_STATUSES),
            bal > ZERO,
            Invoice.due_date <= day - dt.timedelta(days=min_days),
        )
        .order_by(Client.account_number, Invoice.id)
    )
    text = filter_text.strip()
    if text:
        stmt = stmt.where(
            sa.or_(
                Client.account_number.startswith(text, autoescape=True),
                Client.search_name.startswith(name_search_key(text, ""), autoescape=True),
            )
        )
    if after is not None:
        stmt = stmt.where(
            sa.or_(
                Client.account_number > after.account_number,
                sa.and_(Client.account_number == after.account_number, Invoice.id > after.invoice_id),
            )
        )
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(session.execute(stmt).all())


def _compute(session: Session, day: dt.date) -> list[_Pending]:
    levels = _levels(session)
    if not levels:
        return []
    return _evaluate(session, day, levels, _candidates(session, day, levels))


def _evaluate(
    session: Session, day: dt.date, levels: Sequence[DunningLevel], rows: Sequence[Any]
) -> list[_Pending]:
    if not rows:
        return []
    client_ids = sorted({r[2] for r in rows})
    placed: set[int] = set()
    planned: set[int] = set()
    paused_client: dict[int, DunningPause] = {}
    paused_invoice: dict[int, DunningPause] = {}
    for chunk in range(0, len(client_ids), 500):
        ids = client_ids[chunk : chunk + 500]
        placed.update(
            session.scalars(
                sa.select(Placement.client_id).where(
                    Placement.client_id.in_(ids), Placement.status == PlacementStatus.ACTIVE
                )
            )
        )
        planned.update(
            session.scalars(
                sa.select(PaymentPlan.client_id).where(
                    PaymentPlan.client_id.in_(ids), PaymentPlan.status == PlanStatus.ACTIVE
                )
            )
        )
        for p in session.scalars(
            sa.select(DunningPause)
            .where(
                DunningPause.client_id.in_(ids), DunningPause.until >= day, DunningPause.ended_at.is_(None)
            )
            .order_by(DunningPause.until)
        ):
            target = paused_client if p.invoice_id is None else paused_invoice
            target[p.client_id if p.invoice_id is None else p.invoice_id] = p
    # Plain tuples, highest level first: ORM attribute access per row was most of the time.
    ladder = [
        _Level(lv.id, lv.level, lv.name, lv.days_overdue, lv.channel, lv.fee) for lv in reversed(levels)
    ]
    out: list[_Pending] = []
    for iid, number, cid, due, balance, hold, top, acct, last, first in rows:
        days = (day - due).days
        lv = next((x for x in ladder if x.days_overdue <= days), None)  # the highest level reached
        if lv is None or lv.level <= top:
            continue
        skip: SkipReason | None = None
        detail = ""
        if cid in placed:
            skip = SkipReason.AGENCY
        elif hold:
            skip = SkipReason.DISPUTED
        elif cid in planned:
            skip = SkipReason.CURRENT_PLAN
        elif (pause := paused_invoice.get(iid) or paused_client.get(cid)) is not None:
            skip = SkipReason.PAUSED
            detail = f"until {pause.until.isoformat()}: {pause.reason}"
        row = PreviewRow(
            cid,
            acct,
            f"{last}, {first}".strip(", "),
            iid,
            number or "",
            due,
            days,
            balance,
            lv.level,
            lv.name,
            lv.channel,
            ZERO if skip is not None else lv.fee,
            skip,
            detail,
        )
        out.append(_Pending(row, lv.id))
    return out


def preview_page(
    actor: Actor,
    session: Session,
    *,
    as_of: dt.date | None = None,
    after: PreviewKey | None = None,
    limit: int = 50,
    filter_text: str = "",
) -> PreviewPage:
    """One page of the preview (rows that fire or are skipped), by account number and invoice,
    for a screen: the office-wide preview can be tens of thousands of rows. Writes nothing."""
    require(actor, Action.VIEW)
    day = _resolve_day(session, as_of)
    limit = max(1, min(int(limit), 500))
    levels = _levels(session)
    if not levels:
        return PreviewPage(day, (), None)
    rows: list[PreviewRow] = []
    cursor = after
    chunk = max(limit * 4, 200)
    while True:
        raw = _candidates(session, day, levels, after=cursor, limit=chunk, filter_text=filter_text)
        if not raw:
            return PreviewPage(day, tuple(rows), None)
        for p in _evaluate(session, day, levels, raw):
            if len(rows) == limit:
                last = rows[-1]
                return PreviewPage(day, tuple(rows), PreviewKey(last.account_number, last.invoice_id))
            rows.append(p.row)
        if len(raw) < chunk:
            return PreviewPage(day, tuple(rows), None)
        cursor = PreviewKey(raw[-1][7], raw[-1][0])


def preview_run(actor: Actor, session: Session, *, as_of: dt.date | None = None) -> DunningPreview:
    """What a run on ``as_of`` (default: the office's today) would do. Writes nothing."""
    require(actor, Action.VIEW)
    day = _resolve_day(session, as_of)
    return DunningPreview(day, tuple(p.row for p in _compute(session, day)))


def _fee_invoice(actor: Actor, session: Session, row: PreviewRow, fee: Decimal) -> Invoice:
    today = office_day(session)
    inv = Invoice(
        kind=InvoiceKind.FEE,
        client_id=row.client_id,
        bill_to=BillTo.CLIENT,
        status=InvoiceStatus.ISSUED,
        number=next_number(session, InvoiceKind.FEE),
        issue_date=today,
        due_date=today + dt.timedelta(days=int(setting(session, "billing.statement_terms_days"))),
        total=fee,
        created_by=actor.user_id,
        issued_by=actor.user_id,
        issued_at=now(),
    )
    inv.lines.append(
        InvoiceLine(
            line_no=1,
            code=f"DUN-{row.level}",
            description=f"Reminder fee, {row.level_name} (level {row.level}) on {row.invoice_number}",
            service_date=today,
            units=1,
            unit_price=fee,
            amount=fee,
            explain=[],
        )
    )
    session.add(inv)
    session.flush()
    return inv


def apply_run(actor: Actor, session: Session, *, as_of: dt.date | None = None) -> RunResult:
    """Apply the run (supervisors): recomputes the preview and fires its levels."""
    require(actor, Action.DUNNING_RUN)
    day = _resolve_day(session, as_of)
    if day == office_day(session):
        # A plan that went late since the last refresh no longer pauses dunning.
        refresh_plan_states(actor, session, day)
    pending = _compute(session, day)
    run = DunningRun(as_of=day, run_by=actor.user_id)
    session.add(run)
    session.flush()
    fired: list[FiredEvent] = []
    for p in pending:
        if not p.row.fires:
            continue
        try:
            with session.begin_nested():
                fee_inv = _fee_invoice(actor, session, p.row, p.row.fee) if p.row.fee > 0 else None
                ev = DunningEvent(
                    invoice_id=p.row.invoice_id,
                    level_id=p.level_id,
                    run_id=run.id,
                    balance_dunned=p.row.balance,
                    fee_invoice_id=fee_inv.id if fee_inv is not None else None,
                )
                session.add(ev)
                session.flush()
        except sa.exc.IntegrityError:
            continue  # a run in another terminal fired this level first: once is enough
        fired.append(
            FiredEvent(
                ev.id,
                p.row.invoice_id,
                p.row.invoice_number,
                p.row.client_id,
                p.row.level,
                p.row.balance,
                fee_inv.number or "" if fee_inv is not None else "",
            )
        )
    skipped = tuple(p.row for p in pending if not p.row.fires)
    audit.record(
        session,
        actor,
        "dunning_run",
        run.id,
        "apply",
        None,
        {
            "as_of": day,
            "fired": [[f.invoice_number, f.level, f.balance_dunned, f.fee_invoice_number] for f in fired],
            "skipped": [[r.invoice_number, r.level, r.skipped.value if r.skipped else ""] for r in skipped],
        },
    )
    return RunResult(run.id, day, tuple(fired), skipped, len({f.client_id for f in fired}))


def list_runs(actor: Actor, session: Session, *, limit: int = 50) -> tuple[RunRow, ...]:
    """Recent runs, newest first."""
    require(actor, Action.VIEW)
    counts = (
        sa.select(DunningEvent.run_id, sa.func.count().label("n")).group_by(DunningEvent.run_id).subquery()
    )
    rows = session.execute(
        sa.select(DunningRun, User.login, sa.func.coalesce(counts.c.n, 0))
        .join(User, User.id == DunningRun.run_by)
        .outerjoin(counts, counts.c.run_id == DunningRun.id)
        .order_by(DunningRun.id.desc())
        .limit(max(1, min(limit, 500)))
    ).all()
    return tuple(RunRow(r.id, r.as_of, login, int(n), r.created_at) for r, login, n in rows)


def _fill(template: str, values: dict[str, str]) -> str:
    """Replace {name}, {account}, {amount}, {pay_by} literally (no str.format on user text)."""
    for key, value in values.items():
        template = template.replace("{" + key + "}", value)
    return template


def run_letters(actor: Actor, session: Session, run_id: int) -> tuple[LetterDoc, ...]:
    """The letters of a run, one per account, by account number."""
    require(actor, Action.VIEW)
    run = session.get(DunningRun, run_id)
    if run is None:
        raise NotFound(f"no dunning run #{run_id}")
    fee_inv = sa.orm.aliased(Invoice)
    rows = session.execute(
        sa.select(DunningEvent, DunningLevel, Invoice, fee_inv)
        .join(DunningLevel, DunningLevel.id == DunningEvent.level_id)
        .join(Invoice, Invoice.id == DunningEvent.invoice_id)
        .outerjoin(fee_inv, fee_inv.id == DunningEvent.fee_invoice_id)
        .where(DunningEvent.run_id == run_id)
        .order_by(Invoice.client_id, Invoice.due_date, Invoice.number)
    ).all()
    by_client: dict[int, list[tuple[DunningEvent, DunningLevel, Invoice, Invoice | None]]] = {}
    for ev, lv, inv, fee in rows:
        by_client.setdefault(inv.client_id, []).append((ev, lv, inv, fee))
    tz = office_timezone(session)
    created = pendulum.instance(run.created_at).in_timezone(tz)
    letter_date = dt.date(created.year, created.month, created.day)
    pay_by = letter_date + dt.timedelta(days=PAY_WITHIN_DAYS)
    symbol = str(setting(session, "office.currency_symbol"))
    methods = tuple(
        m.strip() for m in str(setting(session, "office.payment_methods")).split(";") if m.strip()
    )
    office_name = str(setting(session, "office.name"))
    docs: list[LetterDoc] = []
    for cid, items in by_client.items():
        client = session.get(Client, cid)
        assert client is not None
        top = max(items, key=lambda t: t[1].level)[1]
        letter_items = tuple(
            LetterItem(
                inv.number or "",
                inv.issue_date or letter_date,
                inv.due_date or letter_date,
                ev.balance_dunned,
                lv.level,
                fee.number or "" if fee is not None else "",
                fee.total if fee is not None else ZERO,
            )
            for ev, lv, inv, fee in items
        )
        due = sum((i.amount_due + i.fee for i in letter_items), ZERO)
        city = " ".join(
            p for p in (f"{client.city}," if client.city else "", client.region, client.postal_code) if p
        )
        address = tuple(x for x in (client.address_line1, client.address_line2, city.strip(" ,")) if x)
        body = _fill(
            top.letter_text,
            {
                "name": f"{client.first_name} {client.last_name}".strip(),
                "account": client.account_number,
                "amount": fmt_money(due, symbol),
                "pay_by": pay_by.isoformat(),
            },
        )
        docs.append(
            LetterDoc(
                run.id,
                office_name,
                letter_date,
                cid,
                client.account_number,
                client.display_name,
                address,
                top.channel,
                top.level,
                top.name,
                body,
                letter_items,
                due,
                pay_by,
                methods,
            )
        )
    docs.sort(key=lambda d: d.account_number)
    return tuple(docs)


def render_letter_text(doc: LetterDoc, symbol: str = "$") -> str:
    """The letter as 80-column text."""
    out = [doc.office_name, "", f"{doc.letter_date.isoformat():>{WIDTH}}", ""]
    out += [doc.client_name, *doc.address_lines, "", f"Account {doc.account_number}", ""]
    title = f"PAYMENT DEMAND - {doc.level_name}"
    out += [title, "=" * len(title), ""]
    for para in doc.body.split("\n"):
        out += textwrap.wrap(para, WIDTH) or [""]
    out += ["", f"{'Invoice':<14}{'Issued':<12}{'Due':<12}{'Amount due':>14}{'Fee':>12}"]
    out.append("-" * 64)
    for i in doc.items:
        fee = fmt_money(i.fee, symbol) if i.fee else ""
        out.append(
            f"{i.invoice_number:<14}{i.issue_date.isoformat():<12}{i.due_date.isoformat():<12}"
            f"{fmt_money(i.amount_due, symbol):>14}{fee:>12}"
        )
    out.append("-" * 64)
    out.append(f"{'Total due':<38}{fmt_money(doc.amount_due, symbol):>26}")
    out += ["", f"Please pay by {doc.pay_by.isoformat()}.", "", "How to pay:"]
    out += [f"  - {m}" for m in doc.payment_methods] or ["  - contact the office"]
    return "\n".join(out) + "\n"


def render_letter_pdf(doc: LetterDoc, symbol: str = "$") -> bytes:
    """The letter as a one-page PDF (fpdf2 imported here, on first use)."""
    from fpdf import FPDF  # only when a PDF is asked for

    pdf = FPDF(orientation="portrait", unit="mm", format="letter")
    # The letter's own date as creation date: the same letter gives the same bytes.
    pdf.set_creation_date(dt.datetime.combine(doc.letter_date, dt.time(12, 0), tzinfo=dt.UTC))
    pdf.set_margins(20, 20, 20)
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("Courier", size=10)
    for line in render_letter_text(doc, symbol).splitlines():
        safe = line.replace("…", "...").replace("–", "-").encode("latin-1", "replace").decode("latin-1")
        pdf.cell(w=0, h=4.6, text=safe, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _pause_view(session: Session, p: DunningPause) -> PauseView:
    number = ""
    if p.invoice_id is not None:
        number = session.scalar(sa.select(Invoice.number).where(Invoice.id == p.invoice_id)) or ""
    login = session.scalar(sa.select(User.login).where(User.id == p.created_by)) or ""
    return PauseView(p.id, p.client_id, p.invoice_id, number, p.reason, p.until, login)


def pause_dunning(
    actor: Actor,
    session: Session,
    *,
    client_id: int,
    reason: str,
    until: dt.date,
    invoice_id: int | None = None,
) -> PauseView:
    """Pause dunning for an account (or one of its invoices) up to and including ``until``
    (supervisors, ``Action.DUNNING_RUN``); a reason is required."""
    require(actor, Action.DUNNING_RUN)
    errors: dict[str, str] = {}
    if session.get(Client, client_id) is None:
        raise NotFound(f"no client with id {client_id}")
    text = " ".join(_clean(str(reason)).split())
    if not text:
        errors["reason"] = "is required"
    elif len(text) > 500:
        errors["reason"] = "is longer than 500 characters"
    today = office_day(session)
    if isinstance(until, dt.datetime) or not isinstance(until, dt.date):
        errors["until"] = "must be a date"
    elif until < today:
        errors["until"] = f"is in the past (today is {today.isoformat()})"
    elif until > today + dt.timedelta(days=366):
        errors["until"] = "is more than a year away"
    if invoice_id is not None:
        inv = session.get(Invoice, invoice_id)
        if inv is None or inv.client_id != client_id:
            errors["invoice"] = "is not an invoice of this account"
    if errors:
        raise ValidationError.from_fields(errors)
    p = DunningPause(
        client_id=client_id, invoice_id=invoice_id, reason=text, until=until, created_by=actor.user_id
    )
    session.add(p)
    session.flush()
    audit.record(
        session,
        actor,
        "dunning_pause",
        p.id,
        "create",
        None,
        {"client_id": client_id, "invoice_id": invoice_id, "reason": text, "until": until},
    )
    return _pause_view(session, p)


def end_pause(actor: Actor, session: Session, pause_id: int) -> PauseView:
    """End a pause before its day (supervisors)."""
    require(actor, Action.DUNNING_RUN)
    p = session.get(DunningPause, pause_id)
    if p is None:
        raise NotFound(f"no dunning pause #{pause_id}")
    if p.ended_at is None:
        p.ended_at = now()
        session.flush()
        audit.record(session, actor, "dunning_pause", p.id, "end", None, {"ended_at": p.ended_at})
    return _pause_view(session, p)


def list_pauses(actor: Actor, session: Session, client_id: int) -> tuple[PauseView, ...]:
    """Pauses of an account that have not ended, newest first."""
    require(actor, Action.VIEW)
    today = office_day(session)
    rows = session.scalars(
        sa.select(DunningPause)
        .where(
            DunningPause.client_id == client_id, DunningPause.ended_at.is_(None), DunningPause.until >= today
        )
        .order_by(DunningPause.id.desc())
    ).all()
    return tuple(_pause_view(session, p) for p in rows)
