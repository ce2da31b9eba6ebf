"""Payroll export (docs/timecards.md): signed timecards only, one CSV row per person.

Hours are the minutes frozen at signing divided by 60, quantized to 2 places ROUND_HALF_UP.
An export refuses (and names them) while any card of the period is not signed, unless the
caller asks for signed cards only. Exported cards move to ``exported`` (audited) and are not
exported a second time.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import pendulum
import sqlalchemy as sa
from sqlalchemy.orm import Session

from db.errors import ConflictError
from db.models import Timecard, TimecardStatus, User
from db.rights import Action, Actor, require
from db.settings import office_timezone
from scheduling.periods import Period, period_starting, zone
from scheduling.timecards import mark_exported, period_users

CSV_HEADER = (
    "login",
    "name",
    "period_start",
    "period_end",
    "regular_hours",
    "overtime_hours",
    "signed_by",
    "signed_at",
)
HUNDREDTH = Decimal("0.01")


def hours(minutes: int) -> Decimal:
    """Minutes as decimal hours, 2 places, half up (475 → 7.92)."""
    return (Decimal(minutes) / Decimal(60)).quantize(HUNDREDTH, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class PayrollRow:
    timecard_id: int
    login: str
    name: str
    period_start: dt.date
    period_end: dt.date
    regular_minutes: int
    overtime_minutes: int
    signed_by: str
    signed_at: pendulum.DateTime  # office zone

    @property
    def regular_hours(self) -> Decimal:
        return hours(self.regular_minutes)

    @property
    def overtime_hours(self) -> Decimal:
        return hours(self.overtime_minutes)


@dataclass(frozen=True)
class UnsignedCard:
    login: str
    name: str
    status: str  # open (also: no card yet) or submitted
    timecard_id: int | None


@dataclass(frozen=True)
class PayrollPreview:
    period: Period
    rows: tuple[PayrollRow, ...]  # signed, not yet exported
    unsigned: tuple[UnsignedCard, ...]
    already_exported: tuple[str, ...]  # logins

    @property
    def ready(self) -> bool:
        return bool(self.rows) and not self.unsigned


@dataclass(frozen=True)
class PayrollExport:
    period: Period
    rows: tuple[PayrollRow, ...]
    left_out: tuple[UnsignedCard, ...]  # not signed; only with signed_only
    csv_text: str


class NotAllSigned(ConflictError):
    """Some cards of the period are not signed; ``cards`` names them."""

    def __init__(self, period: Period, cards: tuple[UnsignedCard, ...]) -> None:
        names = ", ".join(f"{c.login} ({c.status})" for c in cards)
        super().__init__(
            f"{len(cards)} timecard(s) of {period.label} are not signed: {names}; "
            "sign them first or export the signed cards only"
        )
        self.period = period
        self.cards = cards


def _preview(session: Session, period: Period) -> tuple[PayrollPreview, dict[int, Timecard]]:
    tz = office_timezone(session)
    cards = {
        c.user_id: c
        for c in session.scalars(sa.select(Timecard).where(Timecard.period_start == period.start))
    }
    signer_ids = {c.signed_by for c in cards.values() if c.signed_by}
    signers = (
        dict(session.execute(sa.select(User.id, User.login).where(User.id.in_(signer_ids))).all())
        if signer_ids
        else {}
    )
    rows: list[PayrollRow] = []
    unsigned: list[UnsignedCard] = []
    exported: list[str] = []
    signed_cards: dict[int, Timecard] = {}
    for user in period_users(session, period, tz):
        card = cards.get(user.id)
        if card is None or card.status in (TimecardStatus.OPEN, TimecardStatus.SUBMITTED):
            status = card.status.value if card else "open"
            unsigned.append(UnsignedCard(user.login, user.name, status, card.id if card else None))
        elif card.status == TimecardStatus.EXPORTED:
            exported.append(user.login)
        else:
            assert card.signed_at is not None and card.signed_by is not None
            signed_cards[card.id] = card
            rows.append(
                PayrollRow(
                    timecard_id=card.id,
                    login=user.login,
                    name=user.name,
                    period_start=card.period_start,
                    period_end=card.period_end,
                    regular_minutes=card.regular_minutes,
                    overtime_minutes=card.overtime_minutes,
                    signed_by=signers.get(card.signed_by, "?"),
                    signed_at=card.signed_at.in_timezone(zone(tz)),
                )
            )
    return PayrollPreview(period, tuple(rows), tuple(unsigned), tuple(exported)), signed_cards


def payroll_preview(actor: Actor, session: Session, period_start: dt.date) -> PayrollPreview:
    """What an export of the period would contain, and what stops it (for the screen)."""
    require(actor, Action.PAYROLL_EXPORT)
    return _preview(session, period_starting(session, period_start))[0]


def payroll_csv(rows: tuple[PayrollRow, ...]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_HEADER)
    for r in rows:
        w.writerow(
            [
                r.login,
                r.name,
                r.period_start.isoformat(),
                r.period_end.isoformat(),
                f"{r.regular_hours:.2f}",
                f"{r.overtime_hours:.2f}",
                r.signed_by,
                r.signed_at.isoformat(),
            ]
        )
    return buf.getvalue()


def export_payroll(
    actor: Actor, session: Session, period_start: dt.date, *, signed_only: bool = False
) -> PayrollExport:
    """Export the period's signed cards: the CSV text, and the cards move to ``exported``.

    Refuses with ``NotAllSigned`` while a card is open or submitted, unless ``signed_only``.
    """
    require(actor, Action.PAYROLL_EXPORT)
    period = period_starting(session, period_start)
    preview, cards = _preview(session, period)
    if preview.unsigned and not signed_only:
        raise NotAllSigned(period, preview.unsigned)
    if not preview.rows:
        done = (
            f"; already exported: {', '.join(preview.already_exported)}" if preview.already_exported else ""
        )
        raise ConflictError(f"no signed timecards to export for {period.label}{done}")
    for row in preview.rows:
        mark_exported(actor, session, cards[row.timecard_id])
    return PayrollExport(period, preview.rows, preview.unsigned, payroll_csv(preview.rows))
