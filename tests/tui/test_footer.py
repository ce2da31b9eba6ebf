"""The footer at 80×24: every key a screen shows is on the terminal (issue 12).

Textual's one-line footer cut off the last keys of a busy screen (the client account lost
Edit, Post payment and Plan). These tests read the rendered terminal lines, not the widgets.
"""

from __future__ import annotations

from typing import Any

import pytest
from textual.screen import Screen

from screens.clerk.client_account import ClientAccountScreen
from tests.conftest import Office
from tests.pilot import settle
from tests.tui.conftest import make_app
from tests.tui.test_billing_screens_support import make_billing
from tui.app import ClerkDeskApp
from tui.nav import entries_for
from tui.widgets.footer import MAX_LINES, FooterItem, KeyFooter, pack


def terminal_lines(app: ClerkDeskApp) -> list[str]:
    """What the terminal shows, line by line."""
    return [strip.text for strip in app.screen._compositor.render_strips()]


def own_keys(app: ClerkDeskApp, screen: Screen[Any]) -> list[str]:
    """The "key description" of every action the screen itself shows in its footer, by its
    first key ("delete,backspace" shows as "del")."""
    keys: dict[str, str] = {}
    for b in screen.active_bindings.values():
        if b.node is screen and b.binding.show and b.binding.description:
            keys.setdefault(b.binding.action, f"{app.get_key_display(b.binding)} {b.binding.description}")
    return list(keys.values())


def missing_keys(app: ClerkDeskApp) -> list[str]:
    bottom = "\n".join(terminal_lines(app)[-MAX_LINES:])
    return [k for k in own_keys(app, app.screen) if k not in bottom]


async def test_client_account_keys_all_visible_at_80x24(office: Office) -> None:
    b = make_billing(office)
    app = make_app(office, "clerk")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.push_screen(ClientAccountScreen(b.smith))
        await settle(pilot)
        bottom = "\n".join(terminal_lines(app)[-3:])
        for key in ("e Edit", "p Post payment", "l Plan", "c Coverage", "k Log contact", "esc Back"):
            assert key in bottom, (key, bottom)
        assert "f1 Help" in bottom  # how to find the rest
        assert missing_keys(app) == []


@pytest.mark.parametrize("who", ["sup", "clerk"])
async def test_every_main_screen_shows_its_keys_at_80x24(office: Office, who: str) -> None:
    make_billing(office)
    app = make_app(office, who)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        hidden: dict[str, list[str]] = {}
        for entry in entries_for(app.actor):
            app.open_entry(entry)
            await settle(pilot)
            assert app.screen.query(KeyFooter), f"{entry.title}: no KeyFooter"
            if missing := missing_keys(app):
                hidden[entry.title] = missing
            while len(app.screen_stack) > 2:  # back to the home screen
                app.pop_screen()
            await settle(pilot)
        assert hidden == {}


async def test_footer_follows_the_terminal_width(office: Office) -> None:
    b = make_billing(office)
    app = make_app(office, "clerk")
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        app.push_screen(ClientAccountScreen(b.smith))
        await settle(pilot)
        footer = app.screen.query_one(KeyFooter)
        assert footer.size.height == 1 and not footer.compact  # everything fits on one line
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        assert footer.size.height == 2 and footer.compact
        assert missing_keys(app) == []


def _item(desc: str, *, must: bool) -> FooterItem:
    return FooterItem("x", "x", desc, desc, True, "", must)


def test_pack_keeps_every_own_key_and_drops_generic_ones_first() -> None:
    own = [_item(f"own {n:02}", must=True) for n in range(12)]  # 9 columns each, compact
    generic = [_item("generic", must=False) for _ in range(3)]
    lines = pack(own + generic, 40, compact=True)
    placed = [i for line in lines for i in line]
    assert all(i in placed for i in own)
    assert len(lines) == 3  # 12 × 9 columns need three lines of 40; a generic key opens none
    assert all(sum(len(i.key_display) + len(i.description) + 2 for i in line) <= 40 for line in lines)
    lines = pack(own[:3] + generic, 40, compact=True)
    assert [len(line) for line in lines] == [4]  # one generic key fits on the line, no more
    assert len(pack(own * 2, 40, compact=True)) == MAX_LINES  # never more lines than that
