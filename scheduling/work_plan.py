"""Assigning the day's work (docs/assignment.md): clerks on shift, auto-assign preview/apply/undo,
manual assign/move/unassign, rebalance of an absent or leaving clerk, publish.

Every function here needs Action.WORK_ASSIGN except ``clerks_on_shift`` (VIEW). Every change
bumps the day's change marker (``scheduling.work_items.change_marker``) and writes audit rows.

Who is on shift for a day: an active, employed clerk with a PUBLISHED shift that day and no
approved time off. For today the clock decides too: a shift that has started more than the
grace minutes ago without a clock-in is "absent"; clocked out before the shift's end is
"left"; after the shift's end "shift over". A clerk the supervisor has rebalanced away is
"away" until ``set_away(..., False)``. Only ``available`` clerks ever receive items.
Capacity = shift minutes − unpaid break; finished items' minutes count as load and never move,
so what a re-plan can hand out is capacity − done minutes.

Plans are applied item by item with version checks: an item changed after the preview (a clerk
finished it, a supervisor moved it) refuses the apply with a message naming it. Undo reverts
the items the plan changed that nobody has touched since, and lists the others.
"""

from __future__ import annotations

import datetime as dt
import string
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pendulum
import sqlalchemy as sa
from sqlalchemy.orm import Session

from db import audit
from db.errors import ConflictError, NotFound, ValidationError
from db.models import (
    Assignment,
    AttendanceIncident,
    ClockEvent,
    ClockKind,
    IncidentKind,
    RequestStatus,
    Role,
    Shift,
    ShiftStatus,
    ShiftType,
    TimeOffRequest,
    User,
    WorkDay,
    WorkItem,
    WorkStatus,
)
from db.rights import Action, Actor, require
from db.settings import get_setting, office_timezone
from db.timeutil import now, office_today
from scheduling.assignment import PlanClerk, PlanItem, auto_assign
from scheduling.work_items import (
    ItemRow,
    bump_item,
    bump_marker,
    check_day,
    day_rows,
    ensure_day,
    item_rows,
    stale_message,
)

# Letters a clerk key never uses: the assignment screen's own action keys (auto, move,
# unassign, rebalance, publish, generate, sort, view, copy) and the app's go-to menu (g).
RESERVED_KEYS = frozenset("amurpnqysvg")
EARLY_WINDOW = dt.timedelta(hours=2)  # a clock-in this long before the shift counts for it


@dataclass(frozen=True)
class ClerkLoad:
    """A clerk for the day: shift, state, capacity and load."""

    user_id: int
    login: str
    name: str
    key: str  # one letter to assign by (not in RESERVED_KEYS); "" when letters ran out
    skills: tuple[str, ...]
    shift_code: str | None  # None: no published shift (listed only because they hold items)
    shift_local: str  # "07:00–15:00" office time, "" without a shift
    state: str  # "scheduled", "in", "absent", "left", "shift over", "away", "off", "inactive"
    available: bool  # may receive items
    capacity_minutes: int
    assigned_minutes: int  # open items assigned (effort)
    done_minutes: int  # finished items (effort)
    open_items: int
    done_items: int

    @property
    def load_minutes(self) -> int:
        """assigned + done (what the load bar shows against capacity)."""
        return self.assigned_minutes + self.done_minutes

    @property
    def over_capacity(self) -> bool:
        return self.load_minutes > self.capacity_minutes


def _keys(logins: Sequence[tuple[str, str]]) -> dict[str, str]:
    """login → a letter: the first free letter of the login, then of the name, then any."""
    taken: set[str] = set(RESERVED_KEYS)
    out: dict[str, str] = {}
    for login, name in logins:
        key = ""
        for ch in (login + name.lower() + string.ascii_lowercase).lower():
            if ch in string.ascii_lowercase and ch not in taken:
                key = ch
                break
        if key:
            taken.add(key)
        out[login] = key
    return out


@dataclass(frozen=True)
class _DayFacts:
    """What decides availability, read for every clerk at once (a few grouped queries)."""

    today: bool
    at: pendulum.DateTime
    grace: dt.timedelta
    time_off: frozenset[int]
    absent: frozenset[int]
    away: frozenset[int]
    events: dict[int, list[ClockEvent]]


