"""Typed errors that every layer raises and the UI turns into messages."""

from __future__ import annotations


class ClerkDeskError(Exception):
    """Base of every error a user may see. ``str(err)`` is the message to show; ``title`` is
    the heading a screen puts above it (never the class name)."""

    title = "Cannot do that"


class PermissionDenied(ClerkDeskError):
    """The actor's role does not allow the action (or the action is on their own work)."""

    title = "Not allowed"


class ValidationError(ClerkDeskError):
    """Bad input. ``fields`` maps a field name to why it is wrong, so a form can mark it."""

    title = "Check your input"

    def __init__(self, message: str, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.fields: dict[str, str] = dict(fields or {})

    @classmethod
    def from_fields(cls, fields: dict[str, str]) -> ValidationError:
        msg = "; ".join(f"{name}: {why}" for name, why in fields.items())
        return cls(msg, fields)


class NotFound(ClerkDeskError):
    """A named record does not exist."""

    title = "Not found"


class ConflictError(ClerkDeskError):
    """Someone else changed the record first (stale version) or a uniqueness rule was hit."""

    title = "Changed by someone else"


class FrozenError(ClerkDeskError):
    """The record is frozen (issued invoice, signed timecard) and cannot be changed this way."""

    title = "Locked"


class MigrationRequired(ClerkDeskError):
    """The database schema is older (or newer) than this program."""

    title = "Database needs an upgrade"
