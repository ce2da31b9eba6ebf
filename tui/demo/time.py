"""Demo time and attendance: clock events, timecards in every state, incidents, discipline.

Runs after the schedule step, which publishes last week, this week and next week. Earlier pay
periods have no schedule, so this step builds and publishes them through the schedule
services. Everything happens before today's local midnight (the demo depends on the seed and
the day, not on the hour it is built). Then it replays the weeks day by day through the real services, with the
program clock frozen at each event's instant (``db.timeutil.freeze``) and restored after:

* clock events for every published shift up to now: mostly on time with a 30-minute lunch,
  some lateness, a few absences, overtime for two clerks, a forgotten clock-out added by the
  supervisor, an early leave;
* attendance incidents recorded by the nightly job (23:55) for each day;
* the period before last: submitted, signed (clean cards in one go, the others one by one),
  one card unlocked, corrected and signed again (two chained signatures), exported to payroll,
  one card submitted late and signed after the export (still ``signed``);
* last period: most cards submitted, clean ones signed, the rest waiting for a signature, one
  sent back to the clerk (``open`` with the reason), two not submitted yet;
* default discipline rules, a verbal note (acknowledged) and a coaching record; one clerk with
  three lates and one with two absences are left for the supervisor as suggestions.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pendulum
import sqlalchemy as sa
from sqlalchemy.orm import Session

from db import timeutil
from db.models import (
    ClockEvent,
    ClockKind,
    IncidentKind,
    RequestStatus,
    Shift,
    ShiftStatus,
    Timecard,
    TimecardStatus,
    TimeOffRequest,
)
from db.rights import Actor
from scheduling import attendance, clock, payroll, rostering, shifts, timecards
from scheduling.periods import Period, period_for
from scheduling.roster import SolveStatus
from tui.demo.context import DemoContext

LUNCH_MINUTES = 30


@dataclass(order=True)
class _Act:
    at: pendulum.DateTime
    seq: int
    fn: Callable[[Session], object]


@dataclass(frozen=True)
class _Shift:
    id: int
    user_id: int
    day: dt.date
    starts_at: pendulum.DateTime
    ends_at: pendulum.DateTime


def _local(day: dt.date, hh: int, mm: int, tz: str) -> pendulum.DateTime:
    return timeutil.local_instant(day, dt.time(hh, mm), tz).in_timezone("UTC")


def _ensure_schedule(ctx: DemoContext, period: Period) -> None:
    """Publish a roster for ``period`` when it has none (the schedule step covers later weeks)."""

    def has(s: Session) -> bool:
        return bool(
            s.scalar(
                sa.select(sa.func.count())
                .select_from(Shift)
                .where(
                    Shift.day >= period.start, Shift.day <= period.end, Shift.status == ShiftStatus.PUBLISHED
                )
            )
        )

    if ctx.db.read(has):
        return
    result = ctx.write(
        ctx.supervisor,
        lambda a, s: rostering.build_roster(
            a, s, period.start, period.end, time_limit=5.0, workers=1, seed=ctx.seed, deterministic=True
        ),
    )
    if result.status not in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE):
        raise RuntimeError(f"demo roster for {period.start} failed: {result.status.value}")
    ctx.write(ctx.supervisor, lambda a, s: shifts.publish(a, s, period.start, period.end))


def build_time(ctx: DemoContext) -> None:
    rng = ctx.rng_for("time")
    tz = ctx.tz
    p0 = ctx.db.read(lambda s: period_for(s, ctx.today))
    # Everything happens before today's local midnight, so the demo depends on the seed and the
    # day only, never on the hour it is built. The two periods with a finished workflow are the
    # last two; on a period's first day the one that ended last night is still open (nobody
    # has submitted yet), so they are one period further back.
    last = p0.previous() if ctx.today > p0.start else p0.previous().previous()
    before = last.previous()
    p = before
    while p.start < p0.start:
        _ensure_schedule(ctx, p)
        p = p.next()
    cutoff = _local(ctx.today, 0, 0, tz)
    # Restore exactly what was there: a test may have frozen the clock before building the demo.
    saved = getattr(timeutil, "_frozen", None)
    try:
        _replay(ctx, rng, tz, before, last, cutoff)
    finally:
        timeutil.freeze(saved)


def _replay(
    ctx: DemoContext,
    rng: random.Random,
    tz: str,
    p2: Period,
    p1: Period,
    cutoff: pendulum.DateTime,
) -> None:
    """Replay ``p2`` (the period before last) and ``p1`` (the last) up to ``cutoff``."""
    people: dict[int, Actor] = {a.user_id: a for a in ctx.clerks + ctx.supervisors}
    lead_of_team = {a.team_id: a for a in ctx.supervisors}
    sup = ctx.supervisor
    other_sup = ctx.supervisors[1] if len(ctx.supervisors) > 1 else sup

    def lead(uid: int) -> Actor:
        lead_ = lead_of_team.get(people[uid].team_id, sup)
        return other_sup if lead_.user_id == uid else lead_

    def load(s: Session) -> tuple[list[_Shift], set[tuple[int, dt.date]]]:
        rows = [
            _Shift(sh.id, sh.user_id, sh.day, sh.starts_at, sh.ends_at)
            for sh in s.scalars(
                sa.select(Shift)
                .where(Shift.day >= p2.start, Shift.day < ctx.today, Shift.status == ShiftStatus.PUBLISHED)
                .order_by(Shift.day, Shift.starts_at, Shift.user_id)
            )
        ]
        off: set[tuple[int, dt.date]] = set()
        for r in s.scalars(sa.select(TimeOffRequest).where(TimeOffRequest.status == RequestStatus.APPROVED)):
            d = r.start_date
            while d <= r.end_date:
                off.add((r.user_id, d))
                d += dt.timedelta(days=1)
        return rows, off

    all_shifts, time_off = ctx.db.read(load)
    worked = [sh for sh in all_shifts if sh.user_id in people and (sh.user_id, sh.day) not in time_off]
    by_user: dict[int, dict[Period, list[_Shift]]] = defaultdict(lambda: defaultdict(list))
    for sh in worked:
        for p in (p2, p1):
            if p.contains(sh.day):
                by_user[sh.user_id][p].append(sh)

    # Who plays which part (deterministic from the seed).
    steady = sorted(uid for uid in by_user if len(by_user[uid][p2]) >= 4 and len(by_user[uid][p1]) >= 4)
    full = [uid for uid in steady if len(by_user[uid][p2]) >= 5 and len(by_user[uid][p1]) >= 5]
    overtime = rng.sample(full, min(2, len(full)))
    rest = [uid for uid in steady if uid not in overtime]
    roles = dict(
        zip(
            ["absent2", "absent1", "late3", "late1", "forgot", "early", "unlock", "tardy"],
            rng.sample(rest, min(8, len(rest))),
            strict=False,
        )
    )

    plan: dict[int, dict[str, Any]] = defaultdict(dict)  # shift id → {"late": m, "absent": True, ...}
    if "absent2" in roles:
        u = roles["absent2"]
        plan[rng.choice(by_user[u][p2]).id]["absent"] = True
        plan[rng.choice(by_user[u][p1]).id]["absent"] = True
    if "absent1" in roles:
        plan[rng.choice(by_user[roles["absent1"]][p1]).id]["absent"] = True
    if "late3" in roles:
        u = roles["late3"]
        picks = [rng.choice(by_user[u][p2]), *rng.sample(by_user[u][p1], 2)]
        for sh in picks:
            plan[sh.id]["late"] = rng.randint(9, 22)
    if "late1" in roles:
        plan[rng.choice(by_user[roles["late1"]][p2]).id]["late"] = rng.randint(8, 15)
    if "early" in roles:
        plan[rng.choice(by_user[roles["early"]][p2]).id]["early"] = 45
    if "forgot" in roles:
        # Monday to Thursday of last period, so the supervisor's fix next morning is in the past.
        choices = [sh for sh in by_user[roles["forgot"]][p1] if sh.day.weekday() < 4]
        if choices:
            plan[rng.choice(choices).id]["forgot"] = True
    for u in overtime:
        for p in (p2, p1):
            for sh in rng.sample(by_user[u][p], 3):
                plan[sh.id]["stay"] = rng.randint(70, 110)

    acts: list[_Act] = []
    seq = iter(range(10**9))

    def act(at: pendulum.DateTime, fn: Callable[[Session], object]) -> None:
        if at <= cutoff:
            acts.append(_Act(at, next(seq), fn))

    def punch(uid: int, kind: ClockKind) -> Callable[[Session], object]:
        return lambda s: clock.punch(people[uid], s, kind)

    # --- clock events
    for sh in worked:
        marks = plan.get(sh.id, {})
        if marks.get("absent"):
            continue
        start = sh.starts_at.add(minutes=-rng.randint(1, 8), seconds=rng.randint(0, 59))
        if marks.get("late"):
            start = sh.starts_at.add(minutes=marks["late"], seconds=rng.randint(0, 59))
        elif rng.random() < 0.05:
            start = sh.starts_at.add(minutes=rng.randint(1, 4), seconds=rng.randint(0, 59))
        if start > cutoff:
            continue
        act(start, punch(sh.user_id, ClockKind.IN))
        length = (sh.ends_at - sh.starts_at).total_seconds() / 60
        if length >= 360:
            b0 = sh.starts_at.add(
                minutes=int(length // 2) - 30 + rng.randint(-20, 20), seconds=rng.randint(0, 59)
            )
            b1 = b0.add(minutes=LUNCH_MINUTES + rng.randint(0, 4), seconds=rng.randint(0, 59))
            if b0 <= cutoff:
                act(b0, punch(sh.user_id, ClockKind.BREAK_START))
                if b1 <= cutoff:
                    act(b1, punch(sh.user_id, ClockKind.BREAK_END))
                else:
                    continue  # on lunch at the cutoff
        end = sh.ends_at.add(minutes=rng.randint(0, 6), seconds=rng.randint(0, 59))
        if marks.get("stay"):
            end = sh.ends_at.add(minutes=marks["stay"], seconds=rng.randint(0, 59))
        if marks.get("early"):
            end = sh.ends_at.add(minutes=-marks["early"])
        if marks.get("forgot"):
            uid, left = sh.user_id, sh.ends_at.add(minutes=4)
            fix_at = _local(sh.day + dt.timedelta(days=1), 6, 40, tz)
            act(
                fix_at,
                lambda s, uid=uid, left=left: clock.add_clock_event(
                    lead(uid),
                    s,
                    uid,
                    ClockKind.OUT,
                    left,
                    "forgot to clock out; left at end of shift (door log)",
                ),
            )
            continue
        act(end, punch(sh.user_id, ClockKind.OUT))

    # --- attendance: the nightly job records each day after its last shift
    act(_local(p2.start, 6, 0, tz), lambda s: attendance.ensure_default_rules(sup, s))
    d = p2.start
    while d < ctx.today:
        act(_local(d, 23, 55, tz), lambda s, d=d: attendance.record_incidents(sup, s, d))
        d += dt.timedelta(days=1)

    # --- workflow of the period before last (during last period)
    def card_ids(s: Session, period: Period, status: TimecardStatus, users: set[int]) -> list[int]:
        return list(
            s.scalars(
                sa.select(Timecard.id).where(
                    Timecard.period_start == period.start,
                    Timecard.status == status,
                    Timecard.user_id.in_(users),
                )
            )
        )

    def submit(uid: int, period: Period, note: str = "") -> Callable[[Session], object]:
        return lambda s: timecards.submit_timecard(people[uid], s, period.start, note)

    def sign_team(lead_: Actor, period: Period, each: bool) -> Callable[[Session], object]:
        def go(s: Session) -> None:
            team = {uid for uid in people if lead(uid).user_id == lead_.user_id}
            ids = card_ids(s, period, TimecardStatus.SUBMITTED, team)
            if each:
                for cid in ids:
                    timecards.sign_timecard(lead_, s, cid)
            else:
                timecards.sign_many(lead_, s, ids)

        return go

    p2_people = sorted(uid for uid in by_user if by_user[uid][p2])
    mon1 = p1.start
    tardy = roles.get("tardy")
    for i, uid in enumerate(p2_people):
        if uid != tardy:
            at = _local(mon1, 8, 5, tz).add(minutes=7 * i)
            act(at, submit(uid, p2, rng.choice(["", "", "", "all as scheduled", "see Thursday's note"])))
    for lead_ in ctx.supervisors:
        act(_local(mon1, 13, 0, tz), sign_team(lead_, p2, each=False))  # the clean ones in one go
        act(_local(mon1, 15, 0, tz), sign_team(lead_, p2, each=True))  # the others after review
    if "unlock" in roles:
        u = roles["unlock"]

        def unlock(s: Session, u: int = u) -> None:
            card = s.scalars(
                sa.select(Timecard).where(Timecard.user_id == u, Timecard.period_start == p2.start)
            ).one()
            timecards.unlock_timecard(
                lead(u), s, card.id, "last clock-out of the week was wrong (month-end batch)"
            )
            last_out = s.scalars(
                sa.select(ClockEvent)
                .where(
                    ClockEvent.user_id == u,
                    ClockEvent.kind == ClockKind.OUT,
                    ClockEvent.voided.is_(False),
                    ClockEvent.at < p2.end_instant(tz),
                )
                .order_by(ClockEvent.at.desc())
                .limit(1)
            ).one()
            clock.correct_clock_event(
                lead(u),
                s,
                last_out.id,
                at=last_out.at.add(minutes=35),
                reason="stayed to finish the month-end batch",
            )

        act(_local(mon1 + dt.timedelta(days=1), 10, 0, tz), unlock)
        other = other_sup if lead(u).user_id == sup.user_id else sup
        act(
            _local(mon1 + dt.timedelta(days=1), 10, 20, tz),
            lambda s, u=u, other=other: [
                timecards.sign_timecard(other, s, cid)
                for cid in card_ids(s, p2, TimecardStatus.SUBMITTED, {u})
            ],
        )
    if tardy is not None:
        act(_local(mon1 + dt.timedelta(days=1), 11, 0, tz), submit(tardy, p2, "sorry, I was out on Monday"))
    act(
        _local(mon1 + dt.timedelta(days=1), 14, 0, tz),
        lambda s: payroll.export_payroll(sup, s, p2.start, signed_only=True),
    )
    if tardy is not None:
        act(
            _local(mon1 + dt.timedelta(days=2), 10, 0, tz),
            lambda s: [
                timecards.sign_timecard(lead(tardy), s, cid)
                for cid in card_ids(s, p2, TimecardStatus.SUBMITTED, {tardy})
            ],
        )

    # --- discipline during last period
    if "late1" in roles:
        u = roles["late1"]

        def verbal(s: Session, u: int = u) -> None:
            incs = attendance.list_incidents(lead(u), s, user_id=u, first=p2.start, last=p2.end)
            lates = [i.id for i in incs if i.kind == IncidentKind.LATE]
            rec = attendance.record_discipline(
                lead(u),
                s,
                u,
                "verbal",
                "Talked about arriving on time; bus delays to be reported by phone",
                day=mon1 + dt.timedelta(days=1),
                incident_ids=lates,
            )
            ctx.data["time.verbal_id"] = rec.id

        act(_local(mon1 + dt.timedelta(days=1), 16, 0, tz), verbal)
        act(
            _local(mon1 + dt.timedelta(days=2), 6, 55, tz),
            lambda s, u=u: attendance.acknowledge_discipline(people[u], s, ctx.data["time.verbal_id"]),
        )
    if "early" in roles:
        u = roles["early"]

        def coaching(s: Session, u: int = u) -> None:
            incs = attendance.list_incidents(lead(u), s, user_id=u, first=p2.start, last=p2.end)
            ids = [i.id for i in incs if i.kind == IncidentKind.LEFT_EARLY]
            attendance.record_discipline(
                lead(u),
                s,
                u,
                "coaching",
                "Agreed to ask before leaving early; appointments go in the calendar",
                day=mon1 + dt.timedelta(days=3),
                incident_ids=ids,
            )

        act(_local(mon1 + dt.timedelta(days=3), 11, 0, tz), coaching)

    # --- last period's workflow (the Monday after it)
    p1_end = p1.end_instant(tz)
    plan_span = 14 * 3600

    def after_p1(seconds: int) -> pendulum.DateTime:
        return p1_end.add(seconds=seconds)

    p1_people = sorted(uid for uid in by_user if by_user[uid][p1])
    candidates = [uid for uid in p1_people if uid != roles.get("forgot")]
    unsubmitted = set(rng.sample(candidates, min(2, len(candidates))))
    for i, uid in enumerate(p1_people):
        if uid not in unsubmitted:
            act(after_p1(8 * 3600 + 420 * i), submit(uid, p1))
    forgot = roles.get("forgot")
    if forgot is not None:
        # Sent back: the supervisor wants the clerk to confirm the clock-out she added.
        act(
            after_p1(plan_span - 600),
            lambda s, u=forgot: [
                timecards.reject_timecard(
                    lead(u),
                    s,
                    cid,
                    "I added your missing clock-out from the door log; please check and resubmit",
                )
                for cid in card_ids(s, p1, TimecardStatus.SUBMITTED, {u})
            ],
        )
    for lead_ in ctx.supervisors:
        act(after_p1(plan_span), sign_team(lead_, p1, each=False))

    _run(ctx, acts, tz)
    ctx.data["time.periods"] = (p2, p1)
    ctx.data["time.roles"] = roles


def _run(ctx: DemoContext, acts: list[_Act], tz: str) -> None:
    """Replay in time order, one transaction per office day, the clock frozen at each act."""
    by_day: dict[dt.date, list[_Act]] = defaultdict(list)
    for a in sorted(acts):
        by_day[a.at.in_timezone(tz).date()].append(a)
    for day in sorted(by_day):

        def go(s: Session, todo: list[_Act] = by_day[day]) -> None:
            for a in todo:
                timeutil.freeze(a.at)
                a.fn(s)

        ctx.db.write(go)
