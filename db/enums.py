"""The data model's vocabulary: every enum a column stores, with no ORM attached.

Screens and widgets import these to show and pick values; importing this module must not load
SQLAlchemy (tests/test_layers.py checks), so it imports nothing but ``enum``. ``db.models``
re-exports each name, so domain code may keep importing them from there.
"""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    SUPERVISOR = "supervisor"
    CLERK = "clerk"


class PayerKind(enum.StrEnum):
    INSURER = "insurer"
    GOVERNMENT = "government"
    EMPLOYER = "employer"
    OTHER = "other"


class ClientStatus(enum.StrEnum):
    ACTIVE = "active"
    DELINQUENT = "delinquent"
    IN_COLLECTIONS = "in_collections"
    CLOSED = "closed"


class Channel(enum.StrEnum):
    PHONE = "phone"
    EMAIL = "email"
    SMS = "sms"
    LETTER = "letter"
    VISIT = "visit"


class CoverageRank(enum.StrEnum):
    PRIMARY = "primary"
    SECONDARY = "secondary"


class EligibilityResult(enum.StrEnum):
    ELIGIBLE = "eligible"
    NOT_ELIGIBLE = "not_eligible"
    PENDING = "pending"


class InvoiceKind(enum.StrEnum):
    INVOICE = "invoice"  # to a payer through a coverage
    STATEMENT = "statement"  # to the client for their share
    CREDIT_NOTE = "credit_note"
    FEE = "fee"  # dunning fee


class BillTo(enum.StrEnum):
    PAYER = "payer"
    CLIENT = "client"


class InvoiceStatus(enum.StrEnum):
    DRAFT = "draft"
    ISSUED = "issued"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    VOID = "void"
    WRITTEN_OFF = "written_off"
    IN_COLLECTIONS = "in_collections"


class PaymentMethod(enum.StrEnum):
    CHECK = "check"
    CARD = "card"
    CASH = "cash"
    BANK_TRANSFER = "bank_transfer"
    EFT = "eft"  # payer electronic remittance
    AGENCY = "agency"  # collected by an agency


class PayerSide(enum.StrEnum):
    PAYER = "payer"
    CLIENT = "client"


class AdjustmentKind(enum.StrEnum):
    WAIVE = "waive"
    WRITE_OFF = "write_off"
    CORRECTION = "correction"
    AGENCY_FEE = "agency_fee"
    CONTRACTUAL = "contractual"


class PlanInterval(enum.StrEnum):
    WEEKLY = "weekly"
    BIWEEKLY = "biweekly"
    MONTHLY = "monthly"


class PlanStatus(enum.StrEnum):
    ACTIVE = "active"
    LATE = "late"
    DEFAULTED = "defaulted"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class InstallmentStatus(enum.StrEnum):
    DUE = "due"
    PARTIAL = "partial"
    PAID = "paid"
    MISSED = "missed"


class ContactDirection(enum.StrEnum):
    OUTBOUND = "outbound"
    INBOUND = "inbound"


class ContactOutcome(enum.StrEnum):
    REACHED = "reached"
    NO_ANSWER = "no_answer"
    LEFT_MESSAGE = "left_message"
    PROMISE_TO_PAY = "promise_to_pay"
    REFUSED = "refused"
    WRONG_NUMBER = "wrong_number"
    SENT = "sent"


class PlacementStatus(enum.StrEnum):
    ACTIVE = "active"
    RECALLED = "recalled"
    CLOSED = "closed"


class DisputeReason(enum.StrEnum):
    NOT_RENDERED = "not_rendered"
    AMOUNT_DIFFERS = "amount_differs"
    COVERAGE_QUESTION = "coverage_question"
    OTHER = "other"


class DisputeStatus(enum.StrEnum):
    OPEN = "open"
    WAIVED = "waived"
    CONFIRMED = "confirmed"
    CORRECTED = "corrected"


class ShiftStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


class RequestStatus(enum.StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    DECLINED = "declined"
    CANCELLED = "cancelled"


class WorkKind(enum.StrEnum):
    BILL = "bill"
    CHASE = "chase"
    VERIFY = "verify"
    INSTALLMENT = "installment"
    DISPUTE = "dispute"


class WorkStatus(enum.StrEnum):
    OPEN = "open"
    DONE = "done"
    CARRIED = "carried"
    CANCELLED = "cancelled"


class WorkOutcome(enum.StrEnum):
    DONE = "done"
    NO_ANSWER = "no_answer"
    PROMISE_TO_PAY = "promise_to_pay"
    ESCALATED = "escalated"
    SKIPPED = "skipped"


class ClockKind(enum.StrEnum):
    IN = "in"
    OUT = "out"
    BREAK_START = "break_start"
    BREAK_END = "break_end"


class ClockSource(enum.StrEnum):
    CLOCK = "clock"  # the server's clock when the clerk pressed the key
    SUPERVISOR = "supervisor"  # added or corrected by a supervisor, with a reason


class TimecardStatus(enum.StrEnum):
    OPEN = "open"
    SUBMITTED = "submitted"
    SIGNED = "signed"
    EXPORTED = "exported"


class IncidentKind(enum.StrEnum):
    LATE = "late"
    LEFT_EARLY = "left_early"
    ABSENT = "absent"


class DisciplineKind(enum.StrEnum):
    VERBAL = "verbal"
    WRITTEN = "written"
    FINAL = "final"
    COACHING = "coaching"
