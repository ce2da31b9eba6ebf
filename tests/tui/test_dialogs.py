"""The one form base (tui/dialogs.FormDialog): parse errors, service refusals, focus, keys."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.widgets import Input

from db.errors import ConflictError, ValidationError
from db.rights import Action
from tests.conftest import Office
from tests.pilot import screen_text, settle, wait_until
from tests.tui.conftest import make_app
from tests.tui.test_billing_screens import make_app as noting_app
from tests.tui.test_billing_screens import notes
from tui.exports import ExportError
from tui.widgets.confirm import ConfirmDialog
from tui.widgets.dialogs import FIX_FIELDS, FormDialog
from tui.widgets.forms import Field, parse_int


class Probe(FormDialog[dict[str, Any]]):
    """Saves by raising what the test puts in ``answer`` (or returns the values)."""

    FORM_ID = "probe"
    FIELD_ALIASES = {"qty": "count"}  # the service's name for the count

    def __init__(self) -> None:
        super().__init__()
        self.answer: BaseException | None = None
        self.calls = 0

    def heading(self) -> str:
        return "Probe"

    def fields(self) -> ComposeResult:
        yield Field("name", "Name", required=True, max_length=20)
        yield Field("count", "Count", parse=lambda t: parse_int(t, 0, 9))

    def save(self, session: Any, values: dict[str, Any]) -> dict[str, Any]:
        self.calls += 1
        if self.answer is not None:
            raise self.answer
        return values


async def test_form_base_keeps_values_marks_fields_and_says_why(office: Office) -> None:
    app = make_app(office, "sup")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        probe = Probe()
        results: list[Any] = []
        app.push_screen(probe, results.append)
        await settle(pilot)
        name, count = probe.query_one("#input-name", Input), probe.query_one("#input-count", Input)
        assert app.focused is name
        # Parse errors: nothing reaches the service, the cursor goes to the first wrong field.
        await pilot.press("tab", *"12", "ctrl+s")
        await settle(pilot)
        assert probe.calls == 0 and app.focused is name
        assert FIX_FIELDS in screen_text(app) and "Name is required" in screen_text(app)
        assert "Count must be between 0 and 9" in screen_text(app)
        # A service refusal with fields, some on the form and one not.
        name.value, count.value = "Ann", "3"
        probe.answer = ValidationError.from_fields(
            {"qty": "is taken", "team": "is closed", "period": "the period runs until Friday"}
        )
        await pilot.press("ctrl+s")
        await settle(pilot)
        text = screen_text(app)
        assert probe.calls == 1 and "Count is taken" in text and "team: is closed" in text
        assert "The period runs until Friday" in text and "period: " not in text
        assert app.focused is count and (name.value, count.value) == ("Ann", "3")
        # A conflict: on the problem line, with its title, the form stays.
        probe.answer = ConflictError("someone else saved Ann first")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "Changed by someone else: someone else saved Ann first" in screen_text(app)
        assert app.screen is probe
        # Saved: closes with the result.
        probe.answer = None
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert results == [{"name": "Ann", "count": 3}]
        assert app.screen is not probe


def test_form_keys_have_ids_for_the_keymap() -> None:
    ids = {b.id for b in Probe.BINDINGS if not isinstance(b, tuple)}  # type: ignore[union-attr]
    assert {"probe.save", "probe.cancel"} <= ids


async def test_db_call_shows_errors_of_its_callback_and_can_keep_only_the_latest(office: Office) -> None:
    """Issue 12: an exception in db_call's ``then`` was dropped in the worker thread."""
    import threading

    from screens.common.error import ErrorDialog

    app = make_app(office, "sup")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = app.screen

        def boom(_: object) -> None:
            raise RuntimeError("the callback broke")

        screen.db_call(lambda s: 1, boom)  # type: ignore[attr-defined]
        await settle(pilot)
        assert isinstance(app.screen, ErrorDialog) and app.screen.message == "the callback broke"
        app.pop_screen()
        await settle(pilot)
        # latest=True: the slow first answer arrives after the second and is dropped.
        gate = threading.Event()
        got: list[str] = []

        def slow(s: object) -> str:
            gate.wait(5)
            return "old"

        screen.db_call(slow, got.append, group="pick", exclusive=False, latest=True)  # type: ignore[attr-defined]
        screen.db_call(lambda s: "new", got.append, group="pick", exclusive=False, latest=True)  # type: ignore[attr-defined]
        await wait_until(pilot, lambda: got, "the newer answer, while the older one is held")
        gate.set()
        await settle(pilot)
        assert got == ["new"]


