"""One invoice, statement or credit note: header, lines, and an Explain panel that shows each
step of the split for the selected line, with the figures.

``t`` / ``f`` print to a new plain-text / PDF file in a folder of the person's exports folder
(default ``prints``, see tui/exports.py); nothing is ever opened (no viewer, browser or pager: clerks work over
SSH). ``n`` issues a credit note; ``x`` voids (supervisors only), each with a reason and a
confirmation that says what will happen.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.markup import escape
from textual.widget import Widget
from textual.widgets import DataTable, Input, Static

from billing import invoices, render
from billing.invoices import InvoiceView, LineView, Problem
from db.enums import InvoiceKind, InvoiceStatus
from db.money import fmt_money
from db.rights import Action
from screens.common.collections_bits import REASON_MAX
from tui.exports import ExportError, free_target, write_new
from tui.widgets.base import DbScreen
from tui.widgets.dialogs import FormDialog
from tui.widgets.footer import KeyFooter
from tui.widgets.forms import Field, FolderField, ParseError, parse_money
from tui.widgets.header import OfficeHeader
from tui.widgets.tables import Row, fill_table

DEFAULT_FOLDER = "prints"  # inside the person's exports folder (tui/exports.py)
_last_folder = DEFAULT_FOLDER  # one person per process: remember their choice for the session
KIND = {
    InvoiceKind.INVOICE: "Invoice",
    InvoiceKind.STATEMENT: "Statement",
    InvoiceKind.CREDIT_NOTE: "Credit note",
    InvoiceKind.FEE: "Fee invoice",
}


def desc_width(screen_width: int) -> int:
    """Room for the description in a lines table (the money columns must stay visible at 80)."""
    return max(12, min(40, screen_width - 62))


def cut(text: str, width: int) -> Text:
    return Text(text if len(text) <= width else text[: width - 1] + "…")


def file_stem(view: InvoiceView) -> str:
    """``INV-000124`` or ``draft-12``: numbers are letters, digits and '-', safe as file names."""
    stem = view.number or f"draft-{view.id}"
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in stem)


def status_line(v: InvoiceView) -> Text:
    st = v.status.value.replace("_", " ")
    return Text(f" {st.upper()} ", style="bold reverse" if v.status != InvoiceStatus.ISSUED else "bold")


# --------------------------------------------------------------------------- print dialog


class PrintDialog(FormDialog[Path]):
    """Choose the folder; the file is written there and the dialog closes with its path."""

    HELP_TITLE = "Print"
    HELP = (
        "Writes the document as a new file into a folder of your exports folder (created if "
        "missing; a taken name gets -2, -3…). Nothing is opened."
    )
    FORM_ID = "invoice_print"
    SAVE_LABEL = "Write file"
    WIDE = False
    SUBMIT_ON_ENTER = True
    SAVE_WRITES = False  # reads the invoice, writes a file
    ERROR_FIELDS = {ExportError: "folder"}

    def __init__(self, view: InvoiceView, fmt: str) -> None:
        super().__init__()
        self.view = view
        self.fmt = fmt  # "text" or "pdf"

    @property
    def file_name(self) -> str:
        return f"{file_stem(self.view)}.{'txt' if self.fmt == 'text' else 'pdf'}"

    def heading(self) -> str:
        what = "plain text (80 columns)" if self.fmt == "text" else "PDF"
        return f"Print {self.view.label} as {what}"

    def intro(self) -> Iterable[Widget]:
        yield Static(
            Text(
                f"Writes {self.file_name} into this folder of {self.cd_app.exports} (created if "
                "missing; if the name is taken, -2, -3… is added: no file is ever replaced). "
                "Nothing is opened."
            )
        )

    def fields(self) -> ComposeResult:
        yield FolderField(self.cd_app.exports, _last_folder)

    def save(self, s: Any, values: dict[str, Any]) -> Path:
        root = self.cd_app.exports
        doc = render.draft_document(self.actor, s, self.view.id)
        content = render.render_text(doc).encode("utf-8") if self.fmt == "text" else render.render_pdf(doc)
        return write_new(free_target(root, values["folder"], self.file_name), content, root=root)

    def saved_message(self, result: Path) -> str:
        return ""  # the invoice screen says where the file went

    def saved(self, result: Path) -> None:
        global _last_folder
        _last_folder = self.query_one("#input-folder", Input).value.strip()
        super().saved(result)


# --------------------------------------------------------------------------- credit note and void


def parse_lines(text: str) -> dict[int, Any] | None:
    """``""`` = every line in full; ``"1, 3=10.00"`` = line 1 in full, 10.00 of line 3."""
    t = text.strip()
    if not t:
        return None
    out: dict[int, Any] = {}
    for part in t.split(","):
        p = part.strip()
        if not p:
            continue
        no, _, amount = p.partition("=")
        try:
            n = int(no.strip())
        except ValueError:
            raise ParseError(f"{p!r} is not a line number (write 1, 2=10.00)") from None
        if not 1 <= n <= 9999:
            raise ParseError(f"line {n} does not exist")
        out[n] = parse_money(amount) if amount.strip() else None
    return out or None


class CreditDialog(FormDialog[InvoiceView]):
    HELP_TITLE = "Credit note"
    HELP = (
        "A credit note corrects an issued invoice: it gets its own number and reduces what is owed. "
        "Lines empty = every line in full; '1, 3=10.00' = line 1 in full and 10.00 of line 3."
    )
    FORM_ID = "invoice_credit"
    SAVE_LABEL = "Credit"
    SAVE_VARIANT = "warning"

    def __init__(self, view: InvoiceView) -> None:
        super().__init__()
        self.view = view

    def heading(self) -> str:
        return f"Credit note against {self.view.label}"

    def intro(self) -> Iterable[Widget]:
        v = self.view
        yield Static(Text(f"{v.bill_to_name} · total {fmt_money(v.total)} · balance {fmt_money(v.balance)}"))

    def fields(self) -> ComposeResult:
        yield Field(
            "reason", "Reason", required=True, max_length=REASON_MAX, placeholder="what is being corrected"
        )
        yield Field("lines", "Lines", parse=parse_lines, placeholder="empty = every line in full")

    def field_for(self, name: str) -> str:
        return "lines" if name.startswith("line") else name  # the service names "line 3"

    def check(self, values: dict[str, Any]) -> Mapping[str, str]:
        v = self.view
        missing = [n for n in values["lines"] or () if n not in {ln.line_no for ln in v.lines}]
        if missing:
            return {"lines": f"{v.label} has no line {missing[0]} (it has 1-{len(v.lines)})"}
        return {}

    def confirmation(self, values: dict[str, Any]) -> tuple[str, str, str]:
        v = self.view
        lines: dict[int, Any] | None = values["lines"]
        by_no = {ln.line_no: ln for ln in v.lines}
        if lines is not None:
            what = "; ".join(
                f"line {n} ({by_no[n].code}) " + (fmt_money(a) if a is not None else "in full")
                for n, a in sorted(lines.items())
            )
        else:
            what = f"every line in full (up to the balance {fmt_money(v.balance)})"
        text = (
            f"A credit note against {v.label} ({v.bill_to_name}) gets the next credit note number now, "
            f"which is never reused.\n\nCredited: {what}\nReason: {values['reason']}"
        )
        return "Issue the credit note?", text, "Credit"

    def save(self, s: Any, values: dict[str, Any]) -> InvoiceView:
        return invoices.credit_invoice(
            self.actor, s, self.view.id, reason=values["reason"], lines=values["lines"]
        )

    def saved_message(self, result: InvoiceView) -> str:
        return f"Credit note {result.number} issued: {fmt_money(result.total)}"


class VoidDialog(FormDialog[InvoiceView]):
    """Supervisors only: refuses to open for anyone else (the service refuses too)."""

    HELP_TITLE = "Void"
    HELP = "Voiding keeps the number; nothing is owed on it and its services can be billed again."
    FORM_ID = "invoice_void"
    SAVE_LABEL = "Void"
    SAVE_VARIANT = "error"
    REQUIRES = (Action.INVOICE_VOID, "Only a supervisor can void an invoice")

    def __init__(self, view: InvoiceView) -> None:
        super().__init__()
        self.view = view

    def heading(self) -> str:
        return f"Void {self.view.label}"

    def intro(self) -> Iterable[Widget]:
        v = self.view
        yield Static(Text(f"{KIND[v.kind]} to {v.bill_to_name} · total {fmt_money(v.total)}"))

    def fields(self) -> ComposeResult:
        yield Field(
            "reason", "Reason", required=True, max_length=REASON_MAX, placeholder="why the invoice is void"
        )

    def confirmation(self, values: dict[str, Any]) -> tuple[str, str, str]:
        v = self.view
        text = (
            f"{v.label} ({KIND[v.kind].lower()} to {v.bill_to_name}, {fmt_money(v.total)}) becomes VOID. "
            "It keeps its number and nothing is owed on it; its services become unbilled (to be billed "
            f"again) unless another document still bills them.\n\nReason: {values['reason']}"
        )
        return f"Void {v.label}?", text, "Void"

    def save(self, s: Any, values: dict[str, Any]) -> InvoiceView:
        return invoices.void_invoice(self.actor, s, self.view.id, reason=values["reason"])

    def saved_message(self, result: InvoiceView) -> str:
        return f"{result.label} is void"


# --------------------------------------------------------------------------- the screen


class InvoiceViewScreen(DbScreen):
    HELP_TITLE = "Invoice"
    HELP = (
        "Up/Down choose a line; the Explain panel shows how its amount was worked out. "
        "t / f write the document as text / PDF into a folder of your exports folder (nothing is opened). "
        "n issues a credit note; x voids (supervisors); d opens a dispute on the highlighted line "
        "or the whole invoice."
    )
    BINDINGS = [
        Binding(
            "t", "print_text", "Print text", id="invoice_view.print_text", tooltip="Write a plain-text file"
        ),
        Binding("f", "print_pdf", "Print PDF", id="invoice_view.print_pdf", tooltip="Write a PDF file"),
        Binding(
            "n", "credit", "Credit note", id="invoice_view.credit", tooltip="Issue a credit note (asks first)"
        ),
        Binding(
            "x", "void", "Void", id="invoice_view.void", tooltip="Supervisor: void the invoice (asks first)"
        ),
        Binding(
            "d",
            "dispute",
            "Dispute",
            id="invoice_view.dispute",
            tooltip="Open a dispute on the invoice or line",
        ),
        Binding("escape", "back", "Back", id="invoice_view.back", tooltip="Back to the previous screen"),
    ]

    def __init__(self, invoice_id: int, *, line_no: int | None = None) -> None:
        super().__init__()
        self.invoice_id = invoice_id
        self.line_no = line_no
        self.view: InvoiceView | None = None

    def compose(self) -> ComposeResult:
        yield OfficeHeader(self.actor.name, self.actor.role.value, self.cd_app.tz)
        yield Static("Loading…", id="inv-head", classes="inv-head")
        yield DataTable(id="inv-lines", cursor_type="row", zebra_stripes=True)
        with Vertical(id="inv-explain-panel", classes="panel explain-panel"):
            yield Static(Text("Explain", style="bold"), id="inv-explain-title")
            explain: DataTable[Any] = DataTable(id="inv-explain", cursor_type="row", show_header=False)
            explain.tooltip = "The steps of the split for the line chosen above (Tab to scroll them)"
            yield explain
        yield Static("", id="inv-checks", classes="inv-checks")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#inv-lines", DataTable).add_columns(
            "#", "Date", "Code", "Description", "Units", "Price", "Charge", "Amount"
        )
        self.query_one("#inv-explain", DataTable).add_columns("Step", "Amount")
        self.query_one("#inv-lines", DataTable).focus()
        self.reload()

    def reload(self) -> None:
        iid = self.invoice_id

        def load(s: Any) -> tuple[InvoiceView, tuple[Problem, ...]]:
            view = invoices.get_invoice(self.actor, s, iid)
            checks = invoices.check_invoice(self.actor, s, iid) if view.status == InvoiceStatus.DRAFT else ()
            return view, checks

        self.db_call(load, self.show, group="load")

    def show(self, result: tuple[InvoiceView, tuple[Problem, ...]]) -> None:
        v, checks = result
        self.view = v
        head = Text.assemble(
            (f"{KIND[v.kind]} {v.label}", "bold"),
            "  ",
            status_line(v),
            "  to ",
            (v.bill_to_name, "bold"),
        )
        if v.member_id:
            head.append(f" (member {v.member_id})")
        head.append(f"\nClient {v.account_number} ")
        head.append(v.client_name)
        issued = v.issue_date.isoformat() if v.issue_date else "not issued"
        due = v.due_date.isoformat() if v.due_date else "—"
        head.append(f" · issued {issued} · due {due}")
        head.append(f"\nTotal {fmt_money(v.total)} · paid {fmt_money(v.amount_paid)}")
        if v.amount_adjusted:
            head.append(f" · credits/adjustments {fmt_money(v.amount_adjusted)}")
        head.append(" · balance ")
        head.append(fmt_money(v.balance), "bold")
        if v.dispute_hold:
            head.append("  ")
            head.append(" ON DISPUTE HOLD ", "bold reverse")
        if v.void_reason:
            head.append("\nVoid: ", "bold")
            head.append(v.void_reason)
        self.query_one("#inv-head", Static).update(head)

        t = self.query_one("#inv-lines", DataTable)
        rows_: list[Row] = []
        width = desc_width(self.size.width)
        for ln in v.lines:
            rows_.append(
                (
                    str(ln.line_no),
                    [
                        str(ln.line_no),
                        ln.service_date.isoformat() if ln.service_date else "",
                        Text(ln.code),
                        cut(ln.description, width),
                        str(ln.units),
                        Text(fmt_money(ln.unit_price), justify="right"),
                        Text(fmt_money(ln.charge), justify="right"),
                        Text(fmt_money(ln.amount), justify="right", style="bold"),
                    ],
                )
            )
        fill_table(t, rows_)
        if self.line_no is not None:
            row = next((i for i, ln in enumerate(v.lines) if ln.line_no == self.line_no), 0)
            t.move_cursor(row=row)
            self.line_no = None
        self._explain(self._current_line())

        box = self.query_one("#inv-checks", Static)
        if v.status == InvoiceStatus.DRAFT:
            text = Text("Draft: issue it from the invoice builder (b on the account).", style="italic")
            for p in checks:
                text.append("\n")
                text.append(" CHECK FAILS ", "bold reverse")
                text.append(f" {p.message}")
            box.update(text)
            box.display = True
        else:
            box.display = False

    def _current_line(self) -> LineView | None:
        v = self.view
        t = self.query_one("#inv-lines", DataTable)
        if v is None or not v.lines or t.row_count == 0:
            return None
        return v.lines[min(max(t.cursor_row, 0), len(v.lines) - 1)]

    @on(DataTable.RowHighlighted, "#inv-lines")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._explain(self._current_line())

    def _explain(self, ln: LineView | None) -> None:
        title = self.query_one("#inv-explain-title", Static)
        t = self.query_one("#inv-explain", DataTable)
        if ln is None:
            title.update(Text("Explain: no lines", style="bold"))
            fill_table(t, [])
            return
        when = f" on {ln.service_date}" if ln.service_date else ""
        title.update(
            Text.assemble(
                (f"Explain line {ln.line_no}: ", "bold"),
                f"{ln.code}{when} · {ln.description}",
            )
        )
        rows_: list[Row] = []
        for n, step in enumerate(ln.explain, start=1):
            last = step.key in ("client.owes", "primary.pays", "secondary.pays")
            rows_.append(
                (
                    str(n),
                    [
                        Text(f"{n}. {step.label}", style="bold" if last else ""),
                        Text(fmt_money(step.amount), justify="right", style="bold" if last else ""),
                    ],
                )
            )
        rows_.append(
            (
                "line",
                [
                    Text("This line bills", style="bold"),
                    Text(fmt_money(ln.amount), justify="right", style="bold reverse"),
                ],
            )
        )
        # The step text gives way first: the amounts must stay on screen at 80 columns.
        fill_table(t, rows_, max_width=max(20, self.size.width - 24))

    # ------------------------------------------------------------------ actions

    def _loaded(self) -> InvoiceView | None:
        if self.view is None:
            self.notify("The invoice is still loading", severity="warning")
        return self.view

    def _print(self, fmt: str) -> None:
        v = self._loaded()
        if v is None:
            return

        def written(path: Path | None) -> None:
            if path is not None:
                size = path.stat().st_size if path.exists() else 0
                self.notify(escape(f"Wrote {path} ({size:,} bytes)"), title="Printed", timeout=8)

        self.app.push_screen(PrintDialog(v, fmt), written)

    def action_print_text(self) -> None:
        self._print("text")

    def action_print_pdf(self) -> None:
        self._print("pdf")

    def action_credit(self) -> None:
        v = self._loaded()
        if v is None:
            return
        if v.kind == InvoiceKind.CREDIT_NOTE:
            self.notify(escape(f"{v.label} is itself a credit note"), severity="warning")
            return
        if v.status not in (InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID):
            self.notify(
                escape(
                    f"{v.label} is {v.status.value.replace('_', ' ')}: only open invoices can be credited"
                ),
                severity="warning",
            )
            return
        self.app.push_screen(CreditDialog(v), lambda note: self.reload() if note else None)

    def action_void(self) -> None:
        v = self._loaded()
        if v is None:
            return
        if not self.actor.can(Action.INVOICE_VOID):
            self.notify(
                "Only a supervisor can void an invoice. A clerk corrects an issued invoice with a credit note (n).",
                title="Supervisor needed",
                severity="error",
                timeout=10,
            )
            return
        if v.status != InvoiceStatus.ISSUED or v.kind == InvoiceKind.CREDIT_NOTE:
            self.notify(
                escape(
                    f"{v.label} is a {KIND[v.kind].lower()} in status {v.status.value.replace('_', ' ')}: "
                    "only an issued invoice without payments can be voided"
                ),
                severity="warning",
            )
            return
        self.app.push_screen(VoidDialog(v), lambda done: self.reload() if done else None)

    def action_dispute(self) -> None:
        v = self._loaded()
        if v is None:
            return
        from screens.clerk.dispute_form import DisputeDialog

        ln = self._current_line()
        self.app.push_screen(
            DisputeDialog(v, ln.line_no if ln is not None else None), lambda d: self.reload() if d else None
        )
