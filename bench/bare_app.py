"""The yardstick for the start-up and memory benchmarks: a bare Textual app with a Header, a
50-row DataTable and a Footer, nothing else (no database, no ClerkDesk code).

    python -m bench.bare_app
"""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import DataTable, Footer, Header

MARKER = "bare row 7"  # what the benchmarks wait for on screen


class BareApp(App[None]):
    def compose(self) -> ComposeResult:
        yield Header()
        yield DataTable(cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table: DataTable[str] = self.query_one(DataTable)
        table.add_columns("Name", "Number", "Text")
        for i in range(50):
            table.add_row(f"bare row {i}", str(i * 37), "some text " * 3)


if __name__ == "__main__":
    BareApp().run()
