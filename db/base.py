"""Declarative base with a naming convention so Alembic migrations are stable."""

from __future__ import annotations

import enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING)


def enum_type(e: type[enum.StrEnum], name: str) -> sa.Enum:
    """A portable enum: VARCHAR plus a CHECK constraint, storing the member's value."""
    return sa.Enum(
        e,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=24,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


def fk(target: str, *, ondelete: str | None = None, **kw: Any) -> sa.ForeignKey:
    return sa.ForeignKey(target, ondelete=ondelete, **kw)
