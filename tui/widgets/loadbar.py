"""A clerk's load as a bar: assigned minutes against capacity, readable without colour.

``load_bar(240, 420, width=10)`` → ``██████░░░░ 240/420 57%``. Over capacity the bar is full,
ends in ``!`` and the figure says ``OVER`` in reverse, so it reads the same under NO_COLOR.
No capacity at all (an absent clerk, a clerk with no shift minutes) reads ``no capacity``.
"""

from __future__ import annotations

from rich.text import Text

FULL = "█"
EMPTY = "░"


def load_fraction(assigned: int, capacity: int) -> float | None:
    """Assigned over capacity; None when there is no capacity to compare with."""
    if capacity <= 0:
        return None
    return assigned / capacity


def bar_cells(assigned: int, capacity: int, width: int) -> int:
    """How many cells of ``width`` are filled (rounded down, at least 1 when anything is assigned)."""
    frac = load_fraction(assigned, capacity)
    if frac is None or width <= 0:
        return 0
    cells = min(int(frac * width), width)
    if assigned > 0 and cells == 0:
        cells = 1  # a little work must not look like none
    return cells


def load_bar(assigned: int, capacity: int, *, width: int = 10, figures: bool = True) -> Text:
    """The bar, then (with ``figures``) ``assigned/capacity pct%``."""
    text = Text()
    frac = load_fraction(assigned, capacity)
    if frac is None:
        text.append(EMPTY * width, style="dim")
        if figures:
            text.append(f" {assigned}/0 no capacity" if assigned else " no capacity", style="italic")
        return text
    over = assigned > capacity
    cells = bar_cells(assigned, capacity, width)
    if over:
        text.append(FULL * (width - 1) + "!", style="bold reverse")
    else:
        text.append(FULL * cells, style="bold")
        text.append(EMPTY * (width - cells), style="dim")
    if figures:
        text.append(f" {assigned}/{capacity} {round(frac * 100)}%")
        if over:
            text.append(" ")
            text.append("OVER", style="bold reverse")
    return text


def minutes_text(minutes: int) -> str:
    """``95`` → ``1h35``; under an hour ``45m``."""
    h, m = divmod(max(minutes, 0), 60)
    return f"{h}h{m:02d}" if h else f"{m}m"
