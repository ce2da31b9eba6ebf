"""The daily assignment screens driven by keys (issue 8, docs/assignment_screens.md): the supervisor's
assignment screen and the clerk's work list, with what the database holds after each step.

The day: Mon 16 Nov 2026, 10:00 (frozen). Cleo (insurer, lang:es), Carl (government, employer)
and Cora (other) each have a published late shift 11:00–19:00 today, so all three are on shift
and available. Six clients have unbilled services: Ana García (Acme, an insurer: only Cleo has
that skill) and five self-pay clients (anyone may bill them).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa
from textual.widgets import DataTable, Input, TabbedContent

from db import timeutil
from db.errors import PermissionDenied
from db.models import Assignment, User, WorkItem, WorkOutcome
from scheduling import shifts, work_items, work_plan
from screens.clerk.client_account import ClientAccountScreen
from screens.clerk.my_list import MyListScreen
from screens.clerk.outcome_dialog import OutcomeDialog
from screens.common.goto import GotoDialog
from screens.supervisor.assign_dialogs import ClerkPicker, PlanPreviewDialog
from screens.supervisor.assignment import AssignmentScreen
from tests.billing.billing_setup import World, make_world
from tests.conftest import FROZEN_NOW, Office
from tests.pilot import screen_text, settle, wait_for_list, wait_until
from tests.tui.conftest import make_app
from tui.widgets.confirm import ConfirmDialog

TODAY = dt.date(2026, 11, 16)
SELF_PAY = [("Bea", "Adams"), ("Cal", "Brown"), ("Dee", "Clark"), ("Eli", "Davis"), ("Fay", "Evans")]


def setup_day(office: Office, cora_code: str = "L") -> World:
    """``cora_code="S"`` gives Cora a 30-minute shift (two bill items are over her capacity),
    ``"E"`` an early one from 07:00 (at 10:00 without a clock-in she is absent)."""
    world = make_world(office)
    sup = office.sup

    def roster(s: Any) -> None:
        shifts.add_shift_type(sup, s, code="L", name="Late", start_time=dt.time(11), minutes=480)
        shifts.add_shift_type(sup, s, code="S", name="Short", start_time=dt.time(11), minutes=30)
        shifts.add_shift_type(sup, s, code="E", name="Early", start_time=dt.time(7), minutes=480)
        for login, code in (("cleo", "L"), ("carl", "L"), ("cora", cora_code)):
            shifts.set_cell(sup, s, login, TODAY, code, expected_version=None)
        shifts.publish(sup, s, TODAY, TODAY)

    office.db.write(roster)
    world.service()  # Ana García, billed to Acme
    for first, last in SELF_PAY:
        world.service(client=world.new_client(first, last))
    return world


def notes(app: Any) -> str:
    return "\n".join(str(n.message) for n in app._notifications)


def assignments(office: Office) -> dict[str, tuple[str | None, bool, bool]]:
    """Client last name → (clerk login or None, manual, published) for today's items."""
    from db.models import Client

    rows = office.db.read(
        lambda s: s.execute(
            sa.select(Client.last_name, User.login, Assignment.manual, Assignment.published)
            .select_from(WorkItem)
            .join(Client, Client.id == WorkItem.client_id)
            .outerjoin(Assignment, Assignment.work_item_id == WorkItem.id)
            .outerjoin(User, User.id == Assignment.user_id)
            .where(WorkItem.day == TODAY)
        ).all()
    )
    return {last: (login, bool(manual), bool(pub)) for last, login, manual, pub in rows}


async def open_assignment(pilot: Any) -> AssignmentScreen:
    await settle(pilot)
    await pilot.press("g")
    assert isinstance(pilot.app.screen, GotoDialog)
    await pilot.press("w")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, AssignmentScreen)
    return screen


def item_rows(screen: AssignmentScreen) -> list[str]:
    t = screen.query_one("#asg-items DataTable", DataTable)
    return [" | ".join(str(c) for c in t.get_row_at(i)) for i in range(t.row_count)]


async def goto_item(pilot: Any, screen: AssignmentScreen, last_name: str) -> None:
    """Arrow keys to the row of that client, as a person would."""
    table = screen.query_one("#asg-items DataTable", DataTable)
    rows = item_rows(screen)
    target = next(i for i, r in enumerate(rows) if last_name in r)
    while table.cursor_row != target:
        await pilot.press("down" if table.cursor_row < target else "up")
    await pilot.pause()


