"""Dunning run (supervisor): preview, then apply after a confirmation (docs/collections-screens.md).

The preview lists every past-due client invoice: the level that fires now (and its fee), or
why it is skipped (dispute hold, current plan, agency, pause). Nothing is written until ``a``
and a confirmation that says how many letters, levels and fees the run makes. Each level
fires once per invoice, so applying again right after finds nothing new to send and says so.
"""

from __future__ import annotations

import datetime as dt

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.markup import escape
from textual.widgets import DataTable, Input, Static

from billing import dunning
from billing.dunning import SKIP_TEXT, DunningPreview, PreviewRow, RunResult
from db.money import ZERO, fmt_money
from db.rights import Action
from db.timeutil import office_today
from screens.common.collections_bits import as_of_parser, money_cell, n_of, refused
from screens.common.time_view import InfoDialog
from tui.widgets.base import DbScreen
from tui.widgets.confirm import ConfirmDialog
from tui.widgets.footer import KeyFooter
from tui.widgets.forms import Field, Form
from tui.widgets.header import OfficeHeader

COLUMNS = (("Account", 8), ("Invoice", 10), ("Days", 4), ("Balance", 10), ("Lvl", 3), ("Fee", 6))
LISTED = 5  # accounts named one by one in the confirmation (it must fit 80×24)


def what_cell(r: PreviewRow) -> Text:
    if r.fires:
        return Text(f"send {r.channel.value}: {r.level_name}")
    return Text.assemble(("SKIP", "bold reverse"), f" {r.why}")


def summary(p: DunningPreview) -> Text:
    firing = p.firing
    accounts = len({r.client_id for r in firing})
    out = Text()
    out.append(f"Run as of {p.as_of.isoformat()}: ", "bold")
    if firing:
        out.append(
            f"{n_of(len(firing), 'invoice')} get a level, {n_of(accounts, 'letter')}, fees {fmt_money(p.fees)}"
        )
    else:
        out.append("nothing new to send", "bold")
    if p.skipped:
        out.append(f" · {len(p.skipped)} skipped (reason in the list)")
    return out


def confirm_text(p: DunningPreview) -> str:
    """What the run will do, short enough for a dialog at 80×24 (the list has every row)."""
    firing = p.firing
    by_account: dict[int, list[PreviewRow]] = {}
    for r in firing:
        by_account.setdefault(r.client_id, []).append(r)
    fees = sum(1 for r in firing if r.fee)
    fee_text = f"{n_of(fees, 'fee invoice')} for {fmt_money(p.fees)}" if fees else "no fees"
    lines = [
        f"As of {p.as_of.isoformat()} the run fires {n_of(len(firing), 'dunning level')} and writes "
        f"{n_of(len(by_account), 'letter')} (one per account), {fee_text}. Each level fires once per "
        "invoice: a repeated run does not send these again.",
        "",
    ]
    for n, rows in enumerate(by_account.values()):
        if n == LISTED:
            lines.append(f"… and {len(by_account) - LISTED} more accounts (all in the list)")
            break
        first = rows[0]
        items = ", ".join(f"{r.invoice_number} {fmt_money(r.balance)} L{r.level}" for r in rows)
        fee = sum((r.fee for r in rows), ZERO)
        lines.append(
            f"{first.account_number} {first.client_name}: {items}"
            + (f" + fee {fmt_money(fee)}" if fee else "")
        )
    if p.skipped:
        reasons: dict[str, list[str]] = {}
        for r in p.skipped:
            reasons.setdefault(SKIP_TEXT[r.skipped] if r.skipped else "", []).append(r.invoice_number)
        parts = [
            f"{len(nums)} {why} ({', '.join(nums[:3])}{' …' if len(nums) > 3 else ''})"
            for why, nums in reasons.items()
        ]
        lines += ["", f"Skipped {len(p.skipped)}, not touched: " + "; ".join(parts)]
    return "\n".join(lines)


def result_text(r: RunResult) -> Text:
    out = Text()
    if not r.fired:
        out.append("Nothing new to send: every level due was sent before.", "bold")
    else:
        out.append(
            f"Run #{r.run_id} as of {r.as_of.isoformat()}: {n_of(len(r.fired), 'level')} fired, {n_of(r.letters, 'letter')}.",
            "bold",
        )
        for e in r.fired[:40]:
            fee = f", fee invoice {e.fee_invoice_number}" if e.fee_invoice_number else ""
            out.append(f"\n  {e.invoice_number}: level {e.level}, {fmt_money(e.balance_dunned)} asked{fee}")
        if len(r.fired) > 40:
            out.append(f"\n  … and {len(r.fired) - 40} more")
    if r.fired:
        # The letters are printed from the command line for now (no viewer is opened over SSH).
        out.append(f"\n\nThe letters: clerkdesk dunning letters {r.run_id} [--pdf-dir FOLDER]")
    if r.skipped:
        out.append(f"\n\nSkipped {len(r.skipped)}:", "bold")
        for s in r.skipped[:20]:
            out.append(f"\n  {s.invoice_number} ({s.account_number}): {s.why}")
    return out