def _facts(
    session: Session, day: dt.date, shifts: dict[int, tuple[Shift, ShiftType]], away: set[int], tz: str
) -> _DayFacts:
    ids = list(shifts)
    time_off: set[int] = set()
    absent: set[int] = set()
    events: dict[int, list[ClockEvent]] = {}
    if ids:
        time_off = set(
            session.scalars(
                sa.select(TimeOffRequest.user_id).where(
                    TimeOffRequest.user_id.in_(ids),
                    TimeOffRequest.status == RequestStatus.APPROVED,
                    TimeOffRequest.start_date <= day,
                    TimeOffRequest.end_date >= day,
                )
            )
        )
        absent = set(
            session.scalars(
                sa.select(AttendanceIncident.user_id).where(
                    AttendanceIncident.user_id.in_(ids),
                    AttendanceIncident.day == day,
                    AttendanceIncident.kind == IncidentKind.ABSENT,
                )
            )
        )
    today = day == office_today(tz)
    at = now()
    if today and ids:
        earliest = min(sh.starts_at for sh, _ in shifts.values()) - EARLY_WINDOW
        for e in session.scalars(
            sa.select(ClockEvent)
            .where(
                ClockEvent.user_id.in_(ids),
                ClockEvent.voided.is_(False),
                ClockEvent.at >= earliest,
                ClockEvent.at <= at,
            )
            .order_by(ClockEvent.at, ClockEvent.id)
        ):
            if e.at >= shifts[e.user_id][0].starts_at - EARLY_WINDOW:
                events.setdefault(e.user_id, []).append(e)
    return _DayFacts(
        today=today,
        at=at,
        grace=dt.timedelta(minutes=int(get_setting(session, "time.grace_minutes"))),
        time_off=frozenset(time_off),
        absent=frozenset(absent),
        away=frozenset(away),
        events=events,
    )


def _state(user: User, shift: Shift | None, day: dt.date, f: _DayFacts) -> tuple[str, bool]:
    if (
        not user.active
        or user.hire_date > day
        or (user.termination_date is not None and user.termination_date < day)
    ):
        return "inactive", False
    if shift is None:
        return "off", False
    if user.id in f.time_off or user.id in f.absent:
        return "absent", False
    if user.id in f.away:
        return "away", False
    if not f.today:
        return "scheduled", True
    if f.at >= shift.ends_at:
        return "shift over", False
    events = f.events.get(user.id, [])
    if events and events[-1].kind == ClockKind.OUT:
        return "left", False
    if any(e.kind == ClockKind.IN for e in events):
        return "in", True
    if f.at > shift.starts_at + f.grace:
        return "absent", False
    return "scheduled", True


def _loads(session: Session, day: dt.date) -> dict[int, tuple[int, int, int, int]]:
    """user id → (open minutes, done minutes, open items, done items) of the day."""
    out: dict[int, list[int]] = {}
    rows = session.execute(
        sa.select(Assignment.user_id, Assignment.finished_at.is_not(None), WorkItem.effort_minutes)
        .join(WorkItem, WorkItem.id == Assignment.work_item_id)
        .where(WorkItem.day == day, WorkItem.status.in_((WorkStatus.OPEN, WorkStatus.DONE)))
    )
    for uid, finished, effort in rows:
        acc = out.setdefault(uid, [0, 0, 0, 0])
        if finished:
            acc[1] += effort
            acc[3] += 1
        else:
            acc[0] += effort
            acc[2] += 1
    return {k: (v[0], v[1], v[2], v[3]) for k, v in out.items()}


