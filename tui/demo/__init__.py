"""The demo office: deterministic from a seed, built through the same services the app uses.

Each area adds its own step module here (staff, billing, schedule, time, …); a step gets the
shared ``DemoContext`` and writes through services in short transactions, so the audit chain
is valid and every rule holds. "Today" is the office's today when the demo is built.
"""

from __future__ import annotations

from collections.abc import Callable

from db.engine import Database
from tui.demo.billing import build_billing
from tui.demo.collections import build_collections
from tui.demo.context import DemoContext
from tui.demo.payments import build_payments
from tui.demo.schedule import build_schedule
from tui.demo.staff import DEMO_CLERK, DEMO_SUPERVISOR, build_staff
from tui.demo.time import build_time

__all__ = ["DEMO_CLERK", "DEMO_SUPERVISOR", "DemoContext", "build_demo"]

Step = Callable[[DemoContext], None]


def steps() -> list[Step]:
    """The build order. Later steps use what earlier ones made (staff before clients, …)."""
    # build_payments pays the billing history: it must stay after the billing step;
    # build_collections needs what the payments left overdue.
    return [build_staff, build_billing, build_schedule, build_time, build_payments, build_collections]


def build_demo(db: Database, seed: int = 1) -> DemoContext:
    ctx = DemoContext.start(db, seed)
    for step in steps():
        step(ctx)
    return ctx
