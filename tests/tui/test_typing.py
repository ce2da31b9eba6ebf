"""Typing into a form field costs the same per key however long the text (issue 12: 10,000
typed characters froze the app for a minute). The time is measured in bench/bench_typing.py;
here the mechanism: a key re-marks the field and re-writes its error line only when what they
say changes, and no typed character is lost in a burst."""

from __future__ import annotations

from typing import Any

from textual.widgets import Input, Static

from screens.clerk.client_form import ClientForm
from screens.supervisor.schedule_setup import ShiftTypeForm
from tests.conftest import Office
from tests.pilot import burst, settle
from tests.tui.conftest import make_app
from tui.widgets.forms import LONGEST, Field


def count_marking(field: Field) -> list[str]:
    """Record every class change and error-line update of ``field``."""
    calls: list[str] = []
    err = field.query_one(".field-error", Static)
    real_update, real_set_class = err.update, field.set_class

    def update(*args: Any, **kwargs: Any) -> None:
        calls.append("update")
        real_update(*args, **kwargs)

    def set_class(*args: Any, **kwargs: Any) -> Any:
        calls.append("set_class")
        return real_set_class(*args, **kwargs)

    err.update = update  # type: ignore[method-assign]
    field.set_class = set_class  # type: ignore[method-assign]
    return calls


async def test_typing_a_long_name_marks_the_field_a_bounded_number_of_times(office: Office) -> None:
    app = make_app(office, "clerk")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.push_screen(ClientForm(None))
        await settle(pilot)
        field = app.screen.query_one("#field-notes", Field)
        assert field.max_length == LONGEST  # no field takes unbounded text
        field.input.focus()
        await pilot.pause()
        calls = count_marking(field)
        text = "abcdefghij" * 150
        burst(app, text)
        await settle(pilot)
        assert field.input.value == text  # nothing lost
        assert calls == []  # nothing to mark: the field was and is fine


async def test_a_client_name_takes_what_its_column_holds_and_says_so(office: Office) -> None:
    app = make_app(office, "clerk")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.push_screen(ClientForm(None))
        await settle(pilot)
        field = app.screen.query_one("#field-last_name", Field)
        field.input.focus()
        await pilot.pause()
        burst(app, "abcdefghij" * 200)
        await settle(pilot)
        assert field.input.value == "abcdefghij" * 8
        assert "Last name takes at most 80 characters" in str(
            field.query_one(".field-error", Static).render()
        )


async def test_marks_change_once_at_the_limit_and_once_when_fixed(office: Office) -> None:
    app = make_app(office, "sup")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.push_screen(ShiftTypeForm(None))
        await settle(pilot)
        field = app.screen.query_one("#field-name", Field)
        field.input.focus()
        await pilot.pause()
        calls = count_marking(field)
        burst(app, "n" * 500)
        await settle(pilot)
        assert field.input.value == "n" * 60  # the input's max_length
        assert field.has_class("-limit") and "takes at most 60 characters" in str(
            field.query_one(".field-error", Static).render()
        )
        assert calls.count("update") == 1  # once, when the limit was reached
        field.set_error("is required")  # as a refused save marks it
        calls.clear()
        await pilot.press("backspace", "backspace", "backspace")
        await pilot.pause()
        assert not field.has_class("-invalid") and not field.has_class("-limit")
        assert calls.count("update") == 1  # fixed on the first key; the others change nothing
        assert isinstance(field.input, Input) and len(field.input.value) == 57
