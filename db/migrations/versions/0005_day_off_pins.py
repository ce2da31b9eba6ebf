"""day off pins: a supervisor pins a clerk's day off on the schedule grid (the builder keeps it)

Revision ID: 0005
Revises: 0006
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.timeutil

revision: str = "0005"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "day_off_pins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", db.timeutil.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_day_off_pins_user_id_users")),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_day_off_pins_created_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_day_off_pins")),
        sa.UniqueConstraint("user_id", "day", name=op.f("uq_day_off_pins_user_id_day")),
    )


def downgrade() -> None:
    op.drop_table("day_off_pins")
