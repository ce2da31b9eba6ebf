"""What the schedule grid shows, read in one go (docs/schedule.md): the grid, its evaluation against
every rule, the approved time off of the range, and how an edit's result folds into it.

No Textual here: the screen (screens/supervisor/schedule_grid.py) and its table widget
(tui/widgets/schedule_table.py) render this model.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from db.models import RequestStatus
from db.rights import Actor
from db.timeutil import minutes_between
from scheduling import shifts, timeoff
from scheduling.shifts import (
    CoverageTotal,
    EditResult,
    Grid,
    GridCell,
    RuleBreak,
    ShiftTypeView,
    week_start,
)
from scheduling.timeoff import TimeOffView

WEEKDAY = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
Key = tuple[str, dt.date]  # (login, day)


def day_label(d: dt.date) -> str:
    return f"{WEEKDAY[d.weekday()]} {d.day} {d:%b}"


def long_day(d: dt.date) -> str:
    return f"{WEEKDAY[d.weekday()]} {d.day} {d:%b} {d.year}"


def plain_date(d: dt.date) -> dt.date:
    """pendulum dates are dates, but keys and arithmetic are kept in plain ``datetime.date``."""
    return dt.date(d.year, d.month, d.day)


# --------------------------------------------------------------------------- what the grid shows


@dataclass
class GridModel:
    """The grid as last loaded, kept up to date by each edit's result."""

    grid: Grid
    cells: dict[Key, GridCell]
    breaks: list[RuleBreak]
    coverage: dict[tuple[dt.date, str], CoverageTotal]
    week_penalty: dict[dt.date, int]
    time_off: dict[Key, str]
    unmet: list[str] = field(default_factory=list)

    @property
    def logins(self) -> list[str]:
        return [r.login for r in self.grid.rows]

    @property
    def types(self) -> dict[str, ShiftTypeView]:
        return {t.code: t for t in self.grid.shift_types}

    @property
    def active_codes(self) -> list[str]:
        return [t.code for t in self.grid.shift_types if t.active]

    def name(self, login: str) -> str:
        return next((r.name for r in self.grid.rows if r.login == login), login)

    def row_minutes(self, login: str) -> int:
        total = 0
        types = self.types
        for d in self.grid.days:
            c = self.cells.get((login, d))
            if c is None or c.code is None or c.starts_at is None or c.ends_at is None:
                continue
            unpaid = types[c.code].unpaid_break_minutes if c.code in types else 0
            total += max(minutes_between(c.starts_at, c.ends_at) - unpaid, 0)
        return total

    def breaks_on(self, login: str, day: dt.date) -> list[RuleBreak]:
        return [b for b in self.breaks if b.login == login and b.day == day]

    def weekly_breaks(self, login: str, week: dt.date | None = None) -> list[RuleBreak]:
        return [
            b for b in self.breaks if b.login == login and b.day is None and (week is None or b.week == week)
        ]

    def drafts(self) -> int:
        return sum(1 for c in self.cells.values() if c.code is not None and not c.published)

    def shifts(self) -> int:
        return sum(1 for c in self.cells.values() if c.code is not None)

    def apply(self, res: EditResult) -> None:
        """Fold an edit's result in: its cells, the touched clerks' breaks, the weeks' coverage."""
        for c in res.cells:
            self.cells[(c.login, plain_date(c.day))] = c
        weeks = {week_start(c.day) for c in res.coverage} | {week_start(c.day) for c in res.cells}
        logins = {c.login for c in res.cells}
        kept = [b for b in self.breaks if not (b.login in logins and b.week in weeks)]
        new = [b for b in res.violations if b.day is None or self.grid.start <= b.day <= self.grid.end]
        self.breaks = kept + new
        for ct in res.coverage:
            if self.grid.start <= ct.day <= self.grid.end:
                self.coverage[(plain_date(ct.day), ct.shift_code)] = ct
        if len(weeks) == 1:
            self.week_penalty[next(iter(weeks))] = res.penalty


def load_model(actor: Actor, s: Session, start: dt.date, end: dt.date) -> GridModel:
    """One read: the grid, its evaluation and the approved time off of the range."""
    from scheduling import rostering

    grid = shifts.schedule_grid(actor, s, start, end)
    ev = rostering.evaluate_grid(actor, s, start, end)
    off: list[TimeOffView] = timeoff.list_time_off(
        actor, s, status=RequestStatus.APPROVED, start=start, end=end
    )
    cells = {(c.login, plain_date(c.day)): c for r in grid.rows for c in r.cells}
    penalty: dict[dt.date, int] = {}
    for it in ev.items:
        ws = week_start(it.day)
        penalty[ws] = penalty.get(ws, 0) + it.amount
    ws = start
    while ws <= end:
        penalty.setdefault(ws, 0)
        ws += dt.timedelta(days=7)
    time_off: dict[Key, str] = {}
    for r in off:
        d = max(r.start_date, start)
        while d <= min(r.end_date, end):
            time_off[(r.login, d)] = r.reason
            d += dt.timedelta(days=1)
    return GridModel(
        grid,
        cells,
        list(ev.violations),
        {(plain_date(c.day), c.shift_code): c for c in ev.coverage},
        penalty,
        time_off,
        [it.message for it in ev.items],
    )


def week_starts(start: dt.date, end: dt.date) -> list[dt.date]:
    """The Mondays of the schedule weeks start..end touches."""
    out = []
    ws = week_start(start)
    while ws <= end:
        out.append(ws)
        ws += dt.timedelta(days=7)
    return out
