"""Demo daily assignment: today's clock-ins, so the supervisor can plan the day at once.

The time step stops at last midnight, so nobody has clocked in today and every clerk whose
shift has begun would count as absent (today's plan follows the clock: docs/assignment.md,
"Who is on shift"). This step
clocks in, through the real clock service and at their shift's start (a few minutes either
way), the clerks whose published shift today has begun by the time the demo is built, except
one: that clerk stays away, so the assignment screen shows an absence to rebalance. Shifts
that begin later stay "scheduled" and take work too. Work items are NOT generated here: the
supervisor does that (``clerkdesk assign generate`` or the assignment screen).
"""

from __future__ import annotations

import datetime as dt

import pendulum
import sqlalchemy as sa
from sqlalchemy.orm import Session

from db import timeutil
from db.errors import ClerkDeskError
from db.models import ClockKind, Shift, ShiftStatus
from scheduling import clock
from tui.demo.context import DemoContext
from tui.demo.staff import DEMO_CLERK


def build_assign(ctx: DemoContext) -> None:
    rng = ctx.rng_for("assign")
    started_now = timeutil.now()
    people = {a.user_id: a for a in ctx.clerks}
    todays = ctx.db.read(
        lambda s: [
            (sh.user_id, sh.starts_at)
            for sh in s.scalars(
                sa.select(Shift)
                .where(Shift.day == ctx.today, Shift.status == ShiftStatus.PUBLISHED)
                .order_by(Shift.starts_at, Shift.user_id)
            )
        ]
    )
    begun = [(uid, at) for uid, at in todays if at <= started_now and uid in people]
    away = [uid for uid, _ in begun if people[uid].login != DEMO_CLERK]
    absent = rng.choice(away) if len(away) > 1 else None
    saved = getattr(timeutil, "_frozen", None)
    try:
        for uid, starts in begun:
            if uid == absent:
                continue
            at = starts + dt.timedelta(minutes=rng.randint(-6, 4))
            if at > started_now:
                continue

            def go(s: Session, uid: int = uid, at: pendulum.DateTime = at) -> None:
                timeutil.freeze(at)
                try:
                    clock.punch(people[uid], s, ClockKind.IN)
                except ClerkDeskError:
                    pass  # already in (a forgotten clock-out): the clock says what it says

            ctx.db.write(go)
    finally:
        timeutil.freeze(saved)
