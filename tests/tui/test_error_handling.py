"""Any exception in a screen ends in the error dialog and the app keeps running (issue 11 §6)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from textual import work
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Static

from screens.common.error import ErrorDialog
from screens.supervisor.dashboard import DashboardScreen
from tests.conftest import Office
from tests.pilot import settle
from tests.tui.conftest import make_app
from tui.widgets.base import DbScreen


class Boom(RuntimeError):
    pass


class FragileScreen(DbScreen):
    """A screen whose handlers raise, as a bug would."""

    BINDINGS = [
        Binding("x", "explode", "Explode", id="test.explode", tooltip="Raise in an action"),
        Binding("w", "explode_in_worker", "Worker", id="test.worker", tooltip="Raise in a worker"),
    ]

    class Kaboom(Message):
        pass

    def compose(self) -> Any:
        yield Static("fragile")

    def on_fragile_screen_kaboom(self, _message: Kaboom) -> None:
        raise Boom("a message handler failed")

    def action_explode(self) -> None:
        raise Boom("client [Smith] 1e309 broke the action")

    def action_explode_in_worker(self) -> None:
        self._bad_worker()

    @work(thread=True)
    def _bad_worker(self) -> None:
        raise Boom("a worker failed")


@pytest.mark.parametrize(
    "key,message",
    [
        ("x", "client [Smith] 1e309 broke the action"),
        ("w", "a worker failed"),
        ("message", "a message handler failed"),
    ],
)
async def test_an_exception_in_a_screen_shows_the_error_dialog_and_the_app_runs_on(
    office: Office, key: str, message: str
) -> None:
    app = make_app(office, "sup")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.push_screen(FragileScreen())
        await settle(pilot)
        # Not pilot.press (nor tests.pilot.wait_until, which pauses the pilot): both wait for the
        # screen to take its messages, and a screen whose handler raised never will. Wait for the
        # dialog instead (bounded).
        if key == "message":
            app.screen.post_message(FragileScreen.Kaboom())
        else:
            app.simulate_key(key)
        await app.workers.wait_for_complete()
        for _ in range(500):
            if isinstance(app.screen, ErrorDialog):
                break
            await asyncio.sleep(0.01)
        assert isinstance(app.screen, ErrorDialog)
        assert app.screen.message == message  # the sentence, never the class name (issue 12)
        assert "Boom" in app.screen.detail  # which stays in the details the copy key gives
        assert app.is_running
        await pilot.press("escape")
        await settle(pilot)
        if key == "message":  # the handler stopped the screen's message loop: the screen is gone
            assert isinstance(app.screen, DashboardScreen)
        else:  # a failed action or worker leaves its screen working
            assert isinstance(app.screen, FragileScreen)
            assert app.screen.is_running
        await pilot.press("g")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "GotoDialog"
    assert app.return_code in (0, None)
