"""Small DataTables (a few dozen rows): fill them with fixed column widths."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import DataTable

from tui.widgets.paged import Cell

Row = tuple[str | None, Sequence[Cell]]


def text_width(cell: Cell) -> int:
    """Columns a cell needs: its longest line (a two-line cell is as wide as its wider line)."""
    text = cell.plain if isinstance(cell, Text) else str(cell)
    return max((cell_len(line) for line in text.split("\n")), default=0)


def fill_table(table: DataTable[Cell], rows: Iterable[Row], *, max_width: int = 60, height: int = 1) -> None:
    """Replace a table's rows, with each column as wide as what it shows (up to ``max_width``).
    ``height``: lines per row, for cells of several lines.

    DataTable measures auto-width columns later, in its idle handler; a paint in between caches
    cells cut at the old width (seen as "ok, checked 2" after a reload). Fixing the widths
    before the rows go in avoids that.
    """
    rows = list(rows)
    columns = table.ordered_columns
    widths = [text_width(col.label) for col in columns]
    for _, cells in rows:
        for i, c in enumerate(cells[: len(widths)]):
            widths[i] = max(widths[i], min(text_width(c), max_width))
    for col, w in zip(columns, widths, strict=True):
        col.width = w
        col.auto_width = False
    table.clear()
    for key, cells in rows:
        table.add_row(*cells, key=key, height=height)
