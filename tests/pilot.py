"""The one set of helpers for driving a screen with Textual's Pilot (every screen test uses these).

Wait on the app, never on the clock: a fixed pause passes on an idle laptop and fails under load
(two screen tests did on PostgreSQL). So:

- ``settle``: wait until no database work is left (workers, and the messages they post).
- ``wait_until``: wait until something a person would see is true (a debounced search has run,
  a list reloaded), with a deadline and a failure message saying what the screen showed instead.
- ``wait_for_list``: wait until a paged list shows its page for what is in its filter box.
- ``type_text`` / ``replace`` / ``fill``: type as a person does, key by key.
- ``screen_text``: everything the screen in front shows, as plain text.
- ``steady``: for screenshots, wait until the picture stops changing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import Any

from textual import events
from textual.app import App
from textual.css.query import NoMatches
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Static
from textual.worker import WorkerCancelled

AnyPilot = Pilot[Any]

# Generous: the machine running the tests may be shared and busy; a wait that is met returns at once.
WAIT_SECONDS = 30.0


def screen_text(app: App[Any]) -> str:
    """Everything the screen in front shows, as plain text (what a person reads)."""
    parts: list[str] = []
    for w in app.screen.query("*"):
        if isinstance(w, Static):
            parts.append(str(w.render()))
        elif isinstance(w, DataTable):
            for row in range(w.row_count):
                parts.append(" | ".join(str(c) for c in w.get_row_at(row)))
    return "\n".join(parts)


def _busy(app: App[Any]) -> list[str]:
    busy = [w.name or repr(w) for w in app.workers if not w.is_finished]
    keys_waiting = getattr(app, "keys_waiting", None)  # keys typed fast wait their turn (tui.keyqueue)
    held = keys_waiting() if keys_waiting is not None else 0
    if held:
        busy.append(f"{held} typed keys")
    return busy


async def _workers_done(app: App[Any]) -> None:
    """Wait for every worker to end. One cancelled meanwhile (a newer exclusive call replaced it,
    Escape stopped a build) has ended too: ``workers.wait_for_complete`` would raise for it."""
    outcomes = await asyncio.gather(*(w.wait() for w in list(app.workers)), return_exceptions=True)
    for outcome in outcomes:
        if isinstance(outcome, BaseException) and not isinstance(outcome, WorkerCancelled):
            raise outcome


async def settle(pilot: AnyPilot, *, timeout: float = WAIT_SECONDS) -> None:
    """Wait until the app has no database work left.

    One round waits for every worker, then lets the app handle what they posted (results handed
    back to the screen, refreshes). A handled result may start more work (choosing a client loads
    its open items), so this returns after two quiet rounds in a row.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    quiet = 0
    while quiet < 2:
        left = deadline - loop.time()
        if left <= 0:
            raise AssertionError(f"workers still running after {timeout:g} s: {', '.join(_busy(pilot.app))}")
        try:
            await asyncio.wait_for(_workers_done(pilot.app), left)
        except TimeoutError:
            continue  # the deadline check above fails with the names
        await pilot.pause()
        quiet = 0 if _busy(pilot.app) else quiet + 1


async def wait_until(
    pilot: AnyPilot,
    condition: Callable[[], object],
    what: str,
    *,
    timeout: float = WAIT_SECONDS,
    shown: Callable[[], object] | None = None,
) -> None:
    """Wait until ``condition()`` is true, polling while the app runs its workers and timers.

    For what has no worker to wait on (a search box that waits for a pause in typing, a detail
    pane that follows the cursor on a timer) or what comes after a chain of them. ``what`` says
    in words what is awaited; on the deadline the test fails with it and with what the screen
    showed instead (``shown()``, by default the screen text). A query that does not match yet
    (NoMatches) counts as not yet.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            if condition():
                return
            problem = ""
        except NoMatches as e:
            problem = f" ({e})"
        if loop.time() > deadline:
            seen = shown() if shown is not None else screen_text(pilot.app)
            raise AssertionError(
                f"waited {timeout:g} s for {what}{problem}; "
                f"the screen in front is {type(pilot.app.screen).__name__} and shows:\n{seen}"
            )
        # Not waiting on workers here: a test may hold one on purpose. Time passes, so timers
        # (debounce, polling) fire and answers from workers are handled.
        await pilot.pause(0.02)


def _timer_pending(widget: object, attribute: str) -> bool:
    """Whether the widget's one-shot timer (a debounce) is set and has not fired yet."""
    task = getattr(getattr(widget, attribute, None), "_task", None)
    return task is not None and not task.done()


