"""Enter typed fast after a name opens a client of that name's search, never a row still shown
from before (tmux: "Nguyen" Enter Down Enter in one burst opened "Adams, David", the second row
of the unfiltered list)."""

from __future__ import annotations

from billing import clients
from screens.clerk.client_account import ClientAccountScreen
from screens.clerk.client_search import ClientSearchScreen
from tests.conftest import Office
from tests.pilot import burst, settle
from tests.tui.conftest import make_app


def register(office: Office) -> dict[str, int]:
    ids: dict[str, int] = {}
    for first, last in [
        ("Ana", "Adams"),
        ("Bo", "Adams"),
        ("Cy", "Baker"),
        ("Mai", "Nguyen"),
        ("Van", "Nguyen"),
    ]:
        view = office.db.write(
            lambda s, f=first, la=last: clients.register_client(office.clerk, s, first_name=f, last_name=la)
        )
        ids[f"{last}, {first}"] = view.id
    return ids


async def test_enter_typed_fast_after_a_name_waits_for_that_names_rows(office: Office) -> None:
    ids = register(office)
    app = make_app(office, "clerk")
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        app.push_screen(ClientSearchScreen())
        await settle(pilot)
        burst(app, [*"Nguyen", "enter", "down", "enter"])
        await settle(pilot)
        assert isinstance(app.screen, ClientAccountScreen)
        assert app.screen.client_id == ids["Nguyen, Van"]  # the second Nguyen, as Down said


async def test_o_typed_fast_after_a_name_with_no_match_opens_nothing(office: Office) -> None:
    register(office)
    app = make_app(office, "clerk")
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        app.push_screen(ClientSearchScreen())
        await settle(pilot)
        await pilot.press(*"Adams")
        await settle(pilot)  # the Adams rows are shown
        burst(app, [*["backspace"] * 5, *"Zzyzx", "enter", "o"])
        await settle(pilot)
        assert isinstance(app.screen, ClientSearchScreen)  # not the first row of the old list
