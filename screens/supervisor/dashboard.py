"""The supervisor's home, the day's console: the day's counters, who is on shift and how their
lists stand, and one inbox of every decision waiting for a supervisor.

Every counter and every inbox row opens the screen where it is acted on (Enter). Screens of
other areas are found through the go-to registry (tui/nav.py); when one is not there yet the
dashboard says so instead of failing.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.coordinate import Coordinate
from textual.markup import escape
from textual.screen import Screen
from textual.widgets import DataTable, Static

from reports.dashboard import Dashboard, InboxItem, OnShift, dashboard
from tui.nav import find_entry
from tui.widgets.base import DbScreen
from tui.widgets.footer import KeyFooter
from tui.widgets.header import OfficeHeader

ASSIGN = "screens.supervisor.assign"  # the daily assignment screen (assign…, assignment…)
COLLECT = ("screens.supervisor.aging_report", "screens.clerk.collections", "screens.supervisor.dunning")


@dataclass(frozen=True)
class Counter:
    key: str
    label: str
    opens: tuple[str, ...]  # module prefixes, the first one present wins
    alert: bool = False


COUNTERS: tuple[Counter, ...] = (
    Counter("clients_to_bill", "Clients to bill", (ASSIGN, "screens.clerk.client_search")),
    Counter("unbilled_services", "Unbilled services", (ASSIGN, "screens.clerk.client_search")),
    Counter("overdue_invoices", "Overdue invoices", (*COLLECT, "screens.clerk.client_search"), True),
    Counter("installments_due", "Installments due", (ASSIGN, *COLLECT, "screens.clerk.client_search")),
    Counter("items_unassigned", "Items unassigned", (ASSIGN,), True),
    Counter("items_open", "Items open", (ASSIGN,)),
    Counter("coverage_gaps", "Coverage gaps", ("screens.supervisor.schedule_grid",), True),
    Counter("timecards_to_sign", "Timecards to sign", ("screens.supervisor.timecards",), True),
    Counter("disputes_open", "Disputes open", ("screens.supervisor.dispute_queue",), True),
    Counter("time_off_pending", "Time-off requests", ("screens.supervisor.time_off_approval",), True),
    Counter("overrides_waiting", "Overrides waiting", (), True),  # decided per row of the inbox
    Counter("pending_approvals", "Approvals inbox", (), True),
)
COLUMNS = 3
INBOX_LABEL = {"timecard": "Timecard", "dispute": "Dispute", "time_off": "Time off", "override": "Override"}


def _value(d: Dashboard, key: str) -> int:
    if key == "coverage_gaps":
        return sum(g.short for g in d.coverage_gaps)
    return int(getattr(d, key))


def screen_in(module_prefix: str) -> Callable[[], Screen[None]] | None:
    """A screen that opens without arguments, from the go-to registry or else from its module;
    None when neither is there (an area not built yet)."""
    entry = find_entry(module_prefix)
    if entry is not None:
        return entry.factory()
    try:
        module = importlib.import_module(module_prefix)
    except ImportError:
        return None
    for _, cls in sorted(inspect.getmembers(module, inspect.isclass)):
        if (
            issubclass(cls, DbScreen)
            and cls.__module__ == module.__name__
            and all(p.default is not p.empty for p in inspect.signature(cls).parameters.values())
        ):
            return cls
    return None


def progress(p: OnShift) -> str:
    """Done of assigned, and the open ones: ``3/9 ·5`` (the rest were skipped)."""
    if not p.items_total:
        return "no list"
    return f"{p.items_done}/{p.items_total} ·{p.items_open}"


def minutes(m: int) -> str:
    h, mm = divmod(m, 60)
    return f"{h}:{mm:02d}"


class DashboardScreen(DbScreen):
    HELP_TITLE = "Dashboard"
    HELP = (
        "The day's console. Top: the day's counters; Enter on one opens the screen where it is "
        "acted on. Middle: everybody on shift today, their clock state (late only once they are "
        "in; before that 'not clocked in') and their list: done of assigned, open items and the "
        "minutes of work left against the minutes of shift left. Bottom: the approvals inbox, "
        "every decision waiting for a supervisor (timecards, disputes, time off, eligibility "
        "overrides), oldest first; Enter opens where it is decided. Tab or c / o / i move between "
        "the three. Figures refresh every minute and with ctrl+r."
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
        Binding(
            "c",
            "focus_panel('#dash-counters')",
            "Counters",
            id="dashboard.counters",
            tooltip="The day's counters",
        ),
        Binding(
            "o",
            "focus_panel('#on-shift')",
            "On shift",
            id="dashboard.on_shift",
            tooltip="Who is on shift today",
        ),
        Binding(
            "i", "focus_panel('#inbox')", "Inbox", id="dashboard.inbox", tooltip="Decisions waiting for you"
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.data: Dashboard | None = None

    def compose(self) -> ComposeResult:
        yield OfficeHeader(self.actor.name, self.actor.role.value, self.cd_app.tz)
        yield Static("Loading today's figures…", id="summary", classes="title")
        counters: DataTable[Text] = DataTable(id="dash-counters", cursor_type="cell", show_header=False)
        counters.tooltip = "Enter opens the screen where the counter is acted on"
        yield counters
        yield Static(Text("On shift today", style="bold"), classes="title")
        table: DataTable[str | Text] = DataTable(id="on-shift", cursor_type="row", zebra_stripes=True)
        yield table
        yield Static("", id="nobody", classes="muted")
        yield Static(Text("Approvals inbox", style="bold"), classes="title", id="inbox-title")
        inbox: DataTable[str | Text] = DataTable(id="inbox", cursor_type="row", zebra_stripes=True)
        inbox.tooltip = "Enter opens where the decision is taken"
        yield inbox
        yield Static("", id="inbox-empty", classes="muted")
        yield KeyFooter()

    def on_mount(self) -> None:
        c = self.query_one("#dash-counters", DataTable)
        for i in range(COLUMNS):
            c.add_column(f"c{i}", width=24, key=f"c{i}")
        t = self.query_one("#on-shift", DataTable)
        # Fixed widths: auto-sized columns race with rows arriving from the worker.
        # The shift comes last so clerk, state and list fit in 80 columns.
        for label, width in (
            ("Clerk", 16),
            ("Now", 34),
            ("Done/list", 9),
            ("Left/shift", 10),
            ("Shift", 13),
        ):
            t.add_column(label, width=width)
        t.tooltip = "Clerks with a published shift today; Enter opens the day's assignment"
        inbox = self.query_one("#inbox", DataTable)
        for label, width in (("Waiting", 9), ("Who", 26), ("What", 50), ("Since", 16)):
            inbox.add_column(label, width=width)
        c.focus()
        self.reload()
        self.set_interval(60, self.reload)

    def reload(self) -> None:
        self.db_call(lambda s: dashboard(self.actor, s), self.show)

    # ------------------------------------------------------------------ showing

    def show(self, d: Dashboard) -> None:
        self.data = d
        late, not_in = len(d.late_arrivals), len(d.not_clocked_in)
        self.query_one("#summary", Static).update(
            Text.assemble(
                (f"{d.today:%a %d %b}", "bold"),
                f"  ·  {len(d.on_shift)} on shift, {len(d.on_now)} in  ·  ",
                (f"{late} late", "bold reverse" if late else ""),
                "  ·  ",
                (f"{not_in} not in", "bold reverse" if not_in else ""),
                f"  ·  {d.pending_approvals} to decide",
            )
        )
        c = self.query_one("#dash-counters", DataTable)
        at = c.cursor_coordinate
        c.clear()
        cells = []
        for counter in COUNTERS:
            value = _value(d, counter.key)
            style = "bold reverse" if value and counter.alert else "bold"
            cells.append(Text.assemble(f"{counter.label}: ", (str(value), style)))
        for i in range(0, len(cells), COLUMNS):
            c.add_row(*cells[i : i + COLUMNS], key=f"r{i // COLUMNS}")
        c.cursor_coordinate = c.validate_cursor_coordinate(at)

        t = self.query_one("#on-shift", DataTable)
        row = t.cursor_row
        t.clear()
        for p in d.on_shift:
            state = Text(p.state, style="bold reverse" if p.not_in or p.late_minutes else "")
            left = Text(
                f"{minutes(p.minutes_left)}/{minutes(p.shift_minutes_left)}",
                style="bold reverse" if p.behind else "",
            )
            t.add_row(
                Text(p.name),
                state,
                progress(p),
                left if p.items_total else "",
                f"{p.shift_code} {p.starts}–{p.ends}",
                key=p.login,
            )
        if d.on_shift:
            t.move_cursor(row=min(row, len(d.on_shift) - 1))
        t.display = bool(d.on_shift)
        nobody = self.query_one("#nobody", Static)
        nobody.update("Nobody has a published shift today")
        nobody.display = not d.on_shift

        inbox = self.query_one("#inbox", DataTable)
        row = inbox.cursor_row
        inbox.clear()
        for n, item in enumerate(d.inbox):
            inbox.add_row(INBOX_LABEL[item.kind], Text(item.who), Text(item.what), item.since, key=str(n))
        if d.inbox:
            inbox.move_cursor(row=min(row, len(d.inbox) - 1))
        inbox.display = bool(d.inbox)
        empty = self.query_one("#inbox-empty", Static)
        empty.update("Nothing is waiting for you")
        empty.display = not d.inbox
        gaps = ", ".join(f"{g.shift_code} {g.published}/{g.required}" for g in d.coverage_gaps)
        self.query_one("#inbox-title", Static).update(
            Text.assemble(
                ("Approvals inbox", "bold"),
                f"  ({len(d.inbox)} shown, oldest first)",
                (f"  ·  coverage gaps today: {gaps}" if gaps else ""),
            )
        )

    # ------------------------------------------------------------------ opening things

    def _open(self, prefixes: tuple[str, ...], what: str) -> None:
        for prefix in prefixes:
            factory = screen_in(prefix)
            if factory is not None:
                self.app.push_screen(factory())
                return
        self.notify(escape(f"{what}: there is no screen for this in this version"), severity="warning")

    @on(DataTable.CellSelected, "#dash-counters")
    def _counter_chosen(self, event: DataTable.CellSelected) -> None:
        event.stop()
        self.open_counter(event.coordinate)

    def open_counter(self, at: Coordinate) -> None:
        index = at.row * COLUMNS + at.column
        if index >= len(COUNTERS):
            return
        counter = COUNTERS[index]
        if counter.key in ("overrides_waiting", "pending_approvals"):
            self._focus_inbox("override" if counter.key == "overrides_waiting" else None)
            return
        self._open(counter.opens, counter.label)

    def _focus_inbox(self, kind: str | None) -> None:
        inbox = self.query_one("#inbox", DataTable)
        if self.data is None or not self.data.inbox:
            self.notify("Nothing is waiting for you")
            return
        rows = [i for i, item in enumerate(self.data.inbox) if kind is None or item.kind == kind]
        if not rows:
            self.notify("Nothing of that kind is waiting")
            return
        self.set_focus(inbox)
        inbox.move_cursor(row=rows[0])

    @on(DataTable.RowSelected, "#on-shift")
    def _clerk_chosen(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self._open((ASSIGN,), "Today's assignment")

    @on(DataTable.RowSelected, "#inbox")
    def _inbox_chosen(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if self.data is None or not 0 <= event.cursor_row < len(self.data.inbox):
            return
        self.open_item(self.data.inbox[event.cursor_row])

    def open_item(self, item: InboxItem) -> None:
        if item.kind == "timecard" and item.period_start is not None:
            from screens.supervisor.timecards import CardScreen

            self.app.push_screen(CardScreen(item.ref, item.period_start))
        elif item.kind == "time_off":
            from screens.supervisor.time_off_approval import TimeOffApprovalScreen

            self.app.push_screen(TimeOffApprovalScreen())
        elif item.kind == "dispute":
            self._open(("screens.supervisor.dispute_queue",), "Disputes")
        elif item.kind == "override":
            from screens.supervisor.eligibility_override import EligibilityOverrideDialog

            problem = item.what.partition(": ")[2]
            self.app.push_screen(
                EligibilityOverrideDialog(item.ref, item.who + " — " + item.what.partition(":")[0], problem),
                lambda _result: self.reload(),
            )

    def on_screen_resume(self) -> None:
        if self.data is not None:
            self.reload()  # back from a decision: the counters and the inbox follow

    # ------------------------------------------------------------------ actions

    def action_focus_panel(self, selector: str) -> None:
        self.set_focus(self.query_one(selector))  # at once: the next key already goes there

    def action_goto_staff(self) -> None:
        from screens.supervisor.staff import StaffScreen

        self.app.push_screen(StaffScreen())

    def action_goto_audit(self) -> None:
        from screens.common.audit_log import AuditLogScreen

        self.app.push_screen(AuditLogScreen())

    def action_goto_timecards(self) -> None:
        from screens.supervisor.timecards import TimecardsScreen

        self.app.push_screen(TimecardsScreen())
