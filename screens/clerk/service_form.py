"""Record a service rendered: date, code (type-ahead from the catalog), units and a note.

Typing in the code box lists the catalog codes that start with what was typed (one small keyset
page); Down moves into the list, Enter takes the code. The service refuses a future date, an
unknown or retired code and units outside 1-999, and the form says which field and why.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from billing import catalog, services
from billing.catalog import CodePage
from billing.services import MAX_UNITS, ServiceView
from db.money import fmt_money
from db.timeutil import office_today
from tui.widgets.dialogs import FormDialog, form_bindings
from tui.widgets.forms import Field, ParseError, parse_date, parse_int

SUGGESTIONS = 6


def parse_units(text: str) -> int:
    return parse_int(text, 1, MAX_UNITS)


def parse_code(text: str) -> str:
    code = text.strip().upper()
    if len(code) > 16:
        raise ParseError("is longer than 16 characters (codes look like G0008)")
    return code


class ServiceForm(FormDialog[ServiceView]):
    HELP_TITLE = "Record a service"
    HELP = (
        "Type the start of a code: matching catalog codes are listed below the box. Down moves "
        "into the list and Enter takes the code. Ctrl+S saves, Esc closes."
    )
    FORM_ID = "service_form"
    BINDINGS = [
        *form_bindings("service_form"),
        Binding(
            "down",
            "to_codes",
            "Pick code",
            show=False,
            id="service_form.codes",
            tooltip="Move into the list of matching codes",
        ),
    ]

    def __init__(self, client_id: int, client_name: str) -> None:
        super().__init__()
        self.client_id = client_id
        self.client_name = client_name
        self.matches: CodePage | None = None
        self._debounce: Timer | None = None

    def heading(self) -> str:
        return f"Record a service for {self.client_name}"

    def fields(self) -> ComposeResult:
        today = office_today(self.cd_app.tz)
        yield Field(
            "service_date",
            "Date of service",
            value=today.isoformat(),
            parse=parse_date,
            required=True,
            placeholder="YYYY-MM-DD",
        )
        yield Field("code", "Code", parse=parse_code, required=True, placeholder="type to search, e.g. G0")
        yield Static("", id="code-hint", classes="code-hint")
        yield OptionList(id="code-list", classes="code-list")
        yield Field("units", "Units", value="1", parse=parse_units, required=True)
        yield Field("note", "Note (rendering staff)", placeholder="optional")

    def start_focus(self) -> Widget:
        return self.query_one("#input-code", Input)  # the date is usually today: start at the code

    def on_mount(self) -> None:
        self.query_one("#code-list", OptionList).display = False
        self._lookup("")

    # ------------------------------------------------------------------ type-ahead

    @on(Input.Changed, "#input-code")
    def _code_changed(self, event: Input.Changed) -> None:
        if self._debounce is not None:
            self._debounce.stop()
        text = event.value
        self._debounce = self.set_timer(0.15, lambda: self._lookup(text))

    def _lookup(self, text: str) -> None:
        prefix = text.strip()[:16]
        self.db_call(
            lambda s: catalog.list_codes(self.actor, s, prefix=prefix, limit=SUGGESTIONS),
            lambda page: self._show_codes(prefix, page),
            group="codes",
        )

    def _show_codes(self, prefix: str, page: CodePage) -> None:
        if self.query_one("#input-code", Input).value.strip()[:16] != prefix:
            return  # typing went on; a newer lookup is coming
        self.matches = page
        box = self.query_one("#code-list", OptionList)
        box.clear_options()
        # One line per code: a long description is cut to the room left (OptionList wraps).
        room = max(12, (box.size.width or min(self.size.width, 100) - 34) - 21)
        for c in page.rows:
            desc = c.description if len(c.description) <= room else c.description[: room - 1] + "…"
            box.add_option(
                Option(Text.assemble((c.code, "bold"), f"  {fmt_money(c.fee):>10}  ", desc), id=c.code)
            )
        box.display = bool(page.rows)
        hint = self.query_one("#code-hint", Static)
        exact = next((c for c in page.rows if c.code == prefix.upper()), None)
        if exact is not None:
            hint.update(Text(f"{exact.code}: {exact.description}, fee {fmt_money(exact.fee)}", style="bold"))
        elif prefix and not page.rows:
            hint.update(Text(f"No active code starts with {prefix.upper()!r}"))
        elif page.rows:
            more = " (more: keep typing)" if page.next_after else ""
            hint.update(Text(f"Down, then Enter to take a code{more}"))
        else:
            hint.update("")

    def action_to_codes(self) -> None:
        box = self.query_one("#code-list", OptionList)
        if self.focused is self.query_one("#input-code", Input) and box.display and box.option_count:
            box.focus()
            box.highlighted = 0
        elif self.focused is not None and not isinstance(self.focused, OptionList):
            self.focus_next()

    @on(OptionList.OptionSelected, "#code-list")
    def _code_picked(self, event: OptionList.OptionSelected) -> None:
        code = event.option.id or ""
        box = self.query_one("#input-code", Input)
        box.value = code
        box.cursor_position = len(code)
        self.query_one("#input-units", Input).focus()

    # ------------------------------------------------------------------ saving

    def save(self, s: Any, v: dict[str, Any]) -> ServiceView:
        return services.record_service(
            self.actor,
            s,
            self.client_id,
            service_date=v["service_date"],
            code=v["code"],
            units=v["units"],
            note=v["note"],
        )

    def saved_message(self, result: ServiceView) -> str:
        return f"Recorded {result.code} × {result.units} on {result.service_date}"

    def action_cancel(self) -> None:
        if isinstance(self.focused, OptionList):
            self.query_one("#input-code", Input).focus()  # Esc in the list goes back to typing
            return
        super().action_cancel()