def clerk_key(screen: AssignmentScreen, login: str) -> str:
    return next(k for k, c in screen.keys.items() if c.login == login and k.isdigit())


# --------------------------------------------------------------------------- supervisor


async def test_generate_auto_assign_preview_accept_publish(office: Office) -> None:
    setup_day(office)
    app = make_app(office, "sup")
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await open_assignment(pilot)
        assert "no items yet: n generates them" in screen_text(app)
        await pilot.press("n")
        await settle(pilot)
        assert "6 new items (bill 6)" in notes(app)
        assert assignments(office) == {
            last: (None, False, False) for last in ["García", *[x[1] for x in SELF_PAY]]
        }
        assert len(item_rows(screen)) == 6
        # A second run creates nothing new.
        await pilot.press("n")
        await settle(pilot)
        assert "Nothing new: the day already has its 6 items" in notes(app)

        await pilot.press("a")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, PlanPreviewDialog)
        text = screen_text(app)
        assert "6 items change clerk · 0 stay unassigned" in text
        assert "— → cleo" in text  # Ana García needs the insurer skill: only Cleo has it
        assert assignments(office)["García"] == (None, False, False)  # nothing written yet
        await pilot.press("enter")
        await settle(pilot)
        got = assignments(office)
        assert got["García"] == ("cleo", False, False)
        assert all(login is not None for login, _, _ in got.values())
        per_clerk = {lg: sum(1 for v in got.values() if v[0] == lg) for lg in ("cleo", "carl", "cora")}
        assert per_clerk == {"cleo": 2, "carl": 2, "cora": 2}
        assert "ctrl+z undoes auto-assign" in screen_text(app)

        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        assert "6 assigned items go to the clerks' lists" in screen_text(app)
        await pilot.press("y")
        await settle(pilot)
        assert all(pub for _, _, pub in assignments(office).values())
        assert "published" in screen_text(app)


async def test_discarded_preview_changes_nothing(office: Office) -> None:
    setup_day(office)
    app = make_app(office, "sup")
    async with app.run_test(size=(160, 50)) as pilot:
        await open_assignment(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, PlanPreviewDialog)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, AssignmentScreen)
        assert all(v == (None, False, False) for v in assignments(office).values())
        assert "Plan discarded; nothing changed" in notes(app)


@pytest.mark.slow  # a long walk of keys (over 10 s)
async def test_assign_selection_by_key_move_and_unassign(office: Office) -> None:
    setup_day(office)
    app = make_app(office, "sup")
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await open_assignment(pilot)
        await pilot.press("n")
        await settle(pilot)
        # Mark Adams and Brown (space marks and moves down), assign both to Carl by his digit.
        await goto_item(pilot, screen, "Adams")
        await pilot.press("space")
        await goto_item(pilot, screen, "Brown")
        await pilot.press("space")
        await pilot.pause()
        assert "2 marked · 30 min" in screen_text(app)
        await pilot.press(clerk_key(screen, "carl"))
        await settle(pilot)
        got = assignments(office)
        assert got["Adams"] == ("carl", True, False) and got["Brown"] == ("carl", True, False)
        assert screen.marked == set()
        assert "carl*" in "\n".join(item_rows(screen))  # * = by hand, kept by re-plans

        # shift+down marks Clark and the next row; the clerk's letter assigns both to Cora.
        await goto_item(pilot, screen, "Clark")
        await pilot.press("shift+down")
        await pilot.pause()
        assert len(screen.marked) == 2
        marked = set(screen.marked)
        cora = next(c for c in screen.clerks if c.login == "cora")
        letter = next(k for k, c in screen.keys.items() if c.login == "cora" and k.isalpha())
        assert letter == cora.key
        await pilot.press(letter)
        await settle(pilot)
        held = office.db.read(
            lambda s: set(
                s.scalars(
                    sa.select(Assignment.work_item_id)
                    .join(User, User.id == Assignment.user_id)
                    .where(User.login == "cora")
                )
            )
        )
        assert held == marked

        # m: move Adams (highlighted, nothing marked) to Cleo in the picker.
        await goto_item(pilot, screen, "Adams")
        await pilot.press("m")
        await settle(pilot)
        assert isinstance(app.screen, ClerkPicker)
        await pilot.press(clerk_key(screen, "cleo"))
        await settle(pilot)
        assert assignments(office)["Adams"] == ("cleo", True, False)

        # u: unassign Brown, after a confirmation; n at the question changes nothing.
        await goto_item(pilot, screen, "Brown")
        await pilot.press("u")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        assert "away from carl" in screen_text(app)
        await pilot.press("n")
        await settle(pilot)
        assert assignments(office)["Brown"] == ("carl", True, False)
        await pilot.press("u")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert assignments(office)["Brown"] == (None, False, False)


