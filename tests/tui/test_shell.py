"""The app shell and the foundation screens, driven by keys through Pilot."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from textual.widgets import DataTable

from db.models import AuditEntry, User
from screens.clerk.my_day import MyDayScreen
from screens.common.audit_log import AuditLogScreen
from screens.common.goto import GotoDialog
from screens.common.help import HelpScreen
from screens.supervisor.dashboard import DashboardScreen
from screens.supervisor.staff import StaffForm, StaffScreen
from tests.conftest import Office
from tests.pilot import burst, screen_text, settle, wait_until
from tests.tui.conftest import make_app
from tui.widgets.confirm import ConfirmDialog


async def test_supervisor_starts_on_dashboard_with_real_figures(office: Office) -> None:
    app = make_app(office, "sup")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
        text = screen_text(app)
        assert "Sam Super (supervisor)" in text
        assert "Nobody has a published shift today" in text
        assert "Timecards to sign: 0" in text


async def test_clerk_starts_on_my_day(office: Office) -> None:
    app = make_app(office, "clerk")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, MyDayScreen)
        text = screen_text(app)
        assert "Cleo Clerk (clerk)" in text
        assert "No published shift today" in text
        assert "Not clocked in" in text


async def test_goto_menu_shows_only_what_the_role_may_open(office: Office) -> None:
    app = make_app(office, "clerk")
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("g")
        assert isinstance(app.screen, GotoDialog)
        titles = [e.title for e in app.screen.entries]
        assert "Staff" not in titles and "Audit log" not in titles and "Dashboard" not in titles
        assert "My day" in titles


async def test_help_lists_the_screen_keys(office: Office) -> None:
    app = make_app(office, "sup")
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        text = screen_text(app)
        for what in ("Add", "Edit", "Deactivate", "Show inactive"):
            assert what in text
        # The screen's own keys come first; generic ones (scrolling, focus) after them (issue 12).
        keys = app.screen.query_one("#keys", DataTable)
        actions = [str(keys.get_row_at(i)[1]) for i in range(keys.row_count)]
        own = {"Add", "Edit", "Deactivate", "Show inactive"}
        generic = [i for i, a in enumerate(actions) if a in ("Next field", "Scroll Left", "Focus Next")]
        assert generic, actions
        assert max(i for i, a in enumerate(actions) if a in own) < min(generic)
        await pilot.press("escape")
        assert isinstance(app.screen, StaffScreen)


async def test_palette_lists_role_actions(office: Office) -> None:
    sup = make_app(office, "sup")
    async with sup.run_test() as pilot:
        await settle(pilot)
        titles = [c.title for c in sup.get_system_commands(sup.screen)]
        assert "Go to Staff" in titles and "Go to Audit log" in titles
    clerk = make_app(office, "clerk")
    async with clerk.run_test() as pilot:
        await settle(pilot)
        titles = [c.title for c in clerk.get_system_commands(clerk.screen)]
        assert "Go to Staff" not in titles and "Go to My day" in titles


async def test_keymap_override_from_config(office: Office) -> None:
    app = make_app(office, "sup", keymap={"dashboard.staff": "ctrl+t"})
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)  # s no longer opens staff
        await pilot.press("ctrl+t")
        await settle(pilot)
        assert isinstance(app.screen, StaffScreen)


async def test_add_clerk_through_the_form(office: Office) -> None:
    app = make_app(office, "sup")
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, StaffForm)
        await pilot.press(*"dnew", "tab", *"Dana New", "ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, StaffScreen)
        assert "Dana New" in screen_text(app)
    row = office.db.read(lambda s: s.scalars(sa.select(User).where(User.login == "dnew")).one())
    assert row.name == "Dana New" and row.contracted_minutes == 2400


async def test_bad_form_input_keeps_values_and_changes_nothing(office: Office) -> None:
    before = office.db.read(lambda s: s.scalar(sa.select(sa.func.count()).select_from(User)))
    app = make_app(office, "sup")
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        # A hostile login and 99 hours a week.
        await pilot.press(*"Bad!", "tab", *"[bold]Mallory[/]", "tab", "tab", "tab", "tab")
        form = app.screen
        form.query_one("#input-hours").value = "99"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, StaffForm)  # still open, values kept
        assert app.screen.query_one("#input-login").value == "Bad!"
        text = screen_text(app)
        assert "must be between 0 and 80 hours" in text
        assert app.focused is form.query_one("#input-hours")  # the cursor goes to the wrong field
        form.query_one("#input-hours").value = "40"
        await settle(pilot)
        assert "must be between 0 and 80 hours" not in screen_text(app)  # fixed: the mark goes
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, StaffForm)
        assert "must be a Unix login" in screen_text(app)
        assert app.focused is form.query_one("#input-login")
    after = office.db.read(lambda s: s.scalar(sa.select(sa.func.count()).select_from(User)))
    assert after == before


async def test_deactivate_asks_first_and_keeps_history(office: Office) -> None:
    app = make_app(office, "sup")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        table = app.screen.query_one("#staff", DataTable)
        logins = [table.get_row_at(i)[0] for i in range(table.row_count)]
        # Yourself: refused at once, no question first (issue 12).
        table.move_cursor(row=logins.index("sam"))
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, StaffScreen)
        assert any("cannot deactivate yourself" in str(n.message) for n in app._notifications)
        table.move_cursor(row=logins.index("cora"))
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("n")
        await settle(pilot)
        assert office.db.read(lambda s: s.scalars(sa.select(User.active).where(User.login == "cora")).one())
        await pilot.press("d")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
    user = office.db.read(lambda s: s.scalars(sa.select(User).where(User.login == "cora")).one())
    assert user.active is False and user.termination_date is not None


async def test_audit_log_pages_and_filters(office: Office) -> None:
    app = make_app(office, "sup")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, AuditLogScreen)
        total = office.db.read(lambda s: s.scalar(sa.select(sa.func.count()).select_from(AuditEntry)))
        table = app.screen.query_one(DataTable)
        assert table.row_count == total  # small office: one page
        await pilot.press("slash", *"user:", "enter")
        await wait_until(pilot, lambda: table.row_count == 5, "the filter to leave the five users created")
        assert all(table.get_row_at(i)[3].startswith("user:") for i in range(table.row_count))


async def test_clerk_cannot_open_supervisor_screens_even_by_action(office: Office) -> None:
    app = make_app(office, "clerk")
    async with app.run_test() as pilot:
        await settle(pilot)
        # Even if a screen were pushed by mistake, the service refuses: the dashboard shows an error.
        app.push_screen(DashboardScreen())
        await settle(pilot)
        assert any("may not" in str(n.message) for n in app._notifications)


async def test_dashboard_t_opens_the_timecard_queue(office: Office) -> None:
    from screens.supervisor.timecards import TimecardsScreen

    app = make_app(office, "sup")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        assert isinstance(app.screen, TimecardsScreen)


async def test_refusals_and_errors_never_show_class_names(office: Office) -> None:
    """Issue 12: "PermissionDenied" and "FrozenError" reached the user as titles."""
    from db.errors import FrozenError
    from screens.common.error import ErrorDialog

    app = make_app(office, "clerk")
    async with app.run_test() as pilot:
        await settle(pilot)
        app.push_screen(DashboardScreen())
        await settle(pilot)
        refusal = next(n for n in app._notifications if "may not" in str(n.message))
        assert refusal.title == "Not allowed"
        app.show_error(FrozenError("INV-000001 is issued and cannot be edited"))
        app.show_error(RuntimeError("disk full"))
        await settle(pilot)
        assert [n.title for n in app._notifications][-1] == "Locked"
        assert isinstance(app.screen, ErrorDialog) and app.screen.message == "disk full"
        shown = " ".join(f"{n.title} {n.message}" for n in app._notifications) + screen_text(app)
        for name in ("PermissionDenied", "FrozenError", "RuntimeError"):
            assert name not in shown


async def test_staff_name_column_shrinks_when_a_long_name_is_shortened(office: Office) -> None:
    """Issue 12: the Name column kept the width of a name that was no longer there."""
    from scheduling import staff

    long_name = "Cleopatra Philomena Wilhelmina Clerk-Montgomery"
    office.db.write(lambda s: staff.edit_user(office.sup, s, "cleo", name=long_name))
    app = make_app(office, "sup")
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        table = app.screen.query_one("#staff", DataTable)
        assert table.ordered_columns[1].width == len(long_name)
        office.db.write(lambda s: staff.edit_user(office.sup, s, "cleo", name="Cleo Clerk"))
        app.screen.reload()  # type: ignore[attr-defined]
        await settle(pilot)
        names = [r.name for r in app.screen.rows]  # type: ignore[attr-defined]
        assert "Cleo Clerk" in names and table.ordered_columns[1].width == max(map(len, names)) < 20
        assert "Cleo Clerk" in screen_text(app) and long_name not in screen_text(app)


async def test_a_letter_typed_fast_after_g_picks_from_the_go_to_menu(office: Office) -> None:
    """Issue 12: "g" "a" as one burst left the go-to menu open; the "a" went to the dashboard."""
    app = make_app(office, "sup")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        burst(app, ["g", "a"])
        await settle(pilot)
        assert [type(s).__name__ for s in app.screen_stack[1:]] == ["DashboardScreen", "AuditLogScreen"]


async def test_keys_typed_fast_across_two_new_screens_reach_the_form(office: Office) -> None:
    """s (Staff) a (Add) then a login and a name, all in one burst: every key lands where the
    key before it left the focus, none on the dashboard (whose "a" opens the audit log)."""
    app = make_app(office, "sup")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        burst(app, ["s", "a", *"fast", "tab", *"Fay Fast"])
        await settle(pilot)
        assert isinstance(app.screen, StaffForm)
        assert [type(s).__name__ for s in app.screen_stack[1:]] == [
            "DashboardScreen",
            "StaffScreen",
            "StaffForm",
        ]
        values = {f.field_name: f.text for f in app.screen.query("Field")}  # type: ignore[attr-defined]
        assert (values["login"], values["name"]) == ("fast", "Fay Fast")


async def test_keys_typed_fast_after_tab_land_in_the_next_field(office: Office) -> None:
    """Issue 12: "Night" Tab "22:00" sent as one burst all went into the first field."""
    app = make_app(office, "sup")
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, StaffForm)
        burst(app, [*"fast", "tab", *"Fay Fast", "tab", "tab", "shift+tab", "shift+tab"])
        await settle(pilot)
        values = {f.field_name: f.text for f in app.screen.query("Field")}  # type: ignore[attr-defined]
        assert (values["login"], values["name"]) == ("fast", "Fay Fast")
        assert app.focused is app.screen.query_one("#input-name")


async def test_a_field_says_its_limit_instead_of_cutting_silently(office: Office) -> None:
    """Issue 12: a 10,000-character name became 120 characters without a word."""
    from textual.widgets import Input

    app = make_app(office, "sup")
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        await pilot.press(*"dlong", "tab")
        name = app.screen.query_one("#input-name", Input)
        burst(app, ["N"] * 130)  # typed past the limit
        await settle(pilot)
        assert len(name.value) == 120
        assert "Name takes at most 120 characters" in screen_text(app)
        await pilot.press("backspace")
        await settle(pilot)
        assert "takes at most" not in screen_text(app)


async def test_no_color_means_no_colour_and_no_grey(office: Office, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Issue 12: NO_COLOR=1 left grey text (Textual's filter maps colours to greys)."""
    from rich.segment import Segment
    from rich.style import Style
    from textual.color import Color

    from tui.app import PlainText

    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(office, "sup")
    plain = [f for f in app._filters if isinstance(f, PlainText)]
    assert len(plain) == 1 and type(app._filters[-1]) is PlainText
    grey = Segment("muted", Style(color="#808080", bgcolor="#101010", dim=True, bold=True))
    (out,) = plain[0].apply([grey], Color(0, 0, 0))
    assert out.style is not None
    assert (out.style.color.name, out.style.bgcolor.name) == ("default", "default")  # type: ignore[union-attr]
    assert out.style.dim is False and out.style.bold is True
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "Sam Super (supervisor)" in screen_text(app)


