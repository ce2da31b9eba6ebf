"""report indexes: the per-clerk output report's period scans

Revision ID: 0006
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (name, table, columns): each leads with the date or instant that decides the report period.
INDEXES: tuple[tuple[str, str, list[str]], ...] = (
    ("ix_invoices_report", "invoices", ["issue_date", "issued_by", "kind", "status", "client_id", "total"]),
    ("ix_payments_report", "payments", ["received_on", "posted_by", "amount"]),
    ("ix_contact_attempts_report", "contact_attempts", ["at", "made_by"]),
    ("ix_disputes_opened", "disputes", ["opened_at", "opened_by"]),
    ("ix_disputes_decided", "disputes", ["decided_at", "decided_by"]),
    ("ix_assignments_report", "assignments", ["day", "user_id", "published", "outcome", "work_item_id"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
