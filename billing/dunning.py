"""Dunning (SPEC §3.7): reminder levels as data, a previewed run, letters.

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
* ``preview_run`` writes nothing; ``apply_run`` recomputes the same rows, records a
  ``DunningRun`` with one ``DunningEvent`` per fired level, issues one fee invoice per fired
  level with a fee, and audits the run. One letter per account per run lists its items.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.orm import Session

from db.models import Channel
from db.rights import Actor


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


def list_levels(actor: Actor, session: Session, *, include_retired: bool = False) -> tuple[LevelView, ...]:
    """Levels by level number."""
    raise NotImplementedError


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
    raise NotImplementedError


def preview_run(actor: Actor, session: Session, *, as_of: dt.date | None = None) -> DunningPreview:
    """What a run on ``as_of`` (default: the office's today) would do. Writes nothing."""
    raise NotImplementedError


def apply_run(actor: Actor, session: Session, *, as_of: dt.date | None = None) -> RunResult:
    """Apply the run (supervisors): recomputes the preview and fires its levels."""
    raise NotImplementedError


def list_runs(actor: Actor, session: Session, *, limit: int = 50) -> tuple[RunRow, ...]:
    """Recent runs, newest first."""
    raise NotImplementedError


def run_letters(actor: Actor, session: Session, run_id: int) -> tuple[LetterDoc, ...]:
    """The letters of a run, one per account, by account number."""
    raise NotImplementedError


def render_letter_text(doc: LetterDoc, symbol: str = "$") -> str:
    """The letter as 80-column text."""
    raise NotImplementedError


def render_letter_pdf(doc: LetterDoc, symbol: str = "$") -> bytes:
    """The letter as a one-page PDF (fpdf2 imported here, on first use)."""
    raise NotImplementedError


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
    raise NotImplementedError


def end_pause(actor: Actor, session: Session, pause_id: int) -> PauseView:
    """End a pause before its day (supervisors)."""
    raise NotImplementedError


def list_pauses(actor: Actor, session: Session, client_id: int) -> tuple[PauseView, ...]:
    """Pauses of an account that have not ended, newest first."""
    raise NotImplementedError
