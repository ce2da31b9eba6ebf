"""A paged list whose page answers after its screen was left, or is asked for before the list
is mounted: no error dialog, no crash (issue 13: "NoMatches: No nodes match '#how' on
ClientSearchScreen()" at scale). The slow page is a fetch that blocks on an Event until the
test has popped the screen; completion is awaited on events, never on sleeps."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import pytest
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Static

import billing.clients
from screens.clerk.client_search import ClientSearchScreen
from screens.clerk.my_day import MyDayScreen
from screens.common.error import ErrorDialog
from tests.conftest import Office
from tests.pilot import settle, wait_until
from tests.tui.conftest import make_app
from tui.app import ClerkDeskApp
from tui.widgets.paged import Page, PagedTable

WAIT = 20  # seconds: a bound on a wait for an event, only reached when something is broken


async def wait_event(event: threading.Event) -> None:
    # In a thread, so the app's loop keeps running (and can run call_from_thread callbacks).
    assert await asyncio.to_thread(event.wait, WAIT), "timed out"


class Gate:
    """A slow page: fetch() says it has started, then waits until released."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.calls = 0

    def hold(self) -> None:
        self.calls += 1
        self.entered.set()
        assert self.release.wait(WAIT)


def watch_outcome(
    app: ClerkDeskApp, table: PagedTable, monkeypatch: pytest.MonkeyPatch
) -> tuple[list[BaseException], threading.Event]:
    """Record show_error calls; ``done`` is set once the worker has delivered its answer, by any
    of the ways it can: a Loaded message, an error shown, or an error looked at and dropped."""
    errors: list[BaseException] = []
    done = threading.Event()
    show_error = app.show_error

    def recording(exc: BaseException) -> None:
        errors.append(exc)
        show_error(exc)
        done.set()

    monkeypatch.setattr(app, "show_error", recording)
    post = table.post_message

    def posting(message: Any) -> bool:
        result = post(message)
        if isinstance(message, PagedTable.Loaded):
            done.set()
        return result

    monkeypatch.setattr(table, "post_message", posting)
    failed = getattr(PagedTable, "_fetch_failed", None)
    if failed is not None:

        def fetch_failed(self: PagedTable, exc: BaseException) -> None:
            failed(self, exc)
            done.set()

        monkeypatch.setattr(PagedTable, "_fetch_failed", fetch_failed)
    return errors, done


async def test_client_search_left_while_its_page_is_in_flight(
    office: Office, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = Gate()
    real = billing.clients.search_clients

    def slow_search(*args: Any, **kwargs: Any) -> Any:
        gate.hold()
        return real(*args, **kwargs)

    monkeypatch.setattr(billing.clients, "search_clients", slow_search)
    app = make_app(office, "clerk")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await app.push_screen(ClientSearchScreen())
        await wait_event(gate.entered)  # the first page is in flight
        screen = app.screen
        assert isinstance(screen, ClientSearchScreen)
        errors, done = watch_outcome(app, screen.results, monkeypatch)
        await pilot.press("escape")  # leave the search
        assert isinstance(app.screen, MyDayScreen)
        gate.release.set()
        await wait_event(done)
        await settle(pilot)
        assert errors == []
        assert isinstance(app.screen, MyDayScreen)
        assert not any(isinstance(s, ErrorDialog) for s in app.screen_stack)


class ListScreen(Screen[None]):
    """A screen with a paged list whose page touches the screen from the worker, as client search
    does (it updates a line above the list), and fails once the screen's widgets are gone."""

    def __init__(self, fetch: Callable[[Any, Any, int, str], Page[int]]) -> None:
        super().__init__()
        self._fetch = fetch

    def compose(self) -> ComposeResult:
        yield Static("above", id="above")
        yield PagedTable(["N"], self._fetch, page_size=3, id="list")


def touching_fetch(app: ClerkDeskApp, gate: Gate) -> Callable[[Any, Any, int, str], Page[int]]:
    def fetch(session: Any, after: Any, limit: int, text: str) -> Page[int]:
        gate.hold()
        app.call_from_thread(lambda: app.screen.query_one("#above", Static).update("fetched"))
        return Page(rows=[(1, ["one"])], next_after=None)

    return fetch


async def test_a_page_failing_after_its_screen_was_left_is_dropped(
    office: Office, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(office, "clerk")
    gate = Gate()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = ListScreen(touching_fetch(app, gate))
        await app.push_screen(screen)
        await wait_event(gate.entered)
        errors, done = watch_outcome(app, screen.query_one(PagedTable), monkeypatch)
        app.pop_screen()
        await wait_until(pilot, lambda: isinstance(app.screen, MyDayScreen), "my day back in front")
        gate.release.set()  # the fetch now queries MyDayScreen for "#above": NoMatches
        await wait_event(done)
        await settle(pilot)
        assert errors == []
        assert isinstance(app.screen, MyDayScreen)


async def test_the_same_failure_on_a_live_screen_is_shown(
    office: Office, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The control: the error is dropped because the screen was left, not always."""

    def failing(session: Any, after: Any, limit: int, text: str) -> Page[int]:
        gate.hold()
        raise RuntimeError("the page failed")

    app = make_app(office, "clerk")
    gate = Gate()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = ListScreen(failing)
        await app.push_screen(screen)
        await wait_event(gate.entered)
        errors, done = watch_outcome(app, screen.query_one(PagedTable), monkeypatch)
        gate.release.set()
        await wait_event(done)
        await settle(pilot)
        assert [str(e) for e in errors] == ["the page failed"]
        assert isinstance(app.screen, ErrorDialog)


async def test_a_page_answering_after_its_screen_was_left_is_dropped(
    office: Office, monkeypatch: pytest.MonkeyPatch
) -> None:
    def quiet(session: Any, after: Any, limit: int, text: str) -> Page[int]:
        gate.hold()
        return Page(rows=[(1, ["one"])], next_after=None)

    app = make_app(office, "clerk")
    gate = Gate()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = ListScreen(quiet)
        await app.push_screen(screen)
        await wait_event(gate.entered)
        table = screen.query_one(PagedTable)
        errors, done = watch_outcome(app, table, monkeypatch)
        app.pop_screen()
        await wait_until(pilot, lambda: isinstance(app.screen, MyDayScreen), "my day back in front")
        gate.release.set()
        await wait_event(done)
        await settle(pilot)
        assert errors == []
        assert isinstance(app.screen, MyDayScreen)
        assert table._keys == []  # the answer went nowhere


async def test_a_load_asked_for_before_mount_waits_for_the_mount(office: Office) -> None:
    calls: list[tuple[Any, str]] = []

    def fetch(session: Any, after: Any, limit: int, text: str) -> Page[int]:
        calls.append((after, text))
        return Page(rows=[(7, ["seven"])], next_after=None)

    app = make_app(office, "clerk")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = ListScreen(lambda *args: Page(rows=[], next_after=None))
        table = PagedTable(["N"], fetch, id="early")
        table.filter_text = "se"
        table.reload()  # before it has a DataTable: nothing to fill yet
        table.refresh_page()
        assert calls == []
        await app.push_screen(screen)
        await screen.mount(table)
        await settle(pilot)
        assert calls == [(None, "se")]  # one load, at mount, with the filter
        assert table._keys == [7]
        assert table.table.get_row_at(0) == ["seven"]
