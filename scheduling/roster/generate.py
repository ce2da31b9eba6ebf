"""Deterministic generator of realistic roster problems, for the bench and the tests.

A billing office open 06:00-22:00 on weekdays with a thin weekend service. Shift types have a
start hour and a length; a shift may not follow another when the rest between them is under
11 hours. Clerks are full-time (40 h/week) or part-time (32 h or 24 h), qualified for about
two thirds of the shift types, with a few approved days off and requests. Coverage is sized
to roughly the capacity of the staff, so some trade-offs remain. The same seed always gives
the same problem.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from scheduling.roster.evaluate import Evaluator
from scheduling.roster.problem import (
    Clerk,
    Coverage,
    ProblemIndex,
    RosterProblem,
    ShiftRequest,
    ShiftType,
    StaffRules,
)

# name, clerks, days, shift types
SIZES: dict[str, tuple[int, int, int]] = {
    "12x2w": (12, 14, 2),
    "20x4w": (20, 28, 3),
    "40x4w": (40, 28, 5),
    "120x4w": (120, 28, 18),
    "100x26w": (100, 182, 8),
    "50x26w-low": (50, 182, 8),
    "150x52w-low": (150, 364, 8),
}
# Sizes whose office asks for half the usual coverage (see ``cover`` in :func:`generate`).
COVER: dict[str, float] = {"50x26w-low": 0.5, "150x52w-low": 0.5}

MIN_REST_HOURS = 11

# The first shift types an office adds, in order: (code, name, start hour, hours).
_BASE_SHIFTS = [
    ("E", "Early", 7, 8),
    ("L", "Late", 11, 8),
    ("M", "Middle", 9, 8),
    ("V", "Evening", 14, 8),
    ("P", "Part morning", 8, 4),
]

_FIRST = [
    "Ana",
    "Ben",
    "Carla",
    "Dev",
    "Eva",
    "Farid",
    "Greta",
    "Hugo",
    "Ines",
    "Jon",
    "Kira",
    "Luis",
    "Mia",
    "Noor",
    "Omar",
    "Pia",
    "Quinn",
    "Rosa",
    "Sam",
    "Tess",
]
_LAST = [
    "Ruiz",
    "Okafor",
    "Lind",
    "Patel",
    "Novak",
    "Haddad",
    "Berg",
    "Moreau",
    "Silva",
    "Kato",
    "Weber",
    "Costa",
    "Nagy",
    "Ali",
    "Dunn",
    "Park",
    "Reyes",
    "Fox",
    "Ivanova",
    "Shah",
]


def shift_types(n: int) -> list[ShiftType]:
    """``n`` shift types: the five usual ones, then variants of other starts and lengths."""
    specs = list(_BASE_SHIFTS[:n])
    k = 0
    while len(specs) < n:
        start = 6 + (k * 5) % 9  # 06:00 .. 14:00
        hours = (4, 6, 8, 10)[(k // 3) % 4]
        code = f"S{start:02d}{hours}"
        if all(s[0] != code for s in specs) and start + hours <= 22:
            specs.append((code, f"{start:02d}:00 {hours} h", start, hours))
        k += 1
    out = []
    for code, name, start, hours in specs:
        end = start + hours
        forbidden = frozenset(c2 for c2, _, s2, _ in specs if 24 - end + s2 < MIN_REST_HOURS)
        out.append(ShiftType(code, name, hours * 60, forbidden))
    return out


def generate(
    n_clerks: int,
    n_days: int,
    n_shifts: int,
    *,
    seed: int = 0,
    start: date = date(2026, 3, 2),
    history_days: int = 7,
    fixed_cells: int = 0,
    cover: float = 1.0,
) -> RosterProblem:
    """A feasible problem of the given size (``start`` should be a Monday).

    ``fixed_cells`` pins that many cells per clerk to a qualified shift, as a supervisor
    would before asking the solver to fill the rest. ``cover`` scales the coverage asked for:
    at 0.5 the office wants fewer hours than its staff's minimum minutes add up to, so
    covering the days alone leaves nearly every clerk short of their minimum.
    """
    rng = random.Random(f"roster-{n_clerks}-{n_days}-{n_shifts}-{seed}")
    days = [start + timedelta(days=k) for k in range(n_days)]
    shifts = shift_types(n_shifts)
    weeks = n_days / 7
    n_weekends = len({d - timedelta(days=d.weekday()) for d in days if d.weekday() >= 5})
    long_shifts = [s for s in shifts if s.minutes >= 480]

    weekend_of = {k: (d - timedelta(days=d.weekday())) for k, d in enumerate(days) if d.weekday() >= 5}
    staff: list[Clerk] = []
    history: dict[str, list[str | None]] = {}
    witnesses: dict[str, list[str | None]] = {}
    for i in range(n_clerks):
        name = f"{_FIRST[i % len(_FIRST)]} {_LAST[(i * 7 + i // len(_FIRST)) % len(_LAST)]}"
        weekly = rng.choices([40, 32, 24], weights=[6, 2, 2])[0]
        # Qualified for about two thirds of the types, always for at least one full shift.
        main = rng.choice(long_shifts)
        quals = {s.code for s in shifts if rng.random() < 0.67} | {main.code}
        max_shifts: dict[str, int] = {s.code: 0 for s in shifts if s.code not in quals}
        for code in sorted(quals - {main.code}):
            if rng.random() < 0.15:  # e.g. "at most one Evening a week"
                max_shifts[code] = max(1, round(weeks))
        target = round(weekly * weeks * 60)
        max_cons = rng.choice([5, 5, 6])
        min_work = rng.choice([1, 2, 2])
        min_off = rng.choice([1, 2, 2])
        max_weekends = max(1, (n_weekends + 1) // 2)
        # History: a complete trailing run, so nothing is forced beyond the max run length.
        if rng.random() < 0.5:
            pattern: list[str | None] = [None] * max(min_off, 2) + [main.code] * rng.randint(
                min_work, max_cons - 1
            )
        else:
            pattern = [main.code] * rng.randint(min_work, max_cons) + [None] * rng.randint(min_off, 3)
        hist = pattern[-history_days:] if history_days else []
        # A witness row that keeps every hard rule; fixed days off, fixed cells and the
        # minimum minutes are then drawn so that it stays valid: the problem is feasible.
        witness = _witness(hist, n_days, main, target, min_work, max_cons, min_off, max_weekends, weekend_of)
        worked = sum(1 for s in witness if s is not None) * main.minutes
        off_days = [days[k] for k, s in enumerate(witness) if s is None]
        n_off = min(len(off_days), rng.randint(0, max(1, round(weeks * 0.75))))
        rules = StaffRules(
            min_minutes=min(round(target * 0.75), worked) // 60 * 60,
            max_minutes=max(round(target * 1.1) // 60 * 60, worked),
            max_shifts=max_shifts,
            min_consecutive_work=min_work,
            max_consecutive_work=max_cons,
            min_consecutive_off=min_off,
            max_weekends=max_weekends,
            fixed_days_off=frozenset(rng.sample(off_days, n_off)),
        )
        cid = f"c{i:03d}"
        staff.append(Clerk(cid, name, rules))
        if hist:
            history[cid] = hist
        witnesses[cid] = witness

    # Coverage: about the minutes the staff can give (midway between their min and max),
    # busiest on Mondays, mostly on full-length shifts.
    capacity = sum((c.rules.min_minutes + (c.rules.max_minutes or 0)) / 2 for c in staff)
    day_weight = [(1.2, 1.0, 1.0, 1.0, 0.9, 0.25, 0.2)[d.weekday()] for d in days]
    shift_weight = [(3.0 if s.minutes >= 480 else 1.0) * rng.uniform(0.6, 1.4) for s in shifts]
    total_w = sum(day_weight) * sum(shift_weight)
    coverage = []
    for k, d in enumerate(days):
        for s, sw in zip(shifts, shift_weight, strict=True):
            exact = cover * capacity * day_weight[k] * sw / total_w / s.minutes
            req = int(exact) + (1 if rng.random() < exact - int(exact) else 0)
            if req == 0 and d.weekday() >= 5:
                continue
            coverage.append(
                Coverage(
                    d, s.code, req, under_weight=rng.choice([10, 10, 20]), over_weight=rng.choice([1, 2, 5])
                )
            )

    requests = []
    for c in staff:
        qual = [s.code for s in shifts if c.rules.max_shifts.get(s.code) != 0]
        for _ in range(max(1, round(weeks * 0.6))):
            d = rng.choice(days)
            if d in c.rules.fixed_days_off:
                continue
            kind = rng.random()
            if kind < 0.5:
                requests.append(ShiftRequest(c.id, d, None, False, rng.randint(1, 5)))
            elif kind < 0.8:
                requests.append(ShiftRequest(c.id, d, rng.choice(qual), False, rng.randint(1, 3)))
            else:
                requests.append(ShiftRequest(c.id, d, rng.choice(qual), True, rng.randint(1, 3)))

    fixed: dict[tuple[str, date], str | None] = {}
    for c in staff:
        for k in sorted(rng.sample(range(n_days), k=min(fixed_cells, n_days))):
            if days[k] not in c.rules.fixed_days_off:
                fixed[(c.id, days[k])] = witnesses[c.id][k]

    problem = RosterProblem(days, shifts, staff, coverage, requests, history, fixed)
    # Guard the construction: every witness row must pass the independent evaluator.
    ix = ProblemIndex(problem)
    ev = Evaluator(ix)
    rows = ix.rows_from(witnesses)
    assert not any(ev.clerk_violations(c, rows[c.i]) for c in ix.clerks)
    return problem


def _witness(
    hist: list[str | None],
    n_days: int,
    main: ShiftType,
    target: int,
    min_work: int,
    max_cons: int,
    min_off: int,
    max_weekends: int,
    weekend_of: dict[int, date],
) -> list[str | None]:
    """Work ``main`` whenever the run rules allow, up to ``target`` minutes."""
    works = bool(hist) and hist[-1] is not None
    run = 0
    for h in reversed(hist):
        if (h is not None) != works:
            break
        run += 1
    used: set[date] = set()
    row: list[str | None] = []
    minutes = 0

    def weekends_ok(first: int, last: int) -> bool:
        new = {weekend_of[k] for k in range(first, min(last, n_days - 1) + 1) if k in weekend_of}
        return len(used | new) <= max_weekends

    for k in range(n_days):
        if works:
            if run < min_work:
                work = True  # checked by weekends_ok when the run started
            elif run >= max_cons:
                work = False
            else:
                work = minutes < target and weekends_ok(k, k)
        elif run < min_off and (run or k):
            work = False
        else:
            work = minutes < target and weekends_ok(k, k + max(min_work - 1, 0))
        if work == works:
            run += 1
        else:
            works, run = work, 1
        if work:
            minutes += main.minutes
            if k in weekend_of:
                used.add(weekend_of[k])
        row.append(main.code if work else None)
    return row


def generate_size(name: str, *, seed: int = 0) -> RosterProblem:
    """One of the named sizes in :data:`SIZES`, e.g. ``generate_size("20x4w")``."""
    n_clerks, n_days, n_shifts = SIZES[name]
    return generate(n_clerks, n_days, n_shifts, seed=seed, cover=COVER.get(name, 1.0))
