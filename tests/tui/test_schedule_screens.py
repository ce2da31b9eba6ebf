"""Schedule grid screens driven by keys (issue 4, docs/schedule.md): build, edit, rebuild, publish, clerk view.

The small office: E 07:00 and L 11:00 (8 h); on weekdays two people wanted on E and one on L,
so 15 shifts a week, while each of the three clerks may work at most 32 h (4 shifts): 12
shifts, so the builder must leave gaps and say so. Public forbids an early shift after a late.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
import sqlalchemy as sa
from textual.widgets import Select

from db.models import Shift, ShiftType, User
from scheduling import shifts
from screens.clerk.my_schedule import MyScheduleScreen
from screens.common.goto import GotoDialog
from screens.supervisor.schedule_grid import (
    BuildDialog,
    BuildProgressDialog,
    BuildResultDialog,
    KeepDiscardDialog,
    ScheduleGridScreen,
)
from tests.conftest import Office
from tests.pilot import screen_text, settle, wait_until
from tests.tui.conftest import make_app
from tui.widgets.confirm import ConfirmDialog

MON = dt.date(2026, 11, 16)  # the frozen today
NEXT = MON + dt.timedelta(days=7)  # Mon 23 Nov
NEXT_DAYS = [NEXT + dt.timedelta(days=k) for k in range(7)]


def setup_office(office: Office) -> None:
    sup = office.sup

    def go(s: Any) -> None:
        shifts.add_shift_type(sup, s, code="E", name="Early", start_time=dt.time(7), minutes=480)
        shifts.add_shift_type(sup, s, code="L", name="Late", start_time=dt.time(11), minutes=480)
        for wd in range(5):
            shifts.set_coverage(sup, s, "E", weekday=wd, required=2, under_weight=100, over_weight=10)
            shifts.set_coverage(sup, s, "L", weekday=wd, required=1, under_weight=100, over_weight=10)
        shifts.set_rule(sup, s, team="Insurance", max_minutes=1920)
        shifts.set_rule(sup, s, team="Public", max_minutes=1920, forbidden_sequences=[("L", "E")])

    office.db.write(go)


def grid_cells(
    office: Office, start: dt.date = NEXT, end: dt.date | None = None
) -> dict[tuple[str, dt.date], tuple[str, str, bool]]:
    """(login, day) -> (code, status, fixed) for every shift in the range."""
    end = end or start + dt.timedelta(days=6)
    rows = office.db.read(
        lambda s: s.execute(
            sa.select(User.login, Shift.day, ShiftType.code, Shift.status, Shift.fixed)
            .join(User, User.id == Shift.user_id)
            .join(ShiftType, ShiftType.id == Shift.shift_type_id)
            .where(Shift.day >= start, Shift.day <= end)
        ).all()
    )
    return {(lg, d): (code, st.value, fixed) for lg, d, code, st, fixed in rows}


def all_shifts(office: Office) -> set[tuple[str, dt.date, str, str, bool]]:
    return {
        (lg, d, *v) for (lg, d), v in grid_cells(office, dt.date(2000, 1, 1), dt.date(2100, 1, 1)).items()
    }


async def open_grid(pilot: Any, *, next_week: bool = True) -> ScheduleGridScreen:
    await settle(pilot)
    await pilot.press("g")
    assert isinstance(pilot.app.screen, GotoDialog)
    await pilot.press("e")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ScheduleGridScreen)
    if next_week:
        await pilot.press("right_square_bracket")
        await settle(pilot)
    return screen


async def goto_cell(pilot: Any, screen: ScheduleGridScreen, login: str, day: dt.date) -> None:
    """Move the cursor with the arrow keys, as a person would."""
    assert screen.model is not None
    grid = screen.query_one("#grid")
    row = screen.model.logins.index(login)
    col = screen.model.grid.days.index(day) + 1
    cur = grid.cursor_coordinate  # type: ignore[attr-defined]
    for _ in range(abs(row - cur.row)):
        await pilot.press("down" if row > cur.row else "up")
    for _ in range(abs(col - cur.column)):
        await pilot.press("right" if col > cur.column else "left")
    assert screen.cursor_key() == (login, day)


async def build(pilot: Any, *, keep_edits: bool = False) -> str:
    """b, choose what to fill, ctrl+s; returns the result dialog's text (and closes it)."""
    await pilot.press("b")
    await settle(pilot)
    assert isinstance(pilot.app.screen, BuildDialog)
    if keep_edits:
        await pilot.press("enter", "down", "enter")  # the Select is focused: open, next option, take it
        await pilot.pause()
        assert pilot.app.screen.query_one(Select).value == "empty"
    await pilot.press("ctrl+s")
    await settle(pilot)
    await settle(pilot)
    assert isinstance(pilot.app.screen, BuildResultDialog), pilot.app.screen
    text = screen_text(pilot.app)
    await pilot.press("escape")
    await settle(pilot)
    return text


