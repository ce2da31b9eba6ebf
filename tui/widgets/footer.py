"""The key footer of every screen: the screen's own keys first, on as many lines as they need.

Textual's ``Footer`` lays every key on one line in binding-chain order and cuts off whatever
does not fit, so at 80 columns a screen with ten keys lost its last ones (the client account:
Edit, Post payment, Plan). ``KeyFooter`` orders the keys by whose they are (the screen's, then
the focused widget's, then the app's generic ones), goes compact below ``COMPACT_BELOW``
columns and wraps onto a second (rarely a third) line. The screen's keys are always shown;
the generic keys (Help first, then Go to, Reload, Quit) fill the room left on those lines and
open none of their own (a row of the screen is worth more): ^p, always shown, lists them all.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from rich.cells import cell_len
from textual import events
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import HorizontalGroup
from textual.screen import Screen
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

COMPACT_BELOW = 100  # columns: narrower terminals get the compact style (less padding)
MAX_LINES = 3  # the most lines the screen's own keys may take
HELP_ACTIONS = ("help", "app.help")


@dataclass(frozen=True)
class FooterItem:
    key: str
    key_display: str
    description: str
    action: str
    enabled: bool
    tooltip: str
    must: bool  # the screen's (or the focused widget's) own key: may open a line


def item_width(item: FooterItem, compact: bool) -> int:
    """Columns one FooterKey takes (its padding and margin as in Textual's Footer CSS)."""
    key = cell_len(item.key_display)
    if not item.description:
        return key + (1 if compact else 0)
    if compact:  # key, a space, the description, margin-right 1
        return key + 1 + cell_len(item.description) + 1
    return 1 + key + 1 + cell_len(item.description) + 1  # " key " + "description "


def footer_items(screen: Screen[object], app: App[object]) -> list[FooterItem]:
    """The shown keys of ``screen``, one per action: the screen's, the widgets', then the app's."""
    by_action: dict[str, FooterItem] = {}
    rank: dict[str, int] = {}
    palette = app.COMMAND_PALETTE_BINDING if app.ENABLE_COMMAND_PALETTE else None
    for key, (node, binding, enabled, tooltip) in screen.active_bindings.items():
        if not binding.show or key == palette or binding.action in by_action:
            continue
        generic = node is app
        is_help = binding.action in HELP_ACTIONS
        by_action[binding.action] = FooterItem(
            key=binding.key,
            key_display=app.get_key_display(binding),
            description=binding.description,
            action=binding.action,
            enabled=enabled,
            tooltip=tooltip or "",
            must=not generic,
        )
        # The screen's keys, then the focused widget's, then Help, then the other generic keys.
        rank[binding.action] = 0 if node is screen else 1 if not generic else 2 if is_help else 3
    order = sorted(by_action, key=lambda a: rank[a])  # stable: each owner's own order stays
    return [by_action[a] for a in order]


def pack(items: Iterable[FooterItem], width: int, compact: bool) -> list[list[FooterItem]]:
    """Lay the items in order onto lines of ``width`` columns.

    A ``must`` item opens a new line when it does not fit (up to MAX_LINES); an optional one
    is placed only where it fits on the last line already there, else left out.
    """
    lines: list[list[FooterItem]] = [[]]
    used = 0
    width = max(width, 1)
    for item in items:
        w = item_width(item, compact)
        if used + w <= width or not lines[-1]:
            lines[-1].append(item)
            used += w
            continue
        if item.must and len(lines) < MAX_LINES:
            lines.append([item])
            used = w
    return [line for line in lines if line]


class KeyFooter(Footer):
    """Footer that keeps the screen's keys visible at 80 columns (see the module doc)."""

    DEFAULT_CSS = """
    KeyFooter {
        layout: vertical;
        height: auto;
        max-height: 3;
    }
    KeyFooter > HorizontalGroup.footer-line {
        height: 1;
        width: 1fr;
    }
    """

    def __init__(self, *, show_command_palette: bool = True) -> None:
        super().__init__(show_command_palette=show_command_palette)
        self._laid_out_for = 0  # the width the lines were packed for

    def _width(self) -> int:
        return self.size.width or self.app.size.width

    def compose(self) -> ComposeResult:
        if not self._bindings_ready:
            return
        width = self._width()
        self._laid_out_for = width
        compact = width < COMPACT_BELOW
        self.set_reactive(Footer.compact, compact)
        self.set_class(compact, "-compact")
        screen = self.screen
        app = self.app
        palette: FooterKey | None = None
        if self.show_command_palette and app.ENABLE_COMMAND_PALETTE:
            active = screen.active_bindings.get(app.COMMAND_PALETTE_BINDING)
            if active is not None:
                binding: Binding = active.binding
                palette = FooterKey(
                    binding.key,
                    app.get_key_display(binding),
                    binding.description,
                    binding.action,
                    classes="-command-palette",
                    disabled=not active.enabled,
                    tooltip=binding.tooltip or binding.description,
                ).data_bind(compact=Footer.compact)
                # Docked right on every line: its key, description, border and padding.
                width -= cell_len(app.get_key_display(binding)) + cell_len(binding.description) + 5
        for line in pack(footer_items(screen, app), width, compact):
            with HorizontalGroup(classes="footer-line"):
                for item in line:
                    yield FooterKey(
                        item.key,
                        item.key_display,
                        item.description,
                        item.action,
                        disabled=not item.enabled,
                        tooltip=item.tooltip,
                    ).data_bind(compact=Footer.compact)
        if palette is not None:
            yield palette

    def on_resize(self, event: events.Resize) -> None:
        if self._bindings_ready and event.size.width != self._laid_out_for:
            self.call_after_refresh(self.recompose)
