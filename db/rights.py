"""Who may do what: one table, role → actions. Services call ``require`` themselves."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from db.enums import Role
from db.errors import PermissionDenied


class Action(enum.StrEnum):
    # invoice work (clerks and supervisors)
    CLIENT_EDIT = "client.edit"
    COVERAGE_EDIT = "coverage.edit"
    ELIGIBILITY_RECORD = "eligibility.record"
    SERVICE_RECORD = "service.record"
    INVOICE_BUILD = "invoice.build"
    INVOICE_ISSUE = "invoice.issue"
    INVOICE_CREDIT = "invoice.credit"
    PAYMENT_POST = "payment.post"
    PLAN_CREATE = "plan.create"
    CONTACT_LOG = "contact.log"
    DISPUTE_OPEN = "dispute.open"
    WORK_FINISH = "work.finish"
    TIME_OWN = "time.own"  # clock in/out, submit own timecard, ask for time off
    VIEW = "view"
    # supervisors only
    CATALOG_EDIT = "catalog.edit"  # payers, codes, crosswalk, imports
    ELIGIBILITY_OVERRIDE = "eligibility.override"
    INVOICE_VOID = "invoice.void"
    WORK_ASSIGN = "work.assign"
    SCHEDULE_EDIT = "schedule.edit"
    TIMEOFF_DECIDE = "timeoff.decide"
    TIMECARD_SIGN = "timecard.sign"
    TIMECARD_UNLOCK = "timecard.unlock"
    CLOCK_CORRECT = "clock.correct"
    PAYROLL_EXPORT = "payroll.export"
    ADJUST = "adjust"  # waive, adjust
    WRITE_OFF = "write_off"
    PLAN_CANCEL = "plan.cancel"
    DISPUTE_DECIDE = "dispute.decide"
    DUNNING_RUN = "dunning.run"
    AGENCY_PLACE = "agency.place"
    STAFF_MANAGE = "staff.manage"
    DISCIPLINE_RECORD = "discipline.record"
    REPORTS_TEAM = "reports.team"
    SETTINGS_EDIT = "settings.edit"
    AUDIT_VIEW = "audit.view"


CLERK_ACTIONS: frozenset[Action] = frozenset(
    {
        Action.CLIENT_EDIT,
        Action.COVERAGE_EDIT,
        Action.ELIGIBILITY_RECORD,
        Action.SERVICE_RECORD,
        Action.INVOICE_BUILD,
        Action.INVOICE_ISSUE,
        Action.INVOICE_CREDIT,
        Action.PAYMENT_POST,
        Action.PLAN_CREATE,
        Action.CONTACT_LOG,
        Action.DISPUTE_OPEN,
        Action.WORK_FINISH,
        Action.TIME_OWN,
        Action.VIEW,
    }
)

RIGHTS: dict[Role, frozenset[Action]] = {
    Role.CLERK: CLERK_ACTIONS,
    # Supervisors may do everything; they record their own time like anyone else.
    Role.SUPERVISOR: frozenset(Action),
}

SUPERVISOR_ONLY: frozenset[Action] = RIGHTS[Role.SUPERVISOR] - RIGHTS[Role.CLERK]


@dataclass(frozen=True)
class Actor:
    """Who is acting. Built once at start-up from the Unix account (or ``--as`` on a demo)."""

    user_id: int
    login: str
    name: str
    role: Role
    team_id: int | None = None

    @property
    def is_supervisor(self) -> bool:
        return self.role == Role.SUPERVISOR

    def can(self, action: Action) -> bool:
        return action in RIGHTS[self.role]


# The pseudo-actor for migrations and first set-up (``clerkdesk user add`` on an empty office).
SYSTEM = Actor(user_id=0, login="system", name="System", role=Role.SUPERVISOR)


def require(actor: Actor, action: Action) -> None:
    if not actor.can(action):
        raise PermissionDenied(f"{actor.login} ({actor.role.value}) may not {describe(action)}")


def require_not_self(actor: Actor, owner_user_id: int | None, what: str) -> None:
    """Nobody approves their own work: sign own timecard, decide own dispute, …"""
    if owner_user_id is not None and owner_user_id == actor.user_id:
        raise PermissionDenied(f"{actor.login} may not {what} their own work")


_DESCRIPTIONS: dict[Action, str] = {
    Action.CATALOG_EDIT: "change payers or the code catalog",
    Action.ELIGIBILITY_OVERRIDE: "override an eligibility check",
    Action.INVOICE_VOID: "void an invoice",
    Action.WORK_ASSIGN: "assign work",
    Action.SCHEDULE_EDIT: "edit the schedule",
    Action.TIMEOFF_DECIDE: "decide time-off requests",
    Action.TIMECARD_SIGN: "sign timecards",
    Action.TIMECARD_UNLOCK: "unlock timecards",
    Action.CLOCK_CORRECT: "correct clock events",
    Action.PAYROLL_EXPORT: "export payroll",
    Action.ADJUST: "waive or adjust charges",
    Action.WRITE_OFF: "write off balances",
    Action.PLAN_CANCEL: "cancel payment plans",
    Action.DISPUTE_DECIDE: "decide disputes",
    Action.DUNNING_RUN: "run dunning",
    Action.AGENCY_PLACE: "place accounts with an agency",
    Action.STAFF_MANAGE: "manage staff",
    Action.DISCIPLINE_RECORD: "record discipline",
    Action.REPORTS_TEAM: "see team reports",
    Action.SETTINGS_EDIT: "change office settings",
    Action.AUDIT_VIEW: "read the audit log",
}


def describe(action: Action) -> str:
    return _DESCRIPTIONS.get(action, action.value.replace(".", " "))
