"""Form fields with validation messages: text, money, dates and times.

A ``Field`` is a label, an input and a line for the error. ``Form.values()`` returns what
was typed (kept on failure), ``Form.show_errors(fields)`` marks fields from a service's
``ValidationError.fields``; parse errors are caught before the service is called.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Input, Label, Select, Static

from db.money import MAX_ABS, fmt_money, to_money
from tui.exports import ExportError, check_folder

SHOWN_CHARS = 20  # how much of a wrong value a message repeats: a pasted page must not fill the screen


class ParseError(ValueError):
    pass


def shown(text: str) -> str:
    """A typed value as a message quotes it: in quotes, cut after SHOWN_CHARS characters."""
    t = text.strip()
    return repr(t) if len(t) <= SHOWN_CHARS else repr(t[:SHOWN_CHARS] + "…")


def has_control_chars(text: str) -> bool:
    return any(ord(c) < 32 or ord(c) == 127 for c in text)


def parse_money(text: str, *, allow_negative: bool = False) -> Decimal:
    t = text.strip().replace(",", "").removeprefix("$")
    if not t:
        raise ParseError("is required")
    if "e" in t.lower():  # "1e309": Decimal syntax, not how anyone writes an amount
        raise ParseError(f"{shown(text)} is not an amount (like 125.50)")
    if "." in t and len(t.split(".", 1)[1]) > 2:
        raise ParseError("has more than 2 decimals")
    try:
        v = to_money(t)
    except (ValueError, TypeError, ArithmeticError) as exc:
        if "out of range" in str(exc):
            raise ParseError(f"is larger than {fmt_money(MAX_ABS)}") from None
        raise ParseError(f"{shown(text)} is not an amount (like 125.50)") from None
    if v < 0 and not allow_negative:
        raise ParseError("must not be negative")
    return v


def parse_date(text: str) -> dt.date:
    t = text.strip()
    if not t:
        raise ParseError("is required")
    try:
        return dt.date.fromisoformat(t)
    except ValueError:
        raise ParseError(f"{shown(text)} is not a date (YYYY-MM-DD)") from None


def parse_time(text: str) -> dt.time:
    t = text.strip()
    try:
        hh, mm = t.split(":")
        return dt.time(int(hh), int(mm))
    except ValueError:
        raise ParseError(f"{shown(text)} is not a time (HH:MM)") from None


def parse_int(text: str, lo: int, hi: int) -> int:
    t = text.strip()
    # ASCII digits only: int() would take "١٢" (Arabic-Indic) as 12 without a word.
    if re.fullmatch(r"[+-]?[0-9]+", t) is None:
        raise ParseError(f"{shown(text)} is not a whole number")
    if len(t) > 18:  # far out of any range, and int() refuses over 4,300 digits
        raise ParseError(f"must be between {lo} and {hi}")
    v = int(t)
    if not lo <= v <= hi:
        raise ParseError(f"must be between {lo} and {hi}")
    return v


Parser = Callable[[str], Any]

LONGEST = 2000  # characters a Field takes when it names no max_length of its own


class FieldBase(Vertical):
    """What a form asks of a field: a name, a value (or ParseError), a mark, where the cursor goes."""

    field_name: str
    label: str

    def value(self) -> Any:
        raise NotImplementedError

    def set_error(self, message: str | None) -> None:
        raise NotImplementedError

    def focus_target(self) -> Widget:
        raise NotImplementedError


class FieldInput(Input):
    """A field's input. Focus keeps the text as it is, with the cursor at its end: fixing a
    refused value edits it (selecting all made the next key wipe it). A paste longer than the
    field takes keeps what fits (Textual drops such a paste whole and silently); the field then
    says it stopped at its limit."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(select_on_focus=False, **kwargs)

    def _on_focus(self, event: events.Focus) -> None:
        # A value set by the program (a default, a match taken) leaves the cursor where typing
        # had put it, in the middle of the new text; a person coming to the field edits its end.
        self.cursor_position = len(self.value)

    def replace(self, text: str, start: int, end: int) -> None:
        if self.max_length:
            lo, hi = sorted((max(0, start), min(len(self.value), end)))
            text = text[: max(0, self.max_length - (len(self.value) - (hi - lo)))]
        super().replace(text, start, end)