def row_text(screen: ScheduleGridScreen, login: str) -> list[str]:
    grid = screen.query_one("#grid")
    assert screen.model is not None
    return [str(c) for c in grid.get_row_at(screen.model.logins.index(login))]  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- the "done when" path


@pytest.mark.slow
async def test_build_fix_two_cells_rebuild_around_them_publish_and_the_clerk_sees_it(office: Office) -> None:
    setup_office(office)
    app = make_app(office, "sup")
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_grid(pilot)
        assert "Mon 23 Nov – Sun 29 Nov 2026" in screen_text(app)
        assert grid_cells(office) == {}

        # Build the whole week: 12 shifts for 15 wanted, the gaps explained in words.
        result = await build(pilot)
        assert "Status: optimal · penalty 300" in result
        assert "12 shifts created" in result
        assert "Could not satisfy:" in result and "short (needs" in result
        built = grid_cells(office)
        assert len(built) == 12
        assert all(st == "draft" and not fixed for _, st, fixed in built.values())

        # The coverage rows under the grid mark the gaps with "!"; on one, the panel explains it.
        assert screen.model is not None
        assert sum(c.short for c in screen.model.coverage.values()) == 3
        cov = screen.query_one("#coverage")
        shorts = [
            (r, k)
            for r in range(cov.row_count)  # type: ignore[attr-defined]
            for k, cell in enumerate(cov.get_row_at(r))  # type: ignore[attr-defined]
            if str(cell).endswith("!")
        ]
        assert shorts
        row, col = shorts[0]
        await pilot.press("tab")  # the coverage rows, cursor under the grid's day
        here = cov.cursor_coordinate  # type: ignore[attr-defined]
        await pilot.press(*(["down"] * (row - here.row)))
        await pilot.press(*(["right" if col > here.column else "left"] * abs(col - here.column)))
        assert cov.cursor_coordinate == (row, col)  # type: ignore[attr-defined]
        detail = str(screen.query_one("#detail-text").render())
        assert "short of the minimum" in detail and "needs" in detail
        assert "Not working that day:" in detail or "On:" in detail
        await pilot.press("shift+tab")

        # Fix two cells by typing their codes: cleo Late on Monday and Tuesday.
        before = grid_cells(office)
        await goto_cell(pilot, screen, "cleo", NEXT_DAYS[0])
        await pilot.press("l")
        await settle(pilot)
        await goto_cell(pilot, screen, "cleo", NEXT_DAYS[1])
        await pilot.press("l")
        await settle(pilot)
        fixed = {("cleo", NEXT_DAYS[0]), ("cleo", NEXT_DAYS[1])}
        now = grid_cells(office)
        for key in fixed:
            assert now[key] == ("L", "draft", True)
        assert row_text(screen, "cleo")[1:3] == [" l+", " l+"]
        assert {k: v for k, v in now.items() if k not in fixed} == {
            k: v for k, v in before.items() if k not in fixed
        }

        # Rebuild keeping every edit: the fixed cells stay; every existing cell is kept.
        kept = grid_cells(office)
        result = await build(pilot, keep_edits=True)
        assert "Status:" in result
        after = grid_cells(office)
        for key in fixed:
            assert after[key] == ("L", "draft", True)
        assert all(after.get(k) == v for k, v in kept.items())

        # A whole-period rebuild may change drafts, but never the fixed cells.
        await build(pilot)
        after = grid_cells(office)
        for key in fixed:
            assert after[key] == ("L", "draft", True)

        # Publish with a confirmation stating the range and how many drafts become visible.
        drafts = sum(1 for _, st, _ in after.values() if st == "draft")
        await pilot.press("P")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        text = screen_text(app)
        assert f"{drafts} draft shifts of Mon 23 Nov 2026 – Sun 29 Nov 2026 become visible to clerks" in text
        await pilot.press("y")
        await settle(pilot)
        published = grid_cells(office)
        assert published and all(st == "published" for _, st, _ in published.values())
        assert "0 drafts" in screen_text(app)

        # A draft for cleo the week after: the clerk must never see it.
        office.db.write(
            lambda s: shifts.set_cell(
                office.sup, s, "cleo", NEXT + dt.timedelta(days=7), "E", expected_version=None
            )
        )

    clerk = make_app(office, "clerk")
    async with clerk.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("g", "y")
        await settle(pilot)
        assert isinstance(clerk.screen, MyScheduleScreen)
        table = clerk.screen.query_one("#my-shifts")
        rows = {str(table.get_row_at(r)[1]): str(table.get_row_at(r)[2]) for r in range(table.row_count)}  # type: ignore[attr-defined]
        mine = {d: code for (lg, d), (code, _, _) in published.items() if lg == "cleo"}
        assert mine  # cleo works next week
        for d in NEXT_DAYS:
            label = f"{('Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun')[d.weekday()]} {d.day} {d:%b}"
            want = f"{mine[d]} {'Early' if mine[d] == 'E' else 'Late'}" if d in mine else "off"
            assert rows[label] == want
        assert rows["Mon 30 Nov"] == "off"  # the draft is not shown
        assert "Only published shifts are shown" in screen_text(clerk)


