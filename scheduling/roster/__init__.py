"""Roster engine: dataclasses in, dataclasses out. No database, no UI (see docs/roster.md).

The solver and the explainer need OR-Tools (0.5 s and 40 MiB with pandas and NumPy), so their
names are imported on first use (PEP 562): reading and checking rosters never loads it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from scheduling.roster.evaluate import Evaluation, Evaluator, PenaltyItem, Violation, evaluate
from scheduling.roster.problem import (
    Assignment,
    Clerk,
    Coverage,
    ProblemError,
    RosterProblem,
    Rule,
    ShiftRequest,
    ShiftType,
    StaffRules,
    validate,
)
from scheduling.roster.status import SolveStatus, StopReason

if TYPE_CHECKING:
    from scheduling.roster.explain import Conflict, explain
    from scheduling.roster.solver import ProgressCallback, RosterSolution, solve

_LAZY = {
    "Conflict": "scheduling.roster.explain",
    "explain": "scheduling.roster.explain",
    "ProgressCallback": "scheduling.roster.solver",
    "RosterSolution": "scheduling.roster.solver",
    "solve": "scheduling.roster.solver",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    for module in set(_LAZY.values()):
        importlib.import_module(module)
    # Bind every lazy name at once: importing the explain submodule has just set this package's
    # attribute "explain" to the submodule, and the function must win, as it did before.
    for lazy, module in _LAZY.items():
        globals()[lazy] = getattr(importlib.import_module(module), lazy)
    return globals()[name]


__all__ = [
    "Assignment",
    "Clerk",
    "Conflict",
    "Coverage",
    "Evaluation",
    "Evaluator",
    "PenaltyItem",
    "ProblemError",
    "ProgressCallback",
    "RosterProblem",
    "RosterSolution",
    "Rule",
    "ShiftRequest",
    "ShiftType",
    "SolveStatus",
    "StaffRules",
    "StopReason",
    "Violation",
    "evaluate",
    "explain",
    "solve",
    "validate",
]
