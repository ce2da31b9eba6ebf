"""One form base for every dialog: the fields, the problem line, save, and failure handling.

A dialog that asks for values and hands them to a service subclasses ``FormDialog`` and gives

* ``FORM_ID`` (binding ids ``<FORM_ID>.save`` and ``<FORM_ID>.cancel``, remappable in the
  config), ``SAVE_LABEL`` and ``heading()``;
* ``fields()``: the ``Field`` / ``ChoiceField`` widgets, and optionally ``intro()``: what is
  shown above them (what will happen, the record it is about);
* ``save(session, values)``: runs in a write transaction in a worker and returns the result;
* optionally ``saved(result)`` (default: say ``saved_message(result)``, if any, and close with
  it), ``check(values)`` for checks that need no database (field -> why), ``FIELD_ALIASES``
  (or ``field_for``) when the service names a field differently, ``ERROR_FIELDS`` when a
  refusal that names no field is about one (a file that exists: the file name), and
  ``failed(exc)`` for a refusal the dialog answers itself (a duplicate to confirm, a conflict
  to reload), falling back to the base;
* optionally ``confirmation(values)``: the question asked, showing what will happen, before a
  destructive or money-moving save runs; ``REQUIRES``: the right without which the dialog
  refuses to open (with a sentence saying who may); ``SAVE_WRITES = False`` for a save that only
  reads the database (it writes a file); ``outro()``: what is shown under the fields.

The base keeps everything typed when something is wrong: a value that does not parse, a
service's ``ValidationError`` (each named field marked, with the reason; the others listed on the
problem line), a refusal or a conflict (on the problem line). Focus goes to the first wrong
field. Anything unexpected goes to the app's error dialog, never a traceback. A field's mark
clears as soon as it is edited. While a save runs, a second save says so and Escape waits for
it (the save cannot be taken back, and saving twice must not post twice).

That machinery is ``FormMixin``; ``FormDialog`` adds the dialog around it. A form that is a full
screen (post a payment, a batch, a plan, the payroll export) mixes ``FormMixin`` into its screen,
composes ``problem_line()`` and a ``Form`` itself and gives the same hooks, plus
``before_save(values)`` for a preview and a confirmation before the write.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar, Generic, TypeVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.markup import escape
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Button, Input, Static

from db.errors import ClerkDeskError, ValidationError
from db.rights import Action
from tui.widgets.base import DbMixin, DbModal
from tui.widgets.confirm import ConfirmDialog
from tui.widgets.forms import AnyField, Form

T = TypeVar("T")

FIX_FIELDS = "Some fields need fixing (marked below)"


class FormBody(VerticalScroll, can_focus=False):
    """The scrolling part of a form. Not a stop for Tab: the cursor goes field to field, and
    each field scrolls into view as it takes it (a focused scroller shows no cursor at all)."""


class FormMixin(DbMixin, Generic[T]):
    """The form machinery, for a dialog (``FormDialog``) and for a form on a full screen.

    The class gives ``save(session, values)`` and optionally ``check``, ``saved``, ``failed``,
    ``FIELD_ALIASES`` and ``before_save(values)``: what happens between the checked values and
    the write (default: write at once). A screen that first reads (a preview) and asks (a
    confirmation) does it there with ``read_then()`` and ``ask_then_save()``; ``stop_saving()``
    ends it with a reason on the problem line. While a save (or its question) is under way a
    second ctrl+s says so instead of starting another. The class composes a ``problem_line()``
    and a ``Form`` (``form`` finds it; a screen with more than one says which).
    """

    # A service's name for a field -> the form field that holds it (e.g. the instant "at" is typed
    # as a date and a time: its message belongs under the time).
    FIELD_ALIASES: ClassVar[Mapping[str, str]] = {}
    # A refusal of this type (a ClerkDeskError naming no field) -> the field it is about.
    ERROR_FIELDS: ClassVar[Mapping[type[ClerkDeskError], str]] = {}
    SAVE_WRITES: ClassVar[bool] = True  # False: the save only reads the database (writes a file)
    BUSY_MESSAGE: ClassVar[str] = "Still saving…"
    FIX_TEXT: ClassVar[str] = FIX_FIELDS  # where the marks are, from the problem line
    saving: bool = False

    # ------------------------------------------------------------------ what a form gives

    def check(self, values: dict[str, Any]) -> Mapping[str, str]:
        return {}

    def confirmation(self, values: dict[str, Any]) -> tuple[str, str, str] | None:
        """(title, what will happen, yes label) to ask before saving; None saves at once."""
        return None

    def field_for(self, name: str) -> str:
        """The form field that holds what the service calls ``name``."""
        return self.FIELD_ALIASES.get(name, name)

    def save(self, session: Any, values: dict[str, Any]) -> T:
        raise NotImplementedError  # every form saves something

    def saved_message(self, result: T) -> str:
        return "Saved"

    def saved(self, result: T) -> None:
        message = self.saved_message(result)
        if message:
            self.notify(escape(message))  # type: ignore[attr-defined]  # mixed into a Screen

    def before_save(self, values: dict[str, Any]) -> None:
        ask = self.confirmation(values)
        if ask is None:
            self.save_now(values)
        else:
            self.ask_then_save(ConfirmDialog(*ask), values)

    # ------------------------------------------------------------------ the machinery

    @staticmethod
    def problem_line(classes: str = "") -> Static:
        return Static("", classes=f"form-problem {classes}".strip(), id="form-problem")

    @property
    def form(self) -> Form:
        return self.query_one(Form)  # type: ignore[attr-defined]  # mixed into a Screen

    def problem(self, message: str | None) -> None:
        box = self.query_one("#form-problem", Static)  # type: ignore[attr-defined]
        box.update(Text(message or ""))
        box.display = bool(message)

    def collect(self) -> dict[str, Any] | None:
        return collect_or_mark(self.form, self.problem, self.check, self.FIX_TEXT)

    def action_save(self) -> None:
        if self.saving:
            self.notify(self.BUSY_MESSAGE, severity="warning")  # type: ignore[attr-defined]
            return
        values = self.collect()
        if values is None:
            return
        self.saving = True
        self.before_save(values)

    def save_now(self, values: dict[str, Any]) -> None:
        self.saving = True
        self.db_call(
            lambda s: self.save(s, values),
            self._save_done,
            write=self.SAVE_WRITES,
            on_error=self.refused,
            group="save",
            exclusive=False,
        )

    def read_then(self, fn: Callable[[Any], Any], then: Callable[[Any], None]) -> None:
        """A read on the way to saving (a preview): its refusal ends the save like the write's."""
        self.db_call(fn, then, on_error=self.refused, group="preview")

    def ask_then_save(self, question: Screen[bool], values: dict[str, Any]) -> None:
        """Show what will happen; yes saves, no (or Esc) leaves the form as typed."""

        def answered(yes: bool | None) -> None:
            if yes:
                self.save_now(values)
            else:
                self.stop_saving()

        self.app.push_screen(question, answered)  # type: ignore[attr-defined]

    def stop_saving(self, why: str | None = None) -> None:
        self.saving = False
        if why is not None:
            self.problem(why)

    def _save_done(self, result: T) -> None:
        self.saving = False
        self.problem(None)
        self.saved(result)

    def refused(self, exc: BaseException) -> None:
        self.saving = False
        self.failed(exc)

    def failed(self, exc: BaseException) -> None:
        """A refused save: say why where the person is looking, keep what they typed."""
        field = next((f for t, f in self.ERROR_FIELDS.items() if isinstance(exc, t)), None)
        if field is not None:
            exc = ValidationError(str(exc), {field: str(exc)})
        self.say_refusal(exc, self.form)

    def say_refusal(self, exc: BaseException, form: Form) -> None:
        """A refusal marked on ``form`` (also a screen's second form: a batch's line), a fault
        in the error dialog."""
        if not show_refusal(form, exc, self.problem, self.field_for, self.FIX_TEXT):
            self.cd_app.show_error(exc)


