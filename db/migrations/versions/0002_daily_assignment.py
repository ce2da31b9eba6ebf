"""daily assignment: work item keys, priority terms and versions; manual assignments; work days

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import db.money
import db.timeutil

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("work_items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source_key", sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column("origin_day", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("amount", db.money.Money(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("priority_terms", JSON, nullable=True))
        batch_op.add_column(
            sa.Column("summary", sa.String(length=200), server_default=sa.text("''"), nullable=False)
        )
        batch_op.add_column(sa.Column("note", sa.Text(), server_default=sa.text("''"), nullable=False))
        batch_op.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))
        batch_op.create_index("ix_work_items_day_priority", ["day", "priority", "id"], unique=False)
        batch_op.create_unique_constraint(batch_op.f("uq_work_items_day_source_key"), ["day", "source_key"])

    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("manual", sa.Boolean(), server_default=sa.false(), nullable=False))

    op.create_table(
        "work_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("marker", sa.BigInteger(), nullable=False),
        sa.Column("generated_at", db.timeutil.UTCDateTime(), nullable=True),
        sa.Column("published_at", db.timeutil.UTCDateTime(), nullable=True),
        sa.Column("published_by", sa.Integer(), nullable=True),
        sa.Column("away_user_ids", JSON, nullable=False),
        sa.Column("undo", JSON, nullable=True),
        sa.ForeignKeyConstraint(["published_by"], ["users.id"], name=op.f("fk_work_days_published_by_users")),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_work_days")),
    )


def downgrade() -> None:
    op.drop_table("work_days")
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.drop_column("manual")
    with op.batch_alter_table("work_items", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_work_items_day_source_key"), type_="unique")
        batch_op.drop_index("ix_work_items_day_priority")
        batch_op.drop_column("version")
        batch_op.drop_column("note")
        batch_op.drop_column("summary")
        batch_op.drop_column("priority_terms")
        batch_op.drop_column("amount")
        batch_op.drop_column("origin_day")
        batch_op.drop_column("source_key")