async def test_skill_refusal_and_over_capacity_flag(office: Office) -> None:
    setup_day(office)
    app = make_app(office, "sup")
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await open_assignment(pilot)
        await pilot.press("n")
        await settle(pilot)
        # Ana García needs the insurer skill: Carl is refused, nothing changes.
        await goto_item(pilot, screen, "García")
        await pilot.press(clerk_key(screen, "carl"))
        await settle(pilot)
        assert assignments(office)["García"] == (None, False, False)
        assert "insurer" in notes(app)


async def test_a_manual_move_over_capacity_is_flagged_not_refused(office: Office) -> None:
    setup_day(office, cora_code="S")
    app = make_app(office, "sup")
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await open_assignment(pilot)
        await pilot.press("n")
        await settle(pilot)
        await goto_item(pilot, screen, "Adams")
        await pilot.press("space")
        await goto_item(pilot, screen, "Brown")
        await pilot.press("space")
        await goto_item(pilot, screen, "Clark")
        await pilot.press("space")
        await pilot.press(clerk_key(screen, "cora"))
        await settle(pilot)
        got = assignments(office)
        assert [got[x][0] for x in ("Adams", "Brown", "Clark")] == ["cora"] * 3  # assigned anyway
        text = screen_text(app)
        assert "OVER CAPACITY" in text
        cora = next(c for c in screen.clerks if c.login == "cora")
        assert cora.over_capacity and cora.load_minutes == 45
        assert "45/30" in text  # the load bar's figures on the clerks list


async def test_letters_typed_in_the_filter_never_assign(office: Office) -> None:
    setup_day(office)
    app = make_app(office, "sup")
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await open_assignment(pilot)
        await pilot.press("n")
        await settle(pilot)
        letters = "".join(k for k in screen.keys if k.isalpha())
        assert letters  # the clerks have letters
        await pilot.press("slash")
        assert isinstance(app.focused, Input)
        # Every clerk letter, a digit and the action keys typed into the filter box.
        for ch in letters + "1aumpn":
            await pilot.press(ch)
        await settle(pilot)
        assert app.focused is not None and isinstance(app.focused, Input)
        assert app.focused.value == letters + "1aumpn"
        assert isinstance(app.screen, AssignmentScreen)
        assert all(v == (None, False, False) for v in assignments(office).values())


