"""Assigning the day's work (SPEC §3.10): clerks on shift, auto-assign preview/apply/undo,
manual assign/move/unassign, rebalance of an absent or leaving clerk, publish.

Every function here needs Action.WORK_ASSIGN except ``clerks_on_shift`` (VIEW). Every change
bumps the day's change marker (``scheduling.work_items.change_marker``) and writes audit rows.

Who is on shift for a day: an active, employed clerk with a PUBLISHED shift that day and no
approved time off. For today the clock decides too: a shift that has started more than the
grace minutes ago without a clock-in is "absent"; clocked out before the shift's end is
"left"; after the shift's end "shift over". A clerk the supervisor has rebalanced away is
"away" until ``set_away(..., False)``. Only ``available`` clerks ever receive items.
Capacity = shift minutes − unpaid break − minutes of items already finished that day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from db.rights import Actor
from scheduling.work_items import ItemRow

# Letters a clerk key never uses: the assignment screen's own action keys.
RESERVED_KEYS = frozenset("amurpnqy")


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
        raise NotImplementedError

    @property
    def over_capacity(self) -> bool:
        raise NotImplementedError


def clerks_on_shift(actor: Actor, session: Session, day: dt.date) -> tuple[ClerkLoad, ...]:
    """Clerks with a published shift that day, plus anyone else holding open items of the day
    (so an absent clerk's work shows), ordered by login. Keys are stable for the day."""
    raise NotImplementedError


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
    loads: tuple[LoadChange, ...]  # every clerk on shift, by login
    owner_kept_pct: float  # of items whose owner is on shift with the skills
    kept_manual: int  # manual assignments kept as they are
    marker: int  # the day's change marker the preview was computed at
    assignment: tuple[tuple[int, int | None], ...]  # (item id, clerk id or None) for every move


def preview_auto_assign(actor: Actor, session: Session, day: dt.date) -> PlanPreview:
    """Plan every open item of the day over the available clerks (scheduling.assignment).
    Manual assignments and finished items stay; other assignments may move."""
    raise NotImplementedError


def preview_rebalance(actor: Actor, session: Session, day: dt.date, user_id: int) -> PlanPreview:
    """Move the open items of ``user_id`` (absent, leaving) over the other available clerks,
    manual or not; everybody else's items stay."""
    raise NotImplementedError


@dataclass(frozen=True)
class ApplyResult:
    day: dt.date
    kind: str
    moved: int
    unassigned: int
    marker: int


def apply_plan(actor: Actor, session: Session, preview: PlanPreview) -> ApplyResult:
    """Write a previewed plan. ConflictError if the day changed since the preview (marker
    differs): preview again. A rebalance also marks the clerk away for the day. The previous
    state is kept for one-step ``undo_last_plan``."""
    raise NotImplementedError


def undo_last_plan(actor: Actor, session: Session, day: dt.date) -> ApplyResult:
    """Revert the last applied auto-assign or rebalance of the day (one step). ConflictError if
    anything changed since it was applied (the marker moved); NotFound if there is nothing."""
    raise NotImplementedError


@dataclass(frozen=True)
class AssignResult:
    items: tuple[ItemRow, ...]  # as they are now
    warnings: tuple[str, ...]  # e.g. "jchen is over capacity: 495 of 450 min" (not refused)
    marker: int


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
    raise NotImplementedError


def unassign_items(
    actor: Actor, session: Session, day: dt.date, items: Sequence[tuple[int, int]]
) -> AssignResult:
    """Take the given (item id, version) pairs away from their clerk (finished items refused)."""
    raise NotImplementedError


def set_away(actor: Actor, session: Session, day: dt.date, user_id: int, away: bool) -> ClerkLoad:
    """Mark a clerk away (gets no more items that day) or back."""
    raise NotImplementedError


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
    raise NotImplementedError
