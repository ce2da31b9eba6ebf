"""Bad input in every collections form: empty, wrong, huge, hostile (``[Smith]``, ``1e309``).

Each case says which field is wrong and why, keeps what was typed, and changes nothing in the
database; hostile text that is valid (a note with brackets) is stored literally.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session
from textual.widgets import Input

from billing import agency, disputes, invoices
from db.models import Adjustment, Agency, ContactAttempt, Dispute, DisputeStatus, Payment
from screens.clerk.contact_form import ContactDialog
from screens.clerk.dispute_form import DisputeDialog
from screens.supervisor.agency_placements import AgencyDialog, AgencyPaymentDialog
from screens.supervisor.aging_report import AgingReportScreen
from screens.supervisor.dispute_queue import DecideDialog, DisputeQueueScreen
from screens.supervisor.dunning_run import DunningRunScreen
from tests.conftest import Office
from tests.pilot import replace, screen_text, settle, wait_until
from tests.tui.test_collections_screens import (
    Desk,
    choose_option,
    field_error,
    make_app,
    make_desk,
    notifications,
)
from tests.tui.test_payment_screens import open_screen

HUGE = "9" * 40


@pytest.fixture
def desk(office: Office) -> Desk:
    return make_desk(office)


async def save_with(pilot: Any, values: dict[str, str]) -> None:
    for name, text in values.items():
        await replace(pilot, f"#input-{name}", text)
    await pilot.press("ctrl+s")
    await settle(pilot)


async def test_contact_form_bad_input(desk: Desk) -> None:
    app = make_app(desk.office, "clerk")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen(pilot, ContactDialog(desk.doe, "Doe, Jane (A000001)"))
        cases = [
            (
                {"promise_amount": "1e309", "promise_date": "2026-11-30"},
                "promise_amount",
                "'1e309' is not an amount",
            ),
            (
                {"promise_amount": "[Smith]", "promise_date": "2026-11-30"},
                "promise_amount",
                "'[Smith]' is not an amount",
            ),
            ({"promise_amount": HUGE, "promise_date": "2026-11-30"}, "promise_amount", "is larger than"),
            (
                {"promise_amount": "-5", "promise_date": "2026-11-30"},
                "promise_amount",
                "must be more than zero",
            ),
            ({"promise_amount": "50", "promise_date": "[Smith]"}, "promise_date", "'[Smith]' is not a date"),
            (
                {"promise_amount": "50", "promise_date": "2026-11-01"},
                "promise_date",
                "is in the past (today is 2026-11-16)",
            ),
            ({"promise_amount": "50", "promise_date": HUGE}, "promise_date", "is not a date"),
            (
                {"promise_amount": "50", "promise_date": ""},
                "promise_date",
                "is needed too: a promise has an amount and a date",
            ),
            ({"promise_amount": "", "promise_date": "2026-11-30"}, "promise_amount", "is needed too"),
            # The service's own rule comes back on the field: a promise a year and more away.
            (
                {"promise_amount": "50", "promise_date": "2028-01-01"},
                "promise_date",
                "is more than a year away",
            ),
        ]
        for values, field, message in cases:
            await save_with(pilot, values)
            assert isinstance(app.screen, ContactDialog), values
            assert message in field_error(pilot, field), (values, field_error(pilot, field))
            for name, text in values.items():  # what was typed is kept
                assert app.screen.query_one(f"#input-{name}", Input).value == text
        assert "Some fields need fixing" in screen_text(app)
        # A promise-to-pay outcome without a promise is the service's refusal, on the field.
        await choose_option(pilot, "#input-outcome", "Prom")
        await save_with(pilot, {"promise_amount": "", "promise_date": ""})
        assert "is required for a promise to pay" in field_error(pilot, "promise_amount")
        # Valid hostile text is stored as typed.
        await choose_option(pilot, "#input-outcome", "No")
        await save_with(pilot, {"notes": "[Smith] [b]not bold[/b]"})
        assert not isinstance(app.screen, ContactDialog)
        assert "Logged: outbound call, no answer" in notifications(app)
    notes = desk.office.db.read(lambda s: [c.notes for c in s.scalars(sa.select(ContactAttempt))])
    assert notes == ["[Smith] [b]not bold[/b]"]


async def test_dispute_form_bad_input(desk: Desk) -> None:
    view = desk.office.db.read(lambda s: invoices.get_invoice(desk.office.clerk, s, desk.smith_inv))
    app = make_app(desk.office, "clerk")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen(pilot, DisputeDialog(view, None))
        await choose_option(pilot, "#input-reason", "Oth")
        await save_with(pilot, {"description": ""})
        assert isinstance(app.screen, DisputeDialog)
        assert "is required" in field_error(pilot, "description")
        await save_with(pilot, {"description": "[Smith] 1e309"})
        assert not isinstance(app.screen, DisputeDialog)
        # A second dispute on the same invoice is refused with the service's words.
        await open_screen(pilot, DisputeDialog(view, None))
        await choose_option(pilot, "#input-reason", "Serv")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, DisputeDialog)
        assert "open dispute" in notifications(app).lower()

    rows = desk.office.db.read(
        lambda s: [(d.reason.value, d.description) for d in s.scalars(sa.select(Dispute))]
    )
    assert rows == [("other", "[Smith] 1e309")]


async def test_decide_dialog_bad_input(desk: Desk) -> None:
    clerk = desk.office.clerk
    desk.office.db.write(
        lambda s: disputes.open_dispute(clerk, s, invoice_id=desk.smith_inv, reason="amount_differs")
    )
    app = make_app(desk.office, "sup")
    async with app.run_test(size=(120, 40)) as pilot:
        await open_screen(pilot, DisputeQueueScreen())
        # The detail follows the highlighted row on a 0.2 s timer; w decides on it.
        await wait_until(pilot, lambda: app.screen.detail is not None, "the detail of the dispute")
        await pilot.press("w")
        await settle(pilot)
        assert isinstance(app.screen, DecideDialog)
        for values, field, message in [
            ({"amount": "1e309", "reason": "x"}, "amount", "'1e309' is not an amount"),
            ({"amount": "[Smith]", "reason": "x"}, "amount", "is not an amount"),
            ({"amount": HUGE, "reason": "x"}, "amount", "is larger than"),
            ({"amount": "1000.01", "reason": "x"}, "amount", "is more than the disputed $1,000.00"),
            ({"amount": "10", "reason": ""}, "reason", "is required"),
        ]:
            await save_with(pilot, values)
            assert isinstance(app.screen, DecideDialog), values
            assert message in field_error(pilot, field), (values, field_error(pilot, field))
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("r")  # correct: line amounts as typed
        await settle(pilot)
        for values, message in [
            ({"amounts": "[Smith]", "reason": "x"}, "is not a line number"),
            ({"amounts": "9=10", "reason": "x"}, "has no line 9 (it has 1-1)"),
            ({"amounts": "1", "reason": "x"}, "give each line its corrected amount"),
            ({"amounts": "1=1e309", "reason": "x"}, "is not an amount"),
            ({"amounts": "", "reason": "x"}, "is required"),
        ]:
            await save_with(pilot, values)
            assert isinstance(app.screen, DecideDialog), values
            assert message in field_error(pilot, "amounts"), (values, field_error(pilot, "amounts"))
    assert desk.office.db.read(lambda s: s.get(Dispute, 1).status) == DisputeStatus.OPEN  # type: ignore[union-attr]
    assert desk.count(Adjustment) == 0


async def test_agency_forms_bad_input(desk: Desk, tmp_path: Any) -> None:
    app = make_app(desk.office, "sup")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen(pilot, AgencyDialog())
        for values, field, message in [
            ({"name": "", "fee": "30"}, "name", "is required"),
            ({"name": "A", "fee": "1e309"}, "fee", "'1e309' is not a percent"),
            ({"name": "A", "fee": "[Smith]"}, "fee", "is not a percent"),
            ({"name": "A", "fee": "150"}, "fee", "must be a percent from 0 to 100"),
            ({"name": "A", "fee": ""}, "fee", "is required"),
        ]:
            await save_with(pilot, values)
            assert isinstance(app.screen, AgencyDialog), values
            assert message in field_error(pilot, field), (values, field_error(pilot, field))
        await save_with(pilot, {"name": "[Smith] Recovery", "fee": "27.5"})
        assert not isinstance(app.screen, AgencyDialog)
        await open_screen(pilot, AgencyDialog())
        await save_with(pilot, {"name": "[smith] recovery", "fee": "30"})
        assert "exists already" in field_error(pilot, "name")
        await pilot.press("escape")

        sup = desk.office.sup

        def place(s: Session) -> Any:
            a = s.scalars(sa.select(Agency)).one()
            return agency.place_accounts(sup, s, agency_id=a.id, client_ids=[desk.doe])[0]

        placement = desk.office.db.write(place)
        await open_screen(pilot, AgencyPaymentDialog(placement))
        for values, field, message in [
            ({"gross": ""}, "gross", "is required"),
            ({"gross": "1e309"}, "gross", "is not an amount"),
            ({"gross": "[Smith]"}, "gross", "is not an amount"),
            ({"gross": HUGE}, "gross", "is larger than"),
            ({"gross": "150.01"}, "gross", "is more than the account owes ($150.00)"),
            ({"gross": "10", "received_on": "2026-11-17"}, "received_on", "is in the future"),
            ({"gross": "10", "received_on": "[Smith]"}, "received_on", "is not a date"),
        ]:
            await save_with(pilot, values)
            assert isinstance(app.screen, AgencyPaymentDialog), values
            assert message in field_error(pilot, field), (values, field_error(pilot, field))
    assert [
        a for a in desk.office.db.read(lambda s: [(a.name, a.fee_bp) for a in s.scalars(sa.select(Agency))])
    ] == [("[Smith] Recovery", 2750)]
    assert desk.count(Payment) == 0


async def test_as_of_fields_bad_input(desk: Desk) -> None:
    app = make_app(desk.office, "sup")
    async with app.run_test(size=(80, 24)) as pilot:
        for screen in (AgingReportScreen, DunningRunScreen):
            await open_screen(pilot, screen())
            for text, message in [
                ("[Smith]", "'[Smith]' is not a date"),
                ("1e309", "is not a date"),
                (HUGE, "is not a date"),
                ("2026-11-17", "is in the future (today is 2026-11-16)"),
                ("", "is required"),
            ]:
                await replace(pilot, "#input-as_of", text)
                await pilot.press("enter")
                await settle(pilot)
                assert message in field_error(pilot, "as_of"), (screen, text)
                assert "2026-11-16" in screen_text(app)  # the report stays on its day
            await pilot.press("escape")
            await settle(pilot)
