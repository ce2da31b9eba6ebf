"""The supervisor's home: who is on shift today, open work, late arrivals, pending approvals."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import DataTable, Footer, Static

from reports.dashboard import Dashboard, dashboard
from tui.base import DbScreen
from tui.widgets.header import OfficeHeader

FIGURES = [
    ("clients_to_bill", "Clients to bill"),
    ("unbilled_services", "Unbilled services"),
    ("overdue_invoices", "Overdue invoices"),
    ("installments_due", "Installments due"),
    ("items_unassigned", "Work items unassigned"),
    ("items_open", "Work items open"),
    ("timecards_to_sign", "Timecards to sign"),
    ("disputes_open", "Disputes open"),
    ("time_off_pending", "Time-off requests"),
]
ALERT = {"items_unassigned", "timecards_to_sign", "disputes_open", "time_off_pending", "overdue_invoices"}


class DashboardScreen(DbScreen):
    HELP_TITLE = "Dashboard"
    HELP = (
        "Today at a glance. Figures refresh every minute and with ctrl+r. "
        "Use g to go to another screen, ctrl+p for every action."
    )
    BINDINGS = [
        Binding("s", "goto_staff", "Staff", id="dashboard.staff", tooltip="Hire, edit, deactivate clerks"),
        Binding("a", "goto_audit", "Audit log", id="dashboard.audit", tooltip="Every change, who and when"),
        Binding(
            "t",
            "goto_timecards",
            "Timecards",
            id="dashboard.timecards",
            tooltip="Timecards waiting for your signature",
        ),
    ]

    def compose(self) -> ComposeResult:
        yield OfficeHeader(self.actor.name, self.actor.role.value, self.cd_app.tz)
        with VerticalScroll():
            yield Static("Loading today's figures…", id="summary", classes="title")
            with Vertical(classes="figures", id="figures"):
                for key, label in FIGURES:
                    yield Static(Text(f"{label}: …"), id=f"fig-{key}", classes="figure")
            yield Static(Text("On shift today", style="bold"), classes="title")
            table: DataTable[str | Text] = DataTable(id="on-shift", cursor_type="row", zebra_stripes=True)
            yield table
            yield Static("", id="nobody", classes="muted")
        yield Footer()

    def on_mount(self) -> None:
        t = self.query_one("#on-shift", DataTable)
        # Fixed widths: auto-sized columns race with rows arriving from the worker.
        for label, width in (
            ("Clerk", 22),
            ("Shift", 5),
            ("Hours", 11),
            ("Clocked in", 10),
            ("Late", 8),
            ("List done", 9),
        ):
            t.add_column(label, width=width)
        t.tooltip = "Clerks with a published shift today"
        self.reload()
        self.set_interval(60, self.reload)

    def reload(self) -> None:
        self.db_call(lambda s: dashboard(self.actor, s), self.show)

    def show(self, d: Dashboard) -> None:
        late = len(d.late_arrivals)
        self.query_one("#summary", Static).update(
            Text.assemble(
                (f"{d.office_time}", "bold"),
                f"  ·  {len(d.on_shift)} on shift  ·  ",
                (f"{late} late", "bold reverse" if late else ""),
                f"  ·  {d.pending_approvals} pending approvals  ·  {d.items_done} items done",
            )
        )
        for key, label in FIGURES:
            value = getattr(d, key)
            w = self.query_one(f"#fig-{key}", Static)
            w.update(Text.assemble(f"{label}: ", (str(value), "bold")))
            w.set_class(bool(value) and key in ALERT, "-alert")
        t = self.query_one("#on-shift", DataTable)
        t.clear()
        for p in d.on_shift:
            late_text = Text(f"{p.late_minutes} min", style="bold reverse") if p.late_minutes else Text("")
            done = f"{p.items_done}/{p.items_total}" if p.items_total else "no list"
            t.add_row(
                Text(p.name), p.shift_code, f"{p.starts}–{p.ends}", p.clocked_in_at or "—", late_text, done
            )
        t.display = bool(d.on_shift)
        self.query_one("#nobody", Static).update("" if d.on_shift else "Nobody has a published shift today")

    def action_goto_staff(self) -> None:
        from screens.supervisor.staff import StaffScreen

        self.app.push_screen(StaffScreen())

    def action_goto_audit(self) -> None:
        from screens.common.audit_log import AuditLogScreen

        self.app.push_screen(AuditLogScreen())

    def action_goto_timecards(self) -> None:
        from screens.supervisor.timecards import TimecardsScreen

        self.app.push_screen(TimecardsScreen())
