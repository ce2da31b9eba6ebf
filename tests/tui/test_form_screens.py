"""The four full-screen forms on the form base (tui/dialogs.FormScreenLogic): post a payment, a
batch of checks, a payment plan, the payroll export. Driven by keys and pastes, as a person
would: a wrong, empty, huge or hostile value gets a short message naming the field, the cursor
goes to the first wrong field, what was typed stays and the database does not change.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
import sqlalchemy as sa
from textual import events
from textual.screen import Screen
from textual.widgets import DataTable, Input, Select, Static

from db.models import PaymentBatch, PaymentPlan, Timecard, TimecardStatus
from screens.clerk.batch_post import BatchPostScreen
from screens.clerk.payment_post import PaymentPostScreen
from screens.clerk.plan_setup import PlanSetupScreen
from screens.supervisor import payroll_export
from screens.supervisor.payroll_export import PayrollExportScreen
from tests.conftest import Office
from tests.pilot import replace, screen_text, settle
from tests.tui.conftest import make_app
from tests.tui.test_payment_screens import (
    Books,
    all_payments,
    choose,
    make_books,
    open_screen,
)
from tests.tui.test_time_screens_forms import _week
from tui.widgets.confirm import ConfirmDialog
from tui.widgets.forms import ParseError, parse_int

HUGE_DIGITS = "9" * 10_000
HUGE_TEXT = "x" * 10_000


@pytest.fixture
def books(office: Office) -> Books:
    return make_books(office)


async def put(pilot: Any, selector: str, text: str) -> None:
    """Clear an input and paste ``text`` into it (a terminal's bracketed paste: any characters)."""
    box = pilot.app.screen.query_one(selector, Input)
    box.focus()
    await pilot.pause()
    await pilot.press("ctrl+u")
    box.post_message(events.Paste(text))
    await pilot.pause()


def error_line(screen: Screen[Any], name: str) -> str:
    """The message under a field (empty when it is not marked)."""
    field = screen.query_one(f"#field-{name}, #lookup-{name}")
    return str(field.query_one(".field-error", Static).render()) if field.has_class("-invalid") else ""


async def refused(pilot: Any, key: str, elsewhere: str, selector: str, message: str, typed: str) -> None:
    """``key`` (save, add line) from another widget: refused, said under the field, cursor on it."""
    app = pilot.app
    screen = app.screen
    screen.query_one(elsewhere).focus()
    await pilot.pause()
    await pilot.press(key)
    await settle(pilot)
    assert app.screen is screen, (typed[:30], "a question or dialog opened")
    name = selector.removeprefix("#input-")
    shown = error_line(screen, name)
    assert message in shown, (typed[:30], shown)
    assert len(shown) < 160, (typed[:30], "the message must not repeat a huge value")
    assert app.focused is screen.query_one(selector), (typed[:30], app.focused)
    # Kept as typed, up to what the field takes (a field with no limit of its own takes LONGEST).
    field = screen.query_one(selector, Input)
    assert field.value == typed[: field.max_length or None], typed[:30]


async def refuse_each(
    pilot: Any, cases: list[tuple[str, str, str]], good: dict[str, str], elsewhere: str, key: str = "ctrl+s"
) -> None:
    """Each case on a form filled with ``good`` values: pasted, refused (see ``refused``)."""
    for selector, typed, message in cases:
        for name, value in good.items():
            await replace(pilot, name, value)
        await put(pilot, selector, typed)
        await refused(pilot, key, elsewhere, selector, message, typed)


# --------------------------------------------------------------------------- post a payment

PAYMENT_BAD = [
    ("#input-amount", "", "Amount is required"),
    ("#input-amount", "1e309", "Amount '1e309' is not an amount"),
    ("#input-amount", HUGE_DIGITS, "Amount is larger than $100,000,000,000.00"),
    ("#input-amount", HUGE_TEXT, "Amount 'xxxxxxxxxxxxxxxxxxxx…' is not an amount"),
    ("#input-amount", "1." + HUGE_DIGITS, "Amount 1." + "9" * 18 + "… has more than 2 decimals"),
    ("#input-amount", "[red]x[/]", "Amount '[red]x[/]' is not an amount"),
    ("#input-amount", "-5", "Amount must be more than zero"),
    ("#input-amount", "١٢", "Amount '١٢' is not an amount"),
    ("#input-date", "2026-13-01", "Received on '2026-13-01' is not a date"),
    ("#input-date", "٢٠٢٦-١١-١٦", "Received on '٢٠٢٦-١١-١٦' is not a date"),
    ("#input-date", HUGE_TEXT, "Received on 'xxxxxxxxxxxxxxxxxxxx…' is not a date"),
    ("#input-reference", "12\x1b[31m", "Reference (check no.) has control characters"),
    ("#input-reference", "[red]x[/]\x07", "Reference (check no.) has control characters"),
]


async def test_payment_form_refuses_bad_values_on_the_field(books: Books) -> None:
    app = make_app(books.office, "clerk")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen(pilot, PaymentPostScreen(client_id=books.doe))
        good = {"#input-amount": "10", "#input-date": "2026-11-16", "#input-reference": ""}
        await refuse_each(pilot, PAYMENT_BAD, good, "#open-items")
        # Two wrong fields: both marked, the cursor on the first; the problem line says so.
        await replace(pilot, "#input-reference", "")
        await put(pilot, "#input-amount", "abc")
        await put(pilot, "#input-date", "tomorrow")
        await refused(pilot, "ctrl+s", "#open-items", "#input-amount", "Amount 'abc' is not", "abc")
        assert "Received on 'tomorrow' is not a date" in error_line(app.screen, "date")
        assert "Some fields need fixing" in screen_text(app)
        # The party is a field of the form too: cleared, it is marked and gets the cursor.
        await replace(pilot, "#input-amount", "10")
        await replace(pilot, "#input-date", "2026-11-16")
        await replace(pilot, "#input-client", "")
        await refused(pilot, "ctrl+s", "#open-items", "#input-client", "Client is required", "")
        # Fixed, it saves: the marks are gone.
        await choose(pilot, "#input-client", "Doe, J")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("y")
        await settle(pilot)
        assert "Some fields need fixing" not in screen_text(app)
    assert [p[0] for p in all_payments(books)] == [10]


async def test_a_paste_longer_than_a_field_takes_is_said(books: Books) -> None:
    app = make_app(books.office, "clerk")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen(pilot, PaymentPostScreen(client_id=books.doe))
        await replace(pilot, "#input-reference", "1001")
        app.screen.query_one("#input-reference", Input).post_message(events.Paste(HUGE_TEXT))
        await pilot.pause()
        # What fits is kept (Textual would drop the paste without a word), and the field says why.
        assert app.screen.query_one("#input-reference", Input).value == ("1001" + HUGE_TEXT)[:80]
        assert "Reference (check no.) takes at most 80 characters" in screen_text(app)
    assert all_payments(books) == []


# --------------------------------------------------------------------------- a payment plan

PLAN_BAD = [
    ("#input-count", "", "Installments is required"),
    ("#input-count", "1e309", "Installments '1e309' is not a whole number"),
    ("#input-count", "١٢", "Installments '١٢' is not a whole number"),
    ("#input-count", HUGE_DIGITS, "Installments must be between 1 and 120"),
    ("#input-count", "-5", "Installments must be between 1 and 120"),
    ("#input-count", "[red]x[/]", "Installments '[red]x[/]' is not a whole number"),
    ("#input-first_due", "2026-12-16\x1b", "First due date has control characters"),
    ("#input-first_due", HUGE_TEXT, "First due date 'xxxxxxxxxxxxxxxxxxxx…' is not a date"),
    ("#input-first_due", "2026-11-15", "First due date is in the past (today is 2026-11-16)"),
]


async def test_plan_form_refuses_bad_values_on_the_field(books: Books) -> None:
    app = make_app(books.office, "clerk")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen(pilot, PlanSetupScreen(books.smith))
        good = {"#input-count": "3", "#input-first_due": "2026-12-16"}
        await refuse_each(pilot, PLAN_BAD, good, "#plan-schedule")
        await put(pilot, "#input-count", "0")
        await put(pilot, "#input-first_due", "soon")
        await refused(pilot, "ctrl+s", "#plan-schedule", "#input-count", "between 1 and 120", "0")
        assert "First due date 'soon' is not a date" in error_line(app.screen, "first_due")
        assert "Some fields need fixing" in screen_text(app)
    assert books.office.db.read(lambda s: s.scalar(sa.select(sa.func.count()).select_from(PaymentPlan))) == 0


# --------------------------------------------------------------------------- a batch of checks

BATCH_HEAD_BAD = [
    ("#input-control", "", "Control total is required"),
    ("#input-control", "1e309", "Control total '1e309' is not an amount"),
    ("#input-control", HUGE_DIGITS, "Control total is larger than $100,000,000,000.00"),
    ("#input-control", HUGE_TEXT, "Control total 'xxxxxxxxxxxxxxxxxxxx…' is not an amount"),
    ("#input-control", "-5", "Control total must be more than zero"),
    ("#input-control", "[red]x[/]", "Control total '[red]x[/]' is not an amount"),
    ("#input-count", "١", "Count '١' is not a whole number"),
    ("#input-count", "2\x07", "Count has control characters"),
    ("#input-date", HUGE_TEXT, "Received 'xxxxxxxxxxxxxxxxxxxx…' is not a date"),
]

BATCH_LINE_BAD = [
    ("#input-amount", "1e309", "Amount '1e309' is not an amount"),
    ("#input-amount", "-5", "Amount must be more than zero"),
    ("#input-amount", HUGE_DIGITS, "Amount is larger than $100,000,000,000.00"),
    ("#input-reference", "[red]x[/]\x1b", "Ref has control characters"),
]


async def test_batch_form_refuses_bad_values_on_the_field(books: Books) -> None:
    app = make_app(books.office, "clerk")
    async with app.run_test(size=(100, 30)) as pilot:
        await open_screen(pilot, BatchPostScreen())
        figures = {"#input-control": "5", "#input-count": "1", "#input-date": "2026-11-16"}
        for key in ("ctrl+s", "ctrl+l"):  # saving and adding a line both check the figures
            await refuse_each(pilot, BATCH_HEAD_BAD, figures, "#batch-lines", key)
        for name, value in figures.items():
            await replace(pilot, name, value)
        await choose(pilot, "#input-party", "Doe, J")  # a refused line keeps the party taken
        line = {"#input-amount": "5", "#input-reference": ""}
        await refuse_each(pilot, BATCH_LINE_BAD, line, "#batch-lines", "ctrl+l")
        assert app.screen.query_one("#batch-lines", DataTable).row_count == 0
        # No party taken: the look-up is marked and gets the cursor.
        await replace(pilot, "#input-party", "")
        await replace(pilot, "#input-amount", "5")
        await refused(pilot, "ctrl+l", "#batch-lines", "#input-party", "From is required", "")
    assert all_payments(books) == []
    assert books.office.db.read(lambda s: s.scalar(sa.select(sa.func.count()).select_from(PaymentBatch))) == 0


# --------------------------------------------------------------------------- the payroll export

PAYROLL_BAD = [
    ("#input-period", "", "Period starts (YYYY-MM-DD) is required"),
    ("#input-period", "1e309", "Period starts (YYYY-MM-DD) '1e309' is not a date"),
    ("#input-period", HUGE_TEXT, "Period starts (YYYY-MM-DD) 'xxxxxxxxxxxxxxxxxxxx…' is not a date"),
    ("#input-period", "٢٠٢٦-١١-٠٩", "Period starts (YYYY-MM-DD) '٢٠٢٦-١١-٠٩' is not a date"),
    ("#input-period", "[red]x[/]", "Period starts (YYYY-MM-DD) '[red]x[/]' is not a date"),
    ("#input-path", "", "CSV file (new) is required"),
    ("#input-path", "pay\x07.csv", "CSV file (new) has control characters"),
    ("#input-path", "../pay.csv", "CSV file (new) may not contain '..'"),
]


def statuses(office: Office) -> list[TimecardStatus]:
    return office.db.read(lambda s: list(s.scalars(sa.select(Timecard.status))))


async def test_payroll_form_refuses_bad_values_on_the_field(office: Office) -> None:
    _week(office)
    app = make_app(office, "sup")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen(pilot, PayrollExportScreen())
        good = {"#input-period": "2026-11-09", "#input-path": "pay.csv"}
        await refuse_each(pilot, PAYROLL_BAD, good, "#input-signed_only")
    assert statuses(office) == [TimecardStatus.SUBMITTED]
    assert not app.exports.exists() or list(app.exports.iterdir()) == []


async def test_payroll_path_survives_a_refusal_and_its_fix(office: Office) -> None:
    """The path is refused (the file exists) after the period was typed: the cursor goes to the
    path and the fix edits it; it does not wipe it (the cursor at the end, nothing selected)."""
    _week(office)
    app = make_app(office, "sup")
    app.exports.mkdir(parents=True)
    (app.exports / "old.csv").write_text("keep me")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen(pilot, PayrollExportScreen())
        await replace(pilot, "#input-path", "old.csv")
        await replace(pilot, "#input-period", "2026-11-09")
        await pilot.press("ctrl+s")
        await settle(pilot)
        path = app.screen.query_one("#input-path", Input)
        assert app.focused is path
        assert "exists; choose a new file name" in error_line(app.screen, "path")
        await pilot.press("backspace", "backspace", "backspace", "backspace", *"2.csv")
        await pilot.pause()
        assert path.value == "old2.csv"
        assert error_line(app.screen, "path") == ""  # the mark goes as the field is edited
        await pilot.press("ctrl+s")
        await settle(pilot)
        # Now the unsigned card stops it, said on the problem line; both fields are as typed.
        assert "are not signed: cleo (submitted)" in screen_text(app)
        assert path.value == "old2.csv"
        assert app.screen.query_one("#input-period", Input).value == "2026-11-09"
    assert statuses(office) == [TimecardStatus.SUBMITTED]
    assert sorted(p.name for p in app.exports.iterdir()) == ["old.csv"]


async def test_payroll_tab_goes_field_to_field(office: Office) -> None:
    """The cursor is always somewhere a person sees it: never on a scroll area."""
    _week(office)
    app = make_app(office, "sup")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen(pilot, PayrollExportScreen())
        seen = []
        for _ in range(4):
            await pilot.press("tab")
            await pilot.pause()
            focused = app.focused
            assert isinstance(focused, Input | Select), focused
            assert focused.region.area > 0, focused  # on screen, not scrolled away
            seen.append(focused.id)
        assert seen == ["input-path", "input-signed_only", "input-period", "input-path"]


async def test_payroll_period_typed_before_the_default_arrives_stays(
    office: Office, monkeypatch: pytest.MonkeyPatch
) -> None:
    _week(office)
    gate = threading.Event()
    real = payroll_export.current_period

    def slow(session: Any) -> Any:
        gate.wait(10)  # the default period arrives after the person has typed one
        return real(session)

    monkeypatch.setattr(payroll_export, "current_period", slow)
    app = make_app(office, "sup")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.push_screen(PayrollExportScreen())
        await pilot.pause()
        await pilot.press(*"2026-11-02")
        await pilot.pause()
        gate.set()
        for _ in range(100):  # not settle(): on the old code the answer's worker was cancelled
            await pilot.pause(0.05)
            if all(w.is_finished for w in app.workers):
                break
        assert app.screen.query_one("#input-period", Input).value == "2026-11-02"
        assert app.screen.query_one("#input-path", Input).value == "payroll-2026-11-02.csv"


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("+-5", "'+-5' is not a whole number"),
        ("١٢", "'١٢' is not a whole number"),  # int() would read Arabic-Indic digits as 12
        ("１２", "'１２' is not a whole number"),  # and full-width ones
        ("9" * 5000, "must be between 1 and 120"),  # int() refuses over 4,300 digits
        ("x" * 10_000, "'xxxxxxxxxxxxxxxxxxxx…' is not a whole number"),
    ],
)
def test_whole_numbers_are_ascii_digits_with_short_messages(typed: str, message: str) -> None:
    with pytest.raises(ParseError) as err:
        parse_int(typed, 1, 120)
    assert str(err.value) == message
