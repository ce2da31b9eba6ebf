"""One invoice, statement or credit note: header, lines, and an Explain panel that shows each
step of the split for the selected line, with the figures.

``t`` / ``f`` print to a new plain-text / PDF file in a folder of the person's exports folder
(default ``prints``, see tui/exports.py); nothing is ever opened (no viewer, browser or pager: clerks work over
SSH). ``n`` issues a credit note; ``x`` voids (supervisors only), each with a reason and a
confirmation that says what will happen.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.markup import escape
from textual.widgets import Button, DataTable, Input, Static

from billing import invoices, render
from billing.invoices import InvoiceView, LineView, Problem
from db.errors import ValidationError
from db.models import InvoiceKind, InvoiceStatus
from db.money import fmt_money
from db.rights import Action
from screens.common.confirm import ConfirmDialog
from tui.base import DbModal, DbScreen
from tui.exports import ExportError, check_folder, free_target, write_new
from tui.widgets.footer import KeyFooter
from tui.widgets.forms import Field, Form, ParseError, parse_money
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


def folder_parser(root: Path) -> Callable[[str], str]:
    """A sub-folder of the person's exports folder ``root`` (empty: the exports folder itself)."""

    def parse(text: str) -> str:
        try:
            return check_folder(root, text)
        except ExportError as e:
            raise ParseError(str(e)) from e

    return parse


def status_line(v: InvoiceView) -> Text:
    st = v.status.value.replace("_", " ")
    return Text(f" {st.upper()} ", style="bold reverse" if v.status != InvoiceStatus.ISSUED else "bold")


# --------------------------------------------------------------------------- print dialog