class DunningRunScreen(DbScreen):
    HELP_TITLE = "Dunning run"
    HELP = (
        "The preview of a dunning run: which invoice gets which level and fee, and which are "
        "skipped and why. Nothing is sent until a (apply) and your confirmation. Change the "
        "'as of' day with d; r computes the preview again."
    )
    BINDINGS = [
        Binding("a", "apply", "Apply run", id="dunning.apply", tooltip="Send the letters (asks first)"),
        Binding("r", "preview", "Preview", id="dunning.preview", tooltip="Compute the preview again"),
        Binding("d", "as_of", "As of", id="dunning.as_of", tooltip="Change the run's day"),
        Binding("escape", "back", "Back", id="dunning.back", tooltip="Back to the previous screen"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.as_of: dt.date | None = None
        self.preview: DunningPreview | None = None
        self._applying = False

    def compose(self) -> ComposeResult:
        today = office_today(self.cd_app.tz)
        self.as_of = today
        yield OfficeHeader(self.actor.name, self.actor.role.value, self.cd_app.tz)
        with Horizontal(id="dunning-bar"), Form():
            yield Field(
                "as_of",
                "Run as of",
                value=today.isoformat(),
                parse=as_of_parser(today),
                required=True,
                max_length=40,
            )
        yield Static("Computing the preview…", id="dunning-summary", classes="section-title")
        yield DataTable(id="dunning-rows", cursor_type="row", zebra_stripes=True)
        yield Static("", id="dunning-detail", classes="muted")
        yield KeyFooter()

    def on_mount(self) -> None:
        if refused(self, Action.DUNNING_RUN, "run dunning"):
            return
        t = self.query_one("#dunning-rows", DataTable)
        for name, width in COLUMNS:
            t.add_column(name, width=width)
        # The reason takes what is left of the width (the detail line below has it in full).
        t.add_column("What", width=max(20, self.size.width - 58))
        t.focus()
        self.reload()

    def reload(self) -> None:
        if not self.actor.can(Action.DUNNING_RUN):
            return  # the screen shows the refusal only
        day = self.as_of
        self.query_one("#dunning-summary", Static).update("Computing the preview…")
        self.db_call(lambda s: dunning.preview_run(self.actor, s, as_of=day), self.show, group="preview")

    def show(self, p: DunningPreview) -> None:
        self.preview = p
        t = self.query_one("#dunning-rows", DataTable)
        t.clear()
        # Firing rows first: that is what the run sends.
        for r in (*p.firing, *p.skipped):
            t.add_row(
                r.account_number,
                r.invoice_number,
                Text(str(r.days_overdue), justify="right"),
                money_cell(r.balance),
                str(r.level),
                money_cell(r.fee) if r.fee and r.fires else Text(""),
                what_cell(r),
                key=str(r.invoice_id),
            )
        self.query_one("#dunning-summary", Static).update(summary(p))
        self._detail()

    @on(DataTable.RowHighlighted, "#dunning-rows")
    def _highlighted(self) -> None:
        self._detail()

    def _detail(self) -> None:
        p = self.preview
        t = self.query_one("#dunning-rows", DataTable)
        box = self.query_one("#dunning-detail", Static)
        if p is None or not p.rows or t.row_count == 0:
            box.update(Text("No past-due client invoices on that day." if p is not None else ""))
            return
        rows = (*p.firing, *p.skipped)
        r = rows[min(max(t.cursor_row, 0), len(rows) - 1)]
        text = Text.assemble(
            (f"{r.client_name} ({r.account_number})", "bold"),
            f" · {r.invoice_number} due {r.due_date.isoformat()}, {r.days_overdue} days over · ",
            f"level {r.level} {r.level_name} by {r.channel.value}",
        )
        if not r.fires:
            text.append(" · skipped: ")
            text.append(r.why, "bold")
        box.update(text)

    @on(Input.Submitted, "#input-as_of")
    def _as_of_entered(self) -> None:
        values = self.query_one(Form).collect()
        if values is None:
            self.notify("The run's day needs fixing", severity="error")
            return
        self.as_of = values["as_of"]
        self.query_one("#dunning-rows", DataTable).focus()
        self.reload()

    def action_as_of(self) -> None:
        self.query_one("#input-as_of", Input).focus()

    def action_preview(self) -> None:
        self.reload()

    def action_apply(self) -> None:
        p = self.preview
        if p is None:
            self.notify("The preview is still being computed", severity="warning")
            return
        if self._applying:
            return
        if not p.firing:
            self.notify(
                escape(f"Nothing new to send as of {p.as_of.isoformat()}: every level due was sent before"),
                title="Dunning",
            )
            return
        day = p.as_of

        def decided(yes: bool | None) -> None:
            if not yes:
                return
            self._applying = True

            def failed(exc: BaseException) -> None:
                self._applying = False
                self.cd_app.show_error(exc)

            self.db_call(
                lambda s: dunning.apply_run(self.actor, s, as_of=day),
                self._applied,
                write=True,
                on_error=failed,
                group="apply",
            )

        self.app.push_screen(ConfirmDialog("Apply the dunning run?", confirm_text(p), "Send"), decided)

    def _applied(self, r: RunResult) -> None:
        self._applying = False
        title = f"Dunning run #{r.run_id}" if r.fired else "Dunning run: nothing new"
        self.app.push_screen(InfoDialog(title, result_text(r)))
        self.reload()
