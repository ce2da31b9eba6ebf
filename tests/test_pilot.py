"""The shared Pilot helpers (tests/pilot.py) on a bare Textual app: no database, quick."""

from __future__ import annotations

import threading

import pytest
from textual import work
from textual.app import App, ComposeResult
from textual.widgets import Static

from tests.pilot import screen_text, settle, wait_until


class Bare(App[None]):
    def compose(self) -> ComposeResult:
        yield Static("waiting", id="line")

    @work(thread=True, exclusive=True, group="slow")
    def slow(self, gate: threading.Event, text: str) -> None:
        gate.wait(5)
        self.call_from_thread(self.query_one("#line", Static).update, text)

    @work(thread=True, group="chain")
    def first(self) -> None:
        self.call_from_thread(self.second)  # a handled answer starts more work

    @work(thread=True, group="chain")
    def second(self) -> None:
        self.call_from_thread(self.query_one("#line", Static).update, "second done")


async def test_settle_waits_for_work_a_handled_answer_starts() -> None:
    app = Bare()
    async with app.run_test() as pilot:
        app.first()
        await settle(pilot)
        assert screen_text(app) == "second done"


async def test_settle_takes_a_worker_cancelled_meanwhile_as_ended() -> None:
    app = Bare()
    async with app.run_test() as pilot:
        old, new = threading.Event(), threading.Event()
        app.slow(old, "old")
        app.slow(new, "new")  # exclusive: the first is cancelled while its thread still waits
        old.set()
        new.set()
        await settle(pilot)
        assert screen_text(app) in ("new", "old")  # a cancelled thread still runs to its end


async def test_wait_until_fails_saying_what_it_waited_for_and_what_the_screen_showed() -> None:
    app = Bare()
    async with app.run_test() as pilot:
        with pytest.raises(AssertionError) as failure:
            await wait_until(pilot, lambda: "done" in screen_text(app), "the line to say done", timeout=0.2)
    message = str(failure.value)
    assert "waited 0.2 s for the line to say done" in message
    assert "the screen in front is Screen and shows:\nwaiting" in message
