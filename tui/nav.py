"""Where a person can go: one registry for the go-to menu (``g``) and the command palette.

Each area registers its screens here with the right that opening them needs, so a clerk
never sees a supervisor's screen in any menu (the services refuse them anyway).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from textual.screen import Screen

from db.rights import Action, Actor


@dataclass(frozen=True)
class NavEntry:
    key: str  # single letter in the go-to menu
    title: str
    help: str
    target: str  # "module:Class" of the screen, imported when opened
    action: Action  # the right needed to open it
    roles: tuple[str, ...] = ("supervisor", "clerk")

    def visible_to(self, actor: Actor) -> bool:
        return actor.role.value in self.roles and actor.can(self.action)

    def factory(self) -> Callable[[], Screen[None]]:
        module, cls = self.target.split(":")
        return getattr(importlib.import_module(module), cls)


NAV: list[NavEntry] = [
    NavEntry(
        "d",
        "Dashboard",
        "Who is on shift, open work, pending approvals",
        "screens.supervisor.dashboard:DashboardScreen",
        Action.REPORTS_TEAM,
        ("supervisor",),
    ),
    NavEntry(
        "m", "My day", "Today's shift, my list, my time", "screens.clerk.my_day:MyDayScreen", Action.VIEW
    ),
    NavEntry(
        "s",
        "Staff",
        "Hire, edit and deactivate clerks",
        "screens.supervisor.staff:StaffScreen",
        Action.STAFF_MANAGE,
        ("supervisor",),
    ),
    NavEntry(
        "a",
        "Audit log",
        "Every change, who and when; filterable",
        "screens.common.audit_log:AuditLogScreen",
        Action.AUDIT_VIEW,
        ("supervisor",),
    ),
    NavEntry(
        "p",
        "Post payment",
        "A client's or payer's payment, oldest first or to an invoice",
        "screens.clerk.payment_post:PaymentPostScreen",
        Action.PAYMENT_POST,
    ),
    NavEntry(
        "b",
        "Batch posting",
        "A stack of checks against a control total and count",
        "screens.clerk.batch_post:BatchPostScreen",
        Action.PAYMENT_POST,
    ),
    NavEntry(
        "c",
        "Clients",
        "Find a client by name, account, phone or member id; register",
        "screens.clerk.client_search:ClientSearchScreen",
        Action.VIEW,
    ),
    NavEntry(
        "e",
        "Schedule",
        "The roster grid: edit by keyboard, build, publish",
        "screens.supervisor.schedule_grid:ScheduleGridScreen",
        Action.SCHEDULE_EDIT,
        ("supervisor",),
    ),
    NavEntry(
        "f",
        "Time-off requests",
        "Approve or decline the clerks' requests",
        "screens.supervisor.time_off_approval:TimeOffApprovalScreen",
        Action.TIMEOFF_DECIDE,
        ("supervisor",),
    ),
    NavEntry(
        "u",
        "Schedule set-up",
        "Shift types, coverage wanted, roster rules, holidays",
        "screens.supervisor.schedule_setup:ScheduleSetupScreen",
        Action.SCHEDULE_EDIT,
        ("supervisor",),
    ),
    NavEntry(
        "y",
        "My schedule",
        "My published shifts this week and the next few",
        "screens.clerk.my_schedule:MyScheduleScreen",
        Action.VIEW,
        ("clerk",),
    ),
    NavEntry(
        "o",
        "My time off",
        "Ask for days off; see and cancel my requests",
        "screens.clerk.time_off_request:TimeOffRequestScreen",
        Action.TIME_OWN,
        ("clerk",),
    ),
    NavEntry(
        "t",
        "Timecards",
        "Sign, send back or unlock timecards; correct clock events",
        "screens.supervisor.timecards:TimecardsScreen",
        Action.TIMECARD_SIGN,
        ("supervisor",),
    ),
    NavEntry(
        "x",
        "Payroll export",
        "A period's signed timecards to a CSV file",
        "screens.supervisor.payroll_export:PayrollExportScreen",
        Action.PAYROLL_EXPORT,
        ("supervisor",),
    ),
    NavEntry(
        "i",
        "Attendance & discipline",
        "Incidents, discipline records, suggestions from the rules",
        "screens.supervisor.discipline:DisciplineScreen",
        Action.DISCIPLINE_RECORD,
        ("supervisor",),
    ),
    NavEntry(
        "h",
        "My timecard",
        "My hours this pay period; submit the card",
        "screens.clerk.my_timecard:MyTimecardScreen",
        Action.TIME_OWN,
    ),
    NavEntry(
        "n",
        "My records",
        "Discipline notes and warnings about me; acknowledge them",
        "screens.clerk.my_records:MyRecordsScreen",
        Action.VIEW,
        ("clerk",),
    ),
    NavEntry(
        "r",
        "Reports",
        "Output per clerk by day, week, month; trends, rows behind, exports",
        "screens.supervisor.reports:ReportsScreen",
        Action.REPORTS_TEAM,
        ("supervisor",),
    ),
    NavEntry(
        "l",
        "Collections worklist",
        "Overdue accounts by priority: promises, contacts, disputes",
        "screens.clerk.collections_worklist:CollectionsWorklistScreen",
        Action.CONTACT_LOG,
    ),
    NavEntry(
        "k",
        "Aging report",
        "What is owed by days past due, as of a day; drill down to invoices",
        "screens.supervisor.aging_report:AgingReportScreen",
        Action.REPORTS_TEAM,
        ("supervisor",),
    ),
    NavEntry(
        "v",
        "My output",
        "My figures by day, week, month and the records behind them",
        "screens.clerk.my_output:MyOutputScreen",
        Action.VIEW,
        ("clerk",),
    ),
    NavEntry(
        "w",
        "Assignment",
        "Today's work items: auto-assign, assign by key, rebalance, publish",
        "screens.supervisor.assignment:AssignmentScreen",
        Action.WORK_ASSIGN,
        ("supervisor",),
    ),
    NavEntry(
        "w",  # the supervisor's w is the assignment screen: one list of work per role
        "My work list",
        "Today's published items in priority order; finish each with an outcome",
        "screens.clerk.my_list:MyListScreen",
        Action.WORK_FINISH,
        ("clerk",),
    ),
    NavEntry(
        "j",
        "Dunning run",
        "Preview the reminder letters and fees, then send them",
        "screens.supervisor.dunning_run:DunningRunScreen",
        Action.DUNNING_RUN,
        ("supervisor",),
    ),
    NavEntry(
        "v",
        "Agency placements",
        "Collection agencies: place, agency payments, recall, placement file",
        "screens.supervisor.agency_placements:AgencyPlacementsScreen",
        Action.AGENCY_PLACE,
        ("supervisor",),
    ),
    NavEntry(
        "q",
        "Dispute queue",
        "Open disputes with the client's history; waive, confirm or correct",
        "screens.supervisor.dispute_queue:DisputeQueueScreen",
        Action.DISPUTE_DECIDE,
        ("supervisor",),
    ),
]


def register(entry: NavEntry) -> None:
    """Areas add their screens (kept in key order; a duplicate key is a programming error)."""
    if any(e.key == entry.key for e in NAV):
        raise ValueError(f"go-to key {entry.key!r} already used")
    NAV.append(entry)


def entries_for(actor: Actor) -> list[NavEntry]:
    return [e for e in NAV if e.visible_to(actor)]


def find_entry(module_prefix: str) -> NavEntry | None:
    """The go-to entry whose screen lives in a module starting with ``module_prefix`` (a screen
    another area may or may not have registered yet: callers degrade when it is missing)."""
    return next((e for e in NAV if e.target.split(":")[0].startswith(module_prefix)), None)
