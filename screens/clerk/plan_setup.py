"""Set up a payment plan for a client's current balance (docs/payments.md).

The screen shows what would be financed (the open balance on the client's own bills, minus
items on dispute hold: ``billing.plans``' rules) or why no plan can be made. As the clerk types
the number of installments, the interval and the first due date, the schedule below shows
every installment's date and amount; the amounts always add up to the amount financed (the
remainder is on the last one). Saving asks first, showing the schedule the service would
make at that moment; then it offers to write the plan agreement (text and PDF) to a folder.
Esc closes and hands the caller the plan made (truthy) or None.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.markup import escape
from textual.screen import Screen
from textual.widgets import DataTable, Input, Select, Static

from billing import plans
from billing.payment_views import PlanContext, plan_context, schedule_problems
from db.enums import PlanInterval
from db.errors import ConflictError
from db.money import ZERO
from db.timeutil import office_today
from screens.clerk.payment_widgets import money
from screens.clerk.plan_view import AgreementDialog, written_message
from tui.widgets.base import FOCUS_BINDINGS
from tui.widgets.confirm import ConfirmDialog
from tui.widgets.dialogs import FormMixin
from tui.widgets.footer import KeyFooter
from tui.widgets.forms import ChoiceField, Field, Form, ParseError, parse_date, parse_int
from tui.widgets.header import OfficeHeader

INTERVALS = [
    ("Monthly", PlanInterval.MONTHLY.value),
    ("Every two weeks", PlanInterval.BIWEEKLY.value),
    ("Weekly", PlanInterval.WEEKLY.value),
]
DEFAULT_COUNT = 6
CONFIRM_LINES = 12  # a long schedule is shown as its first lines, "…", and the last one


def schedule_lines(schedule: tuple[plans.ScheduleLine, ...], symbol: str) -> list[str]:
    """The schedule as aligned text lines (≤ 68 columns), cut in the middle when long."""
    width = max(len(money(line.amount, symbol)) for line in schedule)
    total = sum((line.amount for line in schedule), ZERO)
    width = max(width, len(money(total, symbol)))
    shown = list(schedule)
    cut = len(shown) > CONFIRM_LINES
    if cut:
        shown = [*schedule[: CONFIRM_LINES - 2], schedule[-1]]
    out = []
    for line in shown:
        if cut and line is schedule[-1]:
            out.append(f"  {'…':>4}")
        out.append(f"  {line.seq:>4}  {line.due_date.isoformat()}  {money(line.amount, symbol):>{width}}")
    out.append(f"  {'':>4}  {'Total':<10}  {money(total, symbol):>{width}}")
    return out


class PlanSetupScreen(FormMixin[plans.PlanView], Screen[plans.PlanView | None]):
    HELP_TITLE = "Set up a payment plan"
    HELP = (
        "Finances the client's current open balance (items on dispute hold are left out). Type the "
        "number of installments, choose the interval and the first due date: the schedule below "
        "shows each installment as you type, and the amounts always add up to the amount financed "
        "(any remainder is on the last one). ctrl+s asks, then saves; then the agreement can be "
        "written as text and PDF (ctrl+t to write it again)."
    )
    BINDINGS = [
        *FOCUS_BINDINGS,  # a fast burst of keys and Tabs lands field by field
        Binding("ctrl+s", "save", "Create plan", id="plan_setup.save", tooltip="Confirm and create the plan"),
        Binding(
            "ctrl+t",
            "write_agreement",
            "Write agreement",
            id="plan_setup.agreement",
            tooltip="Write the plan agreement as text and PDF to a folder",
        ),
        Binding("escape", "close", "Close", id="plan_setup.close", tooltip="Back to the previous screen"),
    ]

    def __init__(self, client_id: int) -> None:
        super().__init__()
        self.client_id = client_id
        self.ctx: PlanContext | None = None
        self.created: plans.PlanView | None = None
        self.written: tuple[Path, Path] | None = None
        self.saving = False
        self.confirmed: plans.PlanPreview | None = None  # the schedule the clerk said yes to

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        today = office_today(self.cd_app.tz)
        yield OfficeHeader(self.actor.name, self.actor.role.value, self.cd_app.tz)
        yield Static(Text("Set up a payment plan", style="bold"), classes="title", id="plan-title")
        yield Static("…", id="plan-financed", classes="panel")
        yield self.problem_line()
        with Form(id="plan-form"):
            yield Field(
                "count",
                "Installments",
                value=str(DEFAULT_COUNT),
                parse=lambda t: parse_int(t, 1, plans.MAX_INSTALLMENTS),
                required=True,
            )
            yield ChoiceField(
                "interval", "Interval", INTERVALS, value=PlanInterval.MONTHLY.value, required=True
            )
            yield Field(
                "first_due",
                "First due date",
                value=plans.add_months(today, 1).isoformat(),
                parse=self._parse_first_due,
                required=True,
                placeholder="YYYY-MM-DD",
            )
        yield Static("", id="plan-summary")
        table: DataTable[str | Text] = DataTable(id="plan-schedule", cursor_type="row", zebra_stripes=True)
        table.tooltip = "The installments as they would be made"
        yield table
        yield KeyFooter()

    def _parse_first_due(self, text: str) -> dt.date:
        day = parse_date(text)
        today = self.ctx.today if self.ctx else office_today(self.cd_app.tz)
        if day < today:
            raise ParseError(f"is in the past (today is {today.isoformat()})")
        if day > today + dt.timedelta(days=plans.MAX_FIRST_DUE_DAYS):
            raise ParseError("is more than a year away")
        return day

    def on_mount(self) -> None:
        self.query_one("#plan-schedule", DataTable).add_columns("No.", "Due date", "Amount")
        self.query_one("#input-count", Input).focus()
        self.reload()

    def reload(self) -> None:
        cid = self.client_id
        self.db_call(lambda s: plan_context(self.actor, s, cid), self._context_loaded, group="ctx")

    def _context_loaded(self, ctx: PlanContext) -> None:
        self.ctx = ctx
        sym = ctx.symbol
        self.query_one("#plan-title", Static).update(
            Text(f"Set up a payment plan: {ctx.name} ({ctx.account_number})", style="bold")
        )
        text = Text()
        if self.created is not None:
            p = self.created
            text.append(f"Plan {p.number} created", style="bold reverse")
            text.append(
                f": {money(p.amount_financed, sym)} in {p.installment_count} "
                f"{plans.INTERVAL_WORDS[p.interval]} installments from {p.first_due.isoformat()}. "
                "ctrl+t writes the agreement; Esc goes back."
            )
            if self.written is not None:
                text.append(f"\nAgreement written: {self.written[0]} and {self.written[1].name}")
        else:
            text.append("Amount to finance: ", style="bold")
            text.append(money(ctx.financeable, sym), style="bold")
            text.append("  (the open balance on the client's own bills)")
            if ctx.disputed > 0:
                text.append(f"\nNot financed: {money(ctx.disputed, sym)} on dispute hold")
            if ctx.credit > 0:
                text.append(f"\nAccount credit: {money(ctx.credit, sym)}")
            if ctx.blocked:
                text.append("\nNO PLAN CAN BE MADE: ", style="bold reverse")
                text.append(ctx.blocked)
        self.query_one("#plan-financed", Static).update(text)
        self.update_preview()

    # ------------------------------------------------------------------ live preview

    def terms(self) -> tuple[int | None, str | None, dt.date | None, dict[str, str]]:
        """The terms as typed now, and why any is not acceptable (pure: no database)."""
        errors: dict[str, str] = {}
        out: list[Any] = []
        for name in ("count", "first_due"):
            field = self.query_one(f"#field-{name}", Field)
            try:
                out.append(field.value())
            except ValueError as e:
                errors[name] = str(e)
                out.append(None)
        interval = self.query_one("#input-interval", Select).value
        iv = interval if isinstance(interval, str) else None
        return out[0], iv, out[1], errors

    @on(Input.Changed, "#input-count, #input-first_due")
    @on(Select.Changed, "#input-interval")
    def _terms_changed(self, event: Any) -> None:
        self.update_preview()

    def update_preview(self) -> None:
        table = self.query_one("#plan-schedule", DataTable)
        summary = self.query_one("#plan-summary", Static)
        table.clear()
        ctx = self.ctx
        if ctx is None:
            return
        if self.created is not None:
            self._show_created(self.created, ctx.symbol)
            return
        count, interval, first_due, errors = self.terms()
        amount = ctx.financeable
        if ctx.blocked or amount <= 0:
            summary.update(Text("No schedule: " + (ctx.blocked or "nothing to finance"), style="italic"))
            return
        if count is not None and interval is not None and first_due is not None:
            errors.update(schedule_problems(count, interval, first_due, ctx.today, amount))
        if errors:
            labels = {"count": "Installments", "first_due": "First due date", "interval": "Interval"}
            summary.update(
                Text("No schedule yet: " + "; ".join(f"{labels.get(k, k)} {v}" for k, v in errors.items()))
            )
            return
        assert count is not None and interval is not None and first_due is not None
        schedule = plans.build_schedule(amount, count, PlanInterval(interval), first_due)
        sym = ctx.symbol
        for line in schedule:
            table.add_row(
                str(line.seq),
                line.due_date.isoformat(),
                Text(money(line.amount, sym), justify="right"),
                key=str(line.seq),
            )
        total = sum((line.amount for line in schedule), ZERO)
        summary.update(
            Text.assemble(
                (f"{count} {plans.INTERVAL_WORDS[PlanInterval(interval)]} installments", "bold"),
                f" from {first_due.isoformat()} to {schedule[-1].due_date.isoformat()}",
                f" · total {money(total, sym)} = amount financed",
            )
        )

    def _show_created(self, p: plans.PlanView, sym: str) -> None:
        table = self.query_one("#plan-schedule", DataTable)
        for i in p.installments:
            table.add_row(
                str(i.seq),
                i.due_date.isoformat(),
                Text(money(i.amount, sym), justify="right"),
                key=str(i.seq),
            )
        total = sum((i.amount for i in p.installments), ZERO)
        self.query_one("#plan-summary", Static).update(
            Text.assemble(
                (f"Plan {p.number}: ", "bold"),
                f"{p.installment_count} {plans.INTERVAL_WORDS[p.interval]} installments, "
                f"total {money(total, sym)} = amount financed",
            )
        )

    # ------------------------------------------------------------------ saving

    def action_save(self) -> None:
        if self.created is not None:
            self.notify(f"Plan {self.created.number} is made; Esc goes back", severity="warning")
            return
        if self.ctx is None:
            return
        if self.ctx.blocked:
            self.notify(escape(f"No plan can be made: {self.ctx.blocked}"), severity="error", timeout=10)
            return
        super().action_save()

    def check(self, values: dict[str, Any]) -> dict[str, str]:
        ctx = self.ctx
        assert ctx is not None  # action_save waits for it
        return schedule_problems(
            values["count"], values["interval"], values["first_due"], ctx.today, ctx.financeable
        )

    @staticmethod
    def _terms(values: dict[str, Any]) -> dict[str, Any]:
        return {
            "count": values["count"],
            "interval": PlanInterval(values["interval"]),
            "first_due": values["first_due"],
        }

    def before_save(self, values: dict[str, Any]) -> None:
        ctx = self.ctx
        assert ctx is not None
        cid = self.client_id
        terms = self._terms(values)

        def previewed(p: plans.PlanPreview) -> None:
            sym = ctx.symbol
            changed = ""
            if p.amount_financed != ctx.financeable:
                changed = (
                    f"\nThe balance changed since this screen opened (was {money(ctx.financeable, sym)})."
                )
            body = "\n".join(
                [
                    f"Finance {money(p.amount_financed, sym)} for {ctx.name} ({ctx.account_number}) in "
                    f"{terms['count']} {plans.INTERVAL_WORDS[terms['interval']]} installments, first due "
                    f"{terms['first_due'].isoformat()}.{changed}",
                    "",
                    *schedule_lines(p.schedule, sym),
                    "",
                    "Every payment the client makes goes to the installments in due-date order. "
                    f"An installment unpaid {ctx.grace_days} days after its due date is missed; after "
                    f"{ctx.default_after} missed installments the plan is in default.",
                ]
            )
            self.confirmed = p
            self.ask_then_save(ConfirmDialog("Create this payment plan?", body, "Create plan"), values)

        self.read_then(lambda s: plans.preview_plan(self.actor, s, client_id=cid, **terms), previewed)

    def save(self, session: Any, values: dict[str, Any]) -> plans.PlanView:
        cid = self.client_id
        terms = self._terms(values)
        sym = self.ctx.symbol if self.ctx else "$"
        # The plan must be exactly the one confirmed: if a payment moved the balance since,
        # nothing is saved and the clerk sees the new figures.
        now = plans.preview_plan(self.actor, session, client_id=cid, **terms)
        if self.confirmed is None or now.schedule != self.confirmed.schedule:
            raise ConflictError(
                f"the balance changed to {money(now.amount_financed, sym)} while you were confirming; "
                "nothing was saved: check the figures and save again"
            )
        return plans.create_plan(self.actor, session, client_id=cid, **terms)

    def failed(self, exc: BaseException) -> None:
        super().failed(exc)
        if isinstance(exc, ConflictError):
            self.reload()

    def saved(self, plan: plans.PlanView) -> None:
        self.created = plan
        self.notify(f"Plan {plan.number} created")
        self.reload()
        self.action_write_agreement()

    def action_write_agreement(self) -> None:
        if self.created is None:
            self.notify("Create the plan first (ctrl+s)", severity="warning")
            return

        def written(paths: tuple[Path, Path] | None) -> None:
            if paths:
                self.written = paths
                self.notify(escape(written_message(paths)), timeout=10)
                if self.ctx is not None:
                    self._context_loaded(self.ctx)

        self.app.push_screen(AgreementDialog(self.created.id, self.created.number), written)

    def action_close(self) -> None:
        if self.saving:
            self.notify("Saving… wait a moment", severity="warning")
            return
        self.dismiss(self.created)