# --------------------------------------------------------------------------- rule breaks, bad input


async def test_forbidden_sequence_typed_into_the_grid_is_marked_and_explained(office: Office) -> None:
    setup_office(office)
    app = make_app(office, "sup")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_grid(pilot)
        await goto_cell(pilot, screen, "carl", NEXT_DAYS[0])
        await pilot.press("l")
        await settle(pilot)
        await pilot.press("right", "e")
        await settle(pilot)
        cells = grid_cells(office)
        assert cells[("carl", NEXT_DAYS[0])] == ("L", "draft", True)
        assert cells[("carl", NEXT_DAYS[1])] == ("E", "draft", True)  # saved: the grid shows the break
        assert row_text(screen, "carl")[1:3] == [" l+", " e+!"]
        detail = str(screen.query_one("#detail-text").render())
        assert "Early on Tue 24 Nov right after Late on Mon 23 Nov" in detail
        status = str(screen.query_one("#sched-status").render())
        assert "1 rule break: Carl Clerk: Early on Tue 24 Nov right after Late on Mon 23 Nov" in status
        assert "1 break " in screen_text(app).split("\n")[1]
        # Making Tuesday off removes the break at once.
        await pilot.press("o")
        await settle(pilot)
        assert ("carl", NEXT_DAYS[1]) not in grid_cells(office)
        assert row_text(screen, "carl")[2] == " ·"
        assert "No rule broken" in str(screen.query_one("#detail-text").render())


async def test_unknown_code_and_hostile_keys_change_nothing(office: Office) -> None:
    setup_office(office)
    app = make_app(office, "sup")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_grid(pilot)
        before = all_shifts(office)
        await goto_cell(pilot, screen, "cora", NEXT_DAYS[2])
        await pilot.press("z")
        await settle(pilot)
        status = str(screen.query_one("#sched-status").render())
        assert "No shift type 'Z'; nothing changed. Codes: E Early, L Late" in status
        # Markup-like keys never reach the database or break the screen.
        await pilot.press("left_square_bracket")  # previous week: a command, not a code
        await settle(pilot)
        await pilot.press("right_square_bracket")
        await settle(pilot)
        await pilot.press("q")  # Q is no code: refused at once
        await settle(pilot)
        assert "No shift type 'Q'" in str(screen.query_one("#sched-status").render())
        # Delete on an empty cell says so; nothing is written.
        await pilot.press("delete")
        await settle(pilot)
        assert "already off" in str(screen.query_one("#sched-status").render())
        assert all_shifts(office) == before


async def test_codes_sharing_a_prefix_wait_for_enter_or_the_next_character(office: Office) -> None:
    setup_office(office)
    office.db.write(
        lambda s: shifts.add_shift_type(
            office.sup, s, code="L2", name="Late two", start_time=dt.time(12), minutes=420
        )
    )
    app = make_app(office, "sup")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_grid(pilot)
        await goto_cell(pilot, screen, "cora", NEXT_DAYS[0])
        await pilot.press("l")
        await settle(pilot)
        assert "Shift code: L  (Enter sets it, Esc cancels)" in str(
            screen.query_one("#sched-status").render()
        )
        assert grid_cells(office) == {}
        await pilot.press("enter")
        await settle(pilot)
        assert grid_cells(office) == {("cora", NEXT_DAYS[0]): ("L", "draft", True)}
        await pilot.press("right", "l", "2")
        await settle(pilot)
        assert grid_cells(office)[("cora", NEXT_DAYS[1])] == ("L2", "draft", True)
        # A half-typed code is dropped by any other key; Esc too.
        await pilot.press("right", "l", "down")
        await settle(pilot)
        await pilot.press("l", "escape")
        await settle(pilot)
        assert "Typing cancelled; nothing changed" in str(screen.query_one("#sched-status").render())
        assert len(grid_cells(office)) == 2
        assert app.screen is screen


