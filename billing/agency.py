"""Collection agencies (SPEC §3.7): agencies, placements, agency payments, recall, the file.

* Agencies have a fee percent (basis points: 3000 = 30.00 %); supervisors keep them
  (``Action.AGENCY_PLACE``).
* Placing an account records the balance placed (the client's own open balance, disputed items
  included) and the agency's fee percent at that moment, sets the client's status to
  ``in_collections``; the account then leaves internal dunning and the collections worklist.
  One active placement per account.
* An agency payment is what the agency collected (gross). It is posted through
  ``billing.payments.post_payment`` as the net the agency remits (method ``agency``, linked to
  the placement) and the agency's fee (gross × fee percent, rounded half up to the cent) is
  booked as an ``agency_fee`` adjustment on the same open items, oldest first, so the client's
  balance goes down by the gross amount and the office's cash by the net.
* Recall ends the placement; the account is back in dunning and work lists (status
  ``delinquent`` when it still owes past due, else ``active``).
* The placement file is CSV, one row per placement: account, name, date of birth, address,
  phone, email, placed date and balance placed, then the open items itemized
  (``number:due date:balance`` joined by ``;``). Written to a path the user gives; an existing
  file is never overwritten.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from sqlalchemy.orm import Session

from db.models import PlacementStatus
from db.rights import Actor

PLACEMENT_FILE_COLUMNS: tuple[str, ...] = (
    "account_number",
    "last_name",
    "first_name",
    "date_of_birth",
    "address_line1",
    "address_line2",
    "city",
    "region",
    "postal_code",
    "phone",
    "email",
    "placed_on",
    "balance_placed",
    "balance_now",
    "items",
)


@dataclass(frozen=True)
class AgencyView:
    id: int
    name: str
    fee_bp: int
    contact: str
    active: bool
    active_placements: int

    @property
    def fee_percent(self) -> str:
        return f"{self.fee_bp // 100}.{self.fee_bp % 100:02d} %"


@dataclass(frozen=True)
class PlacementView:
    id: int
    client_id: int
    account_number: str
    client_name: str
    agency_id: int
    agency_name: str
    placed_on: dt.date
    fee_bp: int
    balance_placed: Decimal
    balance_now: Decimal  # the client's own open balance today
    collected: Decimal  # gross collected by the agency on this placement so far
    fees: Decimal  # agency fees booked on it
    status: PlacementStatus
    recalled_on: dt.date | None
    recall_reason: str
    placed_by_login: str


@dataclass(frozen=True)
class PlacementKey:
    """Keyset cursor of ``list_placements``: newest first by (placed_on, id)."""

    placed_on: dt.date
    id: int


@dataclass(frozen=True)
class PlacementPage:
    rows: tuple[PlacementView, ...]
    next_after: PlacementKey | None


@dataclass(frozen=True)
class AgencyPaymentResult:
    placement: PlacementView
    payment_id: int
    gross: Decimal
    fee: Decimal
    net: Decimal  # the payment posted
    duplicate: bool  # the key was posted before; nothing changed


@dataclass(frozen=True)
class ExportResult:
    path: Path
    rows: int


def list_agencies(
    actor: Actor, session: Session, *, include_inactive: bool = False
) -> tuple[AgencyView, ...]:
    """Agencies by name."""
    raise NotImplementedError


def add_agency(
    actor: Actor, session: Session, *, name: str, fee_bp: int | str, contact: str = ""
) -> AgencyView:
    """A new agency (supervisors). ``fee_bp`` may be given as "30" or "30.5 %" text too."""
    raise NotImplementedError


def edit_agency(
    actor: Actor,
    session: Session,
    agency_id: int,
    *,
    fee_bp: int | str | None = None,
    contact: str | None = None,
    active: bool | None = None,
) -> AgencyView:
    """Change an agency (supervisors). Placements keep the fee percent they were made with."""
    raise NotImplementedError


def parse_fee_percent(text: str | int) -> int:
    """ "30" / "30.5" / "30.25 %" → basis points; ValidationError on anything else or out of 0–100."""
    raise NotImplementedError


def place_accounts(
    actor: Actor, session: Session, *, agency_id: int, client_ids: list[int] | tuple[int, ...]
) -> tuple[PlacementView, ...]:
    """Place accounts with an agency (supervisors, ``Action.AGENCY_PLACE``). Refuses (and places
    none) when an account owes nothing on its own bills or is placed already."""
    raise NotImplementedError


def record_agency_payment(
    actor: Actor,
    session: Session,
    *,
    placement_id: int,
    gross: Decimal | str,
    received_on: dt.date,
    idempotency_key: str,
    reference: str = "",
) -> AgencyPaymentResult:
    """Post what the agency collected: net payment plus the fee as an adjustment
    (``Action.PAYMENT_POST``). The gross may not exceed the account's open balance."""
    raise NotImplementedError


def recall_placement(actor: Actor, session: Session, placement_id: int, *, reason: str) -> PlacementView:
    """Bring an account back from the agency (supervisors, reason required)."""
    raise NotImplementedError


def get_placement(actor: Actor, session: Session, placement_id: int) -> PlacementView:
    raise NotImplementedError


def active_placement(actor: Actor, session: Session, client_id: int) -> PlacementView | None:
    """The account's active placement, if any."""
    raise NotImplementedError


def list_placements(
    actor: Actor,
    session: Session,
    *,
    agency_id: int | None = None,
    status: PlacementStatus | str | None = PlacementStatus.ACTIVE,
    after: PlacementKey | None = None,
    limit: int = 50,
    filter_text: str = "",
) -> PlacementPage:
    """Placements newest first, one page; ``status=None`` lists every status."""
    raise NotImplementedError


def export_placement_file(
    actor: Actor,
    session: Session,
    *,
    path: Path | str,
    placement_ids: list[int] | tuple[int, ...] | None = None,
    agency_id: int | None = None,
) -> ExportResult:
    """Write the placement file for the given placements (or every active placement of the
    agency). Refuses an existing file (ConflictError) and a missing folder (ValidationError)."""
    raise NotImplementedError
