"""Clients: registration, account numbers, duplicate warning, contact history, locking, search."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from billing import clients
from billing.clients import DuplicateClientWarning, SearchField
from db.errors import ConflictError, PermissionDenied, ValidationError
from db.models import Client, ContactChange
from tests.billing.billing_setup import World, make_world
from tests.conftest import Office


@pytest.fixture
def world(office: Office) -> World:
    return make_world(office)


def _count(office: Office, model: type) -> int:
    return office.db.read(lambda s: s.scalar(sa.select(sa.func.count()).select_from(model)))


def register(
    office: Office, first: str, last: str, dob: dt.date | None = dt.date(1970, 3, 4), **kw: object
) -> clients.ClientView:
    return office.db.write(
        lambda s: clients.register_client(
            office.clerk, s, first_name=first, last_name=last, date_of_birth=dob, **kw
        )  # type: ignore[arg-type]
    )


def test_register_gives_gap_free_account_numbers_and_the_clerk_owns_it(office: Office) -> None:
    a = register(office, "Ana", "García", phone="(413) 555-0142", email="ana@example.com")
    b = register(office, "Bo", "Tran")
    assert (a.account_number, b.account_number) == ("A000001", "A000002")
    assert a.owner_login == "cleo"
    assert a.phone == "413-555-0142"  # normalised so typed digits find it
    # A refused registration does not use up a number.
    with pytest.raises(ValidationError):
        register(office, "", "", email="not-an-email")
    assert register(office, "Cy", "Li").account_number == "A000003"


def test_register_refuses_bad_input_and_writes_nothing(office: Office) -> None:
    with pytest.raises(ValidationError) as e:
        register(
            office, "Ann", "", dob=dt.date(2030, 1, 1), email="x@", phone="12", preferred_channel="pigeon"
        )
    assert set(e.value.fields) == {"last_name", "date_of_birth", "email", "phone", "preferred_channel"}
    assert e.value.fields["date_of_birth"] == "is in the future"
    assert _count(office, Client) == 0
    with pytest.raises(ValidationError) as e:
        register(office, "  ", "Oz")
    assert e.value.fields == {"first_name": "is required"}
    assert _count(office, Client) == 0


def test_duplicate_name_and_birth_date_is_a_warning_until_allowed(office: Office) -> None:
    first = register(office, "José", "Núñez")
    with pytest.raises(DuplicateClientWarning) as e:
        register(office, "jose", "NUNEZ")  # folded: accents and case do not hide a duplicate
    assert [m.account_number for m in e.value.matches] == [first.account_number]
    assert "already registered (A000001)" in str(e.value)
    assert _count(office, Client) == 1
    second = register(office, "jose", "NUNEZ", allow_duplicate=True)
    assert second.account_number == "A000002"
    # Same name, another birth date: no warning.
    register(office, "José", "Núñez", dob=dt.date(1999, 1, 1))


def test_contact_changes_are_kept_with_old_value_new_value_who_and_when(office: Office) -> None:
    c = register(office, "Ana", "García", phone="413-555-0142", city="Springfield")
    v = office.db.write(
        lambda s: clients.edit_client(
            office.clerk2,
            s,
            c.id,
            expected_version=c.version,
            changes={
                "phone": "(774) 555-0199",
                "city": "Holyoke",
                "notes": "called in",
                "first_name": "Anna",
            },
        )
    )
    assert (v.phone, v.city, v.first_name, v.version) == ("774-555-0199", "Holyoke", "Anna", c.version + 1)
    history = office.db.read(lambda s: clients.contact_history(office.sup, s, c.id))
    got = sorted((h.field, h.old_value, h.new_value, h.changed_by_login) for h in history)
    # Contact fields only; name and notes are in the audit log, not the contact history.
    assert got == [
        ("city", "Springfield", "Holyoke", "carl"),
        ("phone", "413-555-0142", "774-555-0199", "carl"),
    ]
    assert all(str(h.changed_at) == "2026-11-16 15:00:00+00:00" for h in history)
    # Renaming moves the client in name search.
    page = office.db.read(lambda s: clients.search_clients(office.clerk, s, "garcia, anna"))
    assert [r.account_number for r in page.rows] == [c.account_number]


def test_stale_version_is_a_conflict_and_changes_nothing(office: Office) -> None:
    c = register(office, "Ana", "García")
    office.db.write(
        lambda s: clients.edit_client(
            office.clerk, s, c.id, expected_version=c.version, changes={"city": "Agawam"}
        )
    )
    with pytest.raises(ConflictError):
        office.db.write(
            lambda s: clients.edit_client(
                office.clerk2, s, c.id, expected_version=c.version, changes={"city": "Ludlow"}
            )
        )
    assert office.db.read(lambda s: clients.get_client(office.clerk, s, c.id)).city == "Agawam"
    assert _count(office, ContactChange) == 1


def test_moving_an_account_to_another_clerk_is_a_supervisors_decision(office: Office) -> None:
    c = register(office, "Ana", "García")
    with pytest.raises(PermissionDenied):
        office.db.write(
            lambda s: clients.edit_client(
                office.clerk, s, c.id, expected_version=None, changes={"owner_id": office.clerk2.user_id}
            )
        )
    v = office.db.write(
        lambda s: clients.edit_client(
            office.sup, s, c.id, expected_version=None, changes={"owner_id": office.clerk2.user_id}
        )
    )
    assert v.owner_login == "carl"


def test_unknown_fields_are_refused(office: Office) -> None:
    c = register(office, "Ana", "García")
    with pytest.raises(ValidationError) as e:
        office.db.write(
            lambda s: clients.edit_client(
                office.clerk, s, c.id, expected_version=None, changes={"status": "closed"}
            )
        )
    assert e.value.fields == {"status": "cannot be changed here"}


def _walk(office: Office, query: str, limit: int, **kw: object) -> tuple[list[list[str]], list[object]]:
    pages: list[list[str]] = []
    keys: list[object] = []
    after = None
    while True:
        page = office.db.read(
            lambda s, after=after: clients.search_clients(
                office.clerk, s, query, after=after, limit=limit, **kw
            )  # type: ignore[arg-type]
        )
        pages.append([r.display_name for r in page.rows])
        keys.append(page.next_after)
        if page.next_after is None:
            return pages, keys
        after = page.next_after


def test_name_search_pages_by_key_in_name_order(office: Office) -> None:
    names = [
        ("Smith", "Zoe"),
        ("Smith", "Adam"),
        ("Smithers", "Wayland"),
        ("Smíth", "Bea"),  # accent folded: sorts as "smith bea"
        ("Smyth", "Carl"),
        ("Jones", "Ann"),
        ("[Smith]", "Alex"),
    ]
    office.db.write(
        lambda s: [
            clients.register_client(office.clerk, s, first_name=f, last_name=last, allow_duplicate=True)
            for last, f in names
        ]
    )
    pages, keys = _walk(office, "smi", 2)
    assert pages == [["Smith, Adam", "Smíth, Bea"], ["Smith, Zoe", "Smithers, Wayland"]]
    assert keys[0] == ("smith bea", 4)  # (search key, id): the next page starts after it
    assert _walk(office, "SMITH, z", 10)[0] == [["Smith, Zoe"]]
    assert _walk(office, "[smith", 10)[0] == [["[Smith], Alex"]]
    everyone = _walk(office, "", 3)[0]
    assert [name for page in everyone for name in page] == [
        "[Smith], Alex",  # keys compare by code point: "[" sorts before letters
        "Jones, Ann",
        "Smith, Adam",
        "Smíth, Bea",
        "Smith, Zoe",
        "Smithers, Wayland",
        "Smyth, Carl",
    ]


def test_search_by_account_phone_and_member_id(world: World) -> None:
    o = world.office
    bo = world.new_client("Bo", "Tran", phone="413-555-0100")
    world.cover(bo, world.medicaid, member_id="W12-999")
    r = lambda q: world.r(o.clerk, lambda a, s: clients.search_clients(a, s, q))  # noqa: E731
    page = r("a000002")
    assert page.field == SearchField.ACCOUNT
    assert [x.display_name for x in page.rows] == ["Tran, Bo"]
    page = r("(413) 555-01")
    assert page.field == SearchField.PHONE
    assert [(x.display_name, x.matched) for x in page.rows] == [
        ("Tran, Bo", "phone 413-555-0100"),
        ("García, Ana", "phone 413-555-0142"),
    ]
    page = r("w12")
    assert page.field == SearchField.MEMBER
    assert [(x.display_name, x.matched) for x in page.rows] == [
        ("Tran, Bo", "member W12-999"),  # member id order: "-" before "3"
        ("García, Ana", "member W123"),
    ]
    page = world.r(o.clerk, lambda a, s: clients.search_clients(a, s, "w12", limit=1))
    assert page.next_after is not None
    page2 = world.r(o.clerk, lambda a, s: clients.search_clients(a, s, "w12", limit=1, after=page.next_after))
    assert [x.display_name for x in page2.rows] == ["García, Ana"] and page2.next_after is None
    assert world.r(o.clerk, lambda a, s: clients.search_clients(a, s, "a9")).rows == ()


def test_account_summary_header(world: World) -> None:
    summary = world.r(world.clerk, lambda a, s: clients.account_summary(a, s, world.client))
    assert summary.client.display_name == "García, Ana"
    assert [(c.payer_name, c.rank.value, c.eligibility.state.value) for c in summary.coverages] == [
        ("Acme Health", "primary", "fresh")
    ]
    assert summary.warnings == ()
    assert (summary.balance, summary.payer_balance, summary.unbilled_services) == (0, 0, 0)
    bo = world.new_client("Bo", "Tran", address_line1="", date_of_birth=None)
    summary = world.r(world.clerk, lambda a, s: clients.account_summary(a, s, bo))
    assert summary.warnings == (
        "no coverage in force: services are billed to the client at the catalog fee",
        "date of birth missing (needed on invoices to payers)",
        "address incomplete (needed to send statements)",
    )