async def test_filter_and_sort(office: Office) -> None:
    setup_day(office)
    app = make_app(office, "sup")
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await open_assignment(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press("slash", *"dav")
        await wait_for_list(pilot, "dav")
        rows = item_rows(screen)
        assert len(rows) == 1 and "Davis" in rows[0]
        await pilot.press("enter", "escape")
        await settle(pilot)
        assert len(item_rows(screen)) == 6
        await pilot.press("s")
        await settle(pilot)
        assert screen.sort.value == "kind"
        assert "sort kind" in screen_text(app)
        # A click on the Amount header sorts by amount (the mouse way): columns 1+4+7+14+9 cells
        # wide, each with one cell of padding either side, so Amount starts at x=45.
        await pilot.click("#asg-items DataTable", offset=(47, 0))
        await settle(pilot)
        assert screen.sort.value == "amount"


async def test_hostile_filter_and_the_view_key(office: Office) -> None:
    setup_day(office)
    app = make_app(office, "sup")
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await open_assignment(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press("slash", *"[Smith]")
        await wait_for_list(pilot, "[Smith]")
        assert item_rows(screen) == []
        assert "filter: '[Smith]'" in screen_text(app)
        screen.query_one("#asg-items #filter", Input).value = "x" * 5000  # pasted, huge
        await wait_for_list(pilot, "x" * 5000)
        assert item_rows(screen) == [] and isinstance(app.screen, AssignmentScreen)
        await pilot.press("enter", "escape")
        await settle(pilot)
        # v narrows: unassigned (all six), then assigned (none yet).
        await pilot.press("v")
        await settle(pilot)
        assert screen.view.value == "unassigned" and len(item_rows(screen)) == 6
        await pilot.press("v")
        await settle(pilot)
        assert screen.view.value == "assigned" and item_rows(screen) == []
        assert "showing assigned" in screen_text(app)


@pytest.mark.slow  # a long walk of keys (over 10 s)
async def test_rebalance_a_leaving_clerk_and_undo(office: Office) -> None:
    setup_day(office)
    app = make_app(office, "sup")
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await open_assignment(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        before = assignments(office)
        cora_items = {k for k, v in before.items() if v[0] == "cora"}
        assert len(cora_items) == 2
        # To the clerks list, down to Cora, r: the preview, then accept.
        await pilot.press("tab")
        clerks = screen.query_one("#asg-clerks", DataTable)
        target = [c.login for c in screen.clerks].index("cora")
        while clerks.cursor_row != target:
            await pilot.press("down")
        await pilot.press("r")
        await settle(pilot)
        assert isinstance(app.screen, PlanPreviewDialog)
        assert "2 items change clerk" in screen_text(app)
        await pilot.press("enter")
        await settle(pilot)
        after = assignments(office)
        assert not any(v[0] == "cora" for v in after.values())
        assert {after[k][0] for k in cora_items} <= {"cleo", "carl"}
        assert all(after[k] == before[k] for k in before if k not in cora_items)
        cora = next(c for c in screen.clerks if c.login == "cora")
        assert not cora.available and cora.state == "away"
        # ctrl+z, confirmed: Cora has her items back.
        await pilot.press("ctrl+z")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("y")
        await settle(pilot)
        assert assignments(office) == before


async def test_rebalance_a_clerk_who_did_not_come_in(office: Office) -> None:
    """Planned at 06:00 with Cora on the early shift; at 10:00 she has not clocked in: absent, her
    two items still hers until the supervisor rebalances them over Cleo and Carl."""
    setup_day(office, cora_code="E")
    timeutil.freeze("2026-11-16T11:00:00+00:00")  # 06:00 in the office
    sup = office.sup

    def plan(s: Any) -> None:
        work_items.generate_items(sup, s, TODAY)
        work_plan.apply_plan(sup, s, work_plan.preview_auto_assign(sup, s, TODAY))

    office.db.write(plan)
    timeutil.freeze(FROZEN_NOW)
    before = assignments(office)
    cora_items = {k for k, v in before.items() if v[0] == "cora"}
    assert len(cora_items) == 2
    app = make_app(office, "sup")
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await open_assignment(pilot)
        cora = next(c for c in screen.clerks if c.login == "cora")
        assert cora.state == "absent" and not cora.available
        assert "ABSENT" in screen_text(app)
        await pilot.press("tab")
        clerks = screen.query_one("#asg-clerks", DataTable)
        while screen.clerks[clerks.cursor_row].login != "cora":
            await pilot.press("down")
        await pilot.press("r")
        await settle(pilot)
        assert isinstance(app.screen, PlanPreviewDialog)
        assert "2 items change clerk · 0 stay unassigned" in screen_text(app)
        await pilot.press("enter")
        await settle(pilot)
        after = assignments(office)
        assert not any(v[0] == "cora" for v in after.values())
        assert {after[k][0] for k in cora_items} <= {"cleo", "carl"}
        assert after["García"][0] == "cleo"  # the insurer skill: only Cleo


async def test_a_clerk_cannot_open_the_assignment_screen(office: Office) -> None:
    setup_day(office)
    app = make_app(office, "clerk")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("g")
        assert isinstance(app.screen, GotoDialog)
        assert all("assignment:" not in e.target for e in app.screen.entries)
        await pilot.press("escape")
        app.push_screen(AssignmentScreen())
        await settle(pilot)
        assert not isinstance(app.screen, AssignmentScreen)
        assert "Only a supervisor may assign work" in notes(app)
    # And the services themselves refuse a clerk: generating, assigning (even to herself).
    with pytest.raises(PermissionDenied):
        office.db.write(lambda s: work_items.generate_items(office.clerk, s, TODAY))
    office.db.write(lambda s: work_items.generate_items(office.sup, s, TODAY))
    first = office.db.read(lambda s: work_items.list_items(office.sup, s, TODAY).rows[0])
    with pytest.raises(PermissionDenied):
        office.db.write(
            lambda s: work_plan.assign_items(
                office.clerk, s, TODAY, [(first.id, first.version)], office.clerk.user_id
            )
        )
    assert assignments(office)[first.client_name.split(",")[0]] == (None, False, False)


# --------------------------------------------------------------------------- clerk


def plan_and_publish(office: Office) -> None:
    sup = office.sup

    def go(s: Any) -> None:
        work_items.generate_items(sup, s, TODAY)
        work_plan.apply_plan(sup, s, work_plan.preview_auto_assign(sup, s, TODAY))
        work_plan.publish_day(sup, s, TODAY)

    office.db.write(go)


async def open_list(pilot: Any) -> MyListScreen:
    await settle(pilot)
    await pilot.press("w")  # from my day
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, MyListScreen)
    return screen


def list_rows(screen: MyListScreen) -> list[str]:
    t = screen.query_one("#ml-items", DataTable)
    return [" | ".join(str(c) for c in t.get_row_at(i)) for i in range(t.row_count)]


async def test_clerk_list_before_publishing(office: Office) -> None:
    setup_day(office)
    office.db.write(lambda s: work_items.generate_items(office.sup, s, TODAY))
    app = make_app(office, "clerk")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_list(pilot)
        assert "your supervisor has not published today's list yet" in screen_text(app)
        assert list_rows(screen) == []


async def test_clerk_finishes_two_items_with_outcomes(office: Office) -> None:
    setup_day(office)
    plan_and_publish(office)
    app = make_app(office, "clerk")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_list(pilot)
        rows = list_rows(screen)
        assert len(rows) == 2 and "García" in "\n".join(rows)
        assert "0 of 2 done" in screen_text(app)
        first, second = screen.data.items  # type: ignore[union-attr]
        # f, d: done. The next open item is highlighted.
        await pilot.press("f")
        await settle(pilot)
        assert isinstance(app.screen, OutcomeDialog)
        await pilot.press("d")
        await settle(pilot)
        assert "1 of 2 done" in screen_text(app)
        assert screen.current() is not None and screen.current().id == second.id  # type: ignore[union-attr]
        # f, s: skipped needs a reason; Enter on an empty one is refused, then typed.
        await pilot.press("f")
        await settle(pilot)
        await pilot.press("s")
        await pilot.pause()
        assert isinstance(app.focused, Input)
        await pilot.press("enter")
        await pilot.pause()
        assert "needs a reason" in screen_text(app)
        await pilot.press(*"no [coverage] yet", "enter")
        await settle(pilot)
        assert "2 of 2 done" in screen_text(app)
        held = office.db.read(
            lambda s: {
                wid: (o, note)
                for wid, o, note in s.execute(
                    sa.select(Assignment.work_item_id, Assignment.outcome, Assignment.outcome_note)
                )
                if wid in (first.id, second.id)
            }
        )
        assert held == {
            first.id: (WorkOutcome.DONE, ""),
            second.id: (WorkOutcome.SKIPPED, "no [coverage] yet"),
        }


async def test_enter_opens_the_account_at_the_tab_for_the_kind(office: Office) -> None:
    setup_day(office)
    plan_and_publish(office)
    app = make_app(office, "clerk")
    async with app.run_test(size=(120, 40)) as pilot:
        await open_list(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ClientAccountScreen)
        assert app.screen.query_one("#acct-tabs", TabbedContent).active == "tab-services"  # a bill item


async def test_a_supervisor_change_reaches_the_open_list(office: Office, monkeypatch: Any) -> None:
    setup_day(office)
    plan_and_publish(office)
    monkeypatch.setattr(MyListScreen, "POLL_SECONDS", 0.05)
    sup = office.sup
    app = make_app(office, "clerk")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_list(pilot)
        assert len(list_rows(screen)) == 2
        mine = {r.id for r in screen.data.items}  # type: ignore[union-attr]

        def change(s: Any) -> None:
            page = work_items.list_items(sup, s, TODAY)
            others = [r for r in page.rows if r.id not in mine and not r.needs]
            cleo_id = s.scalar(sa.select(User.id).where(User.login == "cleo"))
            carl_id = s.scalar(sa.select(User.id).where(User.login == "carl"))
            work_plan.assign_items(sup, s, TODAY, [(r.id, r.version) for r in others[:2]], cleo_id)
            away = next(r for r in page.rows if r.id in mine and not r.needs)
            work_plan.assign_items(sup, s, TODAY, [(away.id, away.version)], carl_id)

        office.db.write(change)
        polls = screen.polls
        await wait_until(
            pilot,
            lambda: screen.polls > polls and "moved away" in screen_text(app),
            "the poll to see the new marker and the list to reload",
        )
        assert "Your supervisor changed your list: 2 items added, 1 moved away" in screen_text(app)
        assert len(list_rows(screen)) == 3


async def test_a_finish_after_a_move_away_is_refused_with_a_message(office: Office, monkeypatch: Any) -> None:
    """The supervisor moves the item the clerk is about to finish: the stale version loses, nothing
    is lost, and the clerk is told and sees the list again."""
    setup_day(office)
    plan_and_publish(office)
    monkeypatch.setattr(MyListScreen, "POLL_SECONDS", 3600.0)  # the clerk's screen has not seen it
    sup = office.sup
    app = make_app(office, "clerk")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_list(pilot)
        await pilot.press("down")  # the first is Ana García's (insurer: only Cleo may have it)
        target = screen.current()
        assert target is not None and not target.needs

        def move(s: Any) -> None:
            carl_id = s.scalar(sa.select(User.id).where(User.login == "carl"))
            work_plan.assign_items(sup, s, TODAY, [(target.id, target.version)], carl_id)

        office.db.write(move)
        await pilot.press("f")
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        assert "Your list is read again" in notes(app)
        held = office.db.read(
            lambda s: s.execute(
                sa.select(User.login, Assignment.outcome)
                .join(User, User.id == Assignment.user_id)
                .where(Assignment.work_item_id == target.id)
            ).one()
        )
        assert tuple(held) == ("carl", None)
        assert target.id not in {r.id for r in screen.data.items}  # type: ignore[union-attr]


async def test_a_stale_row_on_the_supervisor_screen_is_refused_with_a_message(
    office: Office, monkeypatch: Any
) -> None:
    setup_day(office)
    monkeypatch.setattr(AssignmentScreen, "POLL_SECONDS", 3600.0)
    sup = office.sup
    app = make_app(office, "sup")
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await open_assignment(pilot)
        await pilot.press("n")
        await settle(pilot)
        await goto_item(pilot, screen, "Adams")

        def meanwhile(s: Any) -> None:  # another supervisor gives Adams to Carl
            row = next(
                r for r in work_items.list_items(sup, s, TODAY).rows if r.client_name.startswith("Adams")
            )
            carl_id = s.scalar(sa.select(User.id).where(User.login == "carl"))
            work_plan.assign_items(sup, s, TODAY, [(row.id, row.version)], carl_id)

        office.db.write(meanwhile)
        await pilot.press(clerk_key(screen, "cora"))
        await settle(pilot)
        assert "The list is read again" in notes(app)
        assert assignments(office)["Adams"] == ("carl", True, False)
        assert "carl*" in next(r for r in item_rows(screen) if "Adams" in r)


async def test_an_outcome_by_mouse(office: Office) -> None:
    setup_day(office)
    plan_and_publish(office)
    app = make_app(office, "clerk")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_list(pilot)
        item = screen.current()
        assert item is not None
        await pilot.press("f")
        await settle(pilot)
        assert isinstance(app.screen, OutcomeDialog)
        await pilot.click("#outcome-promise_to_pay")
        await settle(pilot)
        assert isinstance(app.screen, MyListScreen)
        outcome = office.db.read(
            lambda s: s.scalar(sa.select(Assignment.outcome).where(Assignment.work_item_id == item.id))
        )
        assert outcome == WorkOutcome.PROMISE_TO_PAY
        assert "1 of 2 done" in screen_text(app)
