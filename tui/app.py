"""The ClerkDesk Textual application."""

from __future__ import annotations

import time
import traceback
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.markup import escape
from textual.message_pump import active_message_pump
from textual.screen import Screen
from textual.theme import Theme
from textual.worker import WorkerFailed

from db.engine import Database
from db.errors import ClerkDeskError, ValidationError
from db.rights import Actor
from db.settings import office_timezone
from tui.config import Config, load_config
from tui.nav import NavEntry, entries_for

CLERKDESK_THEME = Theme(
    name="clerkdesk",
    primary="#4f8fd6",
    secondary="#7aa6c2",
    accent="#e0a458",
    warning="#e0a458",
    error="#e06c75",
    success="#7fbf7f",
    background="#15191e",
    surface="#1d232a",
    panel="#262e37",
    foreground="#dfe6ee",
    dark=True,
)


class ClerkDeskApp(App[None]):
    """Knows the database and who is working; opens the home screen for their role."""

    TITLE = "ClerkDesk"
    CSS_PATH = Path(__file__).parent / "styles.tcss"
    ENABLE_COMMAND_PALETTE = True
    COMMAND_PALETTE_BINDING = "ctrl+p"

    BINDINGS = [
        Binding("f1,question_mark", "help", "Help", id="app.help", tooltip="Keys of this screen"),
        Binding("g", "goto", "Go to", id="app.goto", tooltip="Open another screen"),
        Binding("ctrl+r", "reload", "Reload", id="app.reload", tooltip="Fetch the figures again"),
        Binding("ctrl+q", "quit", "Quit", id="app.quit", tooltip="Leave ClerkDesk", priority=True),
    ]

    def __init__(
        self, database: Database, actor: Actor, *, config: Config | None = None, tz: str | None = None
    ) -> None:
        super().__init__()
        self.database = database
        self.actor = actor
        self.config = config if config is not None else load_config()
        self.tz = tz or database.read(office_timezone)

    # ------------------------------------------------------------------ start-up

    def on_mount(self) -> None:
        self.register_theme(CLERKDESK_THEME)
        try:
            self.theme = self.config.theme
        except Exception:  # an unknown theme name in the config
            self.theme = "clerkdesk"
            self.config.problems.append(f"unknown theme {self.config.theme!r}; using clerkdesk")
        if self.config.keymap:
            self.set_keymap(self.config.keymap)
        for problem in self.config.problems:
            self.notify(escape(problem), title="Config", severity="warning", timeout=10)
        self.push_screen(self.home_screen())

    def home_screen(self) -> Screen[None]:
        if self.actor.is_supervisor:
            from screens.supervisor.dashboard import DashboardScreen

            return DashboardScreen()
        from screens.clerk.my_day import MyDayScreen

        return MyDayScreen()

    # ------------------------------------------------------------------ errors

    def show_error(self, exc: BaseException) -> None:
        """Domain errors are messages; anything unexpected is a dialog with details."""
        if isinstance(exc, ClerkDeskError):
            title = "Check your input" if isinstance(exc, ValidationError) else type(exc).__name__
            self.notify(escape(str(exc)), title=title, severity="error", timeout=8)
            return
        from screens.common.error import ErrorDialog

        detail = "".join(traceback.format_exception(exc))
        self.log.error(detail)  # Textual owns the terminal: never print to stderr here
        self.push_screen(ErrorDialog(f"{type(exc).__name__}: {exc}", detail))

    # Any exception Textual did not see handled (a message handler, an action, a timer, a
    # worker with exit_on_error) comes here. Textual's own answer is to print a traceback and
    # exit; ours is the error dialog, and the app goes on. The pump that raised has stopped, so a
    # screen that raised is taken off the stack. Errors in a burst (a loop) still end the app.
    _ERROR_BURST = 5
    _ERROR_WINDOW_S = 2.0

    def _handle_exception(self, error: Exception) -> None:
        from screens.common.error import ErrorDialog

        now = time.monotonic()
        self._error_times = [t for t in getattr(self, "_error_times", []) if now - t < self._ERROR_WINDOW_S]
        self._error_times.append(now)
        if (
            not self.is_running
            or not self.screen_stack
            or len(self._error_times) > self._ERROR_BURST
            or (isinstance(self.screen, ErrorDialog) and not self.screen.is_running)
        ):
            super()._handle_exception(error)
            return
        # A handler's exception stops the message loop of the pump that ran it: if that is a
        # screen, it can no longer answer keys and must go. A failed worker leaves it alive.
        pump = active_message_pump.get(None)
        dead = pump if isinstance(pump, Screen) and not isinstance(error, WorkerFailed) else None
        real = error.error if isinstance(error, WorkerFailed) else error
        self.call_later(self._recover_from, real, dead)

    async def _dispatch_action(self, namespace: Any, action_name: str, params: Any) -> bool:
        # Key bindings run in the app's own message loop: an action that raised would stop
        # it (and with it the app). Caught here, it is just an error dialog.
        try:
            return await super()._dispatch_action(namespace, action_name, params)
        except Exception as exc:
            self.call_later(self._recover_from, exc, None)
            return True

    def _recover_from(self, error: BaseException, dead: Screen[Any] | None) -> None:
        if dead is not None and self.screen_stack and self.screen_stack[-1] is dead:
            if len(self.screen_stack) > 1:
                self.pop_screen()
            else:
                self.switch_screen(self.home_screen())
        if isinstance(error, ClerkDeskError):
            self.show_error(error)
            return
        from screens.common.error import ErrorDialog

        detail = "".join(traceback.format_exception(error))
        self.log.error(detail)
        self.push_screen(ErrorDialog(f"{type(error).__name__}: {error}", detail))

    # ------------------------------------------------------------------ navigation

    def open_entry(self, entry: NavEntry) -> None:
        factory = entry.factory()
        # Going to a screen that is already open brings it back instead of stacking a copy.
        for i, screen in enumerate(self.screen_stack):
            if type(screen) is factory:
                while len(self.screen_stack) > i + 1:
                    self.pop_screen()
                return
        self.push_screen(factory())

    def action_goto(self) -> None:
        from screens.common.goto import GotoDialog

        def chosen(entry: NavEntry | None) -> None:
            if entry is not None:
                self.open_entry(entry)

        self.push_screen(GotoDialog(entries_for(self.actor)), chosen)

    def action_help(self) -> None:
        from screens.common.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss()
            return
        self.push_screen(HelpScreen(self.screen, self.focused))

    def action_reload(self) -> None:
        reload = getattr(self.screen, "reload", None)
        if callable(reload):
            reload()

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """The palette: every screen this role may open, then the keys of the screen in front."""
        for entry in entries_for(self.actor):
            yield SystemCommand(f"Go to {entry.title}", entry.help, lambda e=entry: self.open_entry(e))
        seen: set[str] = set()
        for active in screen.active_bindings.values():
            b = active.binding
            if not b.description or b.action in seen or b.action in ("command_palette",):
                continue
            seen.add(b.action)
            node = active.node
            yield SystemCommand(
                f"{b.description} ({self.get_key_display(b)})",
                b.tooltip or b.description,
                lambda n=node, a=b.action: self.call_later(n.run_action, a),  # type: ignore[misc]
            )
        yield SystemCommand("Quit", "Leave ClerkDesk", self.exit)
