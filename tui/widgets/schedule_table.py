"""The schedule grid's tables: clerks × days, and the coverage rows under them (docs/schedule.md).

How a cell reads (no colour needed): a published shift in capitals (``E``), a draft in lower
case and italics (``e``), ``+`` a hand edit the builder keeps, ``!`` a broken rule (reverse),
``·`` off, ``·+`` a pinned day off (builds leave it empty), ``~`` approved time off, ``#`` a
holiday, ``>`` the cell marked for a swap. Under the
grid, people per day and shift type against the minimum; a shortfall is ``!`` in reverse.

The tables only render a ``GridModel`` (scheduling/grid_view.py); the screen owns the model,
the cursor's meaning and every edit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from rich.text import Text
from textual import events
from textual.coordinate import Coordinate
from textual.widgets import DataTable

from scheduling.grid_view import WEEKDAY, GridModel, Key, day_label, long_day
from scheduling.shifts import fmt_hm, week_start

LEGEND = (
    "Cells: E published, e draft, + hand edit (builds keep it), ! rule broken, "
    "· off, ·+ day off pinned, ~ time off, # holiday, > marked for a swap."
)


def type_order(model: GridModel, code: str) -> tuple[dt.time, str]:
    t = model.types.get(code)
    return (t.start_time if t else dt.time(0), code)


def cell_text(model: GridModel, login: str, day: dt.date, mark: Key | None) -> Text:
    c = model.cells.get((login, day))
    broken = bool(model.breaks_on(login, day))
    lead = ">" if mark == (login, day) else " "
    if c is None or c.code is None:
        if day in model.grid.holidays:
            body, style = "#", "dim"
        elif (login, day) in model.time_off:
            body, style = "~", "dim"
        else:
            body, style = "·", "dim"
        if c is not None and c.pinned:
            body += "+"  # like a hand edit: the builder keeps it
    else:
        body = c.code if c.published else c.code.lower()
        style = "bold" if c.published else "italic"
        if c.fixed:
            body += "+"
    if broken:
        body += "!"
        style = "bold reverse"
    if lead == ">":
        style += " underline"
    return Text(lead + body, style=style)


def hours_text(model: GridModel, login: str) -> Text:
    weekly = model.weekly_breaks(login)
    text = " " + fmt_hm(model.row_minutes(login))
    return Text(text + ("!" if weekly else ""), style="bold reverse" if weekly else "")


def coverage_text(model: GridModel, day: dt.date, code: str, four: bool) -> Text:
    ct = model.coverage.get((day, code))
    if ct is None:
        return Text("")
    if ct.required == 0 and ct.scheduled == 0:
        return Text(" ·", style="dim")
    short = ct.short > 0
    body = f" {ct.scheduled}" if four else f" {ct.scheduled}/{ct.required}"
    return Text(body + ("!" if short else ""), style="bold reverse" if short else "")


def column_widths(model: GridModel, four: bool) -> list[int]:
    """Name column, one per day (wide enough for the longest code and coverage text), hours."""
    longest = max((len(t.code) for t in model.grid.shift_types), default=1)
    name_w = min(max((len(r.name) for r in model.grid.rows), default=5), 16) + 1
    cov_cells = [coverage_text(model, d, code, four) for (d, code) in model.coverage]
    day_w = max((4 if four else 6), longest + 3, max((len(t.plain) for t in cov_cells), default=0))
    hours_w = 8 if four else 7
    return [name_w, *([day_w] * len(model.grid.days)), hours_w]


# --------------------------------------------------------------------------- the detail panel


def cell_detail(m: GridModel, login: str | None, key: Key | None, mark: Key | None) -> Text:
    """The cell under the cursor: what it holds, then its rule breaks (first, so they show
    at 80×24), then time off, holiday, the day's coverage and who the clerk is. ``key`` None: the
    cursor is on the name or hours column."""
    if login is None:
        return Text("No clerks in this period.")
    row = next(r for r in m.grid.rows if r.login == login)
    out = Text()
    out.append(row.name, style="bold")
    if key is None:
        out.append(f" · {fmt_hm(m.row_minutes(login))} paid in the period shown\n")
        for b in m.weekly_breaks(login):
            out.append(f" ! week of {day_label(b.week)}: {b.message}\n", style="bold")
        out.append(f"{row.login}" + (f" · team {row.team}" if row.team else ""))
        return out
    _, day = key
    c = m.cells.get(key)
    out.append(f" · {long_day(day)}: ", style="bold")
    if c is None or c.code is None:
        out.append("off")
        if c is not None and c.pinned:
            out.append(" · day off pinned (builds leave it empty; O unpins)")
    else:
        t = m.types.get(c.code)
        out.append(t.label if t else c.code)
        out.append(" · " + ("published" if c.published else "draft"))
        if c.fixed:
            out.append(" · hand edit (builds keep it)")
    out.append("\n")
    here = m.breaks_on(login, day)
    weekly = m.weekly_breaks(login, week_start(day))
    for b in here:
        out.append(f" ! {b.message}\n", style="bold")
    for b in weekly:
        out.append(f" ! (week) {b.message}\n", style="bold")
    if not here and not weekly:
        out.append("No rule broken.\n")
    if key in m.time_off:
        out.append("Approved time off that day")
        out.append(f": {m.time_off[key]}" if m.time_off[key] else "")
        out.append(".\n")
    if day in m.grid.holidays:
        out.append(f"Holiday: {m.grid.holidays[day]}.\n")
    out.append(day_coverage_line(m, day))
    out.append(f"\n{row.login}" + (f" · team {row.team}" if row.team else ""))
    if mark is not None:
        out.append(
            f"\nMarked for swap: {m.name(mark[0])}, {day_label(mark[1])} "
            "(x on another clerk's cell that day swaps them)."
        )
    return out


def day_coverage_line(m: GridModel, day: dt.date) -> Text:
    parts = Text("Coverage: ")
    first = True
    for (d, code), ct in sorted(m.coverage.items(), key=lambda kv: type_order(m, kv[0][1])):
        if d != day or (ct.required == 0 and ct.scheduled == 0):
            continue
        if not first:
            parts.append(" · ")
        first = False
        if ct.short:
            parts.append(f"{code} {ct.scheduled}/{ct.required} ({ct.short} short)", style="bold reverse")
        else:
            parts.append(f"{code} {ct.scheduled}/{ct.required}")
    if first:
        parts.append("none wanted")
    return parts


def coverage_detail(m: GridModel, code: str, day: dt.date | None) -> Text:
    """One coverage cell (``day`` None: the row's label): the numbers, who works, who does not."""
    t = m.types.get(code)
    if day is None:
        return Text(f"{t.label if t else code}: people per day under the grid; ! = below the minimum.")
    ct = m.coverage.get((day, code))
    out = Text()
    out.append(f"{long_day(day)} · {t.label if t else code}\n", style="bold")
    if ct is None:
        return out
    pref = f", prefers {ct.preferred}" if ct.preferred is not None else ""
    out.append(f"{ct.scheduled} scheduled ({ct.published} published); needs {ct.required}{pref}.\n")
    if ct.short:
        out.append(f"{ct.short} short of the minimum.\n", style="bold reverse")
    elif ct.short_of_preferred:
        out.append(f"{ct.short_of_preferred} short of the preferred number.\n")
    elif ct.over:
        out.append(f"{ct.over} more than wanted.\n")
    on = [m.name(lg) for lg in m.logins if (c := m.cells.get((lg, day))) is not None and c.code == code]
    off = []
    for lg in m.logins:
        c = m.cells.get((lg, day))
        if c is not None and c.code is not None:
            continue
        why = ""
        if (lg, day) in m.time_off:
            why = " (time off)"
        elif c is not None and c.pinned:
            why = " (day off pinned)"
        off.append(m.name(lg) + why)
    if on:
        out.append("On: " + ", ".join(on) + "\n")
    if off:
        out.append("Not working that day: " + ", ".join(off) + "\n")
    if day in m.grid.holidays:
        out.append(f"Holiday: {m.grid.holidays[day]} (no coverage wanted).\n")
    return out


# --------------------------------------------------------------------------- the tables


class GridTable(DataTable[Text]):
    """The clerks × days table. A letter that is not a command key types a shift code: the
    screen sets ``on_type``, which says whether it took the key."""

    on_type: Callable[[events.Key], bool] | None = None

    def on_key(self, event: events.Key) -> None:
        if self.on_type is not None and self.on_type(event):
            event.stop()
            event.prevent_default()

    def show(self, model: GridModel, widths: list[int], four: bool, mark: Key | None) -> None:
        """Columns and rows from scratch (a new period or a reload)."""
        self.clear(columns=True)
        name_w, hours_w = widths[0], widths[-1]
        self.add_column(Text("Clerk\n"), width=name_w, key="name")
        for d, day_w in zip(model.grid.days, widths[1:-1], strict=True):
            hol = "#" if d in model.grid.holidays else ""
            if four:
                label = Text(
                    f" {WEEKDAY[d.weekday()][:2]}{hol}\n {d.day}", style="bold" if d.weekday() == 0 else ""
                )
            else:
                label = Text(f" {WEEKDAY[d.weekday()]}{hol}\n {d.month}/{d.day}")
            self.add_column(label, width=day_w, key=d.isoformat())
        self.add_column(Text(" Hours\n"), width=hours_w, key="hours")
        for r in model.grid.rows:
            self.add_row(
                Text(r.name[: name_w - 1]),
                *(cell_text(model, r.login, d, mark) for d in model.grid.days),
                hours_text(model, r.login),
                key=r.login,
            )

    def refresh_cells(self, model: GridModel, mark: Key | None) -> None:
        """Re-render every cell from the model (after an edit), keeping the cursor and widths."""
        for r, row in enumerate(model.grid.rows):
            for k, d in enumerate(model.grid.days, start=1):
                self.update_cell_at(Coordinate(r, k), cell_text(model, row.login, d, mark))
            self.update_cell_at(Coordinate(r, len(model.grid.days) + 1), hours_text(model, row.login))


class CoverageTable(DataTable[Text]):
    """People per day and shift type, aligned under the grid's columns."""

    def show(self, model: GridModel, widths: list[int], four: bool) -> None:
        self.clear(columns=True)
        name_w, hours_w = widths[0], widths[-1]
        self.add_column(Text(""), width=name_w, key="name")
        for d, day_w in zip(model.grid.days, widths[1:-1], strict=True):
            self.add_column(Text(""), width=day_w, key=d.isoformat())
        self.add_column(Text(""), width=hours_w, key="hours")
        codes = sorted({code for (_, code) in model.coverage}, key=lambda c: type_order(model, c))
        for code in codes:
            t = model.types.get(code)
            row_label = f"{code} {t.name}" if t else code
            self.add_row(
                Text(row_label[: name_w - 1], style="bold"),
                *(coverage_text(model, d, code, four) for d in model.grid.days),
                Text(""),
                key=code,
            )

    def refresh_cells(self, model: GridModel, four: bool) -> None:
        for r, key in enumerate(self.rows):
            code = str(key.value)
            for k, d in enumerate(model.grid.days, start=1):
                self.update_cell_at(Coordinate(r, k), coverage_text(model, d, code, four))