def test_no_two_go_to_entries_of_one_role_share_a_key() -> None:
    from collections import Counter

    from tui.nav import NAV

    for role in ("supervisor", "clerk"):
        keys = Counter(e.key for e in NAV if role in e.roles)
        assert [k for k, n in keys.items() if n > 1] == [], role


@pytest.mark.parametrize("role", ["sup", "clerk"])
async def test_escape_leads_back_home_from_every_go_to_screen(office: Office, role: str) -> None:
    """The daily assignment and the clerk's list had no way back but the go-to menu."""
    from tui.nav import entries_for

    app = make_app(office, role)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        home = type(app.screen)
        stuck = []
        for entry in entries_for(app.actor):
            if entry.factory() is home:
                continue
            app.open_entry(entry)
            await settle(pilot)
            for _ in range(3):  # a first Esc may clear a filter or leave a search box
                if type(app.screen) is home:
                    break
                await pilot.press("escape")
                await settle(pilot)
            if type(app.screen) is not home:
                stuck.append(entry.title)
                while len(app.screen_stack) > 2:
                    app.pop_screen()
                await settle(pilot)
        assert stuck == []


async def test_dashboard_panel_keys_move_the_cursor_to_their_panel(office: Office) -> None:
    app = make_app(office, "sup")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        for key, panel in [("i", "#inbox"), ("o", "#on-shift"), ("c", "#dash-counters")]:
            await pilot.press(key)
            await settle(pilot)
            assert app.focused is app.screen.query_one(panel), key
