"""The collections screens driven by keys: the issue's "done when" walk (a clerk logs a call
with a promise and opens a dispute; the dunning preview skips that invoice and says why; the
run applied twice sends each letter once; the supervisor waives part of the disputed charge;
an account is placed with an agency, an agency payment is posted net of fee, the account is
recalled), and rights. Data is made through the services with the clock set back.

The helpers at the top (``Desk``, ``make_desk``) are shared by the form and snapshot tests.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session
from textual.widgets import Select

from billing import catalog, clients, dunning, invoices, services
from db import timeutil
from db.models import (
    Adjustment,
    AdjustmentKind,
    ContactAttempt,
    Dispute,
    DisputeStatus,
    DunningEvent,
    Invoice,
    Payment,
    Placement,
    PlacementStatus,
)
from db.rights import Actor
from screens.clerk.client_account import ClientAccountScreen
from screens.clerk.collections_worklist import CollectionsWorklistScreen
from screens.clerk.contact_form import ContactDialog
from screens.clerk.dispute_form import DisputeDialog
from screens.clerk.invoice_view import InvoiceViewScreen
from screens.common.goto import GotoDialog
from screens.common.time_view import InfoDialog, ReasonDialog
from screens.supervisor.agency_placements import (
    AgencyDialog,
    AgencyPaymentDialog,
    AgencyPlacementsScreen,
    PlaceAccountsScreen,
)
from screens.supervisor.aging_report import AgingAccountsScreen, AgingInvoicesScreen, AgingReportScreen
from screens.supervisor.dispute_queue import DecideDialog, DisputeQueueScreen
from screens.supervisor.dunning_run import DunningRunScreen
from tests.conftest import FROZEN_NOW, Office
from tests.pilot import replace, screen_text, settle, type_text, wait_for_list, wait_until
from tests.tui.test_billing_screens import make_app, notes
from tests.tui.test_payment_screens import flat, open_screen
from tui.widgets.confirm import ConfirmDialog

D = Decimal
TODAY = dt.date(2026, 11, 16)  # the frozen office day


# --------------------------------------------------------------------------- data through the services


@dataclass
class Desk:
    office: Office
    doe: int  # Doe, Jane: statement of 150.00 issued 2026-09-01, due 2026-10-01 (46 days over)
    doe_inv: int
    smith: int  # "[Smith]", Anna: 1000.00 issued 2026-10-01, due 2026-10-31 (16 days over)
    smith_inv: int
    garcia: int  # Garcia, Luis: 150.00 issued 2026-08-01, due 2026-08-31 (77 days over)
    garcia_inv: int

    def number(self, invoice_id: int) -> str:
        return self.office.db.read(lambda s: s.get(Invoice, invoice_id).number)  # type: ignore[union-attr]

    def count(self, model: type) -> int:
        return self.office.db.read(lambda s: s.scalar(sa.select(sa.func.count()).select_from(model)) or 0)


@contextmanager
def clock_at(day: dt.date) -> Iterator[None]:
    timeutil.freeze(f"{day.isoformat()}T15:00:00+00:00")
    try:
        yield
    finally:
        timeutil.freeze(FROZEN_NOW)


def _client(a: Actor, s: Session, last: str, first: str) -> int:
    return clients.register_client(
        a,
        s,
        first_name=first,
        last_name=last,
        date_of_birth=dt.date(1980, 1, 2),
        address_line1="1 Main St",
        city="Springfield",
        region="MA",
        postal_code="01103",
        phone="413-555-0100",
    ).id


def _bill(office: Office, client_id: int, code: str, day: dt.date) -> int:
    """One service on ``day``, built and issued that day: the id of the invoice it made."""
    clerk = office.clerk

    def go(s: Session) -> int:
        services.record_service(clerk, s, client_id, service_date=day, code=code)
        built = invoices.build_invoices(clerk, s, client_id)
        issued = invoices.issue_drafts(clerk, s, [d.id for d in built.drafts])
        assert len(issued) == 1
        return issued[0].id

    with clock_at(day):
        return office.db.write(go)


def make_desk(office: Office) -> Desk:
    db, sup, clerk = office.db, office.sup, office.clerk

    def setup(s: Session) -> None:
        catalog.add_code(sup, s, code="G0001", description="Office visit", fee="150.00")
        catalog.add_code(sup, s, code="G0002", description="Lab panel", fee="1000.00")
        dunning.set_level(
            sup, s, level=1, name="First reminder", days_overdue=15, letter_text="Dear {name}, please pay."
        )
        dunning.set_level(
            sup,
            s,
            level=2,
            name="Second notice",
            days_overdue=45,
            fee="5.00",
            letter_text="Dear {name}, please pay {amount}.",
        )

    db.write(setup)
    with clock_at(dt.date(2026, 7, 1)):
        doe = db.write(lambda s: _client(clerk, s, "Doe", "Jane"))
        smith = db.write(lambda s: _client(clerk, s, "[Smith]", "Anna"))
        garcia = db.write(lambda s: _client(clerk, s, "Garcia", "Luis"))
    return Desk(
        office=office,
        doe=doe,
        doe_inv=_bill(office, doe, "G0001", dt.date(2026, 9, 1)),
        smith=smith,
        smith_inv=_bill(office, smith, "G0002", dt.date(2026, 10, 1)),
        garcia=garcia,
        garcia_inv=_bill(office, garcia, "G0001", dt.date(2026, 8, 1)),
    )


@pytest.fixture
def desk(office: Office) -> Desk:
    return make_desk(office)


# --------------------------------------------------------------------------- driving


def notifications(app: Any) -> str:
    """Every notification shown so far (kept by the test app: on screen they expire)."""
    return notes(app)


async def choose_option(pilot: Any, selector: str, text: str) -> None:
    """Open a Select and take the option whose label starts with ``text`` (typed to search)."""
    sel = pilot.app.screen.query_one(selector, Select)
    sel.focus()
    await pilot.pause()
    await pilot.press("enter")
    await pilot.pause()
    await type_text(pilot, text)
    await pilot.pause()
    await pilot.press("enter")
    await pilot.pause()


async def go_to(pilot: Any, key: str) -> None:
    await settle(pilot)
    await pilot.press("g")
    await settle(pilot)
    await pilot.press(key)
    await settle(pilot)


def field_error(pilot: Any, name: str) -> str:
    from textual.widgets import Static

    return str(pilot.app.screen.query_one(f"#field-{name} .field-error", Static).render())


# --------------------------------------------------------------------------- the walk


async def clerk_logs_a_promise_and_disputes(desk: Desk) -> None:
    app = make_app(desk.office, "clerk")
    async with app.run_test(size=(120, 40)) as pilot:
        await go_to(pilot, "l")
        assert isinstance(app.screen, CollectionsWorklistScreen)
        shown = flat(screen_text(app))
        # Most urgent first: the oldest past-due item leads.
        assert shown.index("Garcia, Luis") < shown.index("Doe, Jane") < shown.index("[Smith], Anna")
        assert "Garcia, Luis | $150.00 | 77" in shown
        await pilot.press("/")
        await type_text(pilot, "Doe")
        await wait_for_list(pilot, "Doe")
        await pilot.press("enter")  # from the filter box back to the list
        await settle(pilot)
        assert "Doe, Jane" in screen_text(app) and "Garcia" not in screen_text(app)
        await pilot.press("enter")  # opens the account
        await settle(pilot)
        assert isinstance(app.screen, ClientAccountScreen)
        await pilot.press("k")  # the contact dialog, with an outbound call preset
        await settle(pilot)
        assert isinstance(app.screen, ContactDialog)
        await choose_option(pilot, "#input-outcome", "Prom")
        await replace(pilot, "#input-notes", "spoke to Jane; pays after payday")
        await replace(pilot, "#input-promise_amount", "50")
        await replace(pilot, "#input-promise_date", "2026-11-30")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ClientAccountScreen)
        assert "Logged: outbound call, promise to pay $50.00 by 2026-11-30" in notifications(app)
        await pilot.press("7")  # the contact log tab
        await settle(pilot)
        assert (
            "call | out | promise to pay | $50.00 11-30 pending | cleo | spoke to Jane; pays after payday"
            in flat(screen_text(app))
        )
        # The dispute: the invoices tab, the statement, d.
        await pilot.press("3")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, InvoiceViewScreen)
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, DisputeDialog)
        await choose_option(pilot, "#input-reason", "Amount")
        await replace(pilot, "#input-description", "[Smith] quoted 125.00 for the visit")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, InvoiceViewScreen)
        number = desk.number(desk.doe_inv)
        assert (
            f"Dispute #1 opened on line 1 of {number}: on hold until a supervisor decides"
            in notifications(app)
        )
        assert "ON DISPUTE HOLD" in screen_text(app)

    def facts(s: Session) -> tuple[Any, ...]:
        c = s.scalars(sa.select(ContactAttempt)).one()
        d = s.scalars(sa.select(Dispute)).one()
        inv = s.get(Invoice, desk.doe_inv)
        assert inv is not None
        return (
            c.client_id,
            c.channel.value,
            c.direction.value,
            c.outcome.value,
            c.promise_amount,
            c.promise_date,
            c.notes,
            d.invoice_id,
            d.reason.value,
            d.description,
            d.status,
            inv.dispute_hold,
        )

    assert desk.office.db.read(facts) == (
        desk.doe,
        "phone",
        "outbound",
        "promise_to_pay",
        D("50.00"),
        dt.date(2026, 11, 30),
        "spoke to Jane; pays after payday",
        desk.doe_inv,
        "amount_differs",
        "[Smith] quoted 125.00 for the visit",
        DisputeStatus.OPEN,
        True,
    )


async def test_done_when_walk(desk: Desk) -> None:
    await clerk_logs_a_promise_and_disputes(desk)
    doe_no, smith_no, garcia_no = (desk.number(i) for i in (desk.doe_inv, desk.smith_inv, desk.garcia_inv))
    app = make_app(desk.office, "sup")
    async with app.run_test(size=(120, 40)) as pilot:
        # ---- dunning: the disputed invoice is skipped and the preview says why
        await go_to(pilot, "j")
        assert isinstance(app.screen, DunningRunScreen)
        shown = flat(screen_text(app))
        assert "Run as of 2026-11-16: 2 invoices get a level, 2 letters, fees $5.00 · 1 skipped" in shown
        assert f"{doe_no} | 46 | $150.00 | 2 | | SKIP invoice on dispute hold" in shown
        assert f"{garcia_no} | 77 | $150.00 | 2 | $5.00 | send letter: Second notice" in shown
        assert f"{smith_no} | 16 | $1,000.00 | 1 | | send letter: First reminder" in shown
        assert desk.count(DunningEvent) == 0  # a preview writes nothing
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        ask = flat(screen_text(app))
        assert "fires 2 dunning levels and writes 2 letters (one per account), 1 fee invoice for $5.00" in ask
        assert f"Skipped 1, not touched: 1 invoice on dispute hold ({doe_no})" in ask
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, InfoDialog)
        assert "2 levels fired, 2 letters" in screen_text(app)
        await pilot.press("enter")
        await settle(pilot)
        assert "nothing new to send · 1 skipped" in flat(screen_text(app))
        await pilot.press("a")  # again: nothing to confirm, nothing sent
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmDialog)
        assert "Nothing new to send as of 2026-11-16" in notifications(app)
        assert desk.count(DunningEvent) == 2

        # ---- the dispute queue: history and explain beside it; waive part
        await go_to(pilot, "q")
        assert isinstance(app.screen, DisputeQueueScreen)
        await settle(pilot)
        shown = flat(screen_text(app))
        assert f"Doe, Jane | {doe_no}:1 | $150.00 | amount differs from the estimate | cleo" in shown
        assert "Dispute #1 on line 1 of" in shown and "[Smith] quoted 125.00 for the visit" in shown
        assert "promise $50.00 by 2026-11-30, pending" in shown
        assert "Line 1 G0001 Office visit | $150.00" in shown
        await pilot.press("w")
        await settle(pilot)
        assert isinstance(app.screen, DecideDialog)
        await replace(pilot, "#input-amount", "25")
        await replace(pilot, "#input-reason", "the quote said 125.00")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        assert "the balance goes from $150.00 to $125.00" in flat(screen_text(app))
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, DisputeQueueScreen)
        assert "Dispute #1 waived: $25.00 waived" in notifications(app)
        # The list reloads after the decision's answer, one worker after another.
        await wait_until(pilot, lambda: "No open disputes." in screen_text(app), "no open disputes")

        # ---- dunning resumes where it was: the next preview fires level 2 for the rest
        await go_to(pilot, "j")
        await pilot.press("r")
        await settle(pilot)
        assert f"{doe_no} | 46 | $125.00 | 2 | $5.00 | send letter: Second notice" in flat(screen_text(app))

    def decided(s: Session) -> tuple[Any, ...]:
        d = s.scalars(sa.select(Dispute)).one()
        adj = s.scalars(sa.select(Adjustment).where(Adjustment.dispute_id == d.id)).one()
        inv = s.get(Invoice, desk.doe_inv)
        assert inv is not None
        return d.status, d.waived_amount, d.decided_by, adj.kind, adj.amount, inv.balance, inv.dispute_hold

    assert desk.office.db.read(decided) == (
        DisputeStatus.WAIVED,
        D("25.00"),
        desk.office.sup.user_id,
        AdjustmentKind.WAIVE,
        D("25.00"),
        D("125.00"),
        False,
    )


async def test_agency_place_pay_recall(desk: Desk, tmp_path: Any) -> None:
    app = make_app(desk.office, "sup")
    async with app.run_test(size=(120, 40)) as pilot:
        await go_to(pilot, "v")
        assert isinstance(app.screen, AgencyPlacementsScreen)
        assert "No agencies yet: n adds one." in screen_text(app)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, AgencyDialog)
        await replace(pilot, "#input-name", "Acme Collections")
        await replace(pilot, "#input-fee", "30")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "Acme Collections | 30.00 % | 0" in flat(screen_text(app))
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, PlaceAccountsScreen)
        assert flat(screen_text(app)).index("Garcia, Luis") < flat(screen_text(app)).index("Doe, Jane")
        await pilot.press("space")  # Garcia, the first row
        await settle(pilot)
        assert "Marked 1 account, $150.00" in screen_text(app)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        ask = flat(screen_text(app))
        assert "Place 1 account with Acme Collections (fee 30.00 %), balance placed $150.00" in ask
        assert "Garcia, Luis: $150.00" in ask
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, AgencyPlacementsScreen)
        assert "Placed 1 account with Acme Collections: $150.00" in notifications(app)
        shown = flat(screen_text(app))
        assert "Garcia, Luis | 2026-11-16 | $150.00 | $150.00 | $0.00 | active" in shown
        # The agency payment: the dialog shows fee and net before anything is saved.
        await pilot.press("tab")
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, AgencyPaymentDialog)
        await replace(pilot, "#input-gross", "100")
        await replace(pilot, "#input-reference", "REM-7")
        assert "Gross $100.00 − agency fee $30.00 = net $70.00 posted as the payment" in screen_text(app)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        ask = flat(screen_text(app))
        assert "Posted as a payment: $70.00 (net)" in ask and "Agency fee 30.00 %: $30.00" in ask
        assert "The account owes $150.00 → $50.00." in ask
        await pilot.press("y")
        await settle(pilot)
        assert "posted net of the $30.00 agency fee (collected $100.00)" in notifications(app)
        assert "Garcia, Luis | 2026-11-16 | $150.00 | $50.00 | $100.00 | active" in flat(screen_text(app))
        # The file, then the recall.
        await pilot.press("x")
        await settle(pilot)
        await replace(pilot, "#input-folder", "agency")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "(1 account)" in notifications(app), screen_text(app)
        written = list((app.exports / "agency").glob("agency-Acme-Collections-20261116.csv"))
        assert oct(written[0].stat().st_mode & 0o777) == "0o600"
        assert len(written) == 1 and "Garcia" in written[0].read_text()
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, ReasonDialog)
        await replace(pilot, "#input-reason", "client called us directly")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "recalled from Acme Collections" in notifications(app)
        assert "Garcia" not in screen_text(app)  # the list shows active placements

    def facts(s: Session) -> tuple[Any, ...]:
        p = s.scalars(sa.select(Placement)).one()
        pay = s.scalars(sa.select(Payment)).one()
        fee = s.scalars(sa.select(Adjustment).where(Adjustment.kind == AdjustmentKind.AGENCY_FEE)).one()
        inv = s.get(Invoice, desk.garcia_inv)
        assert inv is not None
        return p.client_id, p.balance_placed, p.status, pay.amount, pay.reference, fee.amount, inv.balance

    assert desk.office.db.read(facts) == (
        desk.garcia,
        D("150.00"),
        PlacementStatus.RECALLED,
        D("70.00"),
        "REM-7",
        D("30.00"),
        D("50.00"),
    )


async def test_aging_drill_down(desk: Desk) -> None:
    app = make_app(desk.office, "sup")
    async with app.run_test(size=(80, 24)) as pilot:
        await go_to(pilot, "k")
        assert isinstance(app.screen, AgingReportScreen)
        shown = flat(screen_text(app))
        assert "Aging as of 2026-11-16 · 3 accounts owe on their own bills" in shown
        assert "1–30 | $1,000.00 | $0.00" in shown
        assert "31–60 | $150.00 | $0.00" in shown
        assert "61–90 | $150.00 | $0.00" in shown
        assert "Total | $1,300.00 | $0.00" in shown
        # Down to 31–60 (row 3), Clients column; Enter drills down.
        await pilot.press("down", "down")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, AgingAccountsScreen)
        assert "Doe, Jane | $150.00 | $150.00" in flat(screen_text(app))
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, AgingInvoicesScreen)
        assert f"{desk.number(desk.doe_inv)} | 2026-10-01 | 46 | 31–60 | $150.00 | $150.00" in flat(
            screen_text(app)
        )
        await pilot.press("escape", "escape")
        await settle(pilot)
        # As of a past day: Smith's invoice was not yet issued on 2026-09-15.
        await replace(pilot, "#input-as_of", "2026-09-15")
        await pilot.press("enter")
        await settle(pilot)
        shown = flat(screen_text(app))
        assert "Aging as of 2026-09-15 · 2 accounts" in shown
        assert "Total | $300.00 | $0.00" in shown


async def test_self_raised_dispute_is_refused_before_any_input(desk: Desk) -> None:
    sup = desk.office.sup
    desk.office.db.write(
        lambda s: __import__("billing.disputes", fromlist=["x"]).open_dispute(
            sup, s, invoice_id=desk.smith_inv, reason="not_rendered"
        )
    )
    app = make_app(desk.office, "sup")
    async with app.run_test(size=(120, 40)) as pilot:
        await open_screen(pilot, DisputeQueueScreen())
        assert "service not rendered" in screen_text(app)
        for key in ("w", "c", "r"):
            await pilot.press(key)
            await settle(pilot)
            assert isinstance(app.screen, DisputeQueueScreen)  # no dialog opened
        assert "You opened dispute #1: another supervisor must decide it" in notifications(app)
    assert desk.office.db.read(lambda s: s.get(Dispute, 1).status) == DisputeStatus.OPEN  # type: ignore[union-attr]


async def test_a_clerk_cannot_open_supervisor_screens(desk: Desk) -> None:
    app = make_app(desk.office, "clerk")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("g")
        await settle(pilot)
        assert isinstance(app.screen, GotoDialog)
        titles = {e.title for e in app.screen.entries}
        assert "Collections worklist" in titles
        assert not titles & {"Aging report", "Dunning run", "Agency placements", "Dispute queue"}
        await pilot.press("escape")
        for screen, words_ in (
            (DunningRunScreen, "Only a supervisor can run dunning"),
            (DisputeQueueScreen, "Only a supervisor can decide disputes"),
            (AgencyPlacementsScreen, "Only a supervisor can work with collection agencies"),
            (AgingReportScreen, "Only a supervisor can see the office's aging report"),
        ):
            await open_screen(pilot, screen())
            assert isinstance(app.screen, screen)
            assert f"{words_}. Esc goes back." in screen_text(app)  # and nothing else
            assert words_ in notifications(app)
            await pilot.press("ctrl+r")  # nothing to reload: no error, no crash
            await pilot.press("escape")
            await settle(pilot)
    assert desk.count(DunningEvent) == 0


async def test_confirm_and_correct_by_keys(desk: Desk) -> None:
    clerk = desk.office.clerk

    def open_two(s: Session) -> None:
        from billing import disputes

        disputes.open_dispute(clerk, s, invoice_id=desk.garcia_inv, reason="not_rendered")
        disputes.open_dispute(clerk, s, invoice_id=desk.smith_inv, reason="amount_differs", line_no=1)

    desk.office.db.write(open_two)
    garcia_no, smith_no = desk.number(desk.garcia_inv), desk.number(desk.smith_inv)
    app = make_app(desk.office, "sup")
    async with app.run_test(size=(120, 40)) as pilot:
        await open_screen(pilot, DisputeQueueScreen())
        first = f"Dispute #1 on {garcia_no}: service not rendered"
        # The detail follows the highlighted row on a 0.2 s timer.
        await wait_until(pilot, lambda: first in flat(screen_text(app)), "the detail of dispute #1")
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, DecideDialog)
        await replace(pilot, "#input-reason", "the visit is in the schedule")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert f"The charge on {garcia_no} stands ($150.00 owed)" in flat(screen_text(app))
        await pilot.press("y")
        await settle(pilot)
        assert "Dispute #1 confirmed" in notifications(app)
        second = f"Dispute #2 on line 1 of {smith_no}"
        await wait_until(pilot, lambda: second in flat(screen_text(app)), "the detail of dispute #2")
        await pilot.press("r")
        await settle(pilot)
        await replace(pilot, "#input-amounts", "1=800")
        await replace(pilot, "#input-reason", "estimate was 800.00")
        await pilot.press("ctrl+s")
        await settle(pilot)
        ask = flat(screen_text(app))
        assert f"{smith_no} is credited with a credit note and a new invoice is issued" in ask
        assert "line 1 G0002 $1,000.00 → $800.00" in ask
        await pilot.press("y")
        await settle(pilot)
        shown = notifications(app)
        assert "Dispute #2 corrected: credit note" in shown and ", new invoice " in shown
        # The list reloads after the decision's answer, one worker after another.
        await wait_until(pilot, lambda: "No open disputes." in screen_text(app), "no open disputes")

    def facts(s: Session) -> tuple[Any, ...]:
        d1, d2 = s.scalars(sa.select(Dispute).order_by(Dispute.id)).all()
        garcia = s.get(Invoice, desk.garcia_inv)
        smith = s.get(Invoice, desk.smith_inv)
        assert garcia is not None and smith is not None
        newest = s.scalars(
            sa.select(Invoice).where(Invoice.client_id == desk.smith).order_by(Invoice.id.desc())
        ).first()
        assert newest is not None
        return d1.status, garcia.dispute_hold, garcia.balance, d2.status, smith.balance, newest.total

    assert desk.office.db.read(facts) == (
        DisputeStatus.CONFIRMED,
        False,
        D("150.00"),
        DisputeStatus.CORRECTED,
        D("0.00"),
        D("800.00"),
    )


async def test_palette_and_help_list_the_collections_screens(desk: Desk) -> None:
    app = make_app(desk.office, "sup")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for title in (
            "Collections worklist",
            "Aging report",
            "Dunning run",
            "Agency placements",
            "Dispute queue",
        ):
            assert f"Go to {title}" in titles
        await open_screen(pilot, DunningRunScreen())
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Apply run (a)" in titles and "Preview (r)" in titles
        await pilot.press("f1")
        await settle(pilot)
        help_text = screen_text(app)
        assert "Apply run | Send the letters (asks first)" in help_text
    clerk = make_app(desk.office, "clerk")
    async with clerk.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        titles = [c.title for c in clerk.get_system_commands(clerk.screen)]
        assert "Go to Collections worklist" in titles and "Go to Dunning run" not in titles
        await open_screen(pilot, ClientAccountScreen(desk.doe))
        titles = [c.title for c in clerk.get_system_commands(clerk.screen)]
        assert "Log contact (k)" in titles
