"""The header: who is working, their role, a status (a clerk's clock state), the office date and
time (office zone)."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from db.timeutil import office_now


class OfficeHeader(Static):
    DEFAULT_CSS = """
    OfficeHeader { dock: top; height: 1; background: $panel; color: $text; padding: 0 1; }
    """

    status: reactive[str] = reactive("")

    def __init__(self, user: str, role: str, tz: str) -> None:
        super().__init__()
        self.user = user
        self.role = role
        self.tz = tz

    def on_mount(self) -> None:
        self.set_interval(15, self.refresh)

    def render(self) -> Text:
        t = office_now(self.tz)
        left = Text.assemble(("ClerkDesk", "bold"), "  ", (self.user, "bold"), f" ({self.role})")
        if self.status:
            left.append(f"  · {self.status}")
        right = t.format("ddd D MMM YYYY  HH:mm zz")
        width = max(self.size.width - 2, 0)
        if left.cell_len + len(right) + 3 > width:  # narrow terminal and a status: keep the time
            right = t.format("HH:mm zz")
        pad = max(width - left.cell_len - len(right), 1)
        left.append(" " * pad + right)
        return left
