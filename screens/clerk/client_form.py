"""Register a client, or edit one (contact-data changes are kept with history by the service).

Registering someone with the same name and date of birth as an existing client shows the
possible duplicates and asks before registering anyway. Editing sends the version the form was
opened with: if someone else saved the client in the meantime, the form says so and reloads
their saved data (nothing of theirs is overwritten).
"""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.markup import escape
from textual.widgets import Input, Select

from billing import clients
from billing.clients import ClientView, DuplicateClientWarning
from db.enums import Channel
from db.errors import ConflictError
from db.rights import Action
from scheduling import staff
from scheduling.staff import StaffRow
from tui.widgets.confirm import ConfirmDialog
from tui.widgets.dialogs import FormDialog
from tui.widgets.forms import ChoiceField, Field, parse_date

CHANNELS = [(c.value.capitalize(), c.value) for c in Channel]
# Form field → client attribute (the service names its errors by these field names too).
TEXT_FIELDS = (
    "first_name",
    "last_name",
    "address_line1",
    "address_line2",
    "city",
    "region",
    "postal_code",
    "phone",
    "email",
    "language",
    "special_concerns",
    "notes",
)


class ClientForm(FormDialog[ClientView]):
    """``ClientForm(None)`` registers; ``ClientForm(view)`` edits. Dismisses with the saved view."""

    HELP_TITLE = "Client"
    HELP = (
        "Fields marked * are required. Ctrl+S saves, Esc closes without saving. "
        "Changes of address, phone, e-mail or channel are kept in the client's contact history."
    )
    FORM_ID = "client_form"

    def __init__(self, client: ClientView | None) -> None:
        super().__init__()
        self.client = client
        self.version = client.version if client else None
        self.allow_duplicate = False  # set once the clerk confirmed "register anyway"

    def heading(self) -> str:
        c = self.client
        return f"Edit {c.account_number} {c.display_name}" if c else "Register a new client"

    def fields(self) -> ComposeResult:
        # The limits are the columns' (db/models.py Client): the field says so at the limit.
        c = self.client
        yield Field("last_name", "Last name", value=c.last_name if c else "", required=True, max_length=80)
        yield Field("first_name", "First name", value=c.first_name if c else "", required=True, max_length=80)
        yield Field(
            "date_of_birth",
            "Date of birth",
            value=c.date_of_birth.isoformat() if c and c.date_of_birth else "",
            placeholder="YYYY-MM-DD",
            parse=parse_date,
        )
        yield Field("address_line1", "Address", value=c.address_line1 if c else "", max_length=200)
        yield Field("address_line2", "Address line 2", value=c.address_line2 if c else "", max_length=200)
        yield Field("city", "City", value=c.city if c else "", max_length=100)
        yield Field("region", "State / region", value=c.region if c else "", max_length=40)
        yield Field("postal_code", "Postal code", value=c.postal_code if c else "", max_length=20)
        yield Field("phone", "Phone", value=c.phone if c else "", placeholder="413-555-0142", max_length=40)
        yield Field("email", "E-mail", value=c.email if c else "", max_length=200)
        yield ChoiceField(
            "preferred_channel",
            "Preferred contact channel",
            CHANNELS,
            value=c.preferred_channel.value if c else Channel.PHONE.value,
            required=True,
        )
        yield Field(
            "language",
            "Language",
            value=c.language if c else "en",
            placeholder="en, es, vi, zh",
            max_length=16,
        )
        yield Field(
            "special_concerns",
            "Special concerns",
            value=c.special_concerns if c else "",
            placeholder="e.g. hard of hearing; needs large print",
        )
        yield Field("notes", "Notes", value=c.notes if c else "")
        yield ChoiceField("owner", "Owner clerk", [], value=None)

    def on_mount(self) -> None:  # the base's on_mount (focus) runs after this one
        owner = self.query_one("#input-owner", Select)
        if self.client is not None and not self.actor.can(Action.WORK_ASSIGN):
            # Moving an account to another clerk is the supervisor's decision (work assignment).
            owner.disabled = True
            owner.tooltip = "Only a supervisor moves an account to another clerk"
        self.db_call(lambda s: staff.list_users(self.actor, s), self._show_staff, group="staff")

    def _show_staff(self, rows: list[StaffRow]) -> None:
        owner = self.query_one("#input-owner", Select)
        owner.set_options([(f"{r.name} ({r.login})", r.id) for r in rows if r.active])
        current = (
            self.client.owner_id
            if self.client
            else (None if self.actor.is_supervisor else self.actor.user_id)
        )
        if current is not None and any(r.id == current for r in rows if r.active):
            owner.value = current

    # ------------------------------------------------------------------ saving

    def save(self, s: Any, values: dict[str, Any]) -> ClientView:
        data: dict[str, Any] = {f: values[f] or "" for f in TEXT_FIELDS}
        data["date_of_birth"] = values["date_of_birth"]
        data["preferred_channel"] = values["preferred_channel"]
        owner = values["owner"]
        c = self.client
        if c is None:
            return clients.register_client(
                self.actor, s, **data, owner_id=owner, allow_duplicate=self.allow_duplicate
            )
        changes = dict(data)
        if owner != c.owner_id and owner is not None:
            changes["owner_id"] = owner
        return clients.edit_client(self.actor, s, c.id, expected_version=self.version, changes=changes)

    def saved_message(self, result: ClientView) -> str:
        return f"Saved {result.account_number} {result.display_name}"

    def failed(self, exc: BaseException) -> None:
        if isinstance(exc, DuplicateClientWarning):
            self._ask_duplicate(exc)
        elif isinstance(exc, ConflictError) and self.client is not None:
            self._conflict(str(exc))
        else:
            super().failed(exc)

    def _ask_duplicate(self, exc: DuplicateClientWarning) -> None:
        lines = [str(exc), ""]
        for m in exc.matches:
            born = m.date_of_birth.isoformat() if m.date_of_birth else "?"
            lines.append(
                f"  {m.account_number}  {m.display_name}  born {born}  {m.phone}  ({m.status.value})"
            )
        lines += ["", "Register a new, separate client anyway?"]

        def decided(yes: bool | None) -> None:
            if yes:
                self.allow_duplicate = True  # the form still holds what was typed: save it again
                self.action_save()
            else:
                self.problem("Not registered: possibly the same person as an existing client")

        self.app.push_screen(
            ConfirmDialog("Possible duplicate client", "\n".join(lines), "Register anyway"), decided
        )

    def _conflict(self, message: str) -> None:
        """Someone else saved this client first: show their data and say so."""
        assert self.client is not None
        cid = self.client.id

        def reloaded(view: ClientView) -> None:
            self.client = view
            self.version = view.version
            for name in TEXT_FIELDS:
                self.query_one(f"#input-{name}", Input).value = getattr(view, name)
            self.query_one("#input-date_of_birth", Input).value = (
                view.date_of_birth.isoformat() if view.date_of_birth else ""
            )
            self.query_one("#input-preferred_channel", Select).value = view.preferred_channel.value
            if view.owner_id is not None:
                try:
                    self.query_one("#input-owner", Select).value = view.owner_id
                except Exception:  # the owner is no longer active: leave the choice blank
                    pass
            self.problem(
                f"{message}. The form now shows what was saved by the other person; "
                "make your change again and save."
            )

        self.notify(escape(message), title="Changed by someone else", severity="error", timeout=10)
        self.db_call(lambda s: clients.get_client(self.actor, s, cid), reloaded, group="reload")
