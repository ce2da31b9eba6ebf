"""The whole ClerkDesk data model.

Conventions: money columns are ``Money`` (integer cents, Decimal in Python); instants are
``UTCDateTime`` (pendulum, UTC); calendar days are plain ``Date``; percentages are integer
basis points (``*_bp``: 2000 = 20.00 %) so no float ever reaches a figure. Rows two people
may edit at once carry a ``version`` column (optimistic locking: a stale save raises).
Nothing is ever deleted: people are deactivated, invoices voided, events superseded.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from decimal import Decimal
from typing import Any

import pendulum
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.base import Base, enum_type
from db.coltypes import Money, UTCDateTime
from db.enums import (
    AdjustmentKind,
    BillTo,
    Channel,
    ClientStatus,
    ClockKind,
    ClockSource,
    ContactDirection,
    ContactOutcome,
    CoverageRank,
    DisciplineKind,
    DisputeReason,
    DisputeStatus,
    EligibilityResult,
    IncidentKind,
    InstallmentStatus,
    InvoiceKind,
    InvoiceStatus,
    PayerKind,
    PayerSide,
    PaymentMethod,
    PlacementStatus,
    PlanInterval,
    PlanStatus,
    RequestStatus,
    Role,
    ShiftStatus,
    TimecardStatus,
    WorkKind,
    WorkOutcome,
    WorkStatus,
)
from db.timeutil import now

JSON = sa.JSON().with_variant(JSONB(), "postgresql")


def _now() -> pendulum.DateTime:
    return now()


def created_at() -> Mapped[pendulum.DateTime]:
    return mapped_column(UTCDateTime, default=_now, nullable=False)


# --------------------------------------------------------------------------- office and staff


class Setting(Base):
    """Office-wide settings (time zone, currency, eligibility limit, overtime, …) as JSON."""

    __tablename__ = "settings"
    key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON, nullable=True)


class Team(Base):
    __tablename__ = "teams"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(80), unique=True)
    description: Mapped[str] = mapped_column(sa.String(200), default="")


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        sa.CheckConstraint("contracted_minutes >= 0 AND contracted_minutes <= 4800", name="hours"),
        sa.CheckConstraint(
            "termination_date IS NULL OR termination_date >= hire_date", name="termination_after_hire"
        ),
        sa.CheckConstraint("length(login) >= 1", name="login_not_empty"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    role: Mapped[Role] = mapped_column(enum_type(Role, "role"))
    team_id: Mapped[int | None] = mapped_column(sa.ForeignKey("teams.id"), index=True)
    # Payer kinds and languages, e.g. ["insurer", "government", "lang:es"].
    skills: Mapped[list[str]] = mapped_column(JSON, default=list)
    contracted_minutes: Mapped[int] = mapped_column(default=2400)  # per week
    email: Mapped[str] = mapped_column(sa.String(200), default="")
    active: Mapped[bool] = mapped_column(default=True)
    hire_date: Mapped[dt.date] = mapped_column(sa.Date)
    termination_date: Mapped[dt.date | None] = mapped_column(sa.Date)
    created_at: Mapped[pendulum.DateTime] = created_at()
    version: Mapped[int] = mapped_column(default=1)
    team: Mapped[Team | None] = relationship()
    __mapper_args__ = {"version_id_col": version}


# --------------------------------------------------------------------------- payers and codes


class Payer(Base):
    __tablename__ = "payers"
    __table_args__ = (sa.CheckConstraint("terms_days >= 0 AND terms_days <= 365", name="terms"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), unique=True)
    kind: Mapped[PayerKind] = mapped_column(enum_type(PayerKind, "payer_kind"), index=True)
    terms_days: Mapped[int] = mapped_column(default=30)
    payer_ref: Mapped[str] = mapped_column(sa.String(40), default="")  # e.g. payer id for claims
    address: Mapped[str] = mapped_column(sa.String(300), default="")
    phone: Mapped[str] = mapped_column(sa.String(40), default="")
    email: Mapped[str] = mapped_column(sa.String(200), default="")
    active: Mapped[bool] = mapped_column(default=True)


class ServiceCode(Base):
    __tablename__ = "service_codes"
    __table_args__ = (sa.CheckConstraint("fee >= 0", name="fee_not_negative"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(16), unique=True)
    description: Mapped[str] = mapped_column(sa.String(300))
    fee: Mapped[Decimal] = mapped_column(Money)
    active: Mapped[bool] = mapped_column(default=True)


class PayerCode(Base):
    """Crosswalk: the payer's own code (and optionally its allowed amount) for a standard code."""

    __tablename__ = "payer_codes"
    __table_args__ = (
        sa.UniqueConstraint("payer_id", "service_code_id"),
        sa.CheckConstraint("allowed_amount IS NULL OR allowed_amount >= 0", name="allowed"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    payer_id: Mapped[int] = mapped_column(sa.ForeignKey("payers.id"))
    service_code_id: Mapped[int] = mapped_column(sa.ForeignKey("service_codes.id"))
    payer_code: Mapped[str] = mapped_column(sa.String(24))
    allowed_amount: Mapped[Decimal | None] = mapped_column(Money)


# --------------------------------------------------------------------------- clients


def name_search_key(last_name: str, first_name: str) -> str:
    """``"Nguyễn", "Thị Hương"`` → ``"nguyen thi huong"``: accents dropped, case folded, spaces
    collapsed, so a typed prefix finds the client in any database with a plain index."""
    text = f"{last_name} {first_name}".replace("đ", "d").replace("Đ", "D")
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return " ".join(text.casefold().split())[:170]


def _search_name_default(context: Any) -> str:
    params = context.get_current_parameters()
    return name_search_key(params.get("last_name") or "", params.get("first_name") or "")


class Client(Base):
    __tablename__ = "clients"
    __table_args__ = (
        sa.Index("ix_clients_name", "last_name", "first_name", "id"),
        sa.Index("ix_clients_name_dob", "last_name", "first_name", "date_of_birth"),
        sa.CheckConstraint("length(last_name) >= 1", name="last_name_not_empty"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    account_number: Mapped[str] = mapped_column(sa.String(20), unique=True)
    first_name: Mapped[str] = mapped_column(sa.String(80))
    last_name: Mapped[str] = mapped_column(sa.String(80))
    date_of_birth: Mapped[dt.date | None] = mapped_column(sa.Date)
    address_line1: Mapped[str] = mapped_column(sa.String(200), default="")
    address_line2: Mapped[str] = mapped_column(sa.String(200), default="")
    city: Mapped[str] = mapped_column(sa.String(100), default="")
    region: Mapped[str] = mapped_column(sa.String(40), default="")
    postal_code: Mapped[str] = mapped_column(sa.String(20), default="")
    phone: Mapped[str] = mapped_column(sa.String(40), default="")
    email: Mapped[str] = mapped_column(sa.String(200), default="")
    preferred_channel: Mapped[Channel] = mapped_column(enum_type(Channel, "channel"), default=Channel.PHONE)
    language: Mapped[str] = mapped_column(sa.String(16), default="en")
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    special_concerns: Mapped[str] = mapped_column(sa.Text, default="")
    status: Mapped[ClientStatus] = mapped_column(
        enum_type(ClientStatus, "client_status"), default=ClientStatus.ACTIVE, index=True
    )
    owner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    created_at: Mapped[pendulum.DateTime] = created_at()
    version: Mapped[int] = mapped_column(default=1)
    owner: Mapped[User | None] = relationship()
    __mapper_args__ = {"version_id_col": version}

    # Folded "last first" (see ``name_search_key``), kept by billing.clients; the default fills it
    # for inserts that bypass the service (bulk scale data).
    search_name: Mapped[str] = mapped_column(sa.String(170), default=_search_name_default)

    @property
    def display_name(self) -> str:
        return f"{self.last_name}, {self.first_name}".strip(", ")


# Search as you type (billing.clients.search_clients): prefix ranges on the folded name, the
# phone and the member id, walked in index order for keyset paging. On PostgreSQL these keys use
# the "C" collation (the ops string lands right after the column: ``phone COLLATE "C"``) so a
# prefix range can use the index whatever collation the database was created with.
_C = 'COLLATE "C"'
sa.Index("ix_clients_search", Client.search_name, Client.id, postgresql_ops={"search_name": _C})
sa.Index("ix_clients_phone", Client.phone, Client.id, postgresql_ops={"phone": _C})


class ContactChange(Base):
    """History of contact-data corrections: old value, new value, who, when."""

    __tablename__ = "contact_changes"
    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("clients.id"), index=True)
    field: Mapped[str] = mapped_column(sa.String(40))
    old_value: Mapped[str] = mapped_column(sa.Text, default="")
    new_value: Mapped[str] = mapped_column(sa.Text, default="")
    changed_by: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    changed_at: Mapped[pendulum.DateTime] = created_at()


class Coverage(Base):
    __tablename__ = "coverages"
    __table_args__ = (
        sa.CheckConstraint("coinsurance_bp >= 0 AND coinsurance_bp <= 10000", name="coinsurance"),
        sa.CheckConstraint("copay >= 0 AND deductible >= 0", name="amounts"),
        sa.CheckConstraint(
            "deductible_remaining >= 0 AND deductible_remaining <= deductible", name="remaining"
        ),
        sa.CheckConstraint("effective_to IS NULL OR effective_to >= effective_from", name="dates"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("clients.id"), index=True)
    payer_id: Mapped[int] = mapped_column(sa.ForeignKey("payers.id"), index=True)
    rank: Mapped[CoverageRank] = mapped_column(enum_type(CoverageRank, "coverage_rank"))
    member_id: Mapped[str] = mapped_column(sa.String(40))
    group_number: Mapped[str] = mapped_column(sa.String(40), default="")
    subscriber_name: Mapped[str] = mapped_column(sa.String(120), default="")
    subscriber_relation: Mapped[str] = mapped_column(sa.String(20), default="self")
    effective_from: Mapped[dt.date] = mapped_column(sa.Date)
    effective_to: Mapped[dt.date | None] = mapped_column(sa.Date)
    copay: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    coinsurance_bp: Mapped[int] = mapped_column(default=0)
    deductible: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    deductible_remaining: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[pendulum.DateTime] = created_at()
    version: Mapped[int] = mapped_column(default=1)
    payer: Mapped[Payer] = relationship()
    __mapper_args__ = {"version_id_col": version}


sa.Index("ix_coverages_member_id", Coverage.member_id, Coverage.id, postgresql_ops={"member_id": _C})


class EligibilityCheck(Base):
    __tablename__ = "eligibility_checks"
    id: Mapped[int] = mapped_column(primary_key=True)
    coverage_id: Mapped[int] = mapped_column(sa.ForeignKey("coverages.id"), index=True)
    checked_on: Mapped[dt.date] = mapped_column(sa.Date)
    checked_by: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    result: Mapped[EligibilityResult] = mapped_column(enum_type(EligibilityResult, "eligibility_result"))
    covered_services: Mapped[str] = mapped_column(sa.Text, default="")
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[pendulum.DateTime] = created_at()


class EligibilityOverride(Base):
    """A supervisor lets an invoice go to a payer despite a stale or missing check."""

    __tablename__ = "eligibility_overrides"
    id: Mapped[int] = mapped_column(primary_key=True)
    coverage_id: Mapped[int] = mapped_column(sa.ForeignKey("coverages.id"), index=True)
    reason: Mapped[str] = mapped_column(sa.Text)
    granted_by: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    valid_until: Mapped[dt.date] = mapped_column(sa.Date)
    created_at: Mapped[pendulum.DateTime] = created_at()


# --------------------------------------------------------------------------- services and invoices


class ServiceRendered(Base):
    __tablename__ = "services_rendered"
    __table_args__ = (
        sa.CheckConstraint("units >= 1 AND units <= 999", name="units"),
        sa.Index("ix_services_unbilled", "billed", "client_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("clients.id"), index=True)
    service_date: Mapped[dt.date] = mapped_column(sa.Date)
    service_code_id: Mapped[int] = mapped_column(sa.ForeignKey("service_codes.id"))
    units: Mapped[int] = mapped_column(default=1)
    rendering_note: Mapped[str] = mapped_column(sa.String(300), default="")
    billed: Mapped[bool] = mapped_column(default=False)
    voided: Mapped[bool] = mapped_column(default=False)
    recorded_by: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[pendulum.DateTime] = created_at()
    code: Mapped[ServiceCode] = relationship()


class NumberSequence(Base):
    """Gap-free counters (invoice numbers). The row is locked by the issuing transaction."""

    __tablename__ = "number_sequences"
    name: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    next_value: Mapped[int] = mapped_column(sa.BigInteger, default=1)


class Invoice(Base):
    __tablename__ = "invoices"
    __table_args__ = (
        sa.Index("ix_invoices_status_due", "status", "due_date"),
        sa.Index("ix_invoices_client", "client_id", "issue_date"),
        sa.CheckConstraint(
            "(bill_to = 'payer' AND payer_id IS NOT NULL) OR (bill_to = 'client')", name="bill_to_party"
        ),
        sa.CheckConstraint("status = 'draft' OR number IS NOT NULL", name="issued_has_number"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(sa.String(20), unique=True)
    kind: Mapped[InvoiceKind] = mapped_column(enum_type(InvoiceKind, "invoice_kind"))
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("clients.id"))
    bill_to: Mapped[BillTo] = mapped_column(enum_type(BillTo, "bill_to"))
    payer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("payers.id"), index=True)
    coverage_id: Mapped[int | None] = mapped_column(sa.ForeignKey("coverages.id"))
    credits_invoice_id: Mapped[int | None] = mapped_column(sa.ForeignKey("invoices.id"))
    status: Mapped[InvoiceStatus] = mapped_column(
        enum_type(InvoiceStatus, "invoice_status"), default=InvoiceStatus.DRAFT
    )
    issue_date: Mapped[dt.date | None] = mapped_column(sa.Date)
    due_date: Mapped[dt.date | None] = mapped_column(sa.Date)
    total: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    amount_paid: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    amount_adjusted: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    dispute_hold: Mapped[bool] = mapped_column(default=False)
    void_reason: Mapped[str] = mapped_column(sa.Text, default="")
    created_by: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    issued_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    issued_at: Mapped[pendulum.DateTime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[pendulum.DateTime] = created_at()
    version: Mapped[int] = mapped_column(default=1)
    lines: Mapped[list[InvoiceLine]] = relationship(
        back_populates="invoice", order_by="InvoiceLine.line_no", cascade="all, delete-orphan"
    )
    __mapper_args__ = {"version_id_col": version}

    @property
    def balance(self) -> Decimal:
        return self.total - self.amount_paid - self.amount_adjusted


class InvoiceLine(Base):
    __tablename__ = "invoice_lines"
    __table_args__ = (
        sa.UniqueConstraint("invoice_id", "line_no"),
        sa.CheckConstraint("units >= 1", name="units"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(sa.ForeignKey("invoices.id"), index=True)
    line_no: Mapped[int] = mapped_column()
    service_id: Mapped[int | None] = mapped_column(sa.ForeignKey("services_rendered.id"), index=True)
    code: Mapped[str] = mapped_column(sa.String(24))  # as the bill-to party knows it
    description: Mapped[str] = mapped_column(sa.String(300))
    service_date: Mapped[dt.date | None] = mapped_column(sa.Date)
    units: Mapped[int] = mapped_column(default=1)
    unit_price: Mapped[Decimal] = mapped_column(Money)
    amount: Mapped[Decimal] = mapped_column(Money)
    # The steps of the split that produced this figure, for the "explain" view.
    explain: Mapped[list[Any]] = mapped_column(JSON, default=list)
    # On a credit note: the original line this one (negative) credits.
    credits_line_id: Mapped[int | None] = mapped_column(sa.ForeignKey("invoice_lines.id"), index=True)
    invoice: Mapped[Invoice] = relationship(back_populates="lines")


class PaymentBatch(Base):
    __tablename__ = "payment_batches"
    id: Mapped[int] = mapped_column(primary_key=True)
    control_total: Mapped[Decimal] = mapped_column(Money)
    item_count: Mapped[int] = mapped_column()
    note: Mapped[str] = mapped_column(sa.String(200), default="")
    created_by: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[pendulum.DateTime] = created_at()


class Payment(Base):
    __tablename__ = "payments"
    __table_args__ = (
        sa.CheckConstraint("amount > 0", name="amount_positive"),
        sa.CheckConstraint("unapplied >= 0 AND unapplied <= amount", name="unapplied"),
        sa.Index("ix_payments_received", "received_on"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    side: Mapped[PayerSide] = mapped_column(enum_type(PayerSide, "payer_side"))
    client_id: Mapped[int | None] = mapped_column(sa.ForeignKey("clients.id"), index=True)
    payer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("payers.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    unapplied: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))  # account credit
    method: Mapped[PaymentMethod] = mapped_column(enum_type(PaymentMethod, "payment_method"))
    received_on: Mapped[dt.date] = mapped_column(sa.Date)
    reference: Mapped[str] = mapped_column(sa.String(80), default="")
    idempotency_key: Mapped[str] = mapped_column(sa.String(120), unique=True)
    batch_id: Mapped[int | None] = mapped_column(sa.ForeignKey("payment_batches.id"))
    placement_id: Mapped[int | None] = mapped_column(sa.ForeignKey("placements.id"))
    posted_by: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    posted_at: Mapped[pendulum.DateTime] = created_at()


class Allocation(Base):
    __tablename__ = "allocations"
    __table_args__ = (sa.CheckConstraint("amount > 0", name="amount_positive"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(sa.ForeignKey("payments.id"), index=True)
    invoice_id: Mapped[int] = mapped_column(sa.ForeignKey("invoices.id"), index=True)
    installment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("installments.id"))
    amount: Mapped[Decimal] = mapped_column(Money)
    created_at: Mapped[pendulum.DateTime] = created_at()


class Adjustment(Base):
    __tablename__ = "adjustments"
    __table_args__ = (sa.CheckConstraint("length(reason) >= 1", name="reason_required"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(sa.ForeignKey("invoices.id"), index=True)
    kind: Mapped[AdjustmentKind] = mapped_column(enum_type(AdjustmentKind, "adjustment_kind"))
    amount: Mapped[Decimal] = mapped_column(Money)  # positive reduces what is owed
    reason: Mapped[str] = mapped_column(sa.Text)
    dispute_id: Mapped[int | None] = mapped_column(sa.ForeignKey("disputes.id"))
    made_by: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[pendulum.DateTime] = created_at()
    reason_code: Mapped[str | None] = mapped_column(sa.String(16))  # collections (0003)


# Collections (0003): aging "as of" a past day finds what changed after it through these.
sa.Index("ix_allocations_created", Allocation.created_at)
sa.Index("ix_adjustments_created", Adjustment.created_at)
# Aging and the collections worklist aggregate open invoices: this index covers those queries
# (status first, so the planner takes it for "status IN (issued, partially paid)").
sa.Index(
    "ix_invoices_aging",
    Invoice.status,
    Invoice.bill_to,
    Invoice.client_id,
    Invoice.due_date,
    Invoice.issue_date,
    Invoice.kind,
    Invoice.total,
    Invoice.amount_paid,
    Invoice.amount_adjusted,
)


class PaymentPlan(Base):
    __tablename__ = "payment_plans"
    __table_args__ = (
        sa.CheckConstraint("installment_count >= 1 AND installment_count <= 120", name="count"),
        sa.CheckConstraint("amount_financed > 0", name="amount_positive"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("clients.id"), index=True)
    amount_financed: Mapped[Decimal] = mapped_column(Money)
    installment_count: Mapped[int] = mapped_column()
    interval: Mapped[PlanInterval] = mapped_column(enum_type(PlanInterval, "plan_interval"))
    first_due: Mapped[dt.date] = mapped_column(sa.Date)
    status: Mapped[PlanStatus] = mapped_column(
        enum_type(PlanStatus, "plan_status"), default=PlanStatus.ACTIVE
    )
    created_by: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[pendulum.DateTime] = created_at()
    version: Mapped[int] = mapped_column(default=1)
    installments: Mapped[list[Installment]] = relationship(order_by="Installment.seq")
    __mapper_args__ = {"version_id_col": version}


class Installment(Base):
    __tablename__ = "installments"
    __table_args__ = (
        sa.UniqueConstraint("plan_id", "seq"),
        sa.CheckConstraint("amount > 0 AND paid_amount >= 0 AND paid_amount <= amount", name="amounts"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("payment_plans.id"), index=True)
    seq: Mapped[int] = mapped_column()
    due_date: Mapped[dt.date] = mapped_column(sa.Date, index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    paid_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    status: Mapped[InstallmentStatus] = mapped_column(
        enum_type(InstallmentStatus, "installment_status"), default=InstallmentStatus.DUE
    )


# --------------------------------------------------------------------------- collections


class DunningLevel(Base):
    __tablename__ = "dunning_levels"
    id: Mapped[int] = mapped_column(primary_key=True)
    level: Mapped[int] = mapped_column(unique=True)
    name: Mapped[str] = mapped_column(sa.String(80))
    days_overdue: Mapped[int] = mapped_column()
    letter_text: Mapped[str] = mapped_column(sa.Text)
    fee: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    # collections (0003): how the level reaches the client; a retired level never fires again.
    channel: Mapped[Channel] = mapped_column(
        enum_type(Channel, "channel"), default=Channel.LETTER, server_default="letter"
    )
    active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())


class DunningRun(Base):
    __tablename__ = "dunning_runs"
    id: Mapped[int] = mapped_column(primary_key=True)
    as_of: Mapped[dt.date] = mapped_column(sa.Date)
    run_by: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[pendulum.DateTime] = created_at()


class DunningEvent(Base):
    """A level fired for an invoice. Unique per (invoice, level): each level fires once."""

    __tablename__ = "dunning_events"
    __table_args__ = (sa.UniqueConstraint("invoice_id", "level_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(sa.ForeignKey("invoices.id"), index=True)
    level_id: Mapped[int] = mapped_column(sa.ForeignKey("dunning_levels.id"))
    run_id: Mapped[int] = mapped_column(sa.ForeignKey("dunning_runs.id"))
    balance_dunned: Mapped[Decimal] = mapped_column(Money)
    fee_invoice_id: Mapped[int | None] = mapped_column(sa.ForeignKey("invoices.id"))
    created_at: Mapped[pendulum.DateTime] = created_at()


class ContactAttempt(Base):
    __tablename__ = "contact_attempts"
    __table_args__ = (sa.Index("ix_contact_attempts_client", "client_id", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("clients.id"))
    at: Mapped[pendulum.DateTime] = created_at()
    made_by: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    channel: Mapped[Channel] = mapped_column(enum_type(Channel, "channel"))
    direction: Mapped[ContactDirection] = mapped_column(enum_type(ContactDirection, "contact_direction"))
    outcome: Mapped[ContactOutcome] = mapped_column(enum_type(ContactOutcome, "contact_outcome"))
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    promise_date: Mapped[dt.date | None] = mapped_column(sa.Date, index=True)
    promise_amount: Mapped[Decimal | None] = mapped_column(Money)
    # collections (0003): a promise withdrawn by the clerk (client's plans changed, entered by mistake).
    promise_cancelled_at: Mapped[pendulum.DateTime | None] = mapped_column(UTCDateTime)
    promise_cancel_reason: Mapped[str] = mapped_column(sa.Text, default="")


class Agency(Base):
    __tablename__ = "agencies"
    __table_args__ = (sa.CheckConstraint("fee_bp >= 0 AND fee_bp <= 10000", name="fee"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), unique=True)
    fee_bp: Mapped[int] = mapped_column()
    contact: Mapped[str] = mapped_column(sa.String(300), default="")
    active: Mapped[bool] = mapped_column(default=True)


class Placement(Base):
    __tablename__ = "placements"
    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("clients.id"), index=True)
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agencies.id"))
    placed_on: Mapped[dt.date] = mapped_column(sa.Date)
    fee_bp: Mapped[int] = mapped_column()
    balance_placed: Mapped[Decimal] = mapped_column(Money)
    status: Mapped[PlacementStatus] = mapped_column(
        enum_type(PlacementStatus, "placement_status"), default=PlacementStatus.ACTIVE
    )
    recalled_on: Mapped[dt.date | None] = mapped_column(sa.Date)
    placed_by: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    # collections (0003)
    recalled_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    recall_reason: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[pendulum.DateTime] = created_at()


class Dispute(Base):
    __tablename__ = "disputes"
    __table_args__ = (sa.Index("ix_disputes_status", "status", "opened_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(sa.ForeignKey("invoices.id"), index=True)
    invoice_line_id: Mapped[int | None] = mapped_column(sa.ForeignKey("invoice_lines.id"))
    reason: Mapped[DisputeReason] = mapped_column(enum_type(DisputeReason, "dispute_reason"))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    status: Mapped[DisputeStatus] = mapped_column(
        enum_type(DisputeStatus, "dispute_status"), default=DisputeStatus.OPEN
    )
    opened_by: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    opened_at: Mapped[pendulum.DateTime] = created_at()
    decided_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[pendulum.DateTime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str] = mapped_column(sa.Text, default="")
    waived_amount: Mapped[Decimal | None] = mapped_column(Money)
    # collections (0003): the documents a "correct" decision issued.
    credit_note_id: Mapped[int | None] = mapped_column(sa.ForeignKey("invoices.id"))
    new_invoice_id: Mapped[int | None] = mapped_column(sa.ForeignKey("invoices.id"))
    version: Mapped[int] = mapped_column(default=1)
    __mapper_args__ = {"version_id_col": version}


class DunningPause(Base):
    """Collections (0003): dunning paused for a client (invoice_id NULL) or one invoice, until a day."""

    __tablename__ = "dunning_pauses"
    __table_args__ = (
        sa.CheckConstraint("length(reason) >= 1", name="reason_required"),
        sa.Index("ix_dunning_pauses_client", "client_id", "until"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("clients.id"))
    invoice_id: Mapped[int | None] = mapped_column(sa.ForeignKey("invoices.id"))
    reason: Mapped[str] = mapped_column(sa.Text)
    until: Mapped[dt.date] = mapped_column(sa.Date)  # last day of the pause
    ended_at: Mapped[pendulum.DateTime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[pendulum.DateTime] = created_at()


class AdjustmentReason(Base):
    """Collections (0003): reason codes for adjustments and write-offs, kept by supervisors."""

    __tablename__ = "adjustment_reasons"
    __table_args__ = (sa.CheckConstraint("length(code) >= 1", name="code_not_empty"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(16), unique=True)
    description: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[AdjustmentKind] = mapped_column(enum_type(AdjustmentKind, "adjustment_kind"))
    active: Mapped[bool] = mapped_column(default=True)


# --------------------------------------------------------------------------- schedule


class ShiftType(Base):
    __tablename__ = "shift_types"
    __table_args__ = (sa.CheckConstraint("minutes > 0 AND minutes <= 1440", name="minutes"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(4), unique=True)  # typed in grid cells
    name: Mapped[str] = mapped_column(sa.String(60))
    start_time: Mapped[dt.time] = mapped_column(sa.Time)
    minutes: Mapped[int] = mapped_column()  # length; may run past midnight
    unpaid_break_minutes: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)


class CoverageRequirement(Base):
    """People needed on a shift type, per weekday (0=Mon) or for one date (date wins)."""

    __tablename__ = "coverage_requirements"
    __table_args__ = (
        sa.CheckConstraint("(weekday IS NULL) <> (on_date IS NULL)", name="weekday_xor_date"),
        sa.CheckConstraint("weekday IS NULL OR (weekday >= 0 AND weekday <= 6)", name="weekday"),
        sa.CheckConstraint("required >= 0 AND under_weight >= 0 AND over_weight >= 0", name="numbers"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    shift_type_id: Mapped[int] = mapped_column(sa.ForeignKey("shift_types.id"))
    weekday: Mapped[int | None] = mapped_column()
    on_date: Mapped[dt.date | None] = mapped_column(sa.Date)
    required: Mapped[int] = mapped_column()
    preferred: Mapped[int | None] = mapped_column()
    under_weight: Mapped[int] = mapped_column(default=100)
    over_weight: Mapped[int] = mapped_column(default=10)


class Holiday(Base):
    __tablename__ = "holidays"
    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[dt.date] = mapped_column(sa.Date, unique=True)
    name: Mapped[str] = mapped_column(sa.String(80))


class RosterRule(Base):
    """Rules for one clerk (user_id) or a whole team (team_id); a clerk's own rule wins."""

    __tablename__ = "roster_rules"
    __table_args__ = (sa.CheckConstraint("(user_id IS NULL) <> (team_id IS NULL)", name="user_xor_team"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), unique=True)
    team_id: Mapped[int | None] = mapped_column(sa.ForeignKey("teams.id"), unique=True)
    min_minutes: Mapped[int | None] = mapped_column()  # per week
    max_minutes: Mapped[int | None] = mapped_column()
    min_consecutive_work: Mapped[int | None] = mapped_column()
    max_consecutive_work: Mapped[int | None] = mapped_column()
    min_consecutive_off: Mapped[int | None] = mapped_column()
    max_weekends: Mapped[int | None] = mapped_column()  # per period
    max_shifts: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)  # code → max; 0 = not qualified
    forbidden_sequences: Mapped[list[list[str]]] = mapped_column(JSON, default=list)  # [["L","E"]]
    fixed_days_off: Mapped[list[int]] = mapped_column(JSON, default=list)  # weekdays, 0=Mon


class Availability(Base):
    __tablename__ = "availability"
    __table_args__ = (sa.CheckConstraint("weekday >= 0 AND weekday <= 6", name="weekday"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    weekday: Mapped[int] = mapped_column()
    available: Mapped[bool] = mapped_column(default=True)
    note: Mapped[str] = mapped_column(sa.String(200), default="")


class TimeOffRequest(Base):
    __tablename__ = "time_off_requests"
    __table_args__ = (sa.CheckConstraint("end_date >= start_date", name="dates"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    start_date: Mapped[dt.date] = mapped_column(sa.Date)
    end_date: Mapped[dt.date] = mapped_column(sa.Date)
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    status: Mapped[RequestStatus] = mapped_column(
        enum_type(RequestStatus, "request_status"), default=RequestStatus.REQUESTED
    )
    decided_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[pendulum.DateTime | None] = mapped_column(UTCDateTime)
    decision_reason: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[pendulum.DateTime] = created_at()


class ShiftRequest(Base):
    """A clerk asks to work (wants=True) or not work a shift (or any shift) on a day."""

    __tablename__ = "shift_requests"
    __table_args__ = (sa.CheckConstraint("weight >= 0", name="weight"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    day: Mapped[dt.date] = mapped_column(sa.Date)
    shift_type_id: Mapped[int | None] = mapped_column(sa.ForeignKey("shift_types.id"))
    wants: Mapped[bool] = mapped_column()
    weight: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[pendulum.DateTime] = created_at()


class DayOffPin(Base):
    """A supervisor's "this clerk is off that day": the cell holds no shift and the roster
    builder leaves it empty (a shift is a row of ``shifts``; an off day has none to mark fixed)."""

    __tablename__ = "day_off_pins"
    __table_args__ = (sa.UniqueConstraint("user_id", "day"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    day: Mapped[dt.date] = mapped_column(sa.Date)
    created_by: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[pendulum.DateTime] = created_at()


class Shift(Base):
    """One clerk's shift on one day; belongs to the date it starts on."""

    __tablename__ = "shifts"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "day"),
        sa.Index("ix_shifts_day", "day", "status"),
        sa.CheckConstraint("ends_at > starts_at", name="order"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    day: Mapped[dt.date] = mapped_column(sa.Date)
    shift_type_id: Mapped[int] = mapped_column(sa.ForeignKey("shift_types.id"))
    status: Mapped[ShiftStatus] = mapped_column(
        enum_type(ShiftStatus, "shift_status"), default=ShiftStatus.DRAFT
    )
    starts_at: Mapped[pendulum.DateTime] = mapped_column(UTCDateTime)
    ends_at: Mapped[pendulum.DateTime] = mapped_column(UTCDateTime)
    fixed: Mapped[bool] = mapped_column(default=False)  # set by hand; "build" keeps it
    created_by: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[pendulum.DateTime] = created_at()
    version: Mapped[int] = mapped_column(default=1)
    shift_type: Mapped[ShiftType] = relationship()
    __mapper_args__ = {"version_id_col": version}


# --------------------------------------------------------------------------- daily work


class WorkItem(Base):
    __tablename__ = "work_items"
    __table_args__ = (
        sa.Index("ix_work_items_day", "day", "status"),
        sa.Index("ix_work_items_day_priority", "day", "priority", "id"),
        sa.UniqueConstraint("day", "source_key"),
        sa.CheckConstraint("effort_minutes >= 0", name="effort"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[dt.date] = mapped_column(sa.Date)
    kind: Mapped[WorkKind] = mapped_column(enum_type(WorkKind, "work_kind"))
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("clients.id"), index=True)
    invoice_id: Mapped[int | None] = mapped_column(sa.ForeignKey("invoices.id"))
    priority: Mapped[int] = mapped_column(default=0)
    effort_minutes: Mapped[int] = mapped_column(default=10)
    due_date: Mapped[dt.date | None] = mapped_column(sa.Date)
    payer_kind: Mapped[str] = mapped_column(sa.String(24), default="")  # skill needed
    language: Mapped[str] = mapped_column(sa.String(16), default="")
    status: Mapped[WorkStatus] = mapped_column(enum_type(WorkStatus, "work_status"), default=WorkStatus.OPEN)
    carried_from_id: Mapped[int | None] = mapped_column(sa.ForeignKey("work_items.id"))
    created_at: Mapped[pendulum.DateTime] = created_at()
    # Daily assignment (scheduling.work_items): what the item is about, once per day, so
    # generation is idempotent ("bill:client:12", "chase:invoice:55", …).
    source_key: Mapped[str | None] = mapped_column(sa.String(80))
    origin_day: Mapped[dt.date | None] = mapped_column(sa.Date)  # first day; carried items keep it
    amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"), server_default="0")
    priority_terms: Mapped[dict[str, int] | None] = mapped_column(JSON, default=dict)
    summary: Mapped[str] = mapped_column(sa.String(200), default="", server_default=sa.text("''"))
    note: Mapped[str] = mapped_column(sa.Text, default="", server_default=sa.text("''"))  # why cancelled
    # Compare-and-set by the services (UPDATE … WHERE version = :seen), bumped by every change
    # of the item or its assignment, so a move and a finish cannot both win.
    version: Mapped[int] = mapped_column(default=1, server_default="1")


class Assignment(Base):
    __tablename__ = "assignments"
    __table_args__ = (sa.Index("ix_assignments_user_day", "user_id", "day"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    work_item_id: Mapped[int] = mapped_column(sa.ForeignKey("work_items.id"), unique=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    day: Mapped[dt.date] = mapped_column(sa.Date)
    published: Mapped[bool] = mapped_column(default=False)
    assigned_by: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    outcome: Mapped[WorkOutcome | None] = mapped_column(enum_type(WorkOutcome, "work_outcome"))
    outcome_note: Mapped[str] = mapped_column(sa.Text, default="")
    finished_at: Mapped[pendulum.DateTime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[pendulum.DateTime] = created_at()
    version: Mapped[int] = mapped_column(default=1)
    manual: Mapped[bool] = mapped_column(default=False, server_default=sa.false())  # kept by re-plans
    __mapper_args__ = {"version_id_col": version}


class WorkDay(Base):
    """One row per day of daily assignment: state and the change marker clerk screens poll."""

    __tablename__ = "work_days"
    day: Mapped[dt.date] = mapped_column(sa.Date, primary_key=True)
    marker: Mapped[int] = mapped_column(sa.BigInteger, default=0)  # +1 on every change of the day
    generated_at: Mapped[pendulum.DateTime | None] = mapped_column(UTCDateTime)
    published_at: Mapped[pendulum.DateTime | None] = mapped_column(UTCDateTime)
    published_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    away_user_ids: Mapped[list[int]] = mapped_column(JSON, default=list)  # rebalanced away
    # One-step undo of the last auto-assign or rebalance: what it changed and the marker after.
    undo: Mapped[dict[str, Any] | None] = mapped_column(JSON)


# --------------------------------------------------------------------------- time and attendance


class ClockEvent(Base):
    """A clock event. Corrections never overwrite: the new row ``supersedes`` the old one."""

    __tablename__ = "clock_events"
    __table_args__ = (
        sa.Index("ix_clock_events_user_at", "user_id", "at"),
        sa.CheckConstraint("source = 'clock' OR length(reason) >= 1", name="reason_for_manual"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    kind: Mapped[ClockKind] = mapped_column(enum_type(ClockKind, "clock_kind"))
    at: Mapped[pendulum.DateTime] = mapped_column(UTCDateTime)
    source: Mapped[ClockSource] = mapped_column(enum_type(ClockSource, "clock_source"))
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    supersedes_id: Mapped[int | None] = mapped_column(sa.ForeignKey("clock_events.id"))
    voided: Mapped[bool] = mapped_column(default=False)
    recorded_by: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[pendulum.DateTime] = created_at()


class Timecard(Base):
    __tablename__ = "timecards"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "period_start"),
        sa.CheckConstraint("period_end >= period_start", name="period"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    period_start: Mapped[dt.date] = mapped_column(sa.Date)
    period_end: Mapped[dt.date] = mapped_column(sa.Date)
    status: Mapped[TimecardStatus] = mapped_column(
        enum_type(TimecardStatus, "timecard_status"), default=TimecardStatus.OPEN, index=True
    )
    submitted_at: Mapped[pendulum.DateTime | None] = mapped_column(UTCDateTime)
    submit_note: Mapped[str] = mapped_column(sa.Text, default="")
    signed_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    signed_at: Mapped[pendulum.DateTime | None] = mapped_column(UTCDateTime)
    exported_at: Mapped[pendulum.DateTime | None] = mapped_column(UTCDateTime)
    rejected_reason: Mapped[str] = mapped_column(sa.Text, default="")
    unlock_reason: Mapped[str] = mapped_column(sa.Text, default="")
    regular_minutes: Mapped[int] = mapped_column(default=0)  # frozen at signing
    overtime_minutes: Mapped[int] = mapped_column(default=0)
    version: Mapped[int] = mapped_column(default=1)
    __mapper_args__ = {"version_id_col": version}


class TimecardSignature(Base):
    """Who signed what, chained: hash = H(prev_hash + content_hash + who + when)."""

    __tablename__ = "timecard_signatures"
    id: Mapped[int] = mapped_column(primary_key=True)
    timecard_id: Mapped[int] = mapped_column(sa.ForeignKey("timecards.id"), index=True)
    signed_by: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    signed_at: Mapped[pendulum.DateTime] = mapped_column(UTCDateTime)
    content_hash: Mapped[str] = mapped_column(sa.String(64))
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    hash: Mapped[str] = mapped_column(sa.String(64), unique=True)


class AttendanceIncident(Base):
    __tablename__ = "attendance_incidents"
    __table_args__ = (sa.UniqueConstraint("user_id", "day", "kind"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    day: Mapped[dt.date] = mapped_column(sa.Date)
    kind: Mapped[IncidentKind] = mapped_column(enum_type(IncidentKind, "incident_kind"))
    minutes: Mapped[int] = mapped_column(default=0)
    shift_id: Mapped[int | None] = mapped_column(sa.ForeignKey("shifts.id"))
    created_at: Mapped[pendulum.DateTime] = created_at()


class DisciplineRecord(Base):
    __tablename__ = "discipline_records"
    __table_args__ = (sa.CheckConstraint("length(reason) >= 1", name="reason_required"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    kind: Mapped[DisciplineKind] = mapped_column(enum_type(DisciplineKind, "discipline_kind"))
    day: Mapped[dt.date] = mapped_column(sa.Date)
    reason: Mapped[str] = mapped_column(sa.Text)
    recorded_by: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    acknowledged_at: Mapped[pendulum.DateTime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[pendulum.DateTime] = created_at()


discipline_incidents = sa.Table(
    "discipline_incidents",
    Base.metadata,
    sa.Column("discipline_id", sa.ForeignKey("discipline_records.id"), primary_key=True),
    sa.Column("incident_id", sa.ForeignKey("attendance_incidents.id"), primary_key=True),
)


class DisciplineRule(Base):
    """'count incidents of kind within window_days → suggest discipline kind'. Never applied by itself."""

    __tablename__ = "discipline_rules"
    id: Mapped[int] = mapped_column(primary_key=True)
    incident_kind: Mapped[IncidentKind] = mapped_column(enum_type(IncidentKind, "incident_kind"))
    count: Mapped[int] = mapped_column()
    window_days: Mapped[int] = mapped_column()
    suggests: Mapped[DisciplineKind] = mapped_column(enum_type(DisciplineKind, "discipline_kind"))
    active: Mapped[bool] = mapped_column(default=True)


# --------------------------------------------------------------------------- audit


class AuditEntry(Base):
    """Append-only, hash-chained record of every change made through a service."""

    __tablename__ = "audit_log"
    __table_args__ = (sa.Index("ix_audit_entity", "entity", "entity_id"),)
    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)
    at: Mapped[pendulum.DateTime] = mapped_column(UTCDateTime, index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    actor_login: Mapped[str] = mapped_column(sa.String(32))
    entity: Mapped[str] = mapped_column(sa.String(40))
    entity_id: Mapped[str] = mapped_column(sa.String(40))
    action: Mapped[str] = mapped_column(sa.String(40))
    before: Mapped[str] = mapped_column(sa.Text, default="")  # canonical JSON
    after: Mapped[str] = mapped_column(sa.Text, default="")
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    hash: Mapped[str] = mapped_column(sa.String(64))
    # HMAC-SHA256 with the office's audit key (migration 0004); older rows are plain SHA-256.
    keyed: Mapped[bool] = mapped_column(default=True, server_default=sa.false())


class AuditHead(Base):
    """One row: the chain's tip. Writers lock it, so two transactions never fork the chain."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(primary_key=True)
    last_id: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    last_hash: Mapped[str] = mapped_column(sa.String(64))


# --------------------------------------------------------------------------- report indexes (0006)
# The per-clerk output report (reports/output.py) counts a period of each table grouped by the
# person. Each index leads with the date (or instant) that decides the period and covers the
# columns the aggregate reads, so a month of 2,000,000 invoices is one index range scan.

sa.Index(
    "ix_invoices_report",
    Invoice.issue_date,
    Invoice.issued_by,
    Invoice.kind,
    Invoice.status,
    Invoice.client_id,
    Invoice.total,
)
sa.Index("ix_payments_report", Payment.received_on, Payment.posted_by, Payment.amount)
sa.Index("ix_contact_attempts_report", ContactAttempt.at, ContactAttempt.made_by)
sa.Index("ix_disputes_opened", Dispute.opened_at, Dispute.opened_by)
sa.Index("ix_disputes_decided", Dispute.decided_at, Dispute.decided_by)
sa.Index(
    "ix_assignments_report",
    Assignment.day,
    Assignment.user_id,
    Assignment.published,
    Assignment.outcome,
    Assignment.work_item_id,
)
