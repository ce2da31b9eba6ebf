"""The ClerkDesk Textual application."""

from __future__ import annotations

import gc
import os
import select
import sys
import time
import traceback
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.color import Color
from textual.filter import LineFilter, Monochrome, NoColor
from textual.markup import escape
from textual.message_pump import active_message_pump
from textual.screen import Screen
from textual.theme import Theme
from textual.worker import WorkerFailed

from db.engine import Database
from db.errors import ClerkDeskError
from db.live_rights import RightsChanged, check_actor
from db.rights import Actor
from db.settings import office_timezone
from tui.config import Config, load_config
from tui.exports import default_root
from tui.keyqueue import KeysInOrder
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


class PlainText(LineFilter):
    """``NO_COLOR``: the terminal's own colours, no dim (dim reads as grey); bold, reverse and
    underline stay, so highlights and the cursor remain visible."""

    PLAIN = Style(color="default", bgcolor="default", dim=False)

    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        plain = self.PLAIN
        return [Segment(text, None if style is None else style + plain, ctl) for text, style, ctl in segments]


EXIT_RIGHTS_LOST = 1


def terminal_gone(fd: int) -> bool:
    """Has the terminal on ``fd`` hung up (its other end closed)? Reads nothing."""
    poller = select.poll()
    poller.register(fd, select.POLLIN)  # hang-up and error are reported whatever is asked for
    try:
        events = poller.poll(0)
    except OSError:
        return True
    return any(ev & (select.POLLHUP | select.POLLERR | select.POLLNVAL) for _, ev in events)


class ClerkDeskApp(KeysInOrder, App[None]):
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

    # How often the open app re-reads its user: a deactivation or a new role closes it (issue 11).
    RIGHTS_CHECK_SECONDS = 2.0

    def __init__(
        self,
        database: Database,
        actor: Actor,
        *,
        config: Config | None = None,
        tz: str | None = None,
        exports: Path | None = None,
    ) -> None:
        super().__init__()
        if self.no_color:
            # Textual's NO_COLOR filter turns colours into greys; ClerkDesk means no colour at all.
            self._filters = [f for f in self._filters if not isinstance(f, Monochrome | NoColor)]
            self._filters.append(PlainText())
        self.database = database
        self.actor = actor
        self.config = config if config is not None else load_config()
        self.tz = tz or database.read(office_timezone)
        # Every print and export of this person goes under this folder (tui/exports.py).
        self.exports = exports if exports is not None else default_root(self.config.exports)
        self.closed_because: str | None = None  # why the app closed itself (rights changed)

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
        if self.RIGHTS_CHECK_SECONDS > 0:
            self.set_interval(self.RIGHTS_CHECK_SECONDS, self.check_rights, name="rights")
        self._watch_terminal()
        if not gc.isenabled():  # turned off for the start (tui/__main__.py)
            self.set_timer(2.0, self._start_collector, name="gc-on")

    def _start_collector(self) -> None:
        # Free the start's garbage once, then keep what is left out of every later collection.
        gc.collect()
        gc.freeze()
        gc.enable()

    def _watch_terminal(self) -> None:
        # A terminal that vanishes without SIGHUP (an SSH client killed, a closed pty whose
        # master sent no signal) leaves stdin at end of file: Textual's input thread then spins
        # on it forever. Look once a second and leave, so a lost session frees its CPU.
        if self.is_headless or sys.__stdin__ is None:
            return
        try:
            fd = sys.__stdin__.fileno()
        except (OSError, ValueError):
            return
        if not os.isatty(fd):
            return

        def check() -> None:
            if terminal_gone(fd):
                self.exit(return_code=1, message="the terminal went away")

        self.set_interval(1.0, check, name="terminal-watch")

    # ------------------------------------------------------------------ live rights

    def check_rights(self) -> None:
        """Re-read the user in a worker; deactivated or given another role: say so and close."""
        actor = self.actor

        def job() -> None:
            try:
                self.database.read(lambda s: check_actor(s, actor))
            except RightsChanged as e:
                self.call_from_thread(self.rights_lost, str(e))
            except Exception as e:  # the database is busy or away: try again at the next tick
                self.log.warning(f"rights check failed: {e}")

        self.run_worker(job, thread=True, group="rights", exclusive=True, exit_on_error=False)

    def rights_lost(self, message: str) -> None:
        # Printed on the terminal once Textual has given it back, so the person reads why.
        self.closed_because = message
        self.exit(return_code=EXIT_RIGHTS_LOST, message=Text(f"ClerkDesk: {message}."))

    def home_screen(self) -> Screen[None]:
        if self.actor.is_supervisor:
            from screens.supervisor.dashboard import DashboardScreen

            return DashboardScreen()
        from screens.clerk.my_day import MyDayScreen

        return MyDayScreen()

    # ------------------------------------------------------------------ errors

    def show_error(self, exc: BaseException) -> None:
        """Domain errors are messages; anything unexpected is a dialog with details."""
        if isinstance(exc, RightsChanged):
            self.rights_lost(str(exc))
            return
        if isinstance(exc, ClerkDeskError):
            self.notify(escape(str(exc)), title=exc.title, severity="error", timeout=8)
            return
        from screens.common.error import ErrorDialog

        detail = "".join(traceback.format_exception(exc))
        self.log.error(detail)  # Textual owns the terminal: never print to stderr here
        # The class name stays in the copied details, not in the sentence a clerk reads.
        self.push_screen(ErrorDialog(str(exc) or "An unexpected error stopped the action.", detail))

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
        self.show_error(error)

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
                lambda n=node, a=b.action: self.call_later(n.run_action, a),
            )
        yield SystemCommand("Quit", "Leave ClerkDesk", self.exit)
