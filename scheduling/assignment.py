"""Auto-assign (docs/assignment.md): the day's work items × the clerks on shift → who works what.

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
   load / capacity who still has room for it; ties by clerk id. Deterministic.
8. An item that fits nobody stays unassigned with a reason a person can act on.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

GREEDY = "greedy"


@dataclass(frozen=True)
class PlanItem:
    """One open work item as the planner sees it (finished items go into ``PlanClerk.used``)."""

    id: int
    effort: int  # minutes
    priority: int
    needs: frozenset[str] = frozenset()  # skills required, e.g. {"government", "lang:es"}
    owner_id: int | None = None  # the clerk who owns the client's account
    current_id: int | None = None  # who has it now (None: unassigned)
    locked: bool = False  # a manual assignment: stays with current_id while that clerk is available


@dataclass(frozen=True)
class PlanClerk:
    """One clerk as the planner sees it."""

    id: int
    capacity: int  # minutes of the shift less unpaid breaks
    skills: frozenset[str] = frozenset()
    used: int = 0  # minutes of items already finished today (count as load, never move)
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
    load: Mapping[int, int]  # available clerk id → planned minutes (used + locked + placed)
    ideal: Mapping[int, float]  # available clerk id → fair share of the planned minutes
    owner_eligible: int  # planned (placed, not locked) items whose owner was available and skilled
    owner_kept: int  # of those, how many went to the owner
    method: str = GREEDY

    @property
    def owner_kept_pct(self) -> float:
        """Share of owner-eligible items that stayed with their owner (100.0 when none)."""
        if self.owner_eligible == 0:
            return 100.0
        return 100.0 * self.owner_kept / self.owner_eligible


def eligible(item: PlanItem, clerk: PlanClerk) -> bool:
    """May ``clerk`` ever receive ``item`` (available and has every needed skill)?"""
    return clerk.available and clerk.capacity > 0 and item.needs <= clerk.skills


def _order(item: PlanItem) -> tuple[int, int, int]:
    return (-item.priority, -item.effort, item.id)


def _skill_reason(needs: frozenset[str], clerks: Sequence[PlanClerk]) -> str:
    if not clerks:
        return "no clerk on shift"
    have = frozenset().union(*(c.skills for c in clerks))
    missing = sorted(needs - have)
    if missing:
        word = "skill" if len(missing) == 1 else "skills"
        return f"nobody on shift has the {word} {', '.join(missing)}"
    return f"nobody on shift has all of {', '.join(sorted(needs))}"


def auto_assign(items: Sequence[PlanItem], clerks: Sequence[PlanClerk]) -> PlanResult:
    """The greedy plan described in the module docstring. Items and clerks in any order.

    Cost: O(items × log clerks) plus one eligibility list per distinct skill set; clerks
    whose load changed are re-keyed lazily in each skill set's heap."""
    avail = {c.id: c for c in sorted(clerks, key=lambda c: c.id) if c.available and c.capacity > 0}
    cap = {cid: c.capacity for cid, c in avail.items()}
    load = {cid: c.used for cid, c in avail.items()}
    placement: dict[int, int] = {}
    unplaced: list[tuple[tuple[int, int, int], Unplaced]] = []

    free: list[PlanItem] = []
    for it in sorted(items, key=lambda i: i.id):
        if it.locked and it.current_id in avail:
            placement[it.id] = it.current_id
            load[it.current_id] += it.effort
        else:
            free.append(it)
    free.sort(key=_order)

    groups: dict[frozenset[str], list[int]] = {}

    def group(needs: frozenset[str]) -> list[int]:
        ids = groups.get(needs)
        if ids is None:
            ids = groups[needs] = [cid for cid, c in avail.items() if needs <= c.skills]
        return ids

    # Admission: when not everything fits, the highest priorities take the room.
    room = sum(max(0, cap[cid] - load[cid]) for cid in avail)
    admitted: list[PlanItem] = []
    later: list[PlanItem] = []
    taken = 0
    for it in free:
        if not group(it.needs):
            unplaced.append((_order(it), Unplaced(it.id, _skill_reason(it.needs, list(avail.values())))))
        elif taken + it.effort <= room:
            admitted.append(it)
            taken += it.effort
        else:
            later.append(it)

    total_cap = sum(cap.values())
    total_load = sum(load.values()) + taken
    ideal = (
        {cid: min(float(cap[cid]), total_load * cap[cid] / total_cap) for cid in avail} if total_cap else {}
    )

    # Owners first (else the clerk who has it now), within their fair share.
    rest: list[PlanItem] = []
    for it in admitted:
        owner = it.owner_id if it.owner_id in avail and it.needs <= avail[it.owner_id].skills else None
        pref = owner
        if pref is None and it.current_id in avail and it.needs <= avail[it.current_id].skills:
            pref = it.current_id
        if pref is not None and load[pref] + it.effort <= min(cap[pref], ideal[pref]):
            placement[it.id] = pref
            load[pref] += it.effort
        else:
            rest.append(it)

    # Balance: the eligible clerk with room whose fraction of capacity would be lowest half-way
    # through one more (average) item, then the larger capacity, then id: seat allocation by
    # Sainte-Lague, which keeps each clerk within one item of the share. Ranking by the fraction
    # before the item gave 4 items over 60/60/60/181 minutes 1-1-1-1 (the big clerk a whole item
    # short); by the fraction after it, 2 items over 120/60/60/60/60 went 2-0-0-0-0.
    balance = rest + later
    unit = sum(it.effort for it in balance) / len(balance) if balance else 0.0

    def key(cid: int) -> tuple[float, int, int, int]:
        return ((load[cid] + unit / 2) / cap[cid], -cap[cid], cid, load[cid])

    heaps: dict[frozenset[str], list[tuple[float, int, int, int]]] = {}
    no_fit: dict[frozenset[str], int] = {}  # the smallest effort known to fit nobody in the set
    smallest = min((it.effort for it in free), default=0)
    for it in sorted(balance, key=_order):
        heap = heaps.get(it.needs)
        if heap is None:
            heap = heaps[it.needs] = [key(cid) for cid in group(it.needs)]
            heapq.heapify(heap)
        chosen: int | None = None
        if it.effort < no_fit.get(it.needs, 1 << 62):
            held: list[tuple[float, int, int, int]] = []
            while heap:
                entry = heapq.heappop(heap)
                cid = entry[2]
                if entry[3] != load[cid]:  # stale: re-key with the current load
                    heapq.heappush(heap, key(cid))
                    continue
                if load[cid] + it.effort <= cap[cid]:
                    chosen = cid
                    break
                if cap[cid] - load[cid] >= smallest:  # still room for something smaller
                    held.append(entry)
            for entry in held:
                heapq.heappush(heap, entry)
        if chosen is None:
            no_fit[it.needs] = min(no_fit.get(it.needs, 1 << 62), it.effort)
            what = f" with {', '.join(sorted(it.needs))}" if it.needs else ""
            unplaced.append((_order(it), Unplaced(it.id, f"no clerk{what} has {it.effort} min left today")))
            continue
        placement[it.id] = chosen
        load[chosen] += it.effort
        heapq.heappush(heap, key(chosen))

    # Continuity: of the planned items whose owner could have taken them, how many did.
    owner_eligible = owner_kept = 0
    for it in free:
        if it.id in placement and it.owner_id in avail and it.needs <= avail[it.owner_id].skills:
            owner_eligible += 1
            owner_kept += placement[it.id] == it.owner_id

    unplaced.sort(key=lambda pair: pair[0])
    return PlanResult(
        placement=placement,
        unplaced=tuple(u for _, u in unplaced),
        load=load,
        ideal=ideal,
        owner_eligible=owner_eligible,
        owner_kept=owner_kept,
    )
