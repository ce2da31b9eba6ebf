"""Roster engine: dataclasses in, dataclasses out. No database, no UI (see docs/roster.md)."""

from scheduling.roster.evaluate import Evaluation, Evaluator, PenaltyItem, Violation, evaluate
from scheduling.roster.explain import Conflict, explain
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
from scheduling.roster.solver import ProgressCallback, RosterSolution, SolveStatus, StopReason, solve

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