class FormDialog(FormMixin[T], DbModal[T | None]):
    FORM_ID: ClassVar[str] = "form"
    SAVE_LABEL: ClassVar[str] = "Save"
    SAVE_VARIANT: ClassVar[str] = "primary"
    CANCEL_LABEL: ClassVar[str] = "Cancel"
    # The right the dialog needs and the sentence shown to whoever lacks it (it does not open).
    REQUIRES: ClassVar[tuple[Action, str] | None] = None
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

    def outro(self) -> Iterable[Widget]:
        return ()

    def saved(self, result: T) -> None:
        super().saved(result)
        self.dismiss(result)

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog -wide" if self.WIDE else "dialog"):
            yield Static(Text(self.heading(), style="bold"), classes="dialog-title")
            yield from self.intro()
            yield self.problem_line()
            with FormBody(classes="form-body"), Form():
                yield from self.fields()
            yield from self.outro()
            with Horizontal(classes="buttons"):
                yield Button(f"{self.CANCEL_LABEL} (esc)", id="cancel", compact=True)
                yield Button(
                    f"{self.save_label()} (ctrl+s)",
                    variant=self.SAVE_VARIANT,  # type: ignore[arg-type]
                    id="save",
                    compact=True,
                )

    def on_mount(self) -> None:
        # Textual calls the on_mount of every class in the MRO, a dialog's own first: so a dialog
        # says where the cursor starts with start_focus(), not by focusing in its own on_mount.
        if self.REQUIRES is not None and not self.actor.can(self.REQUIRES[0]):
            self.notify(self.REQUIRES[1], title="Not allowed", severity="error")  # before any typing
            self.dismiss(None)
            return
        target = self.start_focus()
        if target is not None:
            target.focus()

    def start_focus(self) -> Widget | None:
        """Where the cursor starts: the first field unless the dialog knows better."""
        return self.form.first_input()

    # ------------------------------------------------------------------ save

    @on(Input.Submitted)
    def _submitted(self) -> None:
        if self.SUBMIT_ON_ENTER:
            self.action_save()

    @on(Button.Pressed, "#save")
    def _save_pressed(self) -> None:
        self.action_save()  # by name, so a dialog's own action_save runs for the button too

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    def action_cancel(self) -> None:
        if not self.saving:  # the save may already be done: closing now would hide its answer
            self.dismiss(None)