async def test_swap_copy_and_period_keys(office: Office) -> None:
    setup_office(office)
    sup = office.sup
    office.db.write(lambda s: shifts.set_cell(sup, s, "cleo", MON, "E", expected_version=None))
    office.db.write(
        lambda s: shifts.set_cell(sup, s, "carl", MON + dt.timedelta(days=1), "L", expected_version=None)
    )
    app = make_app(office, "sup")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_grid(pilot)
        # c copies last week into this week's empty cells, as drafts that are not fixed.
        await pilot.press("c")
        await settle(pilot)
        cells = grid_cells(office)
        assert cells == {
            ("cleo", NEXT_DAYS[0]): ("E", "draft", False),
            ("carl", NEXT_DAYS[1]): ("L", "draft", False),
        }
        assert "Copied 2 shifts" in str(screen.query_one("#sched-status").render())
        # m marks cleo's Monday, x on cora's Monday swaps them (both become hand edits).
        await goto_cell(pilot, screen, "cleo", NEXT_DAYS[0])
        await pilot.press("m")
        assert row_text(screen, "cleo")[1] == ">e"
        await goto_cell(pilot, screen, "cora", NEXT_DAYS[0])
        await pilot.press("x")
        await settle(pilot)
        cells = grid_cells(office)
        assert ("cleo", NEXT_DAYS[0]) not in cells
        assert cells[("cora", NEXT_DAYS[0])] == ("E", "draft", True)
        # A swap across days is refused with a message.
        await pilot.press("m", "right", "x")
        await settle(pilot)
        assert "Swaps are within one day" in str(screen.query_one("#sched-status").render())
        await pilot.press("escape")  # drops the mark, stays on the grid
        assert app.screen is screen and screen.mark is None
        # v shows four weeks; [ and ] move by the period shown.
        await pilot.press("v")
        await settle(pilot)
        assert screen.model is not None and len(screen.model.grid.days) == 28
        assert "Mon 23 Nov – Sun 20 Dec 2026 (4 weeks)" in screen_text(app)
        await pilot.press("left_square_bracket")
        await settle(pilot)
        assert "Mon 26 Oct – Sun 22 Nov 2026 (4 weeks)" in screen_text(app)


async def test_a_cell_changed_meanwhile_is_a_clear_message_and_a_reload(office: Office) -> None:
    setup_office(office)
    sup, sup2 = office.sup, office.sup2
    office.db.write(lambda s: shifts.set_cell(sup, s, "cora", NEXT, "E", expected_version=None))
    app = make_app(office, "sup")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_grid(pilot)
        await goto_cell(pilot, screen, "cora", NEXT)
        # Another supervisor changes the same cell after this grid was loaded.
        version = office.db.read(lambda s: s.scalar(sa.select(Shift.version)))
        office.db.write(lambda s: shifts.set_cell(sup2, s, "cora", NEXT, "L", expected_version=version))
        await pilot.press("e")
        await settle(pilot)
        await settle(pilot)
        assert grid_cells(office)[("cora", NEXT)] == ("L", "draft", True)  # theirs stays
        assert "changed by someone else" in str(screen.query_one("#sched-status").render())
        assert row_text(screen, "cora")[1] == " l+"  # reloaded


# --------------------------------------------------------------------------- cancelling a build


def big_office(office: Office, clerks: int = 30) -> None:
    """Enough people, shift types and weighted requests that the first week alone takes CP-SAT
    seconds to prove (about 10 s on the shared test machine), so the build is still running when
    escape is pressed."""
    import random

    from scheduling import staff, timeoff

    sup = office.sup
    rng = random.Random(7)

    def go(s: Any) -> None:
        for k in range(clerks):
            staff.add_user(sup, s, login=f"c{k:02d}", name=f"Clerk {k:02d}", role="clerk", team="Public")
        for code, name, start, minutes in (
            ("E", "Early", 6, 480),
            ("M", "Mid", 9, 420),
            ("L", "Late", 12, 540),
            ("N", "Night", 15, 360),
            ("S", "Short", 10, 300),
        ):
            shifts.add_shift_type(sup, s, code=code, name=name, start_time=dt.time(start), minutes=minutes)
        for wd in range(6):
            for code in "EMLNS":
                shifts.set_coverage(
                    sup,
                    s,
                    code,
                    weekday=wd,
                    required=rng.randint(2, 5),
                    under_weight=rng.randint(50, 150),
                    over_weight=rng.randint(5, 40),
                )
        shifts.set_rule(
            sup,
            s,
            team="Public",
            min_minutes=1500,
            max_minutes=2300,
            min_consecutive_work=2,
            max_consecutive_work=5,
            min_consecutive_off=2,
            forbidden_sequences=[("L", "E"), ("N", "E"), ("N", "M")],
        )
        asked: set[tuple[int, dt.date, str]] = set()
        for k in range(clerks):
            for _ in range(4):
                day, code = NEXT + dt.timedelta(days=rng.randrange(7)), rng.choice("EMLNS")
                wants, weight = rng.random() < 0.5, rng.randint(1, 60)
                if (k, day, code) not in asked:
                    asked.add((k, day, code))
                    timeoff.add_shift_request(sup, s, day, code, wants, weight, login=f"c{k:02d}")

    office.db.write(go)