class Custom(Probe):
    """A dialog with its own start, on_mount and save step: the base must not undo them."""

    own_saves = 0
    mounted = False

    def start_focus(self) -> Input:
        return self.query_one("#input-count", Input)

    def on_mount(self) -> None:  # Textual runs the base's on_mount after this one
        self.mounted = True

    def action_save(self) -> None:
        self.own_saves += 1


async def test_a_dialog_keeps_its_own_start_and_actions(office: Office) -> None:
    app = make_app(office, "sup")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        dialog = Custom()
        app.push_screen(dialog)
        await settle(pilot)
        assert dialog.mounted and app.focused is dialog.query_one("#input-count", Input)
        await pilot.click("#save")  # the button runs the dialog's action_save, not the base's
        await settle(pilot)
        assert dialog.own_saves == 1 and dialog.calls == 0
        await pilot.click("#cancel")
        await settle(pilot)
        assert app.screen is not dialog


async def test_db_call_awaits_an_async_callback(office: Office) -> None:
    app = make_app(office, "sup")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        got: list[int] = []

        async def mount_rows(value: int) -> None:
            await pilot.pause()
            got.append(value)

        app.screen.db_call(lambda s: 7, mount_rows)  # type: ignore[attr-defined]
        await settle(pilot)
        assert got == [7]


class Asking(Probe):
    """A money-moving form: asks first, needs a right, a refusal type belongs to a field."""

    FORM_ID = "asking"
    REQUIRES = (Action.AGENCY_PLACE, "Only a supervisor can ask this")
    ERROR_FIELDS = {ExportError: "name"}

    def confirmation(self, values: dict[str, Any]) -> tuple[str, str, str]:
        return "Really?", f"Saves {values['name']}", "Go"


async def test_a_confirmed_save_asks_first_and_no_keeps_what_was_typed(office: Office) -> None:
    app = make_app(office, "sup")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        dialog, results = Asking(), []
        app.push_screen(dialog, results.append)
        await settle(pilot)
        await pilot.press(*"Ann", "ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog) and "Saves Ann" in screen_text(app)
        await pilot.press("n")
        await settle(pilot)
        assert app.screen is dialog and dialog.calls == 0
        assert dialog.query_one("#input-name", Input).value == "Ann"
        # A refusal of a mapped type marks its field, with the reason, after the question.
        dialog.answer = ExportError("/x/Ann exists; choose a new file name")
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert app.screen is dialog and dialog.calls == 1
        assert "Name /x/Ann exists; choose a new file name" in screen_text(app)
        assert FIX_FIELDS in screen_text(app) and app.focused is dialog.query_one("#input-name", Input)
        dialog.answer = None
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert results == [{"name": "Ann", "count": None}]


async def test_a_dialog_refuses_to_open_without_its_right(office: Office) -> None:
    app = noting_app(office, "clerk")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        dialog = Asking()
        app.push_screen(dialog)
        await settle(pilot)
        assert app.screen is not dialog and dialog.calls == 0
        assert "Only a supervisor can ask this" in notes(app)


async def test_a_running_save_is_not_started_twice_nor_cancelled(office: Office) -> None:
    """Ctrl+S twice must not save twice, and Escape must not close the dialog on a save that is
    still running (its answer, or its refusal, would go nowhere)."""
    import threading

    gate = threading.Event()

    class Slow(Probe):
        SAVE_WRITES = False  # reads only: the test's gate must not hold the write lock

        def save(self, session: Any, values: dict[str, Any]) -> dict[str, Any]:
            self.calls += 1
            gate.wait(5)
            return values

    app = make_app(office, "sup")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        dialog, results = Slow(), []
        app.push_screen(dialog, results.append)
        await settle(pilot)
        await pilot.press(*"Ann", "ctrl+s")
        await pilot.pause()
        await pilot.press("ctrl+s", "escape")
        await pilot.pause()
        assert app.screen is dialog
        gate.set()
        await settle(pilot)
        assert dialog.calls == 1 and results == [{"name": "Ann", "count": None}]


async def test_a_save_that_writes_a_file_reads_the_database_only(office: Office) -> None:
    calls: list[bool] = []

    class Reading(Probe):
        SAVE_WRITES = False

        def db_call(self, fn: Any, then: Any = None, *, write: bool = False, **kw: Any) -> Any:
            calls.append(write)
            return super().db_call(fn, then, write=write, **kw)

    app = make_app(office, "sup")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.push_screen(Reading())
        await settle(pilot)
        await pilot.press(*"Ann", "ctrl+s")
        await settle(pilot)
    assert calls == [False]
