"""Small DataTables (a few dozen rows): fill them with fixed column widths."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import DataTable

from tui.widgets.paged import Cell

Row = tuple[str | None, Sequence[Cell]]


def fill_table(table: DataTable[Cell], rows: Iterable[Row], *, max_width: int = 60) -> None:
    """Replace a table's rows, with each column as wide as what it shows (up to ``max_width``).

    DataTable measures auto-width columns later, in its idle handler; a paint in between caches
    cells cut at the old width (seen as "ok, checked 2" after a reload). Fixing the widths
    before the rows go in avoids that.
    """
    rows = list(rows)
    columns = table.ordered_columns
    widths = [col.label.cell_len for col in columns]
    for _, cells in rows:
        for i, c in enumerate(cells[: len(widths)]):
            w = c.cell_len if isinstance(c, Text) else cell_len(str(c))
            widths[i] = max(widths[i], min(w, max_width))
    for col, w in zip(columns, widths, strict=True):
        col.width = w
        col.auto_width = False
    table.clear()
    for key, cells in rows:
        table.add_row(*cells, key=key)
