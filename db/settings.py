"""Office-wide settings stored in the database (every terminal must agree on them)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from db.models import Setting

DEFAULTS: dict[str, Any] = {
    "office.name": "ClerkDesk Billing Office",
    "office.address": "",
    "office.phone": "",
    "office.timezone": "America/New_York",
    "office.currency": "USD",
    "office.currency_symbol": "$",
    "office.demo": False,  # a demo office's label only; grants nothing (--as: tui/demos.py)
    "office.payment_methods": "Check payable to the office; card or bank transfer by phone.",
    "office.opened": "2000-01-01",  # no money is dated before the office existed (ISO date)
    "billing.eligibility_max_age_days": 30,
    "billing.invoice_prefix": "INV-",
    "billing.credit_note_prefix": "CN-",
    "billing.account_prefix": "A",
    "billing.statement_terms_days": 30,  # due date of client statements (payers: their terms)
    "billing.plan_grace_days": 10,
    "billing.plan_default_after_missed": 2,
    "time.pay_period": "weekly",  # weekly | biweekly
    "time.period_start_weekday": 0,  # 0 = Monday
    "time.period_anchor": "2026-01-05",  # a first day of a biweekly period
    "time.grace_minutes": 5,
    "time.pay_rounding": 0,  # 0 (none), 5, 6 or 15 minutes
    "time.weekly_overtime_minutes": 2400,
    "time.daily_overtime_minutes": None,
    "schedule.min_rest_hours": 11,  # between the end of a shift and the next day's start
    "work.effort_minutes": {"bill": 15, "chase": 10, "verify": 8, "installment": 5, "dispute": 20},
    "work.bill_due_days": 7,  # a service should be billed within this many days
    "work.dispute_answer_days": 5,  # a client's dispute should be answered within this many days
    "work.promise_window_days": 30,  # a promise to pay broken longer ago no longer raises a chase
    "work.office_language": "en",  # clients speaking it need no language skill
}


def get_setting(session: Session, key: str) -> Any:
    row = session.get(Setting, key)
    if row is None:
        if key not in DEFAULTS:
            raise KeyError(key)
        return DEFAULTS[key]
    return row.value


def put_setting(session: Session, key: str, value: Any) -> None:
    """Low-level write. Services that let a person change a setting audit it themselves."""
    row = session.get(Setting, key)
    if row is None:
        session.add(Setting(key=key, value=value))
    else:
        row.value = value


def office_timezone(session: Session) -> str:
    return str(get_setting(session, "office.timezone"))


def is_demo(session: Session) -> bool:
    """Whether the office calls itself a demo. Anyone who can write the database can flip this,
    so it decides nothing about identity: `clerkdesk demo` only uses it to refuse building a demo
    over an office."""
    return bool(get_setting(session, "office.demo"))