class Field(FieldBase):
    """Label + input + error line. ``parse`` turns the text into a value or raises ParseError."""

    DEFAULT_CSS = """
    Field { height: auto; }
    Field > Horizontal { height: 1; }
    Field Label { width: 30; color: $text-muted; }
    Field Input { width: 1fr; }
    Field > .field-error { color: $error; height: auto; padding-left: 30; display: none; }
    Field.-invalid > .field-error { display: block; }
    Field.-limit > .field-error { display: block; color: $warning; }
    Field.-invalid Input { text-style: reverse; }
    """

    def __init__(
        self,
        name: str,
        label: str,
        *,
        value: str = "",
        placeholder: str = "",
        parse: Parser | None = None,
        required: bool = False,
        max_length: int = 0,
        password: bool = False,
    ) -> None:
        super().__init__(id=f"field-{name}")
        self.field_name = name
        self.label = label
        self._value = value
        self.placeholder = placeholder
        self.parse = parse
        self.required = required
        # No field takes unbounded text: every key costs Textual's Input time in proportion to
        # the text (10,000 typed characters froze the app, issue 12). The field says the limit.
        self.max_length = max_length or LONGEST
        self.password = password
        self._shown = ("", "")  # the mark and error text on show (set_error changes them)

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Label(Text(self.label + (" *" if self.required else "")))
            yield FieldInput(
                value=self._value,
                placeholder=self.placeholder,
                id=f"input-{self.field_name}",
                max_length=self.max_length,
                password=self.password,
                compact=True,
            )
        yield Static("", classes="field-error")

    @property
    def input(self) -> Input:
        return self.query_one(Input)

    @property
    def text(self) -> str:
        return self.input.value

    def focus_target(self) -> Widget:
        return self.input

    def value(self) -> Any:
        t = self.text
        if not t.strip():
            if self.required:
                raise ParseError("is required")
            if self.parse is None:
                return ""
            return None
        if has_control_chars(t):  # a pasted escape sequence is never meant as a value
            raise ParseError("has control characters")
        return self.parse(t) if self.parse else t.strip()

    def _at_limit(self) -> bool:
        return bool(self.max_length) and len(self.text) >= self.max_length

    def set_error(self, message: str | None) -> None:
        if message:
            self._show("-invalid", f"{self.label} {message}")
        elif self._at_limit():
            # The input stops taking characters at max_length; say so rather than cut silently.
            self._show("-limit", f"{self.label} takes at most {self.max_length} characters")
        else:
            self._show("", "")

    def _show(self, state: str, text: str) -> None:
        """Mark the field and set its error line, only when that changes: every key typed
        calls set_error, and a class change restyles the field and an update lays the whole
        dialog out again (issue 12: 10,000 keys froze the app)."""
        if (state, text) == self._shown:
            return
        self._shown = (state, text)
        self.set_class(state == "-invalid", "-invalid")
        self.set_class(state == "-limit", "-limit")
        self.query_one(".field-error", Static).update(Text(text))

    def on_input_changed(self, event: Input.Changed) -> None:
        # Editing a marked field is fixing it: the mark goes (save checks it again).
        self.set_error(None)


class FolderField(Field):
    """A sub-folder of the person's exports folder ``root`` (tui/exports.py). Empty is the
    exports folder itself: the value is then "", never None."""

    def __init__(self, root: Path, value: str, name: str = "folder", label: str = "Folder") -> None:
        def parse(text: str) -> str:
            try:
                return check_folder(root, text)
            except ExportError as e:
                raise ParseError(str(e)) from e

        super().__init__(name, label, value=value, parse=parse, placeholder="empty = the exports folder")

    def value(self) -> str:
        return super().value() or ""


class ChoiceField(FieldBase):
    """Label + Select + error line."""

    DEFAULT_CSS = """
    ChoiceField { height: auto; }
    ChoiceField > Horizontal { height: 1; }
    ChoiceField Label { width: 30; color: $text-muted; }
    ChoiceField Select { width: 1fr; }
    ChoiceField > .field-error { color: $error; height: auto; padding-left: 30; display: none; }
    ChoiceField.-invalid > .field-error { display: block; }
    """

    def __init__(
        self,
        name: str,
        label: str,
        options: Iterable[tuple[str, Any]],
        *,
        value: Any = None,
        required: bool = False,
    ) -> None:
        super().__init__(id=f"field-{name}")
        self.field_name = name
        self.label = label
        self.options = list(options)
        self._value = value
        self.required = required

    def compose(self) -> ComposeResult:
        kw: dict[str, Any] = {"allow_blank": not self.required}
        if self._value is not None:
            kw["value"] = self._value
        with Horizontal():
            yield Label(Text(self.label + (" *" if self.required else "")))
            yield Select(self.options, id=f"input-{self.field_name}", compact=True, **kw)
        yield Static("", classes="field-error")

    def focus_target(self) -> Widget:
        return self.query_one(Select)

    def value(self) -> Any:
        sel = self.query_one(Select)
        if sel.is_blank():
            if self.required:
                raise ParseError("is required")
            return None
        return sel.value

    def set_error(self, message: str | None) -> None:
        self.set_class(bool(message), "-invalid")
        self.query_one(".field-error", Static).update(Text(f"{self.label} {message}") if message else "")

    def on_select_changed(self, event: Select.Changed) -> None:
        self.set_error(None)


AnyField = FieldBase


class Form(Vertical):
    """A group of fields. ``collect()`` returns values or marks every bad field and returns None."""

    DEFAULT_CSS = "Form { height: auto; }"

    def fields(self) -> list[AnyField]:
        return [w for w in self.query("*") if isinstance(w, FieldBase)]

    def collect(self) -> dict[str, Any] | None:
        values: dict[str, Any] = {}
        bad = False
        for f in self.fields():
            if not f.display:  # a field the form does not show now (a payer for a client) is not asked
                values[f.field_name] = None
                f.set_error(None)
                continue
            try:
                values[f.field_name] = f.value()
                f.set_error(None)
            except ParseError as e:
                f.set_error(str(e))
                bad = True
        return None if bad else values

    def first_input(self) -> Widget | None:
        """The first field's input (where a dialog puts the cursor)."""
        for f in self.fields():
            if f.display:
                return f.focus_target()
        return None

    def focus_first_error(self) -> bool:
        """Put the cursor in the first marked field (scrolled into view); False if none is."""
        for f in self.fields():
            if f.has_class("-invalid") and f.display:
                target = f.focus_target()
                target.focus()
                target.scroll_visible()
                return True
        return False

    def show_errors(self, errors: Mapping[str, str]) -> bool:
        """Mark fields named in a service's ValidationError; True when any field matched."""
        matched = False
        for f in self.fields():
            msg = errors.get(f.field_name)
            f.set_error(msg)
            matched = matched or msg is not None
        return matched
