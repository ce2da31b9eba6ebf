"""The solve status, apart from the solver so that code which only reads or checks rosters
(the schedule grid, the demo, the CLI's listings) does not import OR-Tools."""

from __future__ import annotations

from enum import StrEnum


class SolveStatus(StrEnum):
    OPTIMAL = "optimal"  # proven best penalty
    FEASIBLE = "feasible"  # keeps every hard rule; maybe not the best (time ran out, cancelled)
    INFEASIBLE = "infeasible"  # no roster keeps every hard rule; see conflicts
    UNKNOWN = "unknown"  # stopped before any roster was found