async def wait_for_list(pilot: AnyPilot, filter_text: str, *, timeout: float = WAIT_SECONDS) -> None:
    """Wait until the paged list on the screen in front (tui/widgets/paged.py) shows its page for
    ``filter_text``.

    Its filter box reloads a pause after the last key, then a worker fetches the page; the status
    line names the filter ("· filter: 'dav'", nothing for none). Done when that line names this
    filter and no reload is pending or under way, twice in a row (a page for an earlier prefix
    may land just before the last reload).
    """
    text = filter_text.strip()
    want = f"filter: {text!r}"
    lists = lambda: [s.parent for s in pilot.app.screen.query(".paged-status")]  # noqa: E731
    in_a_row = [0]

    def status_says(status: str) -> bool:
        return " rows" in status and (want in status if text else "filter:" not in status)

    def ready() -> bool:
        busy = any(not w.is_finished for w in pilot.app.workers)
        ok = not busy and any(
            getattr(t, "filter_text", None) == text
            and not _timer_pending(t, "_debounce")
            and status_says(str(t.query_one(".paged-status", Static).render()))
            for t in lists()
        )
        in_a_row[0] = in_a_row[0] + 1 if ok else 0
        return in_a_row[0] >= 2

    await wait_until(
        pilot,
        ready,
        f"the list's page for the filter {text!r}",
        timeout=timeout,
        shown=lambda: "\n".join(str(t.query_one(".paged-status", Static).render()) for t in lists()),
    )


def burst(app: App[Any], keys: str | Iterable[str]) -> None:
    """Post keys the way a terminal delivers a fast burst: all queued before any is handled
    (``pilot.press`` waits for each). Follow with ``settle``, which waits for held keys too."""
    for k in keys:
        app.post_message(events.Key(k, k if len(k) == 1 else None))


async def type_text(pilot: AnyPilot, text: str) -> None:
    """Type ``text`` into whatever has focus, one key per character."""
    await pilot.press(*text)


async def replace(pilot: AnyPilot, selector: str, text: str) -> None:
    """Focus the input ``selector`` on the screen in front, clear it and type ``text``."""
    box = pilot.app.screen.query_one(selector, Input)
    box.focus()
    await pilot.pause()
    box.value = ""  # what select-all and Delete do
    await type_text(pilot, text)
    await pilot.pause()


async def fill(pilot: AnyPilot, field: str, text: str) -> None:
    """``replace`` on the form field named ``field`` (tui/widgets/forms.py: its input is #input-<name>)."""
    await replace(pilot, f"#input-{field}", text)


async def steady(pilot: AnyPilot, *, timeout: float = WAIT_SECONDS) -> None:
    """Before a screenshot: no blinking cursor, no work left, and a picture that stops changing.

    Rows arrive by a message after the worker ends, and a DataTable measures its columns in its
    idle handler; a screenshot taken between the two shows header-width columns. So wait until
    the text is the same twice, no table has rows left to measure and nothing says "loading".
    """
    await settle(pilot, timeout=timeout)  # first: a screen just pushed is then the one in front
    for box in pilot.app.screen.query(Input):
        box.cursor_blink = False  # caught on or off, the picture would differ run to run
    last: list[str | None] = [None]

    def still() -> bool:
        text = screen_text(pilot.app)
        tables = list(pilot.app.screen.query(DataTable))
        measured = not any(t._require_update_dimensions or t._new_rows for t in tables)
        loading = "loading…" in text or "Loading" in text
        same, last[0] = text == last[0], text
        return same and measured and not loading

    await wait_until(pilot, still, "the screen to stop changing", timeout=timeout)
