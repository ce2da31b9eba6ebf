"""Auto-assign (SPEC §3.10): the day's work items × the clerks on shift → who works what.

Pure: plain frozen data in, plain frozen data out; no database, no Textual, no clock. The
services in ``scheduling.work_plan`` load the day, call ``auto_assign`` and show the result as
a preview before anything is written. The rules (docs/assignment.md):

1. Only ``PlanClerk``s with ``available=True`` ever receive an item (absent, deactivated,
   off-shift, away and left-early clerks are passed with ``available=False`` or not at all).
2. Locked items (a supervisor's manual assignment, a finished item) stay where they are and
   count towards their clerk's load. ``PlanClerk.used`` adds minutes already worked today.
3. Skills are hard: every string in ``PlanItem.needs`` must be in the clerk's ``skills``.
4. Capacity is hard for the plan: a clerk's planned minutes never exceed ``capacity``.
5. When the items do not all fit, higher priority goes first (admission in priority order).
6. The account's owner (else the clerk who has it now) keeps it when the owner's load stays
   within the owner's fair share (total admitted effort × capacity / total capacity).
7. The rest is balanced as a fraction of capacity: each item, highest priority first (larger
   effort first among equals, LPT-style), goes to the eligible clerk with the lowest
   (load + effort) / capacity; ties by clerk id. Deterministic for the same input.
8. An item that fits nobody stays unassigned with a reason a person can act on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

GREEDY = "greedy"


@dataclass(frozen=True)
class PlanItem:
    """One work item as the planner sees it."""

    id: int
    effort: int  # minutes
    priority: int
    needs: frozenset[str] = frozenset()  # skills required, e.g. {"government", "lang:es"}
    owner_id: int | None = None  # the clerk who owns the client's account
    current_id: int | None = None  # who has it now (None: unassigned)
    locked: bool = False  # manual or finished: stays with current_id


@dataclass(frozen=True)
class PlanClerk:
    """One clerk as the planner sees it."""

    id: int
    capacity: int  # minutes of the shift less unpaid breaks
    skills: frozenset[str] = frozenset()
    used: int = 0  # minutes already worked today that are not in the items (finished elsewhere)
    available: bool = True  # False: absent, away, off shift, deactivated → never receives items


@dataclass(frozen=True)
class Unplaced:
    item_id: int
    reason: str  # e.g. "nobody on shift has the skill lang:vi"


@dataclass(frozen=True)
class PlanResult:
    """Where every item goes. ``placement`` covers every placed item (locked ones too)."""

    placement: Mapping[int, int]  # item id → clerk id
    unplaced: tuple[Unplaced, ...]  # in priority order
    load: Mapping[int, int]  # clerk id → planned minutes (locked + placed + used)
    owner_eligible: int  # items whose owner was available and skilled
    owner_kept: int  # of those, how many went to the owner
    method: str = GREEDY

    @property
    def owner_kept_pct(self) -> float:
        """Share of owner-eligible items that stayed with their owner (100.0 when none)."""
        raise NotImplementedError


def eligible(item: PlanItem, clerk: PlanClerk) -> bool:
    """May ``clerk`` ever receive ``item`` (available and has every needed skill)?"""
    raise NotImplementedError


def auto_assign(items: Sequence[PlanItem], clerks: Sequence[PlanClerk]) -> PlanResult:
    """The greedy plan described in the module docstring. Items and clerks in any order."""
    raise NotImplementedError


def ideal_shares(items: Sequence[PlanItem], clerks: Sequence[PlanClerk]) -> dict[int, float]:
    """Clerk id → the fair share of minutes (admitted effort × capacity / total capacity)."""
    raise NotImplementedError