class PrintDialog(DbModal[Path | None]):
    """Choose the folder; the file is written there and the dialog closes with its path."""

    HELP_TITLE = "Print"
    HELP = (
        "Writes the document as a new file into a folder of your exports folder (created if "
        "missing; a taken name gets -2, -3…). Nothing is opened."
    )
    BINDINGS = [
        Binding("ctrl+s", "save", "Write file", id="invoice_print.save", tooltip="Write the file"),
        Binding("escape", "cancel", "Cancel", id="invoice_print.cancel", tooltip="Do nothing"),
    ]

    def __init__(self, view: InvoiceView, fmt: str) -> None:
        super().__init__()
        self.view = view
        self.fmt = fmt  # "text" or "pdf"

    @property
    def file_name(self) -> str:
        return f"{file_stem(self.view)}.{'txt' if self.fmt == 'text' else 'pdf'}"

    def compose(self) -> ComposeResult:
        what = "plain text (80 columns)" if self.fmt == "text" else "PDF"
        with Vertical(classes="dialog"):
            yield Static(Text(f"Print {self.view.label} as {what}", style="bold"), classes="dialog-title")
            yield Static(
                Text(
                    f"Writes {self.file_name} into this folder of {self.cd_app.exports} (created if "
                    "missing; if the name is taken, -2, -3… is added: no file is ever replaced). "
                    "Nothing is opened."
                )
            )
            with Form():
                yield Field("folder", "Folder", value=_last_folder, parse=folder_parser(self.cd_app.exports))
            with Horizontal(classes="buttons"):
                yield Button("Cancel (esc)", id="cancel", compact=True)
                yield Button("Write (enter)", variant="primary", id="save", compact=True)

    def on_mount(self) -> None:
        self.query_one("#input-folder", Input).focus()

    @on(Input.Submitted, "#input-folder")
    def _submitted(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        form = self.query_one(Form)
        values = form.collect()
        if values is None:
            return
        folder: str = values["folder"]
        inv_id, fmt, name, root = self.view.id, self.fmt, self.file_name, self.cd_app.exports

        def job(s: Any) -> Path:
            doc = render.draft_document(self.actor, s, inv_id)
            content = render.render_text(doc).encode("utf-8") if fmt == "text" else render.render_pdf(doc)
            return write_new(free_target(root, folder, name), content, root=root)

        def failed(exc: BaseException) -> None:
            if isinstance(exc, ExportError):
                form.show_errors({"folder": f"{exc}. Choose another folder."})
            else:
                self.cd_app.show_error(exc)

        def done(path: Path) -> None:
            global _last_folder
            _last_folder = self.query_one("#input-folder", Input).value.strip()
            self.dismiss(path)

        self.db_call(job, done, on_error=failed, group="print")

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


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


class CreditDialog(DbModal[InvoiceView | None]):
    HELP_TITLE = "Credit note"
    HELP = (
        "A credit note corrects an issued invoice: it gets its own number and reduces what is owed. "
        "Lines empty = every line in full; '1, 3=10.00' = line 1 in full and 10.00 of line 3."
    )
    BINDINGS = [
        Binding(
            "ctrl+s", "save", "Credit", id="invoice_credit.save", tooltip="Issue the credit note (asks first)"
        ),
        Binding("escape", "cancel", "Cancel", id="invoice_credit.cancel", tooltip="Do nothing"),
    ]

    def __init__(self, view: InvoiceView) -> None:
        super().__init__()
        self.view = view

    def compose(self) -> ComposeResult:
        v = self.view
        with Vertical(classes="dialog -wide"):
            yield Static(Text(f"Credit note against {v.label}", style="bold"), classes="dialog-title")
            yield Static(
                Text(f"{v.bill_to_name} · total {fmt_money(v.total)} · balance {fmt_money(v.balance)}")
            )
            with VerticalScroll(), Form():
                yield Field("reason", "Reason", required=True, placeholder="what is being corrected")
                yield Field("lines", "Lines", parse=parse_lines, placeholder="empty = every line in full")
            with Horizontal(classes="buttons"):
                yield Button("Cancel (esc)", id="cancel", compact=True)
                yield Button("Credit (ctrl+s)", variant="warning", id="save", compact=True)

    def on_mount(self) -> None:
        self.query_one("#input-reason", Input).focus()

    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        form = self.query_one(Form)
        values = form.collect()
        if values is None:
            return
        v = self.view
        lines: dict[int, Any] | None = values["lines"]
        by_no = {ln.line_no: ln for ln in v.lines}
        if lines is not None:
            missing = [n for n in lines if n not in by_no]
            if missing:
                form.show_errors({"lines": f"{v.label} has no line {missing[0]} (it has 1-{len(v.lines)})"})
                return
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

        def decided(yes: bool | None) -> None:
            if yes:
                self._credit(values["reason"], lines)

        self.app.push_screen(ConfirmDialog("Issue the credit note?", text, "Credit"), decided)

    def _credit(self, reason: str, lines: dict[int, Any] | None) -> None:
        form = self.query_one(Form)
        inv_id = self.view.id

        def failed(exc: BaseException) -> None:
            if isinstance(exc, ValidationError):
                fields = {("lines" if k.startswith("line") else k): m for k, m in exc.fields.items()}
                if not form.show_errors(fields):
                    self.cd_app.show_error(exc)
            else:
                self.cd_app.show_error(exc)

        def done(note: InvoiceView) -> None:
            self.notify(escape(f"Credit note {note.number} issued: {fmt_money(note.total)}"))
            self.dismiss(note)

        self.db_call(
            lambda s: invoices.credit_invoice(self.actor, s, inv_id, reason=reason, lines=lines),
            done,
            write=True,
            on_error=failed,
            group="save",
        )

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class VoidDialog(DbModal[InvoiceView | None]):
    """Supervisors only: refuses to open for anyone else (the service refuses too)."""

    HELP_TITLE = "Void"
    HELP = "Voiding keeps the number; nothing is owed on it and its services can be billed again."
    BINDINGS = [
        Binding("ctrl+s", "save", "Void", id="invoice_void.save", tooltip="Void the invoice (asks first)"),
        Binding("escape", "cancel", "Cancel", id="invoice_void.cancel", tooltip="Do nothing"),
    ]

    def __init__(self, view: InvoiceView) -> None:
        super().__init__()
        self.view = view

    def compose(self) -> ComposeResult:
        v = self.view
        with Vertical(classes="dialog -wide"):
            yield Static(Text(f"Void {v.label}", style="bold"), classes="dialog-title")
            yield Static(Text(f"{KIND[v.kind]} to {v.bill_to_name} · total {fmt_money(v.total)}"))
            with Form():
                yield Field("reason", "Reason", required=True, placeholder="why the invoice is void")
            with Horizontal(classes="buttons"):
                yield Button("Cancel (esc)", id="cancel", compact=True)
                yield Button("Void (ctrl+s)", variant="error", id="save", compact=True)

    def on_mount(self) -> None:
        if not self.actor.can(Action.INVOICE_VOID):
            self.notify("Only a supervisor can void an invoice", severity="error")
            self.dismiss(None)
            return
        self.query_one("#input-reason", Input).focus()

    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        form = self.query_one(Form)
        values = form.collect()
        if values is None:
            return
        v = self.view
        text = (
            f"{v.label} ({KIND[v.kind].lower()} to {v.bill_to_name}, {fmt_money(v.total)}) becomes VOID. "
            "It keeps its number and nothing is owed on it; its services become unbilled (to be billed "
            f"again) unless another document still bills them.\n\nReason: {values['reason']}"
        )

        def decided(yes: bool | None) -> None:
            if not yes:
                return

            def failed(exc: BaseException) -> None:
                if isinstance(exc, ValidationError) and form.show_errors(exc.fields):
                    return
                self.cd_app.show_error(exc)

            def done(view: InvoiceView) -> None:
                self.notify(escape(f"{view.label} is void"))
                self.dismiss(view)

            self.db_call(
                lambda s: invoices.void_invoice(self.actor, s, v.id, reason=values["reason"]),
                done,
                write=True,
                on_error=failed,
                group="save",
            )

        self.app.push_screen(ConfirmDialog(f"Void {v.label}?", text, "Void"), decided)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


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

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 2:
            self.app.pop_screen()
