"""What every screen needs: database work in a thread worker, results back on the UI thread.

``self.db_call(fn, then)`` runs ``fn(session)`` in a read (or ``write=True``) transaction in
a worker thread and calls ``then(result)`` on the UI thread. Any error goes to
``on_error`` if given (forms mark their fields), else to the app's error display: a domain
error becomes a message, anything else an error dialog. Never a crash.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, TypeVar, cast

from textual.binding import Binding, BindingType
from textual.screen import ModalScreen, Screen
from textual.worker import Worker

from db.engine import Database
from db.live_rights import check_actor
from db.rights import Actor

T = TypeVar("T")


# Focus keys as priority bindings: the app handles them before routing the next key, so a fast
# burst ("Night", Tab, "22:00") lands in two fields. As ordinary bindings Tab waited in the
# focused Input's queue behind keys already routed there, and the whole burst went to one field.
FOCUS_BINDINGS: list[BindingType] = [
    Binding("tab", "app.focus_next", "Next field", show=False, priority=True, id="focus.next"),
    Binding(
        "shift+tab", "app.focus_previous", "Previous field", show=False, priority=True, id="focus.previous"
    ),
]


class OfficeApp(Protocol):
    """What a screen may use of the running app. The app (tui.app) satisfies it; naming it here
    keeps screens and this kit below the app, so the app can import screens without a circle."""

    database: Database
    actor: Actor
    exports: Path
    tz: str  # the office's timezone

    def show_error(self, exc: BaseException) -> None: ...

    def call_from_thread(self, callback: Callable[..., Any], *args: Any, **kwargs: Any) -> Any: ...


class DbMixin:
    """Mixed into Screen and ModalScreen."""

    @property
    def cd_app(self) -> OfficeApp:
        return cast(OfficeApp, self.app)  # type: ignore[attr-defined]  # a mixin: the Screen it is mixed into has .app

    @property
    def actor(self) -> Actor:
        return self.cd_app.actor

    def db_call(
        self,
        fn: Callable[[Any], T],
        then: Callable[[T], object] | None = None,  # its answer is awaited if awaitable, else dropped
        *,
        write: bool = False,
        on_error: Callable[[BaseException], None] | None = None,
        group: str = "db",
        exclusive: bool = True,
        latest: bool = False,
    ) -> Worker[None]:
        """``latest=True``: only the newest call of ``group`` delivers; an older answer that
        arrives later (the cursor has moved on) is dropped. An exception in ``then`` or
        ``on_error`` is shown like any other, never lost in the worker thread."""
        app = self.cd_app
        generations: dict[str, int] = self.__dict__.setdefault("_db_generations", {})
        generation = generations[group] = generations.get(group, 0) + 1

        async def deliver(callback: Callable[[Any], Any], value: Any) -> None:
            if latest and generations.get(group) != generation:
                return
            try:
                answer = callback(value)
                if inspect.isawaitable(answer):  # an async callback (a screen that mounts rows)
                    await answer
            except Exception as exc:
                app.show_error(exc)

        def checked(session: Any) -> T:
            check_actor(session, app.actor)  # rights are live: re-read in every write transaction
            return fn(session)

        def job() -> None:
            try:
                result = app.database.write(checked) if write else app.database.read(fn)
            except Exception as exc:
                app.call_from_thread(deliver, on_error or app.show_error, exc)
                return
            if then is not None:
                app.call_from_thread(deliver, then, result)

        return self.run_worker(  # type: ignore[attr-defined]  # a mixin: the Screen has run_worker
            job, thread=True, exclusive=exclusive, group=group, exit_on_error=False
        )


class DbScreen(DbMixin, Screen[None]):
    """A full screen that talks to the database through workers."""

    BINDINGS = FOCUS_BINDINGS

    def action_back(self) -> None:
        """Escape on a screen opened from another: back to it (the home screen stays)."""
        if len(self.app.screen_stack) > 2:
            self.app.pop_screen()


class DbModal(DbMixin, ModalScreen[T]):
    """A dialog that talks to the database through workers."""

    BINDINGS = FOCUS_BINDINGS
