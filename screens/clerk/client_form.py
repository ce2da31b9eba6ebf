"""Register a client, or edit one (contact-data changes are kept with history by the service).

Registering someone with the same name and date of birth as an existing client shows the
possible duplicates and asks before registering anyway. Editing sends the version the form was
opened with: if someone else saved the client in the meantime, the form says so and reloads
their saved data (nothing of theirs is overwritten).
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.markup import escape
from textual.widgets import Button, Input, Select, Static

from billing import clients
from billing.clients import ClientView, DuplicateClientWarning
from db.errors import ConflictError, ValidationError
from db.models import Channel
from db.rights import Action
from scheduling import staff
from scheduling.staff import StaffRow
from screens.common.confirm import ConfirmDialog
from tui.base import DbModal
from tui.widgets.forms import ChoiceField, Field, Form, parse_date

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


class ClientForm(DbModal[ClientView | None]):
    """``ClientForm(None)`` registers; ``ClientForm(view)`` edits. Dismisses with the saved view."""

    HELP_TITLE = "Client"
    HELP = (
        "Fields marked * are required. Ctrl+S saves, Esc closes without saving. "
        "Changes of address, phone, e-mail or channel are kept in the client's contact history."
    )
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="client_form.save", tooltip="Save the client"),
        Binding("escape", "cancel", "Cancel", id="client_form.cancel", tooltip="Close without saving"),
    ]

    def __init__(self, client: ClientView | None) -> None:
        super().__init__()
        self.client = client
        self.version = client.version if client else None

    def compose(self) -> ComposeResult:
        c = self.client
        title = f"Edit {c.account_number} {c.display_name}" if c else "Register a new client"
        with Vertical(classes="dialog -wide"):
            yield Static(Text(title, style="bold"), classes="dialog-title")
            yield Static("", id="form-problem", classes="form-problem")
            with VerticalScroll(), Form():
                yield Field("last_name", "Last name", value=c.last_name if c else "", required=True)
                yield Field("first_name", "First name", value=c.first_name if c else "", required=True)
                yield Field(
                    "date_of_birth",
                    "Date of birth",
                    value=c.date_of_birth.isoformat() if c and c.date_of_birth else "",
                    placeholder="YYYY-MM-DD",
                    parse=parse_date,
                )
                yield Field("address_line1", "Address", value=c.address_line1 if c else "")
                yield Field("address_line2", "Address line 2", value=c.address_line2 if c else "")
                yield Field("city", "City", value=c.city if c else "")
                yield Field("region", "State / region", value=c.region if c else "")
                yield Field("postal_code", "Postal code", value=c.postal_code if c else "")
                yield Field("phone", "Phone", value=c.phone if c else "", placeholder="413-555-0142")
                yield Field("email", "E-mail", value=c.email if c else "")
                yield ChoiceField(
                    "preferred_channel",
                    "Preferred contact channel",
                    CHANNELS,
                    value=c.preferred_channel.value if c else Channel.PHONE.value,
                    required=True,
                )
                yield Field(
                    "language", "Language", value=c.language if c else "en", placeholder="en, es, vi, zh"
                )
                yield Field(
                    "special_concerns",
                    "Special concerns",
                    value=c.special_concerns if c else "",
                    placeholder="e.g. hard of hearing; needs large print",
                )
                yield Field("notes", "Notes", value=c.notes if c else "")
                yield ChoiceField("owner", "Owner clerk", [], value=None)
            with Horizontal(classes="buttons"):
                yield Button("Cancel (esc)", id="cancel", compact=True)
                yield Button("Save (ctrl+s)", variant="primary", id="save", compact=True)

    def on_mount(self) -> None:
        self.query_one("#input-last_name", Input).focus()
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

    @property
    def form(self) -> Form:
        return self.query_one(Form)

    def _problem(self, message: str | None) -> None:
        box = self.query_one("#form-problem", Static)
        box.update(Text(message or "", style="bold"))
        box.display = bool(message)

    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        values = self.form.collect()
        if values is None:
            self._problem("Some fields need fixing (marked below)")
            self.notify("Some fields need fixing", severity="error")
            return
        self._problem(None)
        self._save(values, allow_duplicate=False)

    def _save(self, values: dict[str, Any], *, allow_duplicate: bool) -> None:
        data = {f: values[f] or "" for f in TEXT_FIELDS}
        data["date_of_birth"] = values["date_of_birth"]
        data["preferred_channel"] = values["preferred_channel"]
        owner = values["owner"]
        c = self.client
        version = self.version

        def save(s: Any) -> ClientView:
            if c is None:
                return clients.register_client(
                    self.actor, s, **data, owner_id=owner, allow_duplicate=allow_duplicate
                )
            changes = dict(data)
            if owner != c.owner_id and owner is not None:
                changes["owner_id"] = owner
            return clients.edit_client(self.actor, s, c.id, expected_version=version, changes=changes)

        def failed(exc: BaseException) -> None:
            if isinstance(exc, DuplicateClientWarning):
                self._ask_duplicate(exc, values)
            elif isinstance(exc, ConflictError) and c is not None:
                self._conflict(str(exc))
            elif isinstance(exc, ValidationError) and self.form.show_errors(exc.fields):
                self._problem("Some fields need fixing (marked below)")
                self.notify("Some fields need fixing", severity="error")
            else:
                self.cd_app.show_error(exc)

        def done(view: ClientView) -> None:
            self.notify(escape(f"Saved {view.account_number} {view.display_name}"))
            self.dismiss(view)

        self.db_call(save, done, write=True, on_error=failed, group="save")

    def _ask_duplicate(self, exc: DuplicateClientWarning, values: dict[str, Any]) -> None:
        lines = [str(exc), ""]
        for m in exc.matches:
            born = m.date_of_birth.isoformat() if m.date_of_birth else "?"
            lines.append(
                f"  {m.account_number}  {m.display_name}  born {born}  {m.phone}  ({m.status.value})"
            )
        lines += ["", "Register a new, separate client anyway?"]

        def decided(yes: bool | None) -> None:
            if yes:
                self._save(values, allow_duplicate=True)
            else:
                self._problem("Not registered: possibly the same person as an existing client")

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
            self._problem(
                f"{message}. The form now shows what was saved by the other person; "
                "make your change again and save."
            )

        self.notify(escape(message), title="Changed by someone else", severity="error", timeout=10)
        self.db_call(lambda s: clients.get_client(self.actor, s, cid), reloaded, group="reload")

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
