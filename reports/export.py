"""The output report as text: plain text and markdown through tabulate, CSV, JSON.

The same report always gives the same bytes (rows in the report's order, fixed columns, money
as plain decimals in CSV and JSON, no time stamp of the export itself), so two runs over the
same data can be compared with ``cmp``. Nothing here reads or changes the database.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from tabulate import tabulate

from db.money import fmt_money
from reports.output import (
    FIGURE_BY_KEY,
    FIGURES,
    KINDS,
    ClerkOutput,
    DrillPage,
    FigureDef,
    OutputReport,
    hours_text,
)

FORMATS = ("text", "md", "csv", "json")
HOURS = FIGURE_BY_KEY["worked_minutes"]


def cell(f: FigureDef, value: Any, symbol: str = "$") -> str:
    """A figure as a person reads it: money with the symbol, hours as h:mm, a missing rate as —."""
    if value is None:
        return "—"
    if f.kind == "money":
        return fmt_money(value, symbol)
    if f.kind == "money_rate":
        return fmt_money(value, symbol)
    if f.kind == "minutes":
        return hours_text(int(value))
    if f.kind == "rate":
        return f"{value:.2f}"
    return str(value)


def plain(f: FigureDef, value: Any) -> str:
    """A figure for a machine: plain decimals, hours as decimal hours, empty when there is none."""
    if value is None:
        return ""
    if f.kind == "minutes":
        return f"{Decimal(int(value)) / 60:.2f}"
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return str(value)


def _all_rows(report: OutputReport) -> list[ClerkOutput]:
    return [*report.rows, *((report.team,) if report.team else ())]


def _title(report: OutputReport) -> str:
    return (
        f"Output per clerk, {report.start.isoformat()} to {report.end.isoformat()} (office days, {report.tz})"
    )


def _tables(report: OutputReport, fmt: str, symbol: str) -> str:
    headers = ["Login", "Name", *[f.label for f in FIGURES]]
    body = [[r.login, r.name, *[cell(f, r.value(f.key), symbol) for f in FIGURES]] for r in _all_rows(report)]
    kinds_headers = ["Login", *[f"{k.value} done/assigned" for k in KINDS]]
    kinds = [[r.login, *[f"{k.done}/{k.assigned}" for k in r.by_kind]] for r in _all_rows(report)]
    tablefmt = "github" if fmt == "md" else "simple"
    align = ["left", "left", *["right"] * len(FIGURES)]
    parts = [
        ("# " if fmt == "md" else "") + _title(report),
        "",
        tabulate(body, headers=headers, tablefmt=tablefmt, colalign=align, disable_numparse=True),
        "",
        ("## " if fmt == "md" else "") + "Work items by kind (done/assigned)",
        "",
        tabulate(kinds, headers=kinds_headers, tablefmt=tablefmt, disable_numparse=True),
        "",
    ]
    return "\n".join(parts)


def csv_header() -> list[str]:
    kinds = [f"{k.value}_{what}" for k in KINDS for what in ("assigned", "done")]
    return ["from", "to", "login", "name", *[f.key for f in FIGURES], "signed_hours", *kinds]


def _csv(report: OutputReport) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(csv_header())
    for r in _all_rows(report):
        w.writerow(
            [
                report.start.isoformat(),
                report.end.isoformat(),
                r.login,
                r.name,
                *[plain(f, r.value(f.key)) for f in FIGURES],
                plain(HOURS, r.signed_minutes),
                *[str(v) for k in r.by_kind for v in (k.assigned, k.done)],
            ]
        )
    return buf.getvalue()


def _json(report: OutputReport) -> str:
    def one(r: ClerkOutput) -> dict[str, Any]:
        d: dict[str, Any] = {"login": r.login, "name": r.name}
        for f in FIGURES:
            d[f.key] = plain(f, r.value(f.key)) if f.kind != "int" else r.value(f.key)
        d["worked_hours"] = d.pop("worked_minutes")
        d["signed_hours"] = plain(HOURS, r.signed_minutes)
        d["by_kind"] = {k.kind: {"assigned": k.assigned, "done": k.done} for k in r.by_kind}
        return d

    doc = {
        "from": report.start.isoformat(),
        "to": report.end.isoformat(),
        "timezone": report.tz,
        "rows": [one(r) for r in report.rows],
        "team": one(report.team) if report.team else None,
    }
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def render(report: OutputReport, fmt: str, symbol: str = "$") -> str:
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    if fmt == "csv":
        return _csv(report)
    if fmt == "json":
        return _json(report)
    return _tables(report, fmt, symbol)


def render_drill(pages: Sequence[DrillPage], fmt: str) -> str:
    """Drill-down rows (all pages given) as markdown or CSV."""
    if not pages:
        return ""
    columns = list(pages[0].columns)
    rows = [list(cells) for p in pages for _, cells in p.rows]
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(columns)
        w.writerows(rows)
        return buf.getvalue()
    table = tabulate(
        rows, headers=columns, tablefmt="github" if fmt == "md" else "simple", disable_numparse=True
    )
    return f"{'# ' if fmt == 'md' else ''}{pages[0].title}\n\n{table}\n"