# The two halves of a save, also for a form that sits on a screen rather than in a dialog.
Problem = Callable[[str | None], None]  # shows (or, given None, hides) the form's problem line


def collect_or_mark(
    form: Form,
    problem: Problem,
    check: Callable[[dict[str, Any]], Mapping[str, str]] | None = None,
    fix_text: str = FIX_FIELDS,
) -> dict[str, Any] | None:
    """The typed values, or None with every wrong field marked and the cursor on the first."""
    values = form.collect()
    if values is not None and check is not None:
        extra = dict(check(values))
        if extra:
            form.show_errors(extra)
            values = None
    if values is None:
        problem(fix_text)
        form.focus_first_error()
        return None
    problem(None)
    return values


def show_refusal(
    form: Form,
    exc: BaseException,
    problem: Problem,
    aliases: Mapping[str, str] | Callable[[str], str] | None = None,
    fix_text: str = FIX_FIELDS,
) -> bool:
    """Say why a save was refused on the form (fields marked, the rest on the problem line).

    False when ``exc`` is no refusal but a fault: the caller shows the error dialog.
    """
    if isinstance(exc, ValidationError):
        names = {f.field_name for f in form.fields()}
        alias = aliases if callable(aliases) else (aliases or {}).get
        fields: dict[str, str] = {}
        for k, v in exc.fields.items():
            fields.setdefault(alias(k) or k, v)  # several lines' reasons on one field: the first
        matched = form.show_errors(fields)
        others = [other_field_text(k, v) for k, v in fields.items() if k not in names]
        if not exc.fields:
            others = [str(exc)]
        problem("; ".join(([fix_text] if matched else []) + others))
        form.focus_first_error()
        return True
    if isinstance(exc, ClerkDeskError):
        problem(f"{exc.title}: {exc}")
        return True
    return False


def other_field_text(name: str, why: str) -> str:
    """A service's message about something that is not a field on the form, for a person.

    "the period runs until ..." reads as a sentence already; "is closed" needs its name.
    """
    words = name.replace("_", " ")
    if words.lower() in why.lower():
        return why[:1].upper() + why[1:]
    return f"{words}: {why}"


def form_bindings(form_id: str, save_label: str = "Save") -> list[BindingType]:
    """Save and cancel keys for a form dialog, with ids a keymap can name."""
    return [  # Tab and Shift+Tab come from DbModal
        Binding("ctrl+s", "save", save_label, id=f"{form_id}.save", tooltip=f"{save_label} (checks first)"),
        Binding("escape", "cancel", "Cancel", id=f"{form_id}.cancel", tooltip="Close without saving"),
    ]


__all__ = [
    "FIX_FIELDS",
    "AnyField",
    "FormBody",
    "FormDialog",
    "FormMixin",
    "collect_or_mark",
    "form_bindings",
    "other_field_text",
    "show_refusal",
]
