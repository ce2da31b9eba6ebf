"""One form base for every dialog: the fields, the problem line, save, and failure handling.

A dialog that asks for values and hands them to a service subclasses ``FormDialog`` and gives

* ``FORM_ID`` (binding ids ``<FORM_ID>.save`` and ``<FORM_ID>.cancel``, remappable in the
  config), ``SAVE_LABEL`` and ``heading()``;
* ``fields()``: the ``Field`` / ``ChoiceField`` widgets, and optionally ``intro()``: what is
  shown above them (what will happen, the record it is about);
* ``save(session, values)``: runs in a write transaction in a worker and returns the result;
* optionally ``saved(result)`` (default: say ``saved_message(result)`` and close with it) and
  ``check(values)`` for checks that need no database (field -> why).

The base keeps everything typed when something is wrong: a value that does not parse, a
service's ``ValidationError`` (each named field marked, with the reason; the others listed on the
problem line), a refusal or a conflict (on the problem line). Focus goes to the first wrong
field. Anything unexpected goes to the app's error dialog, never a traceback. A field's mark
clears as soon as it is edited.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, TypeVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.markup import escape
from textual.widget import Widget
from textual.widgets import Button, Input, Static

from db.errors import ClerkDeskError, ValidationError
from tui.base import DbModal
from tui.widgets.forms import AnyField, Form

T = TypeVar("T")

FIX_FIELDS = "Some fields need fixing (marked below)"


class FormDialog(DbModal[T | None]):
    FORM_ID: ClassVar[str] = "form"
    SAVE_LABEL: ClassVar[str] = "Save"
    SAVE_VARIANT: ClassVar[str] = "primary"
    WIDE: ClassVar[bool] = True
    SUBMIT_ON_ENTER: ClassVar[bool] = False  # Enter in a field saves (one-field dialogs)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # Before Textual's own hook, which merges the bindings of the class once.
        if "BINDINGS" not in cls.__dict__:  # a dialog with keys of its own lists them all itself
            cls.BINDINGS = form_bindings(cls.FORM_ID, cls.SAVE_LABEL)
        super().__init_subclass__(**kwargs)

    # ------------------------------------------------------------------ what a dialog gives

    def heading(self) -> str:
        return self.SAVE_LABEL

    def save_label(self) -> str:
        return self.SAVE_LABEL

    def intro(self) -> Iterable[Widget]:
        return ()

    def fields(self) -> ComposeResult:
        raise NotImplementedError  # every form has fields

    def check(self, values: dict[str, Any]) -> Mapping[str, str]:
        return {}

    def save(self, session: Any, values: dict[str, Any]) -> T:
        raise NotImplementedError  # every form saves something

    def saved_message(self, result: T) -> str:
        return "Saved"

    def saved(self, result: T) -> None:
        message = self.saved_message(result)
        if message:
            self.notify(escape(message))
        self.dismiss(result)

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog -wide" if self.WIDE else "dialog"):
            yield Static(Text(self.heading(), style="bold"), classes="dialog-title")
            yield from self.intro()
            yield Static("", classes="form-problem", id="form-problem")
            with VerticalScroll(classes="form-body"), Form():
                yield from self.fields()
            with Horizontal(classes="buttons"):
                yield Button("Cancel (esc)", id="cancel", compact=True)
                yield Button(
                    f"{self.save_label()} (ctrl+s)",
                    variant=self.SAVE_VARIANT,  # type: ignore[arg-type]
                    id="save",
                    compact=True,
                )

    def on_mount(self) -> None:
        first = self.form.first_input()
        if first is not None:
            first.focus()

    @property
    def form(self) -> Form:
        return self.query_one(Form)

    def problem(self, message: str | None) -> None:
        box = self.query_one("#form-problem", Static)
        box.update(Text(message or ""))
        box.display = bool(message)

    # ------------------------------------------------------------------ save

    @on(Input.Submitted)
    def _submitted(self) -> None:
        if self.SUBMIT_ON_ENTER:
            self.action_save()

    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        form = self.form
        values = form.collect()
        if values is not None:
            extra = dict(self.check(values))
            if extra:
                form.show_errors(extra)
                values = None
        if values is None:
            self.problem(FIX_FIELDS)
            form.focus_first_error()
            return
        self.problem(None)
        self.db_call(
            lambda s: self.save(s, values), self.saved, write=True, on_error=self.failed, group="save"
        )

    def failed(self, exc: BaseException) -> None:
        """A refused save: say why where the person is looking, keep what they typed."""
        form = self.form
        if isinstance(exc, ValidationError):
            names = {f.field_name for f in form.fields()}
            matched = form.show_errors(exc.fields)
            others = [f"{k.replace('_', ' ')}: {v}" for k, v in exc.fields.items() if k not in names]
            if not exc.fields:
                others = [str(exc)]
            self.problem("; ".join(([FIX_FIELDS] if matched else []) + others))
            form.focus_first_error()
        elif isinstance(exc, ClerkDeskError):
            self.problem(f"{exc.title}: {exc}")
        else:
            self.cd_app.show_error(exc)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


def form_bindings(form_id: str, save_label: str = "Save") -> list[BindingType]:
    """Save and cancel keys for a form dialog, with ids a keymap can name."""
    return [  # Tab and Shift+Tab come from DbModal
        Binding("ctrl+s", "save", save_label, id=f"{form_id}.save", tooltip=f"{save_label} (checks first)"),
        Binding("escape", "cancel", "Cancel", id=f"{form_id}.cancel", tooltip="Close without saving"),
    ]


__all__ = ["FIX_FIELDS", "AnyField", "FormDialog", "form_bindings"]