def _clerks(session: Session, day: dt.date) -> list[ClerkLoad]:
    tz = office_timezone(session)
    wd = session.get(WorkDay, day)
    away = set(wd.away_user_ids or []) if wd is not None else set()
    shifts = {
        sh.user_id: (sh, st)
        for sh, st in session.execute(
            sa.select(Shift, ShiftType)
            .join(ShiftType, ShiftType.id == Shift.shift_type_id)
            .where(Shift.day == day, Shift.status == ShiftStatus.PUBLISHED)
        )
    }
    loads = _loads(session, day)
    ids = set(loads) | set(shifts)
    users = list(session.scalars(sa.select(User).where(User.id.in_(ids)).order_by(User.login))) if ids else []
    users = [u for u in users if u.role == Role.CLERK or u.id in loads]
    keys = _keys([(u.login, u.name) for u in users])
    facts = _facts(session, day, shifts, away, tz)
    out: list[ClerkLoad] = []
    for u in users:
        pair = shifts.get(u.id)
        sh, st = pair if pair is not None else (None, None)
        state, available = _state(u, sh, day, facts)
        capacity = 0
        label = ""
        if sh is not None and st is not None:
            length = int((sh.ends_at - sh.starts_at).total_seconds() // 60)
            capacity = max(0, length - st.unpaid_break_minutes)
            start = pendulum.instance(sh.starts_at).in_timezone(tz).format("HH:mm")
            end = pendulum.instance(sh.ends_at).in_timezone(tz).format("HH:mm")
            label = f"{start}–{end}"
        open_m, done_m, open_n, done_n = loads.get(u.id, (0, 0, 0, 0))
        out.append(
            ClerkLoad(
                user_id=u.id,
                login=u.login,
                name=u.name,
                key=keys[u.login],
                skills=tuple(u.skills or ()),
                shift_code=st.code if st is not None else None,
                shift_local=label,
                state=state,
                available=available,
                capacity_minutes=capacity,
                assigned_minutes=open_m,
                done_minutes=done_m,
                open_items=open_n,
                done_items=done_n,
            )
        )
    return out


def clerks_on_shift(actor: Actor, session: Session, day: dt.date) -> tuple[ClerkLoad, ...]:
    """Clerks with a published shift that day, plus anyone else holding items of the day
    (so an absent clerk's work shows), ordered by login. Keys are stable while that set is."""
    require(actor, Action.VIEW)
    return tuple(_clerks(session, day))


# --------------------------------------------------------------------------- plans


@dataclass(frozen=True)
class PlanMove:
    item: ItemRow  # as it is now
    from_login: str | None  # None: unassigned now
    to_login: str | None  # None: will be unassigned


@dataclass(frozen=True)
class UnassignedItem:
    item: ItemRow
    reason: str  # why nobody could take it


@dataclass(frozen=True)
class LoadChange:
    user_id: int
    login: str
    capacity_minutes: int
    before_minutes: int
    after_minutes: int


@dataclass(frozen=True)
class PlanPreview:
    """What an auto-assign or rebalance would do. Nothing is written until ``apply_plan``."""

    day: dt.date
    kind: str  # "auto" or "rebalance"
    away_user_id: int | None  # rebalance: the clerk whose open items move
    moves: tuple[PlanMove, ...]  # only items whose clerk changes, priority order
    unassigned: tuple[UnassignedItem, ...]  # items left without a clerk, priority order
    loads: tuple[LoadChange, ...]  # every clerk listed for the day, by login
    owner_kept_pct: float  # of items whose owner is on shift with the skills
    kept_manual: int  # manual assignments kept as they are
    marker: int  # the day's change marker the preview was computed at
    assignment: tuple[tuple[int, int | None], ...]  # (item id, clerk id or None) for every move


def _plan_clerk(c: ClerkLoad) -> PlanClerk:
    return PlanClerk(
        id=c.user_id,
        capacity=c.capacity_minutes,
        skills=frozenset(c.skills),
        used=c.done_minutes,
        available=c.available,
    )


def _preview(
    session: Session,
    day: dt.date,
    kind: str,
    rows: list[ItemRow],
    plan_items: list[PlanItem],
    clerks: list[ClerkLoad],
    plan_clerks: list[PlanClerk],
    away_user_id: int | None,
) -> PlanPreview:
    result = auto_assign(plan_items, plan_clerks)
    by_id = {r.id: r for r in rows}
    logins = {c.user_id: c.login for c in clerks}
    moves: list[PlanMove] = []
    assignment: list[tuple[int, int | None]] = []
    reasons = {u.item_id: u.reason for u in result.unplaced}
    after: dict[int, int] = {c.user_id: c.done_minutes for c in clerks}
    kept_manual = 0
    for it in plan_items:
        row = by_id[it.id]
        to = result.placement.get(it.id)
        if to is not None:
            after[to] = after.get(to, 0) + row.effort_minutes
            if it.locked and to == it.current_id:
                kept_manual += 1
        if to != row.assignee_id:
            moves.append(PlanMove(row, row.assignee_login, logins.get(to) if to is not None else None))
            assignment.append((row.id, to))
    # Items outside the plan (a rebalance leaves others' items alone) keep their load.
    planned = {it.id for it in plan_items}
    for r in rows:
        if r.id not in planned and r.assignee_id is not None and not r.finished:
            after[r.assignee_id] = after.get(r.assignee_id, 0) + r.effort_minutes
    unassigned = tuple(UnassignedItem(by_id[i], reasons[i]) for i in reasons)
    moves.sort(key=lambda m: (-m.item.priority, m.item.id))
    loads = tuple(
        LoadChange(c.user_id, c.login, c.capacity_minutes, c.load_minutes, after.get(c.user_id, 0))
        for c in clerks
    )
    wd = session.get(WorkDay, day)
    return PlanPreview(
        day=day,
        kind=kind,
        away_user_id=away_user_id,
        moves=tuple(moves),
        unassigned=unassigned,
        loads=loads,
        owner_kept_pct=round(result.owner_kept_pct, 1),
        kept_manual=kept_manual,
        marker=int(wd.marker) if wd is not None else 0,
        assignment=tuple(sorted(assignment)),
    )


def _plan_item(r: ItemRow, *, locked: bool, current: bool = True) -> PlanItem:
    return PlanItem(
        id=r.id,
        effort=r.effort_minutes,
        priority=r.priority,
        needs=frozenset(r.needs),
        owner_id=r.owner_id,
        current_id=r.assignee_id if current else None,
        locked=locked,
    )


def preview_auto_assign(actor: Actor, session: Session, day: dt.date) -> PlanPreview:
    """Plan every open item of the day over the available clerks (scheduling.assignment).
    Manual assignments (to a clerk still available) and finished items stay; others may move."""
    require(actor, Action.WORK_ASSIGN)
    day = check_day(session, day)
    rows = day_rows(session, day, open_only=True)
    clerks = _clerks(session, day)
    items = [_plan_item(r, locked=r.manual) for r in rows]
    return _preview(session, day, "auto", rows, items, clerks, [_plan_clerk(c) for c in clerks], None)


def preview_rebalance(actor: Actor, session: Session, day: dt.date, user_id: int) -> PlanPreview:
    """Move the open items of ``user_id`` (absent, leaving) over the other available clerks,
    manual or not; everybody else's items stay."""
    require(actor, Action.WORK_ASSIGN)
    day = check_day(session, day)
    clerks = _clerks(session, day)
    if not any(c.user_id == user_id for c in clerks):
        raise NotFound(f"User #{user_id} has no shift and no items on {day.isoformat()}")
    available = {c.user_id for c in clerks if c.available and c.user_id != user_id}
    rows = [r for r in day_rows(session, day, open_only=True) if r.assignee_id is not None]
    # Only this clerk's items move; others' stay (as load where their clerk is available).
    items = [
        _plan_item(r, locked=r.assignee_id != user_id, current=r.assignee_id != user_id)
        for r in rows
        if r.assignee_id == user_id or r.assignee_id in available
    ]
    plan_clerks = [
        PlanClerk(id=c.user_id, capacity=c.capacity_minutes, skills=frozenset(c.skills), available=False)
        if c.user_id == user_id
        else _plan_clerk(c)
        for c in clerks
    ]
    return _preview(session, day, "rebalance", rows, items, clerks, plan_clerks, user_id)


@dataclass(frozen=True)
class ApplyResult:
    day: dt.date
    kind: str
    moved: int
    unassigned: int
    marker: int
    skipped: tuple[str, ...] = ()  # undo: items changed since the plan, left as they are


def _published(session: Session, day: dt.date) -> bool:
    wd = session.get(WorkDay, day)
    return wd is not None and wd.published_at is not None


def _set_assignee(
    session: Session,
    actor: Actor,
    item_id: int,
    day: dt.date,
    user_id: int | None,
    *,
    manual: bool,
    published: bool,
) -> None:
    asg = session.scalar(sa.select(Assignment).where(Assignment.work_item_id == item_id))
    if user_id is None:
        if asg is not None:
            session.delete(asg)
        return
    if asg is None:
        session.add(
            Assignment(
                work_item_id=item_id,
                user_id=user_id,
                day=day,
                published=published,
                assigned_by=actor.user_id,
                manual=manual,
            )
        )
    else:
        asg.user_id = user_id
        asg.manual = manual
        asg.published = published
        asg.assigned_by = actor.user_id


def _local_hm(tz: str) -> str:
    return pendulum.instance(now()).in_timezone(tz).format("HH:mm")


def apply_plan(actor: Actor, session: Session, preview: PlanPreview) -> ApplyResult:
    """Write a previewed plan, item by item with version checks (ConflictError naming the first
    item changed since the preview: preview again). A rebalance also marks the clerk away for
    the day. What it changed is kept for one-step ``undo_last_plan``."""
    require(actor, Action.WORK_ASSIGN)
    day = check_day(session, preview.day)
    wd = ensure_day(session, day)
    published = wd.published_at is not None
    seen = {m.item.id: m.item for m in preview.moves}
    changes: list[list[Any]] = []
    moved = unassigned = 0
    for item_id, to in preview.assignment:
        before = seen[item_id]
        if not bump_item(session, item_id, before.version):
            raise ConflictError(stale_message(session, item_id, before.version) + " Preview the plan again.")
        _set_assignee(session, actor, item_id, day, to, manual=False, published=published)
        changes.append([item_id, before.assignee_id, before.manual, before.version + 1])
        if to is None:
            unassigned += 1
        else:
            moved += 1
    label = "auto-assign"
    if preview.kind == "rebalance" and preview.away_user_id is not None:
        away = list(wd.away_user_ids or [])
        if preview.away_user_id not in away:
            away.append(preview.away_user_id)
        wd.away_user_ids = away
        login = session.scalar(sa.select(User.login).where(User.id == preview.away_user_id))
        label = f"rebalance of {login}"
    session.flush()
    marker = bump_marker(session, day)
    tz = office_timezone(session)
    wd.undo = {
        "label": label,
        "kind": preview.kind,
        "at_local": _local_hm(tz),
        "changes": changes,
        "away_user_id": preview.away_user_id,
        "undone": False,
    }
    audit.record(
        session,
        actor,
        "work_day",
        day.isoformat(),
        "rebalance" if preview.kind == "rebalance" else "auto_assign",
        None,
        {"moves": [[i, to] for i, to in preview.assignment], "away_user_id": preview.away_user_id},
    )
    return ApplyResult(day, preview.kind, moved, unassigned, marker)


def undo_last_plan(actor: Actor, session: Session, day: dt.date) -> ApplyResult:
    """Revert the last applied auto-assign or rebalance of the day (one step): every item it
    changed that nobody changed since goes back; the others are listed in ``skipped``.
    NotFound if there is nothing to undo."""
    require(actor, Action.WORK_ASSIGN)
    wd = session.get(WorkDay, day)
    if wd is None or not wd.undo or wd.undo.get("undone"):
        raise NotFound(f"Nothing to undo on {day.isoformat()}")
    undo = dict(wd.undo)
    published = wd.published_at is not None
    skipped: list[str] = []
    moved = unassigned = 0
    for item_id, prev_user, prev_manual, version_after in sorted(undo["changes"]):
        if not bump_item(session, item_id, int(version_after)):
            skipped.append(stale_message(session, item_id, int(version_after)))
            continue
        _set_assignee(session, actor, item_id, day, prev_user, manual=bool(prev_manual), published=published)
        if prev_user is None:
            unassigned += 1
        else:
            moved += 1
    away_id = undo.get("away_user_id")
    if undo.get("kind") == "rebalance" and away_id is not None:
        wd.away_user_ids = [u for u in (wd.away_user_ids or []) if u != away_id]
    undo["undone"] = True
    wd.undo = undo
    session.flush()
    marker = bump_marker(session, day)
    audit.record(
        session,
        actor,
        "work_day",
        day.isoformat(),
        "undo_plan",
        None,
        {"label": undo.get("label"), "reverted": moved + unassigned, "skipped": len(skipped)},
    )
    return ApplyResult(day, str(undo.get("kind")), moved, unassigned, marker, tuple(skipped))


# --------------------------------------------------------------------------- manual changes


@dataclass(frozen=True)
class AssignResult:
    items: tuple[ItemRow, ...]  # as they are now
    warnings: tuple[str, ...]  # e.g. "jchen is over capacity: 495 of 450 min" (not refused)
    marker: int


def _check_items(
    session: Session, day: dt.date, items: Sequence[tuple[int, int]]
) -> tuple[list[tuple[int, int]], dict[int, ItemRow]]:
    pairs = sorted({(int(i), int(v)) for i, v in items})
    if not pairs:
        raise ValidationError("Select at least one item.")
    if len({i for i, _ in pairs}) != len(pairs):
        raise ValidationError("An item is listed twice with different versions; reload.")
    rows = item_rows(session, [i for i, _ in pairs])
    for item_id, version in pairs:
        row = rows.get(item_id)
        if row is None:
            raise NotFound(f"No work item #{item_id}")
        if row.day != day:
            raise ValidationError(f"{row.client_name} ({row.kind.value}) is an item of {row.day.isoformat()}")
        if row.version != version:
            raise ConflictError(stale_message(session, item_id, version))
        if row.finished or row.status != WorkStatus.OPEN:
            raise ValidationError(f"{row.client_name} ({row.kind.value}) is finished; it cannot move.")
    return pairs, rows


def _audit(row: ItemRow) -> dict[str, Any]:
    return {
        "user": row.assignee_login,
        "manual": row.manual,
        "published": row.published,
        "version": row.version,
    }


def assign_items(
    actor: Actor,
    session: Session,
    day: dt.date,
    items: Sequence[tuple[int, int]],
    user_id: int,
) -> AssignResult:
    """Assign (or move) the given (item id, version) pairs to ``user_id`` by hand; they become
    manual and are kept by later re-plans. Refused (ValidationError, nothing changed) when the
    clerk is not available that day or lacks a needed skill, or an item is finished; stale
    versions raise ConflictError. Over capacity is a warning, not a refusal. Published days
    publish the change at once."""
    require(actor, Action.WORK_ASSIGN)
    day = check_day(session, day)
    clerk = next((c for c in _clerks(session, day) if c.user_id == user_id), None)
    if clerk is None:
        login = session.scalar(sa.select(User.login).where(User.id == user_id))
        if login is None:
            raise NotFound(f"No user #{user_id}")
        raise ValidationError(f"{login} has no published shift on {day.isoformat()}")
    if not clerk.available:
        raise ValidationError(f"{clerk.login} cannot take work on {day.isoformat()}: {clerk.state}")
    pairs, rows = _check_items(session, day, items)
    skills = set(clerk.skills)
    for item_id, _ in pairs:
        missing = [n for n in rows[item_id].needs if n not in skills]
        if missing:
            r = rows[item_id]
            raise ValidationError(
                f"{clerk.login} lacks {', '.join(missing)} needed for {r.client_name} ({r.kind.value})"
            )
    published = _published(session, day)
    moved_minutes = 0
    for item_id, version in pairs:
        if rows[item_id].assignee_id != user_id:
            moved_minutes += rows[item_id].effort_minutes
        if not bump_item(session, item_id, version):
            raise ConflictError(stale_message(session, item_id, version))
        _set_assignee(session, actor, item_id, day, user_id, manual=True, published=published)
    session.flush()
    marker = bump_marker(session, day)
    after = item_rows(session, [i for i, _ in pairs])
    for item_id, _ in pairs:
        audit.record(
            session, actor, "work_item", item_id, "assign", _audit(rows[item_id]), _audit(after[item_id])
        )
    warnings: list[str] = []
    load = clerk.load_minutes + moved_minutes
    if load > clerk.capacity_minutes:
        warnings.append(f"{clerk.login} is over capacity: {load} of {clerk.capacity_minutes} min")
    return AssignResult(tuple(after[i] for i, _ in pairs), tuple(warnings), marker)


def unassign_items(
    actor: Actor, session: Session, day: dt.date, items: Sequence[tuple[int, int]]
) -> AssignResult:
    """Take the given (item id, version) pairs away from their clerk (finished items refused)."""
    require(actor, Action.WORK_ASSIGN)
    day = check_day(session, day)
    pairs, rows = _check_items(session, day, items)
    for item_id, version in pairs:
        if not bump_item(session, item_id, version):
            raise ConflictError(stale_message(session, item_id, version))
        _set_assignee(session, actor, item_id, day, None, manual=False, published=False)
    session.flush()
    marker = bump_marker(session, day)
    after = item_rows(session, [i for i, _ in pairs])
    for item_id, _ in pairs:
        audit.record(
            session, actor, "work_item", item_id, "unassign", _audit(rows[item_id]), _audit(after[item_id])
        )
    return AssignResult(tuple(after[i] for i, _ in pairs), (), marker)


def set_away(actor: Actor, session: Session, day: dt.date, user_id: int, away: bool) -> ClerkLoad:
    """Mark a clerk away (gets no more items that day) or back."""
    require(actor, Action.WORK_ASSIGN)
    day = check_day(session, day)
    wd = ensure_day(session, day)
    ids = [u for u in (wd.away_user_ids or []) if u != user_id]
    if away:
        ids.append(user_id)
    wd.away_user_ids = ids
    session.flush()
    bump_marker(session, day)
    audit.record(
        session, actor, "work_day", day.isoformat(), "away" if away else "back", None, {"user_id": user_id}
    )
    clerk = next((c for c in _clerks(session, day) if c.user_id == user_id), None)
    if clerk is None:
        raise NotFound(f"User #{user_id} has no shift and no items on {day.isoformat()}")
    return clerk


@dataclass(frozen=True)
class PublishResult:
    day: dt.date
    assigned: int
    unassigned: int
    clerks: int
    marker: int


def publish_day(actor: Actor, session: Session, day: dt.date) -> PublishResult:
    """Publish the day's assignments: clerks see their lists. Later changes of a published
    day are published at once. Publishing again is harmless (publishes what is new)."""
    require(actor, Action.WORK_ASSIGN)
    day = check_day(session, day)
    wd = ensure_day(session, day)
    if session.scalar(sa.select(sa.func.count(WorkItem.id)).where(WorkItem.day == day)) == 0:
        raise ValidationError(f"No work items on {day.isoformat()}: generate them first")
    session.execute(
        sa.update(Assignment)
        .where(Assignment.day == day, Assignment.published.is_(False))
        .values(published=True, version=Assignment.version + 1)
        .execution_options(synchronize_session=False)
    )
    first = wd.published_at is None
    if first:
        wd.published_at = now()
        wd.published_by = actor.user_id
    session.flush()
    marker = bump_marker(session, day)
    assigned, clerks = session.execute(
        sa.select(sa.func.count(Assignment.id), sa.func.count(sa.distinct(Assignment.user_id)))
        .join(WorkItem, WorkItem.id == Assignment.work_item_id)
        .where(WorkItem.day == day, WorkItem.status == WorkStatus.OPEN)
    ).one()
    unassigned = int(
        session.scalar(
            sa.select(sa.func.count(WorkItem.id))
            .outerjoin(Assignment, Assignment.work_item_id == WorkItem.id)
            .where(WorkItem.day == day, WorkItem.status == WorkStatus.OPEN, Assignment.id.is_(None))
        )
        or 0
    )
    audit.record(
        session,
        actor,
        "work_day",
        day.isoformat(),
        "publish",
        None,
        {"assigned": int(assigned), "unassigned": unassigned, "first": first},
    )
    return PublishResult(day, int(assigned), unassigned, int(clerks), marker)