@pytest.mark.slow
@pytest.mark.parametrize("keep", [False, True], ids=["discard", "keep"])
async def test_cancel_a_running_build_then_keep_or_discard(office: Office, keep: bool) -> None:
    big_office(office)
    app = make_app(office, "sup")
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await open_grid(pilot)
        await pilot.press("v")
        await settle(pilot)
        await pilot.press("b")
        await settle(pilot)
        assert isinstance(app.screen, BuildDialog)
        seconds = app.screen.query_one("#input-seconds")
        seconds.value = "120"  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        # The plan is read in a worker; then the solver starts (in a worker too: no settle here).
        await wait_until(pilot, lambda: isinstance(app.screen, BuildProgressDialog), "the build's progress")
        progress = app.screen
        assert isinstance(progress, BuildProgressDialog)
        assert "s left of 120 s" in screen_text(app)  # the time line, before any roster
        await pilot.press("escape")  # at once: the four weeks take seconds to solve
        assert progress.cancel.is_set()
        await wait_until(pilot, lambda: not isinstance(app.screen, BuildProgressDialog), "the build to stop")
        await settle(pilot)
        assert isinstance(app.screen, KeepDiscardDialog), app.screen
        text = screen_text(app)
        assert "The best roster found so far has penalty" in text
        m = re.search(r"for (\d) of 4 weeks", text)
        assert m is not None, text
        solved = int(m.group(1))
        await pilot.press("k" if keep else "d")
        await settle(pilot)
        cells = grid_cells(office, NEXT, NEXT + dt.timedelta(days=27))
        if keep:
            assert isinstance(app.screen, BuildResultDialog)
            result = screen_text(app)
            # Weeks after the stop were skipped; one stopped before its first roster has no penalty.
            assert len(re.findall(r"\nWeek .*penalty \d", result)) == solved
            assert cells and all(st == "draft" for _, st, _ in cells.values())
            assert max(d for _, d in cells) < NEXT + dt.timedelta(days=7 * solved)
        else:
            assert app.screen is screen
            assert cells == {}
            assert "discarded and nothing changed" in str(screen.query_one("#sched-status").render())


# --------------------------------------------------------------------------- who sees what


async def test_clerks_never_see_supervisor_schedule_screens(office: Office) -> None:
    app = make_app(office, "clerk")
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("g")
        titles = [e.title for e in app.screen.entries]  # type: ignore[attr-defined]
        assert "My schedule" in titles and "My time off" in titles
        assert not {"Schedule", "Time-off requests", "Schedule set-up"} & set(titles)
    sup = make_app(office, "sup")
    async with sup.run_test() as pilot:
        await settle(pilot)
        titles = [c.title for c in sup.get_system_commands(sup.screen)]
        assert {"Go to Schedule", "Go to Time-off requests", "Go to Schedule set-up"} <= set(titles)
        assert "Go to My schedule" not in titles


async def test_grid_keys_are_in_help_and_the_palette(office: Office) -> None:
    setup_office(office)
    app = make_app(office, "sup")
    async with app.run_test(size=(100, 30)) as pilot:
        await open_grid(pilot, next_week=False)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for what in (
            "Off (o)",
            "Mark (m)",
            "Swap (x)",
            "Copy week (c)",
            "Build (b)",
            "Publish (P)",
            "Week/4 wk (v)",
        ):
            assert what in titles, what
        await pilot.press("f1")
        await settle(pilot)
        text = screen_text(app)
        for what in ("Off", "Clear", "Mark", "Swap", "Copy week", "Build", "Publish", "Prev", "Next"):
            assert what in text
        assert "Type a shift code" in text
