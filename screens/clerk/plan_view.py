"""A client's payment plan with its installments, and writing the plan agreement to files.

The agreement is written as plain text and PDF (``billing.plans.render_agreement*``) into a
folder of the clerk's exports folder, by default ``prints`` (tui/exports.py). Nothing is ever
opened: no viewer, no browser (the app may run over SSH). The files are new (an existing file is
never replaced), written whole and readable only by their owner, since an agreement carries the
client's name and address.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.markup import escape
from textual.widget import Widget
from textual.widgets import DataTable, Static

from billing import plans
from db.enums import InstallmentStatus
from db.settings import get_setting
from screens.clerk.payment_widgets import money, status_words
from tui.exports import ExportError, folder_target, write_new
from tui.widgets.base import DbScreen
from tui.widgets.dialogs import FormDialog
from tui.widgets.footer import KeyFooter
from tui.widgets.forms import FolderField
from tui.widgets.header import OfficeHeader

DEFAULT_PRINT_FOLDER = "prints"  # inside the person's exports folder (tui/exports.py)


def save_agreement(root: Path, folder: str, number: str, text: str, pdf: bytes) -> tuple[Path, Path]:
    """Write the new files ``<number>-agreement.txt`` and ``.pdf`` into ``folder`` of ``root``."""
    txt_path = folder_target(root, folder, f"{number}-agreement.txt")
    pdf_path = folder_target(root, folder, f"{number}-agreement.pdf")
    write_new(txt_path, text, root=root)
    try:
        write_new(pdf_path, pdf, root=root)
    except BaseException:
        txt_path.unlink(missing_ok=True)  # both or neither
        raise
    return txt_path, pdf_path


class AgreementDialog(FormDialog[tuple[Path, Path]]):
    """Ask for the folder, then write the agreement as text and PDF. Dismisses with the paths."""

    FORM_ID = "agreement"
    SAVE_LABEL = "Write"
    CANCEL_LABEL = "Skip"  # it follows the plan's creation: not writing it now is no cancel
    WIDE = False
    SUBMIT_ON_ENTER = True
    SAVE_WRITES = False  # reads the plan, writes files
    ERROR_FIELDS = {ExportError: "folder"}
    BINDINGS = [
        Binding("ctrl+s", "save", "Write", id="agreement.write", tooltip="Write the text and PDF files"),
        Binding("escape", "cancel", "Skip", id="agreement.cancel", tooltip="Close without writing"),
    ]

    def __init__(self, plan_id: int, plan_number: str, folder: str = DEFAULT_PRINT_FOLDER) -> None:
        super().__init__()
        self.plan_id = plan_id
        self.plan_number = plan_number
        self.folder = folder

    def heading(self) -> str:
        return f"Write the agreement for {self.plan_number}"

    def intro(self) -> Iterable[Widget]:
        yield Static(
            Text(
                "The plan agreement is written as a text file and a PDF into this folder of "
                f"{self.cd_app.exports}, to print or send to the client. Existing files are "
                "never replaced. Nothing is opened."
            )
        )

    def fields(self) -> ComposeResult:
        yield FolderField(self.cd_app.exports, self.folder)

    def save(self, s: Any, values: dict[str, Any]) -> tuple[Path, Path]:
        doc = plans.agreement_doc(self.actor, s, self.plan_id)
        text = plans.render_agreement(doc)
        pdf = plans.render_agreement_pdf(doc)
        return save_agreement(self.cd_app.exports, values["folder"], self.plan_number, text, pdf)

    def saved_message(self, result: tuple[Path, Path]) -> str:
        return ""  # the screen that opened the dialog says where the files went


def written_message(paths: tuple[Path, Path]) -> str:
    return f"Agreement written: {paths[0]} and {paths[1].name}"


class PlanViewScreen(DbScreen):
    """The client's open plan (or the latest one) with each installment's due date and payments."""

    HELP_TITLE = "Payment plan"
    HELP = (
        "The plan's installments: due date, amount, what has been paid and each one's state "
        "(due, partial, paid, missed). w writes the plan agreement as text and PDF to a folder."
    )
    BINDINGS = [
        Binding(
            "w",
            "write_agreement",
            "Write agreement",
            id="plan_view.write",
            tooltip="Write the agreement (text and PDF)",
        ),
        Binding("escape", "close", "Close", id="plan_view.close", tooltip="Back to the previous screen"),
    ]

    def __init__(self, client_id: int, plan_id: int | None = None) -> None:
        super().__init__()
        self.client_id = client_id
        self.plan_id = plan_id
        self.plan: plans.PlanView | None = None
        self.symbol = "$"

    def compose(self) -> ComposeResult:
        yield OfficeHeader(self.actor.name, self.actor.role.value, self.cd_app.tz)
        yield Static(Text("Payment plan", style="bold"), classes="title", id="plan-title")
        yield Static("…", id="plan-head", classes="panel")
        table: DataTable[str | Text] = DataTable(
            id="plan-installments", cursor_type="row", zebra_stripes=True
        )
        yield table
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#plan-installments", DataTable).add_columns(
            "No.", "Due date", "Amount", "Paid", "State"
        )
        self.query_one("#plan-installments", DataTable).focus()
        self.reload()

    def reload(self) -> None:
        cid, pid = self.client_id, self.plan_id

        def load(s: Any) -> tuple[plans.PlanView | None, str]:
            symbol = str(get_setting(s, "office.currency_symbol"))
            if pid is not None:
                return plans.get_plan(self.actor, s, pid), symbol
            plan = plans.current_plan(self.actor, s, cid)
            if plan is None:
                history = plans.client_plans(self.actor, s, cid)
                plan = history[0] if history else None
            return plan, symbol

        self.db_call(load, self.show)

    def show(self, loaded: tuple[plans.PlanView | None, str]) -> None:
        plan, self.symbol = loaded
        self.plan = plan
        head = self.query_one("#plan-head", Static)
        table = self.query_one("#plan-installments", DataTable)
        table.clear()
        if plan is None:
            head.update(Text("This client has no payment plan.", style="italic"))
            return
        sym = self.symbol
        self.query_one("#plan-title", Static).update(
            Text(f"Payment plan {plan.number}: {plan.client_name} ({plan.account_number})", style="bold")
        )
        nxt = plan.next_due
        head.update(
            Text.assemble(
                ("State: ", "bold"),
                (plan.status.value.upper(), "bold reverse"),
                f"  · financed {money(plan.amount_financed, sym)} in {plan.installment_count} "
                f"{plans.INTERVAL_WORDS[plan.interval]} installments, agreed {plan.agreed_on.isoformat()} "
                f"by {plan.created_by}\n",
                f"Paid {money(plan.paid_total, sym)} · remaining {money(plan.remaining, sym)}",
                f" · next due {nxt.due_date.isoformat()} ({money(nxt.remaining, sym)})" if nxt else "",
                f" · {plan.missed_count} missed" if plan.missed_count else "",
            )
        )
        for i in plan.installments:
            state = status_words(i.status.value)
            table.add_row(
                str(i.seq),
                i.due_date.isoformat(),
                Text(money(i.amount, sym), justify="right"),
                Text(money(i.paid_amount, sym), justify="right"),
                Text(state.upper(), style="bold") if i.status == InstallmentStatus.MISSED else state,
                key=str(i.id),
            )

    def action_write_agreement(self) -> None:
        if self.plan is None:
            self.notify("No plan to write", severity="warning")
            return

        def written(paths: tuple[Path, Path] | None) -> None:
            if paths:
                self.notify(escape(written_message(paths)), timeout=10)

        self.app.push_screen(AgreementDialog(self.plan.id, self.plan.number), written)

    def action_close(self) -> None:
        self.dismiss()
