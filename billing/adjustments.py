"""Adjustments and write-offs with reason codes (SPEC §3.8).

* Reason codes are data (``AdjustmentReason``: code, description, kind waive / write_off /
  contractual / correction / agency_fee, active), kept by supervisors (``Action.ADJUST``).
* ``adjust_invoice`` (supervisors, ``Action.ADJUST``) lowers an open charge by an amount with
  a reason code of a non-write-off kind and a note; ``write_off`` (supervisors,
  ``Action.WRITE_OFF``) writes off all or part of a balance with a write-off code; an invoice
  written off in full gets status ``written_off``. Neither may exceed the balance.
* Every adjustment is an ``Adjustment`` row (amount positive = less owed) and an audit entry;
  ``client_adjustments`` lists them on the account.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.orm import Session

from db.models import AdjustmentKind
from db.rights import Actor


@dataclass(frozen=True)
class ReasonCodeView:
    id: int
    code: str
    description: str
    kind: AdjustmentKind
    active: bool


@dataclass(frozen=True)
class AdjustmentView:
    id: int
    invoice_id: int
    invoice_number: str
    kind: AdjustmentKind
    amount: Decimal
    reason_code: str  # "" for adjustments booked by other services (credit notes, agency fees)
    reason: str
    dispute_id: int | None
    made_by_login: str
    created_at: dt.datetime
    balance_after: Decimal  # the invoice's balance now (for the result of a new adjustment)


def list_reason_codes(
    actor: Actor,
    session: Session,
    *,
    kind: AdjustmentKind | str | None = None,
    include_inactive: bool = False,
) -> tuple[ReasonCodeView, ...]:
    """Reason codes by code, optionally of one kind."""
    raise NotImplementedError


def set_reason_code(
    actor: Actor,
    session: Session,
    *,
    code: str,
    description: str,
    kind: AdjustmentKind | str,
    active: bool = True,
) -> ReasonCodeView:
    """Create or change a reason code (supervisors). Codes are 1–16 letters, digits, - or _,
    stored upper case."""
    raise NotImplementedError


def adjust_invoice(
    actor: Actor,
    session: Session,
    *,
    invoice_id: int,
    amount: Decimal | str,
    reason_code: str,
    note: str = "",
) -> AdjustmentView:
    """Lower an open charge by ``amount`` (supervisors, ``Action.ADJUST``)."""
    raise NotImplementedError


def write_off(
    actor: Actor,
    session: Session,
    *,
    invoice_id: int,
    reason_code: str,
    note: str = "",
    amount: Decimal | str | None = None,
) -> AdjustmentView:
    """Write off ``amount`` (None: the whole balance) of an open charge (``Action.WRITE_OFF``)."""
    raise NotImplementedError


def client_adjustments(
    actor: Actor, session: Session, client_id: int, *, limit: int = 100
) -> tuple[AdjustmentView, ...]:
    """Every adjustment on the account's invoices, newest first."""
    raise NotImplementedError
