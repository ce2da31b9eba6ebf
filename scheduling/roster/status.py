"""The solve status and stop reason, apart from the solver so that code which only reads or checks rosters
(the schedule grid, the demo, the CLI's listings) does not import OR-Tools."""

from __future__ import annotations

from enum import StrEnum


class SolveStatus(StrEnum):
    OPTIMAL = "optimal"  # proven best penalty
    FEASIBLE = "feasible"  # keeps every hard rule; maybe not the best (time ran out, cancelled)
    INFEASIBLE = "infeasible"  # no roster keeps every hard rule; see conflicts
    UNKNOWN = "unknown"  # stopped (time limit or cancel) before any roster was found


class StopReason(StrEnum):
    """Why solve() stopped: the search finished, or it was cut short."""

    DONE = "done"  # nothing left to search: optimality or infeasibility proven
    TIME_LIMIT = "time_limit"  # time ran out; the roster (if any) is the best found so far
    CANCELLED = "cancelled"  # ``cancel`` was set; likewise
